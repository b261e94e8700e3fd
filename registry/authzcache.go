package registry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/policy"
)

// Settings of the registry kept in the metadata store.
const (
	settingRegistryPolicy = "registry_policy"
	// SettingPolicyScope is the REGISTRY_POLICY_SCOPE account setting.
	settingPolicyScope = "REGISTRY_POLICY_SCOPE"
)

// DefaultIAMRefresh is how often a registry asks the store whether IAM
// data changed elsewhere (another replica, the berth command). Changes
// made through this registry apply to the next request at once.
const DefaultIAMRefresh = time.Second

// authzCache keeps what decisions need, parsed, for as long as the IAM
// generation of the store stays the same: identity policies by principal,
// repository policies by repository, the registry policy, and opened
// access keys. Every request would otherwise read them all.
type authzCache struct {
	mu sync.RWMutex
	// epoch counts resets: a load that began before one is not kept.
	epoch   uint64
	gen     int64
	checked time.Time

	identity map[string][]policy.Named
	repos    map[string][]policy.Named
	registry *registryPolicy
	keys     map[string]Key
}

type registryPolicy struct {
	policy *policy.Named // nil: none
	scope  string
}

func (c *authzCache) resetLocked() {
	c.epoch++
	c.identity = map[string][]policy.Named{}
	c.repos = map[string][]policy.Named{}
	c.registry = nil
	c.keys = map[string]Key{}
}

// iamChanged forgets everything at once: this registry changed IAM data.
func (r *Registry) iamChanged() {
	c := &r.authz
	c.mu.Lock()
	c.resetLocked()
	c.checked = time.Time{}
	c.mu.Unlock()
}

// authzEpoch makes sure the cache belongs to the store's current IAM
// generation, reading it at most every refresh, and returns the epoch
// entries loaded now must be stored under.
func (r *Registry) authzEpoch(ctx context.Context) (uint64, error) {
	c := &r.authz
	now := time.Now()
	c.mu.RLock()
	epoch, fresh := c.epoch, c.identity != nil && now.Sub(c.checked) < r.iamRefresh
	c.mu.RUnlock()
	if fresh {
		return epoch, nil
	}
	var gen int64
	err := r.meta.View(berth.ReadsApart(ctx), func(tx berth.MetaTx) (err error) {
		gen, err = tx.IAMGeneration(ctx)
		return err
	})
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.identity == nil || gen != c.gen {
		c.resetLocked()
		c.gen = gen
	}
	c.checked = now
	return c.epoch, nil
}

// cached returns m[key] from the cache of this epoch, or loads it and
// keeps it if no reset happened meanwhile.
func cached[T any](r *Registry, ctx context.Context, m func(*authzCache) map[string]T, key string, load func() (T, error)) (T, error) {
	epoch, err := r.authzEpoch(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	c := &r.authz
	c.mu.RLock()
	v, ok := m(c)[key]
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	if v, err = load(); err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.epoch == epoch {
		m(c)[key] = v
	}
	c.mu.Unlock()
	return v, nil
}

// identityPolicies returns the policies of a principal: a user's own, or
// for a role session the role's. The root and anonymous callers have none.
func (r *Registry) identityPolicies(ctx context.Context, p policy.Principal) ([]policy.Named, error) {
	holder := p.ARN
	switch p.Kind {
	case policy.User:
	case policy.AssumedRole:
		holder = p.RoleARN
	default:
		return nil, nil
	}
	return cached(r, ctx, func(c *authzCache) map[string][]policy.Named { return c.identity }, holder, func() ([]policy.Named, error) {
		var docs []berth.PolicyDocument
		err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
			docs, err = tx.PrincipalPolicies(ctx, holder)
			return err
		})
		if err != nil {
			return nil, err
		}
		out := make([]policy.Named, 0, len(docs))
		for _, d := range docs {
			text, name := d.Document, d.Name
			if d.Inline {
				name = holder + " inline policy " + d.Name
			} else if text == "" {
				m, ok := policy.ManagedByARN(d.Name)
				if !ok {
					continue // a customer managed policy deleted meanwhile
				}
				text = m.Document
			}
			pol, err := policy.Parse(text)
			if err != nil {
				// Stored policies were validated: one that no longer parses
				// grants nothing, and the operator hears of it.
				r.log.Error("a stored identity policy does not parse; it is ignored", "principal", holder, "policy", name, "err", err)
				continue
			}
			out = append(out, policy.Named{Name: name, Policy: pol})
		}
		return out, nil
	})
}

// resourcePolicies returns the resource-based policies that apply to a:
// the repository's, and the registry policy where its scope covers the
// action.
func (r *Registry) resourcePolicies(ctx context.Context, a Access) ([]policy.Named, error) {
	var out []policy.Named
	if a.Repository != "" {
		rp, err := cached(r, ctx, func(c *authzCache) map[string][]policy.Named { return c.repos }, a.Repository, func() ([]policy.Named, error) {
			var text string
			err := r.meta.View(berth.ReadsApart(ctx), func(tx berth.MetaTx) (err error) {
				text, err = tx.GetRepositoryPolicy(ctx, a.Repository)
				return err
			})
			if berth.IsCode(err, berth.ENotFound) || (err == nil && text == "") {
				return []policy.Named{}, nil
			}
			if err != nil {
				return nil, err
			}
			return r.parseStored(text, "repository policy of "+a.Repository), nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, rp...)
	}
	reg, err := r.registryPolicy(ctx)
	if err != nil {
		return nil, err
	}
	if reg.policy != nil && (reg.scope != "V1" || v1Actions[strings.ToLower(a.Action)]) {
		out = append(out, *reg.policy)
	}
	return out, nil
}

// v1Actions are the actions a registry policy of scope V1 governs.
var v1Actions = map[string]bool{"ecr:replicateimage": true, "ecr:batchimportupstreamimage": true, "ecr:createrepository": true}

func (r *Registry) parseStored(text, name string) []policy.Named {
	p, err := policy.Parse(text)
	if err != nil {
		r.log.Error("a stored resource policy does not parse; it is ignored", "policy", name, "err", err)
		return []policy.Named{}
	}
	return []policy.Named{{Name: name, Policy: p}}
}

func (r *Registry) registryPolicy(ctx context.Context) (*registryPolicy, error) {
	epoch, err := r.authzEpoch(ctx)
	if err != nil {
		return nil, err
	}
	c := &r.authz
	c.mu.RLock()
	rp := c.registry
	c.mu.RUnlock()
	if rp != nil {
		return rp, nil
	}
	rp = &registryPolicy{}
	var text string
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		if text, err = tx.GetSetting(ctx, settingRegistryPolicy); err != nil {
			return err
		}
		rp.scope, err = tx.GetSetting(ctx, settingPolicyScope)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the registry policy: %w", err)
	}
	if text != "" {
		if ps := r.parseStored(text, "registry policy"); len(ps) == 1 {
			rp.policy = &ps[0]
		}
	}
	c.mu.Lock()
	if c.epoch == epoch {
		c.registry = rp
	}
	c.mu.Unlock()
	return rp, nil
}
