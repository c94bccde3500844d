package devnet_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/devnet"
)

// net is one devnet shared by the package's tests: starting chains is the slow part.
var net *devnet.Devnet

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	home, err := os.MkdirTemp("", "devnet-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(home)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	net, err = devnet.Start(ctx, devnet.Options{Home: home, ChainIDs: []string{"seoul-1", "bucheon-1"}, BlockTime: 200 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start devnet:", err)
		return 1
	}
	code := m.Run()
	if err := net.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop devnet:", err)
		return 1
	}
	return code
}
