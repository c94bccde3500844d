// Command citychaind runs a reference city chain node: Cosmos SDK v0.50, ibc-go v8 and the did module.
//
//	citychaind init --chain-id seoul-1 --home ~/.seoul --block-time 1s
//	citychaind start --home ~/.seoul
//	citychaind tx did ... / citychaind query did ...
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"cosmossdk.io/log"
	cmtcfg "github.com/cometbft/cometbft/config"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/keys"
	"github.com/cosmos/cosmos-sdk/client/rpc"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/server"
	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	authcmd "github.com/cosmos/cosmos-sdk/x/auth/client/cli"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	bankcli "github.com/cosmos/cosmos-sdk/x/bank/client/cli"
	"github.com/spf13/cobra"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did"
	"github.com/cityrelay/cityrelay/chains/devnet"
)

func main() {
	if err := svrcmd.Execute(newRootCmd(), "CITYCHAIN", defaultHome()); err != nil {
		fmt.Fprintln(os.Stderr, "citychaind:", err)
		os.Exit(1)
	}
}

func defaultHome() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".citychaind"
	}
	return filepath.Join(home, ".citychaind")
}

func newRootCmd() *cobra.Command {
	enc := citychain.MakeEncodingConfig()
	home := defaultHome()
	clientCtx := client.Context{}.
		WithCodec(enc.Codec).WithInterfaceRegistry(enc.InterfaceRegistry).WithTxConfig(enc.TxConfig).
		WithLegacyAmino(enc.Amino).WithInput(os.Stdin).WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(home).WithViper("CITYCHAIN")

	root := &cobra.Command{
		Use:           "citychaind",
		Short:         "Reference city chain node (Cosmos SDK + IBC + did)",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.OutOrStdout())
			cmd.SetErr(cmd.ErrOrStderr())
			ctx, err := client.ReadPersistentCommandFlags(clientCtx.WithCmdContext(cmd.Context()), cmd.Flags())
			if err != nil {
				return err
			}
			if ctx, err = config.ReadFromClientConfig(ctx); err != nil {
				return err
			}
			if err := client.SetCmdClientContextHandler(ctx, cmd); err != nil {
				return err
			}
			appCfg := serverconfig.DefaultConfig()
			appCfg.MinGasPrices = devnet.MinGasPrice
			return server.InterceptConfigsPreRunHandler(cmd, serverconfig.DefaultConfigTemplate, appCfg, cmtcfg.DefaultConfig())
		},
	}

	root.AddCommand(initCmd(home), devnetCmd())
	server.AddCommands(root, home, newApp, exportApp, func(start *cobra.Command) {
		start.Flags().String(citychain.OptionUpgradeHandler, "", "run the handlers of these upgrade plans (comma-separated; only when restarting at the plan's height, e.g. "+citychain.TestUpgradePlan+")")
	})
	root.AddCommand(
		server.StatusCommand(),
		queryCmd(),
		txCmd(),
		keys.Commands(),
	)
	return root
}

func initCmd(home string) *cobra.Command {
	var (
		blockTime                  time.Duration
		rpcPort, p2pPort, grpcPort int
		adminUpgrades              bool
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a single-validator city chain home: config, keys (test keyring), sample DIDs, genesis",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			chainID, _ := cmd.Flags().GetString(flags.FlagChainID)
			if chainID == "" {
				return errors.New("--chain-id is required (for example seoul-1)")
			}
			h, _ := cmd.Flags().GetString(flags.FlagHome)
			c, err := devnet.InitHome(devnet.InitOptions{Home: h, ChainID: chainID, BlockTime: blockTime,
				RPCPort: rpcPort, P2PPort: p2pPort, GRPCPort: grpcPort, AdminUpgrades: adminUpgrades})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "initialised %s in %s\n  rpc %s  grpc %s  block time %s\n  relayer %s\n  admin   %s\n  issuer  %s\n  citizen %s\n  keys and mnemonics (test keys): %s\n",
				c.ChainID, c.Home, c.RPCAddr, c.GRPCAddr, blockTime, c.Relayer.Address, c.Admin.Address,
				c.Issuer.DID, c.Citizen.DID, filepath.Join(c.Home, "devnet.json"))
			return nil
		},
	}
	cmd.Flags().String(flags.FlagChainID, "", "chain id, e.g. seoul-1")
	cmd.Flags().DurationVar(&blockTime, "block-time", devnet.DefaultBlockTime, "block interval (CometBFT timeout_commit), e.g. 200ms for tests")
	cmd.Flags().IntVar(&rpcPort, "rpc-port", 26657, "CometBFT RPC port (loopback)")
	cmd.Flags().IntVar(&p2pPort, "p2p-port", 26656, "CometBFT P2P port (loopback)")
	cmd.Flags().IntVar(&grpcPort, "grpc-port", 9090, "gRPC port (loopback)")
	cmd.Flags().BoolVar(&adminUpgrades, "admin-upgrades", false, "make the admin key the genesis upgrade authority (app_state.citychain.upgrade_authority): it may schedule software upgrades")
	return cmd
}

func queryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Query subcommands", RunE: client.ValidateCmd}
	cmd.AddCommand(
		rpc.ValidatorCommand(),
		server.QueryBlockCmd(),
		server.QueryBlockResultsCmd(),
		authcmd.QueryTxsByEventsCmd(),
		authcmd.QueryTxCmd(),
	)
	cmd.AddCommand(did.AppModuleBasic{}.GetQueryCmd())
	return cmd
}

func txCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Transaction subcommands", RunE: client.ValidateCmd}
	cmd.AddCommand(
		authcmd.GetSignCommand(),
		authcmd.GetBroadcastCommand(),
		authcmd.GetEncodeCommand(),
		authcmd.GetDecodeCommand(),
		authcmd.GetSimulateCmd(),
	)
	cmd.AddCommand(bankcli.NewSendTxCmd(addresscodec.NewBech32Codec(citychain.AccountAddressPrefix)), did.AppModuleBasic{}.GetTxCmd(), upgradeTxCmd())
	return cmd
}

func newApp(logger log.Logger, db dbm.DB, trace io.Writer, opts servertypes.AppOptions) servertypes.Application {
	return citychain.New(logger, db, trace, true, opts, server.DefaultBaseappOptions(opts)...)
}

func exportApp(logger log.Logger, db dbm.DB, trace io.Writer, height int64, forZeroHeight bool, jailAllowedAddrs []string,
	opts servertypes.AppOptions, modulesToExport []string,
) (servertypes.ExportedApp, error) {
	app := citychain.New(logger, db, trace, height == -1, opts)
	if height != -1 {
		if err := app.LoadHeight(height); err != nil {
			return servertypes.ExportedApp{}, fmt.Errorf("export at height %d: %w", height, err)
		}
	}
	return app.ExportAppStateAndValidators(forZeroHeight, jailAllowedAddrs, modulesToExport)
}
