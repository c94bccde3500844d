package relayer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/light"
)

// Client is Dst's client of Src: the 07-tendermint client Dst.ClientID on Dst's chain that tracks
// Src's chain (Hermes calls it a foreign client). Everything the relayer does to a client is here:
// create it, read it (committed, at a verified header of Dst), update it to a verified header of Src
// (alone, or ahead of the messages whose proofs need it), refresh it before it expires, and freeze it
// with a fork's misbehaviour. Src's headers all come from Src's light client.
//
// A Client holds its ends, not copies: an id link sets on Dst (ClientID) is the client's.
type Client struct {
	Dst, Src *End
}

// maxClockDrift is how far a header's time may run ahead of the receiving chain's clock. City
// chains are run by different operators; 20 s absorbs NTP drift without weakening expiry checks much.
const maxClockDrift = 20 * time.Second

const (
	tmClientStateURL    = "/ibc.lightclients.tendermint.v1.ClientState"
	tmConsensusStateURL = "/ibc.lightclients.tendermint.v1.ConsensusState"
)

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

// checkTracks reads the client (unproven: a lie only makes a later step fail) and checks that it is a
// 07-tendermint client of Src.
func (c Client) checkTracks(ctx context.Context) error {
	cs, err := clientState(ctx, c.Dst.Chain, c.Dst.ClientID)
	if err != nil {
		return err
	}
	if cs.ChainId != c.Src.ChainID() {
		return fmt.Errorf("client %s on %s tracks %s, not %s: %w", c.Dst.ClientID, c.Dst.ChainID(), cs.ChainId, c.Src.ChainID(), ErrWrongClient)
	}
	return nil
}

// createMsg builds the MsgCreateClient of a 07-tendermint client of Src on Dst, from Src's latest
// verified header, with trustingPeriod (zero: two thirds of Src's unbonding period).
func (c Client) createMsg(ctx context.Context, trustingPeriod time.Duration) (sdk.Msg, error) {
	src, dst := c.Src, c.Dst
	lb, err := src.Light.VerifyLatest(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify latest header of %s: %w", src.ChainID(), err)
	}
	unbonding, err := src.Chain.UnbondingPeriod(ctx)
	if err != nil {
		return nil, fmt.Errorf("query unbonding period of %s: %w", src.ChainID(), err)
	}
	if trustingPeriod == 0 {
		trustingPeriod = unbonding * 2 / 3
	}
	if trustingPeriod >= unbonding {
		return nil, fmt.Errorf("trusting period %s of %s must be shorter than its unbonding period %s", trustingPeriod, src.ChainID(), unbonding)
	}
	cs := ibctm.NewClientState(src.ChainID(), ibctm.DefaultTrustLevel, trustingPeriod, unbonding, maxClockDrift,
		src.height(lb.Height), commitmenttypes.GetSDKSpecs(), []string{"upgrade", "upgradedIBCState"})
	cons := ibctm.NewConsensusState(lb.Time, commitmenttypes.NewMerkleRoot(lb.AppHash), lb.NextValidatorsHash)
	signer, err := dst.Chain.Address(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := clienttypes.NewMsgCreateClient(cs, cons, signer)
	if err != nil {
		return nil, fmt.Errorf("build client of %s: %w", src.ChainID(), err)
	}
	return msg, nil
}

// committed reads the client from Dst's state at Dst's newest verified header, with a proof checked
// against its app hash, and returns it with that header. That state is committed: every node past it,
// and every simulation and block after it, has the client at least there, whatever other relay txs
// are in flight. A node's unproven answer can be one block newer (the header that commits to its
// newest state is not out yet), and a tx built on it — an update trusting a height the verified state
// does not hold yet — would fail for want of a state that exists.
func (c Client) committed(ctx context.Context) (*ibctm.ClientState, *cmttypes.LightBlock, error) {
	dst := c.Dst
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
	if cs.ChainId != c.Src.ChainID() {
		return nil, nil, fmt.Errorf("client %s on %s tracks %s, not %s: %w", dst.ClientID, dst.ChainID(), cs.ChainId, c.Src.ChainID(), ErrWrongClient)
	}
	return cs, lb, nil
}

// consensusState reads the client's consensus state at height h from Dst's state at the verified
// header lb, with a proof checked against lb's app hash.
func (c Client) consensusState(ctx context.Context, lb *cmttypes.LightBlock, h clienttypes.Height) (*ibctm.ConsensusState, error) {
	dst := c.Dst
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

// headerFrom prepares the client for proofs at a verified header of Src at height atLeast or above.
// If the client is already there (its latest height is atLeast or above), no message is needed and the
// header at the client's latest height is returned, so proofs match a consensus state the client
// has (an update would only cost gas). Otherwise header gives the verified header to prove at, and
// a MsgUpdateClient carrying it is returned with it.
//
// The client is read from Dst's committed state at a verified header (committed), and the update is
// built from that one state, so the tx is valid on its own whatever else is in flight: its update
// trusts a consensus state every later state holds; if another tx in flight brings the client to the
// header first, this update is a no-op on chain (ibc-go's 07-tendermint accepts a header at a height
// it has with the same consensus state: CheckForMisbehaviour finds it equal, UpdateState returns
// early); if another brings it past the header, this one fills it in below the client's latest
// height, which 07-tendermint also accepts.
func (c Client) headerFrom(ctx context.Context, atLeast int64, header func(context.Context) (*cmttypes.LightBlock, error)) (sdk.Msg, *cmttypes.LightBlock, error) {
	cs, at, err := c.committed(ctx)
	if err != nil {
		return nil, nil, err
	}
	if trusted := int64(cs.LatestHeight.RevisionHeight); trusted >= atLeast {
		lb, err := c.Src.Light.VerifyHeight(ctx, trusted)
		if err != nil {
			return nil, nil, fmt.Errorf("verify %s header %d: %w", c.Src.ChainID(), trusted, err)
		}
		return nil, lb, nil
	}
	lb, err := header(ctx)
	if err != nil {
		return nil, nil, err
	}
	if plan, held := upgradeHold(c.Src.ChainID()); held && lb.Height > plan && int64(cs.LatestHeight.RevisionHeight) <= plan {
		return nil, nil, fmt.Errorf("client %s on %s of %s at %s, header %d: %s upgrades at %d: %w", c.Dst.ClientID, c.Dst.ChainID(),
			c.Src.ChainID(), cs.LatestHeight, lb.Height, c.Src.ChainID(), plan, ErrUpgradePending)
	}
	msg, err := c.updateMsg(ctx, at, cs.LatestHeight, lb)
	if err != nil {
		return nil, nil, err
	}
	return msg, lb, nil
}

// updateTo prepares the client for proofs at target, a verified header of Src: a MsgUpdateClient
// carrying target (and target itself) if the client is behind it, else no message and the header at
// the client's latest height (see headerFrom).
func (c Client) updateTo(ctx context.Context, target *cmttypes.LightBlock) (sdk.Msg, *cmttypes.LightBlock, error) {
	return c.headerFrom(ctx, target.Height, func(context.Context) (*cmttypes.LightBlock, error) { return target, nil })
}

// proofHeader returns a verified header of Src above minHeight and, if the client has no consensus
// state there, the update that brings it there. When the client is already above minHeight, its own
// latest height is used and no update is sent (see headerFrom). A header above minHeight is waited
// for up to MaxHeightWait (ErrHeightAhead after that).
func (c Client) proofHeader(ctx context.Context, minHeight int64) (sdk.Msg, *cmttypes.LightBlock, error) {
	return c.headerFrom(ctx, minHeight+1, func(ctx context.Context) (*cmttypes.LightBlock, error) {
		wctx, cancel := context.WithTimeout(ctx, MaxHeightWait)
		defer cancel()
		lb, err := waitVerified(wctx, c.Src, minHeight+1)
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("%s header %d not verified within %s: %w", c.Src.ChainID(), minHeight+1, MaxHeightWait, ErrHeightAhead)
			}
			return nil, err
		}
		return lb, nil
	})
}

// updateMsg builds a MsgUpdateClient moving the client from trusted to the verified header lb. at is
// the verified header of Dst whose state holds the client at trusted.
func (c Client) updateMsg(ctx context.Context, at *cmttypes.LightBlock, trusted clienttypes.Height, lb *cmttypes.LightBlock) (sdk.Msg, error) {
	src, dst := c.Src, c.Dst
	// The trusted validators are the next validators of the trusted header: the set at trusted+1,
	// whose hash the client's consensus state at trusted holds (read with a proof from dst, in the
	// same state the client state was read from). They are taken from the light client's store, or
	// fetched and checked against that hash: a client far behind this light client's first header is
	// updated without walking back through the headers.
	cons, err := c.consensusState(ctx, at, trusted)
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

// Update moves the client to Src's latest verified header. It returns the new client height, and the
// tx (nil when the client was already there).
func (c Client) Update(ctx context.Context) (int64, *TxInfo, error) {
	src, dst := c.Src, c.Dst
	lb, err := src.Light.VerifyLatest(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("verify latest header of %s: %w", src.ChainID(), err)
	}
	msg, at, err := c.updateTo(ctx, lb)
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

// Expiry returns how long the client has left before its latest consensus state is older than the
// trusting period (negative: expired), and the trusting period.
func (c Client) Expiry(ctx context.Context, now time.Time) (left, trusting time.Duration, err error) {
	// Both states are read with proofs at one verified header of Dst: a node that lied about them
	// (a later timestamp, a longer trusting period) could otherwise make the refresh skip a client
	// until it expires.
	cs, lb, err := c.committed(ctx)
	if err != nil {
		return 0, 0, err
	}
	cons, err := c.consensusState(ctx, lb, cs.LatestHeight)
	if err != nil {
		return 0, 0, err
	}
	return cons.Timestamp.Add(cs.TrustingPeriod).Sub(now), cs.TrustingPeriod, nil
}

// Refresh updates the client when less than fraction of its trusting period is left, so a quiet
// path's client never expires. It reports whether it updated, and the time left after any update.
func (c Client) Refresh(ctx context.Context, fraction float64, now time.Time) (bool, time.Duration, error) {
	left, trusting, err := c.Expiry(ctx, now)
	if err != nil {
		return false, 0, err
	}
	if left > time.Duration(fraction*float64(trusting)) {
		return false, left, nil
	}
	if _, _, err := c.Update(ctx); err != nil {
		return false, left, fmt.Errorf("refresh client %s on %s: %w", c.Dst.ClientID, c.Dst.ChainID(), err)
	}
	left, _, err = c.Expiry(ctx, time.Now())
	return true, left, err
}

// SubmitMisbehaviour freezes the client with a fork of Src: it submits the fork's two headers as
// 07-tendermint misbehaviour (a MsgUpdateClient signed by the relayer key on Dst's chain), if they are
// misbehaviour for the client (ErrNotMisbehaviour otherwise, and nothing is sent).
func (c Client) SubmitMisbehaviour(ctx context.Context, fork *light.Fork) (*TxInfo, error) {
	dst := c.Dst
	mb, err := c.misbehaviour(ctx, fork, time.Now())
	if err != nil {
		return nil, err
	}
	signer, err := dst.Chain.Address(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := clienttypes.NewMsgUpdateClient(dst.ClientID, mb, signer)
	if err != nil {
		return nil, fmt.Errorf("build misbehaviour of %s for %s on %s: %w", fork.ChainID, dst.ClientID, dst.ChainID(), err)
	}
	res, err := dst.Chain.Send(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("submit misbehaviour of %s at %d to %s on %s: %w", fork.ChainID, fork.Height, dst.ClientID, dst.ChainID(), err)
	}
	return txInfo(res, 0, 1, 0), nil
}

// misbehaviour builds the fork's misbehaviour for the client and checks it as the client will: both
// headers verified from a consensus state the client holds below the fork (its latest, if below),
// with the validators that state trusts. The client's state is read without a proof: the chain
// checks the misbehaviour against its own state, so a node that lies about it only makes the
// submission fail.
func (c Client) misbehaviour(ctx context.Context, fork *light.Fork, now time.Time) (*ibctm.Misbehaviour, error) {
	dst := c.Dst
	if fork.ChainID != c.Src.ChainID() {
		return nil, fmt.Errorf("a fork of %s for client %s on %s, a client of %s: %w", fork.ChainID, dst.ClientID, dst.ChainID(), c.Src.ChainID(), ErrWrongClient)
	}
	cs, err := clientState(ctx, dst.Chain, dst.ClientID)
	if err != nil {
		return nil, err
	}
	if cs.ChainId != fork.ChainID {
		return nil, fmt.Errorf("client %s on %s tracks %s, not %s: %w", dst.ClientID, dst.ChainID(), cs.ChainId, fork.ChainID, ErrWrongClient)
	}
	if !cs.FrozenHeight.IsZero() {
		return nil, fmt.Errorf("client %s of %s on %s: %w", dst.ClientID, fork.ChainID, dst.ChainID(), ErrClientFrozen)
	}
	trusted, err := c.trustedBelow(ctx, cs, fork.Height)
	if err != nil {
		return nil, err
	}
	typeURL, value, err := dst.Chain.ConsensusState(ctx, dst.ClientID, trusted)
	if err != nil {
		return nil, fmt.Errorf("consensus state of %s at %s on %s: %w", dst.ClientID, trusted, dst.ChainID(), err)
	}
	cons, err := decodeConsensusState(dst, trusted, typeURL, value)
	if err != nil {
		return nil, err
	}
	if now.Sub(cons.Timestamp) >= cs.TrustingPeriod {
		return nil, fmt.Errorf("client %s on %s: its consensus state at %s, below the fork of %s at %d, is past its trusting period",
			dst.ClientID, dst.ChainID(), trusted, fork.ChainID, fork.Height)
	}
	next, err := fork.ValidatorsAt(ctx, int64(trusted.RevisionHeight)+1, cons.NextValidatorsHash)
	if err != nil {
		return nil, fmt.Errorf("trusted validators of %s at %d: %w", fork.ChainID, trusted.RevisionHeight+1, err)
	}
	h1, err := tmHeader(fork.ChainID, fork.Verified, trusted, next)
	if err != nil {
		return nil, err
	}
	h2, err := tmHeader(fork.ChainID, fork.Conflicting, trusted, next)
	if err != nil {
		return nil, err
	}
	notEvidence := func(err error) error {
		return fmt.Errorf("%s at %d (witness %s) for client %s on %s: %w: %w", fork.ChainID, fork.Height, fork.Witness, dst.ClientID, dst.ChainID(), ErrNotMisbehaviour, err)
	}
	if bytes.Equal(fork.Verified.Hash(), fork.Conflicting.Hash()) || fork.Verified.Height != fork.Conflicting.Height {
		return nil, notEvidence(errors.New("the headers do not conflict at one height"))
	}
	mb := ibctm.NewMisbehaviour(dst.ClientID, h1, h2)
	// Each header signed by +2/3 of its validator set, whose hash it carries.
	if err := mb.ValidateBasic(); err != nil {
		return nil, notEvidence(err)
	}
	// And by at least the client's trust level of the validators it trusts.
	for i, lb := range []*cmttypes.LightBlock{fork.Verified, fork.Conflicting} {
		if err := next.VerifyCommitLightTrusting(fork.ChainID, lb.Commit, cs.TrustLevel.ToTendermint()); err != nil {
			return nil, notEvidence(fmt.Errorf("header %d not signed by the validators the client trusts: %w", i+1, err))
		}
	}
	return mb, nil
}

// trustedBelow is the height of a consensus state the client holds below h: its latest (cs's), if
// below, else the highest below h of its revision.
func (c Client) trustedBelow(ctx context.Context, cs *ibctm.ClientState, h int64) (clienttypes.Height, error) {
	dst := c.Dst
	if int64(cs.LatestHeight.RevisionHeight) < h {
		return cs.LatestHeight, nil
	}
	heights, err := dst.Chain.ConsensusHeights(ctx, dst.ClientID)
	if err != nil {
		return clienttypes.Height{}, fmt.Errorf("consensus heights of %s on %s: %w", dst.ClientID, dst.ChainID(), err)
	}
	var best clienttypes.Height
	for _, ch := range heights {
		if ch.RevisionNumber == cs.LatestHeight.RevisionNumber && int64(ch.RevisionHeight) < h && ch.GT(best) {
			best = ch
		}
	}
	if best.IsZero() {
		return best, fmt.Errorf("client %s on %s holds no consensus state below %d", dst.ClientID, dst.ChainID(), h)
	}
	return best, nil
}
