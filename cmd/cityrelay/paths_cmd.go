package main

import (
	"fmt"
	"sort"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer/config"
)

func pathsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "paths", Short: "Add, list, show and delete paths"}
	var p config.Path
	add := &cobra.Command{
		Use: "new NAME", Short: "Add a path between two configured chains", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if _, ok := cfg.Paths[args[0]]; ok {
				return fmt.Errorf("path %s exists", args[0])
			}
			np := p
			cfg.Paths[args[0]] = &np
			if err := cfg.Validate(); err != nil {
				return err
			}
			if err := cfg.Save(configPath()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added path %s (%s/%s <-> %s/%s, %s); next: cityrelay tx link %s\n", args[0],
				p.Src.Chain, p.Src.PortID, p.Dst.Chain, p.Dst.PortID, p.Version, args[0])
			return nil
		},
	}
	add.Flags().StringVar(&p.Src.Chain, "src", "", "source chain id")
	add.Flags().StringVar(&p.Dst.Chain, "dst", "", "destination chain id")
	add.Flags().StringVar(&p.Src.PortID, "src-port", "did", "port on the source")
	add.Flags().StringVar(&p.Dst.PortID, "dst-port", "did", "port on the destination")
	add.Flags().StringVar(&p.Version, "version", "cityrelay-did-1", "channel version (ics20-1 for transfer)")
	add.Flags().StringVar(&p.Order, "order", "unordered", "unordered or ordered")

	cmd.AddCommand(add, pathsFetchCmd(), &cobra.Command{
		Use: "list", Short: "List paths", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			names := make([]string, 0, len(cfg.Paths))
			for n := range cfg.Paths {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				p := cfg.Paths[n]
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s %s/%s <-> %s %s/%s\n", n, p.Src.Chain, p.Src.PortID, orNone(p.Src.ChannelID),
					p.Dst.Chain, p.Dst.PortID, orNone(p.Dst.ChannelID))
			}
			return nil
		},
	}, &cobra.Command{
		Use: "show NAME", Short: "Show a path", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			p, ok := cfg.Paths[args[0]]
			if !ok {
				return fmt.Errorf("no path %s (cityrelay paths list)", args[0])
			}
			bz, err := toml.Marshal(p)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(bz)
			return err
		},
	}, &cobra.Command{
		Use: "delete NAME", Short: "Delete a path from the config (the chains keep its clients and channel)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			delete(cfg.Paths, args[0])
			if err := cfg.Save(configPath()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted path %s\n", args[0])
			return nil
		},
	})
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "(unlinked)"
	}
	return s
}
