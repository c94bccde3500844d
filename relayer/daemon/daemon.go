// Package daemon is `cityrelay start`: the pipelines over NATS, client refresh, metrics, health and
// the attestation verification endpoint, with graceful shutdown.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/classify"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/console"
	"github.com/cityrelay/cityrelay/relayer/evmrelay"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// Options configure the daemon.
type Options struct {
	Home    string
	Config  *config.Config
	Runtime *assemble.Runtime
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
	// UpgradeEvery is how often each served chain's upgrade plan is read (upgrades.go; 30 s when zero).
	UpgradeEvery time.Duration
	// MaxVerifications is how many verification requests are answered at once (default 8): each is
	// a few proven queries to the chain's node, which the relaying needs too.
	MaxVerifications int
}

// refreshEvery is how often client expiry is checked: far below any trusting period.
const refreshEvery = 30 * time.Second

// Run runs the daemon until ctx ends: the paths' pipelines and the EVM cities' deliveries over the
// JetStream work queue, client refresh and gauges, and the HTTP side (metrics, health, verification,
// console) when metrics.enabled.
func Run(ctx context.Context, o Options) error {
	if o.Listener != nil {
		defer o.Listener.Close() // closed already once served; this covers every early return
	}
	paths, bridges, err := relayed(ctx, o)
	if err != nil {
		return err
	}
	nc, js, stopNATS, err := openQueue(ctx, o)
	if err != nil {
		return err
	}
	defer stopNATS()
	m := newMetrics(nc)
	freezeOnFork(ctx, o.Log, m, paths)
	m.instrument(paths)
	m.gas.add(paths)
	m.knownServices(o.Config.Metrics.ServiceTypes)
	m.zero(o.Config, paths)
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
	watchUpdates(gctx, g, o.Log, m, paths)
	relays := &lastRelays{byPath: map[string]console.LastRelay{}}
	popts := pipelineOptions(o, paths, js, m, h, relays, nil)
	clears := newClearMetrics(m.reg)
	withExclusions(&popts, paths, clears)
	withMinFees(&popts, paths, m.reg)
	if o.Config.Metrics.Enabled {
		s := newSite(m, h, o, nc, v, lim, relays)
		s.admin = newAdminClear(gctx, o, paths, popts, clears)
		closeSite, err := serveSite(gctx, g, s)
		if err != nil {
			return err
		}
		defer closeSite()
	}
	for _, b := range bridges {
		g.Go(func() error { return runBridge(gctx, b, js, m, h) })
	}
	if len(paths) > 0 {
		g.Go(func() error { return pipeline.Run(gctx, popts) })
	}
	g.Go(func() error { return watch(gctx, o, paths, m, h, js) })
	g.Go(func() error { return watchUpgrades(gctx, paths, m.reg, o.Log, o.UpgradeEvery) })
	if o.Config.Relay.CompleteHandshakes {
		if err := startCompleter(gctx, g, o, js, m, h, relays, &derivedPaths{}); err != nil {
			return err
		}
	}
	o.Log.Info().Int("paths", len(paths)).Int("evm_deliveries", len(bridges)).Msg("relayer started")
	err = g.Wait()
	o.Log.Info().Msg("relayer stopped")
	return err
}

// relayed are the paths and EVM deliveries to run: the selected paths that are linked and not
// filtered out, and (when no path was named) the EVM cities' deliveries. None is an error.
func relayed(ctx context.Context, o Options) ([]*relayer.Path, []*evmrelay.Bridge, error) {
	names, err := selectPaths(o.Config.Paths, o.Paths)
	if err != nil {
		return nil, nil, err
	}
	var paths []*relayer.Path
	for _, name := range names {
		pc := o.Config.Paths[name]
		if pc.Src.ChannelID == "" || pc.Dst.ChannelID == "" {
			o.Log.Warn().Str("path", name).Msg("path not linked yet (cityrelay tx link); skipped")
			continue
		}
		if !o.Config.EndAllowed(name, pc.Src.Chain, pc.Src.PortID, pc.Src.ChannelID) || !o.Config.EndAllowed(name, pc.Dst.Chain, pc.Dst.PortID, pc.Dst.ChannelID) {
			o.Log.Info().Str("path", name).Str("src_channel", pc.Src.PortID+"/"+pc.Src.ChannelID).Str("dst_channel", pc.Dst.PortID+"/"+pc.Dst.ChannelID).
				Msg("path's channel filtered out by its filter or a chain's packet_filter: not relayed")
			continue
		}
		p, err := o.Runtime.Path(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		paths = append(paths, p)
	}
	var bridges []*evmrelay.Bridge
	if len(o.Paths) == 0 {
		if bridges, err = evmBridges(ctx, o); err != nil {
			return nil, nil, err
		}
	}
	if len(paths) == 0 && len(bridges) == 0 && !(o.Config.Relay.CompleteHandshakes && anyLinked(o.Config, names)) {
		return nil, nil, errors.New("no linked path to relay: run `cityrelay tx link PATH` first (or `cityrelay tx evm-client` for an EVM city)")
	}
	return paths, bridges, nil
}

// runBridge runs one EVM city's delivery on the work queue, its outcomes counted and its failing
// parts reported to health.
func runBridge(ctx context.Context, b *evmrelay.Bridge, js jetstream.JetStream, m *metrics, h *health) error {
	path := "evm:" + b.City + "->" + b.Dest.ChainID()
	b.JS = js
	b.OnDelivered = func(id string, st didtypes.AttestationStatus, _ uint64, _ int64) {
		m.relayed.WithLabelValues(path, packets.KindEvmAttestation).Inc()
	}
	b.OnFailed = func(reason string) {
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
	return b.Run(ctx)
}

// runPipelines runs the scanners and submitters of paths the daemon opened for a counterparty
// (handshakes.go) with the config's relay settings and their configured parent path's filter.
func runPipelines(ctx context.Context, o Options, paths []*relayer.Path, js jetstream.JetStream, m *metrics, h *health, relays *lastRelays, derived *derivedPaths) error {
	return pipeline.Run(ctx, pipelineOptions(o, paths, js, m, h, relays, derived))
}

// pipelineOptions are the options of the paths' scanners and submitters on the work queue
// (pipeline.Run, and the admin clear's pipeline.Clear) with the config's relay settings, every outcome
// counted, deliveries recorded for the console.
func pipelineOptions(o Options, paths []*relayer.Path, js jetstream.JetStream, m *metrics, h *health, relays *lastRelays, derived *derivedPaths) pipeline.Options {
	cfg := o.Config
	return pipeline.Options{
		Paths: paths, JS: js, Relayer: relayer.Relayer{Check: m.checkProof(light.VerifyProofAgainstAppHash)},
		BatchMax: cfg.Relay.BatchMaxMsgs, BatchWait: cfg.Relay.BatchMaxWait.Duration, Log: o.Log,
		ClearOnStart: cfg.Relay.ClearOnStart, ClearChunk: cfg.Relay.ClearChunk, InFlight: cfg.Relay.InFlight,
		ClearInterval: cfg.Relay.ClearInterval.Duration, MaxDeliver: cfg.Relay.MaxDeliveries, RetryBase: cfg.Relay.RetryBackoff.Duration,
		Classify: classify.Describe,
		Allowed: func(path string, e *relayer.End) bool {
			return o.Config.EndAllowed(derived.filterPath(path), e.ChainID(), e.PortID, e.ChannelID)
		},
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
	}
}

// evmBridges are the configured EVM cities' deliveries whose city-qbft client exists (JS and the
// callbacks are set by Run).
func evmBridges(ctx context.Context, o Options) ([]*evmrelay.Bridge, error) {
	var out []*evmrelay.Bridge
	for _, city := range slices.Sorted(maps.Keys(o.Config.EvmCities)) {
		ec := o.Config.EvmCities[city]
		var src assemble.EvmCity
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

// anyLinked: one of the named paths is linked (its channel filtered out, handshakes others start on
// its connection can still be completed).
func anyLinked(cfg *config.Config, names []string) bool {
	for _, n := range names {
		if pc := cfg.Paths[n]; pc != nil && linked(pc) {
			return true
		}
	}
	return false
}

// linked: the path's connection and channel are recorded on both ends (`tx link` finished).
func linked(pc *config.Path) bool {
	return pc.Src.ConnectionID != "" && pc.Dst.ConnectionID != "" && pc.Src.ChannelID != "" && pc.Dst.ChannelID != ""
}
