package types

import (
	errorsmod "cosmossdk.io/errors"
	"github.com/cosmos/gogoproto/proto"
)

// Kinds of did packets, as reported by Kind and used in delivery records and metrics.
const (
	KindAttestation = "attestation"
	KindRevocation  = "revocation"
	KindService     = "service"
)

// GetBytes encodes the packet data (protobuf).
func (d DIDPacketData) GetBytes() []byte {
	bz, err := proto.Marshal(&d)
	if err != nil {
		panic(err) // marshalling a valid generated message cannot fail
	}
	return bz
}

// DecodePacketData decodes and validates did packet data. Garbage, an empty oneof or an invalid
// packet is an error wrapping ErrInvalidPacket.
func DecodePacketData(bz []byte) (DIDPacketData, error) {
	var d DIDPacketData
	if len(bz) == 0 {
		return d, errorsmod.Wrap(ErrInvalidPacket, "empty packet data")
	}
	if err := proto.Unmarshal(bz, &d); err != nil {
		return d, errorsmod.Wrapf(ErrInvalidPacket, "decode: %s", err)
	}
	if err := d.ValidateBasic(); err != nil {
		return d, err
	}
	return d, nil
}

// Kind is "attestation", "revocation" or "service:<type>".
func (d DIDPacketData) Kind() string {
	switch p := d.Packet.(type) {
	case *DIDPacketData_Attestation:
		return KindAttestation
	case *DIDPacketData_Revocation:
		return KindRevocation
	case *DIDPacketData_ServiceMessage:
		if p.ServiceMessage != nil {
			return KindService + ":" + p.ServiceMessage.Message.ServiceType
		}
	}
	return "unknown"
}

// Origin is the origin chain id the packet's content names ("" without content).
func (d DIDPacketData) Origin() string {
	switch p := d.Packet.(type) {
	case *DIDPacketData_Attestation:
		if p.Attestation != nil {
			return p.Attestation.Attestation.OriginChainId
		}
	case *DIDPacketData_Revocation:
		if p.Revocation != nil {
			return p.Revocation.OriginChainId
		}
	case *DIDPacketData_ServiceMessage:
		if p.ServiceMessage != nil {
			return p.ServiceMessage.Message.OriginChainId
		}
	}
	return ""
}

// Ref is the attestation id or the service message id the packet carries.
func (d DIDPacketData) Ref() string {
	switch p := d.Packet.(type) {
	case *DIDPacketData_Attestation:
		if p.Attestation != nil {
			return p.Attestation.Attestation.Id
		}
	case *DIDPacketData_Revocation:
		if p.Revocation != nil {
			return p.Revocation.AttestationId
		}
	case *DIDPacketData_ServiceMessage:
		if p.ServiceMessage != nil {
			return p.ServiceMessage.Message.MsgId
		}
	}
	return ""
}

// Validate checks a route without state: chain ids, three different chains, and an origin equal to
// the origin of the content (origin is that).
func (r *Route) Validate(origin string) error {
	if err := ValidateChainID(r.OriginChainId); err != nil {
		return errorsmod.Wrapf(ErrRoute, "origin %q: %s", r.OriginChainId, err)
	}
	if err := ValidateChainID(r.DestinationChainId); err != nil {
		return errorsmod.Wrapf(ErrRoute, "destination %q: %s", r.DestinationChainId, err)
	}
	if r.OriginChainId != origin {
		return errorsmod.Wrapf(ErrRoute, "route origin %s, the packet's content comes from %s", r.OriginChainId, origin)
	}
	if r.DestinationChainId == r.OriginChainId {
		return errorsmod.Wrapf(ErrRoute, "route from %s to itself", r.OriginChainId)
	}
	if r.HubChainId != "" {
		if err := ValidateChainID(r.HubChainId); err != nil {
			return errorsmod.Wrapf(ErrRoute, "hub %q: %s", r.HubChainId, err)
		}
		if r.HubChainId == r.OriginChainId || r.HubChainId == r.DestinationChainId {
			return errorsmod.Wrapf(ErrRoute, "hub %s is an end of its own route (%s → %s)", r.HubChainId, r.OriginChainId, r.DestinationChainId)
		}
	}
	return nil
}

// ValidateBasic checks the packet without state.
func (d DIDPacketData) ValidateBasic() error {
	if err := d.validateContent(); err != nil {
		return err
	}
	if d.Route != nil {
		return d.Route.Validate(d.Origin())
	}
	return nil
}

func (d DIDPacketData) validateContent() error {
	switch p := d.Packet.(type) {
	case *DIDPacketData_Attestation:
		if p.Attestation == nil {
			return errorsmod.Wrap(ErrInvalidPacket, "empty attestation")
		}
		return p.Attestation.ValidateBasic()
	case *DIDPacketData_Revocation:
		if p.Revocation == nil {
			return errorsmod.Wrap(ErrInvalidPacket, "empty revocation")
		}
		return p.Revocation.ValidateBasic()
	case *DIDPacketData_ServiceMessage:
		if p.ServiceMessage == nil {
			return errorsmod.Wrap(ErrInvalidPacket, "empty service message")
		}
		return p.ServiceMessage.Message.Validate()
	default:
		return errorsmod.Wrap(ErrInvalidPacket, "no packet in the oneof")
	}
}

// ValidateBasic checks the attestation packet without state.
func (p *AttestationPacket) ValidateBasic() error {
	a := p.Attestation
	msg := MsgIssueAttestation{Submitter: "", IssuerDid: a.IssuerDid, IssuerMethod: a.IssuerMethod, SubjectDid: a.SubjectDid,
		CredentialType: a.CredentialType, Digest: a.Digest, ValidFrom: a.ValidFrom, ValidUntil: a.ValidUntil,
		IssuerSeq: a.IssuerSeq, Signature: a.Signature}
	if err := msg.validateContent(); err != nil {
		return err
	}
	if err := ValidateChainID(a.OriginChainId); err != nil {
		return errorsmod.Wrapf(ErrInvalidPacket, "origin: %s", err)
	}
	return ValidatePublicKey(p.IssuerKey.Type, p.IssuerKey.PublicKey)
}

// ValidateBasic checks the revocation packet without state.
func (p *RevocationPacket) ValidateBasic() error {
	if err := validateSimple("attestation id", p.AttestationId, MaxMsgIDLength); err != nil {
		return err
	}
	if err := ValidateChainID(p.OriginChainId); err != nil {
		return errorsmod.Wrapf(ErrInvalidPacket, "origin: %s", err)
	}
	if err := validateDID(p.IssuerDid); err != nil {
		return err
	}
	if p.ByController {
		// The controller's revocation: a bare, final revocation; nothing of a key.
		if p.NewStatus != ATTESTATION_STATUS_REVOKED {
			return errorsmod.Wrapf(ErrInvalidStatus, "a controller can only revoke, not set %s", p.NewStatus)
		}
		if p.IssuerMethod != "" || len(p.Signature) != 0 || p.IssuerKey.Type != KEY_TYPE_UNSPECIFIED || len(p.IssuerKey.PublicKey) != 0 ||
			p.IssuerKey.CreatedHeight != 0 || p.IssuerKey.RevokedHeight != 0 {
			return errorsmod.Wrap(ErrInvalidPacket, "a controller's revocation carries no issuer method, signature or key")
		}
		return nil
	}
	if err := ValidateMethodID(p.IssuerMethod); err != nil {
		return err
	}
	if err := ValidateStatus(p.NewStatus); err != nil {
		return err
	}
	if err := validateSignature(p.Signature); err != nil {
		return err
	}
	return ValidatePublicKey(p.IssuerKey.Type, p.IssuerKey.PublicKey)
}
