package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

//go:embed assets
var assets embed.FS

// Options are what the console reads. Config and NC are required.
type Options struct {
	Config *config.Config
	// Runtime holds the daemon's opened chains and light clients (nil: the overview shows no chain
	// heights and verification answers "cannot verify").
	Runtime *assemble.Runtime
	// NC is the daemon's NATS connection (work items, lifecycles, dead letters).
	NC *nats.Conn
	// Metrics is the daemon's Prometheus registry (nil: no counts, trusting periods or balances).
	Metrics prometheus.Gatherer
	// AdminToken authorises the admin actions (the value of console.admin_token_env, read by cmd/);
	// empty refuses them all.
	AdminToken string
	// Verify runs a verification the way the daemon's endpoint does (its budget, slots and shared
	// fresh header). Nil: every verification answers "cannot verify" (the console never opens a
	// chain or verifies around the daemon's gate).
	// A via (a hub chain id, or "") verifies through the hub (verify.Options.Via).
	Verify func(ctx context.Context, chain, origin, id, via string) (*verify.Result, error)
	// Witnesses gives a chain's witness record for the overview (nil: that of the Runtime's light
	// client of the chain; tests give a fake).
	Witnesses func(ctx context.Context, chain string) (Witnessed, error)
	// LastRelay is the newest relay tx the daemon committed for a path (nil: none shown).
	LastRelay func(path string) (LastRelay, bool)
	Log       zerolog.Logger
}

// Witnessed is a light client's record of its witnesses' cross-checks and of the divergences seen
// (light.Client).
type Witnessed interface {
	Witnesses() []light.WitnessStatus
	Divergences() []light.Divergence
	// Halted is the light client's halt after a divergence (light.ErrHalted), nil while it verifies.
	Halted() error
}

// overviewEvery is the longest an overview is reused: every open page polls every 2 s, so however
// many are open, the chains' RPCs are asked at most once a second.
const overviewEvery = time.Second

// requestTimeout bounds the chain and NATS reads of one request: a stopped RPC makes a page say so
// within seconds instead of hanging.
const requestTimeout = 5 * time.Second

// maxBody caps an admin request's body (a sequence number or a level name).
const maxBody = 1 << 10

// Console serves the console's pages and JSON.
type Console struct {
	o     Options
	js    jetstream.JetStream
	index *index
	sub   *nats.Subscription

	flight   singleflight.Group
	overview cached
	hist     history
	stop     chan struct{}
}

// New starts indexing the work items published on NATS and returns the console; Close stops it.
func New(o Options) (*Console, error) {
	if o.Config == nil || o.NC == nil {
		return nil, errors.New("console: config and NATS connection are required")
	}
	js, err := jetstream.New(o.NC)
	if err != nil {
		return nil, fmt.Errorf("console: jetstream: %w", err)
	}
	c := &Console{o: o, js: js, index: newIndex(indexMax), stop: make(chan struct{})}
	// A plain subscription beside the work stream sees every work item as it is published: what they
	// tell (attestation ids, the heights of their events) is indexed here, beside what the packet
	// bucket keeps (lifecycles, and the packets by attestation id the scanners recorded).
	if c.sub, err = o.NC.Subscribe(packets.WorkSubject("*", "*", "*"), func(m *nats.Msg) { c.index.add(m.Data, time.Now()) }); err != nil {
		return nil, fmt.Errorf("console: subscribe to work: %w", err)
	}
	// The hourly counts need a baseline from the start and a sample a minute, watched or not.
	c.hist.add(sample{at: time.Now(), paths: c.pathCounts(c.gather())})
	go c.sampleLoop(sampleEvery, c.stop)
	return c, nil
}

// Close stops indexing and sampling.
func (c *Console) Close() error {
	close(c.stop)
	return c.sub.Unsubscribe()
}

// Mount adds the console's routes to mux: / and /console/... (GET) and /console/admin/... (POST,
// token required).
func (c *Console) Mount(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "assets")
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console/api/overview", c.apiOverview)
	mux.HandleFunc("GET /console/api/packets", c.apiPackets)
	mux.HandleFunc("GET /console/api/dead-letters", c.apiDeadLetters)
	mux.HandleFunc("GET /console/api/verify", c.apiVerify)
	mux.HandleFunc("POST /console/admin/requeue", c.admin(c.adminRequeue))
	mux.HandleFunc("POST /console/admin/log-level", c.admin(c.adminLogLevel))
}

// admin refuses a request without the admin token (header "Authorization: Bearer <token>").
func (c *Console) admin(next func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if c.o.AdminToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.o.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cityrelay console"`)
			reply(w, http.StatusUnauthorized, nil, ErrUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next(w, r)
	}
}

// adminRequeue re-queues dead letter seq (form field or query "seq").
func (c *Console) adminRequeue(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.FormValue("seq"), 10, 64)
	if err != nil {
		reply(w, http.StatusBadRequest, nil, fmt.Errorf("%w: seq: %v", ErrBadQuery, err))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	wk, err := packets.Requeue(ctx, c.js, seq)
	if err != nil {
		code := http.StatusBadGateway
		if errors.Is(err, packets.ErrNotRequeueable) || errors.Is(err, jetstream.ErrMsgNotFound) {
			code = http.StatusConflict
		}
		reply(w, code, nil, err)
		return
	}
	c.o.Log.Info().Uint64("dead_letter", seq).Str("work", wk.MsgID()).Msg("dead letter re-queued from the console")
	reply(w, http.StatusOK, map[string]string{"requeued": wk.MsgID()}, nil)
}

// adminLogLevel sets the global log level (form field "level": trace, debug, info, warn, error).
// A logger built with a higher level of its own keeps it: the global level can only raise it.
func (c *Console) adminLogLevel(w http.ResponseWriter, r *http.Request) {
	lvl, err := zerolog.ParseLevel(r.FormValue("level"))
	if err != nil || lvl == zerolog.NoLevel {
		reply(w, http.StatusBadRequest, nil, fmt.Errorf("%w: level %q: use trace, debug, info, warn or error", ErrBadQuery, r.FormValue("level")))
		return
	}
	old := zerolog.GlobalLevel()
	zerolog.SetGlobalLevel(lvl)
	c.o.Log.WithLevel(zerolog.NoLevel).Str("from", old.String()).Str("to", lvl.String()).Msg("log level changed from the console")
	reply(w, http.StatusOK, map[string]string{"level": lvl.String()}, nil)
}

// reply writes v as JSON, or {"error": ...} when err is set.
func reply(w http.ResponseWriter, code int, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err != nil {
		v = map[string]string{"error": err.Error()}
	}
	_ = json.NewEncoder(w).Encode(v)
}
