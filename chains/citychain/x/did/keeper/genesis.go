package keeper

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// InitGenesis binds the did port and loads params, DIDs, the registries and attestations.
func (k Keeper) InitGenesis(ctx sdk.Context, gs types.GenesisState) error {
	if _, ok := k.scoped.GetCapability(ctx, host.PortPath(gs.PortId)); !ok {
		capability := k.ports.BindPort(ctx, gs.PortId)
		if err := k.scoped.ClaimCapability(ctx, capability, host.PortPath(gs.PortId)); err != nil {
			return fmt.Errorf("claim port %s: %w", gs.PortId, err)
		}
	}
	if err := k.SetParams(ctx, gs.Params); err != nil {
		return err
	}
	for _, d := range gs.Dids {
		if err := k.SetDID(ctx, d); err != nil {
			return err
		}
	}
	for _, t := range gs.TrustedIssuers {
		if err := k.SetTrusted(ctx, t.CredentialType, t.IssuerDid, true); err != nil {
			return err
		}
	}
	for _, a := range gs.Attestations {
		if err := k.SetAttestation(ctx, a); err != nil {
			return err
		}
		if a.Status != types.ATTESTATION_STATUS_REVOKED {
			if err := k.kv(ctx).Set(types.KeyAttestationKey(a.IssuerDid, a.IssuerMethod, a.IssuedHeight, a.Id), []byte{1}); err != nil {
				return err
			}
		}
	}
	// Genesis cities name clients that a chain starting from an export already holds; their clients
	// are not checked here (IBC's genesis may be initialised after this module's).
	for _, c := range gs.Cities {
		if _, err := k.setCity(ctx, c.ChainId, c.ClientId); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis exports params, the registry and DIDs. Attestations and received state stay in the
// store: a city chain is exported with a node snapshot, not with genesis.
func (k Keeper) ExportGenesis(ctx sdk.Context) (*types.GenesisState, error) {
	p, err := k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	issuers, err := k.TrustedIssuers(ctx, "")
	if err != nil {
		return nil, err
	}
	cities, err := k.Cities(ctx)
	if err != nil {
		return nil, err
	}
	return &types.GenesisState{Params: p, PortId: types.PortID, TrustedIssuers: issuers, Cities: cities}, nil
}
