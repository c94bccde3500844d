package did

import (
	"fmt"
	"strings"

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

func checkChannel(order channeltypes.Order, portID string) error {
	if portID != types.PortID {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "port %q, want %q", portID, types.PortID)
	}
	if order != channeltypes.UNORDERED {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "order %s, want %s", order, channeltypes.UNORDERED)
	}
	return nil
}

// OnChanOpenInit checks port, order and version and claims the channel.
func (m IBCModule) OnChanOpenInit(ctx sdk.Context, order channeltypes.Order, _ []string, portID, channelID string,
	chanCap *capabilitytypes.Capability, _ channeltypes.Counterparty, version string,
) (string, error) {
	if err := checkChannel(order, portID); err != nil {
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

// OnChanOpenTry checks port, order and the counterparty's version and claims the channel.
func (m IBCModule) OnChanOpenTry(ctx sdk.Context, order channeltypes.Order, _ []string, portID, channelID string,
	chanCap *capabilitytypes.Capability, _ channeltypes.Counterparty, counterpartyVersion string,
) (string, error) {
	if err := checkChannel(order, portID); err != nil {
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

// OnChanOpenAck checks the counterparty's version.
func (IBCModule) OnChanOpenAck(_ sdk.Context, _, _ string, _ string, counterpartyVersion string) error {
	if counterpartyVersion != types.Version {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "counterparty version %q, want %q", counterpartyVersion, types.Version)
	}
	return nil
}

// OnChanOpenConfirm accepts.
func (IBCModule) OnChanOpenConfirm(sdk.Context, string, string) error { return nil }

// OnChanCloseInit refuses: a did channel is never closed by a user.
func (IBCModule) OnChanCloseInit(sdk.Context, string, string) error {
	return errorsmod.Wrap(types.ErrInvalidChannel, "did channels cannot be closed")
}

// OnChanCloseConfirm accepts a close begun by the counterparty.
func (IBCModule) OnChanCloseConfirm(sdk.Context, string, string) error { return nil }

// OnRecvPacket decodes and applies a did packet. The acknowledgement is deterministic: a typed result,
// or "did: code <n>: <reason>" where the reason is built from the packet and state only.
func (m IBCModule) OnRecvPacket(ctx sdk.Context, packet channeltypes.Packet, _ sdk.AccAddress) ibcexported.Acknowledgement {
	data, err := types.DecodePacketData(packet.GetData())
	kind := "unknown"
	var res types.AckResult
	if err == nil {
		kind = data.Kind()
		res, err = m.keeper.OnRecvPacket(ctx, packet, data)
	}
	if err != nil {
		ctx.EventManager().EmitEvent(sdk.NewEvent("did_packet_received", sdk.NewAttribute("kind", kind),
			sdk.NewAttribute("success", "false"), sdk.NewAttribute("error", err.Error())))
		return errorAck(err)
	}
	ctx.EventManager().EmitEvent(sdk.NewEvent("did_packet_received", sdk.NewAttribute("kind", kind),
		sdk.NewAttribute("ref", res.Ref), sdk.NewAttribute("success", "true")))
	bz, err := proto.Marshal(&res)
	if err != nil {
		return errorAck(err)
	}
	return channeltypes.NewResultAcknowledgement(bz)
}

// errorAck is a deterministic error acknowledgement: the registered code and the error text, which
// the keeper builds only from the packet and state.
func errorAck(err error) channeltypes.Acknowledgement {
	codespace, code, _ := errorsmod.ABCIInfo(err, false)
	reason := strings.ReplaceAll(err.Error(), "\n", " ")
	return channeltypes.Acknowledgement{Response: &channeltypes.Acknowledgement_Error{
		Error: fmt.Sprintf("%s: code %d: %s", codespace, code, reason),
	}}
}

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
