package sqlstore

import (
	"sync"
	"sync/atomic"

	"github.com/berth-registry/berth"
)

// manifestCache answers repeated manifest lookups (by tag or by digest)
// from memory, for a store that every write to its database goes through
// (Dialect.SoleWriter). It holds answers of one generation of the data:
// each group commit starts a new generation, and the cache forgets the
// answers of the old one.
//
// The generation is odd while a batch commits. An answer is kept only if
// the generation was the same even number before and after its query, so
// no commit overlapped it; it is given out only while the generation
// stays that number, that is while no commit has begun since. A lookup
// after a commit returned therefore sees that commit, as a query would.
type manifestCache struct {
	gen atomic.Uint64

	mu    sync.Mutex
	at    uint64 // the generation the entries belong to
	m     map[cacheKey]*berth.Manifest
	bytes int
}

// The cache's bounds: past either, it starts over.
const (
	cacheEntries = 1024
	cacheBytes   = 4 << 20
)

type cacheKey struct {
	repo, ref string
	tag       bool // ref is a tag, not a digest
}

// writing brackets a commit: call it before the transaction begins and
// again once it has ended, committed or not.
func (c *manifestCache) writing() { c.gen.Add(1) }

// generation returns the generation to look up and store answers under,
// and false while a commit is running (nothing may be cached then).
func (c *manifestCache) generation() (uint64, bool) {
	g := c.gen.Load()
	return g, g%2 == 0
}

func (c *manifestCache) get(g uint64, k cacheKey) *berth.Manifest {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at != g {
		return nil
	}
	m := c.m[k]
	if m == nil {
		return nil
	}
	cp := *m // callers get their own Manifest; its Bytes are shared, read-only
	return &cp
}

// put keeps m, the answer a query gave while the generation was g, if the
// generation is still g now that the query is over.
func (c *manifestCache) put(g uint64, k cacheKey, m *berth.Manifest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != g {
		return
	}
	if c.m == nil || c.at != g || len(c.m) >= cacheEntries || c.bytes+len(m.Bytes) > cacheBytes {
		c.at, c.m, c.bytes = g, make(map[cacheKey]*berth.Manifest), 0
	}
	cp := *m
	c.m[k] = &cp
	c.bytes += len(m.Bytes)
}

// cachedManifest answers k from the cache when t reads apart on a store
// with one, and otherwise runs query, keeping its answer when it may.
func (t *Tx) cachedManifest(k cacheKey, query func() (*berth.Manifest, error)) (*berth.Manifest, error) {
	c := t.cache
	if c == nil || t.tx != nil {
		return query()
	}
	g, ok := c.generation()
	if ok {
		if m := c.get(g, k); m != nil {
			return m, nil
		}
	}
	m, err := query()
	if err == nil && ok {
		c.put(g, k, m)
	}
	return m, err
}
