package daemon

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// ClearRoute is the daemon's "clear now": POST with path=NAME and optionally sequences=5,9-12 (query
// or form), the console's admin token as "Authorization: Bearer <token>". It is served on the
// daemon's HTTP listener (metrics.listen, loopback by default) whether or not the console is enabled.
const ClearRoute = "/console/admin/clear"

// clearWait is how long a clear request waits for the clear to be published before it answers 202
// (the clear goes on in the background, bounded by clearTimeout); it is below the request deadline.
const (
	clearWait    = 10 * time.Second
	clearTimeout = 10 * time.Minute
)

// Results of admin clear requests (the result label of cityrelay_admin_clear_requests_total).
const (
	clearOK          = "ok"
	clearAccepted    = "accepted"
	clearDisabled    = "disabled"     // no admin token configured
	clearNoToken     = "no_token"     // no bearer token sent
	clearBadToken    = "bad_token"    // a wrong token
	clearUnknownPath = "unknown_path" // not a path this daemon relays
	clearBadRequest  = "bad_request"  // no path, or a malformed sequence list
	clearBusy        = "busy"         // a clear of the path is running
	clearFailed      = "failed"       // the clear itself failed (a node unreachable, NATS down)
)

// ClearResponse is the JSON answer of a clear that finished within the request (200).
type ClearResponse struct {
	Path       string           `json:"path"`
	Sequences  string           `json:"sequences,omitempty"`
	Directions []ClearDirection `json:"directions"`
}

// ClearDirection is what the clear queued in one direction of the path.
type ClearDirection struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Packets    int    `json:"packets"`
	Acks       int    `json:"acks"`
	Excluded   string `json:"excluded,omitempty"`
	NotPending string `json:"not_pending,omitempty"`
	// BelowMinFee are the pending packets not relayed: their recv fee is below min_fees.
	BelowMinFee string `json:"below_min_fee,omitempty"`
}

// clearMetrics count the admin clears and the excluded work the pipeline skipped.
type clearMetrics struct {
	requests *prometheus.CounterVec
	excluded *prometheus.CounterVec
}

func newClearMetrics(reg prometheus.Registerer) *clearMetrics {
	c := &clearMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_admin_clear_requests_total",
			Help: "Admin clear requests (POST /console/admin/clear) by result: ok, accepted (still running), disabled (no admin token configured), no_token, bad_token, unknown_path, bad_request, busy, failed."},
			[]string{"result"}),
		excluded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_packets_excluded_total",
			Help: "Work items skipped because the packet's sending end excludes its sequence (excluded_sequences), each counted once; chain is the sending chain."},
			[]string{"path", "chain", "kind"}),
	}
	reg.MustRegister(c.requests, c.excluded)
	for _, r := range []string{clearOK, clearAccepted, clearDisabled, clearNoToken, clearBadToken, clearUnknownPath, clearBadRequest, clearBusy, clearFailed} {
		c.requests.WithLabelValues(r)
	}
	return c
}

// adminClear serves ClearRoute: it runs pipeline.Clear with the daemon's own pipeline options (its
// work queue, its submitters deliver), one clear per path at a time.
type adminClear struct {
	ctx   context.Context // the daemon's: a clear outlives its request
	token string
	paths map[string]bool
	run   func(ctx context.Context, path string, only sequences.Set) (*pipeline.ClearReport, error)
	m     *clearMetrics
	log   zerolog.Logger

	mu      sync.Mutex
	running map[string]bool
	// refused logs refusals, sampled: anyone who reaches the listener can send them.
	refused *zerolog.Logger
}

// refusals is the sampled logger of refused requests (a burst of 5 a second, the rest counted only).
func (a *adminClear) refusals() *zerolog.Logger {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refused == nil {
		l := a.log.Sample(&zerolog.BurstSampler{Burst: 5, Period: time.Second})
		a.refused = &l
	}
	return a.refused
}

func (a *adminClear) refuse(w http.ResponseWriter, r *http.Request, code int, result string, err error) {
	a.m.requests.WithLabelValues(result).Inc()
	name := r.FormValue("path")
	if len(name) > 100 {
		name = name[:100] + "..."
	}
	a.refusals().Warn().Str("remote", r.RemoteAddr).Str("path", name).Str("result", result).Err(err).Msg("admin clear refused")
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cityrelay admin"`)
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func (a *adminClear) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	got, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case a.token == "":
		a.refuse(w, r, http.StatusForbidden, clearDisabled, errors.New("admin actions are disabled: name the token's environment variable in console.admin_token_env and start the daemon with it set"))
		return
	case !hasBearer || got == "":
		a.refuse(w, r, http.StatusUnauthorized, clearNoToken, errors.New("admin token required (Authorization: Bearer <token>)"))
		return
	case subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1:
		a.refuse(w, r, http.StatusUnauthorized, clearBadToken, errors.New("wrong admin token"))
		return
	}
	name := r.FormValue("path")
	if name == "" {
		a.refuse(w, r, http.StatusBadRequest, clearBadRequest, errors.New("path required (?path=NAME)"))
		return
	}
	only, err := sequences.Parse(r.FormValue("sequences"))
	if err != nil {
		a.refuse(w, r, http.StatusBadRequest, clearBadRequest, fmt.Errorf("sequences: %w", err))
		return
	}
	if !a.paths[name] {
		a.refuse(w, r, http.StatusNotFound, clearUnknownPath, fmt.Errorf("%w: %q is not a path this daemon relays", pipeline.ErrUnknownPath, name))
		return
	}
	a.mu.Lock()
	if a.running[name] {
		a.mu.Unlock()
		a.refuse(w, r, http.StatusConflict, clearBusy, fmt.Errorf("a clear of %s is running", name))
		return
	}
	a.running[name] = true
	a.mu.Unlock()

	log := a.log.With().Str("path", name).Str("sequences", only.String()).Str("remote", r.RemoteAddr).Logger()
	log.Info().Msg("admin clear started")
	type result struct {
		rep *pipeline.ClearReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			a.mu.Lock()
			delete(a.running, name)
			a.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(a.ctx, clearTimeout)
		defer cancel()
		rep, err := a.run(ctx, name, only)
		if err != nil {
			log.Error().Err(err).Msg("admin clear failed")
		} else {
			for _, d := range rep.Directions {
				log.Info().Str("chain", d.From).Str("to", d.To).Int("packets", d.Packets).Int("acks", d.Acks).Str("excluded", d.Excluded.String()).
					Str("not_pending", d.NotPending.String()).Msg("admin clear queued")
			}
		}
		done <- result{rep, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			a.m.requests.WithLabelValues(clearFailed).Inc()
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": res.err.Error()})
			return
		}
		a.m.requests.WithLabelValues(clearOK).Inc()
		out := ClearResponse{Path: name, Sequences: only.String()}
		for _, d := range res.rep.Directions {
			out.Directions = append(out.Directions, ClearDirection{From: d.From, To: d.To, Packets: d.Packets, Acks: d.Acks,
				Excluded: d.Excluded.String(), NotPending: d.NotPending.String(), BelowMinFee: d.BelowMinFee.String()})
		}
		writeJSON(w, http.StatusOK, out)
	case <-time.After(clearWait):
		a.m.requests.WithLabelValues(clearAccepted).Inc()
		writeJSON(w, http.StatusAccepted, map[string]string{"path": name, "clearing": "still running: its outcome goes to the daemon's log"})
	case <-r.Context().Done():
		a.m.requests.WithLabelValues(clearAccepted).Inc()
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// withExclusions gives the pipeline options their record of excluded sequences, counted in clears'
// excluded series (at 0 from the start for every path and sending chain).
func withExclusions(o *pipeline.Options, paths []*relayer.Path, m *clearMetrics) {
	o.Exclusions = pipeline.NewExclusions()
	o.OnExcluded = func(path, chain, kind string) { m.excluded.WithLabelValues(path, chain, kind).Inc() }
	for _, p := range paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			for _, kind := range []string{packets.KindRecv, packets.KindAck} {
				m.excluded.WithLabelValues(p.Name, e.ChainID(), kind)
			}
		}
	}
}

// newAdminClear serves the admin clear of the daemon's paths through its own pipeline options.
func newAdminClear(ctx context.Context, o Options, paths []*relayer.Path, popts pipeline.Options, m *clearMetrics) *adminClear {
	names := map[string]bool{}
	for _, p := range paths {
		names[p.Name] = true
	}
	return &adminClear{ctx: ctx, token: o.ConsoleToken, paths: names, m: m, log: o.Log, running: map[string]bool{},
		run: func(ctx context.Context, path string, only sequences.Set) (*pipeline.ClearReport, error) {
			return pipeline.Clear(ctx, popts, path, only)
		}}
}
