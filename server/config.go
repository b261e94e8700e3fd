package server

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/blob/filesystem"
	"github.com/berth-registry/berth/blob/s3"
	"github.com/berth-registry/berth/meta/postgres"
	"github.com/berth-registry/berth/meta/sqlite"
	"github.com/berth-registry/berth/registry"
)

// Config is the configuration of berth. Each key can come from the JSON
// config file (its json name), the environment (BERTH_ and the name in
// capitals) or a flag (the name in kebab case), later ones winning.
type Config struct {
	Addr       string `json:"addr"`
	DataDir    string `json:"dataDir"`
	RegistryID string `json:"registryId"`
	Region     string `json:"region"`
	// CreateOnPush installs a ROOT repository creation template, so that a
	// push creates the repository it names.
	CreateOnPush bool `json:"createOnPush"`
	// Metadata is "sqlite" (in the data directory) or a postgres:// URL.
	Metadata string `json:"metadata"`
	// Blobs is "filesystem" (in the data directory) or an s3:// URL.
	Blobs string `json:"blobs"`
	// Migrate applies pending schema migrations at start.
	Migrate bool `json:"migrate"`
	// Pprof, if set, is a (loopback) address serving /debug/pprof/.
	Pprof string `json:"pprof"`
	// LogRequests logs a line per request.
	LogRequests bool `json:"logRequests"`
	// AccessKeyID and SecretAccessKey are the admin credentials; generated
	// and kept in the data directory when empty. Replicas must share them.
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// SecretsKeyFile holds the key that seals the secret access keys of
	// IAM users kept in the metadata store; generated in the data
	// directory when empty. Replicas must share it.
	SecretsKeyFile string `json:"secretsKeyFile"`
	// IAMRefresh is how often a process looks for IAM changes another one
	// made (its own apply at once).
	IAMRefresh time.Duration `json:"iamRefresh"`
	// PublicAddr is the public registry endpoint's address (ECR Public's
	// public.ecr.aws), in repository URIs; PublicAlias the registry's
	// alias (a generated one, kept in the store, when empty).
	PublicAddr  string `json:"publicAddr"`
	PublicAlias string `json:"publicAlias"`
	// PublicPullRate and PublicAuthenticatedPullRate bound the public
	// endpoint's pulls per second, anonymous ones per client address,
	// authenticated ones per account (0: no bound).
	PublicPullRate              float64 `json:"publicPullRate"`
	PublicAuthenticatedPullRate float64 `json:"publicAuthenticatedPullRate"`
	// Console serves the web console at /ui/; ConsoleIdle ends a console
	// session unused this long.
	Console     bool          `json:"console"`
	ConsoleIdle time.Duration `json:"consoleIdle"`
	// Limits bound what one client can hold (limits.go).
	Limits Limits `json:"limits"`
	// TLSCert and TLSKey are PEM files: berth serves HTTPS with them and
	// loads them again when they change. TLSSelfSigned makes and keeps a
	// certificate in the data directory instead.
	TLSCert       string `json:"tlsCert"`
	TLSKey        string `json:"tlsKey"`
	TLSSelfSigned bool   `json:"tlsSelfSigned"`
	// GC configures garbage collection (gc.go).
	GC GCSettings `json:"gc"`
	// LifecycleInterval is how often each repository's lifecycle policy
	// is evaluated and carried out (0: never, in this process).
	LifecycleInterval time.Duration `json:"lifecycleInterval"`
	// ArchiveRestoreTime is how long a restore from the archive storage
	// class takes (ACTIVATING, then ACTIVE).
	ArchiveRestoreTime time.Duration `json:"archiveRestoreTime"`
}

func (c Config) scheme() string {
	if c.TLSCert != "" || c.TLSSelfSigned {
		return "https"
	}
	return "http"
}

// selfSignedPath is where --tls-self-signed keeps its certificate.
func selfSignedPath(c Config) string { return filepath.Join(c.DataDir, "tls", "cert.pem") }

// Defaults is the configuration with nothing set.
func Defaults() Config {
	return Config{Addr: "127.0.0.1:5000", DataDir: "./berth-data", RegistryID: "000000000000", Region: "us-east-1",
		Metadata: "sqlite", Blobs: "filesystem", Migrate: true, LogRequests: true, Limits: DefaultLimits(),
		GC: GCSettings{Interval: 10 * time.Minute, BlobGrace: registry.DefaultBlobGrace, UploadTTL: registry.DefaultUploadTTL}, LifecycleInterval: 24 * time.Hour,
		ArchiveRestoreTime: registry.DefaultRestoreTime, IAMRefresh: registry.DefaultIAMRefresh, PublicAddr: "127.0.0.1:5001",
		Console: true, ConsoleIdle: registry.DefaultConsoleIdle}
}

var (
	registryIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Validate checks the configuration before anything opens.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr %q: must be host:port, such as 127.0.0.1:5000", c.Addr)
	}
	if c.DataDir == "" {
		return fmt.Errorf("data-dir: must not be empty")
	}
	if !registryIDRE.MatchString(c.RegistryID) {
		return fmt.Errorf("registry-id %q: must be 12 digits, such as 000000000000", c.RegistryID)
	}
	if !regionRE.MatchString(c.Region) {
		return fmt.Errorf("region %q: must be an AWS region name, such as us-east-1", c.Region)
	}
	if c.ConsoleIdle == 0 {
		c.ConsoleIdle = registry.DefaultConsoleIdle
	}
	if c.Console && (c.ConsoleIdle < time.Minute || c.ConsoleIdle > registry.DefaultConsoleLifetime) {
		return fmt.Errorf("console-idle %s: must be between 1m and %s (a session's lifetime)", c.ConsoleIdle, registry.DefaultConsoleLifetime)
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return fmt.Errorf("access-key-id and secret-access-key (BERTH_ACCESS_KEY_ID, BERTH_SECRET_ACCESS_KEY) must be set together")
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("tls-cert and tls-key must be given together")
	case c.TLSSelfSigned && c.TLSCert != "":
		return fmt.Errorf("tls-self-signed and tls-cert exclude each other")
	}
	// A limit left at zero takes its default.
	d := DefaultLimits()
	for _, f := range []struct{ v, def *int }{{&c.Limits.MaxHeaderBytes, &d.MaxHeaderBytes}, {&c.Limits.MaxHeaders, &d.MaxHeaders}, {&c.Limits.AuthFailures, &d.AuthFailures}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	for _, f := range []struct{ v, def *time.Duration }{{&c.Limits.IdleTimeout, &d.IdleTimeout}, {&c.Limits.HeaderTimeout, &d.HeaderTimeout}, {&c.Limits.StallTimeout, &d.StallTimeout}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	if c.GC.BlobGrace == 0 {
		c.GC.BlobGrace = registry.DefaultBlobGrace
	}
	if c.GC.UploadTTL == 0 {
		c.GC.UploadTTL = registry.DefaultUploadTTL
	}
	l := c.Limits
	switch {
	case l.MaxHeaderBytes < 4<<10:
		return fmt.Errorf("max-header-bytes %d: must be at least 4096", l.MaxHeaderBytes)
	case l.MaxHeaders < 16:
		return fmt.Errorf("max-headers %d: must be at least 16", l.MaxHeaders)
	case l.MaxConnections < 0 || l.MaxUploadsPerClient < 0:
		return fmt.Errorf("max-connections and max-uploads-per-client must be 0 (no cap) or more")
	case l.IdleTimeout <= 0 || l.HeaderTimeout <= 0 || l.StallTimeout <= 0:
		return fmt.Errorf("idle-timeout, header-timeout and stall-timeout must be positive")
	case c.ArchiveRestoreTime < 0:
		return fmt.Errorf("archive-restore-time %s: must be positive (0: the default)", c.ArchiveRestoreTime)
	case c.LifecycleInterval < 0:
		return fmt.Errorf("lifecycle-interval %s: must be positive (0: lifecycle policies are not run)", c.LifecycleInterval)
	case c.GC.Interval < 0 || c.GC.BlobGrace < 0 || c.GC.UploadTTL < 0:
		return fmt.Errorf("gc-interval, gc-blob-grace and gc-upload-ttl must be positive (gc-interval 0: no sweeps)")
	}
	if c.Metadata == "" {
		c.Metadata = "sqlite"
	}
	if c.Blobs == "" {
		c.Blobs = "filesystem"
	}
	switch {
	case c.Metadata == "sqlite":
	case strings.HasPrefix(c.Metadata, "postgres://"), strings.HasPrefix(c.Metadata, "postgresql://"):
	default:
		return fmt.Errorf("metadata %q: must be sqlite or a postgres:// URL", redact(c.Metadata))
	}
	if c.Blobs != "filesystem" {
		if _, err := s3.ParseURL(c.Blobs); err != nil {
			return fmt.Errorf("%v (or use filesystem)", err)
		}
	}
	return nil
}

// redact hides a password in a URL for messages.
func redact(s string) string {
	if i := strings.Index(s, "@"); i > 0 {
		if j := strings.Index(s, "://"); j > 0 && j < i {
			return s[:j+3] + "…" + s[i:]
		}
	}
	return s
}

// LoadConfig reads the config file named by --config or BERTH_CONFIG, then
// BERTH_* variables through lookup, then the flags in args. With only, the
// command takes just those flags (and --config); otherwise all of them.
func LoadConfig(name string, args []string, lookup func(string) (string, bool), stderr io.Writer, only ...string) (Config, error) {
	c := Defaults()
	path, _ := lookup("BERTH_CONFIG")
	for i, a := range args {
		if v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "config="); ok && strings.HasPrefix(a, "-") {
			path = v
		} else if (a == "-config" || a == "--config") && i+1 < len(args) {
			path = args[i+1]
		}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config file: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	all := settings(&c)
	for _, st := range all {
		if v, ok := lookup(st.env); ok {
			if err := st.value.Set(v); err != nil {
				return c, fmt.Errorf("%s=%q: %v", st.env, v, err)
			}
		}
	}
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	takes := func(f string) bool { return f != "" && (len(only) == 0 || slices.Contains(only, f)) }
	fset.String("config", path, "JSON config file (BERTH_CONFIG); environment and flags override it")
	for _, st := range all {
		if takes(st.flag) {
			fset.Var(st.value, st.flag, st.usage+" ("+st.env+")")
		}
	}
	fset.Usage = func() {
		fmt.Fprintf(stderr, "Usage of %s:\n", name)
		fset.PrintDefaults()
		fmt.Fprintf(stderr, "\nThe admin credentials come from BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY (both, or neither:\n"+
			"then berth generates them on the first start and keeps them in <data-dir>/credentials.json).\n")
	}
	if err := fset.Parse(args); err != nil {
		return c, err
	}
	if fset.NArg() > 0 {
		return c, fmt.Errorf("%s takes no arguments, got %q", name, fset.Args())
	}
	return c, c.Validate()
}

// OpenStores opens the metadata and blob stores the configuration names.
func OpenStores(ctx context.Context, c Config) (berth.MetaStore, berth.BlobStore, error) {
	var meta berth.MetaStore
	var err error
	switch c.Metadata {
	case "sqlite":
		meta, err = sqlite.Open(ctx, filepath.Join(c.DataDir, "berth.db"))
	default:
		meta, err = postgres.Open(ctx, c.Metadata, c.Migrate)
	}
	if err != nil {
		return nil, nil, err
	}
	var blobs berth.BlobStore
	switch c.Blobs {
	case "filesystem":
		blobs, err = filesystem.Open(filepath.Join(c.DataDir, "blobs"))
	default:
		var sc s3.Config
		if sc, err = s3.ParseURL(c.Blobs); err == nil {
			blobs, err = s3.Open(ctx, sc)
		}
	}
	if err != nil {
		meta.Close()
		return nil, nil, err
	}
	return meta, blobs, nil
}

// Migrate applies pending migrations to the configured metadata store.
func Migrate(ctx context.Context, c Config) ([]string, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Metadata == "sqlite" {
		if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
			return nil, err
		}
		return sqlite.Migrate(ctx, filepath.Join(c.DataDir, "berth.db"))
	}
	return postgres.MigrateURL(ctx, c.Metadata)
}
