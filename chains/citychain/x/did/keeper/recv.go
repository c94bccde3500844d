package keeper

import (
	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// checkOrigin is the first receiver check. The city a packet speaks for is the registered city of the
// client behind its channel (channel → connection → client → city registry), never what the packet or
// the client's chain id claims: anyone can make a client of a chain that calls itself seoul-1. A
// packet whose channel's client is not (or no longer) registered, or whose claimed origin is another
// city, is refused. It returns the origin.
//
// A packet forwarded by a hub (its route names a hub) speaks for the route's origin, on the word of
// the hub: the channel's registered city must be the route's hub and be marked a hub in this chain's
// registry, the route must end here (a packet that went through a hub is never forwarded again), and
// the origin may not be this chain. The origin need not be in this chain's registry: the hub's
// registry is the association's list of members, and the hub ran every receiver check against its
// registered client of the origin before forwarding (that is what makes one path per member enough).
func (k Keeper) checkOrigin(ctx sdk.Context, packet channeltypes.Packet, claimed string, route *types.Route) (string, error) {
	city, clientID, err := k.channelCity(ctx, packet.DestinationChannel)
	if err != nil {
		return "", errorsmod.Wrapf(err, "channel %s", packet.DestinationChannel)
	}
	if route != nil && route.OriginChainId != claimed {
		return "", errorsmod.Wrapf(types.ErrRoute, "route origin %s, the packet claims %s", route.OriginChainId, claimed)
	}
	if route == nil || route.HubChainId == "" {
		if claimed != city {
			return "", errorsmod.Wrapf(types.ErrOriginMismatch, "packet claims origin %s, channel %s runs over client %s, registered for %s",
				claimed, packet.DestinationChannel, clientID, city)
		}
		return city, nil
	}
	if route.HubChainId != city {
		return "", errorsmod.Wrapf(types.ErrNotHub, "route names hub %s, channel %s runs over client %s, registered for %s",
			route.HubChainId, packet.DestinationChannel, clientID, city)
	}
	if ok, err := k.IsHub(ctx, city); err != nil {
		return "", err
	} else if !ok {
		return "", errorsmod.Wrapf(types.ErrNotHub, "%s (channel %s) is not a hub in the registry of %s: a forwarded packet is accepted only from a hub (citychaind tx did register-hub %s)",
			city, packet.DestinationChannel, ctx.ChainID(), city)
	}
	if route.DestinationChainId != ctx.ChainID() {
		return "", errorsmod.Wrapf(types.ErrRoute, "forwarded by hub %s for %s: a packet that went through a hub is not forwarded again", city, route.DestinationChainId)
	}
	if claimed == ctx.ChainID() {
		return "", errorsmod.Wrapf(types.ErrOriginMismatch, "hub %s forwards a packet of %s, this chain", city, claimed)
	}
	return claimed, nil
}

// didOfOrigin checks that a DID that signs for the origin city is a DID of that city: Seoul's chain
// speaks for did:city:seoul-1:..., not for Busan's civil office.
func didOfOrigin(role, did, origin string) error {
	chainID, _, err := types.ParseDID(did)
	if err != nil {
		return err
	}
	if chainID != origin {
		return errorsmod.Wrapf(types.ErrOriginMismatch, "%s %s is a DID of %s, the packet comes from %s", role, did, chainID, origin)
	}
	return nil
}

// checkSignedAt checks that key was valid at height h of the origin chain (the height at which the
// origin recorded what was signed; at most the packet's source height) and signed signBytes.
func checkSignedAt(what string, key types.IssuerKey, h, sourceHeight int64, signBytes, sig []byte) error {
	if h <= 0 || h > sourceHeight {
		return errorsmod.Wrapf(types.ErrInvalidPacket, "%s height %d outside [1, source height %d]", what, h, sourceHeight)
	}
	if !key.ValidAt(h) {
		return errorsmod.Wrapf(types.ErrKeyRevoked, "%s key created %d revoked %d, %s height %d", what, key.CreatedHeight, key.RevokedHeight, what, h)
	}
	return types.VerifySignature(key.Type, key.PublicKey, signBytes, sig)
}

// OnRecvPacket applies a did packet after every receiver check, in the order DESIGN.md gives. On
// error nothing has been written. It is Receive for a packet that is not forwarded from here.
func (k Keeper) OnRecvPacket(ctx sdk.Context, packet channeltypes.Packet, data types.DIDPacketData) (types.AckResult, error) {
	res, _, err := k.Receive(ctx, packet, data)
	return res, err
}

// Receive applies a did packet after every receiver check. A packet with a route and no hub asks this
// chain to forward it to the route's destination: it passes every check here (and is recorded like any
// received packet, a record already here being no error), then goes on over the destination's did
// channel; forwarded is then true, and the acknowledgement is written when the second hop resolves
// (OnAcknowledgement, OnTimeout).
func (k Keeper) Receive(ctx sdk.Context, packet channeltypes.Packet, data types.DIDPacketData) (res types.AckResult, forwarded bool, err error) {
	route := data.Route
	fwd := false
	if route != nil && route.HubChainId == "" {
		if route.DestinationChainId == ctx.ChainID() {
			return res, false, errorsmod.Wrapf(types.ErrRoute, "routed to %s, this chain, without a hub: a direct packet carries no route", route.DestinationChainId)
		}
		fwd = true
	}
	switch p := data.Packet.(type) {
	case *types.DIDPacketData_Attestation:
		res, err = k.recvAttestation(ctx, packet, p.Attestation, route, fwd)
	case *types.DIDPacketData_Revocation:
		res, err = k.recvRevocation(ctx, packet, p.Revocation, route, fwd)
	case *types.DIDPacketData_ServiceMessage:
		res, err = k.recvServiceMessage(ctx, packet, p.ServiceMessage, route, fwd)
	default:
		return types.AckResult{}, false, errorsmod.Wrap(types.ErrInvalidPacket, "no packet in the oneof")
	}
	if err != nil || !fwd {
		return res, false, err
	}
	if err := k.forward(ctx, packet, data); err != nil {
		return types.AckResult{}, false, err
	}
	return res, true, nil
}

// checkPacketStatus checks the status an attestation travels with: ACTIVE with no status change, or
// a status change signed by the issuer with a key valid at the status height.
func checkPacketStatus(p *types.AttestationPacket) error {
	a := &p.Attestation
	if a.StatusByController {
		// A revocation by the issuer DID's controller on the origin: no key signed it, the origin's
		// word (its commitment, proven through the registered client) is the authority. It can only
		// be a final revocation, recorded between the issue and the send.
		if a.Status != types.ATTESTATION_STATUS_REVOKED || a.StatusMethod != "" || len(a.StatusSignature) != 0 || p.StatusKey != nil {
			return errorsmod.Wrapf(types.ErrInvalidStatus, "a controller's status change must be a revocation without issuer method, signature or key (status %s)", a.Status)
		}
		if a.StatusHeight < a.IssuedHeight || a.StatusHeight > p.SourceHeight {
			return errorsmod.Wrapf(types.ErrInvalidPacket, "controller revocation height %d outside [issued height %d, source height %d]", a.StatusHeight, a.IssuedHeight, p.SourceHeight)
		}
		return nil
	}
	if a.StatusSeq == 0 {
		if a.Status != types.ATTESTATION_STATUS_ACTIVE || len(a.StatusSignature) != 0 || a.StatusHeight != 0 {
			return errorsmod.Wrapf(types.ErrInvalidStatus, "status %s without a signed status change", a.Status)
		}
		return nil
	}
	if err := types.ValidateStatus(a.Status); err != nil {
		return err
	}
	if a.StatusSeq <= a.IssuerSeq {
		return errorsmod.Wrapf(types.ErrStaleSequence, "status_seq %d, issuer_seq %d", a.StatusSeq, a.IssuerSeq)
	}
	if p.StatusKey == nil {
		return errorsmod.Wrap(types.ErrInvalidPacket, "status change without its status key")
	}
	sb := types.RevocationSignBytes(a.OriginChainId, a.Id, a.IssuerDid, a.StatusMethod, a.Status, a.StatusSeq)
	return checkSignedAt("status", *p.StatusKey, a.StatusHeight, p.SourceHeight, sb, a.StatusSignature)
}

// mergeStatus completes a tombstone (a status change that arrived before its attestation) with the
// attestation: revoked is final whichever carried it (a controller's revocation included); otherwise the
// higher issuer sequence wins.
func mergeStatus(a *types.Attestation, ts types.Attestation) {
	switch {
	case a.Status == types.ATTESTATION_STATUS_REVOKED:
	case ts.Status == types.ATTESTATION_STATUS_REVOKED || ts.StatusSeq > max(a.StatusSeq, a.IssuerSeq):
		a.Status, a.StatusSeq, a.StatusHeight, a.StatusMethod, a.StatusSignature = ts.Status, ts.StatusSeq, ts.StatusHeight, ts.StatusMethod, ts.StatusSignature
		a.StatusByController = ts.StatusByController
	}
}

func (k Keeper) recvAttestation(ctx sdk.Context, packet channeltypes.Packet, p *types.AttestationPacket, route *types.Route, fwd bool) (types.AckResult, error) {
	a := p.Attestation
	origin, err := k.checkOrigin(ctx, packet, a.OriginChainId, route)
	if err != nil {
		return types.AckResult{}, err
	}
	if err := didOfOrigin("issuer", a.IssuerDid, origin); err != nil {
		return types.AckResult{}, err
	}
	signBytes := a.SignBytes()
	if err := checkSignedAt("issued", p.IssuerKey, a.IssuedHeight, p.SourceHeight, signBytes, a.Signature); err != nil {
		return types.AckResult{}, err
	}
	if id := types.AttestationID(signBytes); id != a.Id {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrInvalidPacket, "attestation id %s does not match its signing bytes (%s)", a.Id, id)
	}
	if a.ValidFrom >= a.ValidUntil || a.ValidUntil <= ctx.BlockTime().Unix() {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrValidityWindow, "[%d, %d) at block time %d", a.ValidFrom, a.ValidUntil, ctx.BlockTime().Unix())
	}
	if err := checkPacketStatus(p); err != nil {
		return types.AckResult{}, err
	}
	existing, found, err := k.GetForeignAttestation(ctx, a.OriginChainId, a.Id)
	if err != nil {
		return types.AckResult{}, err
	}
	if found && !existing.Tombstone && fwd {
		// A hub forwarding what it already holds (the same attestation to another member): checked
		// again above, recorded once.
		return types.AckResult{Kind: types.KindAttestation, Ref: a.Id, Height: ctx.BlockHeight()}, nil
	}
	if found {
		if !existing.Tombstone {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrAttestationExists, "%s/%s (received on %s)", a.OriginChainId, a.Id, existing.SourceChannel)
		}
		if existing.Attestation.IssuerDid != a.IssuerDid {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrUnauthorized, "status of %s was set by %s, the attestation is issued by %s",
				a.Id, existing.Attestation.IssuerDid, a.IssuerDid)
		}
		mergeStatus(&a, existing.Attestation)
	}
	f := types.ForeignAttestation{Attestation: a, SourceChannel: packet.DestinationChannel, SourceSequence: packet.Sequence, ReceivedHeight: ctx.BlockHeight(), Route: route}
	if err := k.SetForeignAttestation(ctx, f); err != nil {
		return types.AckResult{}, err
	}
	return types.AckResult{Kind: types.KindAttestation, Ref: a.Id, Height: ctx.BlockHeight()}, nil
}

func (k Keeper) recvRevocation(ctx sdk.Context, packet channeltypes.Packet, p *types.RevocationPacket, route *types.Route, fwd bool) (types.AckResult, error) {
	origin, err := k.checkOrigin(ctx, packet, p.OriginChainId, route)
	if err != nil {
		return types.AckResult{}, err
	}
	if err := didOfOrigin("issuer", p.IssuerDid, origin); err != nil {
		return types.AckResult{}, err
	}
	if p.ByController {
		// The controller's revocation carries no signature: the origin chain's commitment is its proof
		// (ValidateBasic made sure it is a bare revocation). Its height must still be one the origin
		// had reached when it sent the packet.
		if p.StatusHeight <= 0 || p.StatusHeight > p.SourceHeight {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrInvalidPacket, "controller revocation height %d outside [1, source height %d]", p.StatusHeight, p.SourceHeight)
		}
	} else if err := checkSignedAt("status", p.IssuerKey, p.StatusHeight, p.SourceHeight, p.SignBytes(), p.Signature); err != nil {
		return types.AckResult{}, err
	}
	f, found, err := k.GetForeignAttestation(ctx, p.OriginChainId, p.AttestationId)
	if err != nil {
		return types.AckResult{}, err
	}
	if found {
		// The same rules for a tombstone as for a full record: its issuer, revoked is final, and
		// only a higher issuer sequence moves it.
		a := f.Attestation
		if a.IssuerDid != p.IssuerDid {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrUnauthorized, "%s was issued by %s, not %s", a.Id, a.IssuerDid, p.IssuerDid)
		}
		if fwd && a.Status == p.NewStatus && a.StatusSeq == p.IssuerSeq && a.StatusByController == p.ByController {
			// A hub forwarding a status change it already holds: checked again above, recorded once.
			return types.AckResult{Kind: types.KindRevocation, Ref: p.AttestationId, Height: ctx.BlockHeight()}, nil
		}
		if a.Status == types.ATTESTATION_STATUS_REVOKED {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrInvalidStatus, "%s is revoked (issuer_seq %d): revoked is final", a.Id, a.StatusSeq)
		}
		// A controller's revocation wins over any sequence: relayed packets arrive in any order, and
		// a status a leaked key signed with a high sequence must not outrank it.
		if last := max(a.IssuerSeq, a.StatusSeq); !p.ByController && p.IssuerSeq <= last {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrStaleSequence, "issuer_seq %d, last %d", p.IssuerSeq, last)
		}
	} else {
		// The revocation came before its attestation: keep a tombstone that the attestation completes.
		f = types.ForeignAttestation{Tombstone: true, Attestation: types.Attestation{
			Id: p.AttestationId, OriginChainId: p.OriginChainId, IssuerDid: p.IssuerDid,
		}}
	}
	f.Attestation.Status, f.Attestation.StatusSeq, f.Attestation.StatusHeight = p.NewStatus, p.IssuerSeq, p.StatusHeight
	f.Attestation.StatusMethod, f.Attestation.StatusSignature = p.IssuerMethod, p.Signature
	f.Attestation.StatusByController = p.ByController
	if f.Tombstone {
		f.SourceChannel, f.SourceSequence, f.ReceivedHeight, f.Route = packet.DestinationChannel, packet.Sequence, ctx.BlockHeight(), route
	}
	if err := k.SetForeignAttestation(ctx, f); err != nil {
		return types.AckResult{}, err
	}
	return types.AckResult{Kind: types.KindRevocation, Ref: p.AttestationId, Height: ctx.BlockHeight()}, nil
}

func (k Keeper) recvServiceMessage(ctx sdk.Context, packet channeltypes.Packet, p *types.ServiceMessagePacket, route *types.Route, fwd bool) (types.AckResult, error) {
	m := p.Message
	origin, err := k.checkOrigin(ctx, packet, m.OriginChainId, route)
	if err != nil {
		return types.AckResult{}, err
	}
	if err := didOfOrigin("sender", m.SenderDid, origin); err != nil {
		return types.AckResult{}, err
	}
	signBytes := m.SignBytes()
	if err := checkSignedAt("source", p.SenderKey, p.SourceHeight, p.SourceHeight, signBytes, m.Signature); err != nil {
		return types.AckResult{}, err
	}
	if id := types.MessageID(signBytes); id != m.MsgId {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrInvalidPacket, "msg id %s does not match its signing bytes (%s)", m.MsgId, id)
	}
	if fwd {
		// A hub: the message is for the route's destination, whose nonces and inbox are its own.
		if m.DestinationChainId != route.DestinationChainId {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrWrongDestination, "message for %s, routed to %s", m.DestinationChainId, route.DestinationChainId)
		}
		if m.Expiry <= ctx.BlockTime().Unix() {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrExpired, "expired at %d, block time %d", m.Expiry, ctx.BlockTime().Unix())
		}
		return types.AckResult{Kind: types.KindService, Ref: m.MsgId, Height: ctx.BlockHeight()}, nil
	}
	if m.DestinationChainId != ctx.ChainID() {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrWrongDestination, "for %s, this is %s", m.DestinationChainId, ctx.ChainID())
	}
	nonceKey := types.NonceKey(m.OriginChainId, m.SenderDid, m.Nonce)
	if used, err := k.has(ctx, nonceKey); err != nil {
		return types.AckResult{}, err
	} else if used {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrNonceUsed, "%s nonce %d from %s", m.SenderDid, m.Nonce, m.OriginChainId)
	}
	if m.Expiry <= ctx.BlockTime().Unix() {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrExpired, "expired at %d, block time %d", m.Expiry, ctx.BlockTime().Unix())
	}
	if err := k.kv(ctx).Set(nonceKey, []byte{1}); err != nil {
		return types.AckResult{}, err
	}
	e := types.InboxEntry{Message: m, SourceChannel: packet.DestinationChannel, SourceSequence: packet.Sequence, ReceivedHeight: ctx.BlockHeight()}
	if err := k.set(ctx, types.InboxKey(m.OriginChainId, m.MsgId), &e); err != nil {
		return types.AckResult{}, err
	}
	return types.AckResult{Kind: types.KindService, Ref: m.MsgId, Height: ctx.BlockHeight()}, nil
}

// OnAcknowledgement records the outcome of a packet sent here.
func (k Keeper) OnAcknowledgement(ctx sdk.Context, packet channeltypes.Packet, ack channeltypes.Acknowledgement) error {
	d, found, err := k.GetDelivery(ctx, packet.SourceChannel, packet.Sequence)
	if err != nil {
		return err
	}
	if !found {
		k.Logger(ctx).Error("acknowledgement for an unknown delivery", "channel", packet.SourceChannel, "sequence", packet.Sequence)
		return k.resolveForward(ctx, packet, &ack)
	}
	if ack.Success() {
		d.State = types.DELIVERY_STATE_DELIVERED
	} else {
		d.State, d.Error = types.DELIVERY_STATE_REJECTED, ack.GetError()
	}
	d.ResolvedHeight = ctx.BlockHeight()
	if err := k.SetDelivery(ctx, d); err != nil {
		return err
	}
	return k.resolveForward(ctx, packet, &ack)
}

// OnTimeout records that a packet sent here timed out. A timed-out packet can be sent again.
func (k Keeper) OnTimeout(ctx sdk.Context, packet channeltypes.Packet) error {
	d, found, err := k.GetDelivery(ctx, packet.SourceChannel, packet.Sequence)
	if err != nil {
		return err
	}
	if !found {
		k.Logger(ctx).Error("timeout for an unknown delivery", "channel", packet.SourceChannel, "sequence", packet.Sequence)
		return k.resolveForward(ctx, packet, nil)
	}
	d.State, d.ResolvedHeight = types.DELIVERY_STATE_TIMED_OUT, ctx.BlockHeight()
	if err := k.SetDelivery(ctx, d); err != nil {
		return err
	}
	return k.resolveForward(ctx, packet, nil)
}
