package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/cmd/cityrelay/internal/demo"
)

func demoCmd() *cobra.Command {
	var o demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run three city chains and an EVM city, the relayer and the credential story on embedded defaults; then the web console and a trickle of citizen activity until Ctrl-C (--once exits)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			return demo.Run(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.Once, "once", false, "exit after the story (exit code 0 only when every step verified)")
	cmd.Flags().StringVar(&o.Home, "home", "", "keep chains, light stores and logs here (default: a temporary directory, removed on exit)")
	cmd.Flags().StringVar(&o.Listen, "listen", demo.DefaultListen, "loopback address of the web console and /metrics (without --once); a free port is used when its port is taken")
	cmd.Flags().DurationVar(&o.TrickleEvery, "trickle-every", demo.DefaultTrickleEvery, "pace of the citizen activity after the story (without --once)")
	cmd.Flags().DurationVar(&o.BlockTime, "block-time", 300*time.Millisecond, "block interval of the demo chains")
	return cmd
}
