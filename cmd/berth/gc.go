package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/server"
)

// runGC is berth gc: one garbage collection sweep against the configured
// stores, beside running replicas (PostgreSQL) or with berth stopped (the
// embedded default, whose database one process opens at a time).
func runGC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dry := slices.Contains(args, "--dry-run") || slices.Contains(args, "-dry-run")
	reconcile := !slices.ContainsFunc(args, func(a string) bool { return a == "--no-reconcile" || a == "-no-reconcile" })
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		return a == "--dry-run" || a == "-dry-run" || a == "--no-reconcile" || a == "-no-reconcile"
	})
	c, err := server.LoadConfig("berth gc [--dry-run] [--no-reconcile]", args, os.LookupEnv, stderr, "data-dir", "metadata", "blobs", "gc-blob-grace", "gc-upload-ttl")
	if err != nil {
		return err
	}
	meta, blobs, err := server.OpenStores(ctx, c)
	if err != nil {
		return err
	}
	defer meta.Close()
	reg := registry.New(meta, blobs, registry.Config{ID: c.RegistryID, GC: c.GC.Registry()})
	before, err := reg.StorageStats(ctx)
	if err != nil {
		return err
	}
	opts := registry.GCOptions{DryRun: dry, Reconcile: reconcile, Reclaim: true}
	if c.Metadata != "sqlite" {
		// Replicas serve meanwhile: as gentle as their own sweeps. On the
		// embedded default berth is stopped, and the sweep runs flat out.
		opts.Share = registry.DefaultShare
	}
	if isTerminal(stderr) {
		last := time.Now()
		opts.Progress = func(r registry.GCReport) {
			if time.Since(last) > time.Second {
				fmt.Fprintf(stderr, "\rberth gc: %d blobs reviewed, %d to delete (%s), %d objects deleted ", r.Reviewed, r.BlobsDeleted, mib(r.BytesFreed), r.ObjectsDeleted)
				last = time.Now()
			}
		}
	}
	start := time.Now()
	r, err := reg.CollectGarbage(ctx, opts)
	if opts.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	verb := "freed"
	if dry {
		verb = "would free"
	}
	fmt.Fprintf(stdout, "berth gc: %s %s: %d unreferenced blobs of %d stored (%d due for review, %d still referenced), %d abandoned uploads",
		verb, mib(r.BytesFreed), r.BlobsDeleted, before.Blobs, r.Reviewed, r.Kept, r.UploadsExpired)
	if !dry {
		fmt.Fprintf(stdout, "; %d objects deleted from storage, %d orphans found, %d deletions failed (retried next time)", r.ObjectsDeleted, r.Orphans, r.Failed)
	}
	fmt.Fprintf(stdout, "; in %s\n", time.Since(start).Round(time.Millisecond))
	if r.Failed > 0 {
		return fmt.Errorf("%d storage deletions failed; see the log above", r.Failed)
	}
	return nil
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// isTerminal reports whether w is a terminal (progress is shown there only).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
