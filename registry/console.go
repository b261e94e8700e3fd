package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/berth-registry/berth"
)

// The console's sessions and the figures only the console asks for. A
// session is a row of the metadata store, so that any replica serves a
// browser signed in on another, and signing out or an expiry ends it
// everywhere at once.

// Console session defaults: idle time and lifetime.
const (
	DefaultConsoleIdle     = 30 * time.Minute
	DefaultConsoleLifetime = 12 * time.Hour
	// consoleTouch is how stale Seen may grow before a request records
	// that the session is in use: a write a minute, not one a request.
	consoleTouch = time.Minute
)

// sessionID is what a store keeps of a session token.
func sessionID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// consoleIdle is how long an unused session lives.
func (r *Registry) consoleIdle() time.Duration {
	if r.consoleIdleTime > 0 {
		return r.consoleIdleTime
	}
	return DefaultConsoleIdle
}

// StartConsoleSession begins a console session for the principal of an
// access key the door has verified, and returns its token, which only
// the browser keeps.
func (r *Registry) StartConsoleSession(ctx context.Context, principal, role, keyID string) (string, *berth.ConsoleSession, error) {
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	now := r.nowUTC()
	s := &berth.ConsoleSession{ID: sessionID(token), Principal: principal, Role: role, KeyID: keyID,
		Created: now, Seen: now, Expires: now.Add(DefaultConsoleLifetime)}
	if err := r.meta.Update(ctx, func(tx berth.MetaTx) error { return tx.PutConsoleSession(ctx, s) }); err != nil {
		return "", nil, err
	}
	r.audit(ctx, "console sign-in", slog.String("principal", principal), slog.String("key", keyID))
	return token, s, nil
}

// ConsoleSession returns the session of a token, and records its use;
// EUnauthenticated if there is none or it has ended (idle too long, or
// past its lifetime).
func (r *Registry) ConsoleSession(ctx context.Context, token string) (*berth.ConsoleSession, error) {
	ended := berth.Errorf(berth.EUnauthenticated, "Your console session has ended; sign in again")
	if token == "" || strings.ContainsAny(token, " ;,") {
		return nil, ended
	}
	id := sessionID(token)
	var s *berth.ConsoleSession
	err := r.meta.View(berth.ReadsApart(ctx), func(tx berth.MetaTx) (err error) {
		s, err = tx.GetConsoleSession(ctx, id)
		return err
	})
	if berth.IsCode(err, berth.ENotFound) {
		return nil, ended
	}
	if err != nil {
		return nil, err
	}
	now := r.nowUTC()
	if !now.Before(s.Expires) || now.Sub(s.Seen) >= r.consoleIdle() {
		return nil, ended
	}
	if now.Sub(s.Seen) >= consoleTouch {
		s.Seen = now
		// Losing this write in a crash shortens an idle session by a
		// minute at most: it need not wait for the disk.
		if err := r.meta.Update(berth.DeferSync(ctx), func(tx berth.MetaTx) error { return tx.PutConsoleSession(ctx, s) }); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// EndConsoleSession signs a session out; ending one that has already
// ended is not an error.
func (r *Registry) EndConsoleSession(ctx context.Context, token string) error {
	err := r.meta.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteConsoleSession(ctx, sessionID(token)) })
	if berth.IsCode(err, berth.ENotFound) {
		return nil
	}
	return err
}

// expireConsoleSessions forgets ended sessions (they sign no one in
// already: this only keeps the table small).
func (r *Registry) expireConsoleSessions(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
			now := r.nowUTC()
			n, err = tx.DeleteConsoleSessionsBefore(ctx, now.Add(-r.consoleIdle()), now, gcBatch)
			return err
		})
		total += n
		if err != nil || n < gcBatch {
			return total, err
		}
	}
}

// RepositoryUsage returns, for each named repository that exists, its
// image count and the bytes it holds. The caller has authorized the
// listing the names come from.
func (r *Registry) RepositoryUsage(ctx context.Context, names []string) (map[string]berth.RepositoryUsage, error) {
	var out map[string]berth.RepositoryUsage
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		out, err = tx.RepositoryUsage(ctx, names)
		return err
	})
	return out, err
}

// BrowseRepositories returns up to limit repositories whose names begin
// with prefix, by name, after the name after, and the name to continue
// after ("" at the end): DescribeRepositories' listing, narrowed.
func (r *Registry) BrowseRepositories(ctx context.Context, prefix, after string, limit int) ([]berth.Repository, string, error) {
	if limit < 1 || limit > 1000 {
		return nil, "", invalidParam("maxResults", "Member must have value between 1 and 1000")
	}
	if !nameChars(after) {
		return nil, "", invalidParam("after", "must be a repository name, as the previous page gave it")
	}
	if !nameChars(prefix) {
		return nil, "", nil // no name has such characters
	}
	if lo := beforePrefix(prefix); after < lo {
		after = lo
	}
	var out []berth.Repository
	var next string
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		out, next, err = tx.ListRepositories(ctx, berth.Page{After: after, Limit: limit})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	for i, repo := range out {
		if !strings.HasPrefix(repo.Name, prefix) {
			return out[:i], "", nil
		}
	}
	return out, next, nil
}

// nameChars reports whether s has only the characters of repository
// names (which also keeps what reaches the store valid UTF-8).
func nameChars(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '/' || r == '-')
	})
}

// beforePrefix is a string that sorts after every repository name below
// prefix and before every name that begins with it: names are made of
// [a-z0-9._/-], all below '~'.
func beforePrefix(prefix string) string {
	if prefix == "" {
		return ""
	}
	last := prefix[len(prefix)-1]
	return prefix[:len(prefix)-1] + string(last-1) + "~"
}
