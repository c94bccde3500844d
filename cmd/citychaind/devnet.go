package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/chains/devnet"
)

func devnetCmd() *cobra.Command {
	var (
		chains    string
		home      string
		blockTime time.Duration
	)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run N city chains in this process on free loopback ports until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if home == "" {
				dir, err := os.MkdirTemp("", "citychain-devnet-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				home = dir
			}
			start := time.Now()
			d, err := devnet.Start(ctx, devnet.Options{Home: home, ChainIDs: strings.Split(chains, ","), BlockTime: blockTime})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "devnet ready in %s (home %s)\n", time.Since(start).Round(time.Millisecond), home)
			for _, c := range d.Chains {
				fmt.Fprintf(out, "  %-10s rpc %s  grpc %s  relayer %s  issuer %s  citizen %s\n",
					c.ChainID, c.RPCAddr, c.GRPCAddr, c.Relayer.Address, c.Issuer.DID, c.Citizen.DID)
			}
			fmt.Fprintln(out, "keys and mnemonics (test keys) are in <home>/<chain>/devnet.json; Ctrl-C stops")
			<-ctx.Done()
			fmt.Fprintln(out, "stopping devnet")
			return d.Stop()
		},
	}
	cmd.Flags().StringVar(&chains, "chains", "seoul-1,bucheon-1,wego-1", "comma-separated chain ids")
	cmd.Flags().StringVar(&home, "home", "", "devnet home (default: a temporary directory removed on exit)")
	cmd.Flags().DurationVar(&blockTime, "block-time", devnet.DefaultBlockTime, "block interval")
	return cmd
}
