package keeper

import (
	"context"
	"fmt"
	"math"
	"strconv"

	errorsmod "cosmossdk.io/errors"
	storetypes "cosmossdk.io/store/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// Revocation by the controller. The controller account of a DID document is the root of its
// authority: it adds and revokes the DID's keys. What a key signs can be stopped by the controller
// without any key: an attestation of the DID is revoked on the controller's account signature alone,
// with no issuer key and no issuer sequence to satisfy, so no signature of any key (a leaked one
// included) can stop the controller from revoking. Revoked is final, here and on every receiver.

// controllerOf returns the DID document of did if signer is its controller. A deactivated DID's
// controller may still revoke: deactivation must not freeze what the DID issued.
func (k Keeper) controllerOf(ctx context.Context, did, signer string) (types.DIDDocument, error) {
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
	return doc, nil
}

// unindex removes a revoked attestation from its key's index.
func (k Keeper) unindex(ctx context.Context, a types.Attestation) error {
	return k.kv(ctx).Delete(types.KeyAttestationKey(a.IssuerDid, a.IssuerMethod, a.IssuedHeight, a.Id))
}

// controllerRevoke revokes a (not yet revoked) with the DID's next issuer sequence, which doc records;
// the caller stores doc. When the sequence is exhausted (a DID pinned before the exact-successor rule)
// the revocation takes the maximum without moving it: revoked is final whatever its sequence.
func (k Keeper) controllerRevoke(ctx sdk.Context, doc *types.DIDDocument, a types.Attestation) (uint64, error) {
	if a.Status == types.ATTESTATION_STATUS_REVOKED {
		return 0, errorsmod.Wrapf(types.ErrInvalidStatus, "%s is already revoked (at height %d): revoked is final", a.Id, a.StatusHeight)
	}
	seq := doc.IssuerSeq
	if seq < math.MaxUint64 {
		seq++
	}
	doc.IssuerSeq = seq
	a.Status, a.StatusSeq, a.StatusHeight = types.ATTESTATION_STATUS_REVOKED, seq, ctx.BlockHeight()
	a.StatusMethod, a.StatusSignature, a.StatusByController = "", nil, true
	if err := k.SetAttestation(ctx, a); err != nil {
		return 0, err
	}
	if err := k.unindex(ctx, a); err != nil {
		return 0, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_attestation_status", sdk.NewAttribute("id", a.Id),
		sdk.NewAttribute("status", a.Status.String()), sdk.NewAttribute("by_controller", "true"),
		sdk.NewAttribute("status_seq", strconv.FormatUint(seq, 10))))
	return seq, nil
}

func (m msgServer) ControllerRevokeAttestation(goCtx context.Context, msg *types.MsgControllerRevokeAttestation) (*types.MsgControllerRevokeAttestationResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	a, ok, err := m.GetAttestation(ctx, msg.AttestationId)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorsmod.Wrapf(types.ErrAttestationNotFound, "%s", msg.AttestationId)
	}
	doc, err := m.controllerOf(ctx, a.IssuerDid, msg.Controller)
	if err != nil {
		return nil, err
	}
	seq, err := m.controllerRevoke(ctx, &doc, a)
	if err != nil {
		return nil, err
	}
	if err := m.SetDID(ctx, doc); err != nil {
		return nil, err
	}
	return &types.MsgControllerRevokeAttestationResponse{StatusSeq: seq}, nil
}

// RevokeLeakedKey revokes the key (if it is not revoked yet) and then up to limit attestations it
// signed at or after from_height. The key's index holds only attestations not revoked yet, in issue
// height order, so the work is proportional to what is revoked, never to the store, and the same
// message sent again resumes after what the last one revoked.
func (m msgServer) RevokeLeakedKey(goCtx context.Context, msg *types.MsgRevokeLeakedKey) (*types.MsgRevokeLeakedKeyResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	doc, err := m.controllerOf(ctx, msg.Did, msg.Controller)
	if err != nil {
		return nil, err
	}
	key, ok := doc.Method(msg.MethodId)
	if !ok {
		return nil, errorsmod.Wrapf(types.ErrKeyNotFound, "%s#%s", msg.Did, msg.MethodId)
	}
	// First the key: from this height on it signs nothing the chain accepts, so no attestation can
	// join the index while the revocation walks it.
	if key.RevokedHeight == 0 {
		key.RevokedHeight = ctx.BlockHeight()
		ctx.EventManager().EmitEvent(sdk.NewEvent("did_key_revoked", sdk.NewAttribute("did", msg.Did), sdk.NewAttribute("method", msg.MethodId)))
	}
	revokedHeight := key.RevokedHeight
	limit := int(msg.Limit)
	if limit == 0 || limit > types.MaxLeakRevocationsPerTx {
		limit = types.MaxLeakRevocationsPerTx
	}
	ids, more, err := m.keyAttestations(ctx, msg.Did, msg.MethodId, msg.FromHeight, limit)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		a, ok, err := m.GetAttestation(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("index of %s#%s names attestation %s, which is not stored", msg.Did, msg.MethodId, id)
		}
		if _, err := m.controllerRevoke(ctx, &doc, a); err != nil {
			return nil, err
		}
	}
	if err := m.SetDID(ctx, doc); err != nil {
		return nil, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_leaked_key_revoked", sdk.NewAttribute("did", msg.Did), sdk.NewAttribute("method", msg.MethodId),
		sdk.NewAttribute("from_height", strconv.FormatInt(msg.FromHeight, 10)), sdk.NewAttribute("revoked", strconv.Itoa(len(ids))),
		sdk.NewAttribute("more", strconv.FormatBool(more))))
	return &types.MsgRevokeLeakedKeyResponse{KeyRevokedHeight: revokedHeight, Revoked: ids, More: more}, nil
}

// keyAttestations returns the ids of up to limit not yet revoked attestations that did#method signed
// at or after height from, in issue order, and whether more remain.
func (k Keeper) keyAttestations(ctx context.Context, did, method string, from int64, limit int) ([]string, bool, error) {
	prefix := types.KeyAttestationPrefix(did, method)
	it, err := k.kv(ctx).Iterator(types.KeyAttestationFrom(did, method, from), storetypes.PrefixEndBytes(prefix))
	if err != nil {
		return nil, false, err
	}
	defer it.Close()
	var ids []string
	for ; it.Valid(); it.Next() {
		if len(ids) == limit {
			return ids, true, nil
		}
		rest := it.Key()[len(prefix):] // <height, 20 digits>/<id>
		if len(rest) < 22 || rest[20] != '/' {
			return nil, false, fmt.Errorf("malformed key index entry %q", it.Key())
		}
		ids = append(ids, string(rest[21:]))
	}
	return ids, false, nil
}
