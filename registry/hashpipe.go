package registry

import (
	"hash"
	"io"
	"sync"
)

// hashPipe is a TeeReader into a hash that hashes on another goroutine:
// each piece read is copied into a small ring of buffers and hashed there
// while the caller writes it and reads the next, so hashing overlaps the
// network and the disk. Done waits for the hash to catch up.
type hashPipe struct {
	r     io.Reader
	h     hash.Hash
	todo  chan []byte
	free  chan []byte
	done  chan struct{}
	close sync.Once
}

const (
	hashPipeSlots = 4
	hashPipeSlot  = 1 << 20
)

var hashPipeBufs = sync.Pool{New: func() any { b := make([]byte, hashPipeSlot); return &b }}

func newHashPipe(r io.Reader, h hash.Hash) *hashPipe {
	p := &hashPipe{r: r, h: h, todo: make(chan []byte, hashPipeSlots), free: make(chan []byte, hashPipeSlots), done: make(chan struct{})}
	for i := 0; i < hashPipeSlots; i++ {
		p.free <- (*hashPipeBufs.Get().(*[]byte))[:hashPipeSlot]
	}
	go func() {
		defer close(p.done)
		for b := range p.todo {
			p.h.Write(b)
			p.free <- b[:cap(b)]
		}
	}()
	return p
}

func (p *hashPipe) Read(b []byte) (int, error) {
	if len(b) > hashPipeSlot {
		b = b[:hashPipeSlot]
	}
	n, err := p.r.Read(b)
	if n > 0 {
		slot := <-p.free
		copy(slot, b[:n])
		p.todo <- slot[:n]
	}
	return n, err
}

// Done stops the pipe once everything read is hashed; the hash is then
// complete and the pipe's buffers are returned.
func (p *hashPipe) Done() {
	p.close.Do(func() {
		close(p.todo)
		<-p.done
		for i := 0; i < hashPipeSlots; i++ {
			b := <-p.free
			hashPipeBufs.Put(&b)
		}
	})
}
