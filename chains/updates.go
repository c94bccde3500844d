package chains

import (
	"context"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
)

// BlockUpdateReader is a chain whose blocks' txs can be read with the IBC client updates they carry:
// an optional capability, for watching the updates others submit to the clients the relayer relays
// over.
type BlockUpdateReader interface {
	// BlockClientUpdates returns the txs of block h as the block holds them (their Merkle root is the
	// header's DataHash: the caller checks it against a verified header) and the MsgUpdateClient
	// messages among them for clientID, decoded here from those bytes. A tx that does not decode is
	// skipped.
	BlockClientUpdates(ctx context.Context, h int64, clientID string) (txs [][]byte, updates []ClientUpdateMsg, err error)
}

// ClientUpdateMsg is a MsgUpdateClient found in a block.
type ClientUpdateMsg struct {
	// TxIndex is the index of its tx in the block, TxHash that tx's hash (hex).
	TxIndex int
	TxHash  string
	Signer  string
	// ClientMessage is the header (or misbehaviour) it carries, a protobuf Any.
	ClientMessage *codectypes.Any
}
