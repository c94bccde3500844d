package keeper

import (
	"context"
	"fmt"

	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// sendPacket sends data over the did channel and records its delivery as pending (with route, the way
// through a hub, if it goes through one).
func (k Keeper) sendPacket(ctx sdk.Context, channel string, timeoutHeight, timeoutTimestamp uint64, data types.DIDPacketData, ref string, route *types.Route) (uint64, error) {
	capability, ok := k.scoped.GetCapability(ctx, host.ChannelCapabilityPath(types.PortID, channel))
	if !ok {
		return 0, errorsmod.Wrapf(types.ErrInvalidChannel, "no capability for %s/%s: is the channel open?", types.PortID, channel)
	}
	if timeoutHeight == 0 && timeoutTimestamp == 0 {
		timeoutTimestamp = uint64(ctx.BlockTime().Add(types.DefaultTimeout).UnixNano())
	}
	var th clienttypes.Height
	if timeoutHeight != 0 {
		_, cs, err := k.channels.GetChannelClientState(ctx, types.PortID, channel)
		if err != nil {
			return 0, errorsmod.Wrapf(types.ErrInvalidChannel, "%s: %s", channel, err)
		}
		th = clienttypes.NewHeight(cs.GetLatestHeight().GetRevisionNumber(), timeoutHeight)
	}
	seq, err := k.ics4.SendPacket(ctx, capability, types.PortID, channel, th, timeoutTimestamp, data.GetBytes())
	if err != nil {
		// errorsmod, not fmt.Errorf: %w prints an errorsmod error with its Go source frame, and the
		// registered code (the tx's codespace/code) would be lost.
		return 0, errorsmod.Wrapf(err, "send %s on %s", data.Kind(), channel)
	}
	d := types.Delivery{Channel: channel, Sequence: seq, Kind: data.Kind(), Ref: ref, State: types.DELIVERY_STATE_PENDING, SentHeight: ctx.BlockHeight(), Route: route}
	if err := k.SetDelivery(ctx, d); err != nil {
		return 0, err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_packet_sent", sdk.NewAttribute("channel", channel),
		sdk.NewAttribute("sequence", fmt.Sprint(seq)), sdk.NewAttribute("kind", d.Kind), sdk.NewAttribute("ref", ref)))
	return seq, nil
}

// sendRoute resolves where a send message goes: its channel, or through the hub via to destination (on
// channel, which must then run to the hub, or when empty on the did channel of the hub's registered
// client). It returns the channel, the route the packet carries (nil for a direct packet) and the route
// its delivery record keeps (with the hub).
func (k Keeper) sendRoute(ctx sdk.Context, channel, destination, via string) (string, *types.Route, *types.Route, error) {
	if destination == "" && via == "" {
		return channel, nil, nil, nil
	}
	self := ctx.ChainID()
	if destination == self || via == self {
		return "", nil, nil, errorsmod.Wrapf(types.ErrRoute, "route %s → %s → %s: this chain is the origin", self, via, destination)
	}
	if channel == "" {
		ch, err := k.CityChannel(ctx, via)
		if err != nil {
			return "", nil, nil, errorsmod.Wrapf(err, "hub %s", via)
		}
		channel = ch
	} else if city, err := k.CheckOpenChannelCity(ctx, channel); err != nil {
		return "", nil, nil, errorsmod.Wrapf(err, "channel %s", channel)
	} else if city != via {
		return "", nil, nil, errorsmod.Wrapf(types.ErrRoute, "channel %s runs to %s, not to the hub %s", channel, city, via)
	} else if order, _ := k.ChannelOrder(ctx, types.PortID, channel); order == channeltypes.ORDERED {
		// As CityChannel: routing takes UNORDERED channels only (one timeout closes an ORDERED one).
		return "", nil, nil, errorsmod.Wrapf(types.ErrRoute, "channel %s is ORDERED: a route goes over an UNORDERED did channel only", channel)
	}
	return channel, &types.Route{OriginChainId: self, DestinationChainId: destination},
		&types.Route{OriginChainId: self, DestinationChainId: destination, HubChainId: via}, nil
}

// checkOrderedSender refuses (ErrUnauthorized) a send on an ORDERED did channel by anyone but the
// registry admin. A packet that times out closes an ORDERED channel (any account may submit the
// MsgTimeout), and a send message picks its own timeout: were anyone allowed to send on one, anyone
// could close it with a packet timing out at the counterparty's next block, bypassing the app's close
// guard (only the admin closes a did channel). The admin, the city's governance, may choose any
// timeout, a short one included: its choice, as closing the channel outright is. UNORDERED channels
// stay open to every sender: a timeout there only resolves the one packet.
func (k Keeper) checkOrderedSender(ctx sdk.Context, channel, sender string) error {
	// A channel that does not exist is no ORDERED one: sending on it fails in IBC core.
	if order, _ := k.ChannelOrder(ctx, types.PortID, channel); order != channeltypes.ORDERED {
		return nil
	}
	if err := k.CheckRegistryAdmin(ctx, sender); err != nil {
		return errorsmod.Wrapf(err, "send on %s/%s: only the registry admin sends on an ORDERED did channel: a packet that times out closes it", types.PortID, channel)
	}
	return nil
}

// issuerKeyNow returns the packet form of a sender's key, refusing a key not valid now (a service
// message is signed for the block that sends it).
func (k Keeper) issuerKeyNow(ctx sdk.Context, did, method string) (types.IssuerKey, error) {
	_, key, err := k.localIssuer(ctx, did, method)
	if err != nil {
		return types.IssuerKey{}, err
	}
	return types.IssuerKeyOf(*key), nil
}

// issuerKeyAt returns the packet form of an issuer's verification method, refusing one that was not
// valid at height h: the height at which the origin recorded what the key signed (an attestation's
// issuance, a status change). A key rotated since stays good for what it signed while it was valid.
func (k Keeper) issuerKeyAt(ctx sdk.Context, did, method string, h int64) (types.IssuerKey, error) {
	doc, ok, err := k.GetDID(ctx, did)
	if err != nil {
		return types.IssuerKey{}, err
	}
	if !ok {
		return types.IssuerKey{}, errorsmod.Wrapf(types.ErrDIDNotFound, "%s", did)
	}
	key, err := validKey(&doc, method, h)
	if err != nil {
		return types.IssuerKey{}, err
	}
	return types.IssuerKeyOf(*key), nil
}

// attestationPacket is a local attestation as it travels: with its current status (never reset to
// active) and the keys that signed the attestation and its last status change.
func (k Keeper) attestationPacket(ctx sdk.Context, a types.Attestation) (*types.AttestationPacket, error) {
	key, err := k.issuerKeyAt(ctx, a.IssuerDid, a.IssuerMethod, a.IssuedHeight)
	if err != nil {
		return nil, err
	}
	p := &types.AttestationPacket{Attestation: a, IssuerKey: key, SourceHeight: ctx.BlockHeight()}
	if a.StatusSeq > 0 && !a.StatusByController {
		sk, err := k.issuerKeyAt(ctx, a.IssuerDid, a.StatusMethod, a.StatusHeight)
		if err != nil {
			return nil, err
		}
		p.StatusKey = &sk
	}
	return p, nil
}

func (m msgServer) SendAttestation(goCtx context.Context, msg *types.MsgSendAttestation) (*types.MsgSendAttestationResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	a, ok, err := m.GetAttestation(ctx, msg.AttestationId)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorsmod.Wrapf(types.ErrAttestationNotFound, "%s", msg.AttestationId)
	}
	p, err := m.attestationPacket(ctx, a)
	if err != nil {
		return nil, err
	}
	channel, route, via, err := m.sendRoute(ctx, msg.SourceChannel, msg.DestinationChainId, msg.ViaChainId)
	if err != nil {
		return nil, err
	}
	if err := m.checkOrderedSender(ctx, channel, msg.Sender); err != nil {
		return nil, err
	}
	data := types.DIDPacketData{Packet: &types.DIDPacketData_Attestation{Attestation: p}, Route: route}
	seq, err := m.sendPacket(ctx, channel, msg.TimeoutHeight, msg.TimeoutTimestamp, data, a.Id, via)
	if err != nil {
		return nil, err
	}
	return &types.MsgSendAttestationResponse{Sequence: seq}, nil
}

func (m msgServer) SendRevocation(goCtx context.Context, msg *types.MsgSendRevocation) (*types.MsgSendRevocationResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	a, ok, err := m.GetAttestation(ctx, msg.AttestationId)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorsmod.Wrapf(types.ErrAttestationNotFound, "%s", msg.AttestationId)
	}
	if a.StatusSeq == 0 {
		return nil, errorsmod.Wrapf(types.ErrInvalidStatus, "%s has had no status change to send", a.Id)
	}
	// A controller's revocation travels without key or signature, marked as the controller's.
	var key types.IssuerKey
	if !a.StatusByController {
		key, err = m.issuerKeyAt(ctx, a.IssuerDid, a.StatusMethod, a.StatusHeight)
		if err != nil {
			return nil, err
		}
	}
	channel, route, via, err := m.sendRoute(ctx, msg.SourceChannel, msg.DestinationChainId, msg.ViaChainId)
	if err != nil {
		return nil, err
	}
	if err := m.checkOrderedSender(ctx, channel, msg.Sender); err != nil {
		return nil, err
	}
	data := types.DIDPacketData{Route: route, Packet: &types.DIDPacketData_Revocation{Revocation: &types.RevocationPacket{
		AttestationId: a.Id, OriginChainId: a.OriginChainId, IssuerDid: a.IssuerDid, IssuerMethod: a.StatusMethod,
		NewStatus: a.Status, IssuerSeq: a.StatusSeq, Signature: a.StatusSignature, IssuerKey: key, SourceHeight: ctx.BlockHeight(),
		StatusHeight: a.StatusHeight, ByController: a.StatusByController,
	}}}
	seq, err := m.sendPacket(ctx, channel, msg.TimeoutHeight, msg.TimeoutTimestamp, data, a.Id, via)
	if err != nil {
		return nil, err
	}
	return &types.MsgSendRevocationResponse{Sequence: seq}, nil
}

func (m msgServer) SendServiceMessage(goCtx context.Context, msg *types.MsgSendServiceMessage) (*types.MsgSendServiceMessageResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	sm := msg.Message
	if sm.OriginChainId != ctx.ChainID() {
		return nil, errorsmod.Wrapf(types.ErrInvalidRequest, "origin %s is not this chain (%s)", sm.OriginChainId, ctx.ChainID())
	}
	if sm.Expiry <= ctx.BlockTime().Unix() {
		return nil, errorsmod.Wrapf(types.ErrExpired, "service message expired at %d, block time %d", sm.Expiry, ctx.BlockTime().Unix())
	}
	key, err := m.issuerKeyNow(ctx, sm.SenderDid, sm.SenderMethod)
	if err != nil {
		return nil, err
	}
	signBytes := sm.SignBytes()
	if err := types.VerifySignature(key.Type, key.PublicKey, signBytes, sm.Signature); err != nil {
		return nil, err
	}
	id := types.MessageID(signBytes)
	if sm.MsgId == "" {
		sm.MsgId = id
	} else if sm.MsgId != id {
		return nil, errorsmod.Wrapf(types.ErrInvalidRequest, "msg id %s does not match its signing bytes (%s)", sm.MsgId, id)
	}
	dest := ""
	if msg.ViaChainId != "" {
		dest = sm.DestinationChainId
	}
	channel, route, via, err := m.sendRoute(ctx, msg.SourceChannel, dest, msg.ViaChainId)
	if err != nil {
		return nil, err
	}
	if err := m.checkOrderedSender(ctx, channel, msg.Sender); err != nil {
		return nil, err
	}
	data := types.DIDPacketData{Route: route, Packet: &types.DIDPacketData_ServiceMessage{ServiceMessage: &types.ServiceMessagePacket{
		Message: sm, SenderKey: key, SourceHeight: ctx.BlockHeight(),
	}}}
	seq, err := m.sendPacket(ctx, channel, msg.TimeoutHeight, msg.TimeoutTimestamp, data, id, via)
	if err != nil {
		return nil, err
	}
	return &types.MsgSendServiceMessageResponse{Sequence: seq}, nil
}
