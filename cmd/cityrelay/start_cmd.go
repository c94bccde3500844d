package main

import (
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

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

// envIfNamed is the value of environment variable name, or "" when no name is given.
func envIfNamed(name string) string {
	if name == "" {
		return ""
	}
	return os.Getenv(name)
}
