package light_test

import (
	"context"
	"testing"

	lighthttp "github.com/cometbft/cometbft/light/provider/http"
	"github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/types"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/light"
)

func rpcOpts(h int64) client.ABCIQueryOptions { return client.ABCIQueryOptions{Height: h, Prove: true} }

func storeDirOf(t *testing.T, lc *light.Client) string { t.Helper(); return lc.StoreDir() }

func lastHeight(t *testing.T, c *devnet.Chain) int64 {
	t.Helper()
	cl, err := rpchttp.New(c.RPCAddr, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	st, err := cl.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.SyncInfo.LatestBlockHeight
}

// committed is the light block c committed at h, as its node serves it.
func committed(t *testing.T, c *devnet.Chain, h int64) *types.LightBlock {
	t.Helper()
	p, err := lighthttp.New(c.ChainID, c.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := p.LightBlock(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	return lb
}
