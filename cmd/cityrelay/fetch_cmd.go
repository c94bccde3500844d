package main

import (
	"fmt"
	"strings"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// defaultFetchName names a fetched path: A's chain, B's chain and A's channel id (unique on A).
const defaultFetchName = "{a}-{b}-{channel}"

// pathsFetchCmd is `cityrelay paths fetch CHAIN-A CHAIN-B`: the open channels between two configured
// chains, found in their state (nothing created), written as paths.
func pathsFetchCmd() *cobra.Command {
	var (
		dryRun, trustLatest bool
		namePattern         string
	)
	cmd := &cobra.Command{
		Use:   "fetch CHAIN-A CHAIN-B",
		Short: "Find the open channels between two configured chains and add a path for each (ids filled, nothing created on chain)",
		Long: `fetch lists CHAIN-A's channels and keeps the OPEN ones whose counterparty on CHAIN-B points back:
channel, connection and client proven on both chains against verified headers, and each chain's client
checked against our light client of the other (an impostor chain with CHAIN-B's id is skipped). A path is
added for each channel pair not yet configured (existing paths are left as they are), named by --name:
{a}, {b} the chain ids, {port} and {channel} A's end, {b_port} and {b_channel} B's end.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if args[0] == args[1] {
				return fmt.Errorf("fetch needs two different chains, got %s twice", args[0])
			}
			for _, id := range args {
				if _, ok := cfg.Chains[id]; !ok {
					return fmt.Errorf("chain %s is not configured (cityrelay chains add)", id)
				}
			}
			if !strings.Contains(namePattern, "{channel}") && !strings.Contains(namePattern, "{b_channel}") {
				return fmt.Errorf("--name %q: must hold {channel} or {b_channel} (a path per channel)", namePattern)
			}
			rt := openRuntime(cmd, cfg, trustLatest)
			defer rt.Close()
			end := func(id string) (*relayer.End, error) {
				c, err := rt.Chain(id)
				if err != nil {
					return nil, err
				}
				l, err := rt.Light(cmd.Context(), id)
				if err != nil {
					return nil, err
				}
				return &relayer.End{Chain: c, Light: l}, nil
			}
			a, err := end(args[0])
			if err != nil {
				return err
			}
			b, err := end(args[1])
			if err != nil {
				return err
			}
			pairs, skipped, err := relayer.Fetch(cmd.Context(), light.VerifyProofAgainstAppHash, a, b)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			added := 0
			for _, p := range pairs {
				desc := fmt.Sprintf("%s %s/%s (%s, %s) <-> %s %s/%s (%s, %s) %s %s", p.A.ChainID, p.A.PortID, p.A.ChannelID, p.A.ClientID, p.A.ConnectionID,
					p.B.ChainID, p.B.PortID, p.B.ChannelID, p.B.ClientID, p.B.ConnectionID, p.Version, orderName(p.Order))
				if existing := configuredAs(cfg, p); existing != "" {
					fmt.Fprintf(out, "open     %s: configured as path %s\n", desc, existing)
					continue
				}
				name := strings.NewReplacer("{a}", p.A.ChainID, "{b}", p.B.ChainID, "{port}", p.A.PortID, "{channel}", p.A.ChannelID,
					"{b_port}", p.B.PortID, "{b_channel}", p.B.ChannelID).Replace(namePattern)
				if _, taken := cfg.Paths[name]; taken {
					fmt.Fprintf(out, "open     %s: not added, path name %s is taken by another path (use --name)\n", desc, name)
					continue
				}
				fmt.Fprintf(out, "open     %s: path %s\n", desc, name)
				cfg.Paths[name] = &config.Path{
					Src:     config.PathEnd{Chain: p.A.ChainID, ClientID: p.A.ClientID, ConnectionID: p.A.ConnectionID, ChannelID: p.A.ChannelID, PortID: p.A.PortID},
					Dst:     config.PathEnd{Chain: p.B.ChainID, ClientID: p.B.ClientID, ConnectionID: p.B.ConnectionID, ChannelID: p.B.ChannelID, PortID: p.B.PortID},
					Version: p.Version, Order: orderName(p.Order),
				}
				added++
			}
			for _, s := range skipped {
				fmt.Fprintf(out, "skipped  %s %s/%s: %v\n", args[0], s.PortID, s.ChannelID, s.Err)
			}
			switch {
			case dryRun:
				fmt.Fprintf(out, "dry run: %d path(s) would be added; the config is unchanged\n", added)
				return nil
			case added == 0:
				fmt.Fprintf(out, "no path added\n")
				return nil
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if err := cfg.Save(configPath()); err != nil {
				return err
			}
			fmt.Fprintf(out, "%d path(s) added to %s\n", added, configPath())
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be added; write nothing")
	cmd.Flags().StringVar(&namePattern, "name", defaultFetchName, "name pattern of the paths added: {a}, {b}, {port}, {channel}, {b_port}, {b_channel}")
	cmd.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header (check the hashes it logs)")
	return cmd
}

// configuredAs names a configured path with either end of p (whichever way round), or "".
func configuredAs(cfg *config.Config, p relayer.ChannelPair) string {
	for name, pc := range cfg.Paths {
		for _, e := range []config.PathEnd{pc.Src, pc.Dst} {
			for _, x := range []relayer.PairEnd{p.A, p.B} {
				if e.Chain == x.ChainID && e.PortID == x.PortID && e.ChannelID == x.ChannelID {
					return name
				}
			}
		}
	}
	return ""
}

func orderName(o channeltypes.Order) string {
	if o == channeltypes.ORDERED {
		return "ordered"
	}
	return "unordered"
}
