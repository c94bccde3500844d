package daemon

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// namedChain is a chain that only says its id (what freezeOnFork asks of it).
type namedChain struct {
	relayer.Chain
	id string
}

func (c namedChain) ChainID() string { return c.id }

// watchedLight is a light client that records the divergence hooks set on it.
type watchedLight struct {
	relayer.HeaderVerifier
	hooks int
}

func (w *watchedLight) SetOnDivergence(func(*light.Fork)) { w.hooks++ }

// Every light client of the paths' chains gets one divergence hook, whether or not the metrics
// wrapped it already, and a chain on several paths is hooked once.
func TestFreezeOnForkHooksEveryChainOnce(t *testing.T) {
	seoul, bucheon, wego := &watchedLight{}, &watchedLight{}, &watchedLight{}
	end := func(chain string, lc *watchedLight) *relayer.End {
		return &relayer.End{Chain: namedChain{id: chain}, Light: lc, ClientID: "07-tendermint-0"}
	}
	paths := []*relayer.Path{
		{Name: "seoul-bucheon", A: end("seoul-1", seoul), B: end("bucheon-1", bucheon)},
		{Name: "seoul-wego", A: end("seoul-1", seoul), B: end("wego-1", wego)},
	}
	m := newMetrics(nil)
	m.instrument(paths[1:]) // one path's light clients wrapped by the metrics already
	freezeOnFork(t.Context(), zerolog.Nop(), m, paths)
	for name, lc := range map[string]*watchedLight{"seoul-1": seoul, "bucheon-1": bucheon, "wego-1": wego} {
		if lc.hooks != 1 {
			t.Errorf("%s hooked %d times, want once", name, lc.hooks)
		}
	}
}

// A client's misbehaviour submission that failed for a reason another attempt may not meet is
// retried with backoff until it is sent; one that is not due (not evidence, frozen already, wrong
// client) is not; a retry loop stops when the daemon does. Every attempt is reported.
func TestFreezeClientRetriesUntilSentOrNotDue(t *testing.T) {
	down := errors.New("dial tcp 10.0.0.9:26657: connection refused")
	type run struct {
		name     string
		outcomes []error // what each attempt returns (the last one repeats)
		want     int
	}
	for _, tc := range []run{
		{"fails twice then sent", []error{down, down, nil}, 3},
		{"not misbehaviour", []error{fmt.Errorf("seoul-1 at 9: %w", relayer.ErrNotMisbehaviour)}, 1},
		{"frozen already", []error{fmt.Errorf("client 07-tendermint-0: %w", relayer.ErrClientFrozen)}, 1},
		{"wrong client", []error{fmt.Errorf("client 07-tendermint-0: %w", relayer.ErrWrongClient)}, 1},
		{"failed, then frozen by another relayer", []error{down, fmt.Errorf("client 07-tendermint-0: %w", relayer.ErrClientFrozen)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var submits, reported int
			var waits []uint64
			submit := func(context.Context) relayer.MisbehaviourReport {
				err := tc.outcomes[min(submits, len(tc.outcomes)-1)]
				submits++
				r := relayer.MisbehaviourReport{Chain: "bucheon-1", ClientID: "07-tendermint-0", Height: 9, Err: err}
				if err == nil {
					r.Tx = &relayer.TxInfo{Hash: "AB"}
				}
				return r
			}
			backoff := func(n uint64) time.Duration { waits = append(waits, n); return time.Millisecond }
			report := func(r relayer.MisbehaviourReport, attempt int) {
				reported++
				if attempt != reported {
					t.Errorf("attempt %d reported as %d", reported, attempt)
				}
			}
			if n := freezeClient(t.Context(), submit, backoff, report); n != tc.want || submits != tc.want || reported != tc.want {
				t.Fatalf("%d attempts (%d submitted, %d reported), want %d", n, submits, reported, tc.want)
			}
			// The n-th wait is backoff(n): growing with each failure.
			for i, n := range waits {
				if n != uint64(i+1) {
					t.Fatalf("waits %v, want backoff(1), backoff(2), ...", waits)
				}
			}
			if len(waits) != tc.want-1 {
				t.Fatalf("%d waits for %d attempts", len(waits), tc.want)
			}
		})
	}

	t.Run("daemon stops", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		submits := make(chan int, 100)
		var n int
		submit := func(context.Context) relayer.MisbehaviourReport {
			n++
			submits <- n
			return relayer.MisbehaviourReport{Chain: "bucheon-1", ClientID: "07-tendermint-0", Err: down}
		}
		done := make(chan int)
		go func() {
			done <- freezeClient(ctx, submit, func(uint64) time.Duration { return time.Hour }, func(relayer.MisbehaviourReport, int) {})
		}()
		<-submits // the first attempt failed: waiting an hour for the next
		cancel()
		select {
		case attempts := <-done:
			if attempts != 1 {
				t.Fatalf("%d attempts, want 1 before the daemon stopped", attempts)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the retry loop did not stop with the daemon")
		}
	})
}

// The daemon's backoff between misbehaviour retries grows and is capped (packets.Backoff).
func TestMisbehaviourBackoffGrows(t *testing.T) {
	if a, b := misbehaviourBackoff(1), misbehaviourBackoff(2); a <= 0 || b <= a {
		t.Fatalf("backoff %s then %s, want growing", a, b)
	}
	if d := misbehaviourBackoff(100); d > 5*time.Minute {
		t.Fatalf("backoff after 100 failures %s, want capped", d)
	}
}
