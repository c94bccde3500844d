package relayer

import (
	"context"
	"fmt"

	cmttypes "github.com/cometbft/cometbft/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
)

// TimedOut reports whether packet can no longer be received on the chain whose verified header is lb.
func TimedOut(p channeltypes.Packet, dst *End, lb *cmttypes.LightBlock) bool {
	if p.TimeoutTimestamp != 0 && uint64(lb.Time.UnixNano()) >= p.TimeoutTimestamp {
		return true
	}
	th := p.TimeoutHeight
	return !th.IsZero() && dst.height(lb.Height).GTE(th)
}

// TimeoutPackets proves on src (the chain that sent the packets) that dst never received them before
// their timeout: a proof of the receipt's absence on dst, at a verified header of dst above
// pastHeight (a header already past the timeouts), checked against its app hash. Packets dst did
// receive are skipped (their acknowledgement settles them).
func (r *Relayer) TimeoutPackets(ctx context.Context, src, dst *End, pks []channeltypes.Packet, pastHeight int64) (*TxInfo, []uint64, error) {
	if len(pks) == 0 {
		return nil, nil, nil
	}
	b, err := r.newBatch(ctx, src, dst, pastHeight-1)
	if err != nil {
		return nil, nil, err
	}
	var seqs []uint64
	for _, p := range pks {
		if !TimedOut(p, dst, b.lb) {
			continue
		}
		key := host.PacketReceiptKey(p.DestinationPort, p.DestinationChannel, p.Sequence)
		proven, err := dst.provenAt(ctx, r.Check, b.lb, ibcexported.StoreKey, key)
		if err != nil {
			return nil, nil, fmt.Errorf("prove receipt absence %s/%d: %w", p.DestinationChannel, p.Sequence, err)
		}
		if proven.Value != nil {
			continue // received after all
		}
		b.msgs = append(b.msgs, channeltypes.NewMsgTimeout(p, p.Sequence, proven.Bytes, b.height, b.signer))
		seqs = append(seqs, p.Sequence)
	}
	if len(seqs) == 0 {
		return nil, nil, nil
	}
	tx, err := b.send(ctx, src, "timeout", len(seqs))
	if err != nil {
		return nil, nil, err
	}
	return tx, seqs, nil
}
