package registry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"
	"testing/iotest"
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
