package registry

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/berth-registry/berth"
)

// A prefix search lists exactly the names that begin with the prefix, a
// page at a time, whatever characters border it.
func TestBrowseRepositories(t *testing.T) {
	meta, blobs := testStores(t)
	r := New(meta, blobs, Config{ID: "111122223333"})
	ctx := context.Background()
	names := []string{"aa", "aa-b", "aa.b", "aa/b", "aa/b/c", "aa0", "aa_b", "aab", "bb", "team", "team-x", "team/app", "team/app2", "team0", "teal", "zz"}
	for _, n := range names {
		if _, err := r.CreateRepository(ctx, CreateRepositoryInput{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	for _, prefix := range []string{"", "a", "aa", "aa/", "aa-", "team/", "team", "tea", "0", "zzz", "-"} {
		var want, got []string
		for _, n := range names {
			if len(n) >= len(prefix) && n[:len(prefix)] == prefix {
				want = append(want, n)
			}
		}
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(names) {
				t.Fatalf("prefix %q: the pages do not end", prefix)
			}
			page, next, err := r.BrowseRepositories(ctx, prefix, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				got = append(got, p.Name)
			}
			if next == "" {
				break
			}
			after = next
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("prefix %q: %v, want %v", prefix, got, want)
		}
	}
	if page, _, err := r.BrowseRepositories(ctx, "Té\xff", "", 10); err != nil || len(page) != 0 {
		t.Errorf("a prefix no name can have: %v %v", page, err)
	}
	if _, _, err := r.BrowseRepositories(ctx, "", "\xff", 10); !berth.IsCode(err, berth.EInvalidParameter) {
		t.Errorf("after not a name: %v", err)
	}
	if _, _, err := r.BrowseRepositories(ctx, "", "", 0); !berth.IsCode(err, berth.EInvalidParameter) {
		t.Errorf("limit 0: %v", err)
	}
}

// A console session ends when idle past its time, at its lifetime, and
// when signed out; its use is recorded at most once a minute.
func TestConsoleSession(t *testing.T) {
	meta, blobs := testStores(t)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	r := New(meta, blobs, Config{ID: "111122223333", Now: func() time.Time { return now }, ConsoleIdle: 10 * time.Minute})
	ctx := context.Background()
	token, s, err := r.StartConsoleSession(ctx, "arn:aws:iam::111122223333:root", "", "AKIAEXAMPLE")
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == token || len(token) < 40 {
		t.Fatalf("the store keeps the token itself, or it is short: %q", token)
	}
	// Used every 9 minutes, it lives on past the idle time...
	for range 5 {
		now = now.Add(9 * time.Minute)
		if _, err := r.ConsoleSession(ctx, token); err != nil {
			t.Fatalf("at %s: %v", now, err)
		}
	}
	// ...and ends after 10 idle minutes.
	now = now.Add(10 * time.Minute)
	if _, err := r.ConsoleSession(ctx, token); !berth.IsCode(err, berth.EUnauthenticated) {
		t.Fatalf("idle 10 minutes: %v", err)
	}
	// A session used all along ends at its lifetime.
	token, _, _ = r.StartConsoleSession(ctx, "arn:aws:iam::111122223333:root", "", "AKIAEXAMPLE")
	for end := now.Add(DefaultConsoleLifetime); now.Before(end.Add(-5 * time.Minute)); now = now.Add(5 * time.Minute) {
		if _, err := r.ConsoleSession(ctx, token); err != nil {
			t.Fatalf("in use at %s: %v", now, err)
		}
	}
	now = now.Add(5 * time.Minute)
	if _, err := r.ConsoleSession(ctx, token); !berth.IsCode(err, berth.EUnauthenticated) {
		t.Fatalf("past its lifetime: %v", err)
	}
	// Signing out ends it at once; twice is not an error.
	token, _, _ = r.StartConsoleSession(ctx, "arn:aws:iam::111122223333:root", "", "AKIAEXAMPLE")
	if err := r.EndConsoleSession(ctx, token); err != nil {
		t.Fatal(err)
	}
	if err := r.EndConsoleSession(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ConsoleSession(ctx, token); !berth.IsCode(err, berth.EUnauthenticated) {
		t.Fatalf("signed out: %v", err)
	}
	if _, err := r.ConsoleSession(ctx, "no such token"); !berth.IsCode(err, berth.EUnauthenticated) {
		t.Fatalf("a made-up token: %v", err)
	}
	// Garbage collection forgets the ended ones.
	rep, err := r.CollectGarbage(ctx, GCOptions{})
	if err != nil || rep.SessionsEnded != 2 {
		t.Fatalf("the sweep forgot %d sessions (%v), want 2", rep.SessionsEnded, err)
	}
}
