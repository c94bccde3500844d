package app

import (
	"sync"

	"cosmossdk.io/x/tx/signing"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/std"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/client"
)

// Address prefixes and denominations of every city chain.
const (
	AccountAddressPrefix   = "city"
	ValidatorAddressPrefix = "cityvaloper"
	ConsensusAddressPrefix = "cityvalcons"
	// BondDenom is the staking and fee denomination.
	BondDenom = "ucity"
)

var prefixOnce sync.Once

// SetAddressPrefixes sets the SDK's process-wide bech32 prefixes to the city chain's. The SDK keeps
// them in a global, so every city chain in one process shares them; it is safe to call many times.
func SetAddressPrefixes() {
	prefixOnce.Do(func() {
		cfg := sdk.GetConfig()
		cfg.SetBech32PrefixForAccount(AccountAddressPrefix, AccountAddressPrefix+"pub")
		cfg.SetBech32PrefixForValidator(ValidatorAddressPrefix, ValidatorAddressPrefix+"pub")
		cfg.SetBech32PrefixForConsensusNode(ConsensusAddressPrefix, ConsensusAddressPrefix+"pub")
	})
}

// EncodingConfig holds the codecs of the app and of its clients.
type EncodingConfig struct {
	InterfaceRegistry types.InterfaceRegistry
	Codec             codec.Codec
	TxConfig          client.TxConfig
	Amino             *codec.LegacyAmino
}

// MakeEncodingConfig builds the codecs with every module's types registered. Clients (the relayer,
// tests) use it to build and decode city chain transactions.
func MakeEncodingConfig() EncodingConfig {
	SetAddressPrefixes()
	registry, err := types.NewInterfaceRegistryWithOptions(types.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          address.Bech32Codec{Bech32Prefix: AccountAddressPrefix},
			ValidatorAddressCodec: address.Bech32Codec{Bech32Prefix: ValidatorAddressPrefix},
		},
	})
	if err != nil {
		panic(err) // only on a programming error in the options above
	}
	cdc := codec.NewProtoCodec(registry)
	amino := codec.NewLegacyAmino()
	std.RegisterLegacyAminoCodec(amino)
	std.RegisterInterfaces(registry)
	basics.RegisterLegacyAminoCodec(amino)
	basics.RegisterInterfaces(registry)
	return EncodingConfig{
		InterfaceRegistry: registry,
		Codec:             cdc,
		TxConfig:          authtx.NewTxConfig(cdc, authtx.DefaultSignModes),
		Amino:             amino,
	}
}
