package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/light"
)

func TestHealthReasons(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := newHealth()
	h.now = func() time.Time { return now }
	h.lightClient("seoul-1", 100, now.Add(-5*time.Second), nil)
	h.scannedTo("seoul-1", 99)
	if r := h.reasons(true); len(r) != 0 {
		t.Fatalf("a fresh, caught-up daemon: %v", r)
	}

	h.lightClient("bucheon-1", 0, time.Time{}, errors.New("witness diverges from the verified header"))
	h.lightClient("wego-1", 50, now.Add(-3*time.Minute), nil)
	h.lightClient("seoul-1", 400, now.Add(-time.Second), nil) // the scanner is 301 blocks behind
	h.partFailed("submitter bucheon-1/did/channel-0", errors.New("fetch work: nats: timeout"))
	r := strings.Join(h.reasons(false), "\n")
	for _, want := range []string{
		"nats: disconnected",
		"light client of bucheon-1: witness diverges",
		"light client of wego-1: newest header 50 is 3m0s old",
		"scanner of seoul-1: 301 blocks behind the verified header 400",
		"submitter bucheon-1/did/channel-0: failed 1 times, last 0s ago: fetch work: nats: timeout",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("reasons lack %q:\n%s", want, r)
		}
	}
	if h.scanLag("seoul-1") != 301 {
		t.Errorf("scan lag %d", h.scanLag("seoul-1"))
	}

	// Recovered: the reasons go away (a failure once it is a minute old).
	now = now.Add(2 * time.Minute)
	h.lightClient("bucheon-1", 120, now, nil)
	h.lightClient("wego-1", 90, now, nil)
	h.scannedTo("seoul-1", 399)
	if r := h.reasons(true); len(r) != 0 {
		t.Fatalf("after recovery: %v", r)
	}
}

// divergingHeaders refuses every header as the light client does when a witness diverges (the error
// crossCheck returns, with a witness address that carries credentials).
type divergingHeaders struct{}

func (divergingHeaders) VerifyFresh(context.Context, time.Duration) (*cmttypes.LightBlock, error) {
	return nil, &light.VerificationError{ChainID: "seoul-1", Height: 90, Err: fmt.Errorf("%w: witness %s (evidence %s)", light.ErrDivergence,
		"https://ops:s3cret@witness.example.com/KEY42", "/var/lib/cityrelay/light/seoul-1/evidence/seoul-1-90-1.json")}
}

// A divergence makes /readyz 503 with a reason naming the chain and the divergence, not the witness's
// address.
func TestReadyzNamesADivergence(t *testing.T) {
	v := &verifiers{byChain: map[string]*verifier{"seoul-1": {headers: &freshHeaders{lc: divergingHeaders{}, now: time.Now, verifyTimeout: time.Second}}}}
	m := newMetrics(nil)
	rec := httptest.NewRecorder()
	readyz(newHealth(), v, time.Minute, func() bool { return true }, m, zerolog.Nop())(rec, httptest.NewRequest("GET", "/readyz", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, "light client of seoul-1: verify seoul-1 header 90: witness diverges") {
		t.Fatalf("readyz with a diverging witness: %d %s", rec.Code, body)
	}
	for _, secret := range []string{"s3cret", "KEY42", "witness.example.com"} {
		if strings.Contains(body, secret) {
			t.Errorf("readyz shows %q: %s", secret, body)
		}
	}
	if testutil.ToFloat64(m.healthy) != 0 {
		t.Error("cityrelay_healthy is 1 with a diverging witness")
	}
}

// A faulty witness (its conflicting header did not verify) and a dropped one make /readyz 503 with a
// reason each, naming the chain and what to do, not the witness's address; the chain itself is not
// reported halted. Agreeing and unchecked witnesses give no reason.
func TestReadyzNamesFaultyWitnesses(t *testing.T) {
	v := &verifiers{byChain: map[string]*verifier{}}
	m := newMetrics(nil)
	m.witnesses.add("seoul-1", fakeWitnessed{
		{Witness: "https://rpc.example.com:443", State: light.WitnessAgrees, Height: 9},
		{Witness: "http://10.0.0.7:26657", State: light.WitnessFaulty, Height: 9, Faults: 1},
		{Witness: "http://10.0.0.8:26657", State: light.WitnessUnchecked},
	})
	m.witnesses.add("wego", fakeWitnessed{{Witness: "http://10.0.0.9:8545", State: light.WitnessDropped, Height: 70, Faults: light.MaxWitnessFaults}})
	rec := httptest.NewRecorder()
	readyz(newHealth(), v, time.Minute, func() bool { return true }, m, zerolog.Nop())(rec, httptest.NewRequest("GET", "/readyz", nil))
	body := rec.Body.String()
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if rec.Code != http.StatusServiceUnavailable || len(lines) != 2 ||
		!strings.Contains(lines[0], "of seoul-1: faulty, served header 9 that does not verify from the trusted state (1 of 3 faults before it is dropped)") ||
		!strings.Contains(lines[1], "of wego: dropped after 3 headers that do not verify from the trusted state; restart the daemon to re-admit it") {
		t.Fatalf("readyz with a faulty and a dropped witness: %d %q", rec.Code, body)
	}
	for _, secret := range []string{"10.0.0.7", "10.0.0.9"} {
		if strings.Contains(body, secret) {
			t.Errorf("readyz shows %q: %s", secret, body)
		}
	}
	// Once the faulty one agrees again (the dropped one stays dropped), only the dropped one is named.
	m.witnesses.add("seoul-1", fakeWitnessed{{Witness: "http://10.0.0.7:26657", State: light.WitnessAgrees, Height: 10, Faults: 1}})
	rec = httptest.NewRecorder()
	readyz(newHealth(), v, time.Minute, func() bool { return true }, m, zerolog.Nop())(rec, httptest.NewRequest("GET", "/readyz", nil))
	if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || strings.Count(strings.TrimSpace(body), "\n") != 0 || !strings.Contains(body, "of wego: dropped") {
		t.Fatalf("readyz with the dropped witness alone: %d %q", rec.Code, body)
	}
}
