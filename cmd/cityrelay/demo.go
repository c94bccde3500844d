package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer/demo"
)

func demoCmd() *cobra.Command {
	var o demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run three city chains, a relayer and the credential story on embedded defaults",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			return demo.Run(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.Once, "once", false, "exit after the story (exit code 0 only when every step verified)")
	cmd.Flags().StringVar(&o.Home, "home", "", "keep chains, light stores and logs here (default: a temporary directory, removed on exit)")
	cmd.Flags().DurationVar(&o.BlockTime, "block-time", 300*time.Millisecond, "block interval of the demo chains")
	return cmd
}
