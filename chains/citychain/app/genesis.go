package app

import (
	"encoding/json"
	"fmt"
	"time"

	sdkmath "cosmossdk.io/math"
	cmtcrypto "github.com/cometbft/cometbft/crypto"
	cmttypes "github.com/cometbft/cometbft/types"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	cryptocodec "github.com/cosmos/cosmos-sdk/crypto/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// Genesis defaults. The unbonding period bounds the trusting period of every light client of the
// chain (a relayer uses two thirds of it).
const (
	DefaultUnbondingTime = 21 * 24 * time.Hour
	// DefaultBlockMaxGas caps a block's gas so a block's capacity (and a relay batch's size) is known.
	DefaultBlockMaxGas = 100_000_000
	// DefaultBlockMaxBytes caps a block's size: 4 MiB is ample for thousands of packets per block.
	DefaultBlockMaxBytes = 4 << 20
	// validatorBond is the genesis validator's self-bond in BondDenom.
	validatorBond = 1_000_000_000_000
)

// GenesisAccount is a funded account in genesis.
type GenesisAccount struct {
	Address sdk.AccAddress
	Coins   sdk.Coins
}

// GenesisOptions describes a single-validator city chain.
type GenesisOptions struct {
	ChainID     string
	GenesisTime time.Time
	// ValidatorKey is the CometBFT consensus key of the only validator.
	ValidatorKey cmtcrypto.PubKey
	// Operator is the validator's operator account; it is funded with the self-bond.
	Operator sdk.AccAddress
	Accounts []GenesisAccount
	// DID is the did module's genesis; nil means the default.
	DID *didtypes.GenesisState
	// UnbondingTime defaults to DefaultUnbondingTime.
	UnbondingTime time.Duration
	// UpgradeAuthority, if set, may schedule software upgrades (app_state.citychain; upgrade.go).
	UpgradeAuthority string
}

// BuildGenesis makes the CometBFT genesis document of a city chain with one bonded validator.
func BuildGenesis(o GenesisOptions) (*cmttypes.GenesisDoc, error) {
	if o.ChainID == "" {
		return nil, fmt.Errorf("genesis: chain id is empty")
	}
	if o.ValidatorKey == nil || o.Operator.Empty() {
		return nil, fmt.Errorf("genesis %s: validator key and operator are required", o.ChainID)
	}
	if o.UnbondingTime == 0 {
		o.UnbondingTime = DefaultUnbondingTime
	}
	if o.GenesisTime.IsZero() {
		o.GenesisTime = time.Now().UTC()
	}
	enc := MakeEncodingConfig()
	cdc := enc.Codec
	state := basics.DefaultGenesis(cdc)

	bond := sdkmath.NewInt(validatorBond)
	accounts := []authtypes.GenesisAccount{authtypes.NewBaseAccount(o.Operator, nil, 0, 0)}
	balances := []banktypes.Balance{}
	seen := map[string]bool{o.Operator.String(): true}
	for _, a := range o.Accounts {
		if !seen[a.Address.String()] {
			accounts = append(accounts, authtypes.NewBaseAccount(a.Address, nil, uint64(len(accounts)), 0))
			seen[a.Address.String()] = true
		}
		balances = append(balances, banktypes.Balance{Address: a.Address.String(), Coins: a.Coins})
	}
	balances = append(balances, banktypes.Balance{
		Address: authtypes.NewModuleAddress(stakingtypes.BondedPoolName).String(),
		Coins:   sdk.NewCoins(sdk.NewCoin(BondDenom, bond)),
	})
	state[authtypes.ModuleName] = cdc.MustMarshalJSON(authtypes.NewGenesisState(authtypes.DefaultParams(), accounts))
	state[banktypes.ModuleName] = cdc.MustMarshalJSON(banktypes.NewGenesisState(banktypes.DefaultParams(),
		banktypes.SanitizeGenesisBalances(balances), nil, nil, nil))

	pk, err := cryptocodec.FromCmtPubKeyInterface(o.ValidatorKey)
	if err != nil {
		return nil, fmt.Errorf("genesis %s: validator key: %w", o.ChainID, err)
	}
	pkAny, err := codectypes.NewAnyWithValue(pk)
	if err != nil {
		return nil, fmt.Errorf("genesis %s: validator key: %w", o.ChainID, err)
	}
	valAddr := sdk.ValAddress(o.Operator)
	validator := stakingtypes.Validator{
		OperatorAddress:   valAddr.String(),
		ConsensusPubkey:   pkAny,
		Status:            stakingtypes.Bonded,
		Tokens:            bond,
		DelegatorShares:   sdkmath.LegacyNewDecFromInt(bond),
		Description:       stakingtypes.Description{Moniker: o.ChainID + "-validator"},
		UnbondingTime:     time.Unix(0, 0).UTC(),
		Commission:        stakingtypes.NewCommission(sdkmath.LegacyZeroDec(), sdkmath.LegacyZeroDec(), sdkmath.LegacyZeroDec()),
		MinSelfDelegation: sdkmath.OneInt(),
	}
	stakingParams := stakingtypes.DefaultParams()
	stakingParams.BondDenom = BondDenom
	stakingParams.UnbondingTime = o.UnbondingTime
	delegation := stakingtypes.NewDelegation(o.Operator.String(), valAddr.String(), sdkmath.LegacyNewDecFromInt(bond))
	state[stakingtypes.ModuleName] = cdc.MustMarshalJSON(stakingtypes.NewGenesisState(stakingParams,
		[]stakingtypes.Validator{validator}, []stakingtypes.Delegation{delegation}))

	did := o.DID
	if did == nil {
		did = didtypes.DefaultGenesis()
	}
	if err := did.Validate(); err != nil {
		return nil, fmt.Errorf("genesis %s: did: %w", o.ChainID, err)
	}
	state[didtypes.ModuleName] = cdc.MustMarshalJSON(did)
	if o.UpgradeAuthority != "" {
		g := ChainGenesis{UpgradeAuthority: o.UpgradeAuthority}
		if err := g.Validate(); err != nil {
			return nil, fmt.Errorf("genesis %s: %w", o.ChainID, err)
		}
		bz, err := json.Marshal(g)
		if err != nil {
			return nil, fmt.Errorf("genesis %s: %w", o.ChainID, err)
		}
		state[GenesisKey] = bz
	}

	appState, err := json.MarshalIndent(state, "", " ")
	if err != nil {
		return nil, fmt.Errorf("genesis %s: encode app state: %w", o.ChainID, err)
	}
	params := cmttypes.DefaultConsensusParams()
	params.Block.MaxGas = DefaultBlockMaxGas
	params.Block.MaxBytes = DefaultBlockMaxBytes
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     o.GenesisTime,
		ChainID:         o.ChainID,
		InitialHeight:   1,
		ConsensusParams: params,
		AppState:        appState,
		Validators: []cmttypes.GenesisValidator{{
			Address: o.ValidatorKey.Address(),
			PubKey:  o.ValidatorKey,
			Power:   sdk.TokensToConsensusPower(bond, sdk.DefaultPowerReduction),
			Name:    o.ChainID + "-validator",
		}},
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("genesis %s: %w", o.ChainID, err)
	}
	return doc, nil
}
