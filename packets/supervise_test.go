package packets_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/packets"
)

// TestSupervise: a part that fails, or returns, is restarted after the backoff and each failure is
// reported with the part's name; Supervise returns nil once ctx ends, whatever the part says then.
func TestSupervise(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var failures []string
	runs := 0
	start := time.Now()
	err := packets.Supervise(ctx, zerolog.Nop(), "scanner seoul-1", func(ctx context.Context) error {
		runs++
		switch runs {
		case 1:
			return errors.New("node down")
		case 2:
			return nil // a part that returns is restarted too
		}
		cancel()
		return errors.New("failing as ctx ends")
	}, func(part string, err error) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, part+": "+err.Error())
	})
	if err != nil || runs != 3 {
		t.Fatalf("Supervise = %v after %d runs; want nil after 3", err, runs)
	}
	if len(failures) != 2 || failures[0] != "scanner seoul-1: node down" || failures[1] != "scanner seoul-1: stopped" {
		t.Fatalf("failures %q", failures)
	}
	// 1 s, then 2 s: the backoff doubles.
	if took := time.Since(start); took < packets.SuperviseFirst*3 {
		t.Fatalf("3 runs in %s: the restarts did not back off", took)
	}
}
