package relayer

import (
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains/cosmos"
)

// TxSearcher is a chain whose tx index can be searched (for clearing).
type TxSearcher interface {
	SearchTxEvents(ctx context.Context, query string, perPage int) ([]cosmos.TxEvents, error)
}

// SentPackets finds, in src's tx index, the packets with the given sequences that src sent on its
// channel, and the newest block holding one of them (proofs come from above it). The data is not
// trusted: relaying checks each packet against its proven commitment.
func SentPackets(ctx context.Context, src *End, seqs []uint64) ([]channeltypes.Packet, int64, error) {
	var out []channeltypes.Packet
	var height int64
	for _, seq := range seqs {
		q := fmt.Sprintf("send_packet.packet_src_channel='%s' AND send_packet.packet_src_port='%s' AND send_packet.packet_sequence='%d'",
			src.ChannelID, src.PortID, seq)
		evs, h, err := search(ctx, src, q)
		if err != nil {
			return nil, 0, err
		}
		// A malformed event among the results is skipped (it is untrusted anyway): the packet is
		// found among the others or not at all.
		pks, _ := SendPackets(evs)
		for _, pk := range pks {
			if pk.Sequence == seq && pk.SourceChannel == src.ChannelID {
				out = append(out, pk)
				height = max(height, h)
				break
			}
		}
	}
	return out, height, nil
}

// AcksFor finds, in dst's tx index, the acknowledgements dst wrote on its channel for the given
// sequences, and the newest block holding one of them.
func AcksFor(ctx context.Context, dst *End, seqs []uint64) ([]Ack, int64, error) {
	var out []Ack
	var height int64
	for _, seq := range seqs {
		q := fmt.Sprintf("write_acknowledgement.packet_dst_channel='%s' AND write_acknowledgement.packet_dst_port='%s' AND write_acknowledgement.packet_sequence='%d'",
			dst.ChannelID, dst.PortID, seq)
		evs, h, err := search(ctx, dst, q)
		if err != nil {
			return nil, 0, err
		}
		as, _ := WrittenAcks(evs)
		for _, a := range as {
			if a.Packet.Sequence == seq && a.Packet.DestinationChannel == dst.ChannelID {
				out = append(out, a)
				height = max(height, h)
				break
			}
		}
	}
	return out, height, nil
}

func search(ctx context.Context, e *End, q string) ([]abci.Event, int64, error) {
	ts, ok := e.Chain.(TxSearcher)
	if !ok {
		return nil, 0, fmt.Errorf("chain %s cannot search its tx index", e.ChainID())
	}
	txs, err := ts.SearchTxEvents(ctx, q, 10)
	if err != nil {
		return nil, 0, fmt.Errorf("search %s on %s: %w", q, e.ChainID(), err)
	}
	var evs []abci.Event
	var h int64
	for _, tx := range txs {
		evs = append(evs, tx.Events...)
		h = max(h, tx.Height)
	}
	return evs, h, nil
}
