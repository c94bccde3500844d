// Package relaysim runs the relayer's per-chain code against synthetic chains (package chainsim) to
// measure how many chains one process holds (issue 22, item 4). The chains are opened as the daemon
// opens them (relayer/assemble over a config: a Cosmos client and a light client per chain, the light
// client's store on disk), and the paths of a star (the hub and every member) run in pipeline.Run with
// the daemon's relay settings, as daemon.Run's runPipelines wires it: one scanner per chain, paced by
// block time, verifying every header it uses with the chain's light client (real signature checks of
// each commit, validator sets reused), and two idle submitters per path on the JetStream work queue.
//
// Left out, because a synthetic chain has no IBC state to read: clearing (at start and every 5
// minutes it reads pending packets from the chains) and the daemon's 30 s refresh and gauges (client
// states, balances). Everything that runs per block runs.
package relaysim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/internal/chainsim"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/classify"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// Options configure the relayer side.
type Options struct {
	// Chains are the synthetic chains; the first is the hub, linked to each of the others by a path.
	Chains []chainsim.ChainInfo
	// Home holds the keyrings and the light clients' stores.
	Home string
	// JS is the work queue (the relayer's streams and buckets set up).
	JS  jetstream.JetStream
	Log zerolog.Logger
	// TrustingPeriod of every chain (default 336h).
	TrustingPeriod time.Duration
}

// Relayer is the relayer side of a simulation, running until Stop.
type Relayer struct {
	chains   []chainsim.ChainInfo
	byID     map[string]int
	rt       *assemble.Runtime
	lights   []*countingLight
	scans    []scanRecord
	restarts atomic.Int64
	// failures are the errors of failed parts (scanners, submitters), by part.
	failMu   sync.Mutex
	failures map[string][]error
	// delays are, for every block scanned, the time from its successor's header time (the earliest a
	// block can be scanned: its results are final once the next header is verified) to its scan.
	delayMu sync.Mutex
	delays  []time.Duration
	// lags are samples of (chain's scheduled head - scanned height), in blocks.
	lagMu  sync.Mutex
	lags   []int64
	cancel context.CancelFunc
	done   chan error
}

// scanRecord is what a chain's scanner did: its last scanned height, and whether it ever skipped.
type scanRecord struct {
	mu      sync.Mutex
	first   int64
	last    int64
	gaps    int64
	rescans int64
}

// Start opens the chains and runs the pipelines.
func Start(ctx context.Context, o Options) (*Relayer, error) {
	if len(o.Chains) < 2 {
		return nil, errors.New("relaysim: a hub and at least one member are needed")
	}
	if o.TrustingPeriod <= 0 {
		o.TrustingPeriod = 336 * time.Hour
	}
	cfg := config.Default()
	hub := o.Chains[0].ID
	r := &Relayer{chains: o.Chains, byID: map[string]int{}, failures: map[string][]error{}, scans: make([]scanRecord, len(o.Chains)),
		lights: make([]*countingLight, len(o.Chains))}
	for i, c := range o.Chains {
		r.byID[c.ID] = i
		cfg.Chains[c.ID] = &config.Chain{RPC: []string{c.RPC}, AccountPrefix: "city", KeyName: "relayer", KeyringBackend: "test", Devnet: true,
			GasPrice: "0.0025ucity", GasAdjustment: 1.05, MaxGas: 50_000_000, TrustingPeriod: config.Duration{Duration: o.TrustingPeriod},
			TrustHeight: c.TrustHeight, TrustHash: c.TrustHash}
		if i == 0 {
			continue
		}
		cfg.Paths[pathName(i)] = &config.Path{
			Src:     config.PathEnd{Chain: hub, ClientID: fmt.Sprintf("07-tendermint-%d", i), ConnectionID: fmt.Sprintf("connection-%d", i), ChannelID: fmt.Sprintf("channel-%d", i), PortID: config.DefaultPort},
			Dst:     config.PathEnd{Chain: c.ID, ClientID: "07-tendermint-0", ConnectionID: "connection-0", ChannelID: "channel-0", PortID: config.DefaultPort},
			Version: "did-1", Order: "unordered"}
	}
	r.rt = assemble.Open(cfg, assemble.Options{Home: o.Home, Log: o.Log})
	var paths []*relayer.Path
	for i := 1; i < len(o.Chains); i++ {
		p, err := r.rt.Path(ctx, pathName(i))
		if err != nil {
			_ = r.rt.Close()
			return nil, fmt.Errorf("relaysim: open path %s: %w", pathName(i), err)
		}
		for _, e := range []*relayer.End{p.A, p.B} {
			j := r.byID[e.ChainID()]
			if r.lights[j] == nil {
				r.lights[j] = &countingLight{HeaderSource: e.Light}
			}
			e.Light = r.lights[j]
		}
		paths = append(paths, p)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel, r.done = cancel, make(chan error, 1)
	rel := cfg.Relay
	opts := pipeline.Options{
		Paths: paths, JS: o.JS, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
		BatchMax: rel.BatchMaxMsgs, BatchWait: rel.BatchMaxWait.Duration, Log: o.Log, InFlight: rel.InFlight,
		MaxDeliver: rel.MaxDeliveries, RetryBase: rel.RetryBackoff.Duration, Classify: classify.Describe,
		OnScanned: r.scanned,
		OnPartFailed: func(part string, err error) {
			r.restarts.Add(1)
			r.failMu.Lock()
			if len(r.failures[part]) < 100 {
				r.failures[part] = append(r.failures[part], err)
			}
			r.failMu.Unlock()
		},
	}
	go func() { r.done <- pipeline.Run(rctx, opts) }()
	go r.sampleLags(rctx)
	return r, nil
}

func pathName(i int) string { return fmt.Sprintf("m%d", i) }

// Stop stops the pipelines and closes the light clients' stores.
func (r *Relayer) Stop() error {
	r.cancel()
	err := <-r.done
	return errors.Join(err, r.rt.Close())
}

// scanned is pipeline.Options.OnScanned.
func (r *Relayer) scanned(chain string, h int64) {
	i, ok := r.byID[chain]
	if !ok {
		return
	}
	now := time.Now()
	s := &r.scans[i]
	s.mu.Lock()
	switch {
	case s.last == 0:
		s.first = h
	case h <= s.last:
		s.rescans++
	case h > s.last+1:
		s.gaps += h - s.last - 1
	}
	s.last = max(s.last, h)
	s.mu.Unlock()
	d := now.Sub(r.chains[i].TimeOf(h + 1))
	r.delayMu.Lock()
	r.delays = append(r.delays, d)
	r.delayMu.Unlock()
}

// lagEvery is how often every scanner's lag is sampled.
const lagEvery = 200 * time.Millisecond

func (r *Relayer) sampleLags(ctx context.Context) {
	t := time.NewTicker(lagEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			batch := make([]int64, 0, len(r.chains))
			for i, c := range r.chains {
				s := &r.scans[i]
				s.mu.Lock()
				last := s.last
				s.mu.Unlock()
				if last == 0 {
					continue // not scanning yet
				}
				batch = append(batch, c.HeadAt(now)-last)
			}
			r.lagMu.Lock()
			r.lags = append(r.lags, batch...)
			r.lagMu.Unlock()
		}
	}
}

// countingLight is a chain's light client as the scanner sees it, counting the headers it verified:
// every new height VerifyLatest returns was verified by the light client (commit signatures checked
// against the trusted validators).
type countingLight struct {
	chains.HeaderSource
	calls    atomic.Int64
	mu       sync.Mutex
	first    int64
	last     int64
	verified int64
	skipped  int64 // heights between two verified headers that the scanner never saw verified
	errs     int64
}

func (l *countingLight) VerifyLatest(ctx context.Context) (*cmttypes.LightBlock, error) {
	l.calls.Add(1)
	lb, err := l.HeaderSource.VerifyLatest(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs++
		return lb, err
	}
	if lb.Height > l.last {
		if l.last == 0 {
			l.first = lb.Height
		} else {
			l.skipped += lb.Height - l.last - 1
		}
		l.last = lb.Height
		l.verified++
	}
	return lb, nil
}

// Counters are a snapshot of the relayer side's counters.
type Counters struct {
	At time.Time
	// Per chain, in the order of Options.Chains.
	Verified, Skipped, VerifyErrors, Calls []int64
	FirstVerified, LastVerified            []int64
	Scanned, FirstScanned, Gaps, Rescans   []int64
	Restarts                               int64
	// Delays and Lags are the counts of samples so far (Window takes the ones in between).
	Delays, Lags int
}

// Counters snapshots the counters.
func (r *Relayer) Counters() Counters {
	c := Counters{At: time.Now(), Restarts: r.restarts.Load()}
	for i := range r.chains {
		l := r.lights[i]
		l.mu.Lock()
		c.Verified = append(c.Verified, l.verified)
		c.Skipped = append(c.Skipped, l.skipped)
		c.VerifyErrors = append(c.VerifyErrors, l.errs)
		c.FirstVerified = append(c.FirstVerified, l.first)
		c.LastVerified = append(c.LastVerified, l.last)
		l.mu.Unlock()
		c.Calls = append(c.Calls, l.calls.Load())
		s := &r.scans[i]
		s.mu.Lock()
		c.Scanned = append(c.Scanned, s.last)
		c.FirstScanned = append(c.FirstScanned, s.first)
		c.Gaps = append(c.Gaps, s.gaps)
		c.Rescans = append(c.Rescans, s.rescans)
		s.mu.Unlock()
	}
	r.delayMu.Lock()
	c.Delays = len(r.delays)
	r.delayMu.Unlock()
	r.lagMu.Lock()
	c.Lags = len(r.lags)
	r.lagMu.Unlock()
	return c
}

// Failures are the errors of the parts that failed (and were restarted), by part.
func (r *Relayer) Failures() map[string][]error {
	r.failMu.Lock()
	defer r.failMu.Unlock()
	out := make(map[string][]error, len(r.failures))
	for k, v := range r.failures {
		out[k] = append([]error(nil), v...)
	}
	return out
}

// Window is what happened between two snapshots.
type Window struct {
	Elapsed time.Duration
	// HeadersVerified in all chains, and per chain the least and most.
	HeadersVerified            int64
	MinVerified, MaxVerified   int64
	HeadersSkipped, VerifyErrs int64
	// Blocks is how many blocks the chains' schedules made in the window, summed.
	Blocks int64
	// Scan delay (successor header's time → block scanned), over every block scanned in the window.
	DelayP50, DelayP99, DelayMax time.Duration
	// Lag of the scanners behind their chains' heads, in blocks, over the samples in the window.
	LagP50, LagP99, LagMax int64
	// FinalLagMax is the largest lag at the window's end.
	FinalLagMax int64
	Gaps        int64
	Restarts    int64
}

// Window sums the counters between a and b.
func (r *Relayer) Window(a, b Counters) Window {
	w := Window{Elapsed: b.At.Sub(a.At), Restarts: b.Restarts - a.Restarts, MinVerified: -1}
	for i, c := range r.chains {
		v := b.Verified[i] - a.Verified[i]
		w.HeadersVerified += v
		w.MaxVerified = max(w.MaxVerified, v)
		if w.MinVerified < 0 || v < w.MinVerified {
			w.MinVerified = v
		}
		w.HeadersSkipped += b.Skipped[i] - a.Skipped[i]
		w.VerifyErrs += b.VerifyErrors[i] - a.VerifyErrors[i]
		w.Blocks += c.HeadAt(b.At) - c.HeadAt(a.At)
		w.Gaps += b.Gaps[i] - a.Gaps[i]
		w.FinalLagMax = max(w.FinalLagMax, c.HeadAt(b.At)-b.Scanned[i])
	}
	r.delayMu.Lock()
	delays := append([]time.Duration(nil), r.delays[a.Delays:b.Delays]...)
	r.delayMu.Unlock()
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	if n := len(delays); n > 0 {
		w.DelayP50, w.DelayP99, w.DelayMax = delays[n/2], delays[min(n*99/100, n-1)], delays[n-1]
	}
	r.lagMu.Lock()
	lags := append([]int64(nil), r.lags[a.Lags:b.Lags]...)
	r.lagMu.Unlock()
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	if n := len(lags); n > 0 {
		w.LagP50, w.LagP99, w.LagMax = lags[n/2], lags[min(n*99/100, n-1)], lags[n-1]
	}
	return w
}
