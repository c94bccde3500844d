package relayer

import (
	"context"
	"fmt"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains"
)

// TxSearcher is a chain whose tx index can be searched (for clearing): an optional capability,
// probed on an end's Chain.
type TxSearcher = chains.TxSearcher

// Sent is a packet found in a chain's tx index, with the block that sent it.
type Sent struct {
	Packet channeltypes.Packet
	Height int64
}

// Written is an acknowledgement found in a chain's tx index, with the block that wrote it.
type Written struct {
	Ack
	Height int64
}

// SentPackets finds, in src's tx index, the packets with the given sequences that src sent on its
// channel, and the newest block holding one of them (proofs come from above it). The data is not
// trusted: relaying checks each packet against its proven commitment. One search serves every packet
// of the tx it finds (a tx often sends many).
func SentPackets(ctx context.Context, src *End, seqs []uint64) ([]channeltypes.Packet, int64, error) {
	found, err := SentPacketsAt(ctx, src, seqs)
	if err != nil {
		return nil, 0, err
	}
	out := make([]channeltypes.Packet, len(found))
	var height int64
	for i, s := range found {
		out[i], height = s.Packet, max(height, s.Height)
	}
	return out, height, nil
}

// SentPacketsAt is SentPackets with each packet's own block (the height a scanner saw its send at:
// work published for it carries the same de-duplication id as the scanner's).
func SentPacketsAt(ctx context.Context, src *End, seqs []uint64) ([]Sent, error) {
	found := map[uint64]Sent{}
	for _, seq := range seqs {
		if _, ok := found[seq]; ok {
			continue
		}
		q := fmt.Sprintf("send_packet.packet_src_channel='%s' AND send_packet.packet_src_port='%s' AND send_packet.packet_sequence='%d'",
			src.ChannelID, src.PortID, seq)
		txs, err := search(ctx, src, q)
		if err != nil {
			return nil, err
		}
		for _, tx := range txs {
			// A malformed event among the results is skipped (it is untrusted anyway).
			pks, _ := SendPackets(tx.Events)
			for _, pk := range pks {
				if pk.SourceChannel == src.ChannelID && pk.SourcePort == src.PortID {
					found[pk.Sequence] = Sent{Packet: pk, Height: tx.Height}
				}
			}
		}
	}
	var out []Sent
	for _, seq := range seqs {
		if s, ok := found[seq]; ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// AcksFor finds, in dst's tx index, the acknowledgements dst wrote on its channel for the given
// sequences, and the newest block holding one of them (one search serves every ack of its tx).
func AcksFor(ctx context.Context, dst *End, seqs []uint64) ([]Ack, int64, error) {
	found, err := AcksAt(ctx, dst, seqs)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Ack, len(found))
	var height int64
	for i, w := range found {
		out[i], height = w.Ack, max(height, w.Height)
	}
	return out, height, nil
}

// AcksAt is AcksFor with each acknowledgement's own block.
func AcksAt(ctx context.Context, dst *End, seqs []uint64) ([]Written, error) {
	found := map[uint64]Written{}
	for _, seq := range seqs {
		if _, ok := found[seq]; ok {
			continue
		}
		q := fmt.Sprintf("write_acknowledgement.packet_dst_channel='%s' AND write_acknowledgement.packet_dst_port='%s' AND write_acknowledgement.packet_sequence='%d'",
			dst.ChannelID, dst.PortID, seq)
		txs, err := search(ctx, dst, q)
		if err != nil {
			return nil, err
		}
		for _, tx := range txs {
			as, _ := WrittenAcks(tx.Events)
			for _, a := range as {
				if a.Packet.DestinationChannel == dst.ChannelID && a.Packet.DestinationPort == dst.PortID {
					found[a.Packet.Sequence] = Written{Ack: a, Height: tx.Height}
				}
			}
		}
	}
	var out []Written
	for _, seq := range seqs {
		if w, ok := found[seq]; ok {
			out = append(out, w)
		}
	}
	return out, nil
}

func search(ctx context.Context, e *End, q string) ([]chains.TxEvents, error) {
	ts, ok := e.Chain.(TxSearcher)
	if !ok {
		return nil, fmt.Errorf("chain %s cannot search its tx index", e.ChainID())
	}
	txs, err := ts.SearchTxEvents(ctx, q, 10)
	if err != nil {
		return nil, fmt.Errorf("search %s on %s: %w", q, e.ChainID(), err)
	}
	return txs, nil
}
