package testnet

import (
	"context"
	"errors"
	"fmt"
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

// ProcessChain is a devnet chain run by a `citychaind start` child process (built once by Build),
// which a test can stop and start again with other flags: what an operator does at a software
// upgrade. (An in-process devnet chain cannot be restarted: CometBFT keeps its database locks.) The
// node's output goes to <home>/node.log.
type ProcessChain struct {
	*devnet.Chain
	tb  testing.TB
	bin string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// StartProcessChain initialises a home for chainID (loopback ports, BlockTime blocks, o's options) and
// runs it as a child process until the test ends; it returns once the chain is past height 2.
func StartProcessChain(tb testing.TB, chainID string, o devnet.InitOptions) *ProcessChain {
	tb.Helper()
	ports, err := devnet.FreePorts(3)
	if err != nil {
		tb.Fatal(err)
	}
	o.Home, o.ChainID = filepath.Join(tb.TempDir(), chainID), chainID
	o.RPCPort, o.P2PPort, o.GRPCPort = ports[0], ports[1], ports[2]
	if o.BlockTime == 0 {
		o.BlockTime = BlockTime
	}
	c, err := devnet.InitHome(o)
	if err != nil {
		tb.Fatalf("init %s: %v", chainID, err)
	}
	p := &ProcessChain{Chain: c, tb: tb, bin: Build(tb, "github.com/cityrelay/cityrelay/cmd/citychaind")}
	tb.Cleanup(func() {
		if err := p.Stop(); err != nil {
			tb.Errorf("stop %s: %v", chainID, err)
		}
	})
	p.Start(2)
	return p
}

// Start starts the node with extra flags (for example --upgrade-handler NAME) and waits until the
// chain's height is at least minHeight.
func (p *ProcessChain) Start(minHeight int64, flags ...string) {
	p.tb.Helper()
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		p.tb.Fatalf("start %s: already running", p.ChainID)
	}
	logf, err := os.OpenFile(filepath.Join(p.Home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.mu.Unlock()
		p.tb.Fatal(err)
	}
	args := append([]string{"start", "--home", p.Home, "--log_level", "info"}, flags...)
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		p.mu.Unlock()
		p.tb.Fatalf("start %s: %v", p.ChainID, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done, p.log = cmd, done, logf
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := p.WaitHeight(ctx, minHeight); err != nil {
		p.tb.Fatalf("%v\n%s", err, p.LogTail(4000))
	}
}

// Stop stops the node: SIGTERM to its process, SIGKILL after 20 s (a node halted by a consensus
// failure, as at an upgrade height, may not stop by itself). It is safe to call when not running.
func (p *ProcessChain) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	cmd, done := p.cmd, p.done
	p.cmd = nil
	defer p.log.Close()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(20 * time.Second):
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.ChainID, cmd.Process.Pid, err)
	}
	<-done
	return nil
}

// height is the chain's latest height (0 when its RPC does not answer).
func (p *ProcessChain) height() int64 {
	cl, err := rpchttp.New(p.RPCAddr, "/websocket")
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

var minGasPricesLine = regexp.MustCompile(`(?m)^minimum-gas-prices = ".*"$`)

// RestartWithMinGasPrice stops the node, sets minimum-gas-prices in its app.toml to price (e.g.
// "0.01ucity") and starts it again, as an operator raises a validator's minimum: the node then
// refuses, in CheckTx, txs whose fee is below price × gas (ErrInsufficientFee).
func (p *ProcessChain) RestartWithMinGasPrice(price string) {
	p.tb.Helper()
	before := p.height()
	if err := p.Stop(); err != nil {
		p.tb.Fatal(err)
	}
	path := filepath.Join(p.Home, "config", "app.toml")
	bz, err := os.ReadFile(path)
	if err != nil {
		p.tb.Fatal(err)
	}
	if !minGasPricesLine.Match(bz) {
		p.tb.Fatalf("%s has no minimum-gas-prices line", path)
	}
	bz = minGasPricesLine.ReplaceAll(bz, []byte(fmt.Sprintf("minimum-gas-prices = %q", price)))
	if err := os.WriteFile(path, bz, 0o600); err != nil {
		p.tb.Fatal(err)
	}
	p.Start(max(before+1, 2))
	p.tb.Logf("%s restarted with minimum-gas-prices %s", p.ChainID, price)
}

// LogTail is the last n bytes of the node's log.
func (p *ProcessChain) LogTail(n int64) string {
	bz, err := os.ReadFile(filepath.Join(p.Home, "node.log"))
	if err != nil {
		return err.Error()
	}
	if int64(len(bz)) > n {
		bz = bz[int64(len(bz))-n:]
	}
	return string(bz)
}
