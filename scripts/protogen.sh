#!/usr/bin/env bash
# Regenerate the Go code of proto/ (x/did) with buf and protoc-gen-gocosmos.
# Both tools come from the Go module proxy; proto imports (gogoproto, cosmos_proto, cosmos-sdk) come
# from the Go module cache, so no remote buf registry is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

BUF_VERSION=v1.75.0
GOGOPROTO_VERSION=v1.7.0
gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH"
command -v buf >/dev/null || GOFLAGS= go install "github.com/bufbuild/buf/cmd/buf@${BUF_VERSION}"
command -v protoc-gen-gocosmos >/dev/null || GOFLAGS= go install "github.com/cosmos/gogoproto/protoc-gen-gocosmos@${GOGOPROTO_VERSION}"

moddir() { go list -m -f '{{.Dir}}' "$1"; }
go mod download github.com/cosmos/gogoproto github.com/cosmos/cosmos-proto github.com/cosmos/cosmos-sdk
gogo=$(moddir github.com/cosmos/gogoproto)
cosmosproto=$(moddir github.com/cosmos/cosmos-proto)
sdk=$(moddir github.com/cosmos/cosmos-sdk)

# A throw-away buf workspace: our protos plus the imported ones copied from the module cache.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/proto/gogoproto" "$work/proto/cosmos_proto" "$work/proto/cosmos/msg/v1" "$work/proto/cosmos/base/query/v1beta1"
cp -r proto/cityrelay "$work/proto/"
cp "$gogo/gogoproto/gogo.proto" "$work/proto/gogoproto/"
cp "$cosmosproto/proto/cosmos_proto/cosmos.proto" "$work/proto/cosmos_proto/"
cp "$sdk/proto/cosmos/msg/v1/msg.proto" "$work/proto/cosmos/msg/v1/"
cp "$sdk/proto/cosmos/base/query/v1beta1/pagination.proto" "$work/proto/cosmos/base/query/v1beta1/"
chmod -R u+w "$work"
cat > "$work/proto/buf.yaml" <<'YAML'
version: v1
YAML
cat > "$work/buf.gen.yaml" <<'YAML'
version: v1
plugins:
  - name: gocosmos
    out: gen
    opt: plugins=grpc,Mgoogle/protobuf/any.proto=github.com/cosmos/gogoproto/types/any
YAML
(cd "$work" && buf generate proto --template buf.gen.yaml --path proto/cityrelay)

for out in chains/citychain/x/did/types chains/citychain/x/qbftclient; do
  mkdir -p "$out"
  rm -f "$out"/*.pb.go
  cp "$work"/gen/github.com/cityrelay/cityrelay/$out/*.pb.go "$out/"
  echo "generated: $(ls "$out"/*.pb.go | tr '\n' ' ')"
done
