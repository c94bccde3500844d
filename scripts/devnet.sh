#!/usr/bin/env bash
# Start a devnet of city chains on free loopback ports; Ctrl-C stops them all.
#   scripts/devnet.sh                       # seoul-1, bucheon-1, wego-1 with 1 s blocks
#   scripts/devnet.sh --chains seoul-1,bucheon-1 --block-time 200ms --home /tmp/devnet
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./cmd/citychaind devnet "$@"
