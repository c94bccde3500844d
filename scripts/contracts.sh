#!/usr/bin/env bash
# Compile contracts/CityAttestationRegistry.sol and regenerate what is derived from it:
#   contracts/build/CityAttestationRegistry.{abi,bin,bin-runtime}   solc artifacts (bin: lowercase hex, no 0x),
#                                                                   embedded by Go package contracts
#   contracts/build/CityAttestationRegistry.immutables.json         where the EVM writes the immutable
#                                                                   evmChainId into the runtime code
#   contracts/registry.go                                           go-ethereum abigen (v2) bindings
#
# Usage:
#   scripts/contracts.sh           regenerate everything above
#   scripts/contracts.sh --check   recompile into a temporary directory and exit 1 if any committed file
#                                  differs (CI runs this)
#
# The compiler is solc-js from npm at a pinned version, installed once into contracts/.solc/<version>
# (gitignored). The runtime code hash the city-qbft light client pins (contracts.RuntimeCodeHashFor, per
# EVM chain id) depends on the compiler version and settings (contracts/compile.js), so changing either
# is a protocol change.
set -euo pipefail
cd "$(dirname "$0")/.."

SOLC_VERSION=0.8.37
CONTRACT=CityAttestationRegistry
solc_dir="contracts/.solc/$SOLC_VERSION"

check=false
case "${1:-}" in
"") ;;
--check) check=true ;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

for tool in node npm go; do
	command -v "$tool" >/dev/null || {
		echo "contracts.sh: $tool is required" >&2
		exit 1
	}
done

if [ ! -f "$solc_dir/node_modules/solc/soljson.js" ]; then
	echo "installing solc@$SOLC_VERSION into $solc_dir"
	mkdir -p "$solc_dir"
	npm install --prefix "$solc_dir" --no-save --no-package-lock --no-audit --no-fund "solc@$SOLC_VERSION" >&2
fi

compile() { # <build dir> <Go package dir>
	SOLC_VERSION="$SOLC_VERSION" node contracts/compile.js "$solc_dir" "$1"
	go run ./contracts/gen -in "$1" -out "$2"
}

if ! $check; then
	compile contracts/build contracts
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
compile "$tmp/build" "$tmp/registry" >/dev/null

status=0
compare() { # <fresh file> <committed file>
	if ! diff -q "$1" "$2" >/dev/null 2>&1; then
		echo "contracts.sh: $2 is out of date" >&2
		status=1
	fi
}
for ext in abi bin bin-runtime immutables.json; do
	compare "$tmp/build/$CONTRACT.$ext" "contracts/build/$CONTRACT.$ext"
done
compare "$tmp/registry/registry.go" contracts/registry.go
if [ "$status" -ne 0 ]; then
	echo "contracts.sh: generated contract files differ from contracts/$CONTRACT.sol; run scripts/contracts.sh and commit the result" >&2
	exit 1
fi
echo "contracts.sh: contract artifacts and bindings are up to date"
