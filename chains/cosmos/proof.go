package cosmos

import (
	"context"
	"errors"
	"fmt"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"

	"github.com/cityrelay/cityrelay/chains"
)

// QueryProven reads key from the store storeKey at height (≥ 1) with its ICS-23 proof. The proof
// verifies against the app hash in the header at the returned Proof's Height+1.
func (c *Client) QueryProven(ctx context.Context, storeKey string, key []byte, height int64) (*chains.Proof, error) {
	if height < 1 {
		return nil, fmt.Errorf("%s: proven query of %s/%q needs a height", c.cfg.ChainID, storeKey, key)
	}
	var value []byte
	var ops *cmtcrypto.ProofOps
	var qh int64
	if c.grpc != nil {
		v, o, h, err := c.abciQueryGRPC(ctx, "store/"+storeKey+"/key", key, height, true)
		if err != nil {
			return nil, fmt.Errorf("proven query %s/%q at %d: %w", storeKey, key, height, err)
		}
		value, ops, qh = v, o, h
	} else {
		res, err := c.ABCIQuery(ctx, "store/"+storeKey+"/key", key, height, true)
		if err != nil {
			return nil, fmt.Errorf("proven query %s/%q at %d: %w", storeKey, key, height, err)
		}
		value, ops, qh = res.Value, res.ProofOps, res.Height
	}
	if ops == nil || len(ops.Ops) == 0 {
		return nil, fmt.Errorf("%s: proven query %s/%q at %d: %w", c.cfg.ChainID, storeKey, key, height, errNoProof)
	}
	mp, err := commitmenttypes.ConvertProofs(ops)
	if err != nil {
		return nil, fmt.Errorf("%s: proven query %s/%q at %d: convert proof: %w", c.cfg.ChainID, storeKey, key, height, err)
	}
	bz, err := c.cfg.Codec.Marshal(&mp)
	if err != nil {
		return nil, fmt.Errorf("%s: proven query %s/%q at %d: encode proof: %w", c.cfg.ChainID, storeKey, key, height, err)
	}
	if len(value) == 0 {
		value = nil
	}
	return &chains.Proof{StoreKey: storeKey, Key: key, Value: value, Height: qh, Ops: ops, Bytes: bz}, nil
}

var errNoProof = errors.New("node returned no proof")
