package keeper

import (
	"context"
	"math"

	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

type msgServer struct{ Keeper }

// NewMsgServer returns the did module's Msg service.
func NewMsgServer(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// controlled returns doc if signer controls it and it is active.
func (k Keeper) controlled(ctx context.Context, did, signer string) (types.DIDDocument, error) {
	if _, _, err := types.ParseDID(did); err != nil {
		return types.DIDDocument{}, err
	}
	doc, ok, err := k.GetDID(ctx, did)
	if err != nil {
		return doc, err
	}
	if !ok {
		return doc, errorsmod.Wrapf(types.ErrDIDNotFound, "%s", did)
	}
	if doc.Controller != signer {
		return doc, errorsmod.Wrapf(types.ErrUnauthorized, "%s is controlled by %s, not %s", did, doc.Controller, signer)
	}
	if !doc.Active() {
		return doc, errorsmod.Wrapf(types.ErrDIDDeactivated, "%s since height %d", did, doc.DeactivatedHeight)
	}
	return doc, nil
}

func (m msgServer) CreateDID(goCtx context.Context, msg *types.MsgCreateDID) (*types.MsgCreateDIDResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	did := types.FormatDID(ctx.ChainID(), msg.Suffix)
	if _, _, err := types.ParseDID(did); err != nil {
		return nil, err
	}
	if ok, err := m.has(ctx, types.DIDKey(did)); err != nil {
		return nil, err
	} else if ok {
		return nil, errorsmod.Wrapf(types.ErrDIDExists, "%s", did)
	}
	h := ctx.BlockHeight()
	doc := types.DIDDocument{Id: did, Controller: msg.Controller, CreatedHeight: h}
	for _, in := range msg.Methods {
		doc.Methods = append(doc.Methods, types.VerificationMethod{Id: in.Id, Type: in.Type, PublicKey: in.PublicKey, CreatedHeight: h})
	}
	if err := m.SetDID(ctx, doc); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_created", sdk.NewAttribute("did", did), sdk.NewAttribute("controller", msg.Controller)))
	return &types.MsgCreateDIDResponse{Did: did}, nil
}

func (m msgServer) AddKey(goCtx context.Context, msg *types.MsgAddKey) (*types.MsgAddKeyResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	doc, err := m.controlled(ctx, msg.Did, msg.Controller)
	if err != nil {
		return nil, err
	}
	if _, ok := doc.Method(msg.Method.Id); ok {
		return nil, errorsmod.Wrapf(types.ErrInvalidKey, "%s#%s already exists", msg.Did, msg.Method.Id)
	}
	if len(doc.Methods) >= types.MaxMethodsPerDID {
		return nil, errorsmod.Wrapf(types.ErrTooLarge, "%s has %d methods, limit %d", msg.Did, len(doc.Methods), types.MaxMethodsPerDID)
	}
	doc.Methods = append(doc.Methods, types.VerificationMethod{Id: msg.Method.Id, Type: msg.Method.Type, PublicKey: msg.Method.PublicKey, CreatedHeight: ctx.BlockHeight()})
	if err := m.SetDID(ctx, doc); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_key_added", sdk.NewAttribute("did", msg.Did), sdk.NewAttribute("method", msg.Method.Id)))
	return &types.MsgAddKeyResponse{}, nil
}

func (m msgServer) RevokeKey(goCtx context.Context, msg *types.MsgRevokeKey) (*types.MsgRevokeKeyResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	doc, err := m.controlled(ctx, msg.Did, msg.Controller)
	if err != nil {
		return nil, err
	}
	key, ok := doc.Method(msg.MethodId)
	if !ok {
		return nil, errorsmod.Wrapf(types.ErrKeyNotFound, "%s#%s", msg.Did, msg.MethodId)
	}
	if key.RevokedHeight != 0 {
		return nil, errorsmod.Wrapf(types.ErrKeyRevoked, "%s#%s already revoked at %d", msg.Did, msg.MethodId, key.RevokedHeight)
	}
	key.RevokedHeight = ctx.BlockHeight()
	if err := m.SetDID(ctx, doc); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_key_revoked", sdk.NewAttribute("did", msg.Did), sdk.NewAttribute("method", msg.MethodId)))
	return &types.MsgRevokeKeyResponse{}, nil
}

func (m msgServer) DeactivateDID(goCtx context.Context, msg *types.MsgDeactivateDID) (*types.MsgDeactivateDIDResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	doc, err := m.controlled(ctx, msg.Did, msg.Controller)
	if err != nil {
		return nil, err
	}
	doc.DeactivatedHeight = ctx.BlockHeight()
	if err := m.SetDID(ctx, doc); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_deactivated", sdk.NewAttribute("did", msg.Did)))
	return &types.MsgDeactivateDIDResponse{}, nil
}

// localIssuer returns the issuer DID document and key, checking that the DID is on this chain,
// active, and that the key is valid now.
func (k Keeper) localIssuer(ctx sdk.Context, did, method string) (types.DIDDocument, *types.VerificationMethod, error) {
	chainID, _, err := types.ParseDID(did)
	if err != nil {
		return types.DIDDocument{}, nil, err
	}
	if chainID != ctx.ChainID() {
		return types.DIDDocument{}, nil, errorsmod.Wrapf(types.ErrDIDNotFound, "%s is a DID of %s, not of this chain", did, chainID)
	}
	doc, err := k.activeDID(ctx, did)
	if err != nil {
		return doc, nil, err
	}
	key, err := validKey(&doc, method, ctx.BlockHeight())
	return doc, key, err
}

func (m msgServer) IssueAttestation(goCtx context.Context, msg *types.MsgIssueAttestation) (*types.MsgIssueAttestationResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, _, err := types.ParseDID(msg.SubjectDid); err != nil {
		return nil, err
	}
	doc, key, err := m.localIssuer(ctx, msg.IssuerDid, msg.IssuerMethod)
	if err != nil {
		return nil, err
	}
	trusted, err := m.IsTrusted(ctx, msg.CredentialType, msg.IssuerDid)
	if err != nil {
		return nil, err
	}
	if !trusted {
		return nil, errorsmod.Wrapf(types.ErrUntrustedIssuer, "%s for %q", msg.IssuerDid, msg.CredentialType)
	}
	now := ctx.BlockTime().Unix()
	if msg.ValidFrom >= msg.ValidUntil || msg.ValidUntil <= now {
		return nil, errorsmod.Wrapf(types.ErrValidityWindow, "[%d, %d) at block time %d", msg.ValidFrom, msg.ValidUntil, now)
	}
	if err := checkNextSeq(doc, msg.IssuerSeq); err != nil {
		return nil, err
	}
	signBytes := types.AttestationSignBytes(ctx.ChainID(), msg.IssuerDid, msg.IssuerMethod, msg.SubjectDid, msg.CredentialType,
		msg.Digest, msg.ValidFrom, msg.ValidUntil, msg.IssuerSeq)
	if err := types.VerifySignature(key.Type, key.PublicKey, signBytes, msg.Signature); err != nil {
		return nil, err
	}
	id := types.AttestationID(signBytes)
	if ok, err := m.has(ctx, types.AttestationKey(id)); err != nil {
		return nil, err
	} else if ok {
		return nil, errorsmod.Wrapf(types.ErrAttestationExists, "%s", id)
	}
	a := types.Attestation{
		Id: id, OriginChainId: ctx.ChainID(), IssuerDid: msg.IssuerDid, IssuerMethod: msg.IssuerMethod, SubjectDid: msg.SubjectDid,
		CredentialType: msg.CredentialType, Digest: msg.Digest, ValidFrom: msg.ValidFrom, ValidUntil: msg.ValidUntil,
		IssuerSeq: msg.IssuerSeq, Signature: msg.Signature, Status: types.ATTESTATION_STATUS_ACTIVE, IssuedHeight: ctx.BlockHeight(),
	}
	if err := m.SetAttestation(ctx, a); err != nil {
		return nil, err
	}
	if err := m.kv(ctx).Set(types.KeyAttestationKey(a.IssuerDid, a.IssuerMethod, a.IssuedHeight, a.Id), []byte{1}); err != nil {
		return nil, err
	}
	doc.IssuerSeq = msg.IssuerSeq
	if err := m.SetDID(ctx, doc); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_attestation_issued", sdk.NewAttribute("id", id),
		sdk.NewAttribute("issuer", msg.IssuerDid), sdk.NewAttribute("subject", msg.SubjectDid), sdk.NewAttribute("credential_type", msg.CredentialType)))
	return &types.MsgIssueAttestationResponse{Id: id}, nil
}

// checkNextSeq checks that seq is the DID's next issuer sequence: exactly one above the last. A
// sequence that could jump would let one signature of any issuer key (a leaked one) pin the DID at
// 2^64-1, after which no issuer-signed message could ever be accepted again.
func checkNextSeq(doc types.DIDDocument, seq uint64) error {
	switch {
	case doc.IssuerSeq == math.MaxUint64:
		return errorsmod.Wrapf(types.ErrSequenceExhausted, "%s: issuer_seq %d, last %d is the maximum; its controller can still revoke", doc.Id, seq, doc.IssuerSeq)
	case seq <= doc.IssuerSeq:
		return errorsmod.Wrapf(types.ErrStaleSequence, "issuer_seq %d, last %d: the next is %d", seq, doc.IssuerSeq, doc.IssuerSeq+1)
	case seq != doc.IssuerSeq+1:
		return errorsmod.Wrapf(types.ErrSequenceGap, "issuer_seq %d, last %d: the next is %d", seq, doc.IssuerSeq, doc.IssuerSeq+1)
	}
	return nil
}

// statusChangeAllowed reports whether an attestation may move from one status to another: revoked
// is final; active and suspended move between each other.
func statusChangeAllowed(from, to types.AttestationStatus) bool {
	return from != types.ATTESTATION_STATUS_REVOKED && from != to
}

func (m msgServer) SetAttestationStatus(goCtx context.Context, msg *types.MsgSetAttestationStatus) (*types.MsgSetAttestationStatusResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	a, ok, err := m.GetAttestation(ctx, msg.AttestationId)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorsmod.Wrapf(types.ErrAttestationNotFound, "%s", msg.AttestationId)
	}
	doc, key, err := m.localIssuer(ctx, a.IssuerDid, msg.IssuerMethod)
	if err != nil {
		return nil, err
	}
	if err := checkNextSeq(doc, msg.IssuerSeq); err != nil {
		return nil, err
	}
	signBytes := types.RevocationSignBytes(ctx.ChainID(), a.Id, a.IssuerDid, msg.IssuerMethod, msg.NewStatus, msg.IssuerSeq)
	if err := types.VerifySignature(key.Type, key.PublicKey, signBytes, msg.Signature); err != nil {
		return nil, err
	}
	if !statusChangeAllowed(a.Status, msg.NewStatus) {
		return nil, errorsmod.Wrapf(types.ErrInvalidStatus, "%s from %s to %s", a.Id, a.Status, msg.NewStatus)
	}
	a.Status, a.StatusSeq, a.StatusHeight = msg.NewStatus, msg.IssuerSeq, ctx.BlockHeight()
	// The signature over the status change is kept with the attestation so it can be sent on.
	a.StatusMethod, a.StatusSignature = msg.IssuerMethod, msg.Signature
	if err := m.SetAttestation(ctx, a); err != nil {
		return nil, err
	}
	if a.Status == types.ATTESTATION_STATUS_REVOKED {
		if err := m.unindex(ctx, a); err != nil {
			return nil, err
		}
	}
	doc.IssuerSeq = msg.IssuerSeq
	if err := m.SetDID(ctx, doc); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_attestation_status", sdk.NewAttribute("id", a.Id), sdk.NewAttribute("status", a.Status.String())))
	return &types.MsgSetAttestationStatusResponse{}, nil
}

func (m msgServer) SetTrustedIssuer(goCtx context.Context, msg *types.MsgSetTrustedIssuer) (*types.MsgSetTrustedIssuerResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if err := m.registryAdmin(ctx, msg.Admin); err != nil {
		return nil, err
	}
	if err := m.SetTrusted(ctx, msg.CredentialType, msg.IssuerDid, msg.Trusted); err != nil {
		return nil, err
	}
	return &types.MsgSetTrustedIssuerResponse{}, nil
}

// registryAdmin checks that signer is the registry admin.
func (k Keeper) registryAdmin(ctx context.Context, signer string) error {
	p, err := k.GetParams(ctx)
	if err != nil {
		return err
	}
	if p.RegistryAdmin == "" || p.RegistryAdmin != signer {
		return errorsmod.Wrapf(types.ErrUnauthorized, "%s is not the registry admin", signer)
	}
	return nil
}

func (m msgServer) RegisterCity(goCtx context.Context, msg *types.MsgRegisterCity) (*types.MsgRegisterCityResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if err := m.registryAdmin(ctx, msg.Admin); err != nil {
		return nil, err
	}
	if err := m.checkCityClient(ctx, msg.ChainId, msg.ClientId); err != nil {
		return nil, err
	}
	prev, err := m.setCity(ctx, msg.ChainId, msg.ClientId)
	if err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_city_registered", sdk.NewAttribute("chain_id", msg.ChainId),
		sdk.NewAttribute("client_id", msg.ClientId), sdk.NewAttribute("previous_client_id", prev)))
	return &types.MsgRegisterCityResponse{PreviousClientId: prev}, nil
}

func (m msgServer) RemoveCity(goCtx context.Context, msg *types.MsgRemoveCity) (*types.MsgRemoveCityResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if err := m.registryAdmin(ctx, msg.Admin); err != nil {
		return nil, err
	}
	clientID, err := m.removeCity(ctx, msg.ChainId)
	if err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_city_removed", sdk.NewAttribute("chain_id", msg.ChainId),
		sdk.NewAttribute("client_id", clientID)))
	return &types.MsgRemoveCityResponse{}, nil
}

func (m msgServer) RegisterHub(goCtx context.Context, msg *types.MsgRegisterHub) (*types.MsgRegisterHubResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if err := m.registryAdmin(ctx, msg.Admin); err != nil {
		return nil, err
	}
	if err := m.setHub(ctx, msg.ChainId, true); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_hub_registered", sdk.NewAttribute("chain_id", msg.ChainId)))
	return &types.MsgRegisterHubResponse{}, nil
}

func (m msgServer) RemoveHub(goCtx context.Context, msg *types.MsgRemoveHub) (*types.MsgRemoveHubResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if err := m.registryAdmin(ctx, msg.Admin); err != nil {
		return nil, err
	}
	if ok, err := m.IsHub(ctx, msg.ChainId); err != nil {
		return nil, err
	} else if !ok {
		return nil, errorsmod.Wrapf(types.ErrNotHub, "%s is not a hub in the registry", msg.ChainId)
	}
	if err := m.setHub(ctx, msg.ChainId, false); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_hub_removed", sdk.NewAttribute("chain_id", msg.ChainId)))
	return &types.MsgRemoveHubResponse{}, nil
}
