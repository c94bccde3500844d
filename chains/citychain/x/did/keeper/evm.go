package keeper

import (
	"context"
	"crypto/sha256"
	"strconv"

	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
	"github.com/cityrelay/cityrelay/contracts"
)

// SubmitEvmAttestation stores an attestation of an EVM city, proven from the city's registry contract
// through the city's registered city-qbft client: the issuer's signature recovers to the key the
// contract bound to the attestation (issued[id]), and the status is the contract's status[id], both
// proven by storage proofs against a storage root the client verified under the pinned code hash.
// A newer status of a stored attestation updates it; revoked is final.
func (m msgServer) SubmitEvmAttestation(goCtx context.Context, msg *types.MsgSubmitEvmAttestation) (*types.MsgSubmitEvmAttestationResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	city, qcs, err := m.evmCityClient(ctx, msg.ClientId)
	if err != nil {
		return nil, err
	}
	if err := didOfOrigin("issuer", msg.IssuerDid, city); err != nil {
		return nil, err
	}
	a := types.Attestation{OriginChainId: city, IssuerDid: msg.IssuerDid, IssuerMethod: msg.IssuerMethod,
		SubjectDid: msg.SubjectDid, CredentialType: msg.CredentialType, Digest: msg.Digest, ValidFrom: msg.ValidFrom,
		ValidUntil: msg.ValidUntil, IssuerSeq: msg.IssuerSeq, Signature: msg.Signature, IssuedHeight: int64(msg.IssuedBlock)}
	signBytes := a.SignBytes()
	id := sha256.Sum256(signBytes)
	a.Id = contracts.IDHex(id)
	signer, err := contracts.RecoverSigner(id, msg.Signature)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidSignature, "attestation %s: %s", a.Id, err)
	}

	height := qbftclient.Height(msg.ProofHeight)
	store := m.clients.ClientStore(ctx, msg.ClientId)
	issued := contracts.IssuedCommitment(id, signer, msg.IssuedBlock)
	if err := qcs.VerifyMembership(ctx, store, m.cdc, height, 0, 0, qbftclient.EncodeProof(msg.IssuedProof),
		qbftclient.SlotPath(contracts.IssuedSlot(id)), issued[:]); err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidProof, "attestation %s is not issued by %s's registry with this signer and block: %s", a.Id, city, err)
	}
	var word [32]byte
	copy(word[:], msg.StatusWord)
	sw, err := contracts.DecodeStatusWord(word)
	if err == nil && !contracts.ValidStatus(sw.Status) {
		err = errorsmod.Wrapf(types.ErrInvalidStatus, "status %d", sw.Status)
	}
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidStatus, "attestation %s: %s", a.Id, err)
	}
	if err := qcs.VerifyMembership(ctx, store, m.cdc, height, 0, 0, qbftclient.EncodeProof(msg.StatusProof),
		qbftclient.SlotPath(contracts.StatusSlot(id)), word[:]); err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidProof, "status of %s: %s", a.Id, err)
	}
	a.Status, a.StatusSeq, a.StatusHeight = types.AttestationStatus(sw.Status), sw.Seq, int64(sw.Block)

	existing, found, err := m.GetForeignAttestation(ctx, city, a.Id)
	if err != nil {
		return nil, err
	}
	if found {
		if existing.ClientId == "" {
			return nil, errorsmod.Wrapf(types.ErrAttestationExists, "%s/%s was received over IBC on %s", city, a.Id, existing.SourceChannel)
		}
		old := existing.Attestation
		switch {
		case old.Status == types.ATTESTATION_STATUS_REVOKED || (old.StatusSeq == a.StatusSeq && old.Status == a.Status):
			return &types.MsgSubmitEvmAttestationResponse{Id: a.Id}, nil // nothing newer: revoked is final
		case a.StatusSeq < old.StatusSeq && a.Status != types.ATTESTATION_STATUS_REVOKED:
			// A proven revocation wins over any stored sequence (the registry's controller revokes
			// without an issuer signature); a proven older non-final status is stale.
			return nil, errorsmod.Wrapf(types.ErrStaleSequence, "status of %s: proven status_seq %d at block %d, stored %d", a.Id, a.StatusSeq, msg.ProofHeight, old.StatusSeq)
		}
	} else if a.ValidUntil <= ctx.BlockTime().Unix() {
		return nil, errorsmod.Wrapf(types.ErrValidityWindow, "[%d, %d) at block time %d", a.ValidFrom, a.ValidUntil, ctx.BlockTime().Unix())
	}
	f := types.ForeignAttestation{Attestation: a, ReceivedHeight: ctx.BlockHeight(), ClientId: msg.ClientId, ProofHeight: msg.ProofHeight}
	if err := m.SetForeignAttestation(ctx, f); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_evm_attestation",
		sdk.NewAttribute("origin", city), sdk.NewAttribute("id", a.Id), sdk.NewAttribute("client_id", msg.ClientId),
		sdk.NewAttribute("status", a.Status.String()), sdk.NewAttribute("proof_height", strconv.FormatUint(msg.ProofHeight, 10))))
	return &types.MsgSubmitEvmAttestationResponse{Id: a.Id, Updated: true}, nil
}

// evmCityClient returns the city a city-qbft client is registered for, refusing an unregistered,
// inactive or other-type client.
func (k Keeper) evmCityClient(ctx sdk.Context, clientID string) (string, *qbftclient.ClientState, error) {
	city, ok, err := k.CityOfClient(ctx, clientID)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, errorsmod.Wrapf(types.ErrCityNotRegistered, "client %s is not a registered city's client (citychaind tx did register-city)", clientID)
	}
	cs, ok := k.clients.GetClientState(ctx, clientID)
	if !ok {
		return "", nil, errorsmod.Wrapf(types.ErrClientNotFound, "%s", clientID)
	}
	qcs, ok := cs.(*qbftclient.ClientState)
	if !ok {
		return "", nil, errorsmod.Wrapf(types.ErrInvalidRequest, "client %s is %s, not %s: EVM attestations are proven by a %s client", clientID, cs.ClientType(), qbftclient.ClientType, qbftclient.ClientType)
	}
	if qcs.CityChainId != city {
		return "", nil, errorsmod.Wrapf(types.ErrInvalidRequest, "client %s tracks city %s, registered for %s", clientID, qcs.CityChainId, city)
	}
	if st := k.clients.GetClientStatus(ctx, cs, clientID); st != exported.Active {
		return "", nil, errorsmod.Wrapf(types.ErrClientNotFound, "%s is %s, not Active", clientID, st)
	}
	return city, qcs, nil
}
