// Package daemon is `cityrelay start`: the pipelines over NATS, client refresh, metrics, health and
// the attestation verification endpoint, with graceful shutdown.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/evm"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
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
}

// refreshEvery is how often client expiry is checked: far below any trusting period.
const refreshEvery = 30 * time.Second

// Run runs the daemon until ctx ends.
func Run(ctx context.Context, o Options) error {
	cfg := o.Config
	var paths []*relayer.Path
	for name, pc := range cfg.Paths {
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
	bridges, err := evmBridges(ctx, o)
	if err != nil {
		return err
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
	if err := packets.Setup(ctx, js, cfg.NATS.Replicas(), cfg.NATS.DuplicateWindow.Duration); err != nil {
		return err
	}

	m := newMetrics()
	h := newHealth()
	g, gctx := errgroup.WithContext(ctx)
	if cfg.Metrics.Enabled {
		ln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			return fmt.Errorf("metrics listen %s: %w", cfg.Metrics.Listen, err)
		}
		srv := &http.Server{Handler: mux(m, h, o, nc), ReadHeaderTimeout: 5 * time.Second}
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
			m.failed.WithLabelValues("evm:"+b.City+"->"+b.Dest.ChainID(), packets.KindEvmAttestation, reason).Inc()
		}
		b.OnPartFailed = func(part string, err error) {
			h.partFailed(part, err)
			m.restarts.WithLabelValues(part).Inc()
		}
		g.Go(func() error { return b.Run(gctx) })
	}
	g.Go(func() error {
		if len(paths) == 0 {
			return nil
		}
		return pipeline.Run(gctx, pipeline.Options{
			Paths: paths, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
			BatchMax: cfg.Relay.BatchMaxMsgs, BatchWait: cfg.Relay.BatchMaxWait.Duration, Log: o.Log,
			ClearOnStart: cfg.Relay.ClearOnStart, ClearChunk: cfg.Relay.ClearChunk, InFlight: cfg.Relay.InFlight,
			ClearInterval: cfg.Relay.ClearInterval.Duration, MaxDeliver: cfg.Relay.MaxDeliveries, RetryBase: cfg.Relay.RetryBackoff.Duration,
			OnObserved: func(w *packets.Work) { m.observed.WithLabelValues(w.Path, w.Kind, w.Class).Inc() },
			OnDelivered: func(d pipeline.Delivered) {
				m.relayed.WithLabelValues(d.Path, d.Kind).Add(float64(len(d.Sequences)))
				if d.Kind == packets.KindRecv {
					m.latency.WithLabelValues(d.Path).Observe(d.Latency.Seconds())
				}
			},
			OnFailed: func(path, kind, reason string, n int) { m.failed.WithLabelValues(path, kind, reason).Add(float64(n)) },
			OnPartFailed: func(part string, err error) {
				h.partFailed(part, err)
				m.restarts.WithLabelValues(part).Inc()
			},
			OnScanned: h.scannedTo,
		})
	})
	g.Go(func() error { return watch(gctx, o, paths, m, h, js) })
	o.Log.Info().Int("paths", len(paths)).Int("evm_deliveries", len(bridges)).Msg("relayer started")
	err = g.Wait()
	o.Log.Info().Msg("relayer stopped")
	return err
}

// evmBridges are the configured EVM cities' deliveries whose city-qbft client exists (JS and the
// callbacks are set by Run).
func evmBridges(ctx context.Context, o Options) ([]*evmrelay.Bridge, error) {
	var out []*evmrelay.Bridge
	for _, city := range sortedCities(o.Config.EvmCities) {
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
				StartBlock: ec.StartBlock, MaxDeliver: o.Config.Relay.MaxDeliveries, RetryBase: o.Config.Relay.RetryBackoff.Duration})
		}
	}
	return out, nil
}

func sortedCities(m map[string]*config.EvmCity) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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
	t := time.NewTicker(refreshEvery)
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
			}
		}
		for _, p := range paths {
			for _, pair := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
				dst, src := pair[0], pair[1]
				updated, left, err := relayer.RefreshClient(ctx, dst, src, 1.0/3, time.Now())
				if err != nil && ctx.Err() == nil {
					o.Log.Warn().Err(err).Str("path", p.Name).Str("chain", dst.ChainID()).Msg("client refresh failed")
					continue
				}
				if updated {
					o.Log.Info().Str("path", p.Name).Str("chain", dst.ChainID()).Str("client", dst.ClientID).Msg("client refreshed")
				}
				m.expiry.WithLabelValues(p.Name, dst.ChainID(), dst.ClientID).Set(left.Seconds())
				gaugeBalance(ctx, dst, m)
				if c, err := js.Consumer(ctx, packets.WorkStream, packets.ConsumerName(dst.ChainID(), dst.PortID, dst.ChannelID)); err == nil {
					if info, err := c.Info(ctx); err == nil {
						m.queue.WithLabelValues(dst.ChainID(), dst.ChannelID).Set(float64(info.NumPending + uint64(info.NumAckPending)))
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// balancer is a chain that reports an account's balances (an optional capability: the gauge is
// left unset on a chain without it).
type balancer interface {
	Balances(ctx context.Context, addr string) (sdk.Coins, error)
}

func gaugeBalance(ctx context.Context, e *relayer.End, m *metrics) {
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
	for _, coin := range balances {
		f, _ := coin.Amount.ToLegacyDec().Float64()
		m.balance.WithLabelValues(e.ChainID(), coin.Denom).Set(f)
	}
}

// mux serves /metrics, /healthz, GET /v1/attestations/{chain}/{origin}/{id} and the web console (/ and
// /console/...) when console.enabled.
func mux(m *metrics, h *health, o Options, nc *nats.Conn) *http.ServeMux {
	mux := http.NewServeMux()
	if o.Config.Console.Enabled {
		c, err := console.New(console.Options{Config: o.Config, Runtime: o.Runtime, NC: nc, Metrics: m.reg, AdminToken: o.ConsoleToken, Log: o.Log})
		if err != nil {
			o.Log.Warn().Err(err).Msg("web console not served")
		} else {
			c.Mount(mux)
		}
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		up := nc.IsConnected()
		m.natsUp.Set(b2f(up))
		reasons := h.reasons(up)
		m.healthy.Set(b2f(len(reasons) == 0))
		if len(reasons) > 0 {
			// One reason a line: a stale or divergent light client, a lagging scanner, a part that
			// keeps failing, NATS down.
			http.Error(w, strings.Join(reasons, "\n"), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /v1/attestations/{chain}/{origin}/{id}", func(w http.ResponseWriter, r *http.Request) {
		chain, origin, id := r.PathValue("chain"), r.PathValue("origin"), r.PathValue("id")
		w.Header().Set("Content-Type", "application/json")
		fail := func(code int, err error) {
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "could-not-verify", "error": err.Error()})
		}
		if _, ok := o.Config.Chains[chain]; !ok {
			fail(http.StatusNotFound, fmt.Errorf("chain %q is not configured", chain))
			return
		}
		c, err := o.Runtime.Chain(chain)
		if err != nil {
			fail(http.StatusBadGateway, err)
			return
		}
		lc, err := o.Runtime.Light(r.Context(), chain)
		if err != nil {
			fail(http.StatusBadGateway, err)
			return
		}
		res, err := verify.Attestation(r.Context(), c, lc, origin, strings.ToLower(id),
			verify.Options{MaxHeaderAge: o.Config.Verify.MaxHeaderAge.Duration, Now: time.Now()})
		if err != nil {
			// No verified, fresh answer: unavailable, not negative.
			fail(http.StatusServiceUnavailable, err)
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	})
	return mux
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
