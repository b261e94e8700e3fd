package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/meta/metatest"
)

func TestMetaStore(t *testing.T) {
	metatest.Run(t, func(t *testing.T) berth.MetaStore {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "berth.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	for i := 0; i < 2; i++ {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		s.Close()
	}
}
