package relayer

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/chains"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
)

// Ack is an acknowledgement written on the chain that received packet.
type Ack struct {
	Packet channeltypes.Packet
	Ack    []byte
}

// SendPackets extracts the packets of send_packet events. Events come from an RPC node and are not
// trusted: a packet is relayed only with a proof of its commitment checked against a verified app
// hash, and a forged event has no such commitment. A malformed event is skipped, not the others: the
// packets of the well-formed ones are returned with an error (wrapping ErrBadEvent) naming each
// skipped one.
func SendPackets(events []chains.Event) ([]channeltypes.Packet, error) {
	var out []channeltypes.Packet
	var errs []error
	for _, ev := range events {
		if ev.Type != channeltypes.EventTypeSendPacket {
			continue
		}
		p, _, err := packetFromEvent(ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// WrittenAcks extracts the acknowledgements of write_acknowledgement events (untrusted, as above;
// malformed events are skipped and reported in the error).
func WrittenAcks(events []chains.Event) ([]Ack, error) {
	var out []Ack
	var errs []error
	for _, ev := range events {
		if ev.Type != channeltypes.EventTypeWriteAck {
			continue
		}
		p, ack, err := packetFromEvent(ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Ack{Packet: p, Ack: ack})
	}
	return out, errors.Join(errs...)
}

func packetFromEvent(ev chains.Event) (channeltypes.Packet, []byte, error) {
	attrs := make(map[string]string, len(ev.Attributes))
	for _, a := range ev.Attributes {
		attrs[a.Key] = a.Value
	}
	var p channeltypes.Packet
	var err error
	bad := func(key string, err error) (channeltypes.Packet, []byte, error) {
		return channeltypes.Packet{}, nil, fmt.Errorf("%s event: attribute %s: %w: %v", ev.Type, key, ErrBadEvent, err)
	}
	if p.Sequence, err = strconv.ParseUint(attrs[channeltypes.AttributeKeySequence], 10, 64); err != nil {
		return bad(channeltypes.AttributeKeySequence, err)
	}
	p.SourcePort, p.SourceChannel = attrs[channeltypes.AttributeKeySrcPort], attrs[channeltypes.AttributeKeySrcChannel]
	p.DestinationPort, p.DestinationChannel = attrs[channeltypes.AttributeKeyDstPort], attrs[channeltypes.AttributeKeyDstChannel]
	if p.Data, err = hex.DecodeString(attrs[channeltypes.AttributeKeyDataHex]); err != nil {
		return bad(channeltypes.AttributeKeyDataHex, err)
	}
	if p.TimeoutHeight, err = clienttypes.ParseHeight(attrs[channeltypes.AttributeKeyTimeoutHeight]); err != nil {
		return bad(channeltypes.AttributeKeyTimeoutHeight, err)
	}
	if p.TimeoutTimestamp, err = strconv.ParseUint(attrs[channeltypes.AttributeKeyTimeoutTimestamp], 10, 64); err != nil {
		return bad(channeltypes.AttributeKeyTimeoutTimestamp, err)
	}
	var ack []byte
	if ev.Type == channeltypes.EventTypeWriteAck {
		if ack, err = hex.DecodeString(attrs[channeltypes.AttributeKeyAckHex]); err != nil {
			return bad(channeltypes.AttributeKeyAckHex, err)
		}
	}
	if err := p.ValidateBasic(); err != nil {
		return bad("packet", err)
	}
	return p, ack, nil
}

// Relayer builds and submits packet messages with proofs checked against verified headers.
type Relayer struct {
	Check ProofChecker
}

// Outcome says what became of each item handed to Recv or Ack, by its index in the input (two items
// may carry one sequence: an honest one and a forgery of it). An item is Done (nothing to do, proven
// against a verified header: the reason), Bad (refused on its own, wrapping ErrBadEvent: the reason),
// or else carried by Tx; Delivered lists the sequences Tx carries. One bad item never sinks the others.
type Outcome struct {
	Tx        *TxInfo
	Delivered []uint64
	Done      map[int]string
	Bad       map[int]error
}

func newOutcome() *Outcome { return &Outcome{Done: map[int]string{}, Bad: map[int]error{}} }

// badErr joins the outcome's refusals (nil when there are none).
func (o *Outcome) badErr() error {
	var errs []error
	for _, err := range o.Bad {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// RecvPackets is Recv for callers that want every packet delivered: a refused packet is an error
// (wrapping ErrBadEvent) even when the others were delivered.
func (r *Relayer) RecvPackets(ctx context.Context, src, dst *End, packets []channeltypes.Packet, sentHeight int64) (*TxInfo, []uint64, error) {
	o, err := r.Recv(ctx, src, dst, packets, sentHeight)
	if err != nil {
		return nil, nil, err
	}
	return o.Tx, o.Delivered, o.badErr()
}

// Recv delivers packets sent on src to dst: one tx of an update of dst's client of src (when
// needed) and a MsgRecvPacket per packet, each with a proof of the packet's commitment on src checked
// against the verified app hash first. A packet dst already received is Done only once its receipt is
// proven on a verified header of dst (a node that says "received" is not believed); a packet whose
// event does not match its proven commitment, or that has no commitment and has not timed out, is Bad.
// All packets go to one channel end of dst.
//
// sentHeight is the height of the newest block that sent one of the packets: proofs come from a
// verified header above it (the app hash of header h commits to the state after block h-1).
func (r *Relayer) Recv(ctx context.Context, src, dst *End, packets []channeltypes.Packet, sentHeight int64) (*Outcome, error) {
	out := newOutcome()
	if len(packets) == 0 {
		return out, nil
	}
	todo, err := r.unreceived(ctx, dst, packets, out)
	if err != nil || len(todo) == 0 {
		return out, err
	}
	b, err := r.newBatch(ctx, dst, src, sentHeight)
	if err != nil {
		return nil, err
	}
	lb := b.lb
	proofs, err := proveAll(ctx, len(todo), func(ctx context.Context, i int) (*chains.Proof, error) {
		p := packets[todo[i]]
		return src.provenAt(ctx, r.Check, lb, ibcexported.StoreKey, host.PacketCommitmentKey(p.SourcePort, p.SourceChannel, p.Sequence))
	})
	if err != nil {
		return nil, fmt.Errorf("prove commitments on %s: %w", src.ChainID(), err)
	}
	var uncommitted []int
	for i, idx := range todo {
		p, proven := packets[idx], proofs[i]
		switch {
		case proven.Value == nil:
			uncommitted = append(uncommitted, idx)
		case string(proven.Value) != string(channeltypes.CommitPacket(nil, p)):
			out.Bad[idx] = fmt.Errorf("packet %s/%d: event does not match the commitment proven on %s at %d: a forged send_packet event (the chain committed other content under this sequence): %w",
				p.SourceChannel, p.Sequence, src.ChainID(), lb.Height, ErrBadEvent)
		default:
			b.msgs = append(b.msgs, channeltypes.NewMsgRecvPacket(p, proven.Bytes, b.height, b.signer))
			out.Delivered = append(out.Delivered, p.Sequence)
		}
	}
	if err := r.settleUncommitted(ctx, src, dst, packets, uncommitted, lb.Height, out); err != nil {
		return nil, err
	}
	if len(out.Delivered) == 0 {
		return out, nil
	}
	if out.Tx, err = b.send(ctx, dst, "recv", len(out.Delivered)); err != nil {
		return nil, err
	}
	return out, nil
}

// settleUncommitted classifies the packets (by index) src holds no commitment for at proof height h:
// received on dst after all (its acknowledgement deleted the commitment), timed out (the timeout
// deleted it), or never sent: a forged event, Bad.
func (r *Relayer) settleUncommitted(ctx context.Context, src, dst *End, packets []channeltypes.Packet, idxs []int, h int64, out *Outcome) error {
	if len(idxs) == 0 {
		return nil
	}
	lb, err := dst.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", dst.ChainID(), err)
	}
	received := r.receivedAt(ctx, dst, lb)
	for _, idx := range idxs {
		p := packets[idx]
		ok, err := received(p)
		if err != nil {
			return err
		}
		switch {
		case ok:
			out.Done[idx] = fmt.Sprintf("receipt proven on %s at %d", dst.ChainID(), lb.Height)
		case TimedOut(p, dst, lb):
			out.Done[idx] = fmt.Sprintf("timed out on %s, no commitment left on %s", dst.ChainID(), src.ChainID())
		default:
			out.Bad[idx] = fmt.Errorf("packet %s/%d: no commitment on %s at %d and not timed out: never sent (never committed by the chain: a forged send_packet event): %w",
				p.SourceChannel, p.Sequence, src.ChainID(), h, ErrBadEvent)
		}
	}
	return nil
}

// receivedAt returns a check of whether dst received a packet, proven against dst's verified header
// lb: the packet's receipt (unordered channels) or a next receive sequence past it (ordered
// channels; proven once per channel end for all the packets checked).
func (r *Relayer) receivedAt(ctx context.Context, dst *End, lb *cmttypes.LightBlock) func(channeltypes.Packet) (bool, error) {
	next := map[[2]string]uint64{}
	return func(p channeltypes.Packet) (bool, error) {
		rc, err := dst.provenAt(ctx, r.Check, lb, ibcexported.StoreKey, host.PacketReceiptKey(p.DestinationPort, p.DestinationChannel, p.Sequence))
		if err != nil {
			return false, err
		}
		if rc.Value != nil {
			return true, nil
		}
		end := [2]string{p.DestinationPort, p.DestinationChannel}
		n, ok := next[end]
		if !ok {
			ns, err := dst.provenAt(ctx, r.Check, lb, ibcexported.StoreKey, host.NextSequenceRecvKey(p.DestinationPort, p.DestinationChannel))
			if err != nil {
				return false, err
			}
			if len(ns.Value) == 8 {
				n = binary.BigEndian.Uint64(ns.Value)
			}
			next[end] = n
		}
		return n > p.Sequence, nil
	}
}

// AckPackets is Ack for callers that want every acknowledgement delivered (a refused one is an error).
func (r *Relayer) AckPackets(ctx context.Context, src, dst *End, acks []Ack, writtenHeight int64) (*TxInfo, []uint64, error) {
	o, err := r.Ack(ctx, src, dst, acks, writtenHeight)
	if err != nil {
		return nil, nil, err
	}
	return o.Tx, o.Delivered, o.badErr()
}

// Ack returns acknowledgements written on src (the chain that received the packets) to dst (the chain
// that sent them), with proofs of the acknowledgement commitments on src. One dst already processed is
// Done only once the packet commitment's absence is proven on a verified header of dst; one whose event
// does not match the proven acknowledgement is Bad. writtenHeight is the height of the newest block
// that wrote one of the acknowledgements.
func (r *Relayer) Ack(ctx context.Context, src, dst *End, acks []Ack, writtenHeight int64) (*Outcome, error) {
	out := newOutcome()
	if len(acks) == 0 {
		return out, nil
	}
	seqs := make([]uint64, len(acks))
	for i, a := range acks {
		seqs[i] = a.Packet.Sequence
	}
	unacked, err := dst.Chain.UnreceivedAcks(ctx, acks[0].Packet.SourcePort, acks[0].Packet.SourceChannel, seqs)
	if err != nil {
		return nil, fmt.Errorf("query unreceived acks on %s: %w", dst.ChainID(), err)
	}
	// What the node says was processed is a hint: the packet commitment's absence on dst proves it.
	todo, err := hinted(ctx, dst, seqs, unacked, func(lb *cmttypes.LightBlock) func(int) (bool, error) {
		return func(idx int) (bool, error) {
			p := acks[idx].Packet
			c, err := dst.provenAt(ctx, r.Check, lb, ibcexported.StoreKey, host.PacketCommitmentKey(p.SourcePort, p.SourceChannel, p.Sequence))
			if err != nil || c.Value != nil {
				return false, err
			}
			out.Done[idx] = fmt.Sprintf("no commitment left on %s at %d (acknowledged)", dst.ChainID(), lb.Height)
			return true, nil
		}
	})
	if err != nil {
		return nil, err
	}
	if len(todo) == 0 {
		return out, nil
	}
	b, err := r.newBatch(ctx, dst, src, writtenHeight)
	if err != nil {
		return nil, err
	}
	lb := b.lb
	proofs, err := proveAll(ctx, len(todo), func(ctx context.Context, i int) (*chains.Proof, error) {
		p := acks[todo[i]].Packet
		return src.provenAt(ctx, r.Check, lb, ibcexported.StoreKey, host.PacketAcknowledgementKey(p.DestinationPort, p.DestinationChannel, p.Sequence))
	})
	if err != nil {
		return nil, fmt.Errorf("prove acknowledgements on %s: %w", src.ChainID(), err)
	}
	for i, idx := range todo {
		a := acks[idx]
		p, proven := a.Packet, proofs[i]
		switch {
		case proven.Value == nil:
			out.Bad[idx] = fmt.Errorf("ack %s/%d: no acknowledgement on %s at %d: never written (never committed by the chain: a forged write_acknowledgement event): %w",
				p.DestinationChannel, p.Sequence, src.ChainID(), lb.Height, ErrBadEvent)
		case string(proven.Value) != string(channeltypes.CommitAcknowledgement(a.Ack)):
			out.Bad[idx] = fmt.Errorf("ack %s/%d: event does not match the acknowledgement proven on %s at %d: a forged write_acknowledgement event: %w",
				p.DestinationChannel, p.Sequence, src.ChainID(), lb.Height, ErrBadEvent)
		default:
			b.msgs = append(b.msgs, channeltypes.NewMsgAcknowledgement(p, a.Ack, proven.Bytes, b.height, b.signer))
			out.Delivered = append(out.Delivered, p.Sequence)
		}
	}
	if len(out.Delivered) == 0 {
		return out, nil
	}
	if out.Tx, err = b.send(ctx, dst, "ack", len(out.Delivered)); err != nil {
		return nil, err
	}
	return out, nil
}

// proofHeader returns a verified header of src above minHeight and, if dst's client of src has no
// consensus state there, the update that brings it there. When the client is already above
// minHeight, its own latest height is used and no update is sent (it would only cost gas).
//
// The client is read from dst's committed state at a verified header (committedClient): the tx built
// on it is valid on its own, whichever other batches for dst are in flight and whenever they commit
// (see updateTo).
func (r *Relayer) proofHeader(ctx context.Context, dst, src *End, minHeight int64) (sdk.Msg, *cmttypes.LightBlock, error) {
	cs, at, err := committedClient(ctx, dst, src)
	if err != nil {
		return nil, nil, err
	}
	if trusted := int64(cs.LatestHeight.RevisionHeight); trusted > minHeight {
		lb, err := src.Light.VerifyHeight(ctx, trusted)
		if err != nil {
			return nil, nil, fmt.Errorf("verify %s header %d: %w", src.ChainID(), trusted, err)
		}
		return nil, lb, nil
	}
	wctx, cancel := context.WithTimeout(ctx, MaxHeightWait)
	defer cancel()
	lb, err := waitVerified(wctx, src, minHeight+1)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, fmt.Errorf("%s header %d not verified within %s: %w", src.ChainID(), minHeight+1, MaxHeightWait, ErrHeightAhead)
		}
		return nil, nil, err
	}
	msg, err := updateMsg(ctx, dst, src, at, cs.LatestHeight, lb)
	if err != nil {
		return nil, nil, err
	}
	return msg, lb, nil
}

// MaxHeightWait bounds the wait for a source header above the items' heights: honest work is at most
// a block or two ahead of a live light client; a height that stays out of reach is a bad item's.
const MaxHeightWait = 20 * time.Second

// waitVerified returns e's latest verified header once it is at height h or above.
func waitVerified(ctx context.Context, e *End, h int64) (*cmttypes.LightBlock, error) {
	for {
		lb, err := e.Light.VerifyLatest(ctx)
		if err != nil {
			return nil, fmt.Errorf("verify latest header of %s: %w", e.ChainID(), err)
		}
		if lb.Height >= h {
			return lb, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %s header %d: %w", e.ChainID(), h, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unreceived returns the indexes of the packets dst has not received yet. The node's answer is a
// hint: a packet it says was received is Done only with its receipt proven on a verified header of
// dst; otherwise it stays to deliver (delivering a received packet again is a no-op on chain).
func (r *Relayer) unreceived(ctx context.Context, dst *End, packets []channeltypes.Packet, out *Outcome) ([]int, error) {
	seqs := make([]uint64, len(packets))
	for i, p := range packets {
		seqs[i] = p.Sequence
	}
	unreceived, err := dst.Chain.UnreceivedPackets(ctx, packets[0].DestinationPort, packets[0].DestinationChannel, seqs)
	if err != nil {
		return nil, fmt.Errorf("query unreceived packets on %s: %w", dst.ChainID(), err)
	}
	return hinted(ctx, dst, seqs, unreceived, func(lb *cmttypes.LightBlock) func(int) (bool, error) {
		received := r.receivedAt(ctx, dst, lb)
		return func(idx int) (bool, error) {
			ok, err := received(packets[idx])
			if ok {
				out.Done[idx] = fmt.Sprintf("receipt proven on %s at %d", dst.ChainID(), lb.Height)
			}
			return ok, err
		}
	})
}

// hinted splits items (indexes into seqs) by a node's unproven answer: those whose sequence is in
// pending are still to do; the node says the others are done, which prove (see proveDone) must show
// on a verified header of dst. Those no proof settles are still to do after all (delivering a done
// item again is a no-op on chain). It returns the indexes to do.
func hinted(ctx context.Context, dst *End, seqs, pending []uint64, prove func(lb *cmttypes.LightBlock) func(int) (bool, error)) ([]int, error) {
	want := make(map[uint64]bool, len(pending))
	for _, s := range pending {
		want[s] = true
	}
	var todo, claimed []int
	for i, s := range seqs {
		if want[s] {
			todo = append(todo, i)
		} else {
			claimed = append(claimed, i)
		}
	}
	notDone, err := proveDone(ctx, dst, claimed, prove)
	if err != nil {
		return nil, err
	}
	return append(todo, notDone...), nil
}

// batch is one tx of packet messages being built for one chain with proofs from another: the client
// update it needs first (if any), the verified header of the other chain its proofs are against, and
// the signer of its messages.
type batch struct {
	msgs   []sdk.Msg
	lb     *cmttypes.LightBlock
	height clienttypes.Height // lb's IBC height: the proof height of every message
	signer string
	start  time.Time // when proving began (TxInfo.Prove)
	// updates counts the client updates among msgs.
	updates int
}

// newBatch starts a tx for to whose messages carry proofs from from at a verified header above
// minHeight (see proofHeader).
func (r *Relayer) newBatch(ctx context.Context, to, from *End, minHeight int64) (*batch, error) {
	update, lb, err := r.proofHeader(ctx, to, from, minHeight)
	if err != nil {
		return nil, err
	}
	signer, err := to.Chain.Address(ctx)
	if err != nil {
		return nil, err
	}
	b := &batch{lb: lb, height: from.height(lb.Height), signer: signer}
	if update != nil {
		b.msgs = append(b.msgs, update)
		b.updates = 1
	}
	b.start = time.Now()
	return b, nil
}

// send submits the batch on to as one tx carrying n packet messages; what names them in errors
// ("recv 3 packets on bucheon-1: ...").
func (b *batch) send(ctx context.Context, to *End, what string, n int) (*TxInfo, error) {
	prove := time.Since(b.start)
	res, err := to.Chain.Send(ctx, b.msgs...)
	if err != nil {
		return nil, fmt.Errorf("%s %d packets on %s: %w", what, n, to.ChainID(), err)
	}
	return txInfo(res, prove, len(b.msgs), b.updates), nil
}

// proveDone proves, for the items (indexes) a node says are done on dst, that they are, against dst's
// newest verified header (prove builds the check for a header); those it cannot prove there are tried
// once more at the next header (the node answers from its newest state, which only the header after
// it commits to). It returns the items still unproven.
func proveDone(ctx context.Context, dst *End, items []int, prove func(lb *cmttypes.LightBlock) func(int) (bool, error)) ([]int, error) {
	if len(items) == 0 {
		return nil, nil
	}
	lb, err := dst.Light.VerifyLatest(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify latest header of %s: %w", dst.ChainID(), err)
	}
	todo := items
	for attempt := 0; attempt < 2 && len(todo) > 0; attempt++ {
		if attempt > 0 {
			wctx, cancel := context.WithTimeout(ctx, doneProofWait)
			lb, err = waitVerified(wctx, dst, lb.Height+1)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return todo, nil // no newer header yet: deliver them (a no-op on chain if done)
			}
		}
		check := prove(lb)
		var left []int
		for _, i := range todo {
			ok, err := check(i)
			if err != nil {
				return nil, err
			}
			if !ok {
				left = append(left, i)
			}
		}
		todo = left
	}
	return todo, nil
}

// doneProofWait bounds the wait for the header that proves what a node says is done.
const doneProofWait = 5 * time.Second

// proofConcurrency bounds parallel proof queries per batch: enough to hide RPC round trips, few
// enough not to load a node (PITFALLS: huge query bursts can take a node down).
const proofConcurrency = 8

// proveAll runs n proof queries with bounded concurrency, results in order.
func proveAll(ctx context.Context, n int, prove func(context.Context, int) (*chains.Proof, error)) ([]*chains.Proof, error) {
	out := make([]*chains.Proof, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(proofConcurrency)
	for i := range n {
		g.Go(func() error {
			p, err := prove(gctx, i)
			out[i] = p
			return err
		})
	}
	return out, g.Wait()
}
