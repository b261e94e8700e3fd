package filesystem

import (
	"testing"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/blob/blobtest"
)

func TestBlobStore(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) berth.BlobStore {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
