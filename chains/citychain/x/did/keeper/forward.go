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

// Forwarding through a hub. A member sends a packet to its hub with a route {origin, destination}. The
// hub runs every receiver check on it (Receive), then sends it on over the did channel of the
// destination's registered client with the route {origin, destination, hub}, and keeps a pending
// forward (fwd/<channel>/<sequence>) that holds the first hop's packet. The first hop's
// acknowledgement is asynchronous: the hub writes it when the second hop's acknowledgement (passed on
// as it is when it is a result; wrapped as "rejected at <destination> via <hub>: ..." when it is an
// error) or timeout comes back.

// GetPendingForward returns the pending forward of the packet (channel, seq) this hub sent on.
func (k Keeper) GetPendingForward(ctx context.Context, channel string, seq uint64) (types.PendingForward, bool, error) {
	var f types.PendingForward
	ok, err := k.get(ctx, types.PendingForwardKey(channel, seq), &f)
	return f, ok, err
}

// SetPendingForward stores a pending forward.
func (k Keeper) SetPendingForward(ctx context.Context, f types.PendingForward) error {
	return k.set(ctx, types.PendingForwardKey(f.Channel, f.Sequence), &f)
}

// forward sends a checked packet on to its route's destination.
func (k Keeper) forward(ctx sdk.Context, in channeltypes.Packet, data types.DIDPacketData) error {
	route := *data.Route
	channel, err := k.CityChannel(ctx, route.DestinationChainId)
	if err != nil {
		return errorsmod.Wrapf(types.ErrRoute, "%s cannot forward to %s: %s", ctx.ChainID(), route.DestinationChainId, err)
	}
	out := data
	out.Route = &types.Route{OriginChainId: route.OriginChainId, DestinationChainId: route.DestinationChainId, HubChainId: ctx.ChainID()}
	// The second hop ends when the first would have: the origin waits no longer than it asked for.
	timeout := in.TimeoutTimestamp
	if timeout == 0 {
		timeout = uint64(ctx.BlockTime().Add(types.DefaultTimeout).UnixNano())
	}
	seq, err := k.sendPacket(ctx, channel, 0, timeout, out, data.Ref(), out.Route)
	if err != nil {
		return errorsmod.Wrapf(err, "forward to %s", route.DestinationChainId)
	}
	pf := types.PendingForward{Channel: channel, Sequence: seq,
		InSourcePort: in.SourcePort, InSourceChannel: in.SourceChannel, InDestinationPort: in.DestinationPort, InDestinationChannel: in.DestinationChannel,
		InSequence: in.Sequence, InData: in.Data, InTimeoutRevisionNumber: in.TimeoutHeight.RevisionNumber,
		InTimeoutRevisionHeight: in.TimeoutHeight.RevisionHeight, InTimeoutTimestamp: in.TimeoutTimestamp,
		OriginChainId: route.OriginChainId, DestinationChainId: route.DestinationChainId}
	if err := k.SetPendingForward(ctx, pf); err != nil {
		return err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_packet_forwarded", sdk.NewAttribute("origin", route.OriginChainId),
		sdk.NewAttribute("destination", route.DestinationChainId), sdk.NewAttribute("in_channel", in.DestinationChannel),
		sdk.NewAttribute("in_sequence", fmt.Sprint(in.Sequence)), sdk.NewAttribute("channel", channel), sdk.NewAttribute("sequence", fmt.Sprint(seq))))
	return nil
}

// resolveForward writes the first hop's acknowledgement of a packet this hub forwarded, once the
// second hop (packet) resolved: with its acknowledgement ack, or timed out (ack nil). A packet this
// chain did not forward is left alone.
func (k Keeper) resolveForward(ctx sdk.Context, packet channeltypes.Packet, ack *channeltypes.Acknowledgement) error {
	pf, found, err := k.GetPendingForward(ctx, packet.SourceChannel, packet.Sequence)
	if err != nil || !found {
		return err
	}
	var out channeltypes.Acknowledgement
	switch {
	case ack == nil:
		out = types.ErrorAcknowledgement(errorsmod.Wrapf(types.ErrForwardFailed, "timed out on the way to %s via %s (channel %s sequence %d)",
			pf.DestinationChainId, ctx.ChainID(), pf.Channel, pf.Sequence))
	case ack.Success():
		out = *ack
	default:
		out = types.ErrorAcknowledgement(errorsmod.Wrapf(types.ErrForwardFailed, "rejected at %s via %s: %s",
			pf.DestinationChainId, ctx.ChainID(), ack.GetError()))
	}
	in := channeltypes.NewPacket(pf.InData, pf.InSequence, pf.InSourcePort, pf.InSourceChannel, pf.InDestinationPort, pf.InDestinationChannel,
		clienttypes.NewHeight(pf.InTimeoutRevisionNumber, pf.InTimeoutRevisionHeight), pf.InTimeoutTimestamp)
	capability, ok := k.scoped.GetCapability(ctx, host.ChannelCapabilityPath(pf.InDestinationPort, pf.InDestinationChannel))
	// A first-hop acknowledgement that cannot be written is not an error of the second hop's: refusing
	// that would only stall its channel. The pending forward is kept (state, genesis), so what the
	// origin waits for is not lost; it is deleted once the acknowledgement is written.
	if !ok {
		k.Logger(ctx).Error("forwarded packet: no capability for the first hop's channel; pending forward kept", "channel", pf.InDestinationChannel, "sequence", pf.InSequence)
		return nil
	}
	if err := k.ics4.WriteAcknowledgement(ctx, capability, in, out); err != nil {
		k.Logger(ctx).Error("forwarded packet: write the first hop's acknowledgement; pending forward kept", "channel", pf.InDestinationChannel, "sequence", pf.InSequence, "error", err.Error())
		return nil
	}
	if err := k.kv(ctx).Delete(types.PendingForwardKey(pf.Channel, pf.Sequence)); err != nil {
		return err
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_forward_resolved", sdk.NewAttribute("origin", pf.OriginChainId),
		sdk.NewAttribute("destination", pf.DestinationChainId), sdk.NewAttribute("in_channel", pf.InDestinationChannel),
		sdk.NewAttribute("in_sequence", fmt.Sprint(pf.InSequence)), sdk.NewAttribute("success", fmt.Sprint(out.Success()))))
	return nil
}
