package main

import (
	"fmt"
	"strconv"
	"time"

	upgradetypes "cosmossdk.io/x/upgrade/types"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"
	"github.com/spf13/cobra"
)

// upgradeTxCmd is `citychaind tx upgrade ...`: what the chain's genesis upgrade authority signs
// (app_state.citychain.upgrade_authority; without one, every such tx is refused as unauthorized).
func upgradeTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "upgrade", Short: "Software upgrades, signed by the chain's genesis upgrade authority", RunE: client.ValidateCmd}
	var unbonding time.Duration
	var info string
	ibc := &cobra.Command{
		Use:   "schedule-ibc NAME HEIGHT --unbonding 720h",
		Short: "Schedule upgrade NAME at HEIGHT with the upgraded client state the chain's counterparties' clients move to (MsgIBCSoftwareUpgrade)",
		Long: `The upgraded client state keeps the chain id, has latest height HEIGHT+1 and the unbonding period --unbonding
(the new binary's staking unbonding time). At HEIGHT the chain halts ("UPGRADE NAME NEEDED"); restart every node
with the new binary (with the reference binary: citychaind start --upgrade-handler NAME). Relayers then upgrade
the clients of this chain (cityrelay tx upgrade-clients --chain CHAIN --height HEIGHT, or cityrelay start by itself).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			height, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || height < 1 {
				return fmt.Errorf("height %q: a positive block height", args[1])
			}
			if unbonding <= 0 {
				return fmt.Errorf("--unbonding is required (the unbonding period after the upgrade)")
			}
			cs := ibctm.NewClientState(ctx.ChainID, ibctm.DefaultTrustLevel, 0, unbonding, 0,
				clienttypes.NewHeight(clienttypes.ParseChainID(ctx.ChainID), uint64(height+1)), commitmenttypes.GetSDKSpecs(),
				[]string{"upgrade", "upgradedIBCState"}).ZeroCustomFields()
			msg, err := clienttypes.NewMsgIBCSoftwareUpgrade(ctx.GetFromAddress().String(), upgradetypes.Plan{Name: args[0], Height: height, Info: info}, cs)
			if err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(ctx, cmd.Flags(), msg)
		},
	}
	ibc.Flags().DurationVar(&unbonding, "unbonding", 0, "unbonding period of the upgraded chain (goes into the upgraded client state)")
	ibc.Flags().StringVar(&info, "info", "", "plan info (e.g. where the new binary is)")
	flags.AddTxFlagsToCmd(ibc)
	cancel := &cobra.Command{
		Use:   "cancel",
		Short: "Cancel the pending upgrade plan (and its upgraded client state)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(ctx, cmd.Flags(), &upgradetypes.MsgCancelUpgrade{Authority: ctx.GetFromAddress().String()})
		},
	}
	flags.AddTxFlagsToCmd(cancel)
	cmd.AddCommand(ibc, cancel)
	return cmd
}
