package types

import errorsmod "cosmossdk.io/errors"

// Errors of the did module. Their codes are part of the acknowledgement contract: do not renumber.
var (
	ErrInvalidDID          = errorsmod.Register(ModuleName, 2, "invalid DID")
	ErrDIDNotFound         = errorsmod.Register(ModuleName, 3, "DID not found")
	ErrDIDExists           = errorsmod.Register(ModuleName, 4, "DID already exists")
	ErrDIDDeactivated      = errorsmod.Register(ModuleName, 5, "DID is deactivated")
	ErrUnauthorized        = errorsmod.Register(ModuleName, 6, "signer is not the controller")
	ErrKeyNotFound         = errorsmod.Register(ModuleName, 7, "verification method not found")
	ErrKeyRevoked          = errorsmod.Register(ModuleName, 8, "verification method revoked or not yet valid")
	ErrInvalidSignature    = errorsmod.Register(ModuleName, 9, "invalid signature")
	ErrAttestationExists   = errorsmod.Register(ModuleName, 10, "attestation already exists")
	ErrAttestationNotFound = errorsmod.Register(ModuleName, 11, "attestation not found")
	ErrUntrustedIssuer     = errorsmod.Register(ModuleName, 12, "issuer not trusted for the credential type")
	ErrValidityWindow      = errorsmod.Register(ModuleName, 13, "invalid or expired validity window")
	ErrTooLarge            = errorsmod.Register(ModuleName, 14, "field too large")
	ErrInvalidPacket       = errorsmod.Register(ModuleName, 15, "invalid packet")
	ErrOriginMismatch      = errorsmod.Register(ModuleName, 16, "origin chain does not match the channel's client")
	ErrStaleSequence       = errorsmod.Register(ModuleName, 17, "issuer sequence not higher than the last one")
	ErrWrongDestination    = errorsmod.Register(ModuleName, 18, "service message is for another chain")
	ErrNonceUsed           = errorsmod.Register(ModuleName, 19, "nonce already used")
	ErrExpired             = errorsmod.Register(ModuleName, 20, "expired")
	ErrInvalidChannel      = errorsmod.Register(ModuleName, 21, "invalid channel")
	ErrInvalidStatus       = errorsmod.Register(ModuleName, 22, "invalid status change")
	ErrInvalidKey          = errorsmod.Register(ModuleName, 23, "invalid public key")
	ErrInvalidRequest      = errorsmod.Register(ModuleName, 24, "invalid request")
	ErrCityNotRegistered   = errorsmod.Register(ModuleName, 25, "city not registered")
	ErrClientNotFound      = errorsmod.Register(ModuleName, 26, "client not found or not active")
	ErrInvalidProof        = errorsmod.Register(ModuleName, 27, "invalid proof")
	// ErrSequenceGap: an issuer sequence more than one above the last one (a jump could pin the DID's
	// sequence at a value no later message can exceed).
	ErrSequenceGap = errorsmod.Register(ModuleName, 28, "issuer sequence must be exactly one above the last one")
	// ErrSequenceExhausted: the DID's issuer sequence is at its maximum; only its controller can still
	// revoke (MsgControllerRevokeAttestation, MsgRevokeLeakedKey).
	ErrSequenceExhausted = errorsmod.Register(ModuleName, 29, "issuer sequence exhausted")
	// ErrNotHub: a forwarded packet (its route names a hub) on a channel whose city this chain's
	// registry does not mark as a hub, or whose route names another hub than the channel's city.
	ErrNotHub = errorsmod.Register(ModuleName, 30, "forwarded packet from a chain that is not a hub here")
	// ErrRoute: a route this chain cannot serve (a loop, no channel to the destination, a destination
	// that is not a registered member).
	ErrRoute = errorsmod.Register(ModuleName, 31, "invalid route")
	// ErrForwardFailed: the second hop of a forwarded packet was rejected or timed out; the hub writes
	// it in the first hop's error acknowledgement ("rejected at <destination> via <hub>: ...").
	ErrForwardFailed = errorsmod.Register(ModuleName, 32, "forwarded packet not delivered")
)
