// Package registry is berth's core: every rule of the registry lives here,
// once, whichever front end (the ECR API or the OCI API) a request came
// through. Front ends decode, call a method of Registry, and encode.
package registry

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-registry/berth"
)

// Registry is one registry (an AWS account's registry in one region) over
// a metadata store and a blob store.
type Registry struct {
	meta  berth.MetaStore
	blobs berth.BlobStore
	id    string
	now   func() time.Time
	log   *slog.Logger
	gc    GCConfig
	// restoreTime is how long a restore from the archive takes.
	restoreTime time.Duration

	// background counts work that outlives its request (previews).
	background sync.WaitGroup

	// uploadMu serialises writes to one upload on this process; the
	// metadata's compare-and-set on Size catches writers elsewhere.
	uploadMu sync.Map // upload id -> *sync.Mutex

	region string
	public bool
	// iamRefreshNanos, when set, replaces iamRefresh (SetIAMRefresh).
	iamRefreshNanos atomic.Int64
	authz           *authzCache
	iamRefresh      time.Duration
	sealer          *sealer
	onDeny          func(action string)
	onAudit         func(event string)
	// consoleIdleTime is how long an unused console session lives.
	consoleIdleTime time.Duration
}

// Config configures a Registry.
type Config struct {
	// ID is the 12-digit registry (account) id.
	ID string
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// Log receives diagnostics; slog.Default() if nil.
	Log *slog.Logger
	// GC configures garbage collection; zero fields take the defaults.
	GC GCConfig
	// RestoreTime is how long a restore from the archive storage class
	// takes (ACTIVATING, then ACTIVE); 0 is DefaultRestoreTime, negative
	// is at once.
	RestoreTime time.Duration
	// Region is the registry's region, as its ARNs spell it.
	Region string
	// SecretsKey seals the secret access keys kept in the metadata store
	// (SecretsKeySize bytes); without one, berth keeps no keys there and
	// has only the root credential it is given.
	SecretsKey []byte
	// IAMRefresh is how often to look for IAM changes made elsewhere;
	// 0 is DefaultIAMRefresh.
	IAMRefresh time.Duration
	// Public makes the registry the account's public one (ECR Public):
	// its ARNs and actions are ecr-public's. It is meant for the store's
	// "public" namespace (berth.Namespaces).
	Public bool
	// DecisionsOf, if set, is the registry whose cache of IAM data and
	// decisions this one shares, so that a change through either applies
	// to both at once.
	DecisionsOf *Registry
	// OnDeny, if set, hears of every denied request, OnAudit of every
	// audit event (for metrics).
	OnDeny  func(action string)
	OnAudit func(event string)
	// ConsoleIdle is how long an unused console session lives; 0 is
	// DefaultConsoleIdle.
	ConsoleIdle time.Duration
}

// New returns a registry over the two stores.
func New(meta berth.MetaStore, blobs berth.BlobStore, c Config) *Registry {
	r := &Registry{meta: meta, blobs: blobs, id: c.ID, now: c.Now, log: c.Log, gc: c.GC.withDefaults(), restoreTime: c.RestoreTime}
	r.region, r.iamRefresh, r.onDeny, r.onAudit, r.public = c.Region, c.IAMRefresh, c.OnDeny, c.OnAudit, c.Public
	r.authz = &authzCache{}
	r.consoleIdleTime = c.ConsoleIdle
	if c.DecisionsOf != nil {
		r.authz = c.DecisionsOf.authz
	}
	if r.region == "" {
		r.region = "us-east-1"
	}
	if r.iamRefresh == 0 {
		r.iamRefresh = DefaultIAMRefresh
	}
	if c.SecretsKey != nil {
		// The server checks the key's size before it builds a registry.
		r.sealer, _ = newSealer(c.SecretsKey)
	}
	if r.restoreTime == 0 {
		r.restoreTime = DefaultRestoreTime
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r
}

// ID returns the registry id.
func (r *Registry) ID() string { return r.id }

// Ready reports whether the stores answer.
func (r *Registry) Ready(ctx context.Context) error {
	if err := r.meta.Ping(ctx); err != nil {
		return fmt.Errorf("metadata store: %w", err)
	}
	if p, ok := r.blobs.(interface{ Ping(context.Context) error }); ok {
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("blob store: %w", err)
		}
	}
	return nil
}

func (r *Registry) nowUTC() time.Time { return r.now().UTC() }

// Now is the registry's clock, for doors that show times relative to it.
func (r *Registry) Now() time.Time { return r.nowUTC() }

// repoNotFound is ECR's RepositoryNotFoundException text.
func (r *Registry) repoNotFound(name string) error {
	return berth.Errorf(berth.ERepositoryNotFound, "The repository with name '%s' does not exist in the registry with id '%s'", name, r.id)
}

// getRepo reads a repository inside tx, translating ENotFound.
func (r *Registry) getRepo(ctx context.Context, tx berth.MetaTx, name string) (*berth.Repository, error) {
	repo, err := tx.GetRepository(ctx, name)
	if berth.IsCode(err, berth.ENotFound) {
		return nil, r.repoNotFound(name)
	}
	return repo, err
}

// lockRepo is getRepo for a repository the Update will change or delete.
func (r *Registry) lockRepo(ctx context.Context, tx berth.MetaTx, name string) (*berth.Repository, error) {
	repo, err := tx.LockRepository(ctx, name)
	if berth.IsCode(err, berth.ENotFound) {
		return nil, r.repoNotFound(name)
	}
	return repo, err
}

// Token kinds keep a token of one list from being replayed on another.
const (
	tokenRepositories = "r"
	tokenImages       = "i"
	tokenImageRefs    = "l"
	tokenTemplates    = "t"
	tokenReferrers    = "f"
	tokenPrincipals   = "u"
	tokenPolicies     = "p"
	tokenImageTags    = "g"
)

// encodeToken turns a store position into an opaque nextToken.
func encodeToken(kind, repo, after string) string {
	if after == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("1\x00" + kind + "\x00" + repo + "\x00" + after))
}

// decodeToken checks and opens a nextToken.
func decodeToken(kind, repo, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	bad := berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'nextToken' failed to satisfy constraint: 'must be the nextToken of an earlier call of the same operation on the same repository'")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", bad
	}
	parts := strings.SplitN(string(raw), "\x00", 4)
	if len(parts) != 4 || parts[0] != "1" || parts[1] != kind || parts[2] != repo || parts[3] == "" {
		return "", bad
	}
	return parts[3], nil
}

// pageSize validates maxResults (nil means the default of 100).
func pageSize(maxResults *int) (int, error) {
	switch {
	case maxResults == nil:
		return 100, nil
	case *maxResults < 1 || *maxResults > 1000:
		return 0, berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000', got %d", *maxResults)
	}
	return *maxResults, nil
}

func (r *Registry) lockUpload(id string) func() {
	v, _ := r.uploadMu.LoadOrStore(id, new(sync.Mutex))
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*berth.Error); ok {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// pullRecordInterval is how stale lastRecordedPullTime may get; ECR
// promises a refresh at least every 24 hours.
const pullRecordInterval = time.Hour

// SetIAMRefresh changes how often the registry looks for IAM changes made
// elsewhere (a reload of the configuration).
func (r *Registry) SetIAMRefresh(d time.Duration) {
	if d > 0 {
		r.iamRefreshNanos.Store(int64(d))
	}
}

func (r *Registry) iamRefreshEvery() time.Duration {
	if d := r.iamRefreshNanos.Load(); d > 0 {
		return time.Duration(d)
	}
	return r.iamRefresh
}
