package relaysim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/internal/chainsim"
	"github.com/cityrelay/cityrelay/internal/chainsim/relaysim"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

// BenchmarkSimulatedChains runs the relayer side (relaysim: a light client and a scanner per chain,
// two idle submitters per path, embedded JetStream, as daemon.Run wires the pipelines) in this process
// against N synthetic chains (a hub and N-1 members in a star, 4 validators each, empty blocks)
// served by cmd/chainsim in a child process, so that this process's figures are the relayer's alone.
// After a warm-up it measures a window: this process's CPU (fraction of a core), resident set, Go heap
// in use, goroutines, file descriptors; headers verified per second; RPC requests per second per chain
// (counted by the servers); each scanner's delay from a block's successor's header time to the block's
// scan (p50/p99/max) and its lag behind its chain's head in blocks (sampled every 200 ms: p99, max);
// the servers' CPU, and how late their block producers ran.
//
// Environment: CITYRELAY_SIM_CHAINS (N, comma-separated, default "13,121": one sub-benchmark each),
// CITYRELAY_SIM_BLOCK_MS (default 1000), CITYRELAY_SIM_WINDOW (s, default 30), CITYRELAY_SIM_WARMUP (s,
// default 10), CITYRELAY_SIM_PROFILES (a path prefix: this process's goroutines grouped by stack
// and its heap profile at the window's end, in <prefix>.goroutines.N and <prefix>.heap.N), CITYRELAY_SIM_TX_EVERY (a tx with a packet event on a foreign channel every that many
// blocks; default 0: empty blocks). scripts/bench-sim.sh sets them and prints the table.
func BenchmarkSimulatedChains(b *testing.B) {
	block := time.Duration(envInt("CITYRELAY_SIM_BLOCK_MS", 1000)) * time.Millisecond
	window := time.Duration(envInt("CITYRELAY_SIM_WINDOW", 30)) * time.Second
	warmup := time.Duration(envInt("CITYRELAY_SIM_WARMUP", 10)) * time.Second
	txEvery := envInt("CITYRELAY_SIM_TX_EVERY", 0)
	bin := testnet.Build(b, "github.com/cityrelay/cityrelay/internal/chainsim/cmd/chainsim")
	for _, f := range strings.Split(envStr("CITYRELAY_SIM_CHAINS", "13,121"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			b.Fatalf("CITYRELAY_SIM_CHAINS: %q is not a number of chains (at least 2)", f)
		}
		b.Run(fmt.Sprintf("chains=%d", n), func(b *testing.B) {
			simulate(b, bin, n, block, window, warmup, txEvery)
		})
	}
}

func simulate(b *testing.B, bin string, n int, block, window, warmup time.Duration, txEvery int) {
	srv := startServers(b, bin, n, block, txEvery)
	dir := b.TempDir()
	logf, err := os.Create(filepath.Join(dir, "relayer.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	log := zerolog.New(logf).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	runtime.GC()
	debug.FreeOSMemory()
	p0 := relaysim.Sample()
	t0 := time.Now()
	rel, err := relaysim.Start(context.Background(), relaysim.Options{Chains: srv.infos, Home: filepath.Join(dir, "home"),
		JS: testnet.JetStream(b, 10*time.Minute), Log: log})
	if err != nil {
		b.Fatal(err)
	}
	startup := time.Since(t0)
	defer func() {
		if err := rel.Stop(); err != nil {
			b.Errorf("stop relayer side: %v", err)
		}
	}()
	// Warm-up: every scanner has scanned a block (its submitters' consumers are created by then or
	// soon after), then warmup more.
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if c := rel.Counters(); !slices.Contains(c.Scanned, 0) {
			break
		}
	}
	scanning := time.Since(t0)
	time.Sleep(warmup)
	ca, pa, sa := rel.Counters(), relaysim.Sample(), srv.stats(b)
	b.ResetTimer()
	time.Sleep(window)
	b.StopTimer()
	cb, pb, sb := rel.Counters(), relaysim.Sample(), srv.stats(b)
	if prefix := os.Getenv("CITYRELAY_SIM_PROFILES"); prefix != "" {
		writeProfile(b, "goroutine", 1, fmt.Sprintf("%s.goroutines.%d", prefix, n))
		writeProfile(b, "heap", 0, fmt.Sprintf("%s.heap.%d", prefix, n))
	}
	w := rel.Window(ca, cb)
	secs := w.Elapsed.Seconds()
	core := relaysim.CoreFraction(pa, pb)
	serverCore := float64(sb.CPUNS-sa.CPUNS) / 1e9 / secs
	busy := relaysim.MachineBusyFraction(pa, pb)
	reqs := float64(sb.Requests["total"]-sa.Requests["total"]) / secs / float64(n)
	var hiReqs float64
	for i := range sb.PerChain {
		hiReqs = max(hiReqs, float64(sb.PerChain[i]-sa.PerChain[i])/secs)
	}
	blocksPerChain := float64(w.Blocks) / float64(n)
	verified := float64(w.HeadersVerified) / secs
	late := time.Duration(sb.MaxLateNS)
	// A scanner is a block behind by design (block h is scanned once header h+1 is verified) and two
	// just before its next poll; up to keepUpLag allows a slow round of requests. One falling behind
	// shows a lag that grows through the window.
	keepsUp := w.FinalLagMax <= keepUpLag && w.LagP99 <= keepUpLag && w.Restarts == 0 && w.Gaps == 0
	verdict := "keeps up"
	if !keepsUp {
		verdict = "FALLS BEHIND"
	}
	if late > block/2 {
		verdict += fmt.Sprintf(" (servers %s late: the machine, not only the relayer)", late.Round(time.Millisecond))
	}
	methods := map[string]float64{}
	for k, v := range sb.Requests {
		if k != "total" {
			methods[k] = float64(v-sa.Requests[k]) / secs / float64(n)
		}
	}
	fmt.Printf("simulated %d chains, %s blocks, start-up %s, every scanner scanning after %s, warm-up %s, window %s; machine busy %.0f %% of %d cores (load %s)\n",
		n, block, startup.Round(100*time.Millisecond), scanning.Round(100*time.Millisecond), warmup, w.Elapsed.Round(time.Second), busy*100, runtime.NumCPU(), loadavg())
	fmt.Printf("  relayer: CPU %.1f %% of a core (%.3f %%/chain), RSS %d MB (%.2f MB/chain over %d MB before start), heap %d MB, goroutines %d, fds %d\n",
		core*100, core*100/float64(n), pb.RSSKB/1024, float64(pb.RSSKB-p0.RSSKB)/1024/float64(n), p0.RSSKB/1024, pb.HeapAlloc>>20, pb.Goroutines, pb.FDs)
	fmt.Printf("  headers verified %.1f/s (%.2f per chain per block; per chain %d..%d in the window), skipped %d, verification errors %d\n",
		verified, float64(w.HeadersVerified)/max(float64(w.Blocks), 1), w.MinVerified, w.MaxVerified, w.HeadersSkipped, w.VerifyErrs)
	fmt.Printf("  RPC requests/s per chain %.2f (max %.2f; %.2f per block) by route %v\n", reqs, hiReqs, reqs*secs/max(blocksPerChain, 1), roundMap(methods))
	fmt.Printf("  scan delay (next header's time -> block scanned) p50 %s p99 %s max %s; lag behind head p50 %d p99 %d max %d blocks (at the end %d); restarts %d, gaps %d\n",
		w.DelayP50.Round(time.Millisecond), w.DelayP99.Round(time.Millisecond), w.DelayMax.Round(time.Millisecond), w.LagP50, w.LagP99, w.LagMax, w.FinalLagMax, w.Restarts, w.Gaps)
	fmt.Printf("  servers (child process): CPU %.1f %% of a core, RSS %d MB, producers at most %s late\n", serverCore*100, sb.RSSKB/1024, late.Round(time.Millisecond))
	if len(sb.Errors) > 0 {
		verdict += fmt.Sprintf(" (%d chains stopped making blocks: %s)", len(sb.Errors), sb.Errors[0])
	}
	fmt.Printf("  %s\n", verdict)
	fmt.Printf("SIMROW | %d | %.0f %% | %.1f %% | %.3f %% | %d MB | %d MB | %d | %d | %.1f | %.2f | %.2f | %d / %d ms | %d / %d | %.0f %% | %s |\n",
		n, busy*100, core*100, core*100/float64(n), pb.RSSKB/1024, pb.HeapAlloc>>20, pb.Goroutines, pb.FDs, verified, reqs,
		float64(w.HeadersVerified)/max(float64(w.Blocks), 1), w.DelayP99.Milliseconds(), w.DelayMax.Milliseconds(), w.LagP99, w.LagMax,
		serverCore*100, verdict)
	if failures := rel.Failures(); len(failures) > 0 {
		i := 0
		for part, errs := range failures {
			if i++; i > 5 {
				break
			}
			fmt.Printf("  failed part %s (%d times), last: %v\n", part, len(errs), errs[len(errs)-1])
		}
	}
	b.ReportMetric(core*100, "cpu%")
	b.ReportMetric(float64(pb.RSSKB)/1024, "rssMB")
	b.ReportMetric(float64(pb.HeapAlloc)/(1<<20), "heapMB")
	b.ReportMetric(float64(pb.Goroutines), "goroutines")
	b.ReportMetric(float64(pb.FDs), "fds")
	b.ReportMetric(verified, "headers/s")
	b.ReportMetric(reqs, "rpc/s/chain")
	b.ReportMetric(float64(w.DelayP99.Milliseconds()), "delay-p99-ms")
	b.ReportMetric(float64(w.LagP99), "lag-p99-blocks")
	b.ReportMetric(float64(w.LagMax), "lag-max-blocks")
	b.ReportMetric(serverCore*100, "server-cpu%")
}

// keepUpLag is the most blocks a scanner that keeps up is behind its chain's head.
const keepUpLag = 4

// servers is cmd/chainsim running as a child process.
type servers struct {
	infos []chainsim.ChainInfo
	mu    sync.Mutex
	in    io.WriteCloser
	out   *bufio.Reader
}

func startServers(b *testing.B, bin string, n int, block time.Duration, txEvery int) *servers {
	b.Helper()
	cmd := exec.Command(bin, "-chains", strconv.Itoa(n), "-block", block.String(), "-tx-every", strconv.Itoa(txEvery))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = in.Close(); _ = cmd.Wait() })
	s := &servers{in: in, out: bufio.NewReaderSize(out, 1<<20)}
	line, err := s.out.ReadBytes('\n')
	if err != nil {
		b.Fatalf("chainsim: %v", err)
	}
	if err := json.Unmarshal(line, &s.infos); err != nil || len(s.infos) != n {
		b.Fatalf("chainsim: %d chains in %q: %v", len(s.infos), line, err)
	}
	return s
}

func (s *servers) stats(b *testing.B) chainsim.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.in, "stats\n"); err != nil {
		b.Fatalf("chainsim stats: %v", err)
	}
	line, err := s.out.ReadBytes('\n')
	if err != nil {
		b.Fatalf("chainsim stats: %v", err)
	}
	var st chainsim.Stats
	if err := json.Unmarshal(line, &st); err != nil {
		b.Fatalf("chainsim stats %q: %v", line, err)
	}
	return st
}

// writeProfile writes one of this process's pprof profiles (goroutines grouped by stack: where the
// scanners wait; the heap: what the chains' memory is).
func writeProfile(b *testing.B, name string, debug int, file string) {
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, debug); err != nil {
		b.Fatal(err)
	}
}

// loadavg is the machine's load average over 1, 5 and 15 minutes.
func loadavg() string {
	bz, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(bz))
	return strings.Join(f[:min(3, len(f))], " ")
}

func roundMap(m map[string]float64) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return out
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envStr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
