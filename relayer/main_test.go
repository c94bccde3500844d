package relayer_test

import (
	"testing"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
)

// net is a 2-chain devnet shared by the package's tests.
var net *devnet.Devnet

func TestMain(m *testing.M) {
	testnet.Main(m, testnet.Shared{Net: &net, Options: devnet.Options{ChainIDs: []string{"seoul-1", "bucheon-1"}}})
}

// end is the end of a path on chain c's port, relaying with the devnet's relayer key and a light client of c.
func end(t testing.TB, c *devnet.Chain, port string) *relayer.End {
	return &relayer.End{Chain: testnet.Client(t, c, devnet.RelayerKey), Light: testnet.LightOf(t, c), PortID: port}
}
