package app

import (
	"cosmossdk.io/x/feegrant"
	feegrantkeeper "cosmossdk.io/x/feegrant/keeper"
	feegrantmodule "cosmossdk.io/x/feegrant/module"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/types/module"
)

// x/feegrant lets an account pay other accounts' fees within an allowance it grants them (a relayer
// operator's key with no balance, paid for by the city's treasury): a tx names the granter in its
// Fee.Granter and the ante handler takes the fee from the granter's allowance.

// wireFeegrant builds the feegrant keeper (its store key is in app.keys) and returns its module.
func (app *App) wireFeegrant() module.AppModule {
	app.FeegrantKeeper = feegrantkeeper.NewKeeper(app.enc.Codec, runtime.NewKVStoreService(app.keys[feegrant.StoreKey]), app.AccountKeeper)
	return feegrantmodule.NewAppModule(app.enc.Codec, app.AccountKeeper, app.BankKeeper, app.FeegrantKeeper, app.enc.InterfaceRegistry)
}
