package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/relayer/config"
)

// BenchmarkVerifyUnderLoad relays CITYRELAY_BENCH_N packets (default 1000) with a daemon in this
// process twice: alone, then while CITYRELAY_BENCH_CLIENTS clients (default 200) each keep one
// verification request in flight (a random attestation id on bucheon-1: a proven absence, one fresh
// header per chain shared by all of them). It reports the requests' p50/p99 latency, how many were
// answered 200, 503 (busy or could not verify) or failed, the relay throughput of both runs, and the
// goroutines and heap before and after; a third run alone separates what the in-process chains'
// growing state adds per run from what the load leaves behind. A client told to retry later (503 + Retry-After) waits a
// second. CITYRELAY_BENCH_SLOTS sets the daemon's concurrent verifications, CITYRELAY_BENCH_VERIFY_RATE its
// budget of verifications a second (verify.max_per_second; 0: none). Run it alone (-run '^$' -bench VerifyUnderLoad -benchtime 1x).
func BenchmarkVerifyUnderLoad(b *testing.B) {
	n := envInt("CITYRELAY_BENCH_N", 1000)
	clients := envInt("CITYRELAY_BENCH_CLIENTS", 200)
	blockTime := time.Duration(envInt("CITYRELAY_BENCH_BLOCK_MS", 500)) * time.Millisecond
	o := startObserved(b, blockTime, envInt("CITYRELAY_BENCH_SLOTS", 0), func(c *config.Config) {
		// The clients all come from 127.0.0.1 but stand for 200 clerks: no per-client share.
		c.Verify.MaxPerClient = 0
		if v, err := strconv.Atoi(os.Getenv("CITYRELAY_BENCH_VERIFY_RATE")); err == nil && v >= 0 {
			c.Verify.MaxPerSecond = v // 0: no budget
		}
	})
	ctx := b.Context()
	var issuerSeq uint64
	relay := func(round int) time.Duration {
		b.Helper()
		start := time.Now()
		if _, _, err := o.seoul.SendAttestations(ctx, o.admin, o.channel, &issuerSeq, n); err != nil {
			b.Fatal(err)
		}
		o.waitRelayed(b, float64(round*n), 10*time.Minute)
		return time.Since(start)
	}
	settled := 0
	settle := func() (int, uint64) {
		runtime.GC()
		time.Sleep(3 * time.Second) // idle connections close, request goroutines end
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		// CITYRELAY_BENCH_HEAPDIR keeps a heap profile after each run (heap-1.pprof ...) to compare
		// with go tool pprof -diff_base.
		if dir := os.Getenv("CITYRELAY_BENCH_HEAPDIR"); dir != "" {
			settled++
			if f, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", settled))); err == nil {
				_ = pprof.WriteHeapProfile(f)
				_ = f.Close()
			}
		}
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	b.ResetTimer()
	alone := relay(1)
	g0, heap0 := settle()

	// The same again with the verification clients.
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var mu sync.Mutex
	var lat, okLat []time.Duration
	var ok, unavailable, busy, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine, mineOK []time.Duration
			defer func() { mu.Lock(); lat, okLat = append(lat, mine...), append(okLat, mineOK...); mu.Unlock() }()
			id := make([]byte, 32)
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = rand.Read(id)
				start := time.Now()
				resp, err := hc.Get(o.base + "/v1/attestations/bucheon-1/seoul-1/" + hex.EncodeToString(id))
				if err != nil {
					failed.Add(1)
					continue
				}
				resp.Body.Close()
				mine = append(mine, time.Since(start))
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
					mineOK = append(mineOK, time.Since(start))
				case http.StatusServiceUnavailable:
					unavailable.Add(1)
					if resp.Header.Get("Retry-After") != "" {
						busy.Add(1)
						time.Sleep(time.Second) // as asked
					}
				default:
					failed.Add(1)
				}
			}
		}()
	}
	loaded := relay(2)
	close(stop)
	wg.Wait()
	b.StopTimer()
	tr.CloseIdleConnections()
	g1, heap1 := settle()
	// A third run alone tells what the chains' growing state adds per run (they live in this
	// process): the load left memory behind only if the loaded run grew the heap by more.
	b.StartTimer()
	again := relay(3)
	b.StopTimer()
	g2, heap2 := settle()

	slices.Sort(lat)
	slices.Sort(okLat)
	pctOf := func(lat []time.Duration, p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	pct := func(p float64) time.Duration { return pctOf(lat, p) }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(pctOf(okLat, 0.99).Microseconds())/1000, "p99-ok-ms")
	b.ReportMetric(float64(len(lat))/loaded.Seconds(), "answers/s")
	b.ReportMetric(float64(len(okLat))/loaded.Seconds(), "verified/s")
	b.ReportMetric(float64(n)/alone.Seconds(), "pkts/s-alone")
	b.ReportMetric(float64(n)/loaded.Seconds(), "pkts/s-loaded")
	b.ReportMetric(float64(n)/again.Seconds(), "pkts/s-alone-again")
	b.ReportMetric((float64(heap1)-float64(heap0))/(1<<20), "heap-growth-loaded-MiB")
	b.ReportMetric((float64(heap2)-float64(heap1))/(1<<20), "heap-growth-alone-MiB")
	// The runs alone vary by more than a second on this machine (block phase, the chains' growing
	// state): the loaded run is also compared with their mean.
	vsMean := 100 * (alone.Seconds() + again.Seconds()) / 2 / loaded.Seconds()
	b.ReportMetric(vsMean, "loaded-vs-mean-alone-%")
	b.Logf("third run alone: %s; loaded run at %.0f%% of the mean of both runs alone; goroutines %d, heap %d MiB", again.Round(time.Millisecond), vsMean, g2, heap2>>20)
	b.Logf("%d packets relayed alone in %s, with %d verification clients in %s (%.0f%%); %d requests: %d ok, %d 503 (%d busy), %d failed; p50 %s p99 %s max %s (verified: p99 %s); goroutines %d -> %d, heap %d MiB -> %d MiB",
		n, alone.Round(time.Millisecond), clients, loaded.Round(time.Millisecond), 100*alone.Seconds()/loaded.Seconds(),
		len(lat)+int(failed.Load()), ok.Load(), unavailable.Load(), busy.Load(), failed.Load(), pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond),
		pct(1).Round(time.Millisecond), pctOf(okLat, 0.99).Round(time.Millisecond), g0, g1, heap0>>20, heap1>>20)
}
