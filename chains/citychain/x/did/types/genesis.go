package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis is an empty registry bound to the did port.
func DefaultGenesis() *GenesisState {
	return &GenesisState{PortId: PortID}
}

// Validate checks the genesis state.
func (gs GenesisState) Validate() error {
	if gs.PortId != PortID {
		return fmt.Errorf("did genesis: port %q, want %q", gs.PortId, PortID)
	}
	if gs.Params.RegistryAdmin != "" {
		if _, err := sdk.AccAddressFromBech32(gs.Params.RegistryAdmin); err != nil {
			return fmt.Errorf("did genesis: registry admin: %w", err)
		}
	}
	dids := map[string]bool{}
	for _, d := range gs.Dids {
		if err := validateDID(d.Id); err != nil {
			return fmt.Errorf("did genesis: %w", err)
		}
		if dids[d.Id] {
			return fmt.Errorf("did genesis: %s repeated", d.Id)
		}
		dids[d.Id] = true
		if _, err := sdk.AccAddressFromBech32(d.Controller); err != nil {
			return fmt.Errorf("did genesis: %s controller: %w", d.Id, err)
		}
		if len(d.Methods) == 0 || len(d.Methods) > MaxMethodsPerDID {
			return fmt.Errorf("did genesis: %s has %d methods", d.Id, len(d.Methods))
		}
		for _, m := range d.Methods {
			if err := (MethodInput{Id: m.Id, Type: m.Type, PublicKey: m.PublicKey}).Validate(); err != nil {
				return fmt.Errorf("did genesis: %s: %w", d.Id, err)
			}
		}
	}
	for _, t := range gs.TrustedIssuers {
		if err := validateSimple("credential type", t.CredentialType, MaxCredentialTypeLength); err != nil {
			return fmt.Errorf("did genesis: trusted issuer: %w", err)
		}
		if err := validateDID(t.IssuerDid); err != nil {
			return fmt.Errorf("did genesis: trusted issuer: %w", err)
		}
	}
	cities, clients := map[string]bool{}, map[string]string{}
	for _, c := range gs.Cities {
		if err := ValidateCity(c.ChainId, c.ClientId); err != nil {
			return fmt.Errorf("did genesis: city: %w", err)
		}
		if cities[c.ChainId] {
			return fmt.Errorf("did genesis: city %s repeated: a city has one client", c.ChainId)
		}
		if other, ok := clients[c.ClientId]; ok {
			return fmt.Errorf("did genesis: client %s registered for %s and %s: a client serves one city", c.ClientId, other, c.ChainId)
		}
		cities[c.ChainId], clients[c.ClientId] = true, c.ChainId
	}
	for _, a := range gs.Attestations {
		if a.Id != AttestationID(a.SignBytes()) {
			return fmt.Errorf("did genesis: attestation %s: id does not match its signing bytes", a.Id)
		}
	}
	return nil
}
