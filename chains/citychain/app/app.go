// Package app wires the reference city chain: a Cosmos SDK v0.50 application with auth, bank,
// staking (the validator set comes from genesis), consensus params, upgrade, IBC core with the
// 07-tendermint light client, ICS-20 transfer (behind the ICS-29 fee middleware, fee.go), the did
// module and x/feegrant (fee allowances).
//
// The wiring is explicit and kept in one file so it can be read in one sitting. There is no
// governance, distribution, slashing or mint module: a city chain is run by a fixed set of
// validators and its parameters change by software upgrade.
package app

import (
	"encoding/json"
	"fmt"
	"io"

	"cosmossdk.io/log"
	storetypes "cosmossdk.io/store/types"
	"cosmossdk.io/x/feegrant"
	feegrantkeeper "cosmossdk.io/x/feegrant/keeper"
	"cosmossdk.io/x/upgrade"
	upgradekeeper "cosmossdk.io/x/upgrade/keeper"
	upgradetypes "cosmossdk.io/x/upgrade/types"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	"github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authcodec "github.com/cosmos/cosmos-sdk/x/auth/codec"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/consensus"
	consensuskeeper "github.com/cosmos/cosmos-sdk/x/consensus/keeper"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	"github.com/cosmos/cosmos-sdk/x/params"
	paramskeeper "github.com/cosmos/cosmos-sdk/x/params/keeper"
	paramstypes "github.com/cosmos/cosmos-sdk/x/params/types"
	"github.com/cosmos/cosmos-sdk/x/staking"
	stakingkeeper "github.com/cosmos/cosmos-sdk/x/staking/keeper"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	"github.com/cosmos/ibc-go/modules/capability"
	capabilitykeeper "github.com/cosmos/ibc-go/modules/capability/keeper"
	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	ibcfeekeeper "github.com/cosmos/ibc-go/v8/modules/apps/29-fee/keeper"
	"github.com/cosmos/ibc-go/v8/modules/apps/transfer"
	transferkeeper "github.com/cosmos/ibc-go/v8/modules/apps/transfer/keeper"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	ibc "github.com/cosmos/ibc-go/v8/modules/core"
	ibcclienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibcconnectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	porttypes "github.com/cosmos/ibc-go/v8/modules/core/05-port/types"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibckeeper "github.com/cosmos/ibc-go/v8/modules/core/keeper"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"
	"github.com/spf13/cast"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did"
	didkeeper "github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// Name is the application name reported over ABCI.
const Name = "citychain"

// moduleAccountPermissions lists the module accounts and what they may do with coins.
var moduleAccountPermissions = map[string][]string{
	authtypes.FeeCollectorName:     nil,
	stakingtypes.BondedPoolName:    {authtypes.Burner, authtypes.Staking},
	stakingtypes.NotBondedPoolName: {authtypes.Burner, authtypes.Staking},
	transfertypes.ModuleName:       {authtypes.Minter, authtypes.Burner},
	icaModuleName:                  nil,
	feeModuleName:                  nil,
}

// authority is the address allowed to change module parameters. No module signs for it on a
// city chain, so parameters change only by software upgrade.
var authority = sdk.MustBech32ifyAddressBytes(AccountAddressPrefix, authtypes.NewModuleAddress("gov"))

// App is the city chain application.
type App struct {
	*baseapp.BaseApp

	enc     EncodingConfig
	keys    map[string]*storetypes.KVStoreKey
	tkeys   map[string]*storetypes.TransientStoreKey
	memKeys map[string]*storetypes.MemoryStoreKey

	AccountKeeper    authkeeper.AccountKeeper
	BankKeeper       bankkeeper.BaseKeeper
	StakingKeeper    *stakingkeeper.Keeper
	ConsensusKeeper  consensuskeeper.Keeper
	ParamsKeeper     paramskeeper.Keeper
	UpgradeKeeper    *upgradekeeper.Keeper
	CapabilityKeeper *capabilitykeeper.Keeper
	IBCKeeper        *ibckeeper.Keeper
	TransferKeeper   transferkeeper.Keeper
	DIDKeeper        didkeeper.Keeper
	FeegrantKeeper   feegrantkeeper.Keeper
	IBCFeeKeeper     ibcfeekeeper.Keeper // ICS-29 fee middleware (fee.go)

	ScopedIBCKeeper      capabilitykeeper.ScopedKeeper
	ScopedTransferKeeper capabilitykeeper.ScopedKeeper
	ScopedDIDKeeper      capabilitykeeper.ScopedKeeper
	icaKeepers           // interchain accounts (ica.go)

	ModuleManager *module.Manager
	BasicManager  module.BasicManager

	chainGenesis ChainGenesis // app_state.citychain of the node's genesis (upgrade.go)
}

var _ servertypes.Application = (*App)(nil)

// OptionWithoutDID, set to true in the app options, builds the app without the did module: a plain
// IBC chain (bank, staking, IBC, ICS-20) that is not a city chain. Tests use it as the ibc-go chain
// that a relayer may serve beside city chains (verify must say it is not a city chain).
const OptionWithoutDID = "citychain.without-did"

// New builds the application over db. appOpts carries the node's home and upgrade flags; baseAppOptions
// set pruning, minimum gas prices, the chain id and the like (see server.DefaultBaseappOptions).
func New(logger log.Logger, db dbm.DB, traceStore io.Writer, loadLatest bool, appOpts servertypes.AppOptions,
	baseAppOptions ...func(*baseapp.BaseApp),
) *App {
	enc := MakeEncodingConfig()
	if chainID := cast.ToString(appOpts.Get(flags.FlagChainID)); chainID != "" {
		baseAppOptions = append(baseAppOptions, baseapp.SetChainID(chainID))
	}

	withDID := !cast.ToBool(appOpts.Get(OptionWithoutDID))
	bApp := baseapp.NewBaseApp(Name, logger, db, enc.TxConfig.TxDecoder(), baseAppOptions...)
	bApp.SetCommitMultiStoreTracer(traceStore)
	bApp.SetInterfaceRegistry(enc.InterfaceRegistry)
	bApp.SetTxEncoder(enc.TxConfig.TxEncoder())

	storeNames := []string{authtypes.StoreKey, banktypes.StoreKey, stakingtypes.StoreKey, consensustypes.StoreKey,
		paramstypes.StoreKey, upgradetypes.StoreKey, capabilitytypes.StoreKey, ibcexported.StoreKey,
		transfertypes.StoreKey}
	storeNames = append(storeNames, icaStoreKeys...)
	if withDID {
		storeNames = append(storeNames, didtypes.StoreKey)
	}
	storeNames = append(storeNames, feegrant.StoreKey, feeStoreKey)
	keys := storetypes.NewKVStoreKeys(storeNames...)
	tkeys := storetypes.NewTransientStoreKeys(paramstypes.TStoreKey)
	memKeys := storetypes.NewMemoryStoreKeys(capabilitytypes.MemStoreKey)

	app := &App{BaseApp: bApp, enc: enc, keys: keys, tkeys: tkeys, memKeys: memKeys}
	cdc := enc.Codec

	app.ParamsKeeper = newParamsKeeper(cdc, enc.Amino, keys[paramstypes.StoreKey], tkeys[paramstypes.TStoreKey])

	app.ConsensusKeeper = consensuskeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[consensustypes.StoreKey]),
		authority, runtime.EventService{})
	bApp.SetParamStore(app.ConsensusKeeper.ParamsStore)

	// Capabilities: every module that owns IBC ports or channels gets a scoped keeper, then the
	// keeper is sealed so no module can be scoped later.
	app.CapabilityKeeper = capabilitykeeper.NewKeeper(cdc, keys[capabilitytypes.StoreKey], memKeys[capabilitytypes.MemStoreKey])
	app.ScopedIBCKeeper = app.CapabilityKeeper.ScopeToModule(ibcexported.ModuleName)
	app.ScopedTransferKeeper = app.CapabilityKeeper.ScopeToModule(transfertypes.ModuleName)
	if withDID {
		app.ScopedDIDKeeper = app.CapabilityKeeper.ScopeToModule(didtypes.ModuleName)
	}
	app.scopeICA()
	app.CapabilityKeeper.Seal()

	app.AccountKeeper = authkeeper.NewAccountKeeper(cdc, runtime.NewKVStoreService(keys[authtypes.StoreKey]),
		authtypes.ProtoBaseAccount, moduleAccountPermissions, authcodec.NewBech32Codec(AccountAddressPrefix),
		AccountAddressPrefix, authority)
	app.BankKeeper = bankkeeper.NewBaseKeeper(cdc, runtime.NewKVStoreService(keys[banktypes.StoreKey]),
		app.AccountKeeper, blockedAddresses(), authority, logger)
	app.StakingKeeper = stakingkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[stakingtypes.StoreKey]),
		app.AccountKeeper, app.BankKeeper, authority,
		authcodec.NewBech32Codec(ValidatorAddressPrefix), authcodec.NewBech32Codec(ConsensusAddressPrefix))

	skipUpgradeHeights := map[int64]bool{}
	for _, h := range cast.ToIntSlice(appOpts.Get(server.FlagUnsafeSkipUpgrades)) {
		skipUpgradeHeights[int64(h)] = true
	}
	homePath := cast.ToString(appOpts.Get(flags.FlagHome))
	// Upgrades and IBC answer to the genesis upgrade authority when one is set (upgrade.go).
	chainGenesis, upgradeAuth, err := upgradeAuthority(appOpts)
	if err != nil {
		panic(err)
	}
	app.chainGenesis = chainGenesis
	app.UpgradeKeeper = upgradekeeper.NewKeeper(skipUpgradeHeights, runtime.NewKVStoreService(keys[upgradetypes.StoreKey]),
		cdc, homePath, app.BaseApp, upgradeAuth)

	app.IBCKeeper = ibckeeper.NewKeeper(cdc, keys[ibcexported.StoreKey], app.subspace(ibcexported.ModuleName),
		app.StakingKeeper, app.UpgradeKeeper, app.ScopedIBCKeeper, upgradeAuth)
	if err := app.registerUpgradeHandlers(appOpts); err != nil {
		panic(err)
	}

	app.wireFee(cdc, keys) // transfer sends through the fee middleware
	app.TransferKeeper = transferkeeper.NewKeeper(cdc, keys[transfertypes.StoreKey], app.subspace(transfertypes.ModuleName),
		app.IBCFeeKeeper, app.IBCKeeper.ChannelKeeper, app.IBCKeeper.PortKeeper,
		app.AccountKeeper, app.BankKeeper, app.ScopedTransferKeeper, authority)

	// The IBC router sends each port's packets to its application.
	ibcRouter := porttypes.NewRouter()
	ibcRouter.AddRoute(transfertypes.ModuleName, app.feeStack(transfer.NewIBCModule(app.TransferKeeper)))
	if withDID {
		app.DIDKeeper = didkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[didtypes.StoreKey]),
			app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ClientKeeper, app.IBCKeeper.PortKeeper, app.ScopedDIDKeeper)
		ibcRouter.AddRoute(didtypes.ModuleName, did.NewIBCModule(app.DIDKeeper))
	}
	icaModule := app.wireICA(cdc, keys, ibcRouter)
	app.IBCKeeper.SetRouter(ibcRouter)

	modules := []module.AppModule{
		genutil.NewAppModule(app.AccountKeeper, app.StakingKeeper, app, enc.TxConfig),
		auth.NewAppModule(cdc, app.AccountKeeper, nil, app.subspace(authtypes.ModuleName)),
		bank.NewAppModule(cdc, app.BankKeeper, app.AccountKeeper, app.subspace(banktypes.ModuleName)),
		staking.NewAppModule(cdc, app.StakingKeeper, app.AccountKeeper, app.BankKeeper, app.subspace(stakingtypes.ModuleName)),
		consensus.NewAppModule(cdc, app.ConsensusKeeper),
		params.NewAppModule(app.ParamsKeeper),
		upgrade.NewAppModule(app.UpgradeKeeper, app.AccountKeeper.AddressCodec()),
		capability.NewAppModule(cdc, *app.CapabilityKeeper, false),
		ibc.NewAppModule(app.IBCKeeper),
		ibctm.NewAppModule(),
		transfer.NewAppModule(app.TransferKeeper),
		icaModule,
	}
	if withDID {
		modules = append(modules, did.NewAppModule(cdc, app.DIDKeeper))
	}
	modules = append(modules, app.wireFeegrant(), app.feeModule())
	app.ModuleManager = module.NewManager(modules...)
	app.BasicManager = module.NewBasicManagerFromManager(app.ModuleManager, map[string]module.AppModuleBasic{
		genutiltypes.ModuleName: genutil.NewAppModuleBasic(genutiltypes.DefaultMessageValidator),
	})

	// Upgrades run before anything else in a block; capabilities must be loaded before IBC uses them.
	app.ModuleManager.SetOrderPreBlockers(upgradetypes.ModuleName)
	app.ModuleManager.SetOrderBeginBlockers(present(app.ModuleManager, capabilitytypes.ModuleName, stakingtypes.ModuleName,
		ibcexported.ModuleName, transfertypes.ModuleName, didtypes.ModuleName, genutiltypes.ModuleName)...)
	app.ModuleManager.SetOrderEndBlockers(present(app.ModuleManager, stakingtypes.ModuleName, ibcexported.ModuleName,
		transfertypes.ModuleName, capabilitytypes.ModuleName, didtypes.ModuleName, genutiltypes.ModuleName, feegrant.ModuleName)...)
	// Capability first so modules can claim capabilities in InitGenesis; genutil after staking so the
	// pools hold the genesis bonds.
	genesisOrder := present(app.ModuleManager,
		capabilitytypes.ModuleName, authtypes.ModuleName, banktypes.ModuleName, stakingtypes.ModuleName,
		ibcexported.ModuleName, genutiltypes.ModuleName, transfertypes.ModuleName, icaModuleName, didtypes.ModuleName,
		paramstypes.ModuleName, upgradetypes.ModuleName, consensustypes.ModuleName,
		feegrant.ModuleName, feeModuleName,
	)
	app.ModuleManager.SetOrderInitGenesis(genesisOrder...)
	app.ModuleManager.SetOrderExportGenesis(genesisOrder...)

	configurator := module.NewConfigurator(cdc, app.MsgServiceRouter(), app.GRPCQueryRouter())
	if err := app.ModuleManager.RegisterServices(configurator); err != nil {
		panic(fmt.Errorf("register module services: %w", err))
	}

	app.MountKVStores(keys)
	app.MountTransientStores(tkeys)
	app.MountMemoryStores(memKeys)

	app.SetInitChainer(app.InitChainer)
	app.SetPreBlocker(app.PreBlocker)
	app.SetBeginBlocker(app.BeginBlocker)
	app.SetEndBlocker(app.EndBlocker)
	ante := newAnteHandler(app.AccountKeeper, app.BankKeeper, app.FeegrantKeeper, app.IBCKeeper, enc.TxConfig)
	if withDID {
		// Without the did module there is no did port to guard (and no DIDKeeper to ask).
		ante = withCloseGuard(ante, app.DIDKeeper)
	}
	app.SetAnteHandler(ante)

	if loadLatest {
		if err := app.LoadLatestVersion(); err != nil {
			panic(fmt.Errorf("load latest version: %w", err))
		}
	}
	return app
}

// present is names less those of modules m does not hold (the did module, without it).
func present(m *module.Manager, names ...string) []string {
	out := names[:0:0]
	for _, n := range names {
		if _, ok := m.Modules[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// PreBlocker runs the modules' pre-blockers (the upgrade module).
func (app *App) PreBlocker(ctx sdk.Context, _ *abci.RequestFinalizeBlock) (*sdk.ResponsePreBlock, error) {
	return app.ModuleManager.PreBlock(ctx)
}

// BeginBlocker runs the modules' begin-blockers.
func (app *App) BeginBlocker(ctx sdk.Context) (sdk.BeginBlock, error) {
	return app.ModuleManager.BeginBlock(ctx)
}

// EndBlocker runs the modules' end-blockers (staking returns validator updates here).
func (app *App) EndBlocker(ctx sdk.Context) (sdk.EndBlock, error) {
	return app.ModuleManager.EndBlock(ctx)
}

// InitChainer initialises every module from the genesis app state.
func (app *App) InitChainer(ctx sdk.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var state map[string]json.RawMessage
	if err := json.Unmarshal(req.AppStateBytes, &state); err != nil {
		return nil, fmt.Errorf("decode genesis app state: %w", err)
	}
	if err := app.checkGenesisAuthority(req.AppStateBytes); err != nil {
		return nil, err
	}
	if err := app.UpgradeKeeper.SetModuleVersionMap(ctx, app.ModuleManager.GetVersionMap()); err != nil {
		return nil, fmt.Errorf("set module versions: %w", err)
	}
	return app.ModuleManager.InitGenesis(ctx, app.enc.Codec, state)
}

// DefaultGenesis returns every module's default genesis state.
func (app *App) DefaultGenesis() map[string]json.RawMessage {
	return app.BasicManager.DefaultGenesis(app.enc.Codec)
}

// Encoding returns the codecs and tx config of the app.
func (app *App) Encoding() EncodingConfig { return app.enc }

// AppCodec returns the app's protobuf codec.
func (app *App) AppCodec() codec.Codec { return app.enc.Codec }

// TxConfig returns the app's tx config.
func (app *App) TxConfig() client.TxConfig { return app.enc.TxConfig }

// LoadHeight loads the state at a height (used by export).
func (app *App) LoadHeight(height int64) error { return app.LoadVersion(height) }

// RegisterAPIRoutes registers the REST gateway routes (the node serves gRPC; the REST API is off by default).
func (app *App) RegisterAPIRoutes(apiSvr *api.Server, _ config.APIConfig) {
	clientCtx := apiSvr.ClientCtx
	authtx.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	nodeservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	app.BasicManager.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
}

// RegisterTxService exposes tx simulation and broadcast over gRPC and abci_query.
func (app *App) RegisterTxService(clientCtx client.Context) {
	authtx.RegisterTxService(app.GRPCQueryRouter(), clientCtx, app.Simulate, app.enc.InterfaceRegistry)
}

// RegisterTendermintService exposes CometBFT information over gRPC.
func (app *App) RegisterTendermintService(clientCtx client.Context) {
	registerCometService(app, clientCtx)
}

// RegisterNodeService exposes the node's configuration over gRPC.
func (app *App) RegisterNodeService(clientCtx client.Context, cfg config.Config) {
	nodeservice.RegisterNodeService(clientCtx, app.GRPCQueryRouter(), cfg)
}

// ExportAppStateAndValidators exports every module's state (or those of modulesToExport) at the last
// committed height, with the bonded validators. A zero-height export (which would rewrite staking and
// distribution history for a chain restarting at height 1) is not supported: a city chain restarted
// from an export keeps its heights, which its DIDs' key and attestation heights refer to.
func (app *App) ExportAppStateAndValidators(forZeroHeight bool, _ []string, modulesToExport []string) (servertypes.ExportedApp, error) {
	if forZeroHeight {
		return servertypes.ExportedApp{}, fmt.Errorf("citychain export: --for-zero-height is not supported: key and attestation heights of the did module refer to this chain's heights")
	}
	ctx := app.NewContextLegacy(true, cmtproto.Header{Height: app.LastBlockHeight()})
	genState, err := app.ModuleManager.ExportGenesisForModules(ctx, app.enc.Codec, modulesToExport)
	if err != nil {
		return servertypes.ExportedApp{}, fmt.Errorf("citychain export: %w", err)
	}
	if app.chainGenesis.UpgradeAuthority != "" {
		if genState[GenesisKey], err = json.Marshal(app.chainGenesis); err != nil {
			return servertypes.ExportedApp{}, fmt.Errorf("citychain export: %w", err)
		}
	}
	appState, err := json.MarshalIndent(genState, "", "  ")
	if err != nil {
		return servertypes.ExportedApp{}, fmt.Errorf("citychain export: encode app state: %w", err)
	}
	validators, err := staking.WriteValidators(ctx, app.StakingKeeper)
	if err != nil {
		return servertypes.ExportedApp{}, fmt.Errorf("citychain export: validators: %w", err)
	}
	return servertypes.ExportedApp{AppState: appState, Validators: validators, Height: app.LastBlockHeight() + 1,
		ConsensusParams: app.BaseApp.GetConsensusParams(ctx)}, nil
}

// DIDStoreKey is the did module's store key (nil when the app was built without the module).
func (app *App) DIDStoreKey() *storetypes.KVStoreKey { return app.keys[didtypes.StoreKey] }

func (app *App) subspace(module string) paramstypes.Subspace {
	s, _ := app.ParamsKeeper.GetSubspace(module)
	return s
}

func newParamsKeeper(cdc codec.BinaryCodec, amino *codec.LegacyAmino, key, tkey storetypes.StoreKey) paramskeeper.Keeper {
	k := paramskeeper.NewKeeper(cdc, amino, key, tkey)
	k.Subspace(authtypes.ModuleName)
	k.Subspace(banktypes.ModuleName)
	k.Subspace(stakingtypes.ModuleName)
	ibcTable := ibcclienttypes.ParamKeyTable()
	ibcTable.RegisterParamSet(&ibcconnectiontypes.Params{})
	k.Subspace(ibcexported.ModuleName).WithKeyTable(ibcTable)
	k.Subspace(transfertypes.ModuleName).WithKeyTable(transfertypes.ParamKeyTable())
	icaSubspaces(k)
	return k
}

// blockedAddresses are the module accounts that may not receive coins by transfer.
func blockedAddresses() map[string]bool {
	blocked := make(map[string]bool, len(moduleAccountPermissions))
	for name := range moduleAccountPermissions {
		blocked[sdk.MustBech32ifyAddressBytes(AccountAddressPrefix, authtypes.NewModuleAddress(name))] = true
	}
	return blocked
}
