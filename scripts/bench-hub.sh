#!/usr/bin/env bash
# One `cityrelay start` serving a hub (wego-1) and K member chains in a star, idle: relayer CPU, RSS,
# goroutines, file descriptors, RPC requests/s per chain (counted by a proxy in front of each node),
# and the time to link each member (BENCHMARKS.md, "One relayer for the hub and its members").
#   scripts/bench-hub.sh                          # K=12 members, 1 s blocks, 60 s idle window
#   MEMBERS=20 BLOCK_MS=1000 WINDOW=120 scripts/bench-hub.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== hub + ${MEMBERS:-12} members, ${BLOCK_MS:-1000} ms blocks, idle ${WINDOW:-60} s (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
CITYRELAY_BENCH_MEMBERS=${MEMBERS:-12} CITYRELAY_BENCH_BLOCK_MS=${BLOCK_MS:-1000} CITYRELAY_BENCH_WINDOW=${WINDOW:-60} \
  CITYRELAY_BENCH_LOG=${LOG_LEVEL:-warn} \
  go test -run '^$' -bench HubIdle -benchtime 1x -timeout 60m ./cmd/cityrelay/
