package main

import (
	"fmt"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// transferCmd sends an ICS-20 test transfer from the relayer's key over a linked transfer path.
func transferCmd() *cobra.Command {
	var pathName, receiver, memo string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "transfer SRC-CHAIN DST-CHAIN AMOUNT",
		Short: "Send an ICS-20 test transfer (e.g. 100ucity) from the relayer's key over a linked transfer path; relay it with `cityrelay start` or `cityrelay tx flush`",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcChain, dstChain := args[0], args[1]
			amount, err := sdk.ParseCoinNormalized(args[2])
			if err != nil {
				return fmt.Errorf("amount %q: %w (give it as <number><denom>, e.g. 100ucity)", args[2], err)
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			pc, ok := cfg.Paths[pathName]
			if !ok {
				return fmt.Errorf("no path %q (see `cityrelay paths list`)", pathName)
			}
			src, dst, err := transferEnds(pathName, pc, srcChain, dstChain)
			if err != nil {
				return err
			}
			rt := openRuntime(cmd, cfg, false)
			defer rt.Close()
			from, err := rt.Chain(srcChain)
			if err != nil {
				return err
			}
			sender, err := from.Address(cmd.Context())
			if err != nil {
				return err
			}
			if receiver == "" {
				to, err := rt.Chain(dstChain)
				if err != nil {
					return err
				}
				if receiver, err = to.Address(cmd.Context()); err != nil {
					return fmt.Errorf("receiver: the relayer's key on %s: %w", dstChain, err)
				}
			}
			// The deadline is on the destination's block time; the local clock stands in for it, which
			// is close enough for a test transfer of minutes.
			deadline := time.Now().Add(timeout)
			msg := transfertypes.NewMsgTransfer(src.PortID, src.ChannelID, amount, sender, receiver, clienttypes.ZeroHeight(), uint64(deadline.UnixNano()), memo)
			res, err := from.Send(cmd.Context(), msg)
			if err != nil {
				return fmt.Errorf("transfer %s from %s over %s/%s: %w", amount, srcChain, src.PortID, src.ChannelID, err)
			}
			pks, err := relayer.SendPackets(res.Events)
			if err != nil || len(pks) != 1 {
				return fmt.Errorf("transfer tx %s at height %d: want one send_packet event, got %d (%v)", res.Hash, res.Height, len(pks), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sent %s from %s on %s to %s on %s: tx %s at height %d, packet %s/%s sequence %d to %s/%s, timeout %s\n",
				amount, sender, srcChain, receiver, dstChain, res.Hash, res.Height, src.PortID, src.ChannelID, pks[0].Sequence,
				dst.PortID, dst.ChannelID, deadline.UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&pathName, "path", "", "the linked transfer path between the two chains")
	cmd.Flags().StringVar(&receiver, "receiver", "", "receiver's address on the destination (default: the relayer's key there)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "the packet times out this long from now")
	cmd.Flags().StringVar(&memo, "memo", "", "ICS-20 memo")
	_ = cmd.MarkFlagRequired("path")
	return cmd
}

// transferEnds are the ends of path pc on which a transfer from srcChain to dstChain leaves and
// arrives: the path must join the two chains, be linked, and be on the transfer port.
func transferEnds(name string, pc *config.Path, srcChain, dstChain string) (src, dst config.PathEnd, err error) {
	switch {
	case pc.Src.Chain == srcChain && pc.Dst.Chain == dstChain:
		src, dst = pc.Src, pc.Dst
	case pc.Dst.Chain == srcChain && pc.Src.Chain == dstChain:
		src, dst = pc.Dst, pc.Src
	default:
		return src, dst, fmt.Errorf("path %s joins %s and %s, not %s and %s", name, pc.Src.Chain, pc.Dst.Chain, srcChain, dstChain)
	}
	if src.ChannelID == "" || dst.ChannelID == "" {
		return src, dst, fmt.Errorf("path %s is not linked yet: run `cityrelay tx link %s`", name, name)
	}
	if src.PortID != transfertypes.PortID || dst.PortID != transfertypes.PortID {
		return src, dst, fmt.Errorf("path %s is on ports %s/%s, not %s: create one with `cityrelay paths new NAME --src-port transfer --dst-port transfer --version %s`",
			name, src.PortID, dst.PortID, transfertypes.PortID, transfertypes.Version)
	}
	return src, dst, nil
}
