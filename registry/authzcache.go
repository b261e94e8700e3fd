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

	identity map[string]policySet
	repos    map[string]policySet
	registry *registryPolicy
	keys     map[string]Key
	// allowed are decisions that allowed, for requests whose policies
	// depend on nothing but what the key holds (policySet.stable).
	allowed map[decisionKey]struct{}
}

// policySet is a list of policies, and whether their decisions depend
// only on the request's fixed keys, so that they may be kept.
type policySet struct {
	list   []policy.Named
	stable bool
}

func newPolicySet(list []policy.Named) policySet {
	ps := policySet{list: list, stable: true}
	for _, p := range list {
		ps.stable = ps.stable && p.Policy.DependsOnly(fixedKey)
	}
	return ps
}

// fixedKey reports whether a condition key has one value for all the
// requests of one decisionKey: who asks, from where, over what.
func fixedKey(key string) bool {
	switch strings.ToLower(key) {
	case "aws:sourceip", "aws:securetransport", "aws:principalarn", "aws:principalaccount", "aws:principaltype",
		"aws:username", "aws:userid", "aws:requestedregion", "aws:resourceaccount":
		return true
	}
	return false
}

// decisionKey is what a kept decision was made for.
type decisionKey struct {
	principal, role, action, repo, resource, ip string
	all, secure                                 bool
}

// maxDecisions bounds the kept decisions; past it, they start over.
const maxDecisions = 1 << 16

type registryPolicy struct {
	policy *policy.Named // nil: none
	scope  string
	stable bool
}

func (c *authzCache) resetLocked() {
	c.epoch++
	c.identity = map[string]policySet{}
	c.repos = map[string]policySet{}
	c.registry = nil
	c.keys = map[string]Key{}
	c.allowed = map[decisionKey]struct{}{}
}

// iamChanged forgets everything at once: this registry changed IAM data.
func (r *Registry) iamChanged() {
	c := r.authz
	c.mu.Lock()
	c.resetLocked()
	c.checked = time.Time{}
	c.mu.Unlock()
}

// authzEpoch makes sure the cache belongs to the store's current IAM
// generation, reading it at most every refresh, and returns the epoch
// entries loaded now must be stored under.
func (r *Registry) authzEpoch(ctx context.Context) (uint64, error) {
	c := r.authz
	now := time.Now()
	c.mu.RLock()
	epoch, fresh := c.epoch, c.identity != nil && now.Sub(c.checked) < r.iamRefreshEvery()
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
	c := r.authz
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
func (r *Registry) identityPolicies(ctx context.Context, p policy.Principal) (policySet, error) {
	holder := p.ARN
	switch p.Kind {
	case policy.User:
	case policy.AssumedRole:
		holder = p.RoleARN
	default:
		return policySet{stable: true}, nil
	}
	return cached(r, ctx, func(c *authzCache) map[string]policySet { return c.identity }, holder, func() (policySet, error) {
		var docs []berth.PolicyDocument
		err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
			docs, err = tx.PrincipalPolicies(ctx, holder)
			return err
		})
		if err != nil {
			return policySet{}, err
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
		return newPolicySet(out), nil
	})
}

// resourcePolicies returns the resource-based policies that apply to a:
// the repository's, and the registry policy where its scope covers the
// action.
func (r *Registry) resourcePolicies(ctx context.Context, a Access) (policySet, error) {
	out := policySet{stable: true}
	if a.Repository != "" {
		rp, err := cached(r, ctx, func(c *authzCache) map[string]policySet { return c.repos }, r.cacheName(a.Repository), func() (policySet, error) {
			var text string
			err := r.meta.View(berth.ReadsApart(ctx), func(tx berth.MetaTx) (err error) {
				text, err = tx.GetRepositoryPolicy(ctx, a.Repository)
				return err
			})
			if berth.IsCode(err, berth.ENotFound) || (err == nil && text == "") {
				return policySet{stable: true}, nil
			}
			if err != nil {
				return policySet{}, err
			}
			return newPolicySet(r.parseStored(text, "repository policy of "+a.Repository)), nil
		})
		if err != nil {
			return policySet{}, err
		}
		out = rp
	}
	if r.public {
		return out, nil // ECR Public has no registry policy
	}
	reg, err := r.registryPolicy(ctx)
	if err != nil {
		return policySet{}, err
	}
	if reg.policy != nil && (reg.scope != "V1" || v1Actions[strings.ToLower(a.Action)]) {
		out = policySet{list: append(out.list[:len(out.list):len(out.list)], *reg.policy), stable: out.stable && reg.stable}
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
	c := r.authz
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
	rp.stable = true
	if text != "" {
		if ps := r.parseStored(text, "registry policy"); len(ps) == 1 {
			rp.policy = &ps[0]
			rp.stable = ps[0].Policy.DependsOnly(fixedKey)
		}
	}
	c.mu.Lock()
	if c.epoch == epoch {
		c.registry = rp
	}
	c.mu.Unlock()
	return rp, nil
}

// allowedBefore reports whether a decision of k allowed in this epoch.
func (r *Registry) allowedBefore(ctx context.Context, k decisionKey) (uint64, bool, error) {
	epoch, err := r.authzEpoch(ctx)
	if err != nil {
		return 0, false, err
	}
	c := r.authz
	c.mu.RLock()
	_, ok := c.allowed[k]
	c.mu.RUnlock()
	return epoch, ok, nil
}

// keepAllowed keeps a decision that allowed, unless the epoch moved on.
func (r *Registry) keepAllowed(epoch uint64, k decisionKey) {
	c := r.authz
	c.mu.Lock()
	if c.epoch == epoch {
		if len(c.allowed) >= maxDecisions {
			c.allowed = map[decisionKey]struct{}{}
		}
		c.allowed[k] = struct{}{}
	}
	c.mu.Unlock()
}
