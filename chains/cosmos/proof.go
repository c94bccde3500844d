package cosmos

import (
	"context"
	"errors"
	"fmt"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"
)

// Proven is a store value (or its absence) with the ICS-23 proof the chain returned for it.
//
// QueryHeight is the height the store was read at; the proof verifies against the app hash in the
// header at QueryHeight+1, which is therefore the IBC proof height. Nothing here is trusted: the
// caller checks ProofOps against an app hash its light client verified before it uses Value.
type Proven struct {
	StoreKey    string
	Key         []byte
	Value       []byte // nil when absent
	QueryHeight int64
	ProofOps    *cmtcrypto.ProofOps
	// Proof is ProofOps as a marshalled ibc-go MerkleProof, ready for a Msg's proof field.
	Proof []byte
}

// ProofHeight is the IBC proof height (revision height) of the value: QueryHeight + 1.
func (p *Proven) ProofHeight() int64 { return p.QueryHeight + 1 }

// QueryProven reads key from the store storeKey at height (≥ 1) with a proof.
func (c *Client) QueryProven(ctx context.Context, storeKey string, key []byte, height int64) (*Proven, error) {
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
	return &Proven{StoreKey: storeKey, Key: key, Value: value, QueryHeight: qh, ProofOps: ops, Proof: bz}, nil
}

var errNoProof = errors.New("node returned no proof")
