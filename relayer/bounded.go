package relayer

import (
	"context"

	cmttypes "github.com/cometbft/cometbft/types"
)

// BoundedVerifier is a HeaderVerifier that can refuse a height far below its verified range without
// a single RPC call (light.Client.VerifyHeightWithin): a height someone else named (a client's latest
// height, a tx's block from a node's search) must not make it walk back one header at a time.
type BoundedVerifier interface {
	VerifyHeightWithin(ctx context.Context, h, maxBack int64) (*cmttypes.LightBlock, error)
}

// verifyNamedHeight verifies a height taken from unproven data: bounded where v can be (maxBack 0:
// the verifier's default bound), as VerifyHeight otherwise.
func verifyNamedHeight(ctx context.Context, v HeaderVerifier, h int64) (*cmttypes.LightBlock, error) {
	if b, ok := v.(BoundedVerifier); ok {
		return b.VerifyHeightWithin(ctx, h, 0)
	}
	return v.VerifyHeight(ctx, h)
}
