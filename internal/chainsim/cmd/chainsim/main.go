// Command chainsim serves synthetic CometBFT chains on loopback for the relayer's scale simulation
// (package chainsim), in a process of its own so that the relayer's CPU, memory, goroutines and file
// descriptors are measured without the servers'. It prints one JSON line, the chains
// ([]chainsim.ChainInfo), then answers each line "stats" on its standard input with one JSON line
// (chainsim.Stats, with this process's CPU time and resident set); it stops when its input closes.
//
//	chainsim -chains 121 -block 1s -validators 4
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cityrelay/cityrelay/internal/chainsim"
)

func main() {
	n := flag.Int("chains", 13, "number of chains (a hub and n-1 members)")
	block := flag.Duration("block", time.Second, "block interval")
	vals := flag.Int("validators", 4, "validators per chain")
	txEvery := flag.Int("tx-every", 0, "one tx with a packet event on a foreign channel every N blocks (0: empty blocks)")
	flag.Parse()
	if err := run(*n, *block, *vals, *txEvery); err != nil {
		fmt.Fprintln(os.Stderr, "chainsim:", err)
		os.Exit(1)
	}
}

func run(n int, block time.Duration, vals, txEvery int) error {
	if n < 1 {
		return fmt.Errorf("-chains %d: at least 1", n)
	}
	sim, err := chainsim.Start(chainsim.Options{IDs: chainsim.IDs(n), Interval: block, Validators: vals, TxEvery: txEvery})
	if err != nil {
		return err
	}
	defer sim.Stop()
	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(sim.Infos()); err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch strings.TrimSpace(in.Text()) {
		case "stats":
			st := sim.Stats()
			st.CPUNS, st.RSSKB, st.GoroutinesNow = cpuNS(), rssKB(), runtime.NumGoroutine()
			if err := out.Encode(st); err != nil {
				return err
			}
		case "":
		default:
			fmt.Fprintf(os.Stderr, "chainsim: unknown command %q (stats)\n", in.Text())
		}
	}
	return in.Err()
}

// cpuNS is this process's user + system CPU time.
func cpuNS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// rssKB is this process's resident set (VmRSS), in KiB.
func rssKB() int64 {
	bz, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(bz), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return -1
}
