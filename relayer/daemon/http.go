package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// limits bound what one client of the daemon's HTTP side can hold: connections, time, bytes and
// verifications. defaultLimits states the defaults; tests shorten them.
type limits struct {
	// ReadHeader cuts a connection that has not sent its request headers in time (a slow-loris).
	ReadHeader time.Duration
	// Read bounds reading a whole request, Write writing a reply (from the end of the headers),
	// Idle a keep-alive connection between requests.
	Read, Write, Idle time.Duration
	// Request is every request's deadline (its context ends then), except event streams.
	Request time.Duration
	// MaxHeaderBytes and MaxBodyBytes cap a request's headers (431 past it) and body (413).
	MaxHeaderBytes int
	MaxBodyBytes   int64
	// Verifications is how many verification requests are answered at once; one more waits at most
	// SlotWait for a slot, then is refused with 503 and Retry-After.
	Verifications int
	SlotWait      time.Duration
	// ShareHeader is how long a verified header answers every request for its chain: 200 requests a
	// second cost one light-client update, not 200 under the lock the relaying uses.
	ShareHeader time.Duration
}

func defaultLimits() limits {
	return limits{
		ReadHeader: 5 * time.Second, Read: 10 * time.Second,
		// Write covers the request deadline plus the time to send the reply.
		Write: 20 * time.Second, Idle: 60 * time.Second, Request: 15 * time.Second,
		MaxHeaderBytes: 16 << 10, MaxBodyBytes: 64 << 10,
		// A verification is a few proven queries to the node. Measured (BenchmarkVerifyUnderLoad, 200
		// clients, 2 shared cores, devnet in process): 8 at once and no budget answered 2,000-2,700/s
		// with p99 0.17-0.29 s, and relaying fell to 67-82 % of its pace alone; 32 at once only queue
		// on the node and the CPU. verify.max_per_second (default 100) keeps relaying at 93-96 %
		// (BENCHMARKS.md).
		Verifications: 8, SlotWait: 500 * time.Millisecond,
		// Blocks come every 1-6 s: a header this young is as fresh as the chain.
		ShareHeader: 2 * time.Second,
	}
}

// newServer is the daemon's HTTP server over h with the limits' timeouts.
func newServer(h http.Handler, l limits, m *metrics) *http.Server {
	return &http.Server{Handler: guard(h, l, m), ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read,
		WriteTimeout: l.Write, IdleTimeout: l.Idle, MaxHeaderBytes: l.MaxHeaderBytes}
}

// guard caps every request's body and sets its deadline. An event stream (Accept:
// text/event-stream) has no deadline: its handler extends its write deadline with
// http.ResponseController as it streams.
func guard(h http.Handler, l limits, m *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > l.MaxBodyBytes {
			m.rejected.WithLabelValues("too_large").Inc()
			http.Error(w, fmt.Sprintf("request body over %d bytes", l.MaxBodyBytes), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, l.MaxBodyBytes)
		ctx := context.WithValue(r.Context(), clientCtxKey{}, clientOf(r.RemoteAddr))
		if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, l.Request)
			defer cancel()
		}
		r = r.WithContext(ctx)
		h.ServeHTTP(w, r)
	})
}

// clientCtxKey carries the client a request comes from (clientOf) to the verification gate.
type clientCtxKey struct{}

// clientOf names the client of a request by its remote address: the IP, and an IPv6 address by its
// /64 (one host is given a whole /64). The daemon has no API token for verifications (the console's
// admin token guards only its admin actions), and a forwarded-for header is whatever the client
// writes, so neither names a client.
func clientOf(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// freshHeaders answers VerifyFresh for one chain from a header verified at most share ago, shared by
// every caller; one verification runs at a time (single flight) and a failure is shared as well, so
// a down node is not asked once per request.
type freshHeaders struct {
	lc    verify.FreshHeaders
	share time.Duration
	now   func() time.Time
	// verifyTimeout bounds one verification, whichever request started it.
	verifyTimeout time.Duration
	onShared      func()

	flight singleflight.Group
	mu     sync.Mutex
	lb     *cmttypes.LightBlock
	err    error
	at     time.Time
}

var _ verify.OriginHeaders = (*freshHeaders)(nil)

// verifiedHeights is the rest of a light client that verify needs of an origin (*light.Client).
type verifiedHeights interface {
	VerifyHeight(ctx context.Context, h int64) (*cmttypes.LightBlock, error)
	ValidatorsAt(ctx context.Context, h int64, hash []byte) (*cmttypes.ValidatorSet, error)
}

// VerifyHeight is the light client's verified header at h (not shared: each height is its own).
func (f *freshHeaders) VerifyHeight(ctx context.Context, h int64) (*cmttypes.LightBlock, error) {
	lc, ok := f.lc.(verifiedHeights)
	if !ok {
		return nil, fmt.Errorf("no light client: %w", errNoLightClient)
	}
	return lc.VerifyHeight(ctx, h)
}

// ValidatorsAt is the light client's validator set at h, checked against hash.
func (f *freshHeaders) ValidatorsAt(ctx context.Context, h int64, hash []byte) (*cmttypes.ValidatorSet, error) {
	lc, ok := f.lc.(verifiedHeights)
	if !ok {
		return nil, fmt.Errorf("no light client: %w", errNoLightClient)
	}
	return lc.ValidatorsAt(ctx, h, hash)
}

// errNoLightClient: the chain's light client did not open at start.
var errNoLightClient = errors.New("the chain's light client did not open at start")

// VerifyFresh returns the shared header if it is young enough for maxAge, else verifies one.
func (f *freshHeaders) VerifyFresh(ctx context.Context, maxAge time.Duration) (*cmttypes.LightBlock, error) {
	f.mu.Lock()
	lb, err, at := f.lb, f.err, f.at
	f.mu.Unlock()
	now := f.now()
	if now.Sub(at) < f.share && (err != nil || now.Sub(lb.Time) <= maxAge) {
		if f.onShared != nil {
			f.onShared()
		}
		return lb, err
	}
	ch := f.flight.DoChan(strconv.FormatInt(int64(maxAge), 10), func() (any, error) {
		// Not the caller's context: the result serves every request waiting on it.
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.verifyTimeout)
		defer cancel()
		lb, err := f.lc.VerifyFresh(vctx, maxAge)
		f.mu.Lock()
		f.lb, f.err, f.at = lb, err, f.now()
		f.mu.Unlock()
		return lb, err
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*cmttypes.LightBlock), nil
	}
}

// requestID names a request in the log so a generic error reply can be matched to its detail.
func requestID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// gate admits verification requests, from the HTTP endpoint and the console alike: at most
// perSecond a second (a token bucket of l.Verifications; none when perSecond is 0), at most
// perClient a second from one client (clientOf; none when perClient is 0), so one caller cannot take
// the whole budget from the others, and at most l.Verifications at once. A request the budgets would
// make wait longer than l.SlotWait, or that finds no slot within it, is refused with ErrBusy.
type gate struct {
	slots    chan struct{}
	budget   *rate.Limiter
	slotWait time.Duration
	m        *metrics
	// reserveMu orders taking (and giving back) tokens of the budgets.
	reserveMu sync.Mutex

	// perClient and clientBurst shape each client's bucket; clients holds them, at most maxClients
	// (past it, the clients not in the map share overflow).
	perClient   rate.Limit
	clientBurst int
	mu          sync.Mutex
	clients     map[string]*rate.Limiter
	overflow    *rate.Limiter
	maxClients  int
	lastSweep   time.Time
}

// maxGateClients bounds the per-client buckets a gate keeps (a bucket whose burst is back full is
// dropped as if never made).
const maxGateClients = 4096

func newGate(l limits, perSecond, perClient int, m *metrics) *gate {
	g := &gate{slots: make(chan struct{}, l.Verifications), slotWait: l.SlotWait, m: m, maxClients: maxGateClients}
	if perSecond > 0 {
		g.budget = rate.NewLimiter(rate.Limit(perSecond), l.Verifications)
	}
	if perClient > 0 {
		g.perClient, g.clientBurst = rate.Limit(perClient), max(1, min(perClient, l.Verifications))
		g.clients = map[string]*rate.Limiter{}
		g.overflow = rate.NewLimiter(g.perClient, g.clientBurst)
	}
	return g
}

// clientBudget is client's bucket (nil without a per-client share).
func (g *gate) clientBudget(client string) *rate.Limiter {
	if g.clients == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if l, ok := g.clients[client]; ok {
		return l
	}
	if len(g.clients) >= g.maxClients {
		// At most one sweep a second: a crowd of new addresses does not make every request walk the map.
		if now := time.Now(); now.Sub(g.lastSweep) >= time.Second {
			g.lastSweep = now
			for k, l := range g.clients {
				if l.TokensAt(now) >= float64(g.clientBurst) {
					delete(g.clients, k)
				}
			}
		}
		if len(g.clients) >= g.maxClients {
			return g.overflow
		}
	}
	l := rate.NewLimiter(g.perClient, g.clientBurst)
	g.clients[client] = l
	return l
}

// enter waits for the budgets and a slot; release gives the slot back. The client is the request's
// (clientOf, set by guard); a context without one counts as the client "".
func (g *gate) enter(ctx context.Context) (release func(), err error) {
	wait := time.NewTimer(g.slotWait)
	defer wait.Stop()
	var delay time.Duration
	var reserved []*rate.Reservation
	cancel := func() {
		for _, r := range reserved {
			r.Cancel()
		}
	}
	client, _ := ctx.Value(clientCtxKey{}).(string)
	// Reserving and cancelling under one lock: a reservation cancelled while a later one stands
	// restores nothing, so interleaved refusals would leak tokens and starve every caller.
	g.reserveMu.Lock()
	if cb := g.clientBudget(client); cb != nil {
		r := cb.Reserve()
		if delay = r.Delay(); delay > g.slotWait {
			r.Cancel()
			g.reserveMu.Unlock()
			g.m.rejected.WithLabelValues("over_client_share").Inc()
			return nil, fmt.Errorf("%w: over one client's share of the verifications a second", ErrBusy)
		}
		reserved = append(reserved, r)
	}
	if g.budget != nil {
		r := g.budget.Reserve()
		d := r.Delay()
		if d > g.slotWait {
			r.Cancel()
			cancel()
			g.reserveMu.Unlock()
			g.m.rejected.WithLabelValues("over_budget").Inc()
			return nil, fmt.Errorf("%w: over the budget of verifications a second", ErrBusy)
		}
		delay = max(delay, d)
		reserved = append(reserved, r)
	}
	g.reserveMu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			g.reserveMu.Lock()
			cancel()
			g.reserveMu.Unlock()
			return nil, ctx.Err()
		}
	}
	select {
	case g.slots <- struct{}{}:
		g.m.attInFlight.Inc()
		return func() { g.m.attInFlight.Dec(); <-g.slots }, nil
	case <-wait.C:
		g.m.rejected.WithLabelValues("busy").Inc()
		return nil, fmt.Errorf("%w: every verification slot is taken", ErrBusy)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// verification runs one verification through the gate against the chain's shared fresh header, and
// the origin's own status against the origin's (a Cosmos city's shared fresh header, or an EVM city's
// newest verified block); through the hub via when not "".
func (s site) verification(ctx context.Context, chain, origin, id, via string) (*verify.Result, error) {
	return s.verifyOnce(ctx, chain, origin, id, false, via)
}

// verifyOnce is verification, or with relayedOnly the relayed record's answer alone, through the hub
// via when not "" (its and the origin's configured nodes serve the proofs).
func (s site) verifyOnce(ctx context.Context, chain, origin, id string, relayedOnly bool, via string) (*verify.Result, error) {
	c, ok := s.v.chain(chain)
	if !ok {
		return nil, fmt.Errorf("%w: chain %q is not configured", verify.ErrCouldNotVerify, chain)
	}
	release, err := s.gate.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return verify.Attestation(ctx, c.prover, c.headers, origin, id,
		verify.Options{MaxHeaderAge: s.o.Config.Verify.MaxHeaderAge.Duration, Now: time.Now(), Origins: s.v.origin,
			MaxOriginAge: s.o.Config.Verify.MaxOriginAge.Duration, RelayedOnly: relayedOnly, Via: via, Nodes: s.v.node})
}

// attestations serves GET /v1/attestations/{chain}/{origin}/{id}, each request admitted by the
// gate and answered from its chain's shared fresh header. An error reply names no address (RPC URLs
// may carry API keys): a generic reason and a request id; the detail goes to the log.
func attestations(s site) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		chain, origin, id := r.PathValue("chain"), r.PathValue("origin"), strings.ToLower(r.PathValue("id"))
		w.Header().Set("Content-Type", "application/json")
		start := time.Now()
		reply := func(code int, body any) {
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(body)
			s.m.attRequests.WithLabelValues(chain, strconv.Itoa(code)).Inc()
			s.m.attSeconds.WithLabelValues(chain).Observe(time.Since(start).Seconds())
		}
		fail := func(code int, reason string) {
			reply(code, map[string]string{"status": "could-not-verify", "error": reason})
		}
		if _, ok := s.v.chain(chain); !ok {
			chain = "unknown" // a label per unknown name would let a client grow the series without bound
			fail(http.StatusNotFound, "chain is not configured")
			return
		}
		if didtypes.ValidateChainID(origin) != nil || len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
			fail(http.StatusBadRequest, "give a city chain id as origin and a 64-hex-character attestation id")
			return
		}
		relayedOnly := false
		if v := r.URL.Query().Get("relayed_only"); v != "" {
			var err error
			if relayedOnly, err = strconv.ParseBool(v); err != nil {
				fail(http.StatusBadRequest, "relayed_only must be true or false")
				return
			}
		}
		// ?via=HUB verifies through the association's hub (the chain holds only a client of it).
		via := r.URL.Query().Get("via")
		if via != "" && didtypes.ValidateChainID(via) != nil {
			fail(http.StatusBadRequest, "via must be a city chain id (the hub)")
			return
		}
		res, err := s.verifyOnce(r.Context(), chain, origin, id, relayedOnly, via)
		switch {
		case errors.Is(err, ErrBusy):
			w.Header().Set("Retry-After", "1")
			fail(http.StatusServiceUnavailable, "too many verifications: retry in a second")
		case r.Context().Err() != nil:
			return
		case errors.Is(err, verify.ErrNotCityChain):
			fail(http.StatusUnprocessableEntity, fmt.Sprintf("%s is not a city chain (its node says it has no did module): it holds no attestations to verify", chain))
		case errors.Is(err, verify.ErrNotFresh):
			rid := requestID()
			s.o.Log.Warn().Err(err).Str("chain", chain).Str("origin", origin).Str("id", id).Str("request", rid).Msg("origin's status not proven")
			// Not valid from the relayed record alone: the origin may have revoked it since.
			fail(http.StatusServiceUnavailable, fmt.Sprintf("cannot verify freshly: %s (request %s in the daemon's log; relayed_only=true answers from the relayed record)",
				light.RedactText(strings.TrimPrefix(err.Error(), verify.ErrNotFresh.Error()+": ")), rid))
		case err != nil:
			rid := requestID()
			s.o.Log.Warn().Err(err).Str("chain", chain).Str("origin", origin).Str("id", id).Str("request", rid).Msg("verification failed")
			// No verified, fresh answer: unavailable, not negative.
			fail(http.StatusServiceUnavailable, fmt.Sprintf("no fresh verified answer from %s: its node is unreachable or stalled, "+
				"or its answer did not match the verified header (request %s in the daemon's log)", chain, rid))
		default:
			reply(http.StatusOK, res)
		}
	}
}

// verifier is what the verification endpoint holds of a chain: its client (the prover) and its
// shared fresh header.
type verifier struct {
	prover  chains.Prover
	headers *freshHeaders
}

// verifiers are every configured chain's, and every EVM city's light client, opened at start (no
// request opens a chain: opening one may ask for a keyring passphrase). Read-only once built.
type verifiers struct {
	byChain map[string]*verifier
	evm     map[string]verify.EvmHeaders
	// unopened are the EVM cities whose light client did not open at start, with why.
	unopened map[string]error
}

// origin is the origin chain whose own status verify proves: a configured chain (its shared fresh
// header) or EVM city.
func (v *verifiers) origin(id string) (verify.Origin, bool) {
	if c, ok := v.byChain[id]; ok {
		return verify.CosmosOrigin{Chain: c.prover, Headers: c.headers}, true
	}
	if e, ok := v.evm[id]; ok {
		return verify.EvmOrigin{City: id, Headers: e}, true
	}
	if err, ok := v.unopened[id]; ok {
		return verify.Unavailable(id, err), true
	}
	return nil, false
}

// node is a configured chain's node, serving the proofs of a route through a hub (verify.Nodes).
func (v *verifiers) node(id string) (chains.Prover, error) {
	c, ok := v.byChain[id]
	if !ok {
		return nil, fmt.Errorf("%s is not a configured chain", id)
	}
	return c.prover, nil
}

func (v *verifiers) chain(id string) (*verifier, bool) {
	c, ok := v.byChain[id]
	return c, ok
}
