package relayer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/cityrelay/cityrelay/chains"
)

// An ORDERED channel end takes packets (and its sender acknowledgements) strictly in sequence: the
// chain refuses a MsgRecvPacket whose sequence is not the end's next_sequence_recv, and a
// MsgAcknowledgement whose sequence is not the sender's next_sequence_ack. So a batch for an ordered
// end carries only the run of sequences that starts at the proven next sequence and has no gap; what
// comes after a gap is Later (handed back, never skipped), and the gap itself is named (Missing) so a
// caller can fetch it again. A timeout on an ORDERED channel proves the receiver's next_sequence_recv
// and closes the sender's end (ICS-4); the close is then confirmed on the counterparty (close.go).

// ErrChannelClosed is returned when the channel end that was to take packets is CLOSED: the packets
// can only be timed out on close now (TimeoutPackets does that).
var ErrChannelClosed = errors.New("channel end closed")

// maxMissing bounds the sequences of one gap named in Outcome.Missing.
const maxMissing = 100

// channelAt reads e's channel proven at lb (an error when it does not exist).
func (e *End) channelAt(ctx context.Context, check ProofChecker, lb *cmttypes.LightBlock) (*channeltypes.Channel, *chains.Proof, error) {
	p, err := e.provenAt(ctx, check, lb, ibcexported.StoreKey, host.ChannelKey(e.PortID, e.ChannelID))
	if err != nil {
		return nil, nil, err
	}
	if p.Value == nil {
		return nil, nil, fmt.Errorf("channel %s/%s does not exist on %s at %d", e.PortID, e.ChannelID, e.ChainID(), lb.Height)
	}
	var c channeltypes.Channel
	if err := proto.Unmarshal(p.Value, &c); err != nil {
		return nil, nil, fmt.Errorf("decode channel %s/%s on %s: %w", e.PortID, e.ChannelID, e.ChainID(), err)
	}
	return &c, p, nil
}

// nextSeqAt proves a next-sequence value of e's channel (key: host.NextSequenceRecvKey or
// NextSequenceAckKey) at lb.
func (e *End) nextSeqAt(ctx context.Context, check ProofChecker, lb *cmttypes.LightBlock, key []byte) (uint64, *chains.Proof, error) {
	p, err := e.provenAt(ctx, check, lb, ibcexported.StoreKey, key)
	if err != nil {
		return 0, nil, err
	}
	if len(p.Value) != 8 {
		return 0, nil, fmt.Errorf("%s: %s at %d is %d bytes, not a sequence", e.ChainID(), key, lb.Height, len(p.Value))
	}
	return binary.BigEndian.Uint64(p.Value), p, nil
}

// openEnd proves e's channel at e's newest verified header: ErrChannelClosed when it is CLOSED.
func (r *Relayer) openEnd(ctx context.Context, e *End) (*channeltypes.Channel, *cmttypes.LightBlock, error) {
	lb, err := e.Light.VerifyLatest(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("verify latest header of %s: %w", e.ChainID(), err)
	}
	ch, _, err := e.channelAt(ctx, r.Check, lb)
	if err != nil {
		return nil, nil, err
	}
	if ch.State == channeltypes.CLOSED {
		return nil, nil, fmt.Errorf("%s/%s on %s (proven at %d): %w", e.PortID, e.ChannelID, e.ChainID(), lb.Height, ErrChannelClosed)
	}
	return ch, lb, nil
}

// inOrder keeps, of the items todo (indexes, their sequences by seq), the run that starts at next
// and has no gap, in sequence order (two items of one sequence, an honest one and a forgery, both
// stay: the proof tells them apart). Items below next are done (done is told of them); those after a
// gap are Later in out. It returns the run and the sequences missing before the first later item.
func inOrder(todo []int, seq func(int) uint64, next uint64, out *Outcome, done func(int)) ([]int, []uint64) {
	sorted := append([]int(nil), todo...)
	sort.SliceStable(sorted, func(i, j int) bool { return seq(sorted[i]) < seq(sorted[j]) })
	var run []int
	expect := next
	for k, idx := range sorted {
		s := seq(idx)
		switch {
		case s < next:
			done(idx)
		case s == expect:
			run = append(run, idx)
			expect++
		case s+1 == expect && len(run) > 0:
			run = append(run, idx) // a second item of the sequence just taken
		default:
			var missing []uint64
			for m := expect; m < s && len(missing) < maxMissing; m++ {
				missing = append(missing, m)
			}
			for _, rest := range sorted[k:] {
				out.Later[rest] = fmt.Sprintf("ordered channel: sequence %d is next, %d is missing before it", expect, expect)
			}
			return run, missing
		}
	}
	return run, nil
}

// recvInOrder narrows todo (packets dst has not received) to what an ORDERED dst can take now: the
// gap-free run from its next_sequence_recv proven at dlb, cut before a packet that timed out on dst
// (its timeout, which closes the channel, is due instead).
func (r *Relayer) recvInOrder(ctx context.Context, dst *End, dlb *cmttypes.LightBlock, pks []channeltypes.Packet, todo []int, out *Outcome) ([]int, error) {
	next, _, err := dst.nextSeqAt(ctx, r.Check, dlb, host.NextSequenceRecvKey(dst.PortID, dst.ChannelID))
	if err != nil {
		return nil, fmt.Errorf("prove next sequence recv of %s/%s: %w", dst.ChannelID, dst.ChainID(), err)
	}
	run, missing := inOrder(todo, func(i int) uint64 { return pks[i].Sequence }, next, out, func(i int) {
		out.Done[i] = fmt.Sprintf("next_sequence_recv %d proven on %s at %d", next, dst.ChainID(), dlb.Height)
	})
	out.Missing = missing
	for k, idx := range run {
		if TimedOut(pks[idx], dst, dlb) {
			for _, rest := range run[k:] {
				out.Later[rest] = fmt.Sprintf("ordered channel: packet %d timed out on %s; its timeout is due first", pks[idx].Sequence, dst.ChainID())
			}
			return run[:k], nil
		}
	}
	return run, nil
}
