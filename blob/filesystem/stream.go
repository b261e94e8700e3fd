package filesystem

import (
	"errors"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The write path of an upload. A reader that is an io.WriterTo (the
// registry's hashing pipe) writes into fileSink from its own aligned
// buffers, which the disk can take directly; any other reader is copied
// in small pieces through the page cache.

const directAlign = 4096

// fileSink writes sequentially to a file from offset off. With direct
// set (an O_DIRECT descriptor of the same file), writes of whole aligned
// blocks from aligned memory bypass the page cache; the rest goes
// through f, and the kernel is asked to start writing it to disk every
// few MiB (sync_file_range), so that the fsync at the end finds little
// left to do.
type fileSink struct {
	f, direct *os.File
	directOK  *atomic.Bool // cleared when the filesystem refuses a direct write
	off       int64        // file offset of the next write
	unsynced  int64
}

const writeBehindEvery = 2 << 20

func aligned(p []byte, off int64) bool {
	return off%directAlign == 0 && len(p)%directAlign == 0 && uintptr(unsafe.Pointer(unsafe.SliceData(p)))%directAlign == 0
}

func (w *fileSink) Write(p []byte) (int, error) {
	if w.direct != nil && aligned(p, w.off) {
		n, err := w.direct.WriteAt(p, w.off)
		if !errors.Is(err, unix.EINVAL) {
			w.off += int64(n)
			return n, err
		}
		w.direct = nil // refused: write through the page cache from now on
		w.directOK.Store(false)
	}
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	w.unsynced += int64(n)
	if w.unsynced >= writeBehindEvery {
		// Best effort: a failure here only means the final fsync does it.
		_ = unix.SyncFileRange(int(w.f.Fd()), w.off-w.unsynced, w.unsynced, unix.SYNC_FILE_RANGE_WRITE)
		w.unsynced = 0
	}
	return n, err
}
