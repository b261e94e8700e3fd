package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

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

// TestBlobURLReused: a presigned URL is handed out again while most of
// its lifetime is left, and signed afresh after that; each one fetches
// the blob.
func TestBlobURLReused(t *testing.T) {
	raw := os.Getenv("BERTH_TEST_S3")
	if raw == "" {
		t.Skip("BERTH_TEST_S3 is not set (scripts/test starts MinIO and sets it)")
	}
	ctx := context.Background()
	c, err := ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	c.Prefix, c.Redirect = c.Prefix+"/urls-"+randomSuffix(), true
	if err := CreateBucket(ctx, c); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("reused URLs")
	u := &berth.Upload{ID: "u-urls", Repository: "r"}
	if _, err := s.WriteUpload(ctx, u, 0, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	key, err := s.CommitUpload(ctx, u, fmt.Sprintf("sha256:%x", sha256.Sum256(data)), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	s.now = func() time.Time { return clock }
	first, ok, err := s.BlobURL(ctx, key, 20*time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	// Signed in another second, a fresh URL would differ.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	clock = clock.Add(59 * time.Second)
	again, _, err := s.BlobURL(ctx, key, 20*time.Minute)
	if err != nil || again != first {
		t.Fatalf("within a twentieth of its lifetime: %q, want the same %q (%v)", again, first, err)
	}
	if other, _, _ := s.BlobURL(ctx, key, time.Hour); other == first {
		t.Fatal("a URL for another lifetime was the same")
	}
	clock = clock.Add(2 * time.Second)
	fresh, _, err := s.BlobURL(ctx, key, 20*time.Minute)
	if err != nil || fresh == first {
		t.Fatalf("past a twentieth of its lifetime: %q, want a new URL (%v)", fresh, err)
	}
	for _, u := range []string{first, fresh} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "reused URLs" {
			t.Fatalf("GET %s: %d %q", u, resp.StatusCode, b)
		}
	}
}
