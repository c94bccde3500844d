package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/daemon"
)

func startCmd() *cobra.Command {
	var trustLatest bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "start [PATH...]",
		Short: "Run the relay daemon: NATS pipelines for every linked path (or only the named ones), client refresh, metrics, /healthz, /v1/attestations",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			rt := openRuntime(cmd, cfg, trustLatest)
			defer rt.Close()
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			var password string
			if cfg.NATS.PasswordEnv != "" {
				password = os.Getenv(cfg.NATS.PasswordEnv)
			}
			return daemon.Run(cmd.Context(), daemon.Options{Home: homeDir, Config: cfg, Runtime: rt,
				Log: logger(cfg, cmd.ErrOrStderr()), NATSPassword: password, Paths: args,
				ConsoleToken: envIfNamed(cfg.Console.AdminTokenEnv)})
		},
	}
	cmd.Flags().BoolVar(&trustLatest, "trust-latest", false, "start light clients with an empty store from each chain's latest header")
	cmd.Flags().StringVar(&cpuProfile, "cpu-profile", "", "write a pprof CPU profile of the daemon to this file (for benchmarks)")
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
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			nc, err := dialNATS(cfg, natsURL)
			if err != nil {
				return err
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
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

// dialNATS connects to the relayer's NATS: url (--nats), or nats.url; the embedded server's token is
// read from its store, a cluster's credentials and TLS from the config.
func dialNATS(cfg *config.Config, url string) (*nats.Conn, error) {
	if url == "" && !cfg.NATS.Embedded {
		url = cfg.NATS.URL
	}
	if url == "" {
		return nil, errors.New("the embedded NATS lives inside `cityrelay start`: pass --nats with its URL (logged at start)")
	}
	var opts []nats.Option
	if cfg.NATS.Embedded {
		tok, err := packets.EmbeddedToken(cfg.NATS.EmbeddedStore(homeDir))
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Token(tok))
	} else {
		var err error
		if opts, err = daemon.ClusterOptions(cfg.NATS, os.Getenv(cfg.NATS.PasswordEnv)); err != nil {
			return nil, err
		}
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	return nc, nil
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
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			nc, err := dialNATS(cfg, natsURL)
			if err != nil {
				return err
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
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

// retryCmd re-queues dead letters.
func retryCmd() *cobra.Command {
	var natsURL string
	cmd := &cobra.Command{
		Use:   "retry SEQ...",
		Short: "Put dead-lettered work (by its number in `cityrelay query dead-letters`) back in the work queue",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			nc, err := dialNATS(cfg, natsURL)
			if err != nil {
				return err
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
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

// envIfNamed is the value of environment variable name, or "" when no name is given.
func envIfNamed(name string) string {
	if name == "" {
		return ""
	}
	return os.Getenv(name)
}
