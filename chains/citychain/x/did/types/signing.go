package types

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Domain tags of the signing bytes. Each kind of signed object has its own, so a signature over one
// kind can never be replayed as another.
const (
	attestationTag = "cityrelay/did/v1/attestation\x00"
	revocationTag  = "cityrelay/did/v1/revocation\x00"
	serviceTag     = "cityrelay/did/v1/service\x00"
)

// signBuf writes the fixed, length-prefixed encoding: strings and bytes as a 4-byte big-endian length
// and the bytes; integers and enums as 8 bytes big-endian. It is never protobuf: the bytes a signer
// signs must not depend on a serializer's choices.
type signBuf []byte

func (b signBuf) bytes(v []byte) signBuf {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}
func (b signBuf) str(s string) signBuf             { return b.bytes([]byte(s)) }
func (b signBuf) u64(v uint64) signBuf             { return binary.BigEndian.AppendUint64(b, v) }
func (b signBuf) i64(v int64) signBuf              { return b.u64(uint64(v)) }
func newSignBuf(tag string, origin string) signBuf { return signBuf(tag).str(origin) }

// AttestationSignBytes are the bytes an issuer signs to issue an attestation.
func AttestationSignBytes(originChainID, issuerDID, issuerMethod, subjectDID, credentialType string, digest []byte,
	validFrom, validUntil int64, issuerSeq uint64,
) []byte {
	return newSignBuf(attestationTag, originChainID).str(issuerDID).str(issuerMethod).str(subjectDID).
		str(credentialType).bytes(digest).i64(validFrom).i64(validUntil).u64(issuerSeq)
}

// SignBytes are the attestation's signing bytes.
func (a *Attestation) SignBytes() []byte {
	return AttestationSignBytes(a.OriginChainId, a.IssuerDid, a.IssuerMethod, a.SubjectDid, a.CredentialType, a.Digest,
		a.ValidFrom, a.ValidUntil, a.IssuerSeq)
}

// AttestationID is the id of an attestation: lowercase hex of sha256 over its signing bytes.
func AttestationID(signBytes []byte) string {
	h := sha256.Sum256(signBytes)
	return hex.EncodeToString(h[:])
}

// MessageID is the id of a service message: lowercase hex of sha256 over its signing bytes.
func MessageID(signBytes []byte) string { return AttestationID(signBytes) }

// RevocationSignBytes are the bytes an issuer signs to change an attestation's status.
func RevocationSignBytes(originChainID, attestationID, issuerDID, issuerMethod string, newStatus AttestationStatus, issuerSeq uint64) []byte {
	return newSignBuf(revocationTag, originChainID).str(attestationID).str(issuerDID).str(issuerMethod).
		u64(uint64(newStatus)).u64(issuerSeq)
}

// SignBytes are the revocation packet's signing bytes.
func (r *RevocationPacket) SignBytes() []byte {
	return RevocationSignBytes(r.OriginChainId, r.AttestationId, r.IssuerDid, r.IssuerMethod, r.NewStatus, r.IssuerSeq)
}

// ServiceMessageSignBytes are the bytes a sender signs for a service message.
func ServiceMessageSignBytes(originChainID, destinationChainID, serviceType, senderDID, senderMethod string, nonce uint64,
	expiry int64, payload []byte,
) []byte {
	return newSignBuf(serviceTag, originChainID).str(destinationChainID).str(serviceType).str(senderDID).
		str(senderMethod).u64(nonce).i64(expiry).bytes(payload)
}

// SignBytes are the service message's signing bytes.
func (m *ServiceMessage) SignBytes() []byte {
	return ServiceMessageSignBytes(m.OriginChainId, m.DestinationChainId, m.ServiceType, m.SenderDid, m.SenderMethod,
		m.Nonce, m.Expiry, m.Payload)
}
