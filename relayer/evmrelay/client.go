package evmrelay

import (
	"context"
	"fmt"
	"time"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"

	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
	"github.com/cityrelay/cityrelay/contracts"
)

// ClientParams are what a new city-qbft client pins.
type ClientParams struct {
	// City is the EVM city's chain id; EvmChainID its EIP-155 chain id.
	City       string
	EvmChainID uint64
	Registry   [20]byte
	// CodeHash is the registry's runtime code hash (zero: the compiled registry's on EvmChainID,
	// contracts.RuntimeCodeHashFor(EvmChainID); the city-qbft client refuses any other).
	CodeHash       [32]byte
	TrustingPeriod time.Duration
	MaxClockDrift  time.Duration
}

// CreateClient creates a city-qbft client of the EVM city on dest from src's newest verified header
// and the registry's proven account at it, and returns the client id. The city's registry admin on
// dest must then register the client for the city (citychaind tx did register-city) before anything
// proven through it is accepted.
func CreateClient(ctx context.Context, src Source, dest Dest, p ClientParams) (string, error) {
	if p.CodeHash == ([32]byte{}) {
		p.CodeHash = contracts.RuntimeCodeHashFor(p.EvmChainID)
	}
	if p.MaxClockDrift <= 0 {
		p.MaxClockDrift = 10 * time.Second
	}
	vh, err := src.Latest(ctx)
	if err != nil {
		return "", fmt.Errorf("verify latest header of %s: %w", p.City, err)
	}
	rp, err := src.RegistryProof(ctx, vh, nil)
	if err != nil {
		return "", fmt.Errorf("prove the registry of %s at block %d: %w", p.City, vh.Height, err)
	}
	cs, cons, err := qbftclient.NewClient(qbftclient.ClientState{
		EvmChainId: p.EvmChainID, CityChainId: p.City, RegistryAddress: p.Registry[:], RegistryCodeHash: p.CodeHash[:],
		TrustingPeriod: uint64(p.TrustingPeriod / time.Second), MaxClockDrift: uint64(p.MaxClockDrift / time.Second),
	}, vh.RLP, rp.AccountProof)
	if err != nil {
		return "", fmt.Errorf("client state of %s at block %d: %w", p.City, vh.Height, err)
	}
	signer, err := dest.Address(ctx)
	if err != nil {
		return "", err
	}
	msg, err := clienttypes.NewMsgCreateClient(cs, cons, signer)
	if err != nil {
		return "", err
	}
	res, err := dest.Send(ctx, msg)
	if err != nil {
		return "", fmt.Errorf("create %s client of %s on %s: %w", qbftclient.ClientType, p.City, dest.ChainID(), err)
	}
	for _, e := range res.Events {
		if e.Type != clienttypes.EventTypeCreateClient {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == clienttypes.AttributeKeyClientID {
				return a.Value, nil
			}
		}
	}
	return "", fmt.Errorf("create client on %s: tx %s has no %s event", dest.ChainID(), res.Hash, clienttypes.EventTypeCreateClient)
}
