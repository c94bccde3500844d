package devnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
)

// FreezingProxy forwards CometBFT RPC requests to a chain's node, except that every request for the
// latest commit is answered with the commit at the node's height when the proxy was made: a node
// frozen in the past, which serves old but genuinely signed headers. Requests at a given height pass
// through. Tests use it to check that no one answers a question about now from a stale view.
func FreezingProxy(ctx context.Context, rpc string) (http.Handler, int64, error) {
	u, err := url.Parse(rpc)
	if err != nil {
		return nil, 0, fmt.Errorf("freezing proxy: %w", err)
	}
	cl, err := rpchttp.New(rpc, "/websocket")
	if err != nil {
		return nil, 0, fmt.Errorf("freezing proxy: %w", err)
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("freezing proxy: status of %s: %w", rpc, err)
	}
	frozenAt := st.SyncInfo.LatestBlockHeight
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if call, ok := rpcCall(body); ok && call.Method == "commit" && call.Params["height"] == nil {
			body, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "id": call.ID, "method": "commit",
				"params": map[string]any{"height": strconv.FormatInt(frozenAt, 10)}})
		}
		forward(w, r, u, body)
	}), frozenAt, nil
}

// ForkingProxy forwards CometBFT RPC requests to the chain's node, except that the commit at height
// is answered with a header conflicting with the committed one (ForgedLightBlock: another app hash,
// signed by the chain's validator key), as a node of a fork of the chain would serve it; with
// scramble, its signature is garbled, as a node that lies without the validators would serve it.
// The validator set is the chain's at every height, so validators requests pass through. Tests use
// it as a witness that catches a fork, or one that lies.
func (c *Chain) ForkingProxy(height int64, scramble bool) (http.Handler, error) {
	u, err := url.Parse(c.RPCAddr)
	if err != nil {
		return nil, fmt.Errorf("forking proxy: %w", err)
	}
	var mu sync.Mutex
	var forged []byte // the result of the commit at height, once made
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		call, ok := rpcCall(body)
		if ok && call.Method == "commit" && fmt.Sprint(call.Params["height"]) == strconv.FormatInt(height, 10) {
			mu.Lock()
			defer mu.Unlock()
			if forged == nil {
				lb, err := c.ForgedLightBlock(r.Context(), height)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				if scramble {
					lb.Commit.Signatures[0].Signature[0] ^= 0xff
				}
				if forged, err = cmtjson.Marshal(&coretypes.ResultCommit{SignedHeader: *lb.SignedHeader, CanonicalCommit: true}); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": call.ID, "result": json.RawMessage(forged)})
			return
		}
		forward(w, r, u, body)
	}), nil
}

// jsonrpcCall is a JSON-RPC request to a CometBFT node.
type jsonrpcCall struct {
	Method string         `json:"method"`
	Params map[string]any `json:"params"`
	ID     any            `json:"id"`
}

// rpcCall decodes a JSON-RPC request body (false: not one).
func rpcCall(body []byte) (jsonrpcCall, bool) {
	var call jsonrpcCall
	err := json.Unmarshal(body, &call)
	return call, err == nil
}

// forward sends r, with body, to the node at u and copies its answer to w.
func forward(w http.ResponseWriter, r *http.Request, u *url.URL, body []byte) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String()+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Header = r.Header.Clone()
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
