package devnet

import (
	"context"
	"fmt"

	"github.com/cometbft/cometbft/privval"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"
)

// Misbehaviour makes the chain's validator equivocate at height, as a forking city would: it returns
// the header the chain committed at height and a conflicting one for the same height (another app
// hash), each with a commit signed by the chain's validator key, as an ibctm.Misbehaviour for the
// 07-tendermint client clientID that another chain keeps of this one. trusted is a height at which
// that client holds a consensus state (below height); both headers carry it and the validator set
// that consensus state trusts. Submitted in a MsgUpdateClient, it freezes the client.
func (c *Chain) Misbehaviour(ctx context.Context, clientID string, trusted clienttypes.Height, height int64) (*ibctm.Misbehaviour, error) {
	fail := func(err error) (*ibctm.Misbehaviour, error) {
		return nil, fmt.Errorf("misbehaviour of %s at %d: %w", c.ChainID, height, err)
	}
	if int64(trusted.RevisionHeight) >= height {
		return fail(fmt.Errorf("trusted height %s is not below it", trusted))
	}
	rpc, err := rpchttp.New(c.RPCAddr, "/websocket")
	if err != nil {
		return fail(err)
	}
	committed, err := rpc.Commit(ctx, &height)
	if err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	vals, err := validatorsAt(ctx, rpc, height)
	if err != nil {
		return fail(err)
	}
	trustedVals, err := validatorsAt(ctx, rpc, int64(trusted.RevisionHeight)+1)
	if err != nil {
		return fail(err)
	}

	// The forged header: the committed one with another app hash, signed by the same key in the
	// same round at the same time as the real precommit.
	pv := privval.LoadFilePVEmptyState(cometConfig(c.opts).PrivValidatorKeyFile(), "")
	addr := pv.Key.Address
	idx, _ := vals.GetByAddress(addr)
	if idx < 0 {
		return fail(fmt.Errorf("validator %s is not in the set", addr))
	}
	var real *cmttypes.CommitSig
	for i := range committed.Commit.Signatures {
		if s := &committed.Commit.Signatures[i]; s.ValidatorAddress.String() == addr.String() {
			real = s
		}
	}
	if real == nil {
		return fail(fmt.Errorf("validator %s did not sign the commit", addr))
	}
	forged := *committed.Header
	forged.AppHash = append([]byte{}, forged.AppHash...)
	forged.AppHash[0] ^= 0xff
	blockID := cmttypes.BlockID{Hash: forged.Hash(), PartSetHeader: committed.Commit.BlockID.PartSetHeader}
	vote := &cmtproto.Vote{Type: cmtproto.PrecommitType, Height: height, Round: committed.Commit.Round, BlockID: blockID.ToProto(),
		Timestamp: real.Timestamp, ValidatorAddress: addr, ValidatorIndex: idx}
	sig, err := pv.Key.PrivKey.Sign(cmttypes.VoteSignBytes(c.ChainID, vote))
	if err != nil {
		return fail(fmt.Errorf("sign: %w", err))
	}
	commit := &cmttypes.Commit{Height: height, Round: committed.Commit.Round, BlockID: blockID, Signatures: []cmttypes.CommitSig{
		{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: addr, Timestamp: real.Timestamp, Signature: sig}}}

	header := func(sh cmttypes.SignedHeader) (*ibctm.Header, error) {
		if err := sh.ValidateBasic(c.ChainID); err != nil {
			return nil, err
		}
		vp, err := vals.ToProto()
		if err != nil {
			return nil, err
		}
		tp, err := trustedVals.ToProto()
		if err != nil {
			return nil, err
		}
		return &ibctm.Header{SignedHeader: sh.ToProto(), ValidatorSet: vp, TrustedHeight: trusted, TrustedValidators: tp}, nil
	}
	h1, err := header(committed.SignedHeader)
	if err != nil {
		return fail(fmt.Errorf("committed header: %w", err))
	}
	h2, err := header(cmttypes.SignedHeader{Header: &forged, Commit: commit})
	if err != nil {
		return fail(fmt.Errorf("forged header: %w", err))
	}
	return ibctm.NewMisbehaviour(clientID, h1, h2), nil
}

// validatorsAt is the chain's whole validator set at height.
func validatorsAt(ctx context.Context, rpc *rpchttp.HTTP, height int64) (*cmttypes.ValidatorSet, error) {
	page, perPage := 1, 100
	res, err := rpc.Validators(ctx, &height, &page, &perPage)
	if err != nil {
		return nil, fmt.Errorf("validators at %d: %w", height, err)
	}
	if res.Total != len(res.Validators) {
		return nil, fmt.Errorf("validators at %d: %d of %d in one page", height, len(res.Validators), res.Total)
	}
	return cmttypes.NewValidatorSet(res.Validators), nil
}
