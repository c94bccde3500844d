package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/keys"
)

func openKeyring(cmd *cobra.Command, chainID string) (keyring.Keyring, *config.Chain, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, nil, err
	}
	c, ok := cfg.Chains[chainID]
	if !ok {
		return nil, nil, fmt.Errorf("no chain %s: add it with `cityrelay chains add`", chainID)
	}
	kr, err := keys.Open(keys.Options{Home: homeDir, ChainID: chainID, Backend: c.KeyringBackend, Devnet: c.Devnet,
		Passphrase: os.Getenv(passphraseEnv), Input: cmd.InOrStdin()})
	return kr, c, err
}

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the relayer's keys (one keyring per chain under <home>/keys)"}
	add := &cobra.Command{
		Use: "add CHAIN-ID NAME", Short: "Create a key; its mnemonic is printed once, here", Args: cobra.ExactArgs(2),
		Long: "Create a key. --algo, --coin-type and --hd-path override the chain's key_algo, coin_type and hd_path\n" +
			"(default secp256k1 at m/44'/118'/0'/0/0; eth_secp256k1 defaults to Ethereum's m/44'/60'/0'/0/0).",
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, c, err := openKeyring(cmd, args[0])
			if err != nil {
				return err
			}
			spec, err := keySpec(cmd, c)
			if err != nil {
				return err
			}
			addr, mnemonic, err := keys.AddWith(kr, args[1], c.AccountPrefix, spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s on %s: %s (%s, %s)\nmnemonic (write it down; it is not stored anywhere else in clear):\n%s\n", args[1], args[0], addr, spec.Algo, spec.HDPath, mnemonic)
			return nil
		},
	}
	restore := &cobra.Command{
		Use: "restore CHAIN-ID NAME", Short: "Import a key from its mnemonic, read from standard input", Args: cobra.ExactArgs(2),
		Long: "Import a key from its mnemonic (standard input). --algo, --coin-type and --hd-path override the chain's\n" +
			"key_algo, coin_type and hd_path: restore with the path the key was made at, or the address differs.",
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, c, err := openKeyring(cmd, args[0])
			if err != nil {
				return err
			}
			spec, err := keySpec(cmd, c)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "mnemonic:")
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			if err != nil && line == "" {
				return fmt.Errorf("read mnemonic: %w", err)
			}
			addr, err := keys.RestoreWith(kr, args[1], line, c.AccountPrefix, spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s on %s: %s (%s, %s)\n", args[1], args[0], addr, spec.Algo, spec.HDPath)
			return nil
		},
	}
	for _, c := range []*cobra.Command{add, restore} {
		c.Flags().String("algo", "", "signature algorithm: secp256k1 or eth_secp256k1 (Ethermint-style chains); default: the chain's key_algo")
		c.Flags().Uint32("coin-type", 0, "BIP-44 coin type: the key is made at m/44'/COIN'/0'/0/0 (118 Cosmos, 60 Ethereum); default: the chain's")
		c.Flags().String("hd-path", "", "BIP-44 HD path, e.g. m/44'/118'/0'/0/0; default: the chain's hd_path")
	}
	cmd.AddCommand(add, restore, exportCmd(), importCmd(), &cobra.Command{
		Use: "list CHAIN-ID", Short: "List keys", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, c, err := openKeyring(cmd, args[0])
			if err != nil {
				return err
			}
			list, err := keys.List(kr, c.AccountPrefix)
			if err != nil {
				return err
			}
			names := make([]string, 0, len(list))
			for n := range list {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", n, list[n])
			}
			return nil
		},
	}, &cobra.Command{
		Use: "show CHAIN-ID NAME", Short: "Show a key's address", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, c, err := openKeyring(cmd, args[0])
			if err != nil {
				return err
			}
			addr, err := keys.Address(kr, args[1], c.AccountPrefix)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), addr)
			return nil
		},
	}, &cobra.Command{
		Use: "balance CHAIN-ID", Short: "Show the relayer key's address on a chain and its balances (as the chain's node reports them)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			rt := openRuntime(cmd, cfg, false)
			defer rt.Close()
			c, err := rt.Chain(args[0])
			if err != nil {
				return err
			}
			addr, err := c.Address(cmd.Context())
			if err != nil {
				return err
			}
			coins, err := c.Balances(cmd.Context(), addr)
			if err != nil {
				return fmt.Errorf("balances of %s on %s: %w", addr, args[0], err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s key %s on %s\n", addr, cfg.Chains[args[0]].KeyName, args[0])
			for _, coin := range coins {
				fmt.Fprintf(out, "%s\t%s\n", coin.Amount, coin.Denom)
			}
			if coins.Empty() {
				fmt.Fprintln(out, "no balance")
			}
			return nil
		},
	}, &cobra.Command{
		Use: "delete CHAIN-ID NAME", Short: "Delete a key", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, _, err := openKeyring(cmd, args[0])
			if err != nil {
				return err
			}
			if err := kr.Delete(args[1]); err != nil {
				return fmt.Errorf("delete key %s: %w", args[1], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted key %s on %s\n", args[1], args[0])
			return nil
		},
	})
	return cmd
}
