package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

func queryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Query a path's clients, connections, channels and unrelayed packets"}
	status := func(use, short string, print func(*cobra.Command, relayer.EndStatus)) *cobra.Command {
		return &cobra.Command{Use: use + " PATH", Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			rt := openRuntime(cmd, cfg, false)
			defer rt.Close()
			p, err := rt.Path(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			for _, e := range []*relayer.End{p.A, p.B} {
				s, err := relayer.Status(cmd.Context(), e)
				if err != nil {
					return err
				}
				print(cmd, s)
			}
			return nil
		}}
	}
	cmd.AddCommand(
		packetCmd(),
		deadLettersCmd(),
		status("clients", "Both clients of a path", func(cmd *cobra.Command, s relayer.EndStatus) {
			height := "-" // no client yet
			if s.ClientHeight != 0 {
				height = strconv.FormatUint(s.ClientHeight, 10)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%-10s %-18s tracks %-10s height %-6s trusting period %s\n", s.Chain, orNone(s.ClientID), s.ClientTracks, height, s.TrustingPeriod)
		}),
		status("connections", "Both connections of a path", func(cmd *cobra.Command, s relayer.EndStatus) {
			fmt.Fprintf(cmd.OutOrStdout(), "%-10s %-14s %s\n", s.Chain, orNone(s.ConnectionID), s.ConnectionState)
		}),
		status("channels", "Both channels of a path", func(cmd *cobra.Command, s relayer.EndStatus) {
			fmt.Fprintf(cmd.OutOrStdout(), "%-10s %s/%-12s %s\n", s.Chain, s.PortID, orNone(s.ChannelID), s.ChannelState)
		}),
		&cobra.Command{Use: "unrelayed PATH", Short: "Packets and acknowledgements not relayed yet, each way", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := loadConfig()
				if err != nil {
					return err
				}
				rt := openRuntime(cmd, cfg, false)
				defer rt.Close()
				p, err := rt.Path(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				for _, pair := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
					recv, acks, err := relayer.Unrelayed(cmd.Context(), pair[0], pair[1])
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s -> %s: packets %v, acks awaited %v\n", pair[0].ChainID(), pair[1].ChainID(), recv, acks)
				}
				return nil
			}},
	)
	return cmd
}

// packetCmd shows a packet's lifecycle from the pipeline's packet bucket.
func packetCmd() *cobra.Command {
	var natsURL string
	cmd := &cobra.Command{
		Use:   "packet CHAIN/CHANNEL/SEQ",
		Short: "Show a packet's lifecycle (observed, confirmed, retrying, timed-out, failed with the reason) as the pipeline recorded it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			parts := strings.Split(args[0], "/")
			if len(parts) != 3 {
				return errors.New("give the packet as <source-chain>/<channel>/<sequence>, e.g. seoul-1/channel-0/7")
			}
			js, done, err := workQueue(natsURL)
			if err != nil {
				return err
			}
			defer done()
			kv, err := js.KeyValue(cmd.Context(), packets.PacketBucket)
			if err != nil {
				return err
			}
			found := false
			for _, port := range []string{"did", "transfer"} {
				all, err := packets.Lifecycles(cmd.Context(), kv, fmt.Sprintf("%s/%s/%s/%s", parts[0], port, parts[1], parts[2]))
				if err != nil {
					return err
				}
				for _, kind := range []string{packets.KindRecv, packets.KindAck, packets.KindTimeout} {
					// The record that says most about the real packet first; any other is an item of
					// the same sequence refused alone (a forged event), shown with its reason.
					for i, l := range all[kind] {
						found = true
						where := ""
						if l.Height > 0 {
							where = fmt.Sprintf("at height %d on %s ", l.Height, l.Chain)
						}
						if i > 0 {
							where = "(another item of this sequence) " + where
						}
						fmt.Fprintf(cmd.OutOrStdout(), "%-6s %-18s %s tx %s %s%s\n", kind, l.State, port, l.Tx, where, l.Reason)
					}
				}
			}
			if !found {
				return fmt.Errorf("no lifecycle for %s (not seen by a scanner since the bucket was created)", args[0])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&natsURL, "nats", "", "NATS URL (default: nats.url from the config)")
	return cmd
}

// deadLettersCmd lists the dead-lettered work with the reasons.
func deadLettersCmd() *cobra.Command {
	var natsURL string
	var limit int
	cmd := &cobra.Command{
		Use:   "dead-letters",
		Short: "List the work that could not be delivered, with the reason (re-queue it with `cityrelay tx retry SEQ`)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			js, done, err := workQueue(natsURL)
			if err != nil {
				return err
			}
			defer done()
			dead, err := packets.DeadLetters(cmd.Context(), js, limit)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, d := range dead {
				what := "(not a work item)"
				if w := d.Work; w != nil {
					what = fmt.Sprintf("%s %s -> %s %s/%s/%d", w.Kind, w.From, w.To, w.Packet.SourcePort, w.Packet.SourceChannel, w.Packet.Sequence)
				}
				fmt.Fprintf(out, "%-6d %-44s %s\n", d.Seq, what, d.Reason)
			}
			fmt.Fprintf(out, "%d dead letters\n", len(dead))
			return nil
		},
	}
	cmd.Flags().StringVar(&natsURL, "nats", "", "NATS URL (default: nats.url from the config)")
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many (0: all)")
	return cmd
}
