package app

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/types/module"
	ibcfee "github.com/cosmos/ibc-go/v8/modules/apps/29-fee"
	ibcfeekeeper "github.com/cosmos/ibc-go/v8/modules/apps/29-fee/keeper"
	ibcfeetypes "github.com/cosmos/ibc-go/v8/modules/apps/29-fee/types"
	porttypes "github.com/cosmos/ibc-go/v8/modules/core/05-port/types"

	storetypes "cosmossdk.io/store/types"
)

// ICS-29 fee middleware, wired around the ICS-20 transfer stack only (as ibc-go v8's simapp does):
// transfer's packets go transferKeeper.SendPacket -> fee.SendPacket -> channel.SendPacket and
// channel.RecvPacket -> fee.OnRecvPacket -> transfer.OnRecvPacket. A channel is fee-enabled when it
// was opened with the version {"fee_version":"ics29-1","app_version":"ics20-1"}; a channel opened
// with the plain "ics20-1" passes through the middleware untouched. Fees are escrowed in the
// module account "feeibc" (MsgPayPacketFee / MsgPayPacketFeeAsync) and paid out on the
// acknowledgement (recv fee to the counterparty payee the relayer registered on the destination,
// ack fee to the relayer that delivered the ack) or the timeout (timeout fee).

// feeStoreKey is the fee module's store.
const feeStoreKey = ibcfeetypes.StoreKey

// feeModuleName is the fee module's name (its account, its genesis).
const feeModuleName = ibcfeetypes.ModuleName

// wireFee builds the fee keeper over the core channel keeper. It must run before the transfer
// keeper is built: the transfer keeper sends through it (its ICS4Wrapper).
func (app *App) wireFee(cdc codec.Codec, keys map[string]*storetypes.KVStoreKey) {
	app.IBCFeeKeeper = ibcfeekeeper.NewKeeper(cdc, keys[feeStoreKey],
		app.IBCKeeper.ChannelKeeper, // the ICS4 wrapper under the fee middleware: core IBC
		app.IBCKeeper.ChannelKeeper, app.IBCKeeper.PortKeeper, app.AccountKeeper, app.BankKeeper)
}

// feeStack wraps an IBC application (transfer) in the fee middleware.
func (app *App) feeStack(inner porttypes.IBCModule) porttypes.IBCModule {
	return ibcfee.NewIBCMiddleware(inner, app.IBCFeeKeeper)
}

// feeModule is the fee module for the module manager.
func (app *App) feeModule() module.AppModule { return ibcfee.NewAppModule(app.IBCFeeKeeper) }

// The fee module's codecs and default genesis join the basics (ModuleBasics, MakeEncodingConfig).
func init() { basics[feeModuleName] = ibcfee.AppModuleBasic{} }
