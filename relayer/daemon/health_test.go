package daemon

import (
	"errors"
	"strings"
	"testing"
	"time"
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
