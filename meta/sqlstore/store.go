// Package sqlstore is berth's MetaStore over database/sql, shared by the
// SQLite and PostgreSQL backends: one set of queries, written in the SQL
// both speak, with a Dialect for what differs (placeholders, error codes,
// locking). The backends open the database and apply their migrations.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth"
)

// Dialect is what differs between the SQL databases berth runs on.
type Dialect struct {
	Name string
	// Numbered placeholders ($1, $2, …) instead of '?'.
	Numbered bool
	// IsUnique reports a unique-constraint violation.
	IsUnique func(error) bool
	// Isolation is the isolation level of Update transactions.
	Isolation sql.IsolationLevel
	// GroupCommit runs concurrent Updates in one transaction, each in its
	// own savepoint, so that one commit (one fsync) serves them all: for a
	// database with a single writer (SQLite).
	GroupCommit bool
	// How an Update whose context says berth.DeferSync skips waiting for
	// the disk: NoSync and Sync switch the writer connection before a
	// transaction begins (SQLite; GroupCommit only), NoSyncInTx is run
	// first inside the transaction (PostgreSQL). Empty: always durable.
	NoSync, Sync, NoSyncInTx string
	// SoleWriter: every write to the database goes through this Store (an
	// embedded database that one process opens), so manifest lookups may
	// be answered from memory between commits. GroupCommit only.
	SoleWriter bool
	// RowLocks: Updates run concurrently at READ COMMITTED (PostgreSQL),
	// so a read inside an Update locks the rows it returns (SELECT … FOR
	// SHARE or FOR UPDATE) and a write that finds a row a concurrent
	// Update inserted since this one read it absent has the Update run
	// again. Without it the database runs one writer at a time (SQLite)
	// and needs neither.
	RowLocks bool
	// IsFull reports a write refused because the disk is full.
	IsFull func(error) bool
	// Raced reports an error of a transaction that lost a race and may be
	// run again from the start (a serialization failure, a deadlock, a
	// foreign key whose row a concurrent transaction deleted).
	Raced func(error) bool
}

// maxBatch is the most Updates one group commit holds.
const maxBatch = 128

// Store is a MetaStore over two pools: writes go to writer, reads to
// reader (they may be the same pool).
type Store struct {
	writer, reader *sql.DB
	d              *Dialect
	// Prepared statements, per pool: parsing each query once, not per call.
	writeStmts, readStmts *stmtCache
	// With GroupCommit, Updates queue here; the one leading commits them.
	group *group
	// noSync: the writer connection is switched to NoSync (leader only).
	noSync bool
	// With SoleWriter, the manifests looked up since the last commit.
	cache *manifestCache
	// closers run at Close, after the pools are closed.
	closers []io.Closer
	// onRace, if set, is told of Updates that lost a race.
	onRace func(ctx context.Context, attempt int, gaveUp bool, err error)
}

// CloseWith has Close close c too, once the database is closed.
func (s *Store) CloseWith(c io.Closer) { s.closers = append(s.closers, c) }

// group is the queue of a group commit. The Update that finds no batch
// running leads: it commits itself and everything queued by then in one
// transaction, then hands the lead to the first Update queued behind, if
// any. A lone Update so commits on its own goroutine, with no handoff.
type group struct {
	mu      sync.Mutex
	queue   []*update
	leading bool // an Update leads, or the lead is being handed on
	closed  bool
	idle    sync.Cond // signalled when leading turns false
}

type update struct {
	ctx  context.Context
	fn   func(berth.MetaTx) error
	done chan error // its result, or errLead
}

// errLead, sent to a queued Update, tells it that it leads now.
var errLead = errors.New("sqlstore: lead the next batch")

// errClosed answers Updates that come after Close.
var errClosed = errors.New("sqlstore: the store is closed")

// panicked carries a panic out of an Update's function, so that it is
// raised again on the caller's goroutine, not the leader's.
type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprintf("update panicked: %v", p.value) }

// stmtCache keeps each query prepared once per pool. A query seen for
// the first time inside a transaction is prepared on that transaction,
// and on the pool once the transaction has ended: with SQLite's single
// writer connection, the pool has no other connection to prepare on.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[q]
	if s == nil {
		c.pending[q] = true
	}
	return s
}

// preparePending prepares, on the pool, the queries first seen since.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	qs := make([]string, 0, len(c.pending))
	for q := range c.pending {
		qs = append(qs, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range qs {
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue // it will be prepared per transaction
		}
		c.mu.Lock()
		if c.m[q] == nil {
			c.m[q] = s
		} else {
			s.Close()
		}
		c.mu.Unlock()
	}
}

// prepare prepares q on the pool now and keeps it.
func (c *stmtCache) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	s, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, q)
	if old := c.m[q]; old != nil {
		s.Close()
		return old, nil
	}
	c.m[q] = s
	return s, nil
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

var _ berth.MetaStore = (*Store)(nil)

// New returns a store over the pools.
func New(writer, reader *sql.DB, d *Dialect) *Store {
	s := &Store{writer: writer, reader: reader, d: d, writeStmts: newStmtCache(writer)}
	s.readStmts = s.writeStmts
	if reader != writer {
		s.readStmts = newStmtCache(reader)
	}
	if d.GroupCommit {
		s.group = &group{}
		s.group.idle.L = &s.group.mu
		if d.SoleWriter {
			s.cache = &manifestCache{}
		}
	}
	return s
}

// groupUpdate queues u and waits for its result, leading the batch it is
// in when no other Update does.
func (s *Store) groupUpdate(u *update) error {
	g := s.group
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	g.queue = append(g.queue, u)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		if err := <-u.done; err != errLead {
			return reraise(err)
		}
	}
	// u is first in the queue: only the leader takes from it, and it hands
	// the lead to the first Update left there.
	g.mu.Lock()
	n := min(len(g.queue), maxBatch)
	batch := slices.Clone(g.queue[:n])
	g.queue = slices.Delete(g.queue, 0, n)
	g.mu.Unlock()
	defer g.handOff()
	s.commitBatch(batch)
	return reraise(<-u.done)
}

// handOff passes the lead to the first Update queued, or ends it.
func (g *group) handOff() {
	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		g.mu.Unlock()
		next.done <- errLead
		return
	}
	g.leading = false
	g.idle.Broadcast()
	g.mu.Unlock()
}

// reraise panics again with what an Update's function panicked with.
func reraise(err error) error {
	if p, ok := err.(*panicked); ok {
		panic(fmt.Sprintf("%v\n\nin a group commit:\n%s", p.value, p.stack))
	}
	return err
}

// commitBatch runs batch in one transaction and sends each Update its
// result, whatever happens, a panic included.
func (s *Store) commitBatch(batch []*update) {
	ctx := context.Background()
	results := make([]error, len(batch))
	var err error
	ran := false
	defer func() {
		if !ran {
			err, results = errors.New("sqlstore: the group commit failed"), make([]error, len(batch))
		}
		for i, u := range batch {
			if err != nil && results[i] == nil {
				results[i] = err // the commit failed: nothing of the batch holds
			}
			u.done <- results[i]
		}
	}()
	if s.cache != nil {
		s.cache.writing()
		defer s.cache.writing() // before the results go out
	}
	err = s.switchSync(ctx, batch)
	if err == nil {
		err = s.runBatch(ctx, batch, results)
	}
	ran = true
}

// switchSync sets the writer connection's durability for a batch: it
// skips the disk only if every Update in it allows that.
func (s *Store) switchSync(ctx context.Context, batch []*update) error {
	if s.d.NoSync == "" {
		return nil
	}
	noSync := true
	for _, u := range batch {
		noSync = noSync && berth.SyncDeferred(u.ctx)
	}
	if noSync == s.noSync {
		return nil
	}
	q := s.d.Sync
	if noSync {
		q = s.d.NoSync
	}
	if _, err := s.writer.ExecContext(ctx, q); err != nil {
		if noSync {
			return nil // still durable: only slower
		}
		return fmt.Errorf("%s: %s: %w", s.d.Name, q, err)
	}
	s.noSync = noSync
	return nil
}

func (s *Store) runBatch(ctx context.Context, batch []*update, results []error) error {
	return s.run(ctx, s.writer, s.writeStmts, &sql.TxOptions{Isolation: s.d.Isolation}, func(mt berth.MetaTx) error {
		tx := mt.(*Tx)
		for i, u := range batch {
			if err := u.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			if _, err := tx.exec(ctx, "SAVEPOINT berth_update"); err != nil {
				return err
			}
			tx.absent = nil
			results[i] = runUpdate(u.fn, tx)
			if results[i] != nil {
				// Forget what the failed update cached: its rows are gone.
				tx.repoIDs = nil
				if _, err := tx.exec(ctx, "ROLLBACK TO berth_update"); err != nil {
					return err
				}
			}
			if _, err := tx.exec(ctx, "RELEASE berth_update"); err != nil {
				return err
			}
		}
		return nil
	})
}

// runUpdate runs one Update's function in a batch; a panic fails that
// Update alone and is raised again on its caller's goroutine.
func runUpdate(fn func(berth.MetaTx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicked{value: p, stack: debug.Stack()}
		}
	}()
	return fn(tx)
}

// Close implements berth.MetaStore.
func (s *Store) Close() error {
	if g := s.group; g != nil {
		g.mu.Lock()
		g.closed = true
		for g.leading {
			g.idle.Wait()
		}
		g.mu.Unlock()
	}
	errs := []error{s.writer.Close()}
	if s.reader != s.writer {
		errs = append(errs, s.reader.Close())
	}
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// Ping implements berth.MetaStore.
func (s *Store) Ping(ctx context.Context) error { return s.reader.PingContext(ctx) }

// View implements berth.MetaStore. With berth.ReadsApart, each statement
// runs on its own on a pooled connection: no BEGIN and COMMIT around it.
func (s *Store) View(ctx context.Context, fn func(berth.MetaTx) error) error {
	if berth.ReadingApart(ctx) {
		return fn(&Tx{db: s.reader, d: s.d, stmts: s.readStmts, cache: s.cache})
	}
	return s.run(ctx, s.reader, s.readStmts, &sql.TxOptions{ReadOnly: true}, fn)
}

// Update implements berth.MetaStore. A transaction that loses a race with
// a concurrent one (see Dialect.Raced, and errRaced) runs again from the
// start after a random pause that grows with each attempt, for as long as
// ctx lasts and at most maxRacing; then Update fails with EUnavailable,
// which clients are told to retry.
func (s *Store) Update(ctx context.Context, fn func(berth.MetaTx) error) error {
	if s.group != nil {
		return s.groupUpdate(&update{ctx: ctx, fn: fn, done: make(chan error, 1)})
	}
	var start time.Time
	pause := minRacePause
	for attempt := 1; ; attempt++ {
		err := s.run(ctx, s.writer, s.writeStmts, &sql.TxOptions{Isolation: s.d.Isolation}, fn)
		if err == nil || !s.raced(err) {
			return err
		}
		if start.IsZero() {
			start = time.Now()
		}
		// Full jitter: racers that collided once spread out.
		wait := time.Duration(rand.Int64N(int64(pause)) + 1)
		pause = min(2*pause, maxRacePause)
		if time.Since(start)+wait <= maxRacing {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
				s.observeRace(ctx, attempt, false, err)
				continue
			}
		}
		s.observeRace(ctx, attempt, true, err)
		return &berth.Error{Code: berth.EUnavailable, Err: err, Message: fmt.Sprintf(
			"The request lost %d races for the same data with concurrent requests and was not applied; retry it", attempt)}
	}
}

// How long Updates that keep losing races wait between attempts, and in all.
const (
	minRacePause = time.Millisecond
	maxRacePause = 100 * time.Millisecond
	maxRacing    = 20 * time.Second
)

// errRaced is a write that finds the store changed, since this Update read
// it, by a concurrent Update that has committed: the Update runs again.
var errRaced = errors.New("sqlstore: a concurrent update changed what this one read")

func (s *Store) raced(err error) bool {
	return errors.Is(err, errRaced) || (s.d.Raced != nil && s.d.Raced(err))
}

// ObserveRaces has fn told of every Update that lost a race: each time it
// runs again (gaveUp false) and when it gives up (gaveUp true). ctx is the
// Update's. Call it before the store is used.
func (s *Store) ObserveRaces(fn func(ctx context.Context, attempt int, gaveUp bool, err error)) {
	s.onRace = fn
}

func (s *Store) observeRace(ctx context.Context, attempt int, gaveUp bool, err error) {
	if s.onRace != nil {
		s.onRace(ctx, attempt, gaveUp, err)
	}
}

func (s *Store) run(ctx context.Context, db *sql.DB, stmts *stmtCache, opts *sql.TxOptions, fn func(berth.MetaTx) error) error {
	err := s.runTx(ctx, db, stmts, opts, fn)
	if err != nil && s.d.IsFull != nil && s.d.IsFull(err) {
		return &berth.Error{Code: berth.EInsufficientStorage, Message: berth.StorageFullMessage, Err: err}
	}
	return err
}

func (s *Store) runTx(ctx context.Context, db *sql.DB, stmts *stmtCache, opts *sql.TxOptions, fn func(berth.MetaTx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", s.d.Name, err)
	}
	defer stmts.preparePending(ctx)
	// Whatever ends fn, a panic included, the connection is given back;
	// after a commit this does nothing.
	defer tx.Rollback()
	if s.d.NoSyncInTx != "" && !opts.ReadOnly && berth.SyncDeferred(ctx) {
		if _, err := tx.ExecContext(ctx, s.d.NoSyncInTx); err != nil {
			return fmt.Errorf("%s: %s: %w", s.d.Name, s.d.NoSyncInTx, err)
		}
	}
	if err := fn(&Tx{tx: tx, d: s.d, stmts: stmts, write: !opts.ReadOnly}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", s.d.Name, err)
	}
	return nil
}

// Tx is one transaction, or with tx nil, statements run apart on db.
type Tx struct {
	tx    *sql.Tx
	db    *sql.DB
	d     *Dialect
	stmts *stmtCache
	// repoIDs caches name -> row id for this transaction's lifetime.
	repoIDs map[string]int64
	// cache, if set, answers manifest lookups of statements run apart.
	cache *manifestCache
	// write: the transaction is an Update's.
	write bool
	// absent holds the manifests and tags (absentKey) this Update read
	// and found missing: with RowLocks, a concurrent Update may insert
	// them before this one does.
	absent map[string]bool
	// ns is the stored-name prefix of the namespace the Tx serves ("" for
	// the default one; namespace.go).
	ns string
}

var _ berth.MetaTx = (*Tx)(nil)

// rebind turns '?' placeholders into the dialect's.
func (d *Dialect) rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// stmt returns q prepared, bound to this transaction.
func (t *Tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	q = t.d.rebind(q)
	s := t.stmts.get(q)
	switch {
	case t.tx == nil && s != nil:
		return s, nil
	case t.tx == nil:
		return t.stmts.prepare(ctx, q)
	case s != nil:
		return t.tx.StmtContext(ctx, s), nil
	}
	return t.tx.PrepareContext(ctx, q)
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.tx == nil {
		return nil, fmt.Errorf("%s: a View whose reads stand apart cannot write", t.d.Name)
	}
	s, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// execOne runs a statement that must change a row: ENotFound ("<what>
// <key> not found") when it changed none.
func (t *Tx) execOne(ctx context.Context, what, key, q string, args ...any) error {
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return berth.Errorf(berth.ENotFound, "%s %s not found", what, key)
	}
	return nil
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// row is a *sql.Row or the error of preparing it.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) row {
	s, err := t.stmt(ctx, q)
	if err != nil {
		return row{err: err}
	}
	return row{r: s.QueryRowContext(ctx, args...)}
}

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &berth.Error{Code: berth.ENotFound, Message: fmt.Sprintf(format, args...)}
	}
	return err
}

// repoID returns the row id of a repository; ENotFound.
func (t *Tx) repoID(ctx context.Context, name string) (int64, error) {
	name = t.stored(name)
	if id, ok := t.repoIDs[name]; ok {
		return id, nil
	}
	var id int64
	err := t.queryRow(ctx, `SELECT id FROM repositories WHERE name = ?`, name).Scan(&id)
	if err != nil {
		return 0, notFound(err, "repository %s not found", name)
	}
	if t.repoIDs == nil {
		t.repoIDs = map[string]int64{}
	}
	t.repoIDs[name] = id
	return id, nil
}

// Row locks a read inside an Update takes (Dialect.RowLocks).
const (
	// lockKeyShare keeps the rows from going (or their keys changing) until
	// the Update ends; other Updates may still change their other columns.
	lockKeyShare = "KEY SHARE"
	// lockShare keeps the rows as read: others may read and share-lock
	// them, not change them.
	lockShare = "SHARE"
	// lockUpdate is for a row this Update may change: others that want any
	// lock on it wait for this one to end.
	lockUpdate = "UPDATE"
)

// lock is the locking clause for a read of table (a name or an alias in
// the query) in an Update: " FOR <mode> OF <table>", or "" where none is
// needed (a View, or a database with one writer).
func (t *Tx) lock(mode, table string) string {
	if !t.write || !t.d.RowLocks {
		return ""
	}
	return " FOR " + mode + " OF " + table
}

// absentKey names a manifest (kind 'm') or tag (kind 't') for Tx.absent.
func absentKey(kind byte, repo, name string) string {
	// repo is the stored name: the keys of two namespaces differ.
	return string(kind) + repo + "\x00" + name
}

// readAbsent records, in an Update that races, that a read found nothing.
func (t *Tx) readAbsent(err error, kind byte, repo, name string) error {
	if t.write && t.d.RowLocks && berth.IsCode(err, berth.ENotFound) {
		if t.absent == nil {
			t.absent = map[string]bool{}
		}
		t.absent[absentKey(kind, t.stored(repo), name)] = true
	}
	return err
}

// wasAbsent reports whether this Update read the manifest or tag as missing.
func (t *Tx) wasAbsent(kind byte, repo, name string) bool {
	return t.absent[absentKey(kind, t.stored(repo), name)]
}

// forgetRepo drops a cached id when its repository goes.
func (t *Tx) forgetRepo(name string) { delete(t.repoIDs, t.stored(name)) }

// Migrate applies, in order, every migration in dir of migrations (files
// named NNNN_name.sql) that the database has not recorded yet, each in its
// own transaction. Callers serialise concurrent migrators (an advisory
// lock on PostgreSQL; SQLite's single writer).
func Migrate(ctx context.Context, db *sql.DB, d *Dialect, migrations fs.FS, dir string) (applied []string, err error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("%s: migrations table: %w", d.Name, err)
	}
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return applied, fmt.Errorf("migration %s: the name must start with a version number", name)
		}
		var one int
		err = db.QueryRowContext(ctx, d.rebind(`SELECT 1 FROM schema_migrations WHERE version = ?`), v).Scan(&one)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return applied, err
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, name))
		if err != nil {
			return applied, err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return applied, err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("%s: migration %s: %w", d.Name, name, err)
		}
		if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), v, name, time.Now().Unix()); err != nil {
			tx.Rollback()
			return applied, err
		}
		if err := tx.Commit(); err != nil {
			return applied, err
		}
		applied = append(applied, name)
	}
	return applied, nil
}
