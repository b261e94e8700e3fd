package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/berth-registry/berth/backup"
	"github.com/berth-registry/berth/blob/s3"
	"github.com/berth-registry/berth/server"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// runBackup is berth backup, restore and verify, on the embedded default.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := args[0]
	// Flags (each with its value: --data-dir DIR, --config FILE) and the
	// paths, in any order.
	var pos, flags []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		if !strings.Contains(a, "=") && a != "-h" && a != "--help" && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	c, err := server.LoadConfig("berth "+cmd, flags, os.LookupEnv, stderr, "data-dir", "metadata", "blobs")
	if err != nil {
		return err
	}
	if cmd == "verify" && len(pos) == 0 && c.Metadata != "sqlite" {
		return verifyScaleOut(ctx, c, stdout, stderr)
	}
	if c.Metadata != "sqlite" || c.Blobs != "filesystem" {
		return fmt.Errorf("berth %s works on the embedded default; for PostgreSQL and S3 see docs/deploy.md (what to back up)", cmd)
	}
	var r *backup.Report
	switch {
	case cmd == "backup" && len(pos) == 1:
		if r, err = backup.Backup(ctx, c.DataDir, pos[0], stderr); err == nil {
			fmt.Fprintf(stdout, "berth: backed up %d blobs into %s: %d copied (%d MiB), %d already there\n", r.Blobs, pos[0], r.Copied, r.Bytes>>20, r.Skipped)
		}
	case cmd == "restore" && len(pos) == 1:
		if r, err = backup.Restore(ctx, pos[0], c.DataDir); err == nil {
			fmt.Fprintf(stdout, "berth: restored %s into %s: %d blobs, %d MiB\n", pos[0], c.DataDir, r.Blobs, r.Bytes>>20)
		}
	case cmd == "verify" && len(pos) <= 1:
		dir := c.DataDir
		if len(pos) == 1 {
			dir = pos[0]
		}
		if r, err = backup.Verify(ctx, dir, stderr); err != nil {
			return err
		}
		return printVerify(stdout, dir, r)
	default:
		return fmt.Errorf("usage: berth backup DEST | berth restore BACKUP --data-dir DIR | berth verify [DIR] (DEST, BACKUP and DIR: a directory or s3://bucket/prefix?endpoint=…)")
	}
	return err
}

// printVerify prints what verify found, and fails if it found anything.
func printVerify(stdout io.Writer, what string, r *backup.Report) error {
	fmt.Fprintf(stdout, "berth: %s: %d images, %d tags, %d blobs (%d MiB) read: %d problems\n", what, r.Images, r.Tags, r.Blobs, r.Bytes>>20, len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintln(stdout, "  "+p)
	}
	if len(r.Problems) > 0 {
		return fmt.Errorf("%s has %d problems", what, len(r.Problems))
	}
	return nil
}

// verifyScaleOut is berth verify on PostgreSQL and S3, as configured.
func verifyScaleOut(ctx context.Context, c server.Config, stdout, stderr io.Writer) error {
	db, err := sql.Open("pgx", c.Metadata)
	if err != nil {
		return err
	}
	defer db.Close()
	sc, err := s3.ParseURL(c.Blobs)
	if err != nil {
		return err
	}
	store, err := s3.Open(ctx, sc)
	if err != nil {
		return err
	}
	r, err := backup.VerifyStores(ctx, db, store, stderr)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return printVerify(stdout, "PostgreSQL and "+sc.Bucket, r)
}
