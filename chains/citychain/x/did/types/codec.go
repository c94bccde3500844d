package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterInterfaces registers the module's messages as sdk.Msg implementations and its Msg service.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgCreateDID{}, &MsgAddKey{}, &MsgRevokeKey{}, &MsgDeactivateDID{},
		&MsgIssueAttestation{}, &MsgSetAttestationStatus{}, &MsgSetTrustedIssuer{},
		&MsgSendAttestation{}, &MsgSendRevocation{}, &MsgSendServiceMessage{},
		&MsgRegisterCity{}, &MsgRemoveCity{}, &MsgSubmitEvmAttestation{},
		&MsgControllerRevokeAttestation{}, &MsgRevokeLeakedKey{}, &MsgRegisterHub{}, &MsgRemoveHub{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

// RegisterLegacyAminoCodec registers nothing: the module's messages are signed in direct mode only.
func RegisterLegacyAminoCodec(*codec.LegacyAmino) {}
