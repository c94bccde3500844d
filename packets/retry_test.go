package packets

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestRetryUnavailable: a cluster that does not answer yet (timeouts, no responders) is waited for;
// any other error returns at once; patience bounds the wait.
func TestRetryUnavailable(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := retryUnavailable(ctx, 10*time.Second, func() error {
		calls++
		switch calls {
		case 1:
			return nats.ErrTimeout
		case 2:
			return context.DeadlineExceeded
		case 3:
			return nats.ErrNoResponders
		}
		return nil
	})
	if err != nil || calls != 4 {
		t.Fatalf("transient failures then success: err %v after %d calls", err, calls)
	}
	calls = 0
	mismatch := errors.New("stream mismatch")
	if err := retryUnavailable(ctx, 10*time.Second, func() error { calls++; return mismatch }); !errors.Is(err, mismatch) || calls != 1 {
		t.Fatalf("a real error must not be retried: err %v after %d calls", err, calls)
	}
	start := time.Now()
	if err := retryUnavailable(ctx, time.Second, func() error { return nats.ErrTimeout }); !errors.Is(err, nats.ErrTimeout) || time.Since(start) > 3*time.Second {
		t.Fatalf("patience: err %v after %s", err, time.Since(start))
	}
}
