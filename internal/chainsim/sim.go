package chainsim

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Options describe a set of synthetic chains.
type Options struct {
	// IDs are the chain ids (the first is the hub of the simulation's star).
	IDs []string
	// Interval is every chain's block interval (default 1 s). Block times are staggered: chain i's
	// blocks come i/len(IDs) of an interval after chain 0's, so the blocks of many chains are spread
	// over the interval as those of independent chains are.
	Interval time.Duration
	// Validators per chain (default 4).
	Validators int
	// TxEvery, when > 0, gives every chain a tx with a packet event on a foreign channel every
	// TxEvery-th block (ChainOptions.TxEvery).
	TxEvery int
	// Addr is the loopback address to listen on (default 127.0.0.1); another is ErrNotLoopback.
	Addr string
	// Chain, if set, adjusts chain i's options before it is made (tests: ForgeFrom).
	Chain func(i int, o *ChainOptions)
}

// ErrNotLoopback: the synthetic chains are served on loopback addresses only.
var ErrNotLoopback = errors.New("not a loopback address")

// IDs are n chain ids for a star: the hub wego-1 and members sim1-1 … sim<n-1>-1.
func IDs(n int) []string {
	ids := []string{"wego-1"}
	for i := 1; i < n; i++ {
		ids = append(ids, fmt.Sprintf("sim%d-1", i))
	}
	return ids
}

// Sim is a set of synthetic chains, each served on its own loopback port (one node per chain, as the
// relayer would see separate nodes).
type Sim struct {
	Chains []*Chain
	addrs  []string
	lns    []net.Listener
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

// Start makes the chains and serves them until Stop.
func Start(o Options) (*Sim, error) {
	if len(o.IDs) == 0 {
		return nil, errors.New("chainsim: no chain ids")
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1"
	}
	if ip := net.ParseIP(o.Addr); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("chainsim: address %q: %w", o.Addr, ErrNotLoopback)
	}
	// Block 1 of every chain is in the past (a chain that has started); block 2 of chain i comes
	// i/len(IDs) of an interval from now.
	genesis := time.Now().Add(-o.Interval)
	s := &Sim{stop: make(chan struct{})}
	for i, id := range o.IDs {
		co := ChainOptions{ChainID: id, Validators: o.Validators, Interval: o.Interval, TxEvery: o.TxEvery,
			Genesis: genesis.Add(time.Duration(i) * o.Interval / time.Duration(len(o.IDs)))}
		if o.Chain != nil {
			o.Chain(i, &co)
		}
		c, err := NewChain(co)
		if err != nil {
			s.Stop()
			return nil, err
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(o.Addr, "0"))
		if err != nil {
			s.Stop()
			return nil, fmt.Errorf("chainsim %s: listen: %w", id, err)
		}
		s.Chains = append(s.Chains, c)
		s.lns = append(s.lns, ln)
		s.addrs = append(s.addrs, "http://"+ln.Addr().String())
		s.wg.Add(2)
		go func() { defer s.wg.Done(); _ = c.serve(ln) }()
		go func() { defer s.wg.Done(); c.produce(s.stop) }()
	}
	return s, nil
}

// Addr is chain i's RPC address (http://127.0.0.1:port).
func (s *Sim) Addr(i int) string { return s.addrs[i] }

// Stop stops making blocks and serving.
func (s *Sim) Stop() {
	s.once.Do(func() {
		close(s.stop)
		for _, ln := range s.lns {
			_ = ln.Close()
		}
	})
	s.wg.Wait()
}

// ChainInfo is what a relayer needs to know of a synthetic chain: where it is served, its block
// schedule (for the scanner lag) and a root of trust (a recent height and its header hash, taken out
// of band as an operator would).
type ChainInfo struct {
	ID          string    `json:"id"`
	RPC         string    `json:"rpc"`
	Genesis     time.Time `json:"genesis"`
	IntervalNS  int64     `json:"interval_ns"`
	TrustHeight int64     `json:"trust_height"`
	TrustHash   string    `json:"trust_hash"`
}

// Interval is the chain's block interval.
func (ci ChainInfo) Interval() time.Duration { return time.Duration(ci.IntervalNS) }

// HeadAt is the height the chain's schedule has reached at t (the newest block whose time has come).
func (ci ChainInfo) HeadAt(t time.Time) int64 {
	if t.Before(ci.Genesis) {
		return 1
	}
	return int64(t.Sub(ci.Genesis)/ci.Interval()) + 1
}

// TimeOf is block h's header time.
func (ci ChainInfo) TimeOf(h int64) time.Time {
	return ci.Genesis.Add(time.Duration(h-1) * ci.Interval())
}

// Infos are the chains' ChainInfo, with their current heads as roots of trust.
func (s *Sim) Infos() []ChainInfo {
	out := make([]ChainInfo, len(s.Chains))
	for i, c := range s.Chains {
		h, hash := c.Head()
		out[i] = ChainInfo{ID: c.ID(), RPC: s.addrs[i], Genesis: c.Genesis(), IntervalNS: int64(c.Interval()),
			TrustHeight: h, TrustHash: hex.EncodeToString(hash)}
	}
	return out
}

// Stats are the servers' side of a run: requests served by route, summed over the chains, and per
// chain in all; how late the latest-running producer was.
type Stats struct {
	Requests      map[string]int64 `json:"requests"`
	PerChain      []int64          `json:"per_chain"`
	Heads         []int64          `json:"heads"`
	MaxLateNS     int64            `json:"max_late_ns"`
	Errors        []string         `json:"errors,omitempty"` // chains that stopped making blocks, and why
	CPUNS         int64            `json:"cpu_ns"`           // the serving process's CPU time (cmd/chainsim)
	RSSKB         int64            `json:"rss_kb"`
	GoroutinesNow int              `json:"goroutines"`
}

// Stats sums the chains' counters.
func (s *Sim) Stats() Stats {
	st := Stats{Requests: map[string]int64{}}
	for _, c := range s.Chains {
		r := c.Requests()
		for k, v := range r {
			st.Requests[k] += v
		}
		st.PerChain = append(st.PerChain, r["total"])
		h, _ := c.Head()
		st.Heads = append(st.Heads, h)
		st.MaxLateNS = max(st.MaxLateNS, int64(c.Late()))
		if err := c.Err(); err != nil {
			st.Errors = append(st.Errors, fmt.Sprintf("%s: %v", c.ID(), err))
		}
	}
	return st
}
