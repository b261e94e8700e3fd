package auth

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// Throttle slows down guessing: a client address that fails to
// authenticate too often in a window is refused, for a while, with a
// retryable error instead of the authentication error. It is keyed by
// client address alone, never by access key: an attacker elsewhere cannot
// lock a key's owner out. A request that authenticates is never refused,
// whatever its address has done, so a legitimate client behind the same
// address (a NAT) keeps working.
type Throttle struct {
	// Failures allowed per Window before an address is refused for Block.
	Failures int
	Window   time.Duration
	Block    time.Duration
	// Now returns the current time; time.Now if nil.
	Now func() time.Time

	mu    sync.Mutex
	addrs map[string]*failures
}

type failures struct {
	n            int
	since, until time.Time
}

// maxTracked bounds the addresses remembered: past it, the table starts
// again (a flood of addresses costs a bounded map, and forgets).
const maxTracked = 100_000

// DefaultThrottle allows 20 failures a minute per address, then refuses
// that address's failures for a minute.
func DefaultThrottle() *Throttle {
	return &Throttle{Failures: 20, Window: time.Minute, Block: time.Minute}
}

// SetFailures changes the failures allowed per Window (a reload).
func (t *Throttle) SetFailures(n int) {
	t.mu.Lock()
	t.Failures = n
	t.mu.Unlock()
}

// ThrottleError is a failed authentication from an address that failed
// too often: the client should wait RetryAfter.
type ThrottleError struct{ RetryAfter time.Duration }

func (e *ThrottleError) Error() string {
	return fmt.Sprintf("Too many failed authentications from this address; retry after %d seconds", int(e.RetryAfter.Seconds()+0.5))
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Failed records a failed authentication from remote (an address as in
// http.Request.RemoteAddr) and returns err, or a *ThrottleError when the
// address is over its allowance. A nil Throttle returns err.
func (t *Throttle) Failed(remote string, err error) error {
	if t == nil || err == nil {
		return err
	}
	host, _, splitErr := net.SplitHostPort(remote)
	if splitErr != nil {
		host = remote
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.addrs == nil || len(t.addrs) >= maxTracked {
		t.addrs = map[string]*failures{}
	}
	f := t.addrs[host]
	if f == nil || now.Sub(f.since) > t.Window && now.After(f.until) {
		f = &failures{since: now}
		t.addrs[host] = f
	}
	f.n++
	if now.Before(f.until) {
		return &ThrottleError{RetryAfter: f.until.Sub(now)}
	}
	if f.n > t.Failures {
		f.until = now.Add(t.Block)
		return &ThrottleError{RetryAfter: t.Block}
	}
	return err
}
