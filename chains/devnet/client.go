package devnet

import (
	"fmt"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
)

// ClientOptions tune Chain.Client.
type ClientOptions struct {
	// RPC replaces the chain's RPC address (for example a proxy in a test).
	RPC string
	// NoGRPC sends every query through the RPC instead of the chain's gRPC endpoint.
	NoGRPC bool
	// MaxGas caps a tx's gas (default cosmos.DefaultMaxGas).
	MaxGas uint64
}

// Client returns a chain client signing with one of the devnet's keys (RelayerKey, Relayer2Key,
// AdminKey), knowing the did module's messages.
func (c *Chain) Client(key string, o ClientOptions) (*cosmos.Client, error) {
	enc, err := cosmos.NewEncoding(citychain.AccountAddressPrefix, didtypes.RegisterInterfaces)
	if err != nil {
		return nil, err
	}
	kr, err := keyring.New("citychain", keyring.BackendTest, c.KeyringDir(), nil, enc.Codec)
	if err != nil {
		return nil, fmt.Errorf("%s keyring: %w", c.ChainID, err)
	}
	price, err := sdk.ParseDecCoin(MinGasPrice)
	if err != nil {
		return nil, err
	}
	rpc, grpc := c.RPCAddr, c.GRPCAddr
	if o.RPC != "" {
		rpc = o.RPC
	}
	if o.NoGRPC {
		grpc = ""
	}
	return cosmos.New(cosmos.Config{ChainID: c.ChainID, RPCAddrs: []string{rpc}, GRPCAddr: grpc, AccountPrefix: citychain.AccountAddressPrefix,
		GasPrice: price, MaxGas: o.MaxGas, Keyring: kr, KeyName: key, Codec: enc.Codec, TxConfig: enc.TxConfig})
}
