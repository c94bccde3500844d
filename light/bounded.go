package light

import (
	"context"
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/types"
)

// MaxBackwardWalk bounds VerifyHeightWithin's walk below the store's first header: cometbft verifies
// a height below it by fetching every header in between, one RPC call each, holding the client's lock.
const MaxBackwardWalk = 64

var (
	// ErrOutsideStore is returned for a height the client will not verify on someone else's say-so:
	// below its first verified header by more than the bound (VerifyHeightWithin), or, for a header
	// judged by CheckConflict, below its first verified header at all (with ErrNotEvidence).
	ErrOutsideStore = errors.New("height outside the light client's verified range")
	// ErrNotYetVerifiable is returned by CheckConflict for a validly signed header above the newest
	// header the client verifies even after updating to the primary's latest: judge it again later.
	ErrNotYetVerifiable = errors.New("height above the newest verifiable header")
)

// VerifyHeightWithin is VerifyHeight for a height someone else named (a client's latest height, a
// tx's block from a node's search): a height more than maxBack below the store's first header is
// refused with ErrOutsideStore without a single RPC call (maxBack <= 0: MaxBackwardWalk). Heights
// above are verified forward by skipping (bisection), whose cost does not grow with the distance.
func (c *Client) VerifyHeightWithin(ctx context.Context, h, maxBack int64) (*types.LightBlock, error) {
	if maxBack <= 0 {
		maxBack = MaxBackwardWalk
	}
	if h <= 0 {
		return nil, &VerificationError{ChainID: c.chainID, Height: h, Err: fmt.Errorf("%w: height %d", ErrOutsideStore, h)}
	}
	c.mu.Lock()
	first, err := c.lc.FirstTrustedHeight()
	c.mu.Unlock()
	if err == nil && first > 0 && h < first-maxBack {
		return nil, &VerificationError{ChainID: c.chainID, Height: h, Err: fmt.Errorf(
			"%w: %d is more than %d headers below the first verified header %d", ErrOutsideStore, h, maxBack, first)}
	}
	return c.VerifyHeight(ctx, h)
}
