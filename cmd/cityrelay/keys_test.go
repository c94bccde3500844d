package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/ethereum/go-ethereum/common"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/keys"
)

// `keys add|restore --algo --coin-type --hd-path` and `keys export|import`, from the command line: the
// addresses are the SDK's derivation for the path (and Ethereum's for eth_secp256k1), the chain's
// key_algo/coin_type/hd_path are the defaults the flags override, an exported key imported on another
// home has the same address, the passphrase never appears in the output, and a wrong passphrase is
// refused with a clear error.
func TestKeysOptionsAndExportCLI(t *testing.T) {
	const hardhat = "test test test test test test test test test test test junk"
	dir := t.TempDir()
	h := []string{"--home", dir}
	mustCLI(t, "", append(h, "config", "init")...)
	mustCLI(t, "", append(h, "chains", "add", "evmos_9000-1", "--rpc", "http://127.0.0.1:1", "--gas-price", "0.0025ucity",
		"--keyring-backend", "test", "--devnet", "--trusting-period", "48h")...)
	addrOf := func(out string) string {
		t.Helper()
		m := regexp.MustCompile(`: (city1[0-9a-z]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no address in %q", out)
		}
		return m[1]
	}
	def := addrOf(mustCLI(t, hardhat+"\n", append(h, "keys", "restore", "evmos_9000-1", "default")...))
	// The keyring refuses a second key of one address: the path's key is deleted before the coin type's.
	path := addrOf(mustCLI(t, hardhat+"\n", append(h, "keys", "restore", "evmos_9000-1", "path", "--hd-path", "m/44'/529'/0'/0/0")...))
	mustCLI(t, "", append(h, "keys", "delete", "evmos_9000-1", "path")...)
	coin := addrOf(mustCLI(t, hardhat+"\n", append(h, "keys", "restore", "evmos_9000-1", "coin", "--coin-type", "529")...))
	if coin == def || coin != path {
		t.Fatalf("--coin-type 529 gives %s, --hd-path m/44'/529'/0'/0/0 gives %s (default path: %s): want equal, and not the default", coin, path, def)
	}
	eth := mustCLI(t, hardhat+"\n", append(h, "keys", "restore", "evmos_9000-1", "eth", "--algo", "eth_secp256k1")...)
	ethAddr, err := sdk.Bech32ifyAddressBytes("city", common.HexToAddress("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if addrOf(eth) != ethAddr || !strings.Contains(eth, "eth_secp256k1, m/44'/60'/0'/0/0") {
		t.Fatalf("eth_secp256k1 key: %q, want the Ethereum address 0xf39F… as %s", eth, ethAddr)
	}
	if out, err := cli(t, hardhat+"\n", append(h, "keys", "restore", "evmos_9000-1", "bad", "--coin-type", "60", "--hd-path", "m/44'/118'/0'/0/0")...); err == nil ||
		!strings.Contains(err.Error(), "contradicts") {
		t.Fatalf("contradicting --coin-type and --hd-path: %v %s", err, out)
	}

	// Export, then import on another home.
	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("moving day passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	armorFile := filepath.Join(t.TempDir(), "eth.armor")
	out := mustCLI(t, "", append(h, "keys", "export", "evmos_9000-1", "eth", "--passphrase-file", pass, "--out", armorFile)...)
	armor, err := os.ReadFile(armorFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(armorFile); st.Mode().Perm() != 0o600 {
		t.Fatalf("armor file mode %v, want 0600", st.Mode().Perm())
	}
	if strings.Contains(out, "moving day") || strings.Contains(string(armor), "moving day") || !strings.Contains(string(armor), "BEGIN TENDERMINT PRIVATE KEY") {
		t.Fatalf("export output %q / armor:\n%s", out, armor)
	}
	// The passphrase from standard input works too (a pipe: the first line).
	stdoutArmor := mustCLI(t, "moving day passphrase\n", append(h, "keys", "export", "evmos_9000-1", "coin")...)
	if strings.Contains(stdoutArmor, "moving day") || !strings.Contains(stdoutArmor, "BEGIN TENDERMINT PRIVATE KEY") {
		t.Fatalf("export to stdout: %q", stdoutArmor)
	}
	if _, err := cli(t, "short\n", append(h, "keys", "export", "evmos_9000-1", "coin")...); !errors.Is(err, keys.ErrEmptyPassphrase) {
		t.Fatalf("export with a short passphrase: %v", err)
	}

	other := t.TempDir()
	o := []string{"--home", other}
	mustCLI(t, "", append(o, "config", "init")...)
	mustCLI(t, "", append(o, "chains", "add", "evmos_9000-1", "--rpc", "http://127.0.0.1:1", "--gas-price", "0.0025ucity",
		"--keyring-backend", "test", "--devnet", "--trusting-period", "48h")...)
	out, err = cli(t, "the wrong passphrase\n", append(o, "keys", "import", "evmos_9000-1", "eth", armorFile)...)
	if !errors.Is(err, keys.ErrWrongPassphrase) || !strings.Contains(err.Error(), "wrong passphrase") || strings.Contains(out+err.Error(), "the wrong passphrase") {
		t.Fatalf("import with a wrong passphrase: %v %q", err, out)
	}
	if out, err := cli(t, "", append(o, "keys", "show", "evmos_9000-1", "eth")...); err == nil {
		t.Fatalf("a key stored after a wrong passphrase: %s", out)
	}
	out = mustCLI(t, "", append(o, "keys", "import", "evmos_9000-1", "eth", armorFile, "--passphrase-file", pass)...)
	if addrOf(out) != ethAddr || !strings.Contains(out, "eth_secp256k1") {
		t.Fatalf("imported: %q, want %s (eth_secp256k1)", out, ethAddr)
	}
	out = mustCLI(t, string(stdoutArmor), append(o, "keys", "import", "evmos_9000-1", "coin", "-", "--passphrase-file", pass)...)
	if addrOf(out) != coin {
		t.Fatalf("imported from stdin: %q, want %s", out, coin)
	}

	// The chain's defaults: key_algo and coin_type in the config, used when no flag is given.
	c, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	ct := uint32(60)
	c.Chains["evmos_9000-1"].KeyAlgo, c.Chains["evmos_9000-1"].CoinType = "eth_secp256k1", &ct
	if err := c.Save(filepath.Join(dir, "config.toml")); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "", append(h, "keys", "delete", "evmos_9000-1", "eth")...)
	if got := addrOf(mustCLI(t, hardhat+"\n", append(h, "keys", "restore", "evmos_9000-1", "eth-default")...)); got != ethAddr {
		t.Fatalf("restore with the chain's key_algo/coin_type: %s, want %s", got, ethAddr)
	}
	// The same defaults from `chains add` flags.
	mustCLI(t, "", append(h, "chains", "add", "cronos_25-1", "--rpc", "http://127.0.0.1:1", "--gas-price", "0.0025ucity",
		"--keyring-backend", "test", "--devnet", "--trusting-period", "48h", "--key-algo", "eth_secp256k1", "--coin-type", "60")...)
	if got := addrOf(mustCLI(t, hardhat+"\n", append(h, "keys", "restore", "cronos_25-1", "eth")...)); got != ethAddr {
		t.Fatalf("restore with the chain's defaults from chains add: %s, want %s", got, ethAddr)
	}
	if out, err := cli(t, "", append(h, "chains", "add", "bad-1", "--rpc", "http://127.0.0.1:1", "--gas-price", "0.0025ucity",
		"--trusting-period", "48h", "--hd-path", "m/44'/118'/0'/0/0", "--coin-type", "60")...); err == nil || !strings.Contains(err.Error(), "coin_type") {
		t.Fatalf("chains add with a coin type against the hd path: %v %s", err, out)
	}
	mustCLI(t, "", append(h, "keys", "delete", "evmos_9000-1", "default")...)
	if got := addrOf(mustCLI(t, hardhat+"\n", append(h, "keys", "restore", "evmos_9000-1", "flag-wins", "--algo", "secp256k1", "--coin-type", "118")...)); got != def {
		t.Fatalf("flags over the chain's defaults: %s, want %s", got, def)
	}

}

// A relayer key of type eth_secp256k1 on a chain that does not know the type (citychaind: a Cosmos
// chain without Ethermint's keys) is refused by the chain, and Send says why (ErrAlgoUnsupported).
func TestEthKeyOnCosmosChainFailsClearly(t *testing.T) {
	net := testnet.Chains(t, "seoul-1")
	seoul := net.Chain("seoul-1")
	oh := operatorHome(t, []*devnet.Chain{seoul}, testnet.HomeOptions{})
	out := oh.Must("", "keys", "add", "seoul-1", "eth", "--algo", "eth_secp256k1")
	ethAddr := regexp.MustCompile(`: (city1[0-9a-z]+)`).FindStringSubmatch(out)
	if ethAddr == nil {
		t.Fatalf("keys add: %q", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Fund the key so the chain knows its account: what fails must be the key type alone.
	funder := testnet.Client(t, seoul, devnet.RelayerKey)
	if _, err := funder.Send(ctx, &banktypes.MsgSend{FromAddress: seoul.Relayer.Address, ToAddress: ethAddr[1],
		Amount: sdk.NewCoins(sdk.NewCoin("ucity", sdkmath.NewInt(1_000_000)))}); err != nil {
		t.Fatal(err)
	}
	cfg := oh.Config()
	cfg.Chains["seoul-1"].KeyName = "eth"
	rt := assemble.Open(cfg, assemble.Options{Home: oh.Dir})
	defer rt.Close()
	c, err := rt.Chain("seoul-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(ctx, &banktypes.MsgSend{FromAddress: ethAddr[1], ToAddress: seoul.Relayer.Address,
		Amount: sdk.NewCoins(sdk.NewCoin("ucity", sdkmath.NewInt(1)))})
	t.Logf("send with an eth_secp256k1 key on seoul-1: %v", err)
	if err == nil || !errors.Is(err, keys.ErrAlgoUnsupported) || !strings.Contains(err.Error(), "eth_secp256k1") || !strings.Contains(err.Error(), "seoul-1") {
		t.Fatalf("an eth_secp256k1 key on a chain without it: %v, want ErrAlgoUnsupported naming the chain and the algorithm", err)
	}
}
