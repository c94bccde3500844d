package daemon

import (
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cityrelay/cityrelay/relayer/config"
)

// clientFrom is an HTTP client whose connections come from the loopback address ip (Linux routes all
// of 127.0.0.0/8 to lo): the daemon sees a distinct remote address per client.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}}
}

// shareRun is what each kind of client got: verifications admitted (any reply but the gate's 503)
// and refused by the gate.
type shareRun struct {
	greedyAdmitted, greedyRefused int
	politeAdmitted, politeRefused int
	politeSent                    int
}

// runShare serves the real verification endpoint (fake header sources: every admitted verification
// fails at once with 503 "no fresh verified answer", which is not the gate's refusal) with a budget
// of 20 a second and perClient a second per client, and for d lets one greedy client (8 requests at
// a time, back to back, from 127.0.0.2) and three polite ones (one request every 300 ms each, from
// 127.0.0.3-5) ask.
func runShare(t *testing.T, perClient int, d time.Duration) (shareRun, *metrics) {
	t.Helper()
	l := defaultLimits()
	l.Verifications, l.SlotWait = 8, 200*time.Millisecond
	cfg := &config.Config{Verify: config.Verify{MaxHeaderAge: config.Duration{Duration: time.Minute}, MaxPerSecond: 20, MaxPerClient: perClient},
		Chains: map[string]*config.Chain{"seoul-1": {}}}
	released := make(chan struct{})
	close(released)
	v := &verifiers{byChain: map[string]*verifier{"seoul-1": {headers: &freshHeaders{lc: blockingHeaders{released}, now: time.Now,
		verifyTimeout: 5 * time.Second}}}}
	m := newMetrics(nil)
	routes, _ := mux(newSite(m, newHealth(), Options{Config: cfg}, nil, v, l, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(routes, l, m)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	url := "http://" + ln.Addr().String() + "/v1/attestations/seoul-1/seoul-1/" + strings.Repeat("ab", 32)

	// ask reports whether the gate admitted the request (false: its 503 "too many verifications").
	ask := func(hc *http.Client) (admitted bool, ok bool) {
		resp, err := hc.Get(url)
		if err != nil {
			t.Error(err)
			return false, false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		busy := resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "1" &&
			strings.Contains(string(b), "too many verifications")
		if !busy && !strings.Contains(string(b), "no fresh verified answer") {
			t.Errorf("unexpected reply %d %s", resp.StatusCode, b)
			return false, false
		}
		return !busy, true
	}
	var mu sync.Mutex
	var run shareRun
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	greedy := clientFrom("127.0.0.2")
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				admitted, ok := ask(greedy)
				if !ok {
					return
				}
				mu.Lock()
				if admitted {
					run.greedyAdmitted++
				} else {
					run.greedyRefused++
				}
				mu.Unlock()
			}
		}()
	}
	// The polite clients start once the greedy one has drained the budget.
	time.Sleep(500 * time.Millisecond)
	for _, ip := range []string{"127.0.0.3", "127.0.0.4", "127.0.0.5"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := clientFrom(ip)
			tick := time.NewTicker(300 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				admitted, ok := ask(hc)
				if !ok {
					return
				}
				mu.Lock()
				run.politeSent++
				if admitted {
					run.politeAdmitted++
				} else {
					run.politeRefused++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return run, m
}

// TestVerificationShareByClient: one greedy client asking as fast as 8 connections allow cannot take
// the daemon's verification budget from the others. With verify.max_per_client = 5 (budget 20 a
// second) the greedy client is admitted at most its share (5 a second and its burst of 5) and refused
// the rest, while three polite clients asking about 3 a second each are all answered. Without a share
// (today's gate before issue 20) the same run refuses the polite clients.
func TestVerificationShareByClient(t *testing.T) {
	const d = 3 * time.Second
	run, m := runShare(t, 5, d)
	t.Logf("share 5/s: greedy admitted %d refused %d; polite sent %d admitted %d refused %d",
		run.greedyAdmitted, run.greedyRefused, run.politeSent, run.politeAdmitted, run.politeRefused)
	if max := 5*int(d/time.Second) + 5 + 1; run.greedyAdmitted > max {
		t.Errorf("greedy client admitted %d in %s, want at most its share (%d)", run.greedyAdmitted, d, max)
	}
	if run.greedyRefused == 0 {
		t.Error("the greedy client was never refused")
	}
	if run.politeSent < 15 || run.politeRefused != 0 {
		t.Errorf("polite clients: %d sent, %d refused; want at least 15 sent and none refused", run.politeSent, run.politeRefused)
	}
	if run.greedyAdmitted < 5*int(d/time.Second)-2 {
		t.Errorf("greedy client admitted %d in %s, want about its share (5 a second)", run.greedyAdmitted, d)
	}
	if n := testutil.ToFloat64(m.rejected.WithLabelValues("over_client_share")); n < 1 || int(n) > run.greedyRefused {
		t.Errorf("over_client_share refusals counted %v, the greedy client saw %d refusals", n, run.greedyRefused)
	}
}

// TestClientOf: a client is its IP; an IPv6 one its /64 (a host holds a whole /64), an IPv4-mapped
// IPv6 address its IPv4.
func TestClientOf(t *testing.T) {
	for addr, want := range map[string]string{
		"10.0.0.7:51000":             "10.0.0.7",
		"[2001:db8:1:2:aaaa::1]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:1":   "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:1":        "2001:db8:1:3::/64",
		"[::ffff:192.0.2.1]:80":      "192.0.2.1",
		"not an address":             "not an address",
	} {
		if got := clientOf(addr); got != want {
			t.Errorf("clientOf(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestGateClientsBounded: the gate keeps at most maxClients buckets. Past it, new clients share one
// overflow bucket; a bucket whose burst is back full is dropped (at most one sweep a second), making
// room again.
func TestGateClientsBounded(t *testing.T) {
	l := defaultLimits()
	l.Verifications, l.SlotWait = 4, 10*time.Millisecond
	g := newGate(l, 0, 2, newMetrics(nil)) // 2 a second per client, a burst of 2
	g.maxClients = 3
	enter := func(client string) error {
		release, err := g.enter(context.WithValue(context.Background(), clientCtxKey{}, client))
		if err == nil {
			release()
		}
		return err
	}
	for _, c := range []string{"a", "b", "c"} {
		if err := enter(c); err != nil {
			t.Fatalf("client %s: %v", c, err)
		}
	}
	// d and e find the map full (a, b and c each owe a token): they share the overflow bucket, 2 in all.
	if err := enter("d"); err != nil {
		t.Fatal(err)
	}
	if err := enter("e"); err != nil {
		t.Fatal(err)
	}
	if err := enter("d"); err == nil {
		t.Fatal("the overflow bucket admitted a third request within its burst")
	}
	if n := len(g.clients); n != 3 {
		t.Fatalf("%d client buckets, want 3", n)
	}
	// Once a, b and c have their burst back (a second at 2 a second), a new client gets its own bucket.
	time.Sleep(1100 * time.Millisecond)
	if err := enter("f"); err != nil {
		t.Fatal(err)
	}
	if _, ok := g.clients["f"]; !ok || len(g.clients) != 1 {
		t.Fatalf("after the sweep: buckets %v, want f alone", slices.Collect(maps.Keys(g.clients)))
	}
}
