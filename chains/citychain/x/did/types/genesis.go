package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
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
	docs := make(map[string]*DIDDocument, len(gs.Dids))
	for i := range gs.Dids {
		docs[gs.Dids[i].Id] = &gs.Dids[i]
	}
	if err := validateAttestations(gs.Attestations, docs); err != nil {
		return fmt.Errorf("did genesis: %w", err)
	}
	if err := validateForeign(gs.ForeignAttestations); err != nil {
		return fmt.Errorf("did genesis: %w", err)
	}
	deliveries := map[string]bool{}
	for _, d := range gs.Deliveries {
		if err := host.ChannelIdentifierValidator(d.Channel); err != nil {
			return fmt.Errorf("did genesis: delivery channel %q: %w", d.Channel, err)
		}
		if d.Sequence == 0 {
			return fmt.Errorf("did genesis: delivery on %s has sequence 0", d.Channel)
		}
		if _, ok := DeliveryState_name[int32(d.State)]; !ok || d.State == DELIVERY_STATE_UNSPECIFIED {
			return fmt.Errorf("did genesis: delivery %s/%d: state %d", d.Channel, d.Sequence, d.State)
		}
		k := string(DeliveryKey(d.Channel, d.Sequence))
		if deliveries[k] {
			return fmt.Errorf("did genesis: delivery %s/%d repeated", d.Channel, d.Sequence)
		}
		deliveries[k] = true
	}
	nonces := map[string]bool{}
	for _, n := range gs.UsedNonces {
		if err := ValidateChainID(n.OriginChainId); err != nil {
			return fmt.Errorf("did genesis: used nonce: origin %q: %w", n.OriginChainId, err)
		}
		if err := validateDID(n.SenderDid); err != nil {
			return fmt.Errorf("did genesis: used nonce: %w", err)
		}
		k := string(NonceKey(n.OriginChainId, n.SenderDid, n.Nonce))
		if nonces[k] {
			return fmt.Errorf("did genesis: nonce %d of %s from %s repeated", n.Nonce, n.SenderDid, n.OriginChainId)
		}
		nonces[k] = true
	}
	inbox := map[string]bool{}
	for _, e := range gs.Inbox {
		m := e.Message
		if err := ValidateChainID(m.OriginChainId); err != nil {
			return fmt.Errorf("did genesis: inbox: origin %q: %w", m.OriginChainId, err)
		}
		if err := validateDID(m.SenderDid); err != nil {
			return fmt.Errorf("did genesis: inbox: %w", err)
		}
		if m.MsgId != MessageID(m.SignBytes()) {
			return fmt.Errorf("did genesis: inbox message %s: id does not match its signing bytes", m.MsgId)
		}
		k := string(InboxKey(m.OriginChainId, m.MsgId))
		if inbox[k] {
			return fmt.Errorf("did genesis: inbox message %s from %s repeated", m.MsgId, m.OriginChainId)
		}
		inbox[k] = true
		// A received message consumed its nonce in the same write: without the mark the message
		// could be received a second time.
		if !nonces[string(NonceKey(m.OriginChainId, m.SenderDid, m.Nonce))] {
			return fmt.Errorf("did genesis: inbox message %s: nonce %d of %s from %s is not in used_nonces", m.MsgId, m.Nonce, m.SenderDid, m.OriginChainId)
		}
	}
	hubs := map[string]bool{}
	for _, h := range gs.Hubs {
		if !cities[h] {
			return fmt.Errorf("did genesis: hub %s is not a registered city: a hub is a city first", h)
		}
		if hubs[h] {
			return fmt.Errorf("did genesis: hub %s repeated", h)
		}
		hubs[h] = true
	}
	forwards := map[string]bool{}
	for _, f := range gs.PendingForwards {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("did genesis: pending forward: %w", err)
		}
		k := string(PendingForwardKey(f.Channel, f.Sequence))
		if forwards[k] {
			return fmt.Errorf("did genesis: pending forward %s/%d repeated", f.Channel, f.Sequence)
		}
		forwards[k] = true
	}
	return nil
}

// Validate checks a pending forward without state.
func (f PendingForward) Validate() error {
	for _, ch := range []string{f.Channel, f.InSourceChannel, f.InDestinationChannel} {
		if err := host.ChannelIdentifierValidator(ch); err != nil {
			return fmt.Errorf("channel %q: %w", ch, err)
		}
	}
	if f.Sequence == 0 || f.InSequence == 0 {
		return fmt.Errorf("%s/%d: sequence 0", f.Channel, f.Sequence)
	}
	if f.InDestinationPort != PortID {
		return fmt.Errorf("%s/%d: received on port %q, want %q", f.Channel, f.Sequence, f.InDestinationPort, PortID)
	}
	if err := ValidateChainID(f.OriginChainId); err != nil {
		return fmt.Errorf("%s/%d: origin: %w", f.Channel, f.Sequence, err)
	}
	if err := ValidateChainID(f.DestinationChainId); err != nil {
		return fmt.Errorf("%s/%d: destination: %w", f.Channel, f.Sequence, err)
	}
	if len(f.InData) == 0 {
		return fmt.Errorf("%s/%d: no packet data", f.Channel, f.Sequence)
	}
	return nil
}

// validateAttestations checks the attestations issued on this chain against their issuers' documents:
// an attestation whose issuer DID were not carried could have that DID created anew by anyone, and a
// sequence above the issuer's would let a signed message be accepted twice.
func validateAttestations(atts []Attestation, docs map[string]*DIDDocument) error {
	seen := map[string]bool{}
	for _, a := range atts {
		if a.Id != AttestationID(a.SignBytes()) {
			return fmt.Errorf("attestation %s: id does not match its signing bytes", a.Id)
		}
		if seen[a.Id] {
			return fmt.Errorf("attestation %s repeated", a.Id)
		}
		seen[a.Id] = true
		if err := ValidateStatus(a.Status); err != nil {
			return fmt.Errorf("attestation %s: %w", a.Id, err)
		}
		if a.IssuedHeight < 0 || a.StatusHeight < 0 {
			return fmt.Errorf("attestation %s: negative height (issued %d, status %d)", a.Id, a.IssuedHeight, a.StatusHeight)
		}
		chainID, _, err := ParseDID(a.IssuerDid)
		if err != nil {
			return fmt.Errorf("attestation %s: %w", a.Id, err)
		}
		if chainID != a.OriginChainId {
			return fmt.Errorf("attestation %s: issuer %s is not a DID of its origin %s", a.Id, a.IssuerDid, a.OriginChainId)
		}
		doc, ok := docs[a.IssuerDid]
		if !ok {
			return fmt.Errorf("attestation %s: issuer %s is not in dids", a.Id, a.IssuerDid)
		}
		if _, ok := doc.Method(a.IssuerMethod); !ok {
			return fmt.Errorf("attestation %s: issuer method %s#%s is not in its document", a.Id, a.IssuerDid, a.IssuerMethod)
		}
		if a.IssuerSeq > doc.IssuerSeq || a.StatusSeq > doc.IssuerSeq {
			return fmt.Errorf("attestation %s: issuer_seq %d / status_seq %d above %s's issuer_seq %d", a.Id, a.IssuerSeq, a.StatusSeq, doc.Id, doc.IssuerSeq)
		}
	}
	return nil
}

// validateForeign checks the attestations received from other cities: one record per (origin, id).
func validateForeign(fs []ForeignAttestation) error {
	seen := map[string]bool{}
	for _, f := range fs {
		a := f.Attestation
		if err := ValidateChainID(a.OriginChainId); err != nil {
			return fmt.Errorf("foreign attestation %s: origin %q: %w", a.Id, a.OriginChainId, err)
		}
		if err := validateSimple("foreign attestation id", a.Id, MaxMsgIDLength); err != nil {
			return err
		}
		if err := validateDID(a.IssuerDid); err != nil {
			return fmt.Errorf("foreign attestation %s: %w", a.Id, err)
		}
		if !f.Tombstone {
			if err := ValidateStatus(a.Status); err != nil {
				return fmt.Errorf("foreign attestation %s: %w", a.Id, err)
			}
		}
		k := string(ForeignAttestationKey(a.OriginChainId, a.Id))
		if seen[k] {
			return fmt.Errorf("foreign attestation %s from %s repeated", a.Id, a.OriginChainId)
		}
		seen[k] = true
	}
	return nil
}
