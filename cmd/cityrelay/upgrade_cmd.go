package main

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// upgradeClientsCmd is `cityrelay tx upgrade-clients [PATH] --height H [--chain X]`.
func upgradeClientsCmd() *cobra.Command {
	var (
		height      int64
		chain       string
		trustLatest bool
	)
	cmd := &cobra.Command{
		Use:   "upgrade-clients [PATH] --height H [--chain X]",
		Short: "After a chain's software upgrade at height H, upgrade its clients on the counterparties (MsgUpgradeClient with the upgrade's proofs)",
		Long: `After chain X ran a software upgrade scheduled with an upgraded client state (MsgIBCSoftwareUpgrade) at
height H, moves each counterparty's client of X to the upgraded client state (its new unbonding period,
proof specs, upgrade path; the client's own trusting period stays): the client is updated to X's verified
header at H, then MsgUpgradeClient carries the upgraded client and consensus states with their proofs,
checked first against that header. With PATH, the path's end(s) on X (both ends are tried without
--chain); with --chain X alone, every configured path with an end on X. Run it once X resumed past H,
before anything updates the clients past H (cityrelay start does this itself). Without --height, says
whether an upgrade is planned.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && chain == "" {
				return errors.New("give a PATH or --chain X")
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			names, err := upgradePaths(cfg, args, chain)
			if err != nil {
				return err
			}
			rt := openRuntime(cmd, cfg, trustLatest)
			defer rt.Close()
			var paths []*relayer.Path
			for _, n := range names {
				p, err := rt.Path(cmd.Context(), n)
				if err != nil {
					return err
				}
				paths = append(paths, p)
			}
			chainsOf := []string{chain}
			if chain == "" {
				chainsOf = []string{paths[0].A.ChainID(), paths[0].B.ChainID()}
			}
			out := cmd.OutOrStdout()
			if height == 0 {
				return printPlans(cmd, out, paths, chainsOf)
			}
			return upgradeAll(cmd, out, paths, chainsOf, height, chain != "")
		},
	}
	cmd.Flags().Int64Var(&height, "height", 0, "the upgrade plan's height (the chain halted there and resumed with the new binary)")
	cmd.Flags().StringVar(&chain, "chain", "", "the upgraded chain (default: whichever end of PATH has an upgrade at --height)")
	cmd.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header")
	return cmd
}

// upgradePaths are the configured paths to look at: PATH, or every path with an end on chain.
func upgradePaths(cfg *config.Config, args []string, chain string) ([]string, error) {
	if len(args) == 1 {
		p, ok := cfg.Paths[args[0]]
		if !ok {
			return nil, fmt.Errorf("path %s is not in the config", args[0])
		}
		if chain != "" && p.Src.Chain != chain && p.Dst.Chain != chain {
			return nil, fmt.Errorf("path %s (%s <-> %s) has no end on %s", args[0], p.Src.Chain, p.Dst.Chain, chain)
		}
		return args, nil
	}
	var names []string
	for n, p := range cfg.Paths {
		if p.Src.Chain == chain || p.Dst.Chain == chain {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no configured path has an end on %s", chain)
	}
	sort.Strings(names)
	return names, nil
}

// printPlans says, for each chain, whether an upgrade is pending (proven against a verified header).
func printPlans(cmd *cobra.Command, out io.Writer, paths []*relayer.Path, chainIDs []string) error {
	for _, id := range chainIDs {
		e := endOn(paths, id)
		if e == nil {
			continue
		}
		plan, err := relayer.PendingUpgrade(cmd.Context(), e, light.VerifyProofAgainstAppHash)
		if err != nil {
			return err
		}
		switch {
		case plan == nil:
			fmt.Fprintf(out, "%-10s no upgrade pending (after an upgrade ran, give its height: --height H)\n", id)
		case !plan.IBC:
			fmt.Fprintf(out, "%-10s upgrade %q planned at %d without an upgraded client state: clients need no upgrade\n", id, plan.Name, plan.Height)
		default:
			fmt.Fprintf(out, "%-10s upgrade %q planned at %d with an upgraded client state: once %s resumed past %d, run\n           cityrelay tx upgrade-clients --chain %s --height %d\n",
				id, plan.Name, plan.Height, id, plan.Height, id, plan.Height)
		}
	}
	return nil
}

// endOn is the first end of paths on chain id.
func endOn(paths []*relayer.Path, id string) *relayer.End {
	for _, p := range paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			if e.ChainID() == id {
				return e
			}
		}
	}
	return nil
}

// upgradeAll upgrades the clients of each chain of chainIDs; a chain with no upgrade at height is
// skipped when it was not named (strict false), and an error otherwise.
func upgradeAll(cmd *cobra.Command, out io.Writer, paths []*relayer.Path, chainIDs []string, height int64, strict bool) error {
	var failed, done int
	for _, id := range chainIDs {
		for _, r := range relayer.UpgradeClients(cmd.Context(), paths, id, height, light.VerifyProofAgainstAppHash) {
			switch {
			case r.Err == nil:
				done++
				res := r.Result
				fmt.Fprintf(out, "%-10s client %s of %s upgraded at %s height %d (plan %d): unbonding %s -> %s, trusting period %s kept, tx %s\n",
					r.Chain, r.ClientID, r.Of, r.Of, res.Height, res.PlanHeight, res.Before.UnbondingPeriod, res.After.UnbondingPeriod,
					res.After.TrustingPeriod, res.Tx.Hash)
			case errors.Is(r.Err, relayer.ErrAlreadyUpgraded):
				done++
				fmt.Fprintf(out, "%-10s client %s of %s already upgraded\n", r.Chain, r.ClientID, r.Of)
			case errors.Is(r.Err, relayer.ErrNoUpgrade) && !strict:
				fmt.Fprintf(out, "%-10s client %s of %s: %s stored no upgraded client state at %d\n", r.Chain, r.ClientID, r.Of, r.Of, height)
			default:
				failed++
				fmt.Fprintf(out, "%-10s client %s of %s NOT upgraded: %v\n", r.Chain, r.ClientID, r.Of, r.Err)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d clients not upgraded (see above)", failed)
	}
	if done == 0 {
		return fmt.Errorf("no client upgraded: no chain of %v stored an upgraded client state at %d", chainIDs, height)
	}
	return nil
}
