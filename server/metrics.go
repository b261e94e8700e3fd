package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/ecr"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/oci"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus metrics of one server, on its own registry
// (no global state: tests run several servers in one process).
type metrics struct {
	pulls     *prometheus.CounterVec
	denials   *prometheus.CounterVec
	audits    *prometheus.CounterVec
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	received  prometheus.Counter
	sent      prometheus.Counter
	storeTime *prometheus.HistogramVec
	// races counts metadata transactions that lost a race, by operation
	// and outcome: "retried" each time one runs again, "gave_up" when one
	// fails for it (the client was told to retry).
	races *prometheus.CounterVec
	// limits counts what the limits cut (limits.go).
	limits *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_http_requests_total",
			Help: "HTTP requests by API operation and status code."}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "berth_http_request_duration_seconds",
			Help: "Time to serve a request, by API operation.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}, []string{"operation"}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_http_received_bytes_total", Help: "Request body bytes received."}),
		sent:     prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_http_sent_bytes_total", Help: "Response body bytes sent."}),
		storeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "berth_store_operation_duration_seconds",
			Help: "Time of metadata transactions and blob store calls.", Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14)}, []string{"store", "operation"}),
		races: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_metadata_transaction_races_total",
			Help: "Metadata transactions that lost a race with a concurrent one, by API operation and outcome (retried: run again; gave_up: the request failed with a retryable error)."},
			[]string{"operation", "outcome"}),
	}
	m.denials = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_authz_denied_total",
		Help: "Requests denied by policy, by IAM action."}, []string{"action"})
	m.audits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_audit_events_total",
		Help: "Audit events written to the log: denials and changes to principals, keys and policies, by event."}, []string{"event"})
	m.pulls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_public_pulls_total",
		Help: "Manifest pulls from the public registry endpoint, anonymous or authenticated."}, []string{"kind"})
	m.limits = newLimitCounter()
	m.reg.MustRegister(m.pulls, m.denials, m.audits, m.requests, m.latency, m.received, m.sent, m.storeTime, m.races, m.limits,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// publicPull counts a manifest pull from the public registry endpoint.
func (m *metrics) publicPull(anonymous bool) {
	kind := "authenticated"
	if anonymous {
		kind = "anonymous"
	}
	m.pulls.WithLabelValues(kind).Inc()
}

// denied counts a request denied by policy.
func (m *metrics) denied(action string) { m.denials.WithLabelValues(action).Inc() }

// audited counts an audit event.
func (m *metrics) audited(event string) { m.audits.WithLabelValues(event).Inc() }

// uploadsGauge reports the uploads in progress, counted when scraped.
func (m *metrics) uploadsGauge(count func(context.Context) (int, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "berth_uploads_in_progress",
		Help: "Blob uploads started and not yet completed or cancelled."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// sendingGauge reports the requests sending blob bytes now, the ones
// max-uploads-per-client caps.
func (m *metrics) sendingGauge(f *inFlight) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "berth_upload_requests_sending",
		Help: "Requests sending blob bytes now, the ones max-uploads-per-client caps (counted when that cap is on)."},
		func() float64 { return float64(f.total()) }))
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// operation names a request for metrics, with bounded cardinality.
func operation(r *http.Request) string {
	switch {
	case r.URL.Path == "/" && iam.Handles(r):
		// The operation is in the form body, not read here.
		return "iam"
	case r.Method == http.MethodPost && r.URL.Path == "/" && strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecr.PublicTargetPrefix):
		return "ecr-public:" + ecr.PublicOperationName(r.Header.Get("X-Amz-Target"))
	case r.Method == http.MethodPost && r.URL.Path == "/":
		return "ecr:" + ecr.OperationName(r.Header.Get("X-Amz-Target"))
	case strings.HasPrefix(r.URL.Path, "/v2"):
		return "oci:" + oci.OperationName(r.Method, r.URL.Path)
	case strings.HasPrefix(r.URL.Path, ecr.DownloadPrefix):
		return "download"
	case r.URL.Path == "/metrics" || r.URL.Path == "/healthz" || r.URL.Path == "/readyz":
		return strings.TrimPrefix(r.URL.Path, "/")
	}
	return "other"
}

type operationKey struct{}

// withOperation marks a request's context with its operation's name, for
// what the stores report about it.
func withOperation(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

// operationOf is the operation a context serves, or "background".
func operationOf(ctx context.Context) string {
	if op, ok := ctx.Value(operationKey{}).(string); ok {
		return op
	}
	return "background"
}

// raceObserver counts and logs the metadata transactions that lose races.
func (m *metrics) raceObserver(log *slog.Logger) func(ctx context.Context, attempt int, gaveUp bool, err error) {
	return func(ctx context.Context, attempt int, gaveUp bool, err error) {
		op := operationOf(ctx)
		if gaveUp {
			m.races.WithLabelValues(op, "gave_up").Inc()
			log.Warn("metadata transaction gave up after losing races", "operation", op, "attempts", attempt, "err", err)
			return
		}
		m.races.WithLabelValues(op, "retried").Inc()
		log.Debug("metadata transaction lost a race; running it again", "operation", op, "attempt", attempt, "err", err)
	}
}

func (m *metrics) observe(r *http.Request, op string, status int, d time.Duration, sent int64) {
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(op).Observe(d.Seconds())
	m.sent.Add(float64(sent))
}

// countingBody counts request body bytes as they are read.
type countingBody struct {
	io.ReadCloser
	c prometheus.Counter
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.Add(float64(n))
	return n, err
}

// pprofHandler serves the runtime profiles (berth serve --pprof).
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// timedMeta times the transactions of a MetaStore.
type timedMeta struct {
	berth.MetaStore
	h *prometheus.HistogramVec
}

func (t timedMeta) View(ctx context.Context, fn func(berth.MetaTx) error) error {
	defer t.since("view", time.Now())
	return t.MetaStore.View(ctx, fn)
}

func (t timedMeta) Update(ctx context.Context, fn func(berth.MetaTx) error) error {
	defer t.since("update", time.Now())
	return t.MetaStore.Update(ctx, fn)
}

// Namespace passes a namespace's view through, timed too.
func (t timedMeta) Namespace(ns string) berth.MetaStore {
	n, ok := t.MetaStore.(berth.Namespaces)
	if !ok {
		return nil
	}
	return timedMeta{MetaStore: n.Namespace(ns), h: t.h}
}

func (t timedMeta) since(op string, start time.Time) {
	t.h.WithLabelValues("metadata", op).Observe(time.Since(start).Seconds())
}
