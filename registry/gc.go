package registry

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/berth-registry/berth"
)

// Online garbage collection. The metadata store keeps one record per
// stored blob (berth.BlobObject) with a review time: every event that may
// leave a blob unreferenced (a manifest or repository deleted, a blob
// link removed) or that promises a client the blob exists (an upload
// completed, a mount, an AVAILABLE or a HEAD) moves the review to at
// least now plus the grace period. A sweep reviews the blobs that are
// due, one short transaction for a batch: it locks each record and every
// repository's link to it, so that no manifest can come to reference the
// blob meanwhile, asks afresh whether any manifest does, and if none does
// deletes the record and the links and queues the object for deletion,
// in that one transaction. Storage is changed only after: a worker drains
// the queue, and a crash at any point leaves either bytes the queue still
// names or nothing to do. Object keys are never reused, so a deletion in
// flight cannot remove bytes uploaded again meanwhile.

// GCConfig configures garbage collection.
type GCConfig struct {
	// BlobGrace is how long a blob stays after nothing references it, or
	// after a client was told it exists (default 24h). Keep it above the
	// lifetime of presigned download URLs.
	BlobGrace time.Duration
	// UploadTTL is how long an upload may stay idle before it is
	// abandoned (default 24h).
	UploadTTL time.Duration
}

// Defaults of GCConfig.
const (
	DefaultBlobGrace = 24 * time.Hour
	DefaultUploadTTL = 24 * time.Hour
)

func (c GCConfig) withDefaults() GCConfig {
	if c.BlobGrace <= 0 {
		c.BlobGrace = DefaultBlobGrace
	}
	if c.UploadTTL <= 0 {
		c.UploadTTL = DefaultUploadTTL
	}
	return c
}

// GCSettings returns the configuration in force.
func (r *Registry) GCSettings() GCConfig { return r.gc }

// postponeSlack is how much of the grace period a confirmation may find
// already spent without writing: a blob confirmed to a client stays at
// least BlobGrace minus this long (23 h of the default 24), and a blob a
// client keeps asking about costs one write an hour, not one a request.
func (c GCConfig) postponeSlack() time.Duration { return c.BlobGrace / 24 }

// confirmBlobs puts off the review of blobs repo holds that are about to
// be confirmed to a client, and returns those that went meanwhile.
func (r *Registry) confirmBlobs(ctx context.Context, repo string, blobs []berth.Blob) (map[string]bool, error) {
	now := r.nowUTC()
	var due []string
	for _, b := range blobs {
		if !b.Review.IsZero() && b.Review.Before(now.Add(r.gc.BlobGrace-r.gc.postponeSlack())) {
			due = append(due, b.Digest)
		}
	}
	if len(due) == 0 {
		return nil, nil
	}
	var gone map[string]bool
	err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
		gone = map[string]bool{}
		if err := tx.ReviewBlobs(ctx, due, r.nowUTC().Add(r.gc.BlobGrace)); err != nil {
			return err
		}
		for _, d := range due {
			_, err := tx.GetBlob(ctx, repo, d)
			switch {
			case berth.IsCode(err, berth.ENotFound):
				gone[d] = true
			case err != nil:
				return err
			}
		}
		return nil
	})
	return gone, err
}

// GCOptions shapes one sweep.
type GCOptions struct {
	// DryRun reports what a sweep would free and changes nothing.
	DryRun bool
	// Reconcile also walks the blob store for objects no record names
	// (left by crashes) and queues those older than the upload TTL.
	Reconcile bool
	// Progress, if set, is called now and then with the counts so far.
	Progress func(GCReport)
	// Share, if above 0, is the share of the time the sweep takes at most:
	// after each transaction it pauses for the rest (DefaultShare for the
	// sweeps a server runs beside pushes; none, 0, sweeps at full speed).
	Share float64
	// Reclaim also carries out storage deletions another process claimed
	// and has not finished (one that crashed): deleting twice is harmless,
	// as keys are never reused. Sweeps of a running server leave them for
	// the claim to lapse.
	Reclaim bool
}

// GCReport counts what a sweep did (or, dry, would do).
type GCReport struct {
	Reviewed       int   // blobs whose review was due
	Kept           int   // of them, still referenced
	BlobsDeleted   int   // unreferenced, deleted
	BytesFreed     int64 // their bytes
	UploadsExpired int   // uploads idle past the TTL
	ObjectsDeleted int   // objects removed from storage
	Orphans        int   // objects reconciliation found unowned
	Failed         int   // storage deletions that failed (retried later)
	KeysExpired    int   // role sessions' keys past their expiry, forgotten
	SessionsEnded  int   // console sessions idle or past their lifetime, forgotten
}

// gcBatch is how many blobs (or queued deletions) one transaction takes:
// enough to amortise a commit, few enough that a push waiting on one of
// them waits milliseconds.
const gcBatch = 32

// deletionLease is how long a claimed storage deletion is hidden from
// other workers; one not carried out by then (its worker crashed) is taken
// again. A reclaiming sweep takes every claimed one at once.
const deletionLease = 5 * time.Minute

// CollectGarbage runs one sweep: reviews the blobs that are due, expires
// idle uploads, optionally reconciles storage with the metadata, and
// carries out the queued storage deletions.
func (r *Registry) CollectGarbage(ctx context.Context, o GCOptions) (GCReport, error) {
	var rep GCReport
	progress := func() {
		if o.Progress != nil {
			o.Progress(rep)
		}
	}
	if o.DryRun {
		return r.dryRun(ctx, o)
	}
	if err := r.reviewBlobs(ctx, &rep, o.Share, progress); err != nil {
		return rep, fmt.Errorf("gc: reviewing blobs: %w", err)
	}
	if err := r.expireUploads(ctx, &rep); err != nil {
		return rep, fmt.Errorf("gc: expiring uploads: %w", err)
	}
	if err := r.expireKeys(ctx, &rep); err != nil {
		return rep, fmt.Errorf("gc: forgetting expired session keys: %w", err)
	}
	n, err := r.expireConsoleSessions(ctx)
	rep.SessionsEnded += n
	if err != nil {
		return rep, fmt.Errorf("gc: forgetting ended console sessions: %w", err)
	}
	if o.Reconcile {
		if err := r.reconcile(ctx, &rep); err != nil {
			return rep, fmt.Errorf("gc: reconciling storage: %w", err)
		}
	}
	if err := r.drainDeletions(ctx, &rep, o.Reclaim, o.Share, progress); err != nil {
		return rep, fmt.Errorf("gc: deleting objects: %w", err)
	}
	progress()
	return rep, nil
}

// clearBatch is how many referenced blobs one statement clears: most due
// blobs are referenced, and need no lock to be kept.
const clearBatch = 256

func (r *Registry) reviewBlobs(ctx context.Context, rep *GCReport, share float64, progress func()) error {
	// First, in bulk, the blobs a manifest references: kept, their review
	// cleared. A release later sets it again.
	for {
		var cleared int
		start := time.Now()
		err := r.meta.Update(berth.DeferSync(ctx), func(tx berth.MetaTx) (err error) {
			cleared, err = tx.ClearReferencedReviews(ctx, r.nowUTC(), clearBatch)
			return err
		})
		if err != nil {
			return err
		}
		rep.Reviewed += cleared
		rep.Kept += cleared
		progress()
		if cleared < clearBatch {
			break
		}
		if err := pace(ctx, share, time.Since(start)); err != nil {
			return err
		}
	}
	// Then, one by one under locks, the rest: unreferenced when the bulk
	// pass looked.
	for {
		var reviewed, kept, deleted int
		var freed int64
		start := time.Now()
		err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
			reviewed, kept, deleted, freed = 0, 0, 0, 0
			now := r.nowUTC()
			due, err := tx.DueBlobs(ctx, now, gcBatch)
			if err != nil {
				return err
			}
			for _, d := range due {
				o, err := tx.LockBlobObject(ctx, d)
				if berth.IsCode(err, berth.ENotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if o.Review.IsZero() || o.Review.After(now) {
					continue // confirmed meanwhile
				}
				reviewed++
				// Asked after the links are locked: a manifest committed
				// before is seen, none can commit after.
				used, err := tx.BlobInUse(ctx, d)
				if err != nil {
					return err
				}
				if used {
					kept++
					if err := tx.ClearBlobReview(ctx, d); err != nil {
						return err
					}
					continue
				}
				if err := tx.QueueDeletion(ctx, berth.Deletion{Key: o.Key, NotBefore: now}); err != nil {
					return err
				}
				if err := tx.DeleteBlobObject(ctx, d); err != nil {
					return err
				}
				deleted++
				freed += o.Size
				r.log.Debug("gc: blob unreferenced, deleted", "digest", d, "object", o.Key, "size", o.Size)
			}
			return nil
		})
		if err != nil {
			return err
		}
		rep.Reviewed += reviewed
		rep.Kept += kept
		rep.BlobsDeleted += deleted
		rep.BytesFreed += freed
		progress()
		if reviewed == 0 {
			return nil
		}
		if err := pace(ctx, share, time.Since(start)); err != nil {
			return err
		}
	}
}

// DefaultShare is the share of the time the sweeps of a serving berth
// take: after each transaction a sweep waits long enough for the rest, so
// that pushes (which on SQLite share its one writer, and on a small
// machine its cores) keep their rate. bench/RESULTS-gc.md measures it.
const DefaultShare = 0.05

// pace waits after a sweep transaction that took took, for a sweep that
// takes share of the time (none: no wait).
func pace(ctx context.Context, share float64, took time.Duration) error {
	if share <= 0 || share >= 1 {
		return ctx.Err()
	}
	t := time.NewTimer(time.Duration(float64(took) * (1 - share) / share))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// expireKeys deletes the keys of role sessions that have expired (they
// authenticate nothing already: this only keeps the table small).
func (r *Registry) expireKeys(ctx context.Context, rep *GCReport) error {
	for {
		var n int
		err := r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
			n, err = tx.DeleteExpiredKeys(ctx, r.nowUTC(), gcBatch)
			return err
		})
		if err != nil {
			return err
		}
		rep.KeysExpired += n
		if n > 0 {
			r.iamChanged()
		}
		if n < gcBatch {
			return nil
		}
	}
}

func (r *Registry) expireUploads(ctx context.Context, rep *GCReport) error {
	for {
		n := 0
		err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
			n = 0
			now := r.nowUTC()
			stale, err := tx.StaleUploads(ctx, now.Add(-r.gc.UploadTTL), gcBatch)
			if err != nil {
				return err
			}
			for _, u := range stale {
				if err := tx.DeleteUpload(ctx, u.ID); err != nil {
					return err
				}
				if err := tx.QueueDeletion(ctx, berth.Deletion{Key: berth.UploadDeletionKey(u.ID), UploadState: u.BackendState, NotBefore: now}); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return err
		}
		rep.UploadsExpired += n
		if n < gcBatch {
			return nil
		}
	}
}

// reconcile queues for deletion every stored object that no record owns
// and that was last written longer ago than the upload TTL plus an hour
// (plus the TTL, if that is shorter than an hour). An object's key carries the id of the upload
// that wrote it, and an upload is recorded before its first byte, so an
// object found unowned that old can belong to no one: its upload expired
// or completed without it (a crash between the bytes and the record).
func (r *Registry) reconcile(ctx context.Context, rep *GCReport) error {
	horizon := r.nowUTC().Add(-r.gc.UploadTTL - min(r.gc.UploadTTL, time.Hour))
	owned := func(tx berth.MetaTx, obj berth.StoredObject) (bool, error) {
		if obj.Upload != "" {
			return tx.ObjectOwned(ctx, "", obj.Upload)
		}
		_, upload := berth.ObjectKeyUpload(obj.Key)
		return tx.ObjectOwned(ctx, obj.Key, upload)
	}
	var orphans []berth.StoredObject
	err := r.blobs.Walk(ctx, func(obj berth.StoredObject) error {
		if obj.Modified.After(horizon) {
			return nil
		}
		return r.meta.View(ctx, func(tx berth.MetaTx) error {
			ok, err := owned(tx, obj)
			if err == nil && !ok {
				orphans = append(orphans, obj)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	for _, obj := range orphans {
		queued := false
		err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
			// Asked again in the transaction that queues it.
			ok, err := owned(tx, obj)
			if queued = err == nil && !ok; !queued {
				return err
			}
			d := berth.Deletion{Key: obj.Key, NotBefore: r.nowUTC()}
			if obj.Upload != "" {
				d.Key = berth.UploadDeletionKey(obj.Upload)
			}
			return tx.QueueDeletion(ctx, d)
		})
		if err != nil {
			return err
		}
		if queued {
			rep.Orphans++
			r.log.Info("gc: an object no record owns is queued for deletion", "object", obj.Key, "upload", obj.Upload, "size", obj.Size)
		}
	}
	return nil
}

func (r *Registry) drainDeletions(ctx context.Context, rep *GCReport, reclaim bool, share float64, progress func()) error {
	for {
		var claimed []berth.Deletion
		start := time.Now()
		err := r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
			now := r.nowUTC()
			due, until := now, now.Add(deletionLease)
			if reclaim { // every claim, and ours longer, so that this pass ends
				due, until = now.Add(deletionLease), now.Add(2*deletionLease)
			}
			claimed, err = tx.ClaimDeletions(ctx, due, until, gcBatch)
			return err
		})
		if err != nil || len(claimed) == 0 {
			return err
		}
		var done []string
		for _, d := range claimed {
			var err error
			if id, ok := strings.CutPrefix(d.Key, "upload/"); ok {
				err = r.blobs.DeleteUpload(ctx, &berth.Upload{ID: id, BackendState: d.UploadState})
			} else {
				err = r.blobs.Delete(ctx, d.Key)
			}
			if err != nil {
				rep.Failed++
				r.log.Warn("gc: deleting an object failed; it will be retried", "object", d.Key, "attempts", d.Attempts+1, "err", err)
				continue
			}
			done = append(done, d.Key)
		}
		err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
			for _, k := range done {
				if err := tx.DeleteDeletion(ctx, k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		rep.ObjectsDeleted += len(done)
		progress()
		if err := pace(ctx, share, time.Since(start)); err != nil {
			return err
		}
	}
}

// dryRunLimit bounds how many due blobs a dry run looks at.
const dryRunLimit = 1 << 20

func (r *Registry) dryRun(ctx context.Context, o GCOptions) (GCReport, error) {
	var rep GCReport
	err := r.meta.View(ctx, func(tx berth.MetaTx) error {
		now := r.nowUTC()
		due, err := tx.DueBlobs(ctx, now, dryRunLimit)
		if err != nil {
			return err
		}
		for _, d := range due {
			b, err := tx.GetBlobObject(ctx, d)
			if berth.IsCode(err, berth.ENotFound) {
				continue
			}
			if err != nil {
				return err
			}
			rep.Reviewed++
			used, err := tx.BlobInUse(ctx, d)
			if err != nil {
				return err
			}
			if used {
				rep.Kept++
			} else {
				rep.BlobsDeleted++
				rep.BytesFreed += b.Size
			}
			if o.Progress != nil && rep.Reviewed%1000 == 0 {
				o.Progress(rep)
			}
		}
		stale, err := tx.StaleUploads(ctx, now.Add(-r.gc.UploadTTL), dryRunLimit)
		rep.UploadsExpired = len(stale)
		return err
	})
	return rep, err
}

// StorageStats counts what is stored and what garbage collection has to do.
func (r *Registry) StorageStats(ctx context.Context) (s berth.StorageStats, err error) {
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		s, err = tx.StorageStats(ctx, r.nowUTC())
		return err
	})
	return s, err
}
