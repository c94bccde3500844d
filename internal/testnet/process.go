package testnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/cityrelay/cityrelay/chains/devnet"
)

// ProcessChain is a devnet city chain run by a `citychaind start` child process, so it can be
// stopped and started again (an in-process node cannot be restarted: CometBFT v0.38 keeps database
// locks) with a changed app.toml, as an operator restarts a node.
type ProcessChain struct {
	*devnet.Chain
	bin string
	tb  testing.TB

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
}

// StartProcessChain initialises a city chain home for id (InitHome, loopback ports, BlockTime blocks)
// and starts `citychaind start` on it (the binary built once by Build); it returns once the chain
// is past height 2 and stops the process when the test ends.
func StartProcessChain(tb testing.TB, id string) *ProcessChain {
	tb.Helper()
	bin := Build(tb, "github.com/cityrelay/cityrelay/cmd/citychaind")
	ports, err := loopbackPorts(3)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := devnet.InitHome(devnet.InitOptions{Home: filepath.Join(tb.TempDir(), id), ChainID: id, BlockTime: BlockTime,
		RPCPort: ports[0], P2PPort: ports[1], GRPCPort: ports[2]})
	if err != nil {
		tb.Fatal(err)
	}
	pc := &ProcessChain{Chain: c, bin: bin, tb: tb}
	tb.Cleanup(func() {
		if err := pc.Stop(); err != nil {
			tb.Errorf("stop %s: %v", id, err)
		}
	})
	if err := pc.start(0); err != nil {
		tb.Fatal(err)
	}
	return pc
}

// start starts the node process (in its own process group, output to <home>/node.log) and waits
// until it makes a block past height before (and past 2).
func (pc *ProcessChain) start(before int64) error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.cmd != nil {
		return fmt.Errorf("start %s: already running", pc.ChainID)
	}
	logf, err := os.OpenFile(filepath.Join(pc.Home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("start %s: %w", pc.ChainID, err)
	}
	cmd := exec.Command(pc.bin, "start", "--home", pc.Home)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", pc.ChainID, err)
	}
	done := make(chan error, 1)
	go func() {
		done <- cmd.Wait()
		_ = logf.Close()
	}()
	pc.cmd, pc.done = cmd, done
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := pc.WaitHeight(ctx, max(before+1, 2)); err != nil {
		return fmt.Errorf("%w (node log: %s)", err, filepath.Join(pc.Home, "node.log"))
	}
	return nil
}

// height is the chain's latest height (0 when its RPC does not answer).
func (pc *ProcessChain) height() int64 {
	cl, err := rpchttp.New(pc.RPCAddr, "/websocket")
	if err != nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := cl.Status(ctx)
	if err != nil {
		return 0
	}
	return st.SyncInfo.LatestBlockHeight
}

// Stop stops the node with SIGTERM (SIGKILL after 30 s) and waits for it. The home stays.
func (pc *ProcessChain) Stop() error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.cmd == nil {
		return nil
	}
	pid := pc.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	var err error
	select {
	case err = <-pc.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		err = <-pc.done
	}
	pc.cmd, pc.done = nil, nil
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("stop %s: %w", pc.ChainID, err)
	}
	return nil
}

var minGasPricesLine = regexp.MustCompile(`(?m)^minimum-gas-prices = ".*"$`)

// RestartWithMinGasPrice stops the node, sets minimum-gas-prices in its app.toml to price (e.g.
// "0.01ucity") and starts it again, as an operator raises a validator's minimum: the node then
// refuses, in CheckTx, txs whose fee is below price × gas (ErrInsufficientFee).
func (pc *ProcessChain) RestartWithMinGasPrice(price string) {
	pc.tb.Helper()
	before := pc.height()
	if err := pc.Stop(); err != nil {
		pc.tb.Fatal(err)
	}
	path := filepath.Join(pc.Home, "config", "app.toml")
	bz, err := os.ReadFile(path)
	if err != nil {
		pc.tb.Fatal(err)
	}
	if !minGasPricesLine.Match(bz) {
		pc.tb.Fatalf("%s has no minimum-gas-prices line", path)
	}
	bz = minGasPricesLine.ReplaceAll(bz, []byte(fmt.Sprintf("minimum-gas-prices = %q", price)))
	if err := os.WriteFile(path, bz, 0o600); err != nil {
		pc.tb.Fatal(err)
	}
	if err := pc.start(before); err != nil {
		pc.tb.Fatal(err)
	}
	pc.tb.Logf("%s restarted with minimum-gas-prices %s", pc.ChainID, price)
}

// loopbackPorts returns n distinct loopback TCP ports that were free a moment ago (every listener
// is held until all are chosen).
func loopbackPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
