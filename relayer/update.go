package relayer

import (
	"context"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/light"
)

const tmClientStateURL = "/ibc.lightclients.tendermint.v1.ClientState"

// clientState returns the 07-tendermint client state of the client clientID on chain c.
func clientState(ctx context.Context, c chains.ClientQuerier, clientID string) (*ibctm.ClientState, error) {
	typeURL, value, err := c.ClientState(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("query client %s on %s: %w", clientID, c.ChainID(), err)
	}
	return decodeClientState(typeURL, value)
}

func decodeClientState(typeURL string, value []byte) (*ibctm.ClientState, error) {
	if typeURL != tmClientStateURL {
		return nil, fmt.Errorf("client state of type %q: %w", typeURL, ErrNotTendermint)
	}
	var cs ibctm.ClientState
	if err := proto.Unmarshal(value, &cs); err != nil {
		return nil, fmt.Errorf("decode client state: %w", err)
	}
	return &cs, nil
}

const tmConsensusStateURL = "/ibc.lightclients.tendermint.v1.ConsensusState"

// consensusState reads dst's client's consensus state at height h from dst's state at the verified
// header lb, with a proof checked against lb's app hash.
func consensusState(ctx context.Context, dst *End, lb *cmttypes.LightBlock, h clienttypes.Height) (*ibctm.ConsensusState, error) {
	p, err := dst.provenAt(ctx, light.VerifyProofAgainstAppHash, lb, ibcexported.StoreKey, host.FullConsensusStateKey(dst.ClientID, h))
	if err != nil {
		return nil, err
	}
	if p.Value == nil {
		return nil, fmt.Errorf("client %s on %s has no consensus state at %s (state at verified height %d)", dst.ClientID, dst.ChainID(), h, lb.Height)
	}
	var any clientAny
	if err := proto.Unmarshal(p.Value, &any); err != nil {
		return nil, fmt.Errorf("consensus state of %s at %s on %s: %w", dst.ClientID, h, dst.ChainID(), ErrNotTendermint)
	}
	return decodeConsensusState(dst, h, any.TypeUrl, any.Value)
}

// committedClient reads dst's client of src from dst's state at dst's newest verified header, with a
// proof checked against its app hash, and returns it with that header. That state is committed: every
// node past it, and every simulation and block after it, has the client at least there, whatever other
// relay txs are in flight. A node's unproven answer can be one block newer (the header that commits to
// its newest state is not out yet), and a tx built on it — an update trusting a height the
// verified state does not hold yet — would fail for want of a state that exists.
func committedClient(ctx context.Context, dst, src *End) (*ibctm.ClientState, *cmttypes.LightBlock, error) {
	p, lb, err := dst.verifiedRead(ctx, light.VerifyProofAgainstAppHash, ibcexported.StoreKey, host.FullClientStateKey(dst.ClientID))
	if err != nil {
		return nil, nil, fmt.Errorf("client %s on %s: %w", dst.ClientID, dst.ChainID(), err)
	}
	if p.Value == nil {
		return nil, nil, fmt.Errorf("client %s on %s: no client state at verified height %d", dst.ClientID, dst.ChainID(), lb.Height)
	}
	var any clientAny
	if err := proto.Unmarshal(p.Value, &any); err != nil {
		return nil, nil, fmt.Errorf("client state of %s on %s: %w", dst.ClientID, dst.ChainID(), ErrNotTendermint)
	}
	cs, err := decodeClientState(any.TypeUrl, any.Value)
	if err != nil {
		return nil, nil, fmt.Errorf("client %s on %s: %w", dst.ClientID, dst.ChainID(), err)
	}
	if cs.ChainId != src.ChainID() {
		return nil, nil, fmt.Errorf("client %s on %s tracks %s, not %s: %w", dst.ClientID, dst.ChainID(), cs.ChainId, src.ChainID(), ErrWrongClient)
	}
	return cs, lb, nil
}

// decodeConsensusState decodes dst's client's consensus state at h, a protobuf Any.
func decodeConsensusState(dst *End, h clienttypes.Height, typeURL string, value []byte) (*ibctm.ConsensusState, error) {
	if typeURL != tmConsensusStateURL {
		return nil, fmt.Errorf("consensus state of %s at %s on %s: %w", dst.ClientID, h, dst.ChainID(), ErrNotTendermint)
	}
	var cs ibctm.ConsensusState
	if err := proto.Unmarshal(value, &cs); err != nil {
		return nil, fmt.Errorf("decode consensus state of %s at %s: %w", dst.ClientID, h, err)
	}
	return &cs, nil
}

// updateTo prepares dst's client of src for proofs at a verified header of src. If the client is
// behind target, it returns a MsgUpdateClient carrying target (and target itself); if the client is
// already at or past target, no message is needed and the header at the client's latest height is
// returned instead, so proofs match a consensus state the client has.
//
// The client is read from dst's committed state at a verified header (committedClient), so the tx is
// valid on its own whatever else is in flight: its update trusts a consensus state every later state
// holds; if another tx in flight brings the client to target first, this update is a no-op on chain
// (ibc-go's 07-tendermint accepts a header at a height it has with the same consensus state:
// CheckForMisbehaviour finds it equal, UpdateState returns early); if another brings it past target,
// this one fills in target, below the client's latest height, which 07-tendermint also accepts.
func updateTo(ctx context.Context, dst, src *End, target *cmttypes.LightBlock) (sdk.Msg, *cmttypes.LightBlock, error) {
	cs, at, err := committedClient(ctx, dst, src)
	if err != nil {
		return nil, nil, err
	}
	trusted := int64(cs.LatestHeight.RevisionHeight)
	if trusted >= target.Height {
		lb, err := src.Light.VerifyHeight(ctx, trusted)
		if err != nil {
			return nil, nil, fmt.Errorf("verify %s header %d: %w", src.ChainID(), trusted, err)
		}
		return nil, lb, nil
	}
	msg, err := updateMsg(ctx, dst, src, at, cs.LatestHeight, target)
	if err != nil {
		return nil, nil, err
	}
	return msg, target, nil
}

// updateMsg builds a MsgUpdateClient moving dst's client of src from trusted to the verified header
// lb. at is the verified header of dst whose state holds the client at trusted.
func updateMsg(ctx context.Context, dst, src *End, at *cmttypes.LightBlock, trusted clienttypes.Height, lb *cmttypes.LightBlock) (sdk.Msg, error) {
	// The trusted validators are the next validators of the trusted header: the set at trusted+1,
	// whose hash the client's consensus state at trusted holds (read with a proof from dst, in the
	// same state the client state was read from). They are taken from the light client's store, or
	// fetched and checked against that hash: a client far behind this light client's first header is
	// updated without walking back through the headers.
	cons, err := consensusState(ctx, dst, at, trusted)
	if err != nil {
		return nil, err
	}
	next, err := src.Light.ValidatorsAt(ctx, int64(trusted.RevisionHeight)+1, cons.NextValidatorsHash)
	if err != nil {
		return nil, fmt.Errorf("trusted validators of %s at %d: %w", src.ChainID(), trusted.RevisionHeight+1, err)
	}
	header, err := tmHeader(src.ChainID(), lb, trusted, next)
	if err != nil {
		return nil, err
	}
	signer, err := dst.Chain.Address(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := clienttypes.NewMsgUpdateClient(dst.ClientID, header, signer)
	if err != nil {
		return nil, fmt.Errorf("build update of %s on %s: %w", dst.ClientID, dst.ChainID(), err)
	}
	return msg, nil
}

// tmHeader is the 07-tendermint header of chainID's verified header lb for a client at trusted,
// whose consensus state there trusts the validators next (the set at trusted+1).
func tmHeader(chainID string, lb *cmttypes.LightBlock, trusted clienttypes.Height, next *cmttypes.ValidatorSet) (*ibctm.Header, error) {
	vals, err := lb.ValidatorSet.ToProto()
	if err != nil {
		return nil, fmt.Errorf("encode %s validators at %d: %w", chainID, lb.Height, err)
	}
	trustedVals, err := next.ToProto()
	if err != nil {
		return nil, fmt.Errorf("encode %s validators at %d: %w", chainID, trusted.RevisionHeight+1, err)
	}
	return &ibctm.Header{
		SignedHeader:      lb.SignedHeader.ToProto(),
		ValidatorSet:      vals,
		TrustedHeight:     trusted,
		TrustedValidators: trustedVals,
	}, nil
}

// UpdateClient moves dst's client of src to src's latest verified header. It returns the new client
// height, and the tx (nil when the client was already there).
func UpdateClient(ctx context.Context, dst, src *End) (int64, *TxInfo, error) {
	lb, err := src.Light.VerifyLatest(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("verify latest header of %s: %w", src.ChainID(), err)
	}
	msg, at, err := updateTo(ctx, dst, src, lb)
	if err != nil {
		return 0, nil, err
	}
	if msg == nil {
		return at.Height, nil, nil
	}
	res, err := dst.Chain.Send(ctx, msg)
	if err != nil {
		return 0, nil, fmt.Errorf("update client %s on %s to %d: %w", dst.ClientID, dst.ChainID(), at.Height, err)
	}
	return at.Height, txInfo(res, 0, 1, 1), nil
}

// TxInfo identifies a committed tx.
type TxInfo struct {
	Hash    string
	Height  int64
	GasUsed int64
	Events  []chains.Event
	// Prove is the time spent querying and checking the batch's proofs; Timing breaks down the send.
	Prove  time.Duration
	Timing chains.TxTiming
	// GasWanted and Fee are the tx's gas limit and fee; Msgs counts its messages, ClientUpdates
	// the client updates among them.
	GasWanted     uint64
	Fee           chains.Coin
	Msgs          int
	ClientUpdates int
}

func txInfo(res *chains.TxResult, prove time.Duration, msgs, updates int) *TxInfo {
	return &TxInfo{Hash: res.Hash, Height: res.Height, GasUsed: res.GasUsed, Events: res.Events, Prove: prove, Timing: res.Timing,
		GasWanted: res.GasWanted, Fee: res.Fee, Msgs: msgs, ClientUpdates: updates}
}
