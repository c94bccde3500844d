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
	committed, forged, err := c.forge(ctx, rpc, height)
	if err != nil {
		return fail(err)
	}
	trustedVals, err := validatorsAt(ctx, rpc, int64(trusted.RevisionHeight)+1)
	if err != nil {
		return fail(err)
	}
	header := func(lb *cmttypes.LightBlock) (*ibctm.Header, error) {
		vp, err := lb.ValidatorSet.ToProto()
		if err != nil {
			return nil, err
		}
		tp, err := trustedVals.ToProto()
		if err != nil {
			return nil, err
		}
		return &ibctm.Header{SignedHeader: lb.SignedHeader.ToProto(), ValidatorSet: vp, TrustedHeight: trusted, TrustedValidators: tp}, nil
	}
	h1, err := header(committed)
	if err != nil {
		return fail(fmt.Errorf("committed header: %w", err))
	}
	h2, err := header(forged)
	if err != nil {
		return fail(fmt.Errorf("forged header: %w", err))
	}
	return ibctm.NewMisbehaviour(clientID, h1, h2), nil
}

// ForgedLightBlock is a header conflicting with the one the chain committed at height, validly
// signed: the committed header with another app hash, its commit signed by the chain's validator
// key in the same round at the same time as the real precommit (the validator equivocates), with
// the chain's validator set at height. What a forking city's node would serve.
func (c *Chain) ForgedLightBlock(ctx context.Context, height int64) (*cmttypes.LightBlock, error) {
	rpc, err := rpchttp.New(c.RPCAddr, "/websocket")
	if err != nil {
		return nil, err
	}
	_, forged, err := c.forge(ctx, rpc, height)
	if err != nil {
		return nil, fmt.Errorf("forged header of %s at %d: %w", c.ChainID, height, err)
	}
	return forged, nil
}

// forge returns the light block the chain committed at height and a conflicting one signed by the
// chain's validator key (ForgedLightBlock).
func (c *Chain) forge(ctx context.Context, rpc *rpchttp.HTTP, height int64) (committed, forged *cmttypes.LightBlock, err error) {
	res, err := rpc.Commit(ctx, &height)
	if err != nil {
		return nil, nil, fmt.Errorf("commit: %w", err)
	}
	vals, err := validatorsAt(ctx, rpc, height)
	if err != nil {
		return nil, nil, err
	}
	pv := privval.LoadFilePVEmptyState(cometConfig(c.opts).PrivValidatorKeyFile(), "")
	addr := pv.Key.Address
	idx, _ := vals.GetByAddress(addr)
	if idx < 0 {
		return nil, nil, fmt.Errorf("validator %s is not in the set", addr)
	}
	var real *cmttypes.CommitSig
	for i := range res.Commit.Signatures {
		if s := &res.Commit.Signatures[i]; s.ValidatorAddress.String() == addr.String() {
			real = s
		}
	}
	if real == nil {
		return nil, nil, fmt.Errorf("validator %s did not sign the commit", addr)
	}
	header := *res.Header
	header.AppHash = append([]byte{}, header.AppHash...)
	header.AppHash[0] ^= 0xff
	blockID := cmttypes.BlockID{Hash: header.Hash(), PartSetHeader: res.Commit.BlockID.PartSetHeader}
	vote := &cmtproto.Vote{Type: cmtproto.PrecommitType, Height: height, Round: res.Commit.Round, BlockID: blockID.ToProto(),
		Timestamp: real.Timestamp, ValidatorAddress: addr, ValidatorIndex: idx}
	sig, err := pv.Key.PrivKey.Sign(cmttypes.VoteSignBytes(c.ChainID, vote))
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	commit := &cmttypes.Commit{Height: height, Round: res.Commit.Round, BlockID: blockID, Signatures: []cmttypes.CommitSig{
		{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: addr, Timestamp: real.Timestamp, Signature: sig}}}
	committed = &cmttypes.LightBlock{SignedHeader: &res.SignedHeader, ValidatorSet: vals}
	forged = &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: &header, Commit: commit}, ValidatorSet: vals}
	for what, lb := range map[string]*cmttypes.LightBlock{"committed": committed, "forged": forged} {
		if err := lb.ValidateBasic(c.ChainID); err != nil {
			return nil, nil, fmt.Errorf("%s header: %w", what, err)
		}
	}
	return committed, forged, nil
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
