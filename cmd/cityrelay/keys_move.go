package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/keys"
)

// keySpec is the key options of `keys add|restore`: the flags where given, else the chain's
// key_algo, coin_type and hd_path. --coin-type or --hd-path replaces the chain's path altogether.
func keySpec(cmd *cobra.Command, c *config.Chain) (keys.Spec, error) {
	f := cmd.Flags()
	algo := c.KeyAlgo
	if f.Changed("algo") {
		algo, _ = f.GetString("algo")
	}
	coinType, hdPath := c.CoinType, c.HDPath
	if f.Changed("coin-type") || f.Changed("hd-path") {
		coinType, hdPath = nil, ""
		if f.Changed("coin-type") {
			ct, _ := f.GetUint32("coin-type")
			coinType = &ct
		}
		hdPath, _ = f.GetString("hd-path")
	}
	spec, err := keys.ParseSpec(algo, coinType, hdPath)
	if err != nil {
		return keys.Spec{}, fmt.Errorf("--algo/--coin-type/--hd-path: %w", err)
	}
	return spec, nil
}

// readPassphrase reads the armor's passphrase from file (its first line), else from a terminal
// without echo (twice with confirm), else the first line of standard input. It is never printed.
func readPassphrase(cmd *cobra.Command, file string, confirm bool) (string, error) {
	if file != "" {
		bz, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("passphrase file: %w", err)
		}
		line, _, _ := strings.Cut(string(bz), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(cmd.ErrOrStderr(), prompt)
			bz, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(cmd.ErrOrStderr())
			return string(bz), err
		}
		p, err := ask("passphrase of the armored key: ")
		if err != nil {
			return "", fmt.Errorf("read passphrase: %w", err)
		}
		if confirm {
			again, err := ask("again: ")
			if err != nil {
				return "", fmt.Errorf("read passphrase: %w", err)
			}
			if again != p {
				return "", errors.New("the passphrases differ")
			}
		}
		return p, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read passphrase from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func exportCmd() *cobra.Command {
	var passFile, out string
	cmd := &cobra.Command{
		Use:   "export CHAIN-ID NAME",
		Short: "Print a key armored and encrypted with a passphrase, to move it to another host (`keys import`)",
		Long: "Print the key's private key, encrypted with a passphrase (at least 8 characters; from --passphrase-file,\n" +
			"else asked on the terminal without echo, else the first line of standard input), in the SDK's armor.\n" +
			"The file keyring's own passphrase comes from " + passphraseEnv + " or its prompt. Keep the armor secret.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, _, err := openKeyring(cmd, args[0])
			if err != nil {
				return err
			}
			pass, err := readPassphrase(cmd, passFile, true)
			if err != nil {
				return err
			}
			armor, err := keys.Export(kr, args[1], pass)
			if err != nil {
				return err
			}
			if out == "" {
				fmt.Fprintln(cmd.OutOrStdout(), armor)
				return nil
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("write the armored key: %w", err)
			}
			if _, err := fmt.Fprintln(f, armor); err != nil {
				f.Close()
				return fmt.Errorf("write the armored key: %w", err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("write the armored key: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s on %s exported to %s\n", args[1], args[0], out)
			return nil
		},
	}
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file whose first line is the armor's passphrase")
	cmd.Flags().StringVar(&out, "out", "", "write the armor to this new file (mode 0600) instead of standard output")
	return cmd
}

func importCmd() *cobra.Command {
	var passFile string
	cmd := &cobra.Command{
		Use:   "import CHAIN-ID NAME ARMOR-FILE",
		Short: "Store a key exported with `keys export` (ARMOR-FILE, or - for standard input with --passphrase-file)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			var armor []byte
			var err error
			if args[2] == "-" {
				if passFile == "" {
					return errors.New("armor on standard input: give the passphrase with --passphrase-file")
				}
				armor, err = io.ReadAll(cmd.InOrStdin())
			} else {
				armor, err = os.ReadFile(args[2])
			}
			if err != nil {
				return fmt.Errorf("read the armored key: %w", err)
			}
			kr, c, err := openKeyring(cmd, args[0])
			if err != nil {
				return err
			}
			pass, err := readPassphrase(cmd, passFile, false)
			if err != nil {
				return err
			}
			addr, err := keys.Import(kr, args[1], string(armor), pass, c.AccountPrefix)
			if err != nil {
				return err
			}
			algo, err := keys.Algo(kr, args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s on %s: %s (%s)\n", args[1], args[0], addr, algo)
			return nil
		},
	}
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file whose first line is the armor's passphrase")
	return cmd
}
