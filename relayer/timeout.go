package relayer

import (
	"context"
	"fmt"
	"sort"

	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/cityrelay/cityrelay/chains"
)

// TimedOut reports whether packet can no longer be received on the chain whose verified header is lb.
func TimedOut(p channeltypes.Packet, dst *End, lb *cmttypes.LightBlock) bool {
	if p.TimeoutTimestamp != 0 && uint64(lb.Time.UnixNano()) >= p.TimeoutTimestamp {
		return true
	}
	th := p.TimeoutHeight
	return !th.IsZero() && dst.height(lb.Height).GTE(th)
}

// TimeoutPackets proves on src (the chain that sent the packets) that dst never received them, at a
// verified header of dst above pastHeight, checked against its app hash, and sends one tx of
// timeouts; packets dst did receive are skipped (their acknowledgement settles them). What is proven
// depends on dst's channel end, proven at the same header:
//
//   - OPEN, UNORDERED: MsgTimeout with the absence of the packet's receipt, for packets past their
//     timeout on dst;
//   - OPEN, ORDERED: MsgTimeout with dst's next_sequence_recv (not past the packet), for packets past
//     their timeout; the chain then closes src's end (ICS-4), and the close is confirmed on dst
//     (Linker.ConfirmClose);
//   - CLOSED: MsgTimeoutOnClose for every pending packet, timed out or not, with the proof of the
//     closed end beside the receipt's absence (unordered) or next_sequence_recv (ordered).
func (r *Relayer) TimeoutPackets(ctx context.Context, src, dst *End, pks []channeltypes.Packet, pastHeight int64) (*TxInfo, []uint64, error) {
	if len(pks) == 0 {
		return nil, nil, nil
	}
	b, err := r.newBatch(ctx, src, dst, pastHeight-1)
	if err != nil {
		return nil, nil, err
	}
	ch, chProof, err := dst.channelAt(ctx, r.Check, b.lb)
	if err != nil {
		return nil, nil, fmt.Errorf("prove the channel timeouts go through: %w", err)
	}
	closed, ordered := ch.State == channeltypes.CLOSED, ch.Ordering == channeltypes.ORDERED
	var next uint64
	var nextProof *chains.Proof
	if ordered {
		if next, nextProof, err = dst.nextSeqAt(ctx, r.Check, b.lb, host.NextSequenceRecvKey(dst.PortID, dst.ChannelID)); err != nil {
			return nil, nil, fmt.Errorf("prove next sequence recv of %s/%s: %w", dst.ChannelID, dst.ChainID(), err)
		}
	}
	sorted := append([]channeltypes.Packet(nil), pks...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Sequence < sorted[j].Sequence })
	var seqs []uint64
	for _, p := range sorted {
		if !closed && !TimedOut(p, dst, b.lb) {
			continue
		}
		var proof []byte
		if ordered {
			if p.Sequence < next {
				continue // received after all
			}
			proof = nextProof.Bytes
		} else {
			key := host.PacketReceiptKey(p.DestinationPort, p.DestinationChannel, p.Sequence)
			proven, err := dst.provenAt(ctx, r.Check, b.lb, ibcexported.StoreKey, key)
			if err != nil {
				return nil, nil, fmt.Errorf("prove receipt absence %s/%d: %w", p.DestinationChannel, p.Sequence, err)
			}
			if proven.Value != nil {
				continue // received after all
			}
			proof = proven.Bytes
		}
		nextRecv := p.Sequence
		if ordered {
			nextRecv = next
		}
		var msg sdk.Msg = channeltypes.NewMsgTimeout(p, nextRecv, proof, b.height, b.signer)
		if closed {
			msg = channeltypes.NewMsgTimeoutOnCloseWithCounterpartyUpgradeSequence(p, nextRecv, proof, chProof.Bytes, b.height, b.signer, ch.UpgradeSequence)
		}
		b.msgs = append(b.msgs, msg)
		seqs = append(seqs, p.Sequence)
	}
	if len(seqs) == 0 {
		return nil, nil, nil
	}
	what := "timeout"
	if closed {
		what = "timeout on close"
	}
	tx, err := b.send(ctx, src, what, len(seqs))
	if err != nil {
		return nil, nil, err
	}
	return tx, seqs, nil
}
