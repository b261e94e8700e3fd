package metatest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/berth-registry/berth"
)

// racers is how many Updates each race runs at once.
const racers = 16

// race runs fn(i) for i in [0, n) at once, each in its own Update, and
// returns what each Update returned.
func race(s berth.MetaStore, n int, fn func(i int, tx berth.MetaTx) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Update(ctx, func(tx berth.MetaTx) error { return fn(i, tx) })
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

var errTaken = errors.New("taken")

// testRaceNewTag: Updates that each find a tag missing and create it. One
// creates it; every other one, whether or not the store ran it again,
// ends having seen it taken. None fails otherwise.
func testRaceNewTag(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		for i := 0; i < racers; i++ {
			if err := tx.PutManifest(ctx, mkManifest("r", i, nil, nil, "")); err != nil {
				return err
			}
		}
		return nil
	})
	for round := 0; round < 5; round++ {
		tag := fmt.Sprintf("shared-%d", round)
		errs := race(s, racers, func(i int, tx berth.MetaTx) error {
			_, err := tx.GetTag(ctx, "r", tag)
			switch {
			case err == nil:
				return errTaken
			case !berth.IsCode(err, berth.ENotFound):
				return err
			}
			return tx.PutTag(ctx, "r", tag, digest(i), t0)
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: racers %d and %d both created the tag", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, errTaken):
				t.Fatalf("round %d: racer %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody created the tag", round)
		}
		view(t, s, func(tx berth.MetaTx) error {
			if d, err := tx.GetTag(ctx, "r", tag); err != nil || d != digest(winner) {
				t.Fatalf("round %d: the tag is %q (%v), want the winner's %s", round, d, err, digest(winner))
			}
			return nil
		})
	}
}

// testRaceNewManifest: Updates that each find one manifest missing and
// insert it. Exactly one inserts it; the others end having found it.
func testRaceNewManifest(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		return storeBlob(tx, "r", digest(900), 1)
	})
	for round := 0; round < 5; round++ {
		inserted := make([]bool, racers)
		errs := race(s, racers, func(i int, tx berth.MetaTx) error {
			inserted[i] = false // a rerun starts again
			_, err := tx.LockManifest(ctx, "r", digest(round))
			switch {
			case err == nil:
				return nil
			case !berth.IsCode(err, berth.ENotFound):
				return err
			}
			if err := tx.PutManifest(ctx, mkManifest("r", round, []string{digest(900)}, nil, "")); err != nil {
				return err
			}
			inserted[i] = true
			return nil
		})
		n := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: racer %d: %v", round, i, err)
			}
			if inserted[i] {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("round %d: %d racers inserted the manifest", round, n)
		}
	}
}

// testRaceReferenceDelete: a push that references a blob races a delete
// that removes the blob unless something references it. Either may win,
// never both: no manifest may reference a blob the repository lacks.
func testRaceReferenceDelete(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("r")) })
	errReferenced := errors.New("referenced")
	for round := 0; round < 20; round++ {
		b := digest(1000 + round)
		update(t, s, func(tx berth.MetaTx) error { return storeBlob(tx, "r", b, 1) })
		errs := race(s, 2, func(i int, tx berth.MetaTx) error {
			if i == 0 {
				if _, err := tx.GetBlob(ctx, "r", b); err != nil {
					return err
				}
				return tx.PutManifest(ctx, mkManifest("r", round, []string{b}, nil, ""))
			}
			if _, err := tx.LockBlob(ctx, "r", b); err != nil {
				return err
			}
			used, err := tx.BlobReferenced(ctx, "r", b)
			if err != nil || used {
				return errors.Join(err, errReferenced)
			}
			return tx.DeleteBlob(ctx, "r", b)
		})
		pushed, deleted := errs[0] == nil, errs[1] == nil
		switch {
		case pushed && deleted:
			t.Fatalf("round %d: the blob went while a manifest came to reference it", round)
		case !pushed && !berth.IsCode(errs[0], berth.ENotFound):
			t.Fatalf("round %d: push: %v", round, errs[0])
		case !deleted && !errors.Is(errs[1], errReferenced):
			t.Fatalf("round %d: delete: %v", round, errs[1])
		case !pushed && !deleted:
			t.Fatalf("round %d: neither won", round)
		}
	}
}

// testRaceEmptyDelete: a push into a repository races a delete of the
// repository that holds only when it is empty. Never both.
func testRaceEmptyDelete(t *testing.T, s berth.MetaStore) {
	errNotEmpty := errors.New("not empty")
	for round := 0; round < 20; round++ {
		name := fmt.Sprintf("r%d", round)
		update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo(name)) })
		errs := race(s, 2, func(i int, tx berth.MetaTx) error {
			if i == 0 {
				if _, err := tx.GetRepository(ctx, name); err != nil {
					return err
				}
				return tx.PutManifest(ctx, mkManifest(name, round, nil, nil, ""))
			}
			if _, err := tx.LockRepository(ctx, name); err != nil {
				return err
			}
			n, err := tx.CountManifests(ctx, name)
			if err != nil || n > 0 {
				return errors.Join(err, errNotEmpty)
			}
			return tx.DeleteRepository(ctx, name)
		})
		pushed, deleted := errs[0] == nil, errs[1] == nil
		switch {
		case pushed && deleted:
			t.Fatalf("round %d: an empty repository's delete took an image pushed into it", round)
		case !pushed && !berth.IsCode(errs[0], berth.ENotFound):
			t.Fatalf("round %d: push: %v", round, errs[0])
		case !deleted && !errors.Is(errs[1], errNotEmpty):
			t.Fatalf("round %d: delete: %v", round, errs[1])
		}
	}
}

// testRaceTagDelete: an Update that moves a tag races one that deletes the
// image the tag points at (and with it the tags that point at it). Either
// order ends with the tag on the new image: moved before the delete, or
// created again after it.
func testRaceTagDelete(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("r")) })
	for round := 0; round < 20; round++ {
		old, next := digest(2*round), digest(2*round+1)
		tag := fmt.Sprintf("t%d", round)
		update(t, s, func(tx berth.MetaTx) error {
			for _, i := range []int{2 * round, 2*round + 1} {
				if err := tx.PutManifest(ctx, mkManifest("r", i, nil, nil, "")); err != nil {
					return err
				}
			}
			return tx.PutTag(ctx, "r", tag, old, t0)
		})
		errs := race(s, 2, func(i int, tx berth.MetaTx) error {
			if i == 0 {
				if _, err := tx.GetTag(ctx, "r", tag); err != nil && !berth.IsCode(err, berth.ENotFound) {
					return err
				}
				if _, err := tx.LockManifest(ctx, "r", next); err != nil {
					return err
				}
				return tx.PutTag(ctx, "r", tag, next, t0)
			}
			if _, err := tx.LockManifest(ctx, "r", old); err != nil {
				return err
			}
			return tx.DeleteManifest(ctx, "r", old)
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: racer %d: %v", round, i, err)
			}
		}
		view(t, s, func(tx berth.MetaTx) error {
			if d, err := tx.GetTag(ctx, "r", tag); err != nil || d != next {
				t.Fatalf("round %d: the tag is %q (%v), want %s", round, d, err, next)
			}
			return nil
		})
	}
}
