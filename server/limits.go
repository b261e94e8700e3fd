package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/prometheus/client_golang/prometheus"
)

// Limits bound what one client can hold of the server: header bytes and
// count, idle keep-alive connections, and stalled transfers. A transfer is
// cut when it makes no progress for a whole window (nginx's
// client_body_timeout and send_timeout work so): a slow but live push or
// pull of any size goes through.
type Limits struct {
	// MaxHeaderBytes bounds the request line and headers (Go answers 431).
	MaxHeaderBytes int `json:"maxHeaderBytes"`
	// MaxHeaders bounds the number of header lines (answered 431).
	MaxHeaders int `json:"maxHeaders"`
	// IdleTimeout closes a keep-alive connection with no request.
	IdleTimeout time.Duration `json:"idleTimeout"`
	// HeaderTimeout bounds the time to send the request line and headers.
	HeaderTimeout time.Duration `json:"headerTimeout"`
	// StallTimeout cuts a request body that delivers no byte, or an answer
	// the client reads no byte of, for this long.
	StallTimeout time.Duration `json:"stallTimeout"`
	// AuthFailures is how many failed authentications a client address
	// may make in a minute; past it, its failures are answered 429 /
	// ThrottlingException for a minute (auth.Throttle). -1: no limit.
	AuthFailures int `json:"authFailures"`
	// MaxConnections caps open connections: a request on one past the cap
	// is answered 429 and its connection closed. 0: no cap.
	MaxConnections int `json:"maxConnections"`
	// MaxUploadsPerClient caps the blob uploads one client address sends
	// at once (layer parts, PATCH and PUT bodies): 429 past it. 0: no cap.
	MaxUploadsPerClient int `json:"maxUploadsPerClient"`
}

// DefaultLimits are generous for every client seen in the tests (the
// SDKs send about 10 headers and 1 KiB) and small for an attacker.
func DefaultLimits() Limits {
	return Limits{MaxHeaderBytes: 64 << 10, MaxHeaders: 100, IdleTimeout: 2 * time.Minute, HeaderTimeout: 30 * time.Second, StallTimeout: time.Minute,
		AuthFailures: 20}
}

// limitMetrics counts how often each limit triggers.
func newLimitCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_limit_triggers_total",
		Help: "Requests or connections cut by a limit: header_count, body_stall, answer_stall."}, []string{"limit"})
}

// limited applies the per-request limits around h: the header count, and
// deadlines that follow a transfer's progress.
func (m *Server) limited(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := m.liveConfig().Limits // a reload may change them
		n := 0
		for _, v := range r.Header {
			n += len(v)
		}
		if n > l.MaxHeaders {
			m.metrics.limits.WithLabelValues("header_count").Inc()
			m.log.Debug("limit: too many headers", "headers", n, "limit", l.MaxHeaders, "remote", r.RemoteAddr)
			tooManyHeaders(w, r, n, l.MaxHeaders)
			return
		}
		if l.MaxConnections > 0 && m.conns.Load() > int64(l.MaxConnections) {
			m.metrics.limits.WithLabelValues("connections").Inc()
			m.log.Debug("limit: too many connections", "limit", l.MaxConnections, "remote", r.RemoteAddr)
			w.Header().Set("Connection", "close")
			throttled(w, r, "berth has more than "+itoa(l.MaxConnections)+" connections open; retry later")
			return
		}
		if l.MaxUploadsPerClient > 0 && isUpload(r) {
			host := clientHost(r)
			if !m.uploads.acquire(host, l.MaxUploadsPerClient) {
				m.metrics.limits.WithLabelValues("uploads").Inc()
				m.log.Debug("limit: too many uploads from one client", "limit", l.MaxUploadsPerClient, "remote", r.RemoteAddr)
				throttled(w, r, "this client already sends "+itoa(l.MaxUploadsPerClient)+" uploads at once; retry when one ends")
				return
			}
			defer m.uploads.release(host)
		}
		ctl := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &stallBody{ReadCloser: r.Body, ctl: ctl, window: l.StallTimeout, m: m}
		}
		h.ServeHTTP(&stallWriter{ResponseWriter: w, ctl: ctl, window: l.StallTimeout, m: m}, r)
	})
}

// tooManyHeaders answers 431, in each API's error form.
func tooManyHeaders(w http.ResponseWriter, r *http.Request, n, limit int) {
	w.Header().Set("Connection", "close")
	refuse(w, r, http.StatusRequestHeaderFieldsTooLarge, "TOOMANYHEADERS", "RequestHeaderFieldsTooLarge",
		"The request has "+itoa(n)+" headers; berth takes at most "+itoa(limit))
}

// refuse answers a request a limit stops, in its API's error form: the
// registry API's code, or the ECR API's exception.
func refuse(w http.ResponseWriter, r *http.Request, status int, code, exception, msg string) {
	if strings.HasPrefix(r.URL.Path, "/v2") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", exception)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": exception, "message": msg})
}

func itoa(n int) string { return strconv.Itoa(n) }

// throttled answers 429 with Retry-After, in each API's error form.
func throttled(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("Retry-After", "1")
	refuse(w, r, http.StatusTooManyRequests, "TOOMANYREQUESTS", "ThrottlingException", msg)
}

// isUpload reports a request that sends blob bytes.
func isUpload(r *http.Request) bool {
	if r.Method == http.MethodPost && r.URL.Path == "/" {
		return strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".UploadLayerPart")
	}
	return strings.HasPrefix(r.URL.Path, "/v2/") && strings.Contains(r.URL.Path, "/blobs/uploads/") &&
		(r.Method == http.MethodPatch || r.Method == http.MethodPut || r.Method == http.MethodPost) && r.ContentLength != 0
}

func clientHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// inFlight counts what each client has in flight.
type inFlight struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *inFlight) acquire(key string, limit int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	if f.n[key] >= limit {
		return false
	}
	f.n[key]++
	return true
}

func (f *inFlight) release(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[key]--; f.n[key] <= 0 {
		delete(f.n, key)
	}
}

// total is what all clients have in flight.
func (f *inFlight) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.n {
		n += v
	}
	return n
}

// connState counts open connections for MaxConnections.
func (m *Server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		m.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		m.conns.Add(-1)
	}
}

// progressEvery is how often a live transfer pushes its deadline on: not
// on every read, which would cost a timer update per 32 KiB.
const progressEvery = time.Second

// stallBody is a request body whose connection is cut when no byte arrives
// for a window.
type stallBody struct {
	io.ReadCloser
	ctl    *http.ResponseController
	window time.Duration
	m      *Server
	moved  time.Time
}

// every is how often a transfer under a window pushes its deadline on.
func every(window time.Duration) time.Duration { return min(progressEvery, window/4) }

func (b *stallBody) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(b.moved) >= every(b.window) {
		b.moved = now
		b.ctl.SetReadDeadline(now.Add(b.window))
	}
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		b.m.metrics.limits.WithLabelValues("body_stall").Inc()
		b.m.log.Debug("limit: a request body stalled", "window", b.window)
	}
	return n, err
}

// stallWriter is an answer whose connection is cut when the client reads
// no byte of it for a window.
type stallWriter struct {
	http.ResponseWriter
	ctl    *http.ResponseController
	window time.Duration
	m      *Server
	moved  time.Time
}

func (s *stallWriter) progress() {
	if now := time.Now(); now.Sub(s.moved) >= every(s.window) {
		s.moved = now
		s.ctl.SetWriteDeadline(now.Add(s.window))
	}
}

func (s *stallWriter) stalled(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.m.metrics.limits.WithLabelValues("answer_stall").Inc()
		s.m.log.Debug("limit: an answer stalled", "window", s.window)
	}
}

func (s *stallWriter) Write(b []byte) (int, error) {
	s.progress()
	n, err := s.ResponseWriter.Write(b)
	s.stalled(err)
	return n, err
}

// stallChunk is how much of a blob goes out between deadline pushes when
// the kernel sends it (sendfile): at a floor of 64 KiB/s it takes the
// window; a faster reader moves on sooner.
const stallChunk = 4 << 20

// ReadFrom keeps the sendfile path (see statusRecorder.ReadFrom), in chunks
// of the same blob file so that the deadline follows the progress.
func (s *stallWriter) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := s.ResponseWriter.(io.ReaderFrom)
	lr, limited := r.(*io.LimitedReader)
	if !ok || !limited {
		// Through Write, which pushes the deadline as bytes go.
		buf := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(buf)
		n, err := io.CopyBuffer(writerOnly{s}, readerOnly{r}, *buf)
		return n, err
	}
	var total int64
	for lr.N > 0 {
		s.moved = time.Time{} // each chunk pushes the deadline on
		s.progress()
		want := min(lr.N, stallChunk)
		n, err := rf.ReadFrom(&io.LimitedReader{R: lr.R, N: want})
		lr.N -= n
		total += n
		if err != nil {
			s.stalled(err)
			return total, err
		}
		if n < want {
			break // the source ended early
		}
	}
	return total, nil
}

// Unwrap lets http.ResponseController reach the connection.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// throttle is the authentication throttle the limits ask for, or nil.
func (l Limits) throttle(now func() time.Time) *auth.Throttle {
	if l.AuthFailures < 0 {
		return nil
	}
	t := auth.DefaultThrottle()
	t.Failures, t.Now = l.AuthFailures, now
	return t
}

// UnmarshalJSON reads the limits of a config file, with their durations
// written as Go durations ("2m", "90s") or as nanoseconds.
func (l *Limits) UnmarshalJSON(b []byte) error {
	type plain Limits
	var raw struct {
		plain
		IdleTimeout   any `json:"idleTimeout"`
		HeaderTimeout any `json:"headerTimeout"`
		StallTimeout  any `json:"stallTimeout"`
	}
	raw.plain = plain(*l)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	*l = Limits(raw.plain)
	for _, f := range []struct {
		name string
		v    any
		dst  *time.Duration
	}{{"idleTimeout", raw.IdleTimeout, &l.IdleTimeout}, {"headerTimeout", raw.HeaderTimeout, &l.HeaderTimeout}, {"stallTimeout", raw.StallTimeout, &l.StallTimeout}} {
		switch v := f.v.(type) {
		case nil:
		case string:
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("limits.%s: %q is not a duration such as 90s or 2m", f.name, v)
			}
			*f.dst = d
		case float64:
			*f.dst = time.Duration(v)
		default:
			return fmt.Errorf("limits.%s: must be a duration such as \"90s\"", f.name)
		}
	}
	return nil
}
