package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// TestLyingDestinationDoesNotLoseWork: Bucheon's RPC node answers every "which of these packets are
// unreceived?" with "none": all already received. The relayer does not take its word for it: with no
// receipt proven against a verified header, it delivers the packets, and they all arrive.
func TestLyingDestinationDoesNotLoseWork(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	var lies atomic.Int64
	liar := httptest.NewServer(sayAllReceived(t, bucheon.RPCAddr, &lies))
	defer liar.Close()
	p := instanceVia(t, net, devnet.RelayerKey, map[string]string{"bucheon-1": liar.URL})
	testnet.LinkPath(t, net, p)
	js := testnet.JetStream(t, time.Hour)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
			BatchMax: 20, BatchWait: 200 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	}()
	defer func() { cancel(); <-done }()

	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	var issuerSeq uint64
	seqs, _ := attestations(t, seoul, admin, p.A.ChannelID, &issuerSeq, 40)
	deadline := time.Now().Add(2 * time.Minute)
	for _, s := range seqs {
		for {
			var resp didtypes.QueryDeliveryResponse
			err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: p.A.ChannelID, Sequence: s}, &resp, 0)
			if err == nil && resp.Delivery.State == didtypes.DELIVERY_STATE_DELIVERED {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("packet %d lost behind a lying node: %v %v", s, resp.Delivery.State, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if lies.Load() == 0 {
		t.Fatal("the proxy never lied: the test proves nothing")
	}
	t.Logf("%d lies told, %d packets delivered and acknowledged", lies.Load(), len(seqs))
}

// sayAllReceived forwards to a real node but answers every UnreceivedPackets query with an empty
// list (every packet "already received"). Headers and proofs pass through untouched.
func sayAllReceived(t *testing.T, target string, lies *atomic.Int64) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, u.String()+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		var call struct {
			Method string         `json:"method"`
			Params map[string]any `json:"params"`
		}
		if json.Unmarshal(body, &call) == nil && call.Method == "abci_query" && call.Params["path"] == "/ibc.core.channel.v1.Query/UnreceivedPackets" {
			var msg map[string]any
			if json.Unmarshal(out, &msg) == nil {
				if res, ok := msg["result"].(map[string]any); ok {
					if rr, ok := res["response"].(map[string]any); ok {
						rr["value"] = "" // an empty QueryUnreceivedPacketsResponse: nothing left to receive
						out, _ = json.Marshal(msg)
						lies.Add(1)
					}
				}
			}
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	})
}
