package evmrelay

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// witnessHeaders asks the node at url for the raw headers from..to (debug_getRawHeader, one batch).
// Nothing is verified here: the city-qbft client checks that they link to a block it trusts.
func witnessHeaders(ctx context.Context, url string, from, to uint64) ([][]byte, error) {
	c, err := rpc.DialContext(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	defer c.Close()
	raws := make([]hexutil.Bytes, to-from+1)
	batch := make([]rpc.BatchElem, len(raws))
	for i := range batch {
		batch[i] = rpc.BatchElem{Method: "debug_getRawHeader", Args: []any{hexutil.EncodeUint64(from + uint64(i))}, Result: &raws[i]}
	}
	if err := c.BatchCallContext(ctx, batch); err != nil {
		return nil, fmt.Errorf("debug_getRawHeader %d..%d from %s: %w", from, to, url, err)
	}
	out := make([][]byte, len(raws))
	for i, e := range batch {
		if e.Error != nil {
			return nil, fmt.Errorf("debug_getRawHeader %d from %s: %w", from+uint64(i), url, e.Error)
		}
		if len(raws[i]) == 0 {
			return nil, fmt.Errorf("debug_getRawHeader %d from %s: no such block", from+uint64(i), url)
		}
		out[i] = raws[i]
	}
	return out, nil
}
