package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// countingFile is a blob reader over a local file that counts the bytes
// read through it, as opposed to by the kernel from its file.
type countingFile struct {
	f    *os.File
	read int64
}

func (c *countingFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.read += int64(n)
	return n, err
}
func (c *countingFile) Seek(off int64, whence int) (int64, error) { return c.f.Seek(off, whence) }
func (c *countingFile) Close() error                              { return c.f.Close() }
func (c *countingFile) File() *os.File                            { return c.f }

// TestBlobFileSent: a blob that is a local file is sent by the kernel,
// whole or by range, through the access-log middleware, byte for byte;
// only the first bytes net/http sniffs pass through the reader.
func TestBlobFileSent(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var last *countingFile
	m := New(io.Discard, io.Discard)
	m.metrics = newMetrics()
	srv := httptest.NewServer(m.accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		last = &countingFile{f: f}
		defer last.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", time.Time{}, last)
	})))
	defer srv.Close()
	for _, tc := range []struct {
		rng      string
		from, to int // the bytes wanted: data[from:to]
	}{
		{"", 0, len(data)},
		{"bytes=1000-2099999", 1000, 2100000},
		{"bytes=-70000", len(data) - 70000, len(data)},
	} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("GET %q", tc.rng)
		if !bytes.Equal(body, data[tc.from:tc.to]) {
			t.Fatalf("%s: %d bytes, not bytes %d-%d of the blob", name, len(body), tc.from, tc.to-1)
		}
		if last.read > 512 {
			t.Errorf("%s: %d bytes went through the reader; want at most the 512 net/http sniffs", name, last.read)
		}
	}
}
