package registry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"unsafe"
)

func TestHashPipe(t *testing.T) {
	data := make([]byte, 5<<20+123)
	rand.Read(data)
	for _, r := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data[:10000])), iotest.HalfReader(bytes.NewReader(data))} {
		h := sha256.New()
		p := newHashPipe(r, h)
		var out bytes.Buffer
		if _, err := io.CopyBuffer(&out, struct{ io.Reader }{p}, make([]byte, 3<<20)); err != nil {
			t.Fatal(err)
		}
		p.Done()
		p.Done() // idempotent
		want := sha256.Sum256(out.Bytes())
		if !bytes.Equal(h.Sum(nil), want[:]) || !bytes.HasPrefix(data, out.Bytes()) {
			t.Fatal("hash or bytes differ")
		}
	}
}

// TestHashPipeWriteTo: the copy-free path hashes and writes the same
// bytes, in order, from aligned buffers, and stops at a failing writer
// without losing a buffer.
func TestHashPipeWriteTo(t *testing.T) {
	data := make([]byte, 5<<20+123)
	rand.Read(data)
	for _, r := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data[:10000])), iotest.HalfReader(bytes.NewReader(data)), bytes.NewReader(nil)} {
		h := sha256.New()
		p := newHashPipe(r, h)
		w := &checkWriter{t: t}
		n, err := p.WriteTo(w)
		if err != nil {
			t.Fatal(err)
		}
		p.Done()
		want := sha256.Sum256(w.Bytes())
		if n != int64(w.Len()) || !bytes.Equal(h.Sum(nil), want[:]) || !bytes.HasPrefix(data, w.Bytes()) {
			t.Fatalf("wrote %d, got %d bytes; hash or bytes differ", n, w.Len())
		}
	}
	for i := 0; i < 3; i++ {
		p := newHashPipe(bytes.NewReader(data), sha256.New())
		boom := errors.New("disk full")
		_, err := p.WriteTo(&failingWriter{after: i, err: boom})
		p.Done() // must not hang: every buffer came back
		if !errors.Is(err, boom) {
			t.Fatalf("WriteTo after %d writes: %v", i, err)
		}
	}
}

type checkWriter struct {
	t *testing.T
	bytes.Buffer
}

func (w *checkWriter) Write(p []byte) (int, error) {
	if len(p) > 0 && uintptr(unsafe.Pointer(&p[0]))%slotAlign != 0 {
		w.t.Error("buffer not aligned")
	}
	return w.Buffer.Write(p)
}

type failingWriter struct {
	after int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after == 0 {
		return 0, w.err
	}
	w.after--
	return len(p), nil
}
