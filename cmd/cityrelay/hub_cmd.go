package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/relayer/config"
)

func hubCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "hub", Short: "Hub and spoke: members linked once to the association's hub, packets forwarded through it"}
	var hub, to string
	onboard := &cobra.Command{
		Use:   "onboard MEMBER --hub HUB",
		Short: "Print the operator flow that adds the city MEMBER to the hub: link, both registries, the hub role, the first forwarded attestation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return printOnboarding(cmd.OutOrStdout(), cfg, args[0], hub, to)
		},
	}
	onboard.Flags().StringVar(&hub, "hub", "", "the association's hub chain (e.g. wego-1)")
	onboard.Flags().StringVar(&to, "to", "", "destination member of the first forwarded attestation (default: another member linked to the hub in the config)")
	_ = onboard.MarkFlagRequired("hub")
	cmd.AddCommand(onboard)
	return cmd
}

// hubPath finds the did path of the config between a and b: its name and the ends on a and on b.
func hubPath(cfg *config.Config, a, b string) (name string, onA, onB *config.PathEnd) {
	names := make([]string, 0, len(cfg.Paths))
	for n := range cfg.Paths {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := cfg.Paths[n]
		if p.Src.PortID != didtypes.PortID || p.Dst.PortID != didtypes.PortID {
			continue
		}
		switch {
		case p.Src.Chain == a && p.Dst.Chain == b:
			return n, &p.Src, &p.Dst
		case p.Src.Chain == b && p.Dst.Chain == a:
			return n, &p.Dst, &p.Src
		}
	}
	return "", nil, nil
}

// printOnboarding prints the flow that adds member to hub, filled in with what the config knows (the
// path, its clients and channel once linked) and placeholders for the rest.
func printOnboarding(w io.Writer, cfg *config.Config, member, hub, to string) error {
	if _, ok := cfg.Chains[member]; !ok {
		return fmt.Errorf("chain %s is not in the config: cityrelay chains add %s ... first", member, member)
	}
	if _, ok := cfg.Chains[hub]; !ok {
		return fmt.Errorf("hub %s is not in the config: cityrelay chains add %s ... first", hub, hub)
	}
	if member == hub {
		return fmt.Errorf("%s is the hub itself", member)
	}
	or := func(v, placeholder string) string {
		if v == "" {
			return placeholder
		}
		return v
	}
	name, onMember, onHub := hubPath(cfg, member, hub)
	if to == "" {
		others := []string{}
		for n, p := range cfg.Paths {
			if n == name || p.Src.PortID != didtypes.PortID {
				continue
			}
			if p.Src.Chain == hub && p.Dst.Chain != member {
				others = append(others, p.Dst.Chain)
			} else if p.Dst.Chain == hub && p.Src.Chain != member {
				others = append(others, p.Src.Chain)
			}
		}
		sort.Strings(others)
		to = "<MEMBER>"
		if len(others) > 0 {
			to = others[0]
		}
	}
	fmt.Fprintf(w, "Onboarding %s to the hub %s: one path, two registry entries, the hub role; the other members change nothing (the hub vouches for its members).\n\n", member, hub)
	step := 1
	if name == "" {
		name = member + "-" + hub
		fmt.Fprintf(w, "%d. Add the path (relayer operator):\n   cityrelay paths new %s --src %s --dst %s\n", step, name, member, hub)
		step++
		onMember, onHub = &config.PathEnd{}, &config.PathEnd{}
	}
	fmt.Fprintf(w, "%d. Link it (clients and connection; link stops before the channel until both registries name the new clients):\n   cityrelay tx link %s\n", step, name)
	step++
	hubClient := or(onHub.ClientID, "<client of "+member+" on "+hub+", printed by link>")
	memberClient := or(onMember.ClientID, "<client of "+hub+" on "+member+", printed by link>")
	fmt.Fprintf(w, "%d. The association's admin adds %s to the hub's registry (the membership list), after checking the client's trust root out of band:\n"+
		"   citychaind tx did register-city %s %s --from <association-admin> --chain-id %s\n", step, member, member, hubClient, hub)
	step++
	fmt.Fprintf(w, "%d. %s's registry admin recognises the hub and gives it the hub role (forwarded packets are accepted only from a hub):\n"+
		"   citychaind tx did register-city %s %s --from <registry-admin> --chain-id %s\n"+
		"   citychaind tx did register-hub %s --from <registry-admin> --chain-id %s\n", step, member, hub, memberClient, member, hub, member)
	step++
	if onMember.ChannelID == "" {
		fmt.Fprintf(w, "%d. Link again to open the did channel:\n   cityrelay tx link %s\n", step, name)
		step++
	}
	fmt.Fprintf(w, "%d. Forward a first attestation through the hub, relay it, and read its delivery record on %s:\n"+
		"   citychaind tx did send-attestation <ATTESTATION-ID> --to %s --via %s --from <sender> --chain-id %s\n"+
		"   cityrelay start   (serving %s and the hub's path to %s)\n"+
		"   citychaind query did delivery %s <SEQUENCE> --chain-id %s\n"+
		"   → DELIVERED, or REJECTED with \"rejected at %s via %s: <reason>\" (a refusal at the hub names the hub's own check)\n",
		step, member, to, hub, member, name, to, or(onMember.ChannelID, "<did channel on "+member+">"), member, to, hub)
	return nil
}
