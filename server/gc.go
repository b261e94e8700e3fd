package server

import (
	"context"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/registry"
	"github.com/prometheus/client_golang/prometheus"
)

// GCSettings configure garbage collection.
type GCSettings struct {
	// Interval is the time between sweeps in this process; 0 runs none.
	Interval time.Duration `json:"interval"`
	// BlobGrace is how long an unreferenced or just-confirmed blob stays
	// (0: the default).
	BlobGrace time.Duration `json:"blobGrace"`
	// UploadTTL is how long an upload may stay idle (0: the default).
	UploadTTL time.Duration `json:"uploadTTL"`
}

// Registry is the registry's view of the settings.
func (g GCSettings) Registry() registry.GCConfig {
	return registry.GCConfig{BlobGrace: g.BlobGrace, UploadTTL: g.UploadTTL}
}

// reconcileEvery is how often a process also walks the blob store for
// objects left by crashes: a walk lists every object, so not every sweep.
const reconcileEvery = 24 * time.Hour

// gcMetrics are garbage collection's metrics.
type gcMetrics struct {
	freedBytes, deletedBlobs, deletedObjects, expiredUploads, sweeps prometheus.Counter
	duration                                                         prometheus.Histogram
}

func (m *metrics) gc(reg *registry.Registry) *gcMetrics {
	g := &gcMetrics{
		freedBytes:     prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_gc_freed_bytes_total", Help: "Bytes of blobs garbage collection deleted."}),
		deletedBlobs:   prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_gc_deleted_blobs_total", Help: "Blobs garbage collection deleted, unreferenced past the grace period."}),
		deletedObjects: prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_gc_deleted_objects_total", Help: "Objects removed from the blob store (blobs, staging objects of abandoned uploads, orphans)."}),
		expiredUploads: prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_gc_expired_uploads_total", Help: "Uploads abandoned after the upload TTL."}),
		sweeps:         prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_gc_sweeps_total", Help: "Garbage collection sweeps run by this process."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "berth_gc_sweep_duration_seconds", Help: "Time of a garbage collection sweep.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 12)}),
	}
	m.reg.MustRegister(g.freedBytes, g.deletedBlobs, g.deletedObjects, g.expiredUploads, g.sweeps, g.duration, storageCollector{reg})
	return g
}

// storageCollector reports what is stored and queued, from one query of
// the metadata store per scrape.
type storageCollector struct{ reg *registry.Registry }

var storageGauges = []struct {
	desc *prometheus.Desc
	pick func(berth.StorageStats) int64
}{
	{prometheus.NewDesc("berth_storage_blobs", "Blobs stored (each digest once, whichever repositories hold it).", nil, nil), func(s berth.StorageStats) int64 { return s.Blobs }},
	{prometheus.NewDesc("berth_storage_bytes", "Bytes of the blobs stored.", nil, nil), func(s berth.StorageStats) int64 { return s.Bytes }},
	{prometheus.NewDesc("berth_gc_reviews_due", "Blobs whose garbage collection review is due (the review queue's depth).", nil, nil), func(s berth.StorageStats) int64 { return s.DueReviews }},
	{prometheus.NewDesc("berth_gc_deletions_queued", "Objects queued for removal from the blob store.", nil, nil), func(s berth.StorageStats) int64 { return s.Deletions }},
}

func (c storageCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, g := range storageGauges {
		ch <- g.desc
	}
}

func (c storageCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.reg.StorageStats(ctx)
	for _, g := range storageGauges {
		v := float64(g.pick(s))
		if err != nil {
			v = -1
		}
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v)
	}
}

func (g *gcMetrics) observe(rep registry.GCReport, d time.Duration) {
	g.sweeps.Inc()
	g.duration.Observe(d.Seconds())
	g.freedBytes.Add(float64(rep.BytesFreed))
	g.deletedBlobs.Add(float64(rep.BlobsDeleted))
	g.deletedObjects.Add(float64(rep.ObjectsDeleted))
	g.expiredUploads.Add(float64(rep.UploadsExpired))
}

// collectGarbage sweeps every interval until ctx ends. Replicas sweep
// concurrently: the metadata store hands each due blob to one of them.
func (m *Server) collectGarbage(ctx context.Context, reg *registry.Registry, g *gcMetrics, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	lastReconcile := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		reconcile := start.Sub(lastReconcile) >= reconcileEvery
		rep, err := reg.CollectGarbage(ctx, registry.GCOptions{Reconcile: reconcile, Share: registry.DefaultShare})
		if reconcile && err == nil {
			lastReconcile = start
		}
		g.observe(rep, time.Since(start))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			m.log.Warn("garbage collection sweep failed; the next one goes on from where it stopped", "err", err)
		case rep.BlobsDeleted > 0 || rep.ObjectsDeleted > 0 || rep.UploadsExpired > 0 || rep.Orphans > 0:
			m.log.Info("garbage collected", "blobs", rep.BlobsDeleted, "bytes", rep.BytesFreed, "objects", rep.ObjectsDeleted,
				"uploads", rep.UploadsExpired, "orphans", rep.Orphans, "kept", rep.Kept, "duration", time.Since(start).Round(time.Millisecond))
		}
	}
}

// CollectGarbage runs one sweep now, as the periodic ones do (for tests
// and operators' tools), counted in the metrics.
func (m *Server) CollectGarbage(ctx context.Context, o registry.GCOptions) (registry.GCReport, error) {
	start := time.Now()
	rep, err := m.reg.CollectGarbage(ctx, o)
	if !o.DryRun {
		m.gcm.observe(rep, time.Since(start))
	}
	return rep, err
}

// lifecycleMetrics count what lifecycle policies did.
type lifecycleMetrics struct {
	runs, expired prometheus.Counter
}

func (m *metrics) lifecycle() *lifecycleMetrics {
	l := &lifecycleMetrics{
		runs:    prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_lifecycle_evaluations_total", Help: "Lifecycle policy evaluations this process ran (one per repository and interval, across replicas)."}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_lifecycle_expired_images_total", Help: "Images lifecycle policies expired, referrers that went with them included."}),
	}
	m.reg.MustRegister(l.runs, l.expired)
	return l
}

// runLifecycle evaluates every repository with a lifecycle policy once an
// interval; it looks every tick (a tenth of the interval, at most a
// minute), and the metadata store lets one process at a time claim a
// repository's evaluation.
func (m *Server) runLifecycle(ctx context.Context, reg *registry.Registry, lm *lifecycleMetrics, interval time.Duration) {
	t := time.NewTicker(max(min(interval/10, time.Minute), 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := reg.LifecycleRepositories(ctx, func(repo string) error {
			rep, err := reg.RunLifecycle(ctx, repo, interval)
			if err != nil {
				m.log.Warn("lifecycle policy run failed; it runs again next interval", "repository", repo, "err", err)
				return nil
			}
			if rep.Evaluated {
				lm.runs.Inc()
				lm.expired.Add(float64(rep.Expired + rep.Referrers))
			}
			return ctx.Err()
		})
		if err != nil && ctx.Err() == nil {
			m.log.Warn("listing the repositories with lifecycle policies failed", "err", err)
		}
	}
}
