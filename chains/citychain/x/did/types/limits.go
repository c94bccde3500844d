package types

// Size limits. Everything on chain is bounded so a packet or a tx cannot grow state without bound;
// a message over a limit is refused with ErrTooLarge (sizes) or ErrInvalidDID (DID strings).
const (
	MaxDIDLength            = 128
	MaxSuffixLength         = 64
	MaxChainIDLength        = 48
	MaxMethodIDLength       = 32
	MaxMethodsPerDID        = 8
	MaxCredentialTypeLength = 64
	MinDigestLength         = 16
	MaxDigestLength         = 64
	MaxPayloadBytes         = 4096
	MaxServiceTypeLength    = 64
	MaxMsgIDLength          = 64
	MaxSignatureLength      = 128
	// MaxLeakRevocationsPerTx bounds the attestations one MsgRevokeLeakedKey revokes (its gas).
	MaxLeakRevocationsPerTx = 100
)
