package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/relayer/console"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// serveSite serves the site (metrics, health, verification, console) on o.Listener or a listener on
// metrics.listen until ctx ends, in g; closeSite closes the console once g is done.
func serveSite(ctx context.Context, g *errgroup.Group, s site) (closeSite func(), err error) {
	ln := s.o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", s.o.Config.Metrics.Listen); err != nil {
			return nil, fmt.Errorf("metrics listen %s: %w", s.o.Config.Metrics.Listen, err)
		}
	}
	routes, closeConsole := mux(s)
	srv := newServer(routes, s.lim, s.m)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	s.o.Log.Info().Str("addr", ln.Addr().String()).Msg("metrics, health and verification on http")
	if s.o.Ready != nil {
		s.o.Ready(ln.Addr().String())
	}
	return closeConsole, nil
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
	// admin serves the admin clear (ClearRoute; nil: not served).
	admin *adminClear
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
	if s.admin != nil {
		mux.Handle("POST "+ClearRoute, s.admin)
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
