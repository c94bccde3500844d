package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// countingNode is a real node's RPC behind a proxy that counts the requests it forwards, by method.
type countingNode struct {
	*httptest.Server
	mu      sync.Mutex
	methods map[string]int
}

func newCountingNode(t *testing.T, target string) *countingNode {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	n := &countingNode{methods: map[string]int{}}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var call struct {
			Method string         `json:"method"`
			Params map[string]any `json:"params"`
		}
		method := strings.TrimPrefix(r.URL.Path, "/")
		if json.Unmarshal(body, &call) == nil && call.Method != "" {
			method = call.Method
			if p, ok := call.Params["path"].(string); ok {
				method += " " + p
			}
		}
		n.mu.Lock()
		n.methods[method]++
		n.mu.Unlock()
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, u.String()+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	}))
	t.Cleanup(n.Close)
	return n
}

// snapshot is the requests counted so far, by method.
func (n *countingNode) snapshot() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[string]int, len(n.methods))
	for k, v := range n.methods {
		out[k] = v
	}
	return out
}

func since(now, before map[string]int) (total int, detail string) {
	var parts []string
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			total += d
			parts = append(parts, fmt.Sprintf("%s=%d", k, d))
		}
	}
	sort.Strings(parts)
	return total, strings.Join(parts, " ")
}

// TestIdleRPCPerBlockIsBounded runs the pipeline on two real chains with 1 s blocks and no packets,
// each reached only through a counting proxy (light client and chain client alike), and counts the
// requests each node gets over 15 blocks: an idle scanner asks once per block for the latest header
// (one commit: the validator set is reused while its hash is unchanged, and it polls when the next
// block is due), and not at all for the events of a block its verified header shows empty, so at most
// maxPerBlock requests a block (a fixed 200 ms poll made 11 at 1 s blocks: five header verifications
// of two requests each, and the block's events).
func TestIdleRPCPerBlockIsBounded(t *testing.T) {
	const blocks, maxPerBlock = 15, 2.0
	ctx := context.Background()
	net := testnet.ChainsWith(t, devnet.Options{ChainIDs: []string{"seoul-1", "bucheon-1"}, BlockTime: time.Second})
	nodes := map[string]*countingNode{}
	end := func(id, channel string) *relayer.End {
		c := net.Chain(id)
		nodes[id] = newCountingNode(t, c.RPCAddr)
		lc := testnet.Light(t, id, nodes[id].URL, func(o *light.Options) { o.TrustingPeriod, o.Logger = time.Hour, zerolog.Nop() })
		return &relayer.End{Chain: testnet.ClientWith(t, c, devnet.RelayerKey, devnet.ClientOptions{RPC: nodes[id].URL, NoGRPC: true}), Light: lc,
			PortID: didtypes.PortID, ClientID: "07-tendermint-0", ConnectionID: "connection-0", ChannelID: channel}
	}
	// The channel ids name no channel yet: the scanners find no work in any block, as on idle chains.
	p := &relayer.Path{Name: "seoul-bucheon", A: end("seoul-1", "channel-0"), B: end("bucheon-1", "channel-0"),
		Version: didtypes.Version, Order: channeltypes.UNORDERED}
	js := testnet.JetStream(t, time.Hour)
	var mu sync.Mutex
	scanned := map[string]int64{}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
			Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
			OnScanned: func(chain string, h int64) {
				mu.Lock()
				scanned[chain] = h
				mu.Unlock()
			}})
	}()
	defer func() { cancel(); <-done }()
	height := func(id string) int64 {
		st, err := testnet.ClientWith(t, net.Chain(id), devnet.RelayerKey, devnet.ClientOptions{NoGRPC: true}).Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.SyncInfo.LatestBlockHeight
	}
	// Warm-up: the scanners start and learn the block interval.
	seoul := net.Chain("seoul-1")
	if err := seoul.WaitHeight(ctx, height("seoul-1")+4); err != nil {
		t.Fatal(err)
	}
	before := map[string]map[string]int{}
	h0 := map[string]int64{}
	for id, n := range nodes {
		before[id], h0[id] = n.snapshot(), height(id)
	}
	if err := seoul.WaitHeight(ctx, h0["seoul-1"]+blocks); err != nil {
		t.Fatal(err)
	}
	for id, n := range nodes {
		made := height(id) - h0[id]
		total, detail := since(n.snapshot(), before[id])
		perBlock := float64(total) / float64(made)
		t.Logf("%s: %d requests in %d blocks (%.2f a block): %s", id, total, made, perBlock, detail)
		if made < blocks/2 {
			t.Fatalf("%s made only %d blocks while seoul-1 made %d", id, made, blocks)
		}
		if perBlock > maxPerBlock {
			t.Errorf("%s: %.2f RPC requests a block while idle, want at most %.0f (%s)", id, perBlock, maxPerBlock, detail)
		}
		mu.Lock()
		at := scanned[id]
		mu.Unlock()
		// The scanner keeps up: it finished a block of the window (block h is final once h+1 is verified).
		if at < h0[id]+made-3 {
			t.Errorf("%s: scanner at %d, chain at %d: the scanner fell behind", id, at, h0[id]+made)
		}
	}
}
