package daemon

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// forkWatcher is a light client that reports the fork it halts on (light.Client).
type forkWatcher interface {
	SetOnDivergence(func(*light.Fork))
}

// freezeOnFork has each light client of paths' chains, when it halts on a witness's conflicting
// header (one that verifies from its trusted state: a fork; a lying witness's header that does not is
// no halt and reaches nothing here), submit both headers as misbehaviour to every client of that chain
// on the paths, each checked against what that client trusts first (one it does not verify against is
// not submitted), logged and counted. The ends' light clients may be wrapped by the metrics
// (instrument) already.
func freezeOnFork(ctx context.Context, log zerolog.Logger, m *metrics, paths []*relayer.Path) {
	watched := map[string]bool{}
	for _, p := range paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			lc := e.Light
			if t, timed := lc.(timedHeaders); timed {
				lc = t.HeaderVerifier // instrumented already: the light client is inside
			}
			w, ok := lc.(forkWatcher)
			if !ok || watched[e.ChainID()] {
				continue
			}
			watched[e.ChainID()] = true
			w.SetOnDivergence(func(f *light.Fork) { freezeClientsOf(ctx, log, m, paths, f, misbehaviourBackoff) })
		}
	}
}

// misbehaviourBackoff is the wait before the n-th retry of a failed misbehaviour submission.
func misbehaviourBackoff(n uint64) time.Duration { return packets.Backoff(2*time.Second, n) }

// freezeClientsOf submits fork as misbehaviour to every client of its chain on paths, each in its own
// goroutine, retried as freezeClient does; every attempt is logged and counted.
func freezeClientsOf(ctx context.Context, log zerolog.Logger, m *metrics, paths []*relayer.Path, fork *light.Fork, backoff func(uint64) time.Duration) {
	targets := relayer.FreezeTargets(paths, fork.ChainID)
	if len(targets) == 0 {
		m.misbehaviour(log, fork.ChainID, fork.Height, nil)
		return
	}
	for _, t := range targets {
		go freezeClient(ctx, func(ctx context.Context) relayer.MisbehaviourReport { return t.Freeze(ctx, fork) }, backoff,
			func(r relayer.MisbehaviourReport, attempt int) {
				m.misbehaviour(log, fork.ChainID, fork.Height, []relayer.MisbehaviourReport{r})
				if r.Retryable() {
					log.Warn().Str("forked", fork.ChainID).Str("chain", r.Chain).Str("client", r.ClientID).Int("attempt", attempt).
						Dur("retry_in", backoff(uint64(attempt))).Msg("fork: misbehaviour submission retried until the client is frozen")
				}
			})
	}
}

// freezeClient submits a fork's misbehaviour to one client (submit) until it is sent or no longer due
// (relayer.MisbehaviourReport.Retryable) or ctx ends, waiting backoff(n) after the n-th failed
// attempt; report gets every attempt's outcome. It returns the attempts made.
func freezeClient(ctx context.Context, submit func(context.Context) relayer.MisbehaviourReport, backoff func(uint64) time.Duration,
	report func(r relayer.MisbehaviourReport, attempt int),
) int {
	for attempt := 1; ; attempt++ {
		r := submit(ctx)
		report(r, attempt)
		if !r.Retryable() || ctx.Err() != nil {
			return attempt
		}
		select {
		case <-ctx.Done():
			return attempt
		case <-time.After(backoff(uint64(attempt))):
		}
	}
}
