package app

import (
	"encoding/json"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	paramskeeper "github.com/cosmos/cosmos-sdk/x/params/keeper"
	capabilitykeeper "github.com/cosmos/ibc-go/modules/capability/keeper"
	ica "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts"
	icacontroller "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/controller"
	icacontrollerkeeper "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/controller/keeper"
	icacontrollertypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/controller/types"
	genesistypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/genesis/types"
	icahost "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host"
	icahostkeeper "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/keeper"
	icahosttypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/types"
	icatypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/types"
	porttypes "github.com/cosmos/ibc-go/v8/modules/core/05-port/types"

	storetypes "cosmossdk.io/store/types"
)

// Interchain accounts (ICS-27), controller and host, wired as ibc-go v8's simapp does with no
// authentication module on the controller: accounts are registered and driven with the controller's
// own messages (MsgRegisterInterchainAccount, MsgSendTx). ICA channels are ORDERED in ibc-go v8 (a
// timeout closes the channel; a new one is opened by registering again), which makes ICA the stock
// ordered application a relayer serves. The host executes for an account only the messages of
// icaHostAllowMessages (the module's default, "*", would let a remote chain's account send
// MsgChannelCloseInit on port did through the host, which the ante handler's close guard never
// sees: the host runs messages through the router, not through a tx).
// Everything ICA adds to the app is here; app.go calls these at the points the wiring needs.

// icaKeepers are the app's interchain accounts keepers.
type icaKeepers struct {
	ICAControllerKeeper       icacontrollerkeeper.Keeper
	ICAHostKeeper             icahostkeeper.Keeper
	ScopedICAControllerKeeper capabilitykeeper.ScopedKeeper
	ScopedICAHostKeeper       capabilitykeeper.ScopedKeeper
}

// icaStoreKeys are the store keys ICA needs.
var icaStoreKeys = []string{icacontrollertypes.StoreKey, icahosttypes.StoreKey}

// icaModuleName is ICA's module (its account, its genesis).
const icaModuleName = icatypes.ModuleName

// icaSubspaces registers ICA's legacy parameter subspaces (read only by its migrations).
func icaSubspaces(k paramskeeper.Keeper) {
	k.Subspace(icacontrollertypes.SubModuleName).WithKeyTable(icacontrollertypes.ParamKeyTable())
	k.Subspace(icahosttypes.SubModuleName).WithKeyTable(icahosttypes.ParamKeyTable())
}

// scopeICA scopes ICA's capability keepers (before the capability keeper is sealed).
func (app *App) scopeICA() {
	app.ScopedICAControllerKeeper = app.CapabilityKeeper.ScopeToModule(icacontrollertypes.SubModuleName)
	app.ScopedICAHostKeeper = app.CapabilityKeeper.ScopeToModule(icahosttypes.SubModuleName)
}

// wireICA builds ICA's keepers, routes its ports on router and returns its app module.
func (app *App) wireICA(cdc codec.Codec, keys map[string]*storetypes.KVStoreKey, router *porttypes.Router) module.AppModule {
	app.ICAControllerKeeper = icacontrollerkeeper.NewKeeper(cdc, keys[icacontrollertypes.StoreKey], app.subspace(icacontrollertypes.SubModuleName),
		app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ChannelKeeper, app.IBCKeeper.PortKeeper, app.ScopedICAControllerKeeper,
		app.MsgServiceRouter(), authority)
	app.ICAHostKeeper = icahostkeeper.NewKeeper(cdc, keys[icahosttypes.StoreKey], app.subspace(icahosttypes.SubModuleName),
		app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ChannelKeeper, app.IBCKeeper.PortKeeper, app.AccountKeeper, app.ScopedICAHostKeeper,
		app.MsgServiceRouter(), authority)
	app.ICAHostKeeper.WithQueryRouter(app.GRPCQueryRouter())
	router.AddRoute(icacontrollertypes.SubModuleName, icacontroller.NewIBCMiddleware(nil, app.ICAControllerKeeper))
	router.AddRoute(icahosttypes.SubModuleName, icahost.NewIBCModule(app.ICAHostKeeper))
	return cityICA{ica.NewAppModule(&app.ICAControllerKeeper, &app.ICAHostKeeper)}
}

// icaHostAllowMessages are the messages an interchain account may run on a city chain: sends.
var icaHostAllowMessages = []string{sdk.MsgTypeURL(&banktypes.MsgSend{}), sdk.MsgTypeURL(&banktypes.MsgMultiSend{})}

// icaDefaultGenesis is ICA's genesis with the host allowing icaHostAllowMessages only.
func icaDefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	g := genesistypes.DefaultGenesis()
	g.HostGenesisState.Params = icahosttypes.NewParams(true, icaHostAllowMessages)
	return cdc.MustMarshalJSON(g)
}

// cityICA and cityICABasic are ICA's module with the city chain's default genesis.
type (
	cityICA      struct{ ica.AppModule }
	cityICABasic struct{ ica.AppModuleBasic }
)

func (cityICA) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage { return icaDefaultGenesis(cdc) }
func (cityICABasic) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	return icaDefaultGenesis(cdc)
}

// ICA's codecs and default genesis join the basics (ModuleBasics, MakeEncodingConfig).
func init() { basics[icaModuleName] = cityICABasic{} }
