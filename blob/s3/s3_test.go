package s3

import (
	"context"
	"os"
	"testing"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/blob/blobtest"
)

// TestBlobStore runs the suite against BERTH_TEST_S3 (an s3:// URL), which
// scripts/test sets after starting MinIO.
func TestBlobStore(t *testing.T) {
	raw := os.Getenv("BERTH_TEST_S3")
	if raw == "" {
		t.Skip("BERTH_TEST_S3 is not set (scripts/test starts MinIO and sets it)")
	}
	blobtest.Run(t, func(t *testing.T) berth.BlobStore {
		c, err := ParseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		c.Prefix = c.Prefix + "/blobtest-" + randomSuffix()
		if err := CreateBucket(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestParseURL(t *testing.T) {
	c, err := ParseURL("s3://bucket/some/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1&redirect=false")
	if err != nil || c.Bucket != "bucket" || c.Prefix != "some/prefix" || c.Endpoint != "http://127.0.0.1:9000" || c.Region != "eu-west-1" || !c.PathStyle || c.Redirect {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{"http://bucket", "s3://", "s3://b?redirect=maybe"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
