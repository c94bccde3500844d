package app

import (
	feegrantmodule "cosmossdk.io/x/feegrant/module"
	"cosmossdk.io/x/upgrade"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/x/auth"
	"github.com/cosmos/cosmos-sdk/x/bank"
	"github.com/cosmos/cosmos-sdk/x/consensus"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	"github.com/cosmos/cosmos-sdk/x/params"
	"github.com/cosmos/cosmos-sdk/x/staking"
	"github.com/cosmos/ibc-go/modules/capability"
	"github.com/cosmos/ibc-go/v8/modules/apps/transfer"
	ibc "github.com/cosmos/ibc-go/v8/modules/core"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did"
)

// basics lists the modules' keeper-free halves: codecs, default genesis, CLI commands. Clients
// use it through MakeEncodingConfig and ModuleBasics without building an App.
var basics = module.NewBasicManager(
	auth.AppModuleBasic{},
	genutil.NewAppModuleBasic(genutiltypes.DefaultMessageValidator),
	bank.AppModuleBasic{},
	staking.AppModuleBasic{},
	consensus.AppModuleBasic{},
	params.AppModuleBasic{},
	upgrade.AppModuleBasic{},
	capability.AppModuleBasic{},
	ibc.AppModuleBasic{},
	ibctm.AppModuleBasic{},
	qbftclient.AppModuleBasic{},
	transfer.AppModuleBasic{},
	did.AppModuleBasic{},
	feegrantmodule.AppModuleBasic{},
)

// ModuleBasics returns the modules' basic managers (for CLI commands and default genesis).
func ModuleBasics() module.BasicManager { return basics }
