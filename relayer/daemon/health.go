package daemon

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/light"
)

// Health thresholds.
const (
	// staleAfter: a light client whose newest verified header is older than this is stale (blocks come
	// every few seconds; a header this old means the chain or its RPC is stuck).
	staleAfter = 2 * time.Minute
	// maxScanLag: a scanner this many blocks behind its chain's verified header is lagging.
	maxScanLag = 100
	// failingFor: a pipeline part that failed this recently is reported as failing.
	failingFor = time.Minute
)

// probeTimeout bounds /readyz's check of a chain's light client.
const probeTimeout = 3 * time.Second

// health is what /readyz reports: every reason the daemon is not relaying as it should, empty when
// it is. The watch loop, the scanners and the supervisor feed it.
type health struct {
	mu       sync.Mutex
	light    map[string]string // chain -> reason its light client is not fresh ("" fresh)
	verified map[string]int64  // chain -> newest verified height
	scanned  map[string]int64  // chain -> newest scanned height
	failed   map[string]failure
	now      func() time.Time
}

type failure struct {
	at  time.Time
	err string
	n   int
}

func newHealth() *health {
	return &health{light: map[string]string{}, verified: map[string]int64{}, scanned: map[string]int64{}, failed: map[string]failure{}, now: time.Now}
}

// lightClient records a light client's state: its newest verified header's height and time, or the
// error that kept it from verifying one (a divergence, an unreachable node, an expired trust).
func (h *health) lightClient(chain string, height int64, headerTime time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		h.light[chain] = fmt.Sprintf("light client of %s: %v", chain, err)
	case h.now().Sub(headerTime) > staleAfter:
		h.light[chain] = fmt.Sprintf("light client of %s: newest header %d is %s old", chain, height, h.now().Sub(headerTime).Round(time.Second))
		h.verified[chain] = height
	default:
		h.light[chain] = ""
		h.verified[chain] = height
	}
}

// scannedTo records a scanner's progress.
func (h *health) scannedTo(chain string, height int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scanned[chain] = max(h.scanned[chain], height)
}

// partFailed records a pipeline part's failure (the supervisor restarts it).
func (h *health) partFailed(part string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.failed[part]
	f.at, f.err, f.n = h.now(), err.Error(), f.n+1
	h.failed[part] = f
}

// scanLag is how many blocks a chain's scanner is behind its verified header (0 when unknown).
func (h *health) scanLag(chain string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, okV := h.verified[chain]
	s, okS := h.scanned[chain]
	if !okV || !okS || v <= s {
		return 0
	}
	return v - s
}

// reasons lists what is wrong, sorted; natsUp is the NATS connection's state.
func (h *health) reasons(natsUp bool) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	if !natsUp {
		out = append(out, "nats: disconnected")
	}
	for _, r := range h.light {
		if r != "" {
			out = append(out, r)
		}
	}
	for chain, v := range h.verified {
		if s, ok := h.scanned[chain]; ok && v-s > maxScanLag {
			out = append(out, fmt.Sprintf("scanner of %s: %d blocks behind the verified header %d", chain, v-s, v))
		}
	}
	for part, f := range h.failed {
		if h.now().Sub(f.at) < failingFor {
			out = append(out, fmt.Sprintf("%s: failed %d times, last %s ago: %s", part, f.n, h.now().Sub(f.at).Round(time.Second), f.err))
		}
	}
	sort.Strings(out)
	return out
}

// healthz is liveness: the process serves HTTP. Whether it relays is /readyz's question.
func healthz(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }

// readyz is readiness: every chain's light client gives a header fresh enough to answer a
// verification (checked now, through the header the verification endpoint shares), every scanner
// within maxScanLag blocks of its chain, no pipeline part failing, NATS connected. It answers 200
// "ok", or 503 with one reason a line (addresses taken out: the log has them).
func readyz(h *health, v *verifiers, maxAge time.Duration, natsUp func() bool, m *metrics, log zerolog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for id, c := range v.byChain {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
				defer cancel()
				lb, err := c.headers.VerifyFresh(ctx, maxAge)
				if err != nil {
					log.Debug().Err(err).Str("chain", id).Msg("readiness: no fresh header")
					h.lightClient(id, 0, time.Time{}, err)
					return
				}
				h.lightClient(id, lb.Height, lb.Time, nil)
				m.lightHeight.WithLabelValues(id).Set(float64(lb.Height))
				m.lightAge.WithLabelValues(id).Set(time.Since(lb.Time).Seconds())
			}()
		}
		wg.Wait()
		up := natsUp()
		m.natsUp.Set(b2f(up))
		reasons := h.reasons(up)
		if wr := m.witnesses.reasons(); len(wr) > 0 {
			reasons = append(reasons, wr...)
			sort.Strings(reasons)
		}
		m.healthy.Set(b2f(len(reasons) == 0))
		if len(reasons) > 0 {
			http.Error(w, light.RedactText(strings.Join(reasons, "\n")), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}
