package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	cmtlight "github.com/cometbft/cometbft/light"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/light"
)

// ErrNotFresh wraps every failure to prove the origin's own current status (origin not configured,
// its nodes down or stalled, its light client not bound to the registered client): verify then does
// not answer from the relayed record alone, unless asked to (Options.RelayedOnly).
var ErrNotFresh = fmt.Errorf("%w: cannot verify freshly", ErrCouldNotVerify)

// Origin is a city chain as verify reads an attestation's own status there. Implementations:
// CosmosOrigin (a city chain followed by our CometBFT light client) and EvmOrigin (an EVM city's
// registry contract followed by our QBFT light client).
type Origin interface {
	// status proves, at a fresh verified header of the origin bound to the registered client c that
	// verifying chain's state holds (proven by rd), the origin's record of id.
	status(ctx context.Context, rd reader, c *clientInfo, id string, o Options) (*originState, error)
}

// Origins finds the origin chain by its chain id (false: not configured here).
type Origins func(chainID string) (Origin, bool)

// Unavailable is a configured origin that cannot be read (its light client did not open): every
// status asked of it fails with ErrNotFresh and err.
func Unavailable(chainID string, err error) Origin { return unavailable{chainID, err} }

type unavailable struct {
	chain string
	err   error
}

func (u unavailable) status(context.Context, reader, *clientInfo, string, Options) (*originState, error) {
	return nil, fmt.Errorf("%w: %s is configured but cannot be read: %v", ErrNotFresh, u.chain, u.err)
}

// originState is what the origin itself proved of an attestation.
type originState struct {
	// att is the origin's record (nil: the origin proved it holds none).
	att *didtypes.Attestation
	// height and time are those of the origin's header (or EVM block) the proof was checked against.
	height int64
	time   time.Time
}

// OriginHeaders is our light client of a Cosmos origin (*light.Client): a fresh verified header,
// verified headers at chosen heights, and validator sets checked against a hash we already trust.
type OriginHeaders interface {
	FreshHeaders
	VerifyHeight(ctx context.Context, h int64) (*cmttypes.LightBlock, error)
	ValidatorsAt(ctx context.Context, h int64, hash []byte) (*cmttypes.ValidatorSet, error)
}

// CosmosOrigin is a city chain as an origin: its node (proofs) and our light client of it.
type CosmosOrigin struct {
	Chain   chains.Prover
	Headers OriginHeaders
}

// maxBisections bounds the headers a binding walks through when the origin's validator set changed
// too much between the registered client's latest state and the fresh header.
const maxBisections = 16

// status binds a fresh header of the origin to the registered 07-tendermint client c and proves the
// origin's att/<id> against it.
//
// Why this is sound: the verifying chain's verified header commits (app hash) to its state, which
// holds c's client state (the origin's chain id, trust level, trusting period) and c's latest
// consensus state (the origin's app hash, next validators hash and time at that height): what the
// verifying chain's own 07-tendermint client verified of the origin, from the trust root its
// registry admin chose. The fresh header is accepted only if it verifies FROM that consensus state by
// the rule 07-tendermint itself applies on an update (cometbft light.Verify: the consensus state's
// next validators, or more than the client's trust level of them when skipping, signed it, for the
// client's chain id, within its trusting period). So it is a header of the very chain the registry
// names, whichever nodes served it and whatever store our light client was rooted at; an impostor
// calling itself the origin cannot produce it. Its app hash then commits to the origin's record.
func (o CosmosOrigin) status(ctx context.Context, rd reader, c *clientInfo, id string, opts Options) (*originState, error) {
	origin := o.Chain.ChainID()
	if c.tm == nil {
		return nil, fmt.Errorf("%w: %s is configured here as a Cosmos chain, but %s's registered client %s of it is a %s client", ErrNotFresh, origin, rd.chain.ChainID(), c.id, c.typ)
	}
	var cs ibctm.ConsensusState
	if err := unmarshalAny(c.latestConsensus, &cs); err != nil {
		return nil, fmt.Errorf("%w: consensus state of client %s at %s on %s: %v", ErrCouldNotVerify, c.id, c.latest, rd.chain.ChainID(), err)
	}
	trustedHeight := int64(c.latest.GetRevisionHeight())
	lb, err := o.Headers.VerifyFresh(ctx, opts.MaxOriginAge)
	if err != nil {
		return nil, fmt.Errorf("%w: no fresh verified header of %s (max age %s): %v", ErrNotFresh, origin, opts.MaxOriginAge, err)
	}
	if lb.Height <= trustedHeight {
		// The registered client is as new as our fresh header, or newer: our header at its height
		// must be the block its consensus state holds, and the state proven is the one it commits to.
		if lb, err = o.Headers.VerifyHeight(ctx, trustedHeight); err != nil {
			return nil, fmt.Errorf("%w: header %d of %s: %v", ErrNotFresh, trustedHeight, origin, err)
		}
		if !bytes.Equal(lb.AppHash, cs.Root.GetHash()) || !bytes.Equal(lb.NextValidatorsHash, cs.NextValidatorsHash) || !lb.Time.Equal(cs.Timestamp) {
			return nil, fmt.Errorf("%w: our light client of %s is not bound to %s's registered client %s: at height %d it verified app hash %X, the client holds %X",
				ErrNotFresh, origin, rd.chain.ChainID(), c.id, trustedHeight, lb.AppHash, cs.Root.GetHash())
		}
		if age := opts.Now.Sub(lb.Time); age > opts.MaxOriginAge {
			return nil, fmt.Errorf("%w: header %d of %s is %s old (max %s)", ErrNotFresh, lb.Height, origin, age.Round(time.Second), opts.MaxOriginAge)
		}
	} else if err := bindToConsensusState(ctx, o.Headers, c.tm, trustedHeight, &cs, lb, opts.Now); err != nil {
		return nil, fmt.Errorf("%w: our light client's header %d of %s does not verify from %s's registered client %s (its state at %d): %v",
			ErrNotFresh, lb.Height, origin, rd.chain.ChainID(), c.id, trustedHeight, err)
	}
	key := didtypes.AttestationKey(id)
	p, err := o.Chain.QueryProven(ctx, didtypes.StoreKey, key, lb.Height-1)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s/%s on %s: %v", ErrNotFresh, didtypes.StoreKey, key, origin, notCityChain(origin, err))
	}
	if err := light.VerifyProofAgainstAppHash(lb.AppHash, didtypes.StoreKey, key, p.Value, p.Ops); err != nil {
		return nil, fmt.Errorf("%w: %s's proof of %s at %d: %v", ErrNotFresh, origin, key, lb.Height-1, err)
	}
	st := &originState{height: lb.Height, time: lb.Time}
	if p.Value != nil {
		var a didtypes.Attestation
		if err := proto.Unmarshal(p.Value, &a); err != nil {
			return nil, fmt.Errorf("%w: decode %s's attestation %s: %v", ErrCouldNotVerify, origin, id, err)
		}
		st.att = &a
	}
	return st, nil
}

// bindToConsensusState verifies target from the client's consensus state at trustedHeight as
// 07-tendermint's update does (cometbft light.Verify with the client's chain id, trusting period,
// clock drift and trust level; the trusted header is built from the consensus state, as ibc-go
// builds it). When the validator set changed too much to skip, it bisects through headers our light
// client verifies, each step again verified from the one before.
func bindToConsensusState(ctx context.Context, headers OriginHeaders, cl *ibctm.ClientState, trustedHeight int64, cs *ibctm.ConsensusState,
	target *cmttypes.LightBlock, now time.Time) error {
	trusted := &cmttypes.SignedHeader{Header: &cmttypes.Header{ChainID: cl.ChainId, Height: trustedHeight, Time: cs.Timestamp, NextValidatorsHash: cs.NextValidatorsHash}}
	trustedVals, err := headers.ValidatorsAt(ctx, trustedHeight+1, cs.NextValidatorsHash)
	if err != nil {
		return fmt.Errorf("validators of %s at %d: %w", cl.ChainId, trustedHeight+1, err)
	}
	pivot := target
	for i := 0; i < maxBisections; i++ {
		err := cmtlight.Verify(trusted, trustedVals, pivot.SignedHeader, pivot.ValidatorSet, cl.TrustingPeriod, now, cl.MaxClockDrift, cl.TrustLevel.ToTendermint())
		var untrusted cmtlight.ErrNewValSetCantBeTrusted
		switch {
		case err == nil && pivot.Height == target.Height:
			return nil
		case err == nil:
			trusted, pivot = pivot.SignedHeader, target
			if trustedVals, err = headers.ValidatorsAt(ctx, trusted.Height+1, trusted.NextValidatorsHash); err != nil {
				return fmt.Errorf("validators of %s at %d: %w", cl.ChainId, trusted.Height+1, err)
			}
		case errors.As(err, &untrusted):
			mid := (trusted.Height + pivot.Height) / 2
			if mid <= trusted.Height {
				return err
			}
			if pivot, err = headers.VerifyHeight(ctx, mid); err != nil {
				return fmt.Errorf("header %d: %w", mid, err)
			}
		default:
			return err
		}
	}
	return fmt.Errorf("no binding within %d bisection steps", maxBisections)
}
