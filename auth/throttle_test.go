package auth

import (
	"errors"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	th := &Throttle{Failures: 3, Window: time.Minute, Block: time.Minute, Now: func() time.Time { return now }}
	wrong := errors.New("wrong secret")
	var te *ThrottleError
	for i := 1; i <= 3; i++ {
		if err := th.Failed("10.0.0.1:5555", wrong); err != wrong {
			t.Fatalf("failure %d: %v, want the authentication error", i, err)
		}
	}
	if err := th.Failed("10.0.0.1:6666", wrong); !errors.As(err, &te) || te.RetryAfter != time.Minute {
		t.Fatalf("failure 4 from the same address (another port): %v", err)
	}
	// Another address, even for the same key, is not affected.
	if err := th.Failed("10.0.0.2:1", wrong); err != wrong {
		t.Fatalf("another address: %v", err)
	}
	// Still refused during the block, with the time left.
	now = now.Add(20 * time.Second)
	if err := th.Failed("10.0.0.1:1", wrong); !errors.As(err, &te) || te.RetryAfter != 40*time.Second {
		t.Fatalf("during the block: %v", err)
	}
	// After it, the address starts again.
	now = now.Add(2 * time.Minute)
	if err := th.Failed("10.0.0.1:1", wrong); err != wrong {
		t.Fatalf("after the block: %v", err)
	}
	// Successes are never passed to it; a nil throttle passes errors on.
	var none *Throttle
	if err := none.Failed("10.0.0.1:1", wrong); err != wrong {
		t.Fatal(err)
	}
	if err := th.Failed("10.0.0.1:1", nil); err != nil {
		t.Fatal(err)
	}
}
