package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	upgradetypes "cosmossdk.io/x/upgrade/types"
	"github.com/cosmos/cosmos-sdk/client/flags"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"
	"github.com/spf13/cast"
)

// Software upgrades on a city chain.
//
// A city chain has no governance module, so by default nobody can schedule an upgrade (the authority
// of x/upgrade and of IBC is the unsigned gov module address, as for every other parameter). A city
// that wants upgrades names an upgrade authority account in genesis, app_state.citychain:
//
//	"citychain": {"upgrade_authority": "city1..."}
//
// That account (a multisig of the city's operators, say) is then the authority of x/upgrade
// (MsgSoftwareUpgrade, MsgCancelUpgrade) and of the IBC keeper (MsgIBCSoftwareUpgrade: a plan with the
// upgraded client state the chain's counterparties' clients move to; MsgRecoverClient; IBC params).
// Every node reads it from its genesis file when it starts, and InitChain refuses a genesis whose
// value differs from the one the node was built with, so all validators agree on it.
//
// An upgrade's handler is enabled only when the node is started with --upgrade-handler NAME: a binary
// that has the handler of a plan before the plan's height halts with "BINARY UPDATED BEFORE TRIGGER"
// (x/upgrade's PreBlocker), so the same binary runs before the upgrade without the flag, halts at the
// plan's height ("UPGRADE NAME NEEDED"), and is restarted with the flag.

// GenesisKey is the app_state key of the chain-level settings (the upgrade authority).
const GenesisKey = "citychain"

// OptionUpgradeHandler is the app option (the `citychaind start --upgrade-handler` flag) naming the
// upgrade plans whose handlers the node runs.
const OptionUpgradeHandler = "upgrade-handler"

// TestUpgradePlan is the upgrade the reference chain knows: it changes nothing but the staking
// unbonding period, which it sets to the unbonding period of the upgraded client state scheduled with
// the plan (MsgIBCSoftwareUpgrade), so the chain's clients and its validators' bonds agree.
const TestUpgradePlan = "citychain-unbonding-v2"

// upgradeHandlers are the upgrades this binary can run, by plan name.
var upgradeHandlers = map[string]func(app *App) upgradetypes.UpgradeHandler{
	TestUpgradePlan: func(app *App) upgradetypes.UpgradeHandler {
		return func(ctx context.Context, plan upgradetypes.Plan, vm module.VersionMap) (module.VersionMap, error) {
			bz, err := app.UpgradeKeeper.GetUpgradedClient(ctx, plan.Height)
			if err != nil {
				return nil, fmt.Errorf("upgrade %s: no upgraded client state scheduled with the plan: %w", plan.Name, err)
			}
			cs, err := clienttypes.UnmarshalClientState(app.enc.Codec, bz)
			if err != nil {
				return nil, fmt.Errorf("upgrade %s: upgraded client state: %w", plan.Name, err)
			}
			tm, ok := cs.(*ibctm.ClientState)
			if !ok || tm.UnbondingPeriod <= 0 {
				return nil, fmt.Errorf("upgrade %s: upgraded client state is not a 07-tendermint state with an unbonding period", plan.Name)
			}
			params, err := app.StakingKeeper.GetParams(ctx)
			if err != nil {
				return nil, fmt.Errorf("upgrade %s: staking params: %w", plan.Name, err)
			}
			params.UnbondingTime = tm.UnbondingPeriod
			if err := app.StakingKeeper.SetParams(ctx, params); err != nil {
				return nil, fmt.Errorf("upgrade %s: set unbonding time: %w", plan.Name, err)
			}
			return vm, nil
		}
	},
}

// ChainGenesis is app_state.citychain.
type ChainGenesis struct {
	// UpgradeAuthority may schedule software upgrades (empty: nobody, the default).
	UpgradeAuthority string `json:"upgrade_authority,omitempty"`
}

// Validate checks the upgrade authority is an account address of the chain.
func (g ChainGenesis) Validate() error {
	if g.UpgradeAuthority == "" {
		return nil
	}
	if _, err := sdk.GetFromBech32(g.UpgradeAuthority, AccountAddressPrefix); err != nil {
		return fmt.Errorf("citychain genesis: upgrade_authority %q: %w", g.UpgradeAuthority, err)
	}
	return nil
}

// chainGenesisOf reads app_state.citychain from a genesis app state (absent: the zero value).
func chainGenesisOf(appState json.RawMessage) (ChainGenesis, error) {
	var state map[string]json.RawMessage
	if err := json.Unmarshal(appState, &state); err != nil {
		return ChainGenesis{}, fmt.Errorf("citychain genesis: decode app state: %w", err)
	}
	var g ChainGenesis
	if raw, ok := state[GenesisKey]; ok {
		if err := json.Unmarshal(raw, &g); err != nil {
			return ChainGenesis{}, fmt.Errorf("citychain genesis: %s: %w", GenesisKey, err)
		}
	}
	return g, g.Validate()
}

// upgradeAuthority is the authority of x/upgrade and IBC: the genesis upgrade authority of the node's
// home (<home>/config/genesis.json), else the default authority (nobody signs for it).
func upgradeAuthority(appOpts servertypes.AppOptions) (ChainGenesis, string, error) {
	home := cast.ToString(appOpts.Get(flags.FlagHome))
	if home == "" {
		return ChainGenesis{}, authority, nil
	}
	f, err := os.Open(filepath.Join(home, "config", "genesis.json"))
	if errors.Is(err, os.ErrNotExist) {
		return ChainGenesis{}, authority, nil
	}
	if err != nil {
		return ChainGenesis{}, "", fmt.Errorf("citychain: read genesis for the upgrade authority: %w", err)
	}
	defer f.Close()
	var doc struct {
		AppState json.RawMessage `json:"app_state"`
	}
	if err := json.NewDecoder(f).Decode(&doc); err != nil {
		return ChainGenesis{}, "", fmt.Errorf("citychain: decode genesis for the upgrade authority: %w", err)
	}
	if len(doc.AppState) == 0 {
		return ChainGenesis{}, authority, nil
	}
	g, err := chainGenesisOf(doc.AppState)
	if err != nil {
		return ChainGenesis{}, "", err
	}
	if g.UpgradeAuthority == "" {
		return g, authority, nil
	}
	return g, g.UpgradeAuthority, nil
}

// registerUpgradeHandlers enables the handlers of the plans named by --upgrade-handler (comma-separated
// or repeated). An unknown name is an error: a node restarted for an upgrade it cannot run must not
// start.
func (app *App) registerUpgradeHandlers(appOpts servertypes.AppOptions) error {
	var names []string
	switch v := appOpts.Get(OptionUpgradeHandler).(type) {
	case nil:
	case []string:
		names = v
	default:
		names = strings.Split(cast.ToString(v), ",")
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		h, ok := upgradeHandlers[n]
		if !ok {
			return fmt.Errorf("citychain: --%s %q: this binary has no such upgrade (known: %s)", OptionUpgradeHandler, n, TestUpgradePlan)
		}
		app.UpgradeKeeper.SetUpgradeHandler(n, h(app))
	}
	return nil
}

// checkGenesisAuthority refuses a genesis whose upgrade authority is not the one the node was built
// with (read from its genesis file): every validator must agree on who may schedule upgrades.
func (app *App) checkGenesisAuthority(appState []byte) error {
	g, err := chainGenesisOf(appState)
	if err != nil {
		return err
	}
	if g.UpgradeAuthority != app.chainGenesis.UpgradeAuthority {
		return fmt.Errorf("citychain genesis: upgrade_authority %q differs from the node's genesis file (%q)",
			g.UpgradeAuthority, app.chainGenesis.UpgradeAuthority)
	}
	return nil
}

// UpgradeAuthority is the account allowed to schedule upgrades ("" when none is set in genesis).
func (app *App) UpgradeAuthority() string { return app.chainGenesis.UpgradeAuthority }
