package types

import (
	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
)

var _ sdk.Msg = (*MsgSubmitEvmAttestation)(nil)

// Bounds of an EVM attestation's proofs: a storage proof is at most a few nodes per nibble of the
// 64-nibble key, each node at most 532 bytes.
const (
	MaxProofNodes     = 64
	MaxProofNodeBytes = 600
	// EvmSignatureLength is r ‖ s ‖ v.
	EvmSignatureLength = 65
)

// ValidateBasic checks the message without state.
func (m *MsgSubmitEvmAttestation) ValidateBasic() error {
	if err := validateAddress("submitter", m.Submitter); err != nil {
		return err
	}
	if err := host.ClientIdentifierValidator(m.ClientId); err != nil {
		return errorsmod.Wrapf(ErrInvalidRequest, "client id %q: %s", m.ClientId, err)
	}
	if m.ProofHeight == 0 || m.IssuedBlock == 0 || m.IssuedBlock > m.ProofHeight {
		return errorsmod.Wrapf(ErrInvalidRequest, "issued block %d, proof height %d: both positive, issued not after the proof", m.IssuedBlock, m.ProofHeight)
	}
	content := MsgIssueAttestation{IssuerDid: m.IssuerDid, IssuerMethod: m.IssuerMethod, SubjectDid: m.SubjectDid,
		CredentialType: m.CredentialType, Digest: m.Digest, ValidFrom: m.ValidFrom, ValidUntil: m.ValidUntil,
		IssuerSeq: m.IssuerSeq, Signature: m.Signature}
	if err := content.validateContent(); err != nil {
		return err
	}
	if len(m.Signature) != EvmSignatureLength {
		return errorsmod.Wrapf(ErrInvalidSignature, "an EVM city's signature is 65 bytes r||s||v, got %d", len(m.Signature))
	}
	if len(m.StatusWord) != 32 {
		return errorsmod.Wrapf(ErrInvalidRequest, "status word is %d bytes, want 32", len(m.StatusWord))
	}
	for what, p := range map[string][][]byte{"issued": m.IssuedProof, "status": m.StatusProof} {
		if len(p) == 0 || len(p) > MaxProofNodes {
			return errorsmod.Wrapf(ErrInvalidProof, "%s proof has %d nodes (1 to %d)", what, len(p), MaxProofNodes)
		}
		for _, n := range p {
			if len(n) == 0 || len(n) > MaxProofNodeBytes {
				return errorsmod.Wrapf(ErrInvalidProof, "%s proof node of %d bytes", what, len(n))
			}
		}
	}
	return nil
}
