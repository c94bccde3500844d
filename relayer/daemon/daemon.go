// Package daemon is `cityrelay start`: the pipelines over NATS, client refresh, metrics, health and
// the attestation verification endpoint, with graceful shutdown.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/evm"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/classify"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/console"
	"github.com/cityrelay/cityrelay/relayer/evmrelay"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
	"github.com/cityrelay/cityrelay/relayer/runtime"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// Options configure the daemon.
type Options struct {
	Home    string
	Config  *config.Config
	Runtime *runtime.Runtime
	Log     zerolog.Logger
	// NATSPassword is the password of config.nats.user (read by cmd/ from nats.password_env).
	NATSPassword string
	// ConsoleToken authorises the web console's admin actions (read by cmd/ from
	// console.admin_token_env); empty refuses them.
	ConsoleToken string
	// Ready, if set, receives the metrics address once everything runs.
	Ready func(metricsAddr string)
	// Listener, if set, is where the HTTP side (metrics, health, verification, console) is served
	// instead of a listener on metrics.listen (the demo binds its port before its chains start); Run
	// closes it (unused when metrics.enabled is false).
	Listener net.Listener
	// Paths, if not empty, names the only paths to relay (`cityrelay start PATH...`); EVM cities'
	// deliveries are not paths and are then not run. A name not in the config is an error.
	Paths []string
	// RefreshEvery is how often clients are refreshed and the queue, lag and balance gauges read
	// (default refreshEvery).
	RefreshEvery time.Duration
	// MaxVerifications is how many verification requests are answered at once (default 8): each is
	// a few proven queries to the chain's node, which the relaying needs too.
	MaxVerifications int
}

// refreshEvery is how often client expiry is checked: far below any trusting period.
const refreshEvery = 30 * time.Second

// Run runs the daemon until ctx ends.
func Run(ctx context.Context, o Options) error {
	if o.Listener != nil {
		defer o.Listener.Close() // closed already once served; this covers every early return
	}
	cfg := o.Config
	names, err := selectPaths(cfg.Paths, o.Paths)
	if err != nil {
		return err
	}
	var paths []*relayer.Path
	for _, name := range names {
		pc := cfg.Paths[name]
		if pc.Src.ChannelID == "" || pc.Dst.ChannelID == "" {
			o.Log.Warn().Str("path", name).Msg("path not linked yet (cityrelay tx link); skipped")
			continue
		}
		if denied(pc.Filter, pc.Src.ChannelID) || denied(pc.Filter, pc.Dst.ChannelID) {
			o.Log.Info().Str("path", name).Msg("path filtered out by its channel filter")
			continue
		}
		p, err := o.Runtime.Path(ctx, name)
		if err != nil {
			return err
		}
		paths = append(paths, p)
	}
	var bridges []*evmrelay.Bridge
	if len(o.Paths) == 0 {
		if bridges, err = evmBridges(ctx, o); err != nil {
			return err
		}
	}
	if len(paths) == 0 && len(bridges) == 0 {
		return errors.New("no linked path to relay: run `cityrelay tx link PATH` first (or `cityrelay tx evm-client` for an EVM city)")
	}

	nc, stopNATS, err := connect(o)
	if err != nil {
		return err
	}
	defer stopNATS()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	replicas, err := streamReplicas(ctx, o, nc, js)
	if err != nil {
		return err
	}
	if err := packets.Setup(ctx, js, replicas, cfg.NATS.DuplicateWindow.Duration); err != nil {
		return err
	}

	m := newMetrics(nc)
	freezeOnFork(ctx, o.Log, m, paths)
	m.instrument(paths)
	m.knownServices(cfg.Metrics.ServiceTypes)
	m.zero(cfg, paths)
	h := newHealth()
	lim := defaultLimits()
	if o.MaxVerifications > 0 {
		lim.Verifications = o.MaxVerifications
	}
	v, err := openChains(ctx, o, lim, m)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	relays := &lastRelays{byPath: map[string]console.LastRelay{}}
	if cfg.Metrics.Enabled {
		ln := o.Listener
		if ln == nil {
			if ln, err = net.Listen("tcp", cfg.Metrics.Listen); err != nil {
				return fmt.Errorf("metrics listen %s: %w", cfg.Metrics.Listen, err)
			}
		}
		routes, closeConsole := mux(newSite(m, h, o, nc, v, lim, relays))
		defer closeConsole()
		srv := newServer(routes, lim, m)
		g.Go(func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
		o.Log.Info().Str("addr", ln.Addr().String()).Msg("metrics, health and verification on http")
		if o.Ready != nil {
			o.Ready(ln.Addr().String())
		}
	}
	for _, b := range bridges {
		b.JS = js
		b.OnDelivered = func(id string, st didtypes.AttestationStatus, _ uint64, _ int64) {
			m.relayed.WithLabelValues("evm:"+b.City+"->"+b.Dest.ChainID(), packets.KindEvmAttestation).Inc()
		}
		b.OnFailed = func(reason string) {
			path := "evm:" + b.City + "->" + b.Dest.ChainID()
			if reason == "transient" { // tried again: not a failure
				m.retriedWork(path, packets.KindEvmAttestation, reason, 1)
				return
			}
			m.failedWork(path, packets.KindEvmAttestation, reason, 1)
		}
		b.OnPartFailed = func(part string, err error) {
			h.partFailed(part, err)
			m.restarts.WithLabelValues(part).Inc()
		}
		b.OnLogsMissing = func(n int) { m.evmLogsMissing.WithLabelValues(b.City).Add(float64(n)) }
		b.OnRecheck = func(_, changed int) {
			m.evmRechecks.WithLabelValues(b.City, b.Dest.ChainID()).Inc()
			m.evmChanges.WithLabelValues(b.City, b.Dest.ChainID()).Add(float64(changed))
		}
		m.evmLogsMissing.WithLabelValues(b.City)
		m.evmRechecks.WithLabelValues(b.City, b.Dest.ChainID())
		m.evmChanges.WithLabelValues(b.City, b.Dest.ChainID())
		g.Go(func() error { return b.Run(gctx) })
	}
	g.Go(func() error {
		if len(paths) == 0 {
			return nil
		}
		return pipeline.Run(gctx, pipeline.Options{
			Paths: paths, JS: js, Relayer: relayer.Relayer{Check: m.checkProof(light.VerifyProofAgainstAppHash)},
			BatchMax: cfg.Relay.BatchMaxMsgs, BatchWait: cfg.Relay.BatchMaxWait.Duration, Log: o.Log,
			ClearOnStart: cfg.Relay.ClearOnStart, ClearChunk: cfg.Relay.ClearChunk, InFlight: cfg.Relay.InFlight,
			ClearInterval: cfg.Relay.ClearInterval.Duration, MaxDeliver: cfg.Relay.MaxDeliveries, RetryBase: cfg.Relay.RetryBackoff.Duration,
			Classify:    classify.Describe,
			OnObserved:  m.observedWork,
			OnDelivered: func(d pipeline.Delivered) { m.delivered(d); relays.record(d) },
			OnFailed:    m.failedWork,
			OnRetried:   m.retriedWork,
			OnTxFailed:  m.txFailed,
			OnPartFailed: func(part string, err error) {
				h.partFailed(part, err)
				m.restarts.WithLabelValues(part).Inc()
			},
			OnScanned: func(chain string, height int64) {
				h.scannedTo(chain, height)
				m.scanned.WithLabelValues(chain).Inc()
				m.scanHeight.WithLabelValues(chain).Set(float64(height))
			},
		})
	})
	g.Go(func() error { return watch(gctx, o, paths, m, h, js) })
	o.Log.Info().Int("paths", len(paths)).Int("evm_deliveries", len(bridges)).Msg("relayer started")
	err = g.Wait()
	o.Log.Info().Msg("relayer stopped")
	return err
}

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

// evmBridges are the configured EVM cities' deliveries whose city-qbft client exists (JS and the
// callbacks are set by Run).
func evmBridges(ctx context.Context, o Options) ([]*evmrelay.Bridge, error) {
	var out []*evmrelay.Bridge
	for _, city := range slices.Sorted(maps.Keys(o.Config.EvmCities)) {
		ec := o.Config.EvmCities[city]
		var src *evm.Client
		for _, d := range ec.Deliver {
			if d.ClientID == "" {
				o.Log.Warn().Str("city", city).Str("chain", d.Chain).Msg("no city-qbft client yet (cityrelay tx evm-client); delivery skipped")
				continue
			}
			if src == nil {
				var err error
				if src, err = o.Runtime.EvmCity(ctx, city); err != nil {
					return nil, err
				}
			}
			dest, err := o.Runtime.Chain(d.Chain)
			if err != nil {
				return nil, err
			}
			out = append(out, &evmrelay.Bridge{City: city, Source: src, Dest: dest, Client: d.ClientID, Log: o.Log,
				StartBlock: ec.StartBlock, MaxDeliver: o.Config.Relay.MaxDeliveries, RetryBase: o.Config.Relay.RetryBackoff.Duration,
				StatusRecheck: o.Config.Relay.StatusRecheck.Duration})
		}
	}
	return out, nil
}

// selectPaths names the configured paths to relay, sorted: all of them, or only those named (in
// `cityrelay start PATH...`), each once. Names not in the config are an error that lists them.
func selectPaths(configured map[string]*config.Path, only []string) ([]string, error) {
	var names, unknown []string
	if len(only) == 0 {
		for name := range configured {
			names = append(names, name)
		}
	}
	seen := make(map[string]bool, len(only))
	for _, name := range only {
		switch {
		case seen[name]:
		case configured[name] == nil:
			unknown = append(unknown, name)
		default:
			names = append(names, name)
		}
		seen[name] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: %s (see `cityrelay paths list`)", ErrUnknownPath, strings.Join(unknown, ", "))
	}
	sort.Strings(names)
	return names, nil
}

func denied(f config.Filter, channel string) bool {
	for _, d := range f.Deny {
		if d == channel {
			return true
		}
	}
	if len(f.Allow) == 0 {
		return false
	}
	for _, a := range f.Allow {
		if a == channel {
			return false
		}
	}
	return true
}

// connect starts the embedded server or dials the configured cluster.
func connect(o Options) (*nats.Conn, func(), error) {
	n := o.Config.NATS
	if n.Embedded {
		dir := n.EmbeddedStore(o.Home)
		srv, err := packets.StartEmbedded(dir, n.Listen)
		if err != nil {
			return nil, nil, err
		}
		nc, err := srv.Connect(nats.Name("cityrelay"))
		if err != nil {
			srv.Stop()
			return nil, nil, fmt.Errorf("connect to embedded nats: %w", err)
		}
		o.Log.Info().Str("url", srv.URL()).Str("store", dir).Msg("embedded nats-server with jetstream")
		return nc, func() { _ = nc.Drain(); srv.Stop() }, nil
	}
	opts, err := ClusterOptions(n, o.NATSPassword)
	if err != nil {
		return nil, nil, err
	}
	nc, err := nats.Connect(n.URL, append(opts, nats.Name("cityrelay"), nats.MaxReconnects(-1))...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to nats %s: %w", n.URL, err)
	}
	return nc, func() { _ = nc.Drain() }, nil
}

// streamReplicas is how many copies of each stream and bucket to keep (packets.ResolveReplicas):
// nats.stream_replicas when the server can hold it (a config error naming the key and what the server
// holds when not), or with 0 what the existing streams have or the server supports; logged on one line.
func streamReplicas(ctx context.Context, o Options, nc *nats.Conn, js jetstream.JetStream) (int, error) {
	n := o.Config.NATS
	r, err := packets.ResolveReplicas(ctx, nc, js, n.StreamReplicas)
	if errors.Is(err, packets.ErrReplicasUnsupported) {
		return 0, &config.FieldError{File: filepath.Join(o.Home, "config.toml"), Key: "nats.stream_replicas", Err: err}
	}
	if err != nil {
		return 0, err
	}
	ev := o.Log.Info()
	if r.Capacity.Clustered() && r.Capacity.Servers == 0 {
		ev = o.Log.Warn().Str("hint", "no server of the cluster answered $SYS.REQ.ACCOUNT.PING.STATZ; set nats.stream_replicas")
	}
	ev.Str("cluster", r.Capacity.Cluster).Int("jetstream_servers", r.Capacity.Servers).Int("replicas", r.N).
		Int("stream_replicas", n.StreamReplicas).Str("from", r.From).Msg("nats stream replicas")
	return r.N, nil
}

// ClusterOptions are the client options of a NATS cluster connection: credentials and TLS from the
// config (password is the value of nats.password_env).
func ClusterOptions(n config.NATS, password string) ([]nats.Option, error) {
	var opts []nats.Option
	if n.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(n.CredsFile))
	}
	if n.NKeyFile != "" {
		opt, err := nats.NkeyOptionFromSeed(n.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey: %w", err)
		}
		opts = append(opts, opt)
	}
	if n.User != "" {
		opts = append(opts, nats.UserInfo(n.User, password))
	}
	if n.TLSCA != "" {
		opts = append(opts, nats.RootCAs(n.TLSCA))
	}
	if n.TLSCert != "" {
		opts = append(opts, nats.ClientCert(n.TLSCert, n.TLSKey))
	}
	return opts, nil
}

// watch refreshes clients before a third of their trusting period is left and updates the gauges.
func watch(ctx context.Context, o Options, paths []*relayer.Path, m *metrics, h *health, js jetstream.JetStream) error {
	every := o.RefreshEvery
	if every <= 0 {
		every = refreshEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		checked := map[string]bool{}
		for _, p := range paths {
			for _, e := range []*relayer.End{p.A, p.B} {
				if checked[e.ChainID()] {
					continue
				}
				checked[e.ChainID()] = true
				lb, err := e.Light.VerifyLatest(ctx)
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					h.lightClient(e.ChainID(), 0, time.Time{}, err)
					continue
				}
				h.lightClient(e.ChainID(), lb.Height, lb.Time, nil)
				m.lightHeight.WithLabelValues(e.ChainID()).Set(float64(lb.Height))
				m.lightAge.WithLabelValues(e.ChainID()).Set(time.Since(lb.Time).Seconds())
				m.scanLag.WithLabelValues(e.ChainID()).Set(float64(h.scanLag(e.ChainID())))
				gaugeLag(ctx, e, lb.Height, m)
			}
		}
		for _, p := range paths {
			for _, pair := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
				dst, src := pair[0], pair[1]
				updated, left, err := relayer.Client{Dst: dst, Src: src}.Refresh(ctx, 1.0/3, time.Now())
				if err != nil && ctx.Err() == nil {
					o.Log.Warn().Err(err).Str("path", p.Name).Str("chain", dst.ChainID()).Msg("client refresh failed")
					continue
				}
				if updated {
					m.clientUpdates.WithLabelValues(dst.ChainID()).Inc()
					o.Log.Info().Str("path", p.Name).Str("chain", dst.ChainID()).Str("client", dst.ClientID).Msg("client refreshed")
				}
				m.trustingLeft.WithLabelValues(p.Name, dst.ChainID(), dst.ClientID).Set(left.Seconds())
				gaugeBalance(ctx, dst, m, gasDenom(o.Config, dst.ChainID()))
			}
			gaugeQueues(ctx, p, js, m)
		}
		gaugeDead(ctx, js, m)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// gaugeQueues sets a path's queue gauges from JetStream: per end, its consumer's pending,
// in-flight and redelivered messages, and the recv and ack work waiting in the work stream.
func gaugeQueues(ctx context.Context, p *relayer.Path, js jetstream.JetStream, m *metrics) {
	var backlog uint64
	work, err := js.Stream(ctx, packets.WorkStream)
	for _, dst := range []*relayer.End{p.A, p.B} {
		name := packets.ConsumerName(dst.ChainID(), dst.PortID, dst.ChannelID)
		if c, err := js.Consumer(ctx, packets.WorkStream, name); err == nil {
			if info, err := c.Info(ctx); err == nil {
				m.queue.WithLabelValues(dst.ChainID(), dst.ChannelID).Set(float64(info.NumPending + uint64(info.NumAckPending)))
				m.natsPending.WithLabelValues(name).Set(float64(info.NumPending))
				m.natsAckPend.WithLabelValues(name).Set(float64(info.NumAckPending))
				m.redelivered.WithLabelValues(name).Set(float64(info.NumRedelivered))
				backlog += info.NumPending + uint64(info.NumAckPending)
			}
		}
		if err != nil {
			continue
		}
		end := packets.EndToken(dst.PortID, dst.ChannelID)
		for kind, g := range map[string]*prometheus.GaugeVec{packets.KindRecv: m.unrelayed, packets.KindAck: m.unrelayedAck} {
			subject := packets.WorkSubject(dst.ChainID(), end, kind)
			if info, err := work.Info(ctx, jetstream.WithSubjectFilter(subject)); err == nil {
				g.WithLabelValues(p.Name, dst.ChainID()).Set(float64(info.State.Subjects[subject]))
			}
		}
	}
	m.backlog.WithLabelValues(p.Name).Set(float64(backlog))
}

// gaugeDead sets the dead-letter gauge from the dead-letter stream.
func gaugeDead(ctx context.Context, js jetstream.JetStream, m *metrics) {
	s, err := js.Stream(ctx, packets.DeadStream)
	if err != nil {
		return
	}
	if info, err := s.Info(ctx); err == nil {
		m.deadLetters.WithLabelValues(packets.DeadStream).Set(float64(info.State.Msgs))
	}
}

// statuser is a chain that reports its node's status (an optional capability: the lag gauge is left
// unset on a chain without it).
type statuser interface {
	Status(ctx context.Context) (*coretypes.ResultStatus, error)
}

// gaugeLag sets how many blocks the light client's newest verified header is behind the node.
func gaugeLag(ctx context.Context, e *relayer.End, verified int64, m *metrics) {
	c, ok := e.Chain.(statuser)
	if !ok {
		return
	}
	st, err := c.Status(ctx)
	if err != nil {
		return
	}
	m.lightLag.WithLabelValues(e.ChainID()).Set(float64(max(st.SyncInfo.LatestBlockHeight-verified, 0)))
}

// balancer is a chain that reports an account's balances (an optional capability: the gauge is
// left unset on a chain without it).
type balancer interface {
	Balances(ctx context.Context, addr string) (sdk.Coins, error)
}

// gasDenom is the denomination of chain's gas price ("" when it is not configured or does not parse).
func gasDenom(cfg *config.Config, chain string) string {
	if cfg == nil || cfg.Chains[chain] == nil {
		return ""
	}
	c, err := sdk.ParseDecCoin(cfg.Chains[chain].GasPrice)
	if err != nil {
		return ""
	}
	return c.Denom
}

// gaugeBalance sets the balance gauge of e's key in denom, the gas price's: anyone can send the key
// tokens of any denomination, and a label per denomination would let them grow the series.
func gaugeBalance(ctx context.Context, e *relayer.End, m *metrics, denom string) {
	c, ok := e.Chain.(balancer)
	if !ok {
		return
	}
	addr, err := e.Chain.Address(ctx)
	if err != nil {
		return
	}
	balances, err := c.Balances(ctx, addr)
	if err != nil {
		return
	}
	if denom == "" {
		return
	}
	f, _ := balances.AmountOf(denom).ToLegacyDec().Float64()
	m.balance.WithLabelValues(e.ChainID(), denom).Set(f)
}

// site is what the daemon's HTTP routes serve from.
type site struct {
	m   *metrics
	h   *health
	o   Options
	nc  *nats.Conn
	v   *verifiers
	lim limits
	// gate admits verifications (HTTP and console); newSite makes it.
	gate *gate
	// relays are the newest relay txs by path, for the console (nil: none).
	relays *lastRelays
}

// newSite is what the HTTP side serves, with its verification gate.
func newSite(m *metrics, h *health, o Options, nc *nats.Conn, v *verifiers, lim limits, relays *lastRelays) site {
	return site{m: m, h: h, o: o, nc: nc, v: v, lim: lim, gate: newGate(lim, o.Config.Verify.MaxPerSecond, o.Config.Verify.MaxPerClient, m), relays: relays}
}

// lastRelays keeps the newest relay tx this daemon committed for each path.
type lastRelays struct {
	mu     sync.Mutex
	byPath map[string]console.LastRelay
}

// record is pipeline.Options.OnDelivered's part for the console.
func (l *lastRelays) record(d pipeline.Delivered) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byPath[d.Path] = console.LastRelay{Chain: d.To, Kind: d.Kind, Tx: d.TxHash, Height: d.Height, Packets: len(d.Sequences), At: time.Now().UTC()}
}

// last is console.Options.LastRelay.
func (l *lastRelays) last(path string) (console.LastRelay, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.byPath[path]
	return r, ok
}

// natsUp reports whether the NATS connection is up (false without one).
func (s site) natsUp() bool { return s.nc != nil && s.nc.IsConnected() }

// mux is every route of the daemon's HTTP side (one listener, loopback by default): /metrics,
// /healthz (liveness), /readyz (readiness), GET /v1/attestations/{chain}/{origin}/{id} and the web
// console (/ and /console/...) when console.enabled. Add a
// route here; newServer puts the timeouts and size caps in front of all of them.
func mux(s site) (*http.ServeMux, func()) {
	mux := http.NewServeMux()
	closeConsole := func() {}
	if s.o.Config.Console.Enabled {
		co := console.Options{Config: s.o.Config, Runtime: s.o.Runtime, NC: s.nc, Metrics: s.m.reg, AdminToken: s.o.ConsoleToken, Log: s.o.Log,
			Verify: s.verification}
		if s.relays != nil {
			co.LastRelay = s.relays.last
		}
		c, err := console.New(co)
		if err != nil {
			s.o.Log.Warn().Err(err).Msg("web console not served")
		} else {
			c.Mount(mux)
			closeConsole = func() { _ = c.Close() }
		}
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz(s.h, s.v, s.o.Config.Verify.MaxHeaderAge.Duration, s.natsUp, s.m, s.o.Log))
	mux.Handle("GET /v1/attestations/{chain}/{origin}/{id}", attestations(s))
	return mux, closeConsole
}

// openChains opens every configured chain and its light client before anything is served: a
// request never opens one (a file keyring would ask for its passphrase). A light client that cannot
// open (its node down) is logged and its chain answers 503 until the daemon restarts.
func openChains(ctx context.Context, o Options, lim limits, m *metrics) (*verifiers, error) {
	v := &verifiers{byChain: map[string]*verifier{}, evm: map[string]verify.EvmHeaders{}, unopened: map[string]error{}}
	for id := range o.Config.Chains {
		c, err := o.Runtime.Chain(id)
		if err != nil {
			return nil, err
		}
		lc, err := o.Runtime.Light(ctx, id)
		if err != nil {
			o.Log.Warn().Err(err).Str("chain", id).Msg("light client did not open; verifications on this chain answer 503")
			v.byChain[id] = &verifier{prover: c, headers: &freshHeaders{lc: unopened{id}, share: lim.ShareHeader, now: time.Now, verifyTimeout: lim.Request}}
			continue
		}
		v.byChain[id] = &verifier{prover: c, headers: &freshHeaders{lc: lc, share: lim.ShareHeader, now: time.Now,
			verifyTimeout: lim.Request, onShared: m.headerShared.WithLabelValues(id).Inc}}
		m.witnesses.add(id, lc)
	}
	// EVM cities are origins too: verify proves their registry's status of what they issued.
	for _, city := range slices.Sorted(maps.Keys(o.Config.EvmCities)) {
		ec, err := o.Runtime.EvmCity(ctx, city)
		if err != nil {
			o.Log.Warn().Err(err).Str("city", city).Msg("EVM city's light client did not open; its attestations cannot be verified freshly until the daemon restarts")
			v.unopened[city] = err
			continue
		}
		v.evm[city] = ec
		m.witnesses.add(city, ec) // its witnesses' status, faulty ones too (metrics, /readyz)
	}
	return v, nil
}

// unopened is the header source of a chain whose light client did not open at start.
type unopened struct{ chain string }

func (u unopened) VerifyFresh(context.Context, time.Duration) (*cmttypes.LightBlock, error) {
	return nil, fmt.Errorf("light client of %s did not open at start", u.chain)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
