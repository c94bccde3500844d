#!/usr/bin/env bash
# Benchmarks of cityrelay (see BENCHMARKS.md for the tables and the limit model).
#   scripts/bench.sh            # micro-benchmarks, then the end-to-end load (10,000 packets, 1 s blocks)
#   scripts/bench.sh micro      # header verification, proof check, JetStream pipeline, decoding, tx building
#   N=20000 BLOCK_MS=2000 BATCH=500 INFLIGHT=9 scripts/bench.sh e2e
#   scripts/bench.sh verify     # 200 verification clients while 1,000 packets are relayed
#   (CLIENTS, N, BLOCK_MS, SLOTS: concurrent verifications, VERIFY_RATE: verify.max_per_second, 0 = none)
# e2e settings: N packets, CHAINS (2: seoul-1 -> bucheon-1; more: a star of paths from seoul-1),
# BLOCK_MS, RATE (packets/s sent; 0 = as fast as the chain takes them), BATCH (batch_max_msgs),
# INFLIGHT (in_flight), CPUPROFILE (pprof file of the daemon), LOG_LEVEL and DAEMON_LOG (its log).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
if [ "$what" = all ] || [ "$what" = micro ]; then
  echo "== micro-benchmarks"
  go test -run '^$' -bench . -benchtime 200x ./light/ ./light/qbft/ ./packets/ ./chains/cosmos/
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
  echo "== end to end: ${CHAINS:-2} chains, ${N:-10000} packets, ${BLOCK_MS:-1000} ms blocks, batch ${BATCH:-500}, ${INFLIGHT:-3} in flight"
  CITYRELAY_BENCH_N=${N:-10000} CITYRELAY_BENCH_BLOCK_MS=${BLOCK_MS:-1000} CITYRELAY_BENCH_BATCH=${BATCH:-500} \
    CITYRELAY_BENCH_INFLIGHT=${INFLIGHT:-3} CITYRELAY_BENCH_CHAINS=${CHAINS:-2} CITYRELAY_BENCH_LOG=${LOG_LEVEL:-warn} CITYRELAY_BENCH_DAEMON_LOG=${DAEMON_LOG:-} \
    CITYRELAY_BENCH_RATE=${RATE:-0} CITYRELAY_BENCH_CPUPROFILE=${CPUPROFILE:-} \
    go test -run '^$' -bench RelayEndToEnd -benchtime 1x -timeout 60m ./cmd/cityrelay/
fi
if [ "$what" = verify ]; then
  echo "== verification under load: ${CLIENTS:-200} clients, ${N:-1000} packets, ${BLOCK_MS:-500} ms blocks"
  env CITYRELAY_BENCH_N=${N:-1000} CITYRELAY_BENCH_CLIENTS=${CLIENTS:-200} CITYRELAY_BENCH_BLOCK_MS=${BLOCK_MS:-500} \
    CITYRELAY_BENCH_SLOTS=${SLOTS:-0} ${VERIFY_RATE:+CITYRELAY_BENCH_VERIFY_RATE=$VERIFY_RATE} \
    go test -run '^$' -bench VerifyUnderLoad -benchtime 1x -timeout 30m ./cmd/cityrelay/
fi
