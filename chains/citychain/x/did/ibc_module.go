package did

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	porttypes "github.com/cosmos/ibc-go/v8/modules/core/05-port/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// IBCModule is the did IBC application.
type IBCModule struct {
	keeper keeper.Keeper
}

var _ porttypes.IBCModule = IBCModule{}

// NewIBCModule returns the did IBC application.
func NewIBCModule(k keeper.Keeper) IBCModule { return IBCModule{keeper: k} }

// checkChannel is the handshake's check of a new did channel: our port, the counterparty's port did,
// and a connection whose client is a registered city's. A did channel is UNORDERED (the default) or
// ORDERED (service messages that must arrive in the order sent; a timeout closes such a channel). IBC lets anyone open a channel
// over any client; only a registered city may speak on port did.
func (m IBCModule) checkChannel(ctx sdk.Context, order channeltypes.Order, hops []string, portID string, counterparty channeltypes.Counterparty) error {
	if portID != types.PortID {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "port %q, want %q", portID, types.PortID)
	}
	if counterparty.PortId != types.PortID {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "counterparty port %q, want %q", counterparty.PortId, types.PortID)
	}
	if order != channeltypes.UNORDERED && order != channeltypes.ORDERED {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "order %s, want %s or %s", order, channeltypes.UNORDERED, channeltypes.ORDERED)
	}
	if _, err := m.keeper.CheckChannelCity(ctx, hops); err != nil {
		return errorsmod.Wrap(err, "a did channel opens only over a registered city's client (citychaind tx did register-city)")
	}
	return nil
}

// OnChanOpenInit checks port, order, version and the city behind the connection, and claims the channel.
func (m IBCModule) OnChanOpenInit(ctx sdk.Context, order channeltypes.Order, hops []string, portID, channelID string,
	chanCap *capabilitytypes.Capability, counterparty channeltypes.Counterparty, version string,
) (string, error) {
	if err := m.checkChannel(ctx, order, hops, portID, counterparty); err != nil {
		return "", err
	}
	if version == "" {
		version = types.Version
	}
	if version != types.Version {
		return "", errorsmod.Wrapf(types.ErrInvalidChannel, "version %q, want %q", version, types.Version)
	}
	if err := m.keeper.ClaimCapability(ctx, chanCap, host.ChannelCapabilityPath(portID, channelID)); err != nil {
		return "", err
	}
	return version, nil
}

// OnChanOpenTry checks port, order, the counterparty's version and the city behind the connection,
// and claims the channel.
func (m IBCModule) OnChanOpenTry(ctx sdk.Context, order channeltypes.Order, hops []string, portID, channelID string,
	chanCap *capabilitytypes.Capability, counterparty channeltypes.Counterparty, counterpartyVersion string,
) (string, error) {
	if err := m.checkChannel(ctx, order, hops, portID, counterparty); err != nil {
		return "", err
	}
	if counterpartyVersion != types.Version {
		return "", errorsmod.Wrapf(types.ErrInvalidChannel, "counterparty version %q, want %q", counterpartyVersion, types.Version)
	}
	if err := m.keeper.ClaimCapability(ctx, chanCap, host.ChannelCapabilityPath(portID, channelID)); err != nil {
		return "", err
	}
	return types.Version, nil
}

// OnChanOpenAck checks the counterparty's version and that the channel's client is still a
// registered city's.
func (m IBCModule) OnChanOpenAck(ctx sdk.Context, _, channelID string, _ string, counterpartyVersion string) error {
	if counterpartyVersion != types.Version {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "counterparty version %q, want %q", counterpartyVersion, types.Version)
	}
	if _, err := m.keeper.CheckOpenChannelCity(ctx, channelID); err != nil {
		return errorsmod.Wrap(err, "a did channel opens only over a registered city's client")
	}
	return nil
}

// OnChanOpenConfirm checks that the channel's client is still a registered city's.
func (m IBCModule) OnChanOpenConfirm(ctx sdk.Context, _, channelID string) error {
	if _, err := m.keeper.CheckOpenChannelCity(ctx, channelID); err != nil {
		return errorsmod.Wrap(err, "a did channel opens only over a registered city's client")
	}
	return nil
}

// OnChanCloseInit refuses to close an UNORDERED did channel (never closed by a user). An ORDERED one
// may be closed, by the registry admin only: the app's ante handler refuses a MsgChannelCloseInit on
// port did from anyone else (IBC passes the app no signer here).
func (m IBCModule) OnChanCloseInit(ctx sdk.Context, portID, channelID string) error {
	order, ok := m.keeper.ChannelOrder(ctx, portID, channelID)
	if !ok || order != channeltypes.ORDERED {
		return errorsmod.Wrap(types.ErrInvalidChannel, "unordered did channels cannot be closed")
	}
	return nil
}

// OnChanCloseConfirm accepts a close begun by the counterparty.
func (IBCModule) OnChanCloseConfirm(sdk.Context, string, string) error { return nil }

// OnRecvPacket decodes and applies a did packet. The acknowledgement is deterministic: a typed result,
// or "did: code <n>: <reason>" where the reason is built from the packet and state only.
func (m IBCModule) OnRecvPacket(ctx sdk.Context, packet channeltypes.Packet, _ sdk.AccAddress) ibcexported.Acknowledgement {
	data, err := types.DecodePacketData(packet.GetData())
	kind := "unknown"
	var res types.AckResult
	forwarded := false
	if err == nil {
		kind = data.Kind()
		res, forwarded, err = m.keeper.Receive(ctx, packet, data)
	}
	if err != nil {
		ctx.EventManager().EmitEvent(sdk.NewEvent("did_packet_received", sdk.NewAttribute("kind", kind),
			sdk.NewAttribute("success", "false"), sdk.NewAttribute("error", err.Error())))
		return errorAck(err)
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_packet_received", sdk.NewAttribute("kind", kind),
		sdk.NewAttribute("ref", res.Ref), sdk.NewAttribute("success", "true"), sdk.NewAttribute("forwarded", fmt.Sprint(forwarded))))
	if forwarded {
		// An asynchronous acknowledgement (ibc-go): the state above is written, and the ack follows
		// when the second hop's acknowledgement or timeout comes back to this hub.
		return nil
	}
	bz, err := proto.Marshal(&res)
	if err != nil {
		return errorAck(err)
	}
	return channeltypes.NewResultAcknowledgement(bz)
}

// errorAck is a deterministic error acknowledgement: the registered code and the error text, which
// the keeper builds only from the packet and state.
func errorAck(err error) channeltypes.Acknowledgement { return types.ErrorAcknowledgement(err) }

// OnAcknowledgementPacket records the delivery's outcome.
func (m IBCModule) OnAcknowledgementPacket(ctx sdk.Context, packet channeltypes.Packet, acknowledgement []byte, _ sdk.AccAddress) error {
	var ack channeltypes.Acknowledgement
	if err := channeltypes.SubModuleCdc.UnmarshalJSON(acknowledgement, &ack); err != nil {
		return errorsmod.Wrapf(types.ErrInvalidPacket, "acknowledgement: %s", err)
	}
	return m.keeper.OnAcknowledgement(ctx, packet, ack)
}

// OnTimeoutPacket records the timeout.
func (m IBCModule) OnTimeoutPacket(ctx sdk.Context, packet channeltypes.Packet, _ sdk.AccAddress) error {
	return m.keeper.OnTimeout(ctx, packet)
}
