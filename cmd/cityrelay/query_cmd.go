package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

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
