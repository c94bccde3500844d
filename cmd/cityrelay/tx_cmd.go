package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

func txCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Transactions: link paths, update clients, relay now, test transfers"}
	var trustLatest bool
	link := &cobra.Command{
		Use:   "link PATH",
		Short: "Create the clients, connection and channel of a path (resumes a half-done link; does nothing on a linked path)",
		Args:  cobra.ExactArgs(1),
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
			out := cmd.OutOrStdout()
			l := relayer.Linker{
				Check: light.VerifyProofAgainstAppHash,
				Report: func(s relayer.Step) {
					fmt.Fprintf(out, "%-10s %-28s %-18s height %-6d tx %s\n", s.Chain, s.Action, s.ID, s.Height, s.TxHash)
				},
				Save: func(p *relayer.Path) error { rt.Record(p); return cfg.Save(configPath()) },
			}
			if err := l.Link(cmd.Context(), p); err != nil {
				return fmt.Errorf("%w (run the same command again to resume from the ids saved so far)", err)
			}
			fmt.Fprintf(out, "path %s linked: %s %s/%s <-> %s %s/%s\n", p.Name, p.A.ChainID(), p.A.PortID, p.A.ChannelID,
				p.B.ChainID(), p.B.PortID, p.B.ChannelID)
			return nil
		},
	}
	link.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header (check the hashes it logs)")
	update := &cobra.Command{
		Use: "update-clients PATH", Short: "Update both clients of a path to the other chain's latest verified header", Args: cobra.ExactArgs(1),
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
			for _, pair := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
				h, tx, err := relayer.Client{Dst: pair[0], Src: pair[1]}.Update(cmd.Context())
				if err != nil {
					return err
				}
				hash := "(already there)"
				if tx != nil {
					hash = tx.Hash
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%-10s client %s of %s at height %d, tx %s\n", pair[0].ChainID(), pair[0].ClientID, pair[1].ChainID(), h, hash)
			}
			return nil
		},
	}
	update.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header")
	var (
		chunk     int
		seqList   string
		viaDaemon bool
		daemonURL string
	)
	flush := &cobra.Command{
		Use:   "flush PATH",
		Short: "Relay what is left pending on a path now, in both directions (packets, acknowledgements and timeouts, in chunks; no NATS needed), or ask the running daemon to (--daemon)",
		Long: `Relay what is left pending on a path now, in both directions: packets committed and not received
(their timeouts once the destination can no longer receive them), then acknowledgements not processed.
A close one end of the channel has and the other has not (a close init, or a timeout on an ordered
channel) is confirmed on the other end; packets pending towards a closed end are timed out on close.
Sequences a path end excludes (excluded_sequences) are skipped unless named with --sequences.

--sequences 5,9-12 relays only those sequences (in both directions, excluded ones too); a named
sequence with nothing to relay is reported as not pending.

--daemon asks the running daemon to clear the path through its own pipeline (POST
/console/admin/clear on metrics.listen, or --daemon-url) instead of signing here with the key it uses:
the admin token is read from the environment variable console.admin_token_env names.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			only, err := sequences.Parse(seqList)
			if err != nil {
				return fmt.Errorf("--sequences: %w", err)
			}
			if cmd.Flags().Changed("sequences") && only.Empty() {
				return fmt.Errorf("--sequences: %w: no sequence given", sequences.ErrSyntax)
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if viaDaemon {
				return daemonClear(cmd, cfg, daemonURL, args[0], only)
			}
			rt := openRuntime(cmd, cfg, trustLatest)
			defer rt.Close()
			p, err := rt.Path(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
			var bad int
			err = r.FlushWith(cmd.Context(), p, relayer.FlushOptions{Chunk: chunk, Only: only}, func(rep relayer.FlushReport) {
				fmt.Fprintf(out, "%s -> %s: %d packets pending, %d received; %d acknowledgements pending, %d acknowledged; %d already done; %d refused; %d timed out\n",
					rep.From, rep.To, rep.Pending, rep.Received, rep.Acks, rep.Acked, rep.Done, rep.Bad, rep.TimedOut)
				if rep.CloseConfirmed {
					fmt.Fprintf(out, "  the close of %s's channel end confirmed on %s (channel close confirm)\n", rep.From, rep.To)
				}
				if rep.Closed {
					fmt.Fprintf(out, "  %s's channel end is closed: %d packets timed out on close\n", rep.To, rep.TimedOutOnClose)
				}
				if !rep.AcksOnClosed.Empty() {
					fmt.Fprintf(out, "  acknowledgements %s's closed end can no longer process, not relayed: %s\n", rep.From, rep.AcksOnClosed)
				}
				if !rep.Excluded.Empty() {
					fmt.Fprintf(out, "  excluded (excluded_sequences of %s, not relayed): %s\n", rep.From, rep.Excluded)
				}
				if !rep.NotPending.Empty() {
					fmt.Fprintf(out, "  not pending from %s: %s\n", rep.From, rep.NotPending)
				}
				if !rep.Unfound.Empty() {
					fmt.Fprintf(out, "  pending, but their events are not in the tx index (pruned?), nothing relayed: %s\n", rep.Unfound)
				}
				for _, e := range rep.Errors {
					fmt.Fprintf(out, "  refused: %v\n", e)
				}
				bad += rep.Bad
			})
			if err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%d items refused (see above)", bad)
			}
			return nil
		},
	}
	flush.Flags().IntVar(&chunk, "chunk", 100, "packets per relay tx")
	flush.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header")
	flush.Flags().StringVar(&seqList, "sequences", "", "relay only these sequences, e.g. 5,9-12 (excluded ones too)")
	flush.Flags().BoolVar(&viaDaemon, "daemon", false, "ask the running daemon to clear the path (admin token from console.admin_token_env's variable)")
	flush.Flags().StringVar(&daemonURL, "daemon-url", "", "the daemon's HTTP address with --daemon (default: http:// and metrics.listen)")
	cmd.AddCommand(link, update, flush, transferCmd(), retryCmd(), evmClientCmd(), upgradeClientsCmd(), closeChannelCmd(), registerPayeeCmd())
	return cmd
}

// retryCmd re-queues dead letters.
func retryCmd() *cobra.Command {
	var natsURL string
	cmd := &cobra.Command{
		Use:   "retry SEQ...",
		Short: "Put dead-lettered work (by its number in `cityrelay query dead-letters`) back in the work queue",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			js, done, err := workQueue(natsURL)
			if err != nil {
				return err
			}
			defer done()
			for _, a := range args {
				seq, err := strconv.ParseUint(a, 10, 64)
				if err != nil {
					return fmt.Errorf("dead letter %q: want its number", a)
				}
				w, err := packets.Requeue(cmd.Context(), js, seq)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "re-queued %d: %s %s -> %s seq %d\n", seq, w.Kind, w.From, w.To, w.Packet.Sequence)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&natsURL, "nats", "", "NATS URL (default: nats.url from the config)")
	return cmd
}
