package relayer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/chains"
)

// Relayer builds and submits packet messages with proofs checked against verified headers.
type Relayer struct {
	Check ProofChecker
}

// Outcome says what became of each item handed to Recv or Ack, by its index in the input (two items
// may carry one sequence: an honest one and a forgery of it). An item is Done (nothing to do, proven
// against a verified header: the reason), Bad (refused on its own, wrapping ErrBadEvent: the reason),
// or else carried by Tx; Delivered lists the sequences Tx carries. One bad item never sinks the others.
//
// On an ORDERED channel end an item may also be Later (the reason): not deliverable before an
// earlier sequence is, to be handed back and tried again, never skipped; Missing names the
// sequences of the gap before the first Later item (up to 100), which a caller may fetch again.
type Outcome struct {
	Tx        *TxInfo
	Delivered []uint64
	Done      map[int]string
	Bad       map[int]error
	Later     map[int]string
	Missing   []uint64
}

func newOutcome() *Outcome {
	return &Outcome{Done: map[int]string{}, Bad: map[int]error{}, Later: map[int]string{}}
}

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
func (r *Relayer) RecvPackets(ctx context.Context, src, dst *End, pks []channeltypes.Packet, sentHeight int64) (*TxInfo, []uint64, error) {
	o, err := r.Recv(ctx, src, dst, pks, sentHeight)
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
func (r *Relayer) Recv(ctx context.Context, src, dst *End, pks []channeltypes.Packet, sentHeight int64) (*Outcome, error) {
	out := newOutcome()
	if len(pks) == 0 {
		return out, nil
	}
	ch, dlb, err := r.openEnd(ctx, dst)
	if err != nil {
		return nil, err
	}
	todo, err := r.unreceived(ctx, dst, pks, out)
	if err != nil || len(todo) == 0 {
		return out, err
	}
	ordered := ch.Ordering == channeltypes.ORDERED
	if ordered {
		if todo, err = r.recvInOrder(ctx, dst, dlb, pks, todo, out); err != nil || len(todo) == 0 {
			return out, err
		}
	}
	b, err := r.newBatch(ctx, dst, src, sentHeight)
	if err != nil {
		return nil, err
	}
	lb := b.lb
	proofs, err := proveAll(ctx, len(todo), func(ctx context.Context, i int) (*chains.Proof, error) {
		p := pks[todo[i]]
		return src.provenAt(ctx, r.Check, lb, ibcexported.StoreKey, host.PacketCommitmentKey(p.SourcePort, p.SourceChannel, p.Sequence))
	})
	if err != nil {
		return nil, fmt.Errorf("prove commitments on %s: %w", src.ChainID(), err)
	}
	var uncommitted []int
	broken := false // ordered: a packet of the run was not delivered, so none after it can be
	for i, idx := range todo {
		p, proven := pks[idx], proofs[i]
		if broken {
			out.Later[idx] = fmt.Sprintf("ordered channel: an earlier sequence than %d was not delivered", p.Sequence)
			continue
		}
		broken = ordered && (proven.Value == nil || string(proven.Value) != string(channeltypes.CommitPacket(nil, p)))
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
	if err := r.settleUncommitted(ctx, src, dst, pks, uncommitted, lb.Height, out); err != nil {
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
func (r *Relayer) settleUncommitted(ctx context.Context, src, dst *End, pks []channeltypes.Packet, idxs []int, h int64, out *Outcome) error {
	if len(idxs) == 0 {
		return nil
	}
	lb, err := dst.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", dst.ChainID(), err)
	}
	received := r.receivedAt(ctx, dst, lb)
	for _, idx := range idxs {
		p := pks[idx]
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
	ch, dlb, err := r.openEnd(ctx, dst)
	if err != nil {
		return nil, err
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
	ordered := ch.Ordering == channeltypes.ORDERED
	if ordered {
		next, _, err := dst.nextSeqAt(ctx, r.Check, dlb, host.NextSequenceAckKey(dst.PortID, dst.ChannelID))
		if err != nil {
			return nil, fmt.Errorf("prove next sequence ack of %s/%s: %w", dst.ChannelID, dst.ChainID(), err)
		}
		todo, out.Missing = inOrder(todo, func(i int) uint64 { return seqs[i] }, next, out, func(i int) {
			out.Done[i] = fmt.Sprintf("next_sequence_ack %d proven on %s at %d", next, dst.ChainID(), dlb.Height)
		})
		if len(todo) == 0 {
			return out, nil
		}
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
	broken := false // ordered: an acknowledgement of the run was not delivered, so none after it can be
	for i, idx := range todo {
		a := acks[idx]
		p, proven := a.Packet, proofs[i]
		if broken {
			out.Later[idx] = fmt.Sprintf("ordered channel: an earlier acknowledgement than %d was not delivered", p.Sequence)
			continue
		}
		broken = ordered && (proven.Value == nil || string(proven.Value) != string(channeltypes.CommitAcknowledgement(a.Ack)))
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
func (r *Relayer) unreceived(ctx context.Context, dst *End, pks []channeltypes.Packet, out *Outcome) ([]int, error) {
	seqs := make([]uint64, len(pks))
	for i, p := range pks {
		seqs[i] = p.Sequence
	}
	unreceived, err := dst.Chain.UnreceivedPackets(ctx, pks[0].DestinationPort, pks[0].DestinationChannel, seqs)
	if err != nil {
		return nil, fmt.Errorf("query unreceived packets on %s: %w", dst.ChainID(), err)
	}
	return hinted(ctx, dst, seqs, unreceived, func(lb *cmttypes.LightBlock) func(int) (bool, error) {
		received := r.receivedAt(ctx, dst, lb)
		return func(idx int) (bool, error) {
			ok, err := received(pks[idx])
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
// minHeight (see Client.proofHeader).
func (r *Relayer) newBatch(ctx context.Context, to, from *End, minHeight int64) (*batch, error) {
	update, lb, err := Client{Dst: to, Src: from}.proofHeader(ctx, minHeight)
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

// TxInfo identifies a committed tx.
type TxInfo struct {
	Hash    string
	Height  int64
	GasUsed int64
	Events  []chains.Event
	// Prove is the time spent querying and checking the batch's proofs; Timing breaks down the send.
	Prove  time.Duration
	Timing chains.TxTiming
	// GasWanted and Fee are the tx's gas limit and fee; Msgs counts its messages, ClientUpdates
	// the client updates among them.
	GasWanted     uint64
	Fee           chains.Coin
	Msgs          int
	ClientUpdates int
}

func txInfo(res *chains.TxResult, prove time.Duration, msgs, updates int) *TxInfo {
	return &TxInfo{Hash: res.Hash, Height: res.Height, GasUsed: res.GasUsed, Events: res.Events, Prove: prove, Timing: res.Timing,
		GasWanted: res.GasWanted, Fee: res.Fee, Msgs: msgs, ClientUpdates: updates}
}
