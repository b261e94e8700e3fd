// Package server assembles berth: it opens the stores the configuration
// names, builds the registry core and both front ends, and serves them on
// one listener. cmd/berth runs it; tests run it in-process.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/console"
	"github.com/berth-registry/berth/ecr"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/oci"
	"github.com/berth-registry/berth/registry"
	"github.com/google/uuid"
)

// Server is a running berth.
type Server struct {
	Config Config
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger

	ln        net.Listener
	server    *http.Server
	meta      berth.MetaStore
	done      chan error
	metrics   *metrics
	pprof     *http.Server
	closeOnce sync.Once
	// fingerprint is the self-signed certificate's, when berth made one.
	fingerprint string
	// certs serves the TLS certificate, when berth serves TLS.
	certs *certReloader
	// conns and uploads are what the limits count (limits.go).
	conns   atomic.Int64
	uploads inFlight
	// Credential is the admin credential in use once Run has returned.
	Credential auth.Credential
	// Now, if set before Run, replaces the clock (for tests of expiry).
	Now func() time.Time
	reg *registry.Registry
	// public is the public registry (ECR Public), over the same stores;
	// publicLn, publicHost and publicHandler its endpoint's, when served.
	public         *registry.Registry
	publicLn       net.Listener
	publicHost     string
	publicAlias    string
	publicHandler  http.Handler
	publicEndpoint *oci.Server
	publicServer   *http.Server
	publicDone     chan error
	gcm            *gcMetrics
	// background runs garbage collection; stopBackground ends it.
	background     sync.WaitGroup
	stopBackground context.CancelFunc
	lm             *lifecycleMetrics
	// live is the configuration requests read, which a reload may change
	// (reload.go); args are the flags it was read from.
	live     atomic.Pointer[Config]
	args     []string
	throttle *auth.Throttle
}

// New returns a server that writes its banner to stdout and its log to
// stderr.
func New(stdout, stderr io.Writer) *Server {
	return &Server{stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, nil))}
}

// ParseFlags reads the configuration: file, then environment, then flags.
func (m *Server) ParseFlags(args []string) error {
	c, err := LoadConfig("berth serve", args, os.LookupEnv, m.stderr)
	if err != nil {
		return err
	}
	m.Config, m.args = c, args
	return nil
}

// Run opens the stores, starts listening and serves in the background.
func (m *Server) Run(ctx context.Context) (err error) {
	c := m.Config
	if err := c.Validate(); err != nil {
		return err
	}
	m.Config = c // with its defaults filled in
	// The port first: a start that cannot listen must not generate (and
	// so never show) the admin secret.
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another registry running? choose another --addr)", c.Addr, err)
	}
	defer func() {
		if err != nil {
			ln.Close()
			if m.publicLn != nil {
				m.publicLn.Close()
			}
		}
	}()
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	cred, generated, err := loadCredential(c)
	if err != nil {
		return err
	}
	m.Credential = cred
	tlsLn, err := m.serveTLS(c, ln)
	if err != nil {
		return err
	}
	meta, blobs, err := OpenStores(ctx, c)
	if err != nil {
		return err
	}
	m.metrics = newMetrics()
	if s, ok := meta.(interface {
		ObserveRaces(func(context.Context, int, bool, error))
	}); ok {
		s.ObserveRaces(m.metrics.raceObserver(m.log))
	}
	meta = timedMeta{MetaStore: meta, h: m.metrics.storeTime}
	m.meta = meta
	defer func() {
		if err != nil {
			meta.Close()
		}
	}()
	secretsKey, err := LoadSecretsKey(c)
	if err != nil {
		return err
	}
	reg := registry.New(meta, blobs, registry.Config{ID: c.RegistryID, Log: m.log, Now: m.Now, GC: c.GC.Registry(), RestoreTime: c.ArchiveRestoreTime,
		Region: c.Region, SecretsKey: secretsKey, IAMRefresh: c.IAMRefresh, OnDeny: m.metrics.denied, OnAudit: m.metrics.audited, ConsoleIdle: c.ConsoleIdle})
	if err := reg.EnsureAccount(ctx); err != nil {
		return fmt.Errorf("recording the registry's account: %w", err)
	}
	if c.CreateOnPush {
		if err := reg.EnsureCreateOnPush(ctx); err != nil {
			return fmt.Errorf("installing the create-on-push template: %w", err)
		}
	}
	keys := auth.Keyrings{auth.StaticKeyring{cred.AccessKeyID: cred}, reg.Keyring()}
	authn := &auth.Authenticator{Keys: keys, Region: c.Region, Now: m.Now, Throttle: c.Limits.throttle(m.Now)}
	m.throttle = authn.Throttle
	api := ecr.New(reg, authn, c.Region, m.log)
	publicAPI, err := m.publicRegistry(ctx, c, meta, blobs, reg, authn, secretsKey)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/v2/", oci.New(reg, authn, m.log))
	mux.HandleFunc(ecr.DownloadPrefix, api.Download)
	m.metrics.uploadsGauge(reg.CountUploads)
	m.metrics.sendingGauge(&m.uploads)
	gcm, lm := m.metrics.gc(reg), m.metrics.lifecycle()
	m.reg, m.gcm = reg, gcm
	mux.Handle("GET /metrics", m.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "ok\nberth %s\n", VersionString()) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := reg.Ready(r.Context()); err != nil {
			m.log.Warn("not ready", "err", err)
			http.Error(w, "not ready: a store does not answer; see the server log", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	if c.Console {
		mux.Handle(console.Prefix, console.New(reg, authn, c.Region, m.log))
	}
	iamDoor := iam.New(reg, authn, m.log)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// IAM and STS speak the query protocol (form-encoded), ECR JSON.
		switch {
		case iam.Handles(r):
			iamDoor.ServeHTTP(w, r)
		case strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecr.PublicTargetPrefix):
			publicAPI.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	}))

	m.ln = tlsLn
	if c.Pprof != "" {
		pl, err := net.Listen("tcp", c.Pprof)
		if err != nil {
			ln.Close()
			return fmt.Errorf("pprof: listen on %s: %w", c.Pprof, err)
		}
		m.pprof = &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 30 * time.Second}
		go m.pprof.Serve(pl)
		fmt.Fprintf(m.stdout, "  profiles at http://%s/debug/pprof/\n", pl.Addr())
	}
	l := c.Limits
	m.server = &http.Server{Handler: m.accessLog(m.limited(mux)), ReadHeaderTimeout: l.HeaderTimeout,
		IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes, ConnState: m.connState}
	m.done = make(chan error, 1)
	go func() { m.done <- m.server.Serve(tlsLn) }()
	if m.publicLn != nil {
		m.publicServer = &http.Server{Handler: m.accessLog(m.limited(m.publicHandler)), ReadHeaderTimeout: l.HeaderTimeout,
			IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes, ConnState: m.connState}
		m.publicDone = make(chan error, 1)
		go func() { m.publicDone <- m.publicServer.Serve(m.publicLn) }()
	}
	m.lm = lm
	m.live.Store(&m.Config)
	m.startBackground(c)
	m.banner(ctx, reg, generated)
	return nil
}

// startBackground starts the timers of garbage collection and lifecycle
// runs at the configured intervals.
func (m *Server) startBackground(c Config) {
	var bg context.Context
	bg, m.stopBackground = context.WithCancel(context.Background())
	if c.GC.Interval > 0 {
		m.background.Add(1)
		go func() {
			defer m.background.Done()
			m.collectGarbage(bg, m.reg, m.gcm, c.GC.Interval)
		}()
	}
	if c.LifecycleInterval > 0 {
		m.background.Add(1)
		go func() {
			defer m.background.Done()
			m.runLifecycle(bg, m.reg, m.lm, c.LifecycleInterval)
		}()
	}
}

// CreateAccount adds an account and a root access key for it, as berth
// account create does, on a running server.
func (m *Server) CreateAccount(ctx context.Context, id string) (auth.Credential, error) {
	k, err := m.reg.CreateAccount(ctx, id)
	if err != nil {
		return auth.Credential{}, err
	}
	return auth.Credential{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Principal: "arn:aws:iam::" + id + ":root"}, nil
}

// URL is the server's base URL once Run has returned.
func (m *Server) URL() string { return m.Config.scheme() + "://" + m.ln.Addr().String() }

// serveTLS wraps the listener in TLS when the configuration asks for it:
// the certificate files given, or a self-signed one kept in the data
// directory.
func (m *Server) serveTLS(c Config, ln net.Listener) (net.Listener, error) {
	certFile, keyFile := c.TLSCert, c.TLSKey
	if c.TLSSelfSigned {
		var err error
		if certFile, keyFile, m.fingerprint, err = selfSigned(c.DataDir, c.Addr); err != nil {
			return nil, fmt.Errorf("tls: making a self-signed certificate: %w", err)
		}
	}
	if certFile == "" {
		return ln, nil
	}
	r, err := newCertReloader(certFile, keyFile, m.log.Info)
	if err != nil {
		return nil, err
	}
	m.certs = r
	return tls.NewListener(ln, tlsConfig(r)), nil
}

// Reload reads what may change under a running berth again (berth serve
// does it on SIGHUP): the TLS files, which it also notices change, and the
// configuration it was started from, applying the settings that can change
// live (reload.go) and logging those that take a restart.
func (m *Server) Reload() error {
	var errs []error
	if m.certs != nil {
		if err := m.certs.reload(); err != nil {
			m.log.Warn("reload: keeping the previous certificate", "err", err)
			errs = append(errs, err)
		} else {
			m.log.Info("reload: TLS files read again", "file", m.certs.certFile)
		}
	}
	if m.args != nil && m.reg != nil { // started from flags: read them again
		applied, restart, err := m.reloadConfig()
		switch {
		case err != nil:
			m.log.Warn("reload: the configuration does not load; nothing of it changed", "err", err)
			errs = append(errs, err)
		default:
			if len(applied) > 0 {
				m.log.Info("reload: settings applied", "settings", applied)
			}
			if len(restart) > 0 {
				m.log.Warn("reload: these settings changed and take effect when berth restarts", "settings", restart)
			}
		}
	}
	return errors.Join(errs...)
}

func (m *Server) banner(ctx context.Context, reg *registry.Registry, generated bool) {
	c, u := m.Credential, m.URL()
	fmt.Fprintf(m.stdout, "berth %s is serving the ECR API and the registry endpoint at %s\n", VersionString(), u)
	fmt.Fprintf(m.stdout, "  registry %s, region %s, data in %s\n", m.Config.RegistryID, m.Config.Region, m.Config.DataDir)
	if m.Config.Console {
		fmt.Fprintf(m.stdout, "  console at %s%s: sign in with the admin access key and its secret access key\n", u, console.Prefix)
	}
	if pu := m.PublicURL(); pu != "" {
		fmt.Fprintf(m.stdout, "  public registry endpoint (ECR Public) at %s, alias %s: anonymous pulls of %s/%s/<repository>\n",
			pu, m.publicAlias, m.publicHost, m.publicAlias)
	}
	if m.fingerprint != "" {
		fmt.Fprintf(m.stdout, "  self-signed TLS certificate %s\n    SHA-256 fingerprint %s\n    trust it: podman --cert-dir (a directory holding it as ca.crt), aws --ca-bundle, curl --cacert\n",
			selfSignedPath(m.Config), m.fingerprint)
	}
	switch {
	case generated:
		fmt.Fprintf(m.stdout, "  new admin credentials, kept in %s (shown only now):\n", credentialsPath(m.Config))
		fmt.Fprintf(m.stdout, "    export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s AWS_ENDPOINT_URL_ECR=%s\n", c.AccessKeyID, c.SecretAccessKey, m.Config.Region, u)
		fmt.Fprintf(m.stdout, "  in another shell later: eval \"$(berth env%s)\"\n", m.envFlags())
	case m.Config.AccessKeyID != "":
		fmt.Fprintf(m.stdout, "  admin access key %s (from BERTH_ACCESS_KEY_ID)\n", c.AccessKeyID)
	default:
		fmt.Fprintf(m.stdout, "  admin access key %s; its secret is in %s\n", c.AccessKeyID, credentialsPath(m.Config))
		fmt.Fprintf(m.stdout, "  set up a shell for it: eval \"$(berth env%s)\"\n", m.envFlags())
	}
	// A next step that fits: the first repository, or the ones there are.
	repos, _, err := reg.DescribeRepositories(ctx, nil, ptr(1), "")
	switch {
	case err == nil && len(repos) > 0:
		fmt.Fprintf(m.stdout, "try:\n  aws ecr describe-repositories --endpoint-url %s\n", u)
	default:
		fmt.Fprintf(m.stdout, "try:\n  aws ecr create-repository --repository-name hello-world --endpoint-url %s\n", u)
	}
}

// envFlags are the flags "berth env" needs to find this server's
// credentials and address, when they are not the defaults.
func (m *Server) envFlags() string {
	d, s := Defaults(), ""
	if m.Config.DataDir != d.DataDir {
		s += " --data-dir " + m.Config.DataDir
	}
	if m.Config.Addr != d.Addr {
		s += " --addr " + m.ln.Addr().String()
	}
	if m.Config.Region != d.Region {
		s += " --region " + m.Config.Region
	}
	if m.Config.TLSSelfSigned {
		s += " --tls-self-signed"
	} else if m.Config.TLSCert != "" {
		s += " --tls-cert " + m.Config.TLSCert + " --tls-key " + m.Config.TLSKey
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// Close stops accepting requests, finishes those in flight, then closes
// the stores.
func (m *Server) Close() error {
	var errs []error
	m.closeOnce.Do(func() { errs = m.close() })
	return errors.Join(errs...)
}

func (m *Server) close() []error {
	var errs []error
	if m.stopBackground != nil {
		m.stopBackground()
		m.background.Wait()
	}
	if m.reg != nil {
		m.reg.Close()
	}
	if m.public != nil {
		m.public.Close()
	}
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errs = append(errs, m.server.Shutdown(ctx))
		if m.publicServer != nil {
			errs = append(errs, m.publicServer.Shutdown(ctx))
			if err := <-m.publicDone; !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
			}
		}
		if m.pprof != nil {
			m.pprof.Close()
		}
		if err := <-m.done; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if m.meta != nil {
		errs = append(errs, m.meta.Close())
	}
	return errs
}

func credentialsPath(c Config) string { return filepath.Join(c.DataDir, "credentials.json") }

// AdminCredential is the admin credential of the configuration: from
// BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY, else from the data
// directory. Unlike a start, it never generates one.
func AdminCredential(c Config) (auth.Credential, error) {
	if c.AccessKeyID == "" {
		if _, err := os.Stat(credentialsPath(c)); err != nil {
			return auth.Credential{}, fmt.Errorf("no credentials in %s: start berth serve with this --data-dir first (%w)", c.DataDir, err)
		}
	}
	cred, _, err := loadCredential(c)
	return cred, err
}

// EnvLines are the shell lines that point the AWS CLI and SDKs at the
// server of c with its admin credentials (berth env).
func EnvLines(c Config, cred auth.Credential) string {
	host, port, _ := net.SplitHostPort(c.Addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	lines := fmt.Sprintf("export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s\nexport AWS_ENDPOINT_URL_ECR=%s://%s\n",
		cred.AccessKeyID, cred.SecretAccessKey, c.Region, c.scheme(), net.JoinHostPort(host, port))
	if c.TLSSelfSigned {
		lines += "export AWS_CA_BUNDLE=" + selfSignedPath(c) + "\n"
	}
	return lines
}

// loadCredential returns the admin credential: from the configuration, else
// from the data directory, else newly generated and saved there (0600).
func loadCredential(c Config) (auth.Credential, bool, error) {
	principal := "arn:aws:iam::" + c.RegistryID + ":root"
	if c.AccessKeyID != "" {
		return auth.Credential{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Principal: principal}, false, nil
	}
	path := credentialsPath(c)
	b, err := os.ReadFile(path)
	if err == nil {
		var cred auth.Credential
		if err := json.Unmarshal(b, &cred); err != nil || cred.AccessKeyID == "" || cred.SecretAccessKey == "" {
			return auth.Credential{}, false, fmt.Errorf("%s is not a credentials file (%v); remove it to generate new credentials", path, err)
		}
		return cred, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return auth.Credential{}, false, err
	}
	random := make([]byte, 40)
	rand.Read(random)
	cred, err := auth.NewCredential(random, principal)
	if err != nil {
		return auth.Credential{}, false, err
	}
	b, _ = json.MarshalIndent(cred, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return auth.Credential{}, false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return auth.Credential{}, false, err
	}
	return cred, true, nil
}

// accessLog logs each request with an id, which ECR responses also carry
// as x-amzn-RequestId.
func (m *Server) accessLog(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := uuid.NewString()
		w.Header().Set("X-Amzn-Requestid", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		if r.Body != nil {
			r.Body = countingBody{ReadCloser: r.Body, c: m.metrics.received}
		}
		op := operation(r)
		r = r.WithContext(withOperation(r.Context(), op))
		defer func() {
			// A panic is a bug: log it, answer 500 with the request id, and
			// keep serving.
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				m.log.Error("panic serving request", "id", id, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if rec.status == http.StatusOK && rec.bytes == 0 {
					http.Error(rec, "internal error, request id "+id, http.StatusInternalServerError)
				}
			}
		}()
		h.ServeHTTP(rec, r)
		m.metrics.observe(r, op, rec.status, time.Since(start), rec.bytes)
		if !m.liveConfig().LogRequests {
			return
		}
		attrs := []any{"id", id, "operation", op, "method", r.Method, "path", r.URL.Path, "status", rec.status, "bytes", rec.bytes, "duration", time.Since(start)}
		if code := rec.errorCode(); code != "" {
			attrs = append(attrs, "error", code) // why the client was refused
		}
		m.log.Info("request", attrs...)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// head is the start of an error answer's body, for its error code.
	head []byte
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status >= 400 && len(s.head) < maxErrorHead {
		s.head = append(s.head, b[:min(len(b), maxErrorHead-len(s.head))]...)
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// maxErrorHead bounds what is kept of an error answer: both APIs' error
// bodies are small JSON.
const maxErrorHead = 4096

// errorCode is the error an answer carries: the ECR API's __type or the
// registry API's first error code; "" for a success.
func (s *statusRecorder) errorCode() string {
	if s.status < 400 {
		return ""
	}
	if t := s.Header().Get("X-Amzn-ErrorType"); t != "" {
		return t
	}
	var body struct {
		Type   string `json:"__type"`
		Errors []struct{ Code string }
	}
	json.Unmarshal(s.head, &body)
	switch {
	case body.Type != "":
		return body.Type
	case len(body.Errors) > 0:
		return body.Errors[0].Code
	}
	return http.StatusText(s.status)
}

// ReadFrom sends a body (a blob, from http.ServeContent). A blob that is
// a local file goes to net/http's own ReadFrom, which has the kernel send
// it (sendfile): a 512 MiB blob went at 2.1-2.2 GB/s that way against
// 1.6-1.9 GB/s through a buffer, and 1.3 against 0.7-0.8 GB/s from disk.
// Other bodies (object storage) go through a pooled 256 KiB buffer.
func (s *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if f, ok := lr.R.(berth.BlobFile); ok {
			if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
				n, err := rf.ReadFrom(&io.LimitedReader{R: f.File(), N: lr.N})
				lr.N -= n
				s.bytes += n
				return n, err
			}
		}
	}
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	n, err := io.CopyBuffer(writerOnly{s.ResponseWriter}, readerOnly{r}, *buf)
	s.bytes += n
	return n, err
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// writerOnly and readerOnly hide ReadFrom and WriteTo, so that CopyBuffer
// uses the buffer it is given.
type writerOnly struct{ io.Writer }
type readerOnly struct{ io.Reader }

// HealthCheck asks the berth of c for /healthz over loopback (berth
// healthcheck, a container's HEALTHCHECK). With TLS the certificate is not
// checked: it is berth's own, asked on the same machine.
func HealthCheck(ctx context.Context, c Config) error {
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.scheme()+"://127.0.0.1:"+port+"/healthz", nil)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", resp.StatusCode)
	}
	return nil
}
