#!/usr/bin/env bash
# The relayer's per-chain code against N synthetic chains (issue 22, item 4; BENCHMARKS.md, "The
# 120-city model"): light clients verifying every signed header, scanners paced by block time, idle
# submitters on embedded JetStream, in one process; the chains (a hub and N-1 members, 4 validators,
# empty blocks) served by internal/chainsim/cmd/chainsim in a child process. One test process per N
# (nothing carried over from a smaller N); prints a table, one row per N. Real chains: scripts/bench-hub.sh.
#   scripts/bench-sim.sh                                  # N = 13, 121, 242, 484; 1 s blocks, 30 s window
#   CHAINS="13 121" WINDOW=60 scripts/bench-sim.sh
#   CHAINS=121 TX_EVERY=5 scripts/bench-sim.sh            # a tx with a (foreign) packet event every 5th block
#   CHAINS=121 CPUPROFILE=/tmp/sim.prof scripts/bench-sim.sh   # pprof CPU profile of the relayer side (go tool pprof)
set -euo pipefail
cd "$(dirname "$0")/.."
chains=${CHAINS:-13 121 242 484}
echo "== simulated chains: N=${chains}, ${BLOCK_MS:-1000} ms blocks, window ${WINDOW:-30} s after ${WARMUP:-10} s (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for n in ${chains//,/ }; do
  CITYRELAY_SIM_CHAINS=$n CITYRELAY_SIM_BLOCK_MS=${BLOCK_MS:-1000} CITYRELAY_SIM_WINDOW=${WINDOW:-30} \
    CITYRELAY_SIM_WARMUP=${WARMUP:-10} CITYRELAY_SIM_TX_EVERY=${TX_EVERY:-0} \
    go test -run '^$' -bench BenchmarkSimulatedChains -benchtime 1x -timeout 60m ${CPUPROFILE:+-cpuprofile "$CPUPROFILE.$n"} \
    ./internal/chainsim/relaysim/ | tee -a "$out" | grep -v -e '^SIMROW' -e '^goos' -e '^goarch' -e '^pkg' -e '^cpu' -e '^PASS' -e '^ok'
done
echo
echo "| chains | machine busy | relayer CPU (of a core) | CPU per chain | RSS | Go heap | goroutines | fds | headers verified/s | RPC req/s per chain | headers verified per block | scan delay p99 / max | lag p99 / max (blocks) | servers' CPU | |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
grep '^SIMROW' "$out" | sed 's/^SIMROW //'
