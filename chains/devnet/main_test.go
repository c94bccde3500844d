package devnet_test

import (
	"testing"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

// net is one devnet shared by the package's tests: starting chains is the slow part.
var net *devnet.Devnet

func TestMain(m *testing.M) {
	testnet.Main(m, testnet.Shared{Net: &net, Options: devnet.Options{ChainIDs: []string{"seoul-1", "bucheon-1"}}})
}
