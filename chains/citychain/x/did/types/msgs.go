package types

import (
	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
)

var (
	_ sdk.Msg = (*MsgCreateDID)(nil)
	_ sdk.Msg = (*MsgAddKey)(nil)
	_ sdk.Msg = (*MsgRevokeKey)(nil)
	_ sdk.Msg = (*MsgDeactivateDID)(nil)
	_ sdk.Msg = (*MsgIssueAttestation)(nil)
	_ sdk.Msg = (*MsgSetAttestationStatus)(nil)
	_ sdk.Msg = (*MsgSetTrustedIssuer)(nil)
	_ sdk.Msg = (*MsgSendAttestation)(nil)
	_ sdk.Msg = (*MsgSendRevocation)(nil)
	_ sdk.Msg = (*MsgSendServiceMessage)(nil)
	_ sdk.Msg = (*MsgRegisterCity)(nil)
	_ sdk.Msg = (*MsgRemoveCity)(nil)
	_ sdk.Msg = (*MsgRegisterHub)(nil)
	_ sdk.Msg = (*MsgRemoveHub)(nil)
	_ sdk.Msg = (*MsgControllerRevokeAttestation)(nil)
	_ sdk.Msg = (*MsgRevokeLeakedKey)(nil)
)

func validateAddress(what, addr string) error {
	if _, err := sdk.AccAddressFromBech32(addr); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "%s %q: %s", what, addr, err)
	}
	return nil
}

func validateDID(did string) error {
	_, _, err := ParseDID(did)
	return err
}

// Validate checks a method to add.
func (m MethodInput) Validate() error {
	if err := ValidateMethodID(m.Id); err != nil {
		return err
	}
	return ValidatePublicKey(m.Type, m.PublicKey)
}

func validateSignature(sig []byte) error {
	if len(sig) == 0 {
		return errorsmod.Wrap(ErrInvalidSignature, "signature is empty")
	}
	if len(sig) > MaxSignatureLength {
		return errorsmod.Wrapf(ErrTooLarge, "signature is %d bytes, limit %d", len(sig), MaxSignatureLength)
	}
	return nil
}

func validateChannel(ch string) error {
	if ch == "" || len(ch) > 64 {
		return errorsmod.Wrapf(ErrInvalidChannel, "source channel %q", ch)
	}
	return nil
}

// ValidateBasic checks the message without state.
func (m *MsgCreateDID) ValidateBasic() error {
	if err := validateAddress("controller", m.Controller); err != nil {
		return err
	}
	if err := validateDID(FormatDID("x", m.Suffix)); err != nil {
		return err
	}
	if len(m.Methods) == 0 {
		return errorsmod.Wrap(ErrInvalidKey, "a DID needs at least one verification method")
	}
	if len(m.Methods) > MaxMethodsPerDID {
		return errorsmod.Wrapf(ErrTooLarge, "%d verification methods, limit %d", len(m.Methods), MaxMethodsPerDID)
	}
	seen := map[string]bool{}
	for _, k := range m.Methods {
		if err := k.Validate(); err != nil {
			return err
		}
		if seen[k.Id] {
			return errorsmod.Wrapf(ErrInvalidKey, "method id %q repeated", k.Id)
		}
		seen[k.Id] = true
	}
	return nil
}

// ValidateBasic checks the message without state.
func (m *MsgAddKey) ValidateBasic() error {
	if err := validateAddress("controller", m.Controller); err != nil {
		return err
	}
	if err := validateDID(m.Did); err != nil {
		return err
	}
	return m.Method.Validate()
}

// ValidateBasic checks the message without state.
func (m *MsgRevokeKey) ValidateBasic() error {
	if err := validateAddress("controller", m.Controller); err != nil {
		return err
	}
	if err := validateDID(m.Did); err != nil {
		return err
	}
	return ValidateMethodID(m.MethodId)
}

// ValidateBasic checks the message without state.
func (m *MsgDeactivateDID) ValidateBasic() error {
	if err := validateAddress("controller", m.Controller); err != nil {
		return err
	}
	return validateDID(m.Did)
}

// ValidateBasic checks the message without state.
func (m *MsgIssueAttestation) ValidateBasic() error {
	if err := validateAddress("submitter", m.Submitter); err != nil {
		return err
	}
	return m.validateContent()
}

// validateContent checks the attestation fields (shared with the attestation packet).
func (m *MsgIssueAttestation) validateContent() error {
	if err := validateDID(m.IssuerDid); err != nil {
		return err
	}
	if err := validateDID(m.SubjectDid); err != nil {
		return err
	}
	if err := ValidateMethodID(m.IssuerMethod); err != nil {
		return err
	}
	if err := validateSimple("credential type", m.CredentialType, MaxCredentialTypeLength); err != nil {
		return err
	}
	if len(m.Digest) < MinDigestLength || len(m.Digest) > MaxDigestLength {
		if len(m.Digest) > MaxDigestLength {
			return errorsmod.Wrapf(ErrTooLarge, "digest is %d bytes, limit %d", len(m.Digest), MaxDigestLength)
		}
		return errorsmod.Wrapf(ErrInvalidRequest, "digest is %d bytes, at least %d", len(m.Digest), MinDigestLength)
	}
	if m.ValidFrom >= m.ValidUntil {
		return errorsmod.Wrapf(ErrValidityWindow, "valid_from %d is not before valid_until %d", m.ValidFrom, m.ValidUntil)
	}
	if m.IssuerSeq == 0 {
		return errorsmod.Wrap(ErrStaleSequence, "issuer_seq starts at 1")
	}
	return validateSignature(m.Signature)
}

// ValidateBasic checks the message without state.
func (m *MsgSetAttestationStatus) ValidateBasic() error {
	if err := validateAddress("submitter", m.Submitter); err != nil {
		return err
	}
	if err := validateSimple("attestation id", m.AttestationId, MaxMsgIDLength); err != nil {
		return err
	}
	if err := ValidateMethodID(m.IssuerMethod); err != nil {
		return err
	}
	if err := ValidateStatus(m.NewStatus); err != nil {
		return err
	}
	if m.IssuerSeq == 0 {
		return errorsmod.Wrap(ErrStaleSequence, "issuer_seq starts at 1")
	}
	return validateSignature(m.Signature)
}

// ValidateStatus checks that s is a status an attestation can be set to.
func ValidateStatus(s AttestationStatus) error {
	switch s {
	case ATTESTATION_STATUS_ACTIVE, ATTESTATION_STATUS_REVOKED, ATTESTATION_STATUS_SUSPENDED:
		return nil
	}
	return errorsmod.Wrapf(ErrInvalidStatus, "status %d", s)
}

// ValidateBasic checks the message without state.
func (m *MsgSetTrustedIssuer) ValidateBasic() error {
	if err := validateAddress("admin", m.Admin); err != nil {
		return err
	}
	if err := validateSimple("credential type", m.CredentialType, MaxCredentialTypeLength); err != nil {
		return err
	}
	return validateDID(m.IssuerDid)
}

// ValidateCity checks a registry entry without state: a chain id as DIDs use it and an IBC client id.
func ValidateCity(chainID, clientID string) error {
	if err := ValidateChainID(chainID); err != nil {
		return errorsmod.Wrapf(ErrInvalidRequest, "city chain id %q: %s", chainID, err)
	}
	if err := host.ClientIdentifierValidator(clientID); err != nil {
		return errorsmod.Wrapf(ErrInvalidRequest, "client id %q: %s", clientID, err)
	}
	return nil
}

// ValidateBasic checks the message without state.
func (m *MsgRegisterCity) ValidateBasic() error {
	if err := validateAddress("admin", m.Admin); err != nil {
		return err
	}
	return ValidateCity(m.ChainId, m.ClientId)
}

// ValidateBasic checks the message without state.
func (m *MsgRemoveCity) ValidateBasic() error {
	if err := validateAddress("admin", m.Admin); err != nil {
		return err
	}
	if err := ValidateChainID(m.ChainId); err != nil {
		return errorsmod.Wrapf(ErrInvalidRequest, "city chain id %q: %s", m.ChainId, err)
	}
	return nil
}

// ValidateBasic checks the message without state.
func (m *MsgSendAttestation) ValidateBasic() error {
	if err := validateAddress("sender", m.Sender); err != nil {
		return err
	}
	if err := validateSendRoute(m.SourceChannel, m.DestinationChainId, m.ViaChainId); err != nil {
		return err
	}
	return validateSimple("attestation id", m.AttestationId, MaxMsgIDLength)
}

// ValidateBasic checks the message without state.
func (m *MsgSendRevocation) ValidateBasic() error {
	if err := validateAddress("sender", m.Sender); err != nil {
		return err
	}
	if err := validateSendRoute(m.SourceChannel, m.DestinationChainId, m.ViaChainId); err != nil {
		return err
	}
	return validateSimple("attestation id", m.AttestationId, MaxMsgIDLength)
}

// ValidateBasic checks the message without state.
func (m *MsgSendServiceMessage) ValidateBasic() error {
	if err := validateAddress("sender", m.Sender); err != nil {
		return err
	}
	dest := ""
	if m.ViaChainId != "" {
		dest = m.Message.DestinationChainId
	}
	if err := validateSendRoute(m.SourceChannel, dest, m.ViaChainId); err != nil {
		return err
	}
	return m.Message.Validate()
}

// Validate checks a service message without state (size, DIDs, chain ids, signature present).
func (m *ServiceMessage) Validate() error {
	if len(m.Payload) > MaxPayloadBytes {
		return errorsmod.Wrapf(ErrTooLarge, "payload is %d bytes, limit %d", len(m.Payload), MaxPayloadBytes)
	}
	if err := validateSimple("service type", m.ServiceType, MaxServiceTypeLength); err != nil {
		return err
	}
	if err := validateDID(m.SenderDid); err != nil {
		return err
	}
	if err := ValidateMethodID(m.SenderMethod); err != nil {
		return err
	}
	if err := ValidateChainID(m.OriginChainId); err != nil {
		return errorsmod.Wrapf(ErrInvalidRequest, "origin: %s", err)
	}
	if err := ValidateChainID(m.DestinationChainId); err != nil {
		return errorsmod.Wrapf(ErrInvalidRequest, "destination: %s", err)
	}
	if m.MsgId != "" && len(m.MsgId) > MaxMsgIDLength {
		return errorsmod.Wrapf(ErrTooLarge, "msg id is %d bytes, limit %d", len(m.MsgId), MaxMsgIDLength)
	}
	return validateSignature(m.Signature)
}

// ValidateBasic checks the message without state.
func (m *MsgControllerRevokeAttestation) ValidateBasic() error {
	if err := validateAddress("controller", m.Controller); err != nil {
		return err
	}
	return validateSimple("attestation id", m.AttestationId, MaxMsgIDLength)
}

// ValidateBasic checks the message without state.
func (m *MsgRevokeLeakedKey) ValidateBasic() error {
	if err := validateAddress("controller", m.Controller); err != nil {
		return err
	}
	if err := validateDID(m.Did); err != nil {
		return err
	}
	if err := ValidateMethodID(m.MethodId); err != nil {
		return err
	}
	if m.FromHeight < 0 {
		return errorsmod.Wrapf(ErrInvalidRequest, "from height %d is negative", m.FromHeight)
	}
	if m.Limit > MaxLeakRevocationsPerTx {
		return errorsmod.Wrapf(ErrTooLarge, "limit %d, at most %d attestations per tx", m.Limit, MaxLeakRevocationsPerTx)
	}
	return nil
}

// validateSendRoute checks the channel and route of a send message: a channel, or (through a hub) a
// destination and a hub with an optional channel (empty: the did channel of the hub's registered client).
func validateSendRoute(channel, destination, via string) error {
	if destination == "" && via == "" {
		return validateChannel(channel)
	}
	if err := ValidateChainID(destination); err != nil {
		return errorsmod.Wrapf(ErrRoute, "destination %q: %s", destination, err)
	}
	if err := ValidateChainID(via); err != nil {
		return errorsmod.Wrapf(ErrRoute, "hub %q: %s (a destination is reached through a hub: --via)", via, err)
	}
	if destination == via {
		return errorsmod.Wrapf(ErrRoute, "destination %s is the hub itself: send to it directly", destination)
	}
	if channel != "" {
		return validateChannel(channel)
	}
	return nil
}

// ValidateBasic checks the message without state.
func (m *MsgRegisterHub) ValidateBasic() error {
	if err := validateAddress("admin", m.Admin); err != nil {
		return err
	}
	if err := ValidateChainID(m.ChainId); err != nil {
		return errorsmod.Wrapf(ErrInvalidRequest, "hub chain id %q: %s", m.ChainId, err)
	}
	return nil
}

// ValidateBasic checks the message without state.
func (m *MsgRemoveHub) ValidateBasic() error {
	if err := validateAddress("admin", m.Admin); err != nil {
		return err
	}
	if err := ValidateChainID(m.ChainId); err != nil {
		return errorsmod.Wrapf(ErrInvalidRequest, "hub chain id %q: %s", m.ChainId, err)
	}
	return nil
}
