package evmrelay

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/cityrelay/cityrelay/light/qbft"
)

// rlpParentHash is the parent hash of a header's RLP, its first field.
func rlpParentHash(headerRLP []byte) (common.Hash, error) {
	var fields []rlp.RawValue
	var parent common.Hash
	if err := rlp.DecodeBytes(headerRLP, &fields); err != nil || len(fields) == 0 {
		return parent, fmt.Errorf("header rlp is not a list: %v", err)
	}
	if err := rlp.DecodeBytes(fields[0], &parent); err != nil {
		return parent, fmt.Errorf("parent hash: %w", err)
	}
	return parent, nil
}

// linksTo reports whether parent names the header raw: by its QBFT hash (Besu) or by keccak256 of its
// RLP (go-ethereum-based chains).
func linksTo(raw []byte, parent common.Hash) bool {
	if crypto.Keccak256Hash(raw) == parent {
		return true
	}
	h, err := qbft.ParseHeader(raw)
	if err != nil {
		return false
	}
	hash, err := h.Hash()
	return err == nil && hash == parent
}

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
