package console

import (
	"sync"
	"time"
)

// LastRelay is the newest relay tx this daemon committed for a path.
type LastRelay struct {
	// Chain is where the tx landed; Kind is recv, ack or timeout.
	Chain   string    `json:"chain"`
	Kind    string    `json:"kind"`
	Tx      string    `json:"tx"`
	Height  int64     `json:"height"`
	Packets int       `json:"packets"`
	At      time.Time `json:"at"`
}

// Counts are a path's packets observed, relayed and failed over a window. Failed counts refusals and
// dead letters; Retried counts work handed back to be tried again for a passing reason (a node behind
// or unreachable), which is not a failure.
type Counts struct {
	Observed float64 `json:"observed"`
	Relayed  float64 `json:"relayed"`
	Failed   float64 `json:"failed"`
	Retried  float64 `json:"retried"`
	// Seconds is the window's length: an hour, or less while the daemon has run for less.
	Seconds float64 `json:"seconds"`
}

// hourWindow is how far back the overview's per-path counts look.
const hourWindow = time.Hour

// sampleEvery is how often the path counters are sampled for the hourly counts.
const sampleEvery = time.Minute

// sample is every path's counters at one time.
type sample struct {
	at    time.Time
	paths map[string]Counts
}

// history keeps the path counters' samples of the last hour (and the newest one older than that),
// so the overview can say what happened in the last hour rather than since the daemon started.
type history struct {
	mu      sync.Mutex
	samples []sample // oldest first
}

// add records s and forgets the samples no window needs any more: those older than the newest one
// at least an hour old.
func (h *history) add(s sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, s)
	cut := s.at.Add(-hourWindow)
	keep := 0
	for i, old := range h.samples {
		if !old.at.After(cut) {
			keep = i
		}
	}
	h.samples = h.samples[keep:]
}

// lastHour is what moved on path between the baseline (the newest sample at least an hour old, or
// the oldest one while the daemon has run for less) and now.
func (h *history) lastHour(path string, now Counts, at time.Time) Counts {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.samples) == 0 {
		return Counts{}
	}
	base := h.samples[0]
	for _, s := range h.samples {
		if s.at.After(at.Add(-hourWindow)) {
			break
		}
		base = s
	}
	b := base.paths[path]
	return Counts{Observed: delta(now.Observed, b.Observed), Relayed: delta(now.Relayed, b.Relayed), Failed: delta(now.Failed, b.Failed),
		Retried: delta(now.Retried, b.Retried),
		Seconds: at.Sub(base.at).Seconds()}
}

// delta is a counter's increase; a counter below its baseline was reset (the registry is the
// daemon's, so only by a restart): all of it is new.
func delta(now, base float64) float64 {
	if now < base {
		return now
	}
	return now - base
}

// pathCounts reads every configured path's counters from the daemon's metrics.
func (c *Console) pathCounts(m families) map[string]Counts {
	out := map[string]Counts{}
	for name := range c.o.Config.Paths {
		out[name] = Counts{Observed: m.sum("cityrelay_packets_observed_total", "path", name),
			Relayed: m.sum("cityrelay_packets_relayed_total", "path", name), Failed: m.sum("cityrelay_packets_failed_total", "path", name),
			Retried: m.sum("cityrelay_packets_retried_total", "path", name)}
	}
	return out
}

// sampleLoop samples the path counters every sampleEvery until stop is closed.
func (c *Console) sampleLoop(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			c.hist.add(sample{at: now, paths: c.pathCounts(c.gather())})
		}
	}
}
