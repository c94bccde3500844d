package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/daemon"
)

// switchProxy forwards to a node's RPC until it is switched off: then every connection is dropped,
// as a stopped node's would be. (A devnet chain stopped in a process cannot start again.)
type switchProxy struct {
	*httptest.Server
	off atomic.Bool
}

func newSwitchProxy(t testing.TB, target string) *switchProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.off.Load() {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = c.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// observedNames are the series a relay run exports: the list and the Go and process collectors.
var observedNames = []string{
	"cityrelay_tx_submitted_total", "cityrelay_tx_failed_total", "cityrelay_simulate_errors_total",
	"cityrelay_gas_used_total", "cityrelay_gas_wanted_total", "cityrelay_fees_paid_total", "cityrelay_msgs_per_tx_bucket",
	"cityrelay_client_updates_total", "cityrelay_client_trusting_period_left_seconds",
	"cityrelay_light_client_height", "cityrelay_light_client_header_age_seconds", "cityrelay_light_client_lag_blocks",
	"cityrelay_light_client_errors_total", "cityrelay_header_verification_seconds_bucket", "cityrelay_proof_check_seconds_bucket",
	"cityrelay_backlog", "cityrelay_unrelayed_packets", "cityrelay_unrelayed_acks", "cityrelay_queue_depth",
	"cityrelay_nats_pending", "cityrelay_nats_ack_pending", "cityrelay_nats_redeliveries", "cityrelay_nats_reconnects_total",
	"cityrelay_nats_connected", "cityrelay_dead_letters", "cityrelay_dead_letters_total",
	"cityrelay_batch_build_seconds_bucket", "cityrelay_batch_broadcast_seconds_bucket", "cityrelay_batch_commit_seconds_bucket",
	"cityrelay_signer_queue_seconds_bucket", "cityrelay_packets_observed_total", "cityrelay_packets_relayed_total",
	"cityrelay_send_to_recv_seconds_bucket", "cityrelay_scanner_lag_blocks", "cityrelay_scanner_height",
	"cityrelay_blocks_scanned_total", "cityrelay_wallet_balance", "cityrelay_healthy",
	"cityrelay_attestation_requests_total", "cityrelay_attestation_verify_seconds_bucket", "cityrelay_attestation_in_flight",
	"cityrelay_http_rejected_total", "cityrelay_header_cache_hits_total",
	"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_cpu_seconds_total",
}

// movedNames are counters (and gauges) a relay run must have moved above zero.
var movedNames = []string{
	"cityrelay_tx_submitted_total", "cityrelay_gas_used_total", "cityrelay_gas_wanted_total", "cityrelay_fees_paid_total",
	"cityrelay_msgs_per_tx_count", "cityrelay_client_updates_total", "cityrelay_header_verification_seconds_count",
	"cityrelay_proof_check_seconds_count", "cityrelay_batch_build_seconds_count", "cityrelay_batch_broadcast_seconds_count",
	"cityrelay_batch_commit_seconds_count", "cityrelay_packets_observed_total", "cityrelay_packets_relayed_total",
	"cityrelay_blocks_scanned_total", "cityrelay_attestation_requests_total", "cityrelay_light_client_height",
	"cityrelay_scanner_height", "cityrelay_client_trusting_period_left_seconds", "cityrelay_header_cache_hits_total",
}

// TestDaemonMetricsAndReadiness relays attestations with a daemon (in this process, the node of
// seoul-1 behind a proxy that can drop it), then scrapes /metrics for every series and checks the
// counters moved; switches seoul-1's RPC off: /readyz turns 503 naming its light client, and a
// verification on it answers 503 without the RPC's address; on again: /readyz is 200.
// observed is a daemon running in this process over a devnet of seoul-1 and bucheon-1 linked by
// one path, seoul-1's RPC behind a switchProxy.
type observed struct {
	base  string // the daemon's http://address
	net   *devnet.Devnet
	seoul *devnet.Chain
	proxy *switchProxy
	cfg   *config.Config
	admin *cosmos.Client // seoul-1's admin key
	// channel is seoul-1's channel of the path.
	channel string
	home    string // the daemon's home

}

const observedPath = "seoul-bucheon-1"

// startObserved starts the devnet, links the path with the CLI and runs the daemon until the test ends.
func startObserved(tb testing.TB, blockTime time.Duration, maxVerifications int, configure ...func(*config.Config)) *observed {
	tb.Helper()
	return startObservedAfter(tb, blockTime, maxVerifications, nil, configure...)
}

// startObservedAfter is startObserved running before (if set) on the linked devnet before the daemon
// starts (o.base and o.admin are not set yet).
func startObservedAfter(tb testing.TB, blockTime time.Duration, maxVerifications int, before func(*observed), configure ...func(*config.Config)) *observed {
	tb.Helper()
	ctx := context.Background()
	net := testnet.ChainsWith(tb, devnet.Options{ChainIDs: []string{"seoul-1", "bucheon-1"}, BlockTime: blockTime})
	o := &observed{net: net, seoul: net.Chain("seoul-1")}
	o.proxy = newSwitchProxy(tb, o.seoul.RPCAddr)
	oh := operatorHome(tb, net.Chains, testnet.HomeOptions{ChainArgs: []string{"--max-gas", "90000000"}, RPC: func(c *devnet.Chain) string {
		if c == o.seoul {
			return o.proxy.URL
		}
		return c.RPCAddr
	}})
	home := oh.Dir
	o.home = home
	oh.Must("", "paths", "new", observedPath, "--src", "seoul-1", "--dst", "bucheon-1")
	oh.LinkCities(net, observedPath)
	var err error
	if o.cfg, err = config.Load(filepath.Join(home, "config.toml")); err != nil {
		tb.Fatal(err)
	}
	o.cfg.Metrics.Listen = "127.0.0.1:0"
	for _, f := range configure {
		f(o.cfg)
	}
	o.channel = o.cfg.Paths[observedPath].Src.ChannelID

	if before != nil {
		before(o)
	}
	logf, err := os.Create(filepath.Join(tb.TempDir(), "daemon.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = logf.Close() })
	rt := assemble.Open(o.cfg, assemble.Options{Home: home, Log: zerolog.New(logf)})
	dctx, stop := context.WithCancel(ctx)
	addrs, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- daemon.Run(dctx, daemon.Options{Home: home, Config: o.cfg, Runtime: rt, Log: zerolog.New(logf).With().Timestamp().Logger(),
			Ready: func(a string) { addrs <- a }, RefreshEvery: 2 * time.Second, MaxVerifications: maxVerifications})
	}()
	tb.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			tb.Errorf("daemon: %v", err)
		}
		_ = rt.Close()
	})
	select {
	case a := <-addrs:
		o.base = "http://" + a
	case err := <-done:
		tb.Fatalf("daemon stopped: %v", err)
	case <-time.After(2 * time.Minute):
		tb.Fatal("daemon not serving after 2 minutes")
	}
	waitStatus(tb, o.base+"/readyz", http.StatusOK, "", time.Minute)
	o.admin = testnet.Client(tb, o.seoul, devnet.AdminKey)
	return o
}

// waitRelayed waits until the daemon has acknowledged at least n packets.
func (o *observed) waitRelayed(tb testing.TB, n float64, within time.Duration) {
	tb.Helper()
	start := time.Now()
	for metric(scrape(tb, o.base), "cityrelay_packets_relayed_total", `kind="ack"`) < n {
		if time.Since(start) > within {
			body := scrape(tb, o.base)
			tb.Fatalf("after %s: %v recv, %v ack relayed, want %v", within, metric(body, "cityrelay_packets_relayed_total", `kind="recv"`),
				metric(body, "cityrelay_packets_relayed_total", `kind="ack"`), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDaemonMetricsAndReadiness(t *testing.T) {
	ctx := context.Background()
	o := startObserved(t, 200*time.Millisecond, 0)
	base, proxy, seoul, admin, cfg := o.base, o.proxy, o.seoul, o.admin, o.cfg
	const path = observedPath
	const n = 60
	var issuerSeq uint64
	if _, _, err := seoul.SendAttestations(ctx, admin, cfg.Paths[path].Src.ChannelID, &issuerSeq, n); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	o.waitRelayed(t, n, 2*time.Minute)
	t.Logf("%d attestations received and acknowledged in %s", n, time.Since(start).Round(time.Millisecond))
	// Two verifications in a row: the second is answered from the header the first verified.
	for range 2 {
		if code, body := get(t, base+"/v1/attestations/bucheon-1/seoul-1/"+strings.Repeat("0", 64)); code != http.StatusOK || !strings.Contains(body, `"status":"absent"`) {
			t.Fatalf("verification: %d %s", code, body)
		}
	}
	time.Sleep(2500 * time.Millisecond) // one more refresh: the queue gauges see the consumers

	body := scrape(t, base)
	for _, name := range observedNames {
		if !exported(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, name := range movedNames {
		if v := metric(body, name); v <= 0 {
			t.Errorf("%s = %v after a relay run, want > 0", name, v)
		}
	}
	series := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "cityrelay_") {
			series[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
		}
	}
	t.Logf("%d cityrelay series names exported", len(series))

	// seoul-1's RPC goes away.
	proxy.off.Store(true)
	waitStatus(t, base+"/readyz", http.StatusServiceUnavailable, "light client of seoul-1", 30*time.Second)
	code, reply := get(t, base+"/v1/attestations/seoul-1/seoul-1/"+strings.Repeat("0", 64))
	if code != http.StatusServiceUnavailable {
		t.Errorf("verification on seoul-1 with its RPC down: %d %s", code, reply)
	}
	host := strings.TrimPrefix(proxy.URL, "http://")
	_, ready := get(t, base+"/readyz")
	for what, b := range map[string]string{"verification": reply, "readyz": ready} {
		if strings.Contains(b, host) {
			t.Errorf("%s reply names the RPC address %s:\n%s", what, host, b)
		}
	}
	t.Logf("RPC down: /readyz says %q; verification says %s", strings.TrimSpace(ready), strings.TrimSpace(reply))

	// Back: ready again once the light client verifies and no part has failed for a minute.
	proxy.off.Store(false)
	back := time.Now()
	waitStatus(t, base+"/readyz", http.StatusOK, "", 3*time.Minute)
	t.Logf("ready again %s after seoul-1's RPC came back", time.Since(back).Round(time.Second))
}

func get(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func scrape(t testing.TB, base string) string {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	return body
}

// waitStatus polls u until it answers code with want in its body.
func waitStatus(t testing.TB, u string, code int, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, body := get(t, u)
		if c == code && strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q after %s, want %d with %q", u, c, body, within, code, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// exported reports whether the exposition has a sample of name.
func exported(body, name string) bool {
	return strings.Contains(body, "\n"+name+"{") || strings.Contains(body, "\n"+name+" ")
}

// metric sums the samples of name whose labels contain every one of labels.
func metric(body, name string, labels ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
next:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue next
			}
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}
