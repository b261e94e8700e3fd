package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/blob/filesystem"
	"github.com/berth-registry/berth/blob/s3"
)

// place is where a data directory or a backup lives: a local directory,
// or an S3 prefix (s3://bucket/prefix?endpoint=…, as --blobs takes) that
// holds the blobs under blobs/ and the other files beside them.
type place struct {
	name  string
	blobs berth.BlobStore
	dir   string    // a local place's directory
	s3    *s3.Store // an S3 place's store
}

// openPlace opens a place, creating a local directory if missing.
func openPlace(ctx context.Context, where string) (*place, error) {
	if strings.HasPrefix(where, "s3://") {
		c, err := s3.ParseURL(where)
		if err != nil {
			return nil, err
		}
		c.Redirect = false
		st, err := s3.Open(ctx, c)
		if err != nil {
			return nil, err
		}
		return &place{name: where, blobs: st, s3: st}, nil
	}
	if err := os.MkdirAll(where, 0o750); err != nil {
		return nil, err
	}
	st, err := filesystem.Open(filepath.Join(where, blobDir))
	if err != nil {
		return nil, err
	}
	return &place{name: where, blobs: st, dir: where}, nil
}

// fetch copies the place's file name to the local path to; ErrNotExist if
// the place has none.
func (p *place) fetch(ctx context.Context, name, to string) error {
	if p.s3 == nil {
		return copyFile(filepath.Join(p.dir, name), to)
	}
	rc, err := p.s3.GetFile(ctx, name)
	if berth.IsCode(err, berth.ENotFound) {
		return fmt.Errorf("%s: %w", name, os.ErrNotExist)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		return err
	}
	tmp := to + ".new"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, rc)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, to)
}

// store puts the local file from into the place as name, whole or not at
// all.
func (p *place) store(ctx context.Context, name, from string) error {
	if p.s3 == nil {
		return copyFile(from, filepath.Join(p.dir, name))
	}
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return p.s3.PutFile(ctx, name, f, st.Size())
}

// fetchOptional is fetch for a file a place may lack.
func (p *place) fetchOptional(ctx context.Context, name, to string) error {
	if err := p.fetch(ctx, name, to); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
