package console

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
)

// Overview is what the overview page shows.
type Overview struct {
	At     time.Time   `json:"at"`
	Chains []ChainView `json:"chains"`
	Paths  []PathView  `json:"paths"`
	// EvmCities are the EVM cities whose attestations the daemon delivers.
	EvmCities []EvmCityView `json:"evm_cities,omitempty"`
	NATS      NATSView      `json:"nats"`
	LogLevel  string        `json:"log_level"`
	// Admin: admin actions are enabled (a token is configured).
	Admin bool `json:"admin"`
}

// ChainView is a chain as the relayer sees it.
type ChainView struct {
	ChainID string `json:"chain_id"`
	// NodeHeight and NodeTime are the primary RPC node's latest block.
	NodeHeight int64     `json:"node_height"`
	NodeTime   time.Time `json:"node_time,omitzero"`
	// LightHeight is the newest header the light client verified; LightAge its age when the daemon
	// last checked (seconds, -1 unknown); Lag = NodeHeight - LightHeight.
	LightHeight int64    `json:"light_height"`
	LightAge    float64  `json:"light_age_s"`
	Lag         int64    `json:"lag"`
	Balance     []string `json:"balance,omitempty"`
	Error       string   `json:"error,omitempty"`
	// Witnesses are the light client's witnesses and what each answered last; Divergences the
	// divergences it still lists (light.Client.Divergences), newest first.
	Witnesses   []WitnessView    `json:"witnesses,omitempty"`
	Divergences []DivergenceView `json:"divergences,omitempty"`
	// Halted says the light client halted after a divergence and what the operator does (empty: it
	// verifies).
	Halted string `json:"halted,omitempty"`
}

// WitnessView is a witness of a chain's light client and its last cross-check.
type WitnessView struct {
	// Witness is scheme://host:port only: an RPC address's user info, path and query may hold a key.
	Witness string `json:"witness"`
	// Primary: no witness is configured and the primary stands in, which checks nothing.
	Primary bool `json:"primary,omitempty"`
	// State is "agrees", "no answer", "diverged" (a fork: the light client halts), "faulty" (its
	// conflicting header does not verify: no fork, it confirms nothing), "dropped" (faulty
	// light.MaxWitnessFaults times: not asked until the daemon restarts) or "unchecked".
	State  string    `json:"state"`
	Height int64     `json:"height,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Error  string    `json:"error,omitempty"`
	// Evidence is the evidence file's name (in <home>/light/<chain-id>/evidence/) of a divergence.
	Evidence string `json:"evidence,omitempty"`
}

// DivergenceView is a divergence: a witness served another header at a height.
type DivergenceView struct {
	Height  int64     `json:"height"`
	Witness string    `json:"witness"`
	At      time.Time `json:"at"`
	// Evidence is the evidence file's name ("" when it could not be written: the log says why).
	Evidence string `json:"evidence"`
	// Earlier: found on disk when the daemon started (a divergence from before a restart).
	Earlier bool `json:"earlier,omitempty"`
}

// PathView is a configured path.
type PathView struct {
	Name string    `json:"name"`
	Ends []EndView `json:"ends"`
	// Observed, Relayed, Failed (refused or dead-lettered) and Retried (handed back for a passing
	// reason: not failures) are the packets since the daemon started; LastHour the same over the last
	// hour (or since the start while the daemon has run for less).
	Observed float64 `json:"observed"`
	Relayed  float64 `json:"relayed"`
	Failed   float64 `json:"failed"`
	Retried  float64 `json:"retried"`
	LastHour Counts  `json:"last_hour"`
	// Backlog is the work waiting for the submitters of the path's channel ends.
	Backlog float64 `json:"backlog"`
	// LastRelay is the newest relay tx this daemon committed for the path (nil: none yet).
	LastRelay *LastRelay `json:"last_relay,omitempty"`
}

// EvmCityView is an EVM city as the relayer sees it: its verified QBFT header and its deliveries.
type EvmCityView struct {
	City       string `json:"city"`
	EvmChainID uint64 `json:"evm_chain_id"`
	Registry   string `json:"registry"`
	// VerifiedHeight and VerifiedTime are the newest sealed header the QBFT light client verified
	// (0: its client is not open); VerifiedAge is that header's age in seconds.
	VerifiedHeight uint64            `json:"verified_height"`
	VerifiedTime   time.Time         `json:"verified_time,omitzero"`
	VerifiedAge    float64           `json:"verified_age_s"`
	Deliveries     []EvmDeliveryView `json:"deliveries"`
}

// EvmDeliveryView is a Cosmos city an EVM city's attestations go to, through its city-qbft client.
type EvmDeliveryView struct {
	Chain  string `json:"chain"`
	Client string `json:"client"`
	// Relayed, Failed and Retried count the attestations delivered, the failed tries (refused, dead)
	// and the tries handed back for a passing reason, since the start.
	Relayed float64 `json:"relayed"`
	Failed  float64 `json:"failed"`
	Retried float64 `json:"retried"`
}

// EndView is one end of a path.
type EndView struct {
	Chain      string `json:"chain"`
	Port       string `json:"port"`
	Channel    string `json:"channel"`
	Connection string `json:"connection"`
	Client     string `json:"client"`
	State      string `json:"state"`
	// TrustingLeft is the time left, in seconds, before the client's latest consensus state leaves
	// its trusting period (-1 unknown: the daemon checks every 30 s).
	TrustingLeft float64 `json:"trusting_left_s"`
}

// NATSView is the state of the work queue.
type NATSView struct {
	Connected   bool   `json:"connected"`
	WorkQueued  uint64 `json:"work_queued"`
	Pending     uint64 `json:"pending"`
	Consumers   int    `json:"consumers"`
	DeadLetters uint64 `json:"dead_letters"`
	Error       string `json:"error,omitempty"`
}

// cached is the last overview and when it was made.
type cached struct {
	mu sync.Mutex
	at time.Time
	v  *Overview
}

func (c *Console) apiOverview(w http.ResponseWriter, _ *http.Request) {
	c.overview.mu.Lock()
	v, fresh := c.overview.v, time.Since(c.overview.at) < overviewEvery
	c.overview.mu.Unlock()
	if !fresh {
		// One build at a time, whatever the number of pages polling; the build is not tied to one
		// request's context (a closed tab must not fail the others' answer).
		r, _, _ := c.flight.Do("overview", func() (any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			defer cancel()
			o := c.buildOverview(ctx)
			c.overview.mu.Lock()
			c.overview.v, c.overview.at = o, time.Now()
			c.overview.mu.Unlock()
			return o, nil
		})
		v = r.(*Overview)
	}
	reply(w, http.StatusOK, v, nil)
}

func (c *Console) buildOverview(ctx context.Context) *Overview {
	o := &Overview{At: time.Now().UTC(), LogLevel: c.logLevel().String(), Admin: c.o.AdminToken != ""}
	m := c.gather()
	chains := map[string]bool{}
	counts := c.pathCounts(m)
	for _, name := range slices.Sorted(maps.Keys(c.o.Config.Paths)) {
		pc := c.o.Config.Paths[name]
		now := counts[name]
		pv := PathView{Name: name, Observed: now.Observed, Relayed: now.Relayed, Failed: now.Failed, Retried: now.Retried, LastHour: c.hist.lastHour(name, now, o.At)}
		if c.o.LastRelay != nil {
			if lr, ok := c.o.LastRelay(name); ok {
				pv.LastRelay = &lr
			}
		}
		for _, e := range []struct{ chain, port, channel, conn, client string }{
			{pc.Src.Chain, pc.Src.PortID, pc.Src.ChannelID, pc.Src.ConnectionID, pc.Src.ClientID},
			{pc.Dst.Chain, pc.Dst.PortID, pc.Dst.ChannelID, pc.Dst.ConnectionID, pc.Dst.ClientID},
		} {
			ev := EndView{Chain: e.chain, Port: e.port, Channel: e.channel, Connection: e.conn, Client: e.client, State: "not linked",
				TrustingLeft: m.value(-1, "cityrelay_client_trusting_period_left_seconds", "path", name, "chain", e.chain, "client", e.client)}
			if e.channel != "" {
				chains[e.chain] = true
				ev.State = c.channelState(ctx, e.chain, e.port, e.channel)
				pv.Backlog += m.value(0, "cityrelay_queue_depth", "chain", e.chain, "channel", e.channel)
			}
			pv.Ends = append(pv.Ends, ev)
		}
		o.Paths = append(o.Paths, pv)
	}
	for _, id := range slices.Sorted(maps.Keys(chains)) {
		o.Chains = append(o.Chains, c.chainView(ctx, id, m))
	}
	for _, city := range slices.Sorted(maps.Keys(c.o.Config.EvmCities)) {
		o.EvmCities = append(o.EvmCities, c.evmCityView(city, m, o.At))
	}
	o.NATS = c.natsView(ctx)
	return o
}

// chainView reads a chain's node and light client. Only chains of linked paths are shown: the daemon
// opened them at start, so nothing here opens a keyring or a light store.
func (c *Console) chainView(ctx context.Context, id string, m families) ChainView {
	v := ChainView{ChainID: id, LightAge: m.value(-1, "cityrelay_light_client_header_age_seconds", "chain", id)}
	for _, f := range m["cityrelay_wallet_balance"].GetMetric() {
		if label(f, "chain") == id {
			v.Balance = append(v.Balance, fmt.Sprintf("%.0f%s", f.GetGauge().GetValue(), label(f, "denom")))
		}
	}
	if c.o.Witnesses != nil {
		if w, err := c.o.Witnesses(ctx, id); err == nil {
			v.Witnesses, v.Divergences, v.Halted = witnessViews(w)
		}
	}
	if c.o.Runtime == nil {
		return v
	}
	if lc, err := c.o.Runtime.Light(ctx, id); err == nil {
		v.LightHeight, _ = lc.TrustedHeight()
		if c.o.Witnesses == nil {
			v.Witnesses, v.Divergences, v.Halted = witnessViews(lc)
		}
	}
	cl, err := c.o.Runtime.Chain(id)
	if err != nil {
		v.Error = light.RedactText(err.Error())
		return v
	}
	st, err := cl.Status(ctx)
	if err != nil {
		v.Error = light.RedactText(err.Error())
		return v
	}
	v.NodeHeight, v.NodeTime = st.SyncInfo.LatestBlockHeight, st.SyncInfo.LatestBlockTime.UTC()
	if v.LightHeight > 0 {
		v.Lag = v.NodeHeight - v.LightHeight
	}
	return v
}

// maxDivergenceViews is how many divergences a chain's card lists (the light client keeps more).
const maxDivergenceViews = 5

// witnessViews is what the page shows of a witness record. Addresses go through light.RedactURL
// again and evidence files are named without their directory: nothing from the host's file system
// or an RPC address's credentials reaches the page.
func witnessViews(w Witnessed) ([]WitnessView, []DivergenceView, string) {
	var ws []WitnessView
	for _, s := range w.Witnesses() {
		ws = append(ws, WitnessView{Witness: witnessName(s.Witness), Primary: s.Primary, State: string(s.State), Height: s.Height,
			At: s.At.UTC(), Error: light.RedactText(s.Error), Evidence: baseName(s.Evidence)})
	}
	var ds []DivergenceView
	for _, d := range w.Divergences() {
		if len(ds) == maxDivergenceViews {
			break
		}
		ds = append(ds, DivergenceView{Height: d.Height, Witness: witnessName(d.Witness), At: d.At.UTC(), Evidence: baseName(d.Evidence), Earlier: d.Earlier})
	}
	var halted string
	if err := w.Halted(); err != nil {
		halted = "light client halted after a divergence: nothing from this chain is verified until an operator has checked the evidence, removed " +
			light.HaltFile + " from the chain's light store (the client then resumes by itself)"
	}
	return ws, ds, halted
}

// witnessName is a witness's name as light gives it (scheme://host:port, "#<n>" after a repeated
// one), reduced again by light.RedactURL.
func witnessName(s string) string {
	if base, n, ok := strings.Cut(s, "#"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return light.RedactURL(base) + "#" + n
	}
	return light.RedactURL(s)
}

func baseName(path string) string {
	if path == "" {
		return ""
	}
	return filepath.Base(path)
}

// evmCityView reads an EVM city's light client, if the daemon opened it, and its deliveries' counts.
func (c *Console) evmCityView(city string, m families, now time.Time) EvmCityView {
	ec := c.o.Config.EvmCities[city]
	v := EvmCityView{City: city, VerifiedAge: -1}
	if ec == nil {
		return v
	}
	v.EvmChainID, v.Registry = ec.EvmChainID, ec.Registry
	if c.o.Runtime != nil {
		if lc, ok := c.o.Runtime.OpenedEvmCity(city); ok {
			th := lc.Trusted()
			v.VerifiedHeight, v.VerifiedTime = th.Height, th.Time.UTC()
			if !th.Time.IsZero() {
				v.VerifiedAge = now.Sub(th.Time).Seconds()
			}
		}
	}
	for _, d := range ec.Deliver {
		path := "evm:" + city + "->" + d.Chain // the daemon's path label of the bridge
		v.Deliveries = append(v.Deliveries, EvmDeliveryView{Chain: d.Chain, Client: d.ClientID,
			Relayed: m.sum("cityrelay_packets_relayed_total", "path", path), Failed: m.sum("cityrelay_packets_failed_total", "path", path),
			Retried: m.sum("cityrelay_packets_retried_total", "path", path)})
	}
	return v
}

// channelState asks the chain for a channel end's state (STATE_OPEN, ...).
func (c *Console) channelState(ctx context.Context, chain, port, channel string) string {
	if c.o.Runtime == nil {
		return "linked"
	}
	cl, err := c.o.Runtime.Chain(chain)
	if err != nil {
		return "unknown"
	}
	ch, err := cl.Channel(ctx, port, channel)
	if err != nil {
		return "unknown"
	}
	return strings.TrimPrefix(ch.State.String(), "STATE_")
}

func (c *Console) natsView(ctx context.Context) NATSView {
	v := NATSView{Connected: c.o.NC.IsConnected()}
	s, err := c.js.Stream(ctx, packets.WorkStream)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	info, err := s.Info(ctx)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	v.WorkQueued, v.Consumers = info.State.Msgs, info.State.Consumers
	for name := range s.ConsumerNames(ctx).Name() {
		if cons, err := s.Consumer(ctx, name); err == nil {
			if ci, err := cons.Info(ctx); err == nil {
				v.Pending += ci.NumPending + uint64(ci.NumAckPending)
			}
		}
	}
	if d, err := c.js.Stream(ctx, packets.DeadStream); err == nil {
		if di, err := d.Info(ctx); err == nil {
			v.DeadLetters = di.State.Msgs
		}
	}
	return v
}

// families are the daemon's metric families by name.
type families map[string]*dto.MetricFamily

func (c *Console) gather() families {
	out := families{}
	if c.o.Metrics == nil {
		return out
	}
	mfs, _ := c.o.Metrics.Gather() // a partial gather still has what it could collect
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// sum adds the counters and gauges of family name whose labels match the pairs.
func (f families) sum(name string, pairs ...string) float64 {
	var s float64
	for _, m := range f[name].GetMetric() {
		if matches(m, pairs) {
			s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return s
}

// value is the first matching series' value, or def when none matches.
func (f families) value(def float64, name string, pairs ...string) float64 {
	for _, m := range f[name].GetMetric() {
		if matches(m, pairs) {
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return def
}

func matches(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		if label(m, pairs[i]) != pairs[i+1] {
			return false
		}
	}
	return true
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// logLevel is the effective level: the global one, or the config's where higher (the daemon's logger
// is built with global.log_level; the console's change is the global level).
func (c *Console) logLevel() zerolog.Level {
	lvl := zerolog.GlobalLevel()
	if cl, err := zerolog.ParseLevel(c.o.Config.Global.LogLevel); err == nil && cl > lvl {
		return cl
	}
	return lvl
}
