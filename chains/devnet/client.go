package devnet

import (
	"context"
	"fmt"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
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
	// Tune, if set, changes the client's config last (a fee granter, a memo, gas pricing).
	Tune func(*cosmos.Config)
}

// Client returns a chain client signing with one of the devnet's keys (RelayerKey, Relayer2Key,
// AdminKey), knowing the did module's messages.
func (c *Chain) Client(key string, o ClientOptions) (*cosmos.Client, error) {
	enc, err := cosmos.NewEncoding(citychain.AccountAddressPrefix, didtypes.RegisterInterfaces, qbftclient.RegisterInterfaces)
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
	cfg := cosmos.Config{ChainID: c.ChainID, RPCAddrs: []string{rpc}, GRPCAddr: grpc, AccountPrefix: citychain.AccountAddressPrefix,
		GasPrice: price, MaxGas: o.MaxGas, Keyring: kr, KeyName: key, Codec: enc.Codec, TxConfig: enc.TxConfig}
	if o.Tune != nil {
		o.Tune(&cfg)
	}
	return cosmos.New(cfg)
}

// RegisterCity makes clientID the client of the city chain city in this chain's city registry,
// signed by the devnet's registry admin, and returns the tx height. On a real chain the registry admin
// (governance) does this after checking the client's trust root out of band.
func (c *Chain) RegisterCity(ctx context.Context, city, clientID string) (int64, error) {
	return c.adminSend(ctx, &didtypes.MsgRegisterCity{Admin: c.Admin.Address, ChainId: city, ClientId: clientID})
}

// RemoveCity removes the city chain city from this chain's city registry (registry admin).
func (c *Chain) RemoveCity(ctx context.Context, city string) (int64, error) {
	return c.adminSend(ctx, &didtypes.MsgRemoveCity{Admin: c.Admin.Address, ChainId: city})
}

func (c *Chain) adminSend(ctx context.Context, msg sdk.Msg) (int64, error) {
	cl, err := c.Client(AdminKey, ClientOptions{})
	if err != nil {
		return 0, err
	}
	res, err := cl.Send(ctx, msg)
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", c.ChainID, sdk.MsgTypeURL(msg), err)
	}
	return res.Height, nil
}

// RegisterCity registers, on the devnet chain chainID, clientID as the client of city: the
// relayer.Linker's Register hook for a devnet, whose admin keys the caller holds.
func (d *Devnet) RegisterCity(ctx context.Context, chainID, city, clientID string) (int64, error) {
	c := d.Chain(chainID)
	if c == nil {
		return 0, fmt.Errorf("devnet has no chain %s", chainID)
	}
	return c.RegisterCity(ctx, city, clientID)
}
