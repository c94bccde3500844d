package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/relayer/config"
)

func chainsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "chains", Short: "Add, list, show and delete chains"}
	var c config.Chain
	var trusting time.Duration
	var coinType uint32
	add := &cobra.Command{
		Use: "add CHAIN-ID", Short: "Add a chain to the config", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if _, ok := cfg.Chains[args[0]]; ok {
				return fmt.Errorf("chain %s exists; delete it first to replace it", args[0])
			}
			c.TrustingPeriod = config.Duration{Duration: trusting}
			ch := c
			if cmd.Flags().Changed("coin-type") {
				ch.CoinType = &coinType
			}
			cfg.Chains[args[0]] = &ch
			if err := cfg.Validate(); err != nil {
				return err
			}
			if err := cfg.Save(configPath()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added chain %s (rpc %v); next: cityrelay keys add %s %s\n", args[0], c.RPC, args[0], c.KeyName)
			return nil
		},
	}
	f := add.Flags()
	f.StringSliceVar(&c.RPC, "rpc", nil, "CometBFT RPC address (repeat for fallbacks)")
	f.StringVar(&c.GRPC, "grpc", "", "gRPC address host:port")
	f.StringSliceVar(&c.Witnesses, "witness", nil, "witness RPC address for the light client (repeat)")
	f.StringVar(&c.AccountPrefix, "account-prefix", "city", "bech32 account prefix")
	f.StringVar(&c.KeyName, "key-name", "relayer", "name of the relayer's key in the keyring")
	f.StringVar(&c.KeyringBackend, "keyring-backend", "file", "file, or test on a devnet")
	f.BoolVar(&c.Devnet, "devnet", false, "mark the chain as a devnet (allows the test keyring)")
	f.StringVar(&c.GasPrice, "gas-price", "", "gas price, e.g. 0.0025ucity")
	f.Float64Var(&c.GasAdjustment, "gas-adjustment", cosmos.DefaultGasAdjustment, "multiplier of simulated gas (block space is reserved by the gas a tx asks for: keep it small)")
	f.Uint64Var(&c.MaxGas, "max-gas", 50_000_000, "gas cap per tx")
	f.StringVar(&c.GasPriceSource, "gas-price-source", "auto", "where each tx's gas price comes from: auto (the chain's fee market where it has one, else --gas-price), config, feemarket, osmosis, ethermint")
	f.Float64Var(&c.GasPriceMultiplier, "gas-price-multiplier", cosmos.DefaultGasPriceMultiplier, "multiplier of a fee market's gas price")
	f.StringVar(&c.MaxGasPrice, "max-gas-price", "", "highest gas price paid, e.g. 0.025ucity (default 10 x --gas-price); a chain asking more is not paid, the work is retried")
	f.StringVar(&c.FeeGranter, "fee-granter", "", "account whose x/feegrant allowance pays the relayer key's fees")
	f.StringVar(&c.Memo, "memo", "", "memo written in every relayer tx (at most 256 characters)")
	f.DurationVar(&trusting, "trusting-period", 336*time.Hour, "light client trusting period")
	f.Int64Var(&c.TrustHeight, "trust-height", 0, "trusted header height")
	f.StringVar(&c.TrustHash, "trust-hash", "", "trusted header hash (hex)")
	f.StringVar(&c.KeyAlgo, "key-algo", "", "key algorithm of `keys add|restore` on this chain: secp256k1 (default) or eth_secp256k1 (Ethermint-style chains)")
	f.Uint32Var(&coinType, "coin-type", 0, "BIP-44 coin type of `keys add|restore` on this chain (default 118; 60 with eth_secp256k1)")
	f.StringVar(&c.HDPath, "hd-path", "", "BIP-44 HD path of `keys add|restore` on this chain, e.g. m/44'/118'/0'/0/0")

	cmd.AddCommand(add, &cobra.Command{
		Use: "list", Short: "List chains", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			ids := make([]string, 0, len(cfg.Chains))
			for id := range cfg.Chains {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%v\tkey %s (%s)\n", id, cfg.Chains[id].RPC, cfg.Chains[id].KeyName, cfg.Chains[id].KeyringBackend)
			}
			return nil
		},
	}, &cobra.Command{
		Use: "show CHAIN-ID", Short: "Show a chain", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			c, ok := cfg.Chains[args[0]]
			if !ok {
				return fmt.Errorf("no chain %s (cityrelay chains list)", args[0])
			}
			bz, err := toml.Marshal(c)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(bz)
			return err
		},
	}, &cobra.Command{
		Use: "delete CHAIN-ID", Short: "Delete a chain no path uses", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			for name, p := range cfg.Paths {
				if p.Src.Chain == args[0] || p.Dst.Chain == args[0] {
					return fmt.Errorf("path %s uses %s: delete the path first", name, args[0])
				}
			}
			delete(cfg.Chains, args[0])
			if err := cfg.Save(configPath()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted chain %s\n", args[0])
			return nil
		},
	})
	return cmd
}
