package cosmos

import (
	"context"
	"fmt"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"

	"github.com/cityrelay/cityrelay/chains"
)

// BlockClientUpdates returns block h's txs and the MsgUpdateClient messages among them for clientID
// (chains.BlockUpdateReader). The bytes come from the node, unchecked: the caller checks their root
// against a verified header; the decoding is ours.
func (c *Client) BlockClientUpdates(ctx context.Context, h int64, clientID string) ([][]byte, []chains.ClientUpdateMsg, error) {
	var res *coretypes.ResultBlock
	err := c.RPC(ctx, "block", func(rpc *rpchttp.HTTP) error {
		var err error
		res, err = rpc.Block(ctx, &h)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("block %d of %s: %w", h, c.ChainID(), err)
	}
	if res.Block == nil || res.Block.Height != h {
		return nil, nil, fmt.Errorf("block %d of %s: the node answered another block", h, c.ChainID())
	}
	decode := c.cfg.TxConfig.TxDecoder()
	txs := make([][]byte, len(res.Block.Txs))
	var updates []chains.ClientUpdateMsg
	for i, raw := range res.Block.Txs {
		txs[i] = raw
		tx, err := decode(raw)
		if err != nil {
			continue // not a tx this chain's codec knows: it carries no update we could read
		}
		for _, msg := range tx.GetMsgs() {
			up, ok := msg.(*clienttypes.MsgUpdateClient)
			if !ok || up.ClientId != clientID || up.ClientMessage == nil {
				continue
			}
			updates = append(updates, chains.ClientUpdateMsg{TxIndex: i, TxHash: fmt.Sprintf("%X", cmttypes.Tx(raw).Hash()),
				Signer: up.Signer, ClientMessage: up.ClientMessage})
		}
	}
	return txs, updates, nil
}
