package types

import (
	"fmt"
	"time"
)

// Module identity.
const (
	ModuleName = "did"
	StoreKey   = ModuleName
	RouterKey  = ModuleName
	// PortID is the IBC port the did application binds.
	PortID = "did"
	// Version is the IBC application version of the did channel.
	Version = "cityrelay-did-1"
	// DefaultTimeout is the packet timeout when a send message sets none.
	DefaultTimeout = 10 * time.Minute
)

// Store layout of the "did" KV store. Keys are human-readable so that a relayer or a verifier can
// ask any node for an ICS-23 proof of one (abci_query path "store/did/key"):
//
//	dids/<did>                                  DIDDocument
//	att/<attestation-id>                        Attestation issued on this chain
//	keyatt/<did>/<method>/<height, 20 digits>/<id>  index of the not yet revoked attestations a key signed
//	fatt/<origin-chain-id>/<attestation-id>     ForeignAttestation received over IBC
//	dlv/<channel-id>/<sequence, 20 digits>      Delivery of a packet sent by this chain
//	inbox/<origin-chain-id>/<msg-id>            InboxEntry (a received service message)
//	nonce/<origin-chain-id>/<sender-did>/<n>    marker of a used service-message nonce
//	trust/<credential-type>/<issuer-did>        trusted-issuer registry entry (value: 1)
//	city/<chain-id>                             city registry: the client id trusted for the city (raw)
//	cityclient/<client-id>                      city registry, reverse: the city chain id (raw)
//	hub/<chain-id>                              hub role of a registered city (value: 1)
//	fwd/<channel-id>/<sequence, 20 digits>      PendingForward: a packet forwarded as a hub, by its second hop
//	params                                      Params
//
// Components never contain '/': chain ids, DIDs, ids and credential types are validated to exclude it.
var (
	ParamsKey = []byte("params")
	// InboxPrefix is the prefix of all inbox entries.
	InboxPrefix = []byte("inbox/")
	// CityPrefix is the prefix of the city registry (city/<chain-id>).
	CityPrefix = []byte("city/")
)

// CityKey is the city registry entry of chainID; its value is the client id, raw.
func CityKey(chainID string) []byte { return []byte("city/" + chainID) }

// CityClientKey is the reverse registry entry of clientID; its value is the city chain id, raw.
func CityClientKey(clientID string) []byte { return []byte("cityclient/" + clientID) }

// DIDKey is the store key of a DID document.
func DIDKey(did string) []byte { return []byte("dids/" + did) }

// AttestationKey is the store key of an attestation issued on this chain.
func AttestationKey(id string) []byte { return []byte("att/" + id) }

// KeyAttestationPrefix is the prefix of the index of the not yet revoked attestations that the
// verification method did#method signed, ordered by issue height.
func KeyAttestationPrefix(did, method string) []byte {
	return []byte("keyatt/" + did + "/" + method + "/")
}

// KeyAttestationFrom is the first index key of did#method at or after height h.
func KeyAttestationFrom(did, method string, h int64) []byte {
	return []byte(fmt.Sprintf("keyatt/%s/%s/%020d/", did, method, h))
}

// KeyAttestationKey is the index entry of attestation id, issued at height h by did#method.
func KeyAttestationKey(did, method string, h int64, id string) []byte {
	return []byte(fmt.Sprintf("keyatt/%s/%s/%020d/%s", did, method, h, id))
}

// ForeignAttestationKey is the store key of an attestation received from originChainID.
func ForeignAttestationKey(originChainID, id string) []byte {
	return []byte("fatt/" + originChainID + "/" + id)
}

// DeliveryKey is the store key of the delivery record of packet (channel, sequence) sent here.
func DeliveryKey(channel string, sequence uint64) []byte {
	return []byte(fmt.Sprintf("dlv/%s/%020d", channel, sequence))
}

// InboxKey is the store key of a received service message.
func InboxKey(originChainID, msgID string) []byte {
	return []byte("inbox/" + originChainID + "/" + msgID)
}

// NonceKey marks a service-message nonce of sender from originChainID as used.
func NonceKey(originChainID, senderDID string, nonce uint64) []byte {
	return []byte(fmt.Sprintf("nonce/%s/%s/%d", originChainID, senderDID, nonce))
}

// TrustedIssuerKey is the registry entry of issuerDID for credType.
func TrustedIssuerKey(credType, issuerDID string) []byte {
	return []byte("trust/" + credType + "/" + issuerDID)
}

// TrustedIssuerPrefix is the prefix of the registry entries of credType ("" for all types).
func TrustedIssuerPrefix(credType string) []byte {
	if credType == "" {
		return []byte("trust/")
	}
	return []byte("trust/" + credType + "/")
}

// HubPrefix is the prefix of the hub roles (hub/<chain-id>).
var HubPrefix = []byte("hub/")

// HubKey marks the registered city chainID as a hub.
func HubKey(chainID string) []byte { return []byte("hub/" + chainID) }

// PendingForwardKey is the store key of a forwarded packet, by its second hop (channel, sequence) on the hub.
func PendingForwardKey(channel string, sequence uint64) []byte {
	return []byte(fmt.Sprintf("fwd/%s/%020d", channel, sequence))
}
