package registry

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/blob/filesystem"
	"github.com/berth-registry/berth/meta/sqlite"
	"github.com/berth-registry/berth/meta/sqlstore"
)

// testRegistry is a registry on the embedded default in a temporary
// directory, with a clock the test moves.
func testRegistry(t *testing.T) (*Registry, *time.Time) {
	t.Helper()
	meta, blobs := testStores(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	r := New(meta, blobs, Config{ID: "123456789012", Now: func() time.Time { return now }})
	t.Cleanup(func() { r.Close(); meta.Close() })
	return r, &now
}

// testStores are the embedded default's stores in a temporary directory.
func testStores(tb testing.TB) (*sqlstore.Store, berth.BlobStore) {
	tb.Helper()
	dir := tb.TempDir()
	meta, err := sqlite.Open(context.Background(), filepath.Join(dir, "berth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	blobs, err := filesystem.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	return meta, blobs
}

const testPolicy = `{"rules":[{"rulePriority":1,"description":"keep 10","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}`

// TestPreviewInProgress: while another process computes a preview, a
// second start is refused with LifecyclePolicyPreviewInProgressException;
// once that preview has been in progress too long (its process ended), a
// start replaces it and a get computes it.
func TestPreviewInProgress(t *testing.T) {
	r, now := testRegistry(t)
	ctx := context.Background()
	if _, err := r.CreateRepository(ctx, CreateRepositoryInput{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.PutLifecyclePolicy(ctx, "app", testPolicy); err != nil {
		t.Fatal(err)
	}
	// Another process's preview, in progress.
	err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
		return tx.PutLifecyclePreview(ctx, "app", &berth.LifecyclePreview{Policy: testPolicy, Status: PreviewInProgress, StartedAt: *now})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.StartLifecyclePolicyPreview(ctx, "app", nil); !berth.IsCode(err, berth.ELifecyclePreviewInProgress) {
		t.Fatalf("start while in progress: %v", err)
	}
	out, err := r.GetLifecyclePolicyPreview(ctx, PreviewInput{Repository: "app"})
	if err != nil || out.Status != PreviewInProgress || out.Results != nil {
		t.Fatalf("get while in progress: %+v %v", out, err)
	}
	// That process ended: the next get computes the preview itself.
	*now = now.Add(previewStale + time.Second)
	out, err = r.GetLifecyclePolicyPreview(ctx, PreviewInput{Repository: "app"})
	if err != nil || out.Status != PreviewComplete || out.Expiring != 0 {
		t.Fatalf("get of a stale preview: %+v %v", out, err)
	}
	// And a start replaces a stale one.
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
		return tx.PutLifecyclePreview(ctx, "app", &berth.LifecyclePreview{Policy: testPolicy, Status: PreviewInProgress, StartedAt: now.Add(-previewStale - time.Second)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if pv, err := r.StartLifecyclePolicyPreview(ctx, "app", nil); err != nil || pv.Status != PreviewInProgress {
		t.Fatalf("start over a stale preview: %+v %v", pv, err)
	}
}
