package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

func clientCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "A path's clients: why one is unusable and the flow that replaces it"}
	var trustLatest bool
	replace := &cobra.Command{
		Use:   "replace PATH",
		Short: "Print, step by step, the operator flow that replaces an expired or frozen client of PATH (read-only: it queries, never sends)",
		Long: `Checks both clients of PATH at verified headers (frozen at a height, expired since a time, or active) and, for
an unusable one, prints the flow that replaces it, filled in with the real ids: a new client (a new path that
keeps the other side's active client), the registry update by the city's admin on a did path, the connection
and channel over the new client, and what becomes of the packets in flight on the old channel.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if _, ok := cfg.Paths[args[0]]; !ok {
				return fmt.Errorf("path %s is not in the config", args[0])
			}
			rt := openRuntime(cmd, cfg, trustLatest)
			defer rt.Close()
			p, err := rt.Path(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if p.A.ClientID == "" || p.B.ClientID == "" {
				return fmt.Errorf("path %s is not linked yet (cityrelay tx link %s)", p.Name, p.Name)
			}
			return printReplace(cmd.Context(), cmd.OutOrStdout(), p)
		},
	}
	replace.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header")
	cmd.AddCommand(replace)
	return cmd
}

// printReplace prints the state of both clients of p and, for each unusable one, the flow that
// replaces it.
func printReplace(ctx context.Context, w io.Writer, p *relayer.Path) error {
	type side struct {
		dst, src *relayer.End // dst's client of src
		srcIsA   bool
		h        *relayer.ClientHealth
	}
	sides := []*side{{dst: p.B, src: p.A, srcIsA: true}, {dst: p.A, src: p.B}}
	unusable := 0
	for _, s := range sides {
		h, err := relayer.Client{Dst: s.dst, Src: s.src}.Health(ctx)
		if err != nil {
			return fmt.Errorf("check %s's client %s of %s: %w", s.dst.ChainID(), s.dst.ClientID, s.src.ChainID(), err)
		}
		s.h = h
		fmt.Fprintf(w, "%-10s client %s of %s: %s\n", h.Chain, h.ClientID, h.Of, describeHealth(h))
		if h.Status != ibcexported.Active {
			unusable++
		}
	}
	if unusable == 0 {
		fmt.Fprintf(w, "\nboth clients of %s are active: nothing to replace (cityrelay tx update-clients %s keeps them so)\n", p.Name, p.Name)
		return nil
	}
	for _, s := range sides {
		if s.h.Status != ibcexported.Active {
			if err := printReplaceSteps(ctx, w, p, s.dst, s.src, s.srcIsA, s.h, unusable == 2); err != nil {
				return err
			}
		}
	}
	return nil
}

func describeHealth(h *relayer.ClientHealth) string {
	at := fmt.Sprintf("(proven at %s height %d, %s)", h.Chain, h.VerifiedHeight, h.VerifiedTime.UTC().Format(time.RFC3339))
	switch h.Status {
	case ibcexported.Frozen:
		return fmt.Sprintf("FROZEN: misbehaviour of %s (two validly signed headers at one height) was submitted (frozen height %s, ibc-go's mark); its newest state of %s is at %s %s",
			h.Of, h.FrozenHeight, h.Of, h.LatestHeight, at)
	case ibcexported.Expired:
		return fmt.Sprintf("EXPIRED at %s: its newest state of %s (height %s, %s) is older than its trusting period %s %s",
			h.ExpiresAt.UTC().Format(time.RFC3339), h.Of, h.LatestHeight, h.ConsensusTime.UTC().Format(time.RFC3339), h.TrustingPeriod, at)
	default:
		return fmt.Sprintf("active, newest state of %s at %s, expires %s unless updated %s", h.Of, h.LatestHeight,
			h.ExpiresAt.UTC().Format(time.RFC3339), at)
	}
}

// printReplaceSteps prints the flow that replaces dst's unusable client of src on path p.
func printReplaceSteps(ctx context.Context, w io.Writer, p *relayer.Path, dst, src *relayer.End, srcIsA bool, h *relayer.ClientHealth, both bool) error {
	newPath := p.Name + "-2"
	srcFlag, dstFlag := src.ChainID(), dst.ChainID()
	keep := "src"
	if !srcIsA {
		srcFlag, dstFlag = dst.ChainID(), src.ChainID()
		keep = "dst"
	}
	fmt.Fprintf(w, "\nReplacing %s's client %s of %s (path %s). A %s client is never updated again: nothing from %s is received on %s over %s / %s %s any more.\n",
		dst.ChainID(), dst.ClientID, src.ChainID(), p.Name, strings.ToLower(string(h.Status)), src.ChainID(), dst.ChainID(), dst.ConnectionID, dst.PortID, dst.ChannelID)
	step := 0
	next := func(format string, a ...any) {
		step++
		fmt.Fprintf(w, "%d. "+format+"\n", append([]any{step}, a...)...)
	}

	lb, err := src.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", src.ChainID(), err)
	}
	if h.Status == ibcexported.Frozen {
		next("Deal with the fork first: misbehaviour of %s froze the client. Check the evidence (<home>/light/%s/evidence/, the update_client tx with the misbehaviour on %s) with %s's operators; a new client must start from a header of the chain they continue.",
			src.ChainID(), src.ChainID(), dst.ChainID(), src.ChainID())
	}
	next("Agree on %s's trust root with its operators, out of band: a height and hash of the chain as it continues (the newest header verified here: height %d, hash %s, %s).",
		src.ChainID(), lb.Height, strings.ToUpper(hex.EncodeToString(lb.Hash())), lb.Time.UTC().Format(time.RFC3339))
	keepLine := fmt.Sprintf("\n     and in config.toml keep %s's active client of %s:  [paths.%s.%s] client_id = %q",
		src.ChainID(), dst.ChainID(), newPath, keep, src.ClientID)
	if both {
		keepLine = "\n     (both clients are unusable: link creates both anew)"
	}
	next("A new path over a new client (the old path's ids stay as they are):\n     cityrelay paths new %s --src %s --dst %s --src-port %s --dst-port %s --version %s%s",
		newPath, srcFlag, dstFlag, p.A.PortID, p.B.PortID, p.Version, keepLine)
	next("Create the new client of %s on %s and a connection over it:\n     cityrelay tx link %s", src.ChainID(), dst.ChainID(), newPath)
	if p.IsDID() {
		reg, err := relayer.RegisteredClient(ctx, light.VerifyProofAgainstAppHash, dst, src.ChainID())
		if err != nil {
			return err
		}
		now := "names no client for " + src.ChainID()
		if reg != "" {
			now = fmt.Sprintf("names %s for %s", reg, src.ChainID())
		}
		next("%s's registry admin points the city registry at the new client (link stops before the channel and prints this with the new id; %s's registry now %s, proven). Registering a city again replaces its client:\n     citychaind tx did register-city %s <new client id> --from <registry-admin> --chain-id %s",
			dst.ChainID(), dst.ChainID(), now, src.ChainID(), dst.ChainID())
		next("Open the did channel over the new connection:\n     cityrelay tx link %s", newPath)
	} else {
		next("The channel over the new connection is opened by the same command (link goes on to the channel).")
	}
	next("Relay the new path (cityrelay start %s, or every path), and keep relaying %s until its packets in flight are settled (below); then remove [paths.%s] from config.toml.",
		newPath, p.Name, p.Name)

	// Packets in flight on the old channel.
	toDst, acksToSrc, err := relayer.Unrelayed(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("packets in flight on %s: %w", p.Name, err)
	}
	toSrc, acksToDst, err := relayer.Unrelayed(ctx, dst, src)
	if err != nil {
		return fmt.Errorf("packets in flight on %s: %w", p.Name, err)
	}
	fmt.Fprintf(w, "\nPackets in flight on the old channel (%s %s <-> %s %s):\n", src.ChainID(), src.ChannelID, dst.ChainID(), dst.ChannelID)
	fmt.Fprintf(w, "  %s -> %s: %d sent and not received%s: never received over this channel (%s cannot verify %s any more). Once each one's timeout passes, a relayer serving %s times it out at %s, proven from %s's state through %s's client %s; then the sender sends it again over the new channel.\n",
		src.ChainID(), dst.ChainID(), len(toDst), seqList(toDst), dst.ChainID(), src.ChainID(), p.Name, src.ChainID(), dst.ChainID(), src.ChainID(), src.ClientID)
	fmt.Fprintf(w, "  %s -> %s: %d received by %s whose acknowledgements have not reached %s%s: %s cannot take them any more; %s keeps them as sent (and, on a did channel, pending).\n",
		dst.ChainID(), src.ChainID(), len(acksToDst), src.ChainID(), dst.ChainID(), seqList(acksToDst), dst.ChainID(), dst.ChainID())
	if both {
		fmt.Fprintf(w, "  %s -> %s: %d sent and not received%s: never received over this channel, nor timed out (both clients are unusable): they stay pending on %s; send them again over the new channel.\n",
			dst.ChainID(), src.ChainID(), len(toSrc), seqList(toSrc), dst.ChainID())
	} else {
		fmt.Fprintf(w, "  %s -> %s: %d sent and not received%s: %s can still receive them (its client %s of %s is active; a relayer serving %s relays them), but their acknowledgements and timeouts need %s's client of %s: they stay pending on %s; send them again over the new channel if they must be confirmed.\n",
			dst.ChainID(), src.ChainID(), len(toSrc), seqList(toSrc), src.ChainID(), src.ClientID, dst.ChainID(), p.Name, dst.ChainID(), src.ChainID(), dst.ChainID())
	}
	fmt.Fprintf(w, "  %s -> %s: %d acknowledgements waiting for %s%s: relayed by a relayer serving %s.\n",
		src.ChainID(), dst.ChainID(), len(acksToSrc), src.ChainID(), seqList(acksToSrc), p.Name)
	fmt.Fprintf(w, "\nAlternative that keeps %s and its packets in flight: ibc-go's MsgRecoverClient, signed by %s's authority (a city chain's genesis upgrade_authority; none: not possible), replaces %s's state with that of a new, active client of %s with the same parameters (a substitute made by the create-client step alone).\n",
		dst.ChannelID, dst.ChainID(), dst.ClientID, src.ChainID())
	return nil
}

// seqList shows up to 10 sequences.
func seqList(seqs []uint64) string {
	if len(seqs) == 0 {
		return ""
	}
	parts := []string{}
	for i, s := range seqs {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("… %d more", len(seqs)-10))
			break
		}
		parts = append(parts, fmt.Sprint(s))
	}
	return " (sequences " + strings.Join(parts, ", ") + ")"
}
