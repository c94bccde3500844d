package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// closeChannelCmd is `cityrelay tx close-channel PATH`: MsgChannelCloseInit on one end, then
// MsgChannelCloseConfirm on the other with the proof of the closed end (Hermes: tx chan-close-init
// and tx chan-close-confirm in one).
func closeChannelCmd() *cobra.Command {
	var from string
	var trustLatest bool
	cmd := &cobra.Command{
		Use:   "close-channel PATH",
		Short: "Close a path's channel: close init on one end (--from, default the path's a side), close confirm on the other (resumes a half-done close)",
		Long: "Close a path's channel: MsgChannelCloseInit on one end, signed with that chain's key, then MsgChannelCloseConfirm on the\n" +
			"other with the proof of the closed end. The channel's application decides whether it may be closed: ICS-20 transfer and\n" +
			"interchain accounts refuse; a did channel closes only if it is ORDERED and the key is the chain's registry admin.\n" +
			"Packets still pending on the channel are then timed out on close by the daemon (or by a relayer's clearing).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			rt := openRuntime(cmd, cfg, trustLatest)
			defer rt.Close()
			p, err := rt.Path(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			end, err := pathEnd(p, from)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			l := relayer.Linker{
				Check: light.VerifyProofAgainstAppHash,
				Report: func(s relayer.Step) {
					fmt.Fprintf(out, "%-10s %-28s %-18s height %-6d tx %s\n", s.Chain, s.Action, s.ID, s.Height, s.TxHash)
				},
			}
			if err := l.CloseChannel(cmd.Context(), p, end); err != nil {
				return fmt.Errorf("close %s from %s: %w (run the same command again to finish a half-done close)", p.Name, end.ChainID(), err)
			}
			fmt.Fprintf(out, "path %s closed: %s %s/%s and %s %s/%s are CLOSED\n", p.Name, p.A.ChainID(), p.A.PortID, p.A.ChannelID,
				p.B.ChainID(), p.B.PortID, p.B.ChannelID)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "a", "the end that starts the close: a, b, or the chain id of one end")
	cmd.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header")
	return cmd
}

// pathEnd is the end of p named by which: a, b, or its chain id.
func pathEnd(p *relayer.Path, which string) (*relayer.End, error) {
	switch which {
	case "a", "A", p.A.ChainID():
		return p.A, nil
	case "b", "B", p.B.ChainID():
		return p.B, nil
	}
	return nil, fmt.Errorf("--from %q: want a, b, %s or %s", which, p.A.ChainID(), p.B.ChainID())
}
