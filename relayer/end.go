// Package relayer moves IBC packets between chains: it links paths (clients, connection, channel),
// keeps clients fresh, and relays packets with proofs checked against light-client-verified headers.
package relayer

import (
	"context"
	"fmt"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// Chain is what the relayer needs of an end's chain: the roles of package chains it uses.
// *cosmos.Client implements it (chains/cosmos asserts each role). Code that needs less takes a single
// role (clientState a chains.ClientQuerier, verify.Attestation a chains.Prover).
type Chain interface {
	chains.Prover
	chains.Submitter
	chains.ClientQuerier
	chains.HandshakeQuerier
	chains.PacketQuerier
}

// HeaderVerifier is a chain's light client: every header the relayer uses comes from it.
type HeaderVerifier = chains.HeaderSource

// ProofChecker checks an ICS-23 proof of (storeKey, key, value) against an app hash; value nil
// checks absence.
type ProofChecker func(appHash []byte, storeKey string, key, value []byte, ops *cmtcrypto.ProofOps) error

// End is one side of a path: a chain, its light client, and the IBC identifiers on it.
type End struct {
	Chain        Chain
	Light        HeaderVerifier
	ClientID     string
	ConnectionID string
	ChannelID    string
	PortID       string
	// Excluded are the sequences of packets sent from this end's channel that are never relayed
	// unless an operator names them (config excluded_sequences): neither their recv, nor their ack,
	// nor their timeout.
	Excluded sequences.Set
	// MinFees, when not empty, is the minimum ICS-29 recv fee of packets sent from this end's channel
	// (config min_fees; Hermes packet_filter.min_fees): on a fee-enabled channel the daemon relays a
	// packet only if its escrowed recv fee holds at least one of these coins (MeetsMinimum).
	MinFees sdk.Coins
}

// ChainID is the chain id of the end.
func (e *End) ChainID() string { return e.Chain.ChainID() }

// revision is the IBC revision number of the end's chain id (seoul-1 → 1).
func (e *End) height(h int64) clienttypes.Height {
	return clienttypes.NewHeight(clienttypes.ParseChainID(e.ChainID()), uint64(h))
}

// verifiedRead reads key from the end's store at the latest verified height and checks its proof
// against the verified app hash. It returns the value (nil if proven absent), the proof and the
// verified header whose app hash the proof was checked against.
func (e *End) verifiedRead(ctx context.Context, check ProofChecker, storeKey string, key []byte) (*chains.Proof, *cmttypes.LightBlock, error) {
	lb, err := e.Light.VerifyLatest(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("verify latest header of %s: %w", e.ChainID(), err)
	}
	p, err := e.provenAt(ctx, check, lb, storeKey, key)
	return p, lb, err
}

// provenAt reads key with a proof whose proof height is lb's height (the store is read at
// lb.Height-1) and checks the proof against lb's app hash.
func (e *End) provenAt(ctx context.Context, check ProofChecker, lb *cmttypes.LightBlock, storeKey string, key []byte) (*chains.Proof, error) {
	p, err := e.Chain.QueryProven(ctx, storeKey, key, lb.Height-1)
	if err != nil {
		return nil, err
	}
	if err := check(lb.AppHash, storeKey, key, p.Value, p.Ops); err != nil {
		return nil, fmt.Errorf("%s: proof of %s/%s at %d against verified app hash: %w", e.ChainID(), storeKey, key, lb.Height, err)
	}
	return p, nil
}
