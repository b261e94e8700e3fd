package registry

import (
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"unsafe"
)

// hashPipe reads an upload's bytes and hashes them on another goroutine,
// so that hashing overlaps receiving and writing. It is an io.Reader that
// copies each piece read for the hasher, and an io.WriterTo that copies
// nothing: it reads into its own buffers and, while it fills the next one,
// hashes one and hands another to the destination's Write on a third
// goroutine. Done waits for the hash to catch up.
type hashPipe struct {
	r     io.Reader
	h     hash.Hash
	todo  chan *slot
	free  chan *slot
	done  chan struct{}
	close sync.Once
}

// slot is one buffer of the pipe; refs counts the goroutines (hasher,
// writer) still using it.
type slot struct {
	buf  []byte
	n    int
	refs atomic.Int32
}

const (
	hashPipeSlots = 4
	// 1 MiB from the first slot on: a small blob is then one write to the
	// disk. Starting with 256 KiB so that hashing and writing began sooner
	// made a 1 MiB push 0.25 ms slower (two writes where one did, on a
	// disk whose every write costs ~0.2 ms on top of its bytes).
	hashPipeSlot = 1 << 20
	// Buffers start on a 4 KiB boundary, so that a store may hand them to
	// the disk directly (O_DIRECT).
	slotAlign = 4096
)

var slotPool = sync.Pool{New: func() any {
	b := make([]byte, hashPipeSlot+slotAlign)
	skip := (slotAlign - int(uintptr(unsafe.Pointer(&b[0]))%slotAlign)) % slotAlign
	return &slot{buf: b[skip : skip+hashPipeSlot : skip+hashPipeSlot]}
}}

func newHashPipe(r io.Reader, h hash.Hash) *hashPipe {
	p := &hashPipe{r: r, h: h, todo: make(chan *slot, hashPipeSlots), free: make(chan *slot, hashPipeSlots), done: make(chan struct{})}
	for i := 0; i < hashPipeSlots; i++ {
		p.free <- slotPool.Get().(*slot)
	}
	go func() {
		defer close(p.done)
		for s := range p.todo {
			p.h.Write(s.buf[:s.n])
			p.release(s)
		}
	}()
	return p
}

func (p *hashPipe) release(s *slot) {
	if s.refs.Add(-1) == 0 {
		p.free <- s
	}
}

// Read implements io.Reader.
func (p *hashPipe) Read(b []byte) (int, error) {
	if len(b) > hashPipeSlot {
		b = b[:hashPipeSlot]
	}
	n, err := p.r.Read(b)
	if n > 0 {
		s := <-p.free
		s.n = copy(s.buf, b[:n])
		s.refs.Store(1)
		p.todo <- s
	}
	return n, err
}

// WriteTo implements io.WriterTo: w.Write is called on another goroutine,
// one buffer at a time and in order, with buffers of up to 1 MiB that
// start on a 4 KiB boundary.
func (p *hashPipe) WriteTo(w io.Writer) (int64, error) {
	writes := make(chan *slot, hashPipeSlots)
	var failed atomic.Bool
	werr := make(chan error, 1)
	go func() {
		var err error
		for s := range writes {
			if err == nil {
				var k int
				k, err = w.Write(s.buf[:s.n])
				if err == nil && k < s.n {
					err = io.ErrShortWrite
				}
				if err != nil {
					failed.Store(true)
				}
			}
			p.release(s)
		}
		werr <- err
	}()
	var n int64
	var rerr error
	for !failed.Load() {
		s := <-p.free
		k, err := io.ReadFull(p.r, s.buf)
		if k > 0 {
			s.n = k
			s.refs.Store(2)
			p.todo <- s
			writes <- s
			n += int64(k)
		} else {
			p.free <- s
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	close(writes)
	if err := <-werr; err != nil {
		return n, err
	}
	return n, rerr
}

// Done stops the pipe once everything read is hashed; the hash is then
// complete and the pipe's buffers are returned.
func (p *hashPipe) Done() {
	p.close.Do(func() {
		close(p.todo)
		<-p.done
		for i := 0; i < hashPipeSlots; i++ {
			slotPool.Put(<-p.free)
		}
	})
}
