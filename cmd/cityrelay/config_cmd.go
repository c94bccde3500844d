package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer/config"
)

func configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Create, show and check the relayer config"}
	cmd.AddCommand(&cobra.Command{
		Use: "init", Short: "Write the default config to <home>/config.toml", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(configPath()); err == nil {
				return fmt.Errorf("%s exists; edit it or remove it first", configPath())
			}
			if err := config.Default().Save(configPath()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; next: cityrelay chains add\n", configPath())
			return nil
		},
	}, &cobra.Command{
		Use: "show", Short: "Print the config", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			bz, err := toml.Marshal(cfg)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(bz)
			return err
		},
	}, &cobra.Command{
		Use: "validate [FILE]", Short: "Check a config file (default <home>/config.toml)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := configPath()
			if len(args) == 1 {
				path = args[0]
			}
			if _, err := config.Load(path); err != nil {
				var fe *config.FieldError
				if errors.As(err, &fe) {
					return fmt.Errorf("%w (fix that key and run validate again)", err)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK\n", path)
			return nil
		},
	})
	return cmd
}
