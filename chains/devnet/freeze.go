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

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
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
		var call struct {
			Method string         `json:"method"`
			Params map[string]any `json:"params"`
			ID     any            `json:"id"`
		}
		if json.Unmarshal(body, &call) == nil && call.Method == "commit" && call.Params["height"] == nil {
			body, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "id": call.ID, "method": "commit",
				"params": map[string]any{"height": strconv.FormatInt(frozenAt, 10)}})
		}
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
	}), frozenAt, nil
}
