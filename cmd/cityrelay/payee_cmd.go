package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer"
)

// registerPayeeCmd is `cityrelay tx register-payee PATH`: on a fee-enabled (ICS-29) channel, the
// relayer's MsgRegisterCounterpartyPayee on each end (by default its own address on the other chain,
// so the recv fees of the packets it delivers there are paid to it on the source), and with --payee a
// MsgRegisterPayee (the address paid the ack and timeout fees it earns on that end's chain). Hermes
// registers the counterparty payee itself (auto_register_counterparty_payee); rly has
// `tx register-counterparty`.
func registerPayeeCmd() *cobra.Command {
	var on, payee, cpPayee string
	var trustLatest bool
	cmd := &cobra.Command{
		Use:   "register-payee PATH",
		Short: "Register the relayer's ICS-29 payees on a fee-enabled channel (counterparty payee: the relayer's address on the other chain)",
		Long: "On each end of the path (--on a, b or both), signed with that chain's key:\n" +
			"  MsgRegisterCounterpartyPayee: the address on the other chain paid the recv fee of each packet the relayer delivers to\n" +
			"    this end (default: the relayer's own address there; --counterparty-payee to name another);\n" +
			"  MsgRegisterPayee, only with --payee: the address on this end's chain paid the ack and timeout fees the relayer earns\n" +
			"    here (unset: the fee module pays the relayer's own address).\n" +
			"The channel must be fee-enabled (version {\"fee_version\":\"ics29-1\",\"app_version\":...}). Registering again replaces\n" +
			"the previous registration.",
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
			type pair struct{ end, other *relayer.End }
			var ends []pair
			switch on {
			case "both":
				ends = []pair{{p.A, p.B}, {p.B, p.A}}
			default:
				e, err := pathEnd(p, on)
				if err != nil {
					return fmt.Errorf("--on %q: want a, b, both, %s or %s", on, p.A.ChainID(), p.B.ChainID())
				}
				other := p.B
				if e == p.B {
					other = p.A
				}
				ends = []pair{{e, other}}
			}
			out := cmd.OutOrStdout()
			for _, pr := range ends {
				reg, err := relayer.RegisterPayee(cmd.Context(), pr.end, pr.other, relayer.PayeeOptions{Payee: payee, CounterpartyPayee: cpPayee})
				if err != nil {
					return fmt.Errorf("path %s: %w", p.Name, err)
				}
				fmt.Fprintf(out, "%-10s %s/%s relayer %s: counterparty payee %s", reg.Chain, reg.PortID, reg.ChannelID, reg.Relayer, reg.CounterpartyPayee)
				if reg.Payee != "" {
					fmt.Fprintf(out, ", payee %s", reg.Payee)
				}
				fmt.Fprintf(out, " (height %d, tx %s)\n", reg.Height, reg.TxHash)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&on, "on", "both", "the end(s) to register on: a, b, both, or the chain id of one end")
	cmd.Flags().StringVar(&payee, "payee", "", "address on the end's chain paid the ack and timeout fees (MsgRegisterPayee); unset: none registered")
	cmd.Flags().StringVar(&cpPayee, "counterparty-payee", "", "address on the other chain paid the recv fees (default: the relayer's address there)")
	cmd.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header")
	return cmd
}
