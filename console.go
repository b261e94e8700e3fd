package berth

import (
	"context"
	"time"
)

// ConsoleSession is a signed-in session of the web console. The cookie
// holds a random token; stores keep only its SHA-256 (ID), so a copy of
// the database signs no one in.
type ConsoleSession struct {
	ID        string // hex SHA-256 of the session token
	Principal string // the ARN the session acts as
	Role      string // the role, for a role session's key; else ""
	KeyID     string // the access key signed in with; the session ends with it
	Created   time.Time
	// Seen is when the session was last used, to a minute or so; a session
	// unused for the idle time, or older than its lifetime, has ended.
	Seen time.Time
	// Expires is when the session ends whatever its use (its lifetime).
	Expires time.Time
}

// RepositoryUsage is what a repository holds: its images (manifests) and
// the bytes of the blobs it holds.
type RepositoryUsage struct {
	Images int
	// Bytes counts each blob the repository holds once (blobs shared by
	// images are not counted twice); manifests, kept in the metadata
	// store, are not counted.
	Bytes int64
}

// ConsoleTx reads and writes console sessions, and the usage figures
// the console shows.
type ConsoleTx interface {
	// PutConsoleSession inserts or replaces s.
	PutConsoleSession(ctx context.Context, s *ConsoleSession) error
	// GetConsoleSession returns a session by ID; ENotFound.
	GetConsoleSession(ctx context.Context, id string) (*ConsoleSession, error)
	// DeleteConsoleSession deletes a session; ENotFound.
	DeleteConsoleSession(ctx context.Context, id string) error
	// DeleteConsoleSessionsBefore deletes up to limit sessions last seen
	// before seen or expiring at or before t, and returns how many it
	// deleted.
	DeleteConsoleSessionsBefore(ctx context.Context, seen, t time.Time, limit int) (int, error)
	// RepositoryUsage returns the usage of each named repository that
	// exists (a missing one is left out of the map).
	RepositoryUsage(ctx context.Context, repos []string) (map[string]RepositoryUsage, error)
}
