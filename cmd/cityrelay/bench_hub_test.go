package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// countingProxy forwards HTTP (and WebSocket upgrades) to a node's RPC and counts the requests.
type countingProxy struct {
	URL string
	n   atomic.Int64
	srv *http.Server
}

func newCountingProxy(tb testing.TB, target string) *countingProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &countingProxy{URL: "http://" + ln.Addr().String()}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.n.Add(1)
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	tb.Cleanup(func() { _ = p.srv.Close() })
	return p
}

// BenchmarkHubIdle measures one `cityrelay start` serving a hub (wego-1) and K member chains linked to
// it in a star, idle (no packets): the relayer's CPU (% of a core), resident set, goroutines (its
// /metrics go_goroutines), open file descriptors, and the RPC requests per second each node receives
// (counted by a reverse proxy in front of every node's RPC, the only address the relayer is given),
// over a window of CITYRELAY_BENCH_WINDOW seconds (default 60), and the time to link each member
// (before the daemon starts: a running daemon owns the light stores). The chains are real CometBFT nodes in this (the benchmark's) process, the
// relayer a child process. Environment: CITYRELAY_BENCH_MEMBERS (K, default 12),
// CITYRELAY_BENCH_BLOCK_MS (default 1000). scripts/bench-hub.sh sets them.
func BenchmarkHubIdle(b *testing.B) {
	k := envInt("CITYRELAY_BENCH_MEMBERS", 12)
	blockTime := time.Duration(envInt("CITYRELAY_BENCH_BLOCK_MS", 1000)) * time.Millisecond
	window := time.Duration(envInt("CITYRELAY_BENCH_WINDOW", 60)) * time.Second
	dir := b.TempDir()
	bin := testnet.Build(b, ".")
	ids := []string{"wego-1"}
	for i := 1; i <= k; i++ {
		ids = append(ids, fmt.Sprintf("member%d-1", i))
	}
	t0 := time.Now()
	net := testnet.ChainsWith(b, devnet.Options{Home: filepath.Join(dir, "chains"), ChainIDs: ids, BlockTime: blockTime})
	fmt.Printf("started %d chains in %s\n", len(ids), time.Since(t0).Round(time.Second))
	proxies := map[string]*countingProxy{}
	for _, c := range net.Chains {
		proxies[c.ChainID] = newCountingProxy(b, c.RPCAddr)
	}
	oh := operatorHome(b, net.Chains, testnet.HomeOptions{Dir: filepath.Join(dir, "relayer"),
		RPC: func(c *devnet.Chain) string { return proxies[c.ChainID].URL }})
	var links []time.Duration
	for i := 1; i <= k; i++ {
		name := fmt.Sprintf("m%d", i)
		start := time.Now()
		oh.Must("", "paths", "new", name, "--src", "wego-1", "--dst", fmt.Sprintf("member%d-1", i))
		oh.LinkCities(net, name)
		links = append(links, time.Since(start))
	}
	var total time.Duration
	for _, d := range links {
		total += d
	}
	fmt.Printf("linked %d members one after another (tx link, registry entries, tx link): first %s, last %s, mean %s\n", k,
		links[0].Round(100*time.Millisecond), links[k-1].Round(100*time.Millisecond), (total / time.Duration(k)).Round(100*time.Millisecond))
	metricsAddr := freeAddr(b)
	cfg, _ := config.Load(filepath.Join(oh.Dir, "config.toml"))
	cfg.Global.LogFormat, cfg.Global.LogLevel = "json", envStr("CITYRELAY_BENCH_LOG", "warn")
	cfg.Metrics.Enabled, cfg.Metrics.Listen = true, metricsAddr
	if err := cfg.Save(filepath.Join(oh.Dir, "config.toml")); err != nil {
		b.Fatal(err)
	}
	logf, _ := os.Create(filepath.Join(oh.Dir, "daemon.log"))
	defer logf.Close()
	daemon := exec.Command(bin, "start", "--home", oh.Dir)
	daemon.Stdout, daemon.Stderr = logf, logf
	if err := daemon.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = daemon.Process.Signal(os.Interrupt); _ = daemon.Wait() }()
	pid := daemon.Process.Pid
	time.Sleep(15 * time.Second) // past start-up (clearing, first refresh)
	hub := testnet.Client(b, net.Chain("wego-1"), devnet.AdminKey)
	ctx := context.Background()
	h0 := hubHeight(ctx, hub)
	req0 := map[string]int64{}
	for id, p := range proxies {
		req0[id] = p.n.Load()
	}
	cpu0, self0 := procCPU(pid), selfCPU()
	busy0, total0 := machineCPU()
	start := time.Now()
	b.ResetTimer()
	time.Sleep(window)
	b.StopTimer()
	elapsed := time.Since(start)
	cpu := procCPU(pid) - cpu0
	busy1, total1 := machineCPU()
	h1 := hubHeight(ctx, hub)
	var reqs []float64
	var sum, hi float64
	lo := 1e18
	for id, p := range proxies {
		r := float64(p.n.Load()-req0[id]) / elapsed.Seconds()
		reqs = append(reqs, r)
		sum += r
		hi, lo = max(hi, r), min(lo, r)
	}
	blocks := float64(h1-h0) / elapsed.Seconds()
	goroutines := scrapeGauge(metricsAddr, "go_goroutines")
	fds := countFDs(pid)
	fdKinds := classifyFDs(pid)
	rss := procRSS(pid)
	core := cpu.Seconds() / elapsed.Seconds() * 100
	chainsN := float64(k + 1)
	fmt.Printf("idle %d members + hub, %s blocks, window %s (hub made %.2f blocks/s)\n", k, blockTime, elapsed.Round(time.Second), blocks)
	fmt.Printf("  relayer CPU %.1f %% of a core (%.2f %%/chain), RSS %.0f MB (%.1f MB/chain), goroutines %.0f, fds %d\n",
		core, core/chainsN, float64(rss)/1024, float64(rss)/1024/chainsN, goroutines, fds)
	fmt.Printf("  fds by kind: %s\n", fdKinds)
	fmt.Printf("  RPC requests/s per chain: mean %.2f (min %.2f, max %.2f), %.2f per block; all chains %.1f/s\n",
		sum/chainsN, lo, hi, sum/chainsN/max(blocks, 0.01), sum)
	fmt.Printf("  machine busy %.0f %% of 2 cores during the window; chains (this process) %.0f %% of a core\n",
		(busy1-busy0)/(total1-total0)*100, (selfCPU()-self0).Seconds()/elapsed.Seconds()*100)
	fmt.Printf("  at 121 chains (linear): %.2f cores, %.1f RPC requests/s in all\n", core/chainsN*121/100, sum/chainsN*121)
	b.ReportMetric(core, "cpu%")
	b.ReportMetric(float64(rss)/1024, "MB")
	b.ReportMetric(goroutines, "goroutines")
	b.ReportMetric(float64(fds), "fds")
	b.ReportMetric(sum/chainsN, "rpc/s/chain")
}

// freeAddr is a free loopback address.
func freeAddr(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrapeGauge reads one unlabelled gauge from a Prometheus endpoint (-1 if absent).
func scrapeGauge(addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return -1
}

// countFDs is the number of open file descriptors of a process.
func countFDs(pid int) int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(es)
}

// hubHeight is the chain's latest height (0 if it does not answer).
func hubHeight(ctx context.Context, c *cosmos.Client) int64 {
	st, err := c.Status(ctx)
	if err != nil {
		return 0
	}
	return st.SyncInfo.LatestBlockHeight
}

// classifyFDs counts a process's open file descriptors by kind: sockets, and files by the last two
// elements of their directory ("light/member3-1" for a light store), grouped over the chains.
func classifyFDs(pid int) string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	es, err := os.ReadDir(dir)
	if err != nil {
		return "-"
	}
	kinds := map[string]int{}
	for _, e := range es {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(target, "socket:"):
			kinds["socket"]++
		case strings.HasPrefix(target, "/"):
			kinds["file "+filepath.Base(filepath.Dir(filepath.Dir(target)))+"/*/"+filepath.Base(target)[max(0, len(filepath.Base(target))-8):]]++
		default:
			kinds[strings.SplitN(target, ":", 2)[0]]++
		}
	}
	var parts []string
	for k, v := range kinds {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
