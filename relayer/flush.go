package relayer

import (
	"context"
	"errors"
	"fmt"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// FlushReport is what Flush did in one direction of a path.
type FlushReport struct {
	From, To        string
	Pending, Acks   int // found by query (with FlushOptions.Only: those of the chosen sequences)
	Received, Acked int // delivered by this flush
	TimedOut        int // timeouts delivered to From: packets To can no longer receive
	Done            int // proven already done on the destination
	Bad             int // refused items (see Errors)
	// Closed: To's channel end is CLOSED; its pending packets were timed out on close
	// (TimedOutOnClose of them, counted in TimedOut too).
	Closed          bool
	TimedOutOnClose int
	// CloseConfirmed: this flush confirmed on To the close of From's end (MsgChannelCloseConfirm).
	CloseConfirmed bool
	// AcksOnClosed are the sequences of From's packets acknowledged on To whose acknowledgements
	// From's CLOSED end can no longer process: not relayed.
	AcksOnClosed sequences.Set
	// timeoutHeight is the height of the last timeout tx on From (which closes an ORDERED end).
	timeoutHeight int64
	// Excluded are the pending sequences left alone: From's end excludes them (excluded_sequences)
	// and they were not named.
	Excluded sequences.Set
	// NotPending are the chosen sequences (FlushOptions.Only) with nothing to relay in this direction:
	// neither waiting to be received (or timed out) nor acknowledged.
	NotPending sequences.Set
	// Unfound are pending sequences whose send (or acknowledgement) event the chain's tx index did not
	// return (a pruned index, a node without tx indexing): nothing could be relayed for them.
	Unfound sequences.Set
	Errors  []error
}

// FlushOptions choose what Flush relays.
type FlushOptions struct {
	// Chunk is how many packets go in one relay tx (default 100).
	Chunk int
	// Only, when not empty, are the only sequences relayed, in both directions: those of them that
	// are pending get their recv, ack or timeout as each is due, excluded ones too (the operator named
	// them). Empty: every pending sequence but the excluded ones.
	Only sequences.Set
}

// Flush relays, directly and in chunks, everything left pending on a path in both directions (but the
// sequences its ends exclude): see FlushWith.
func (r *Relayer) Flush(ctx context.Context, p *Path, chunk int, report func(FlushReport)) error {
	return r.FlushWith(ctx, p, FlushOptions{Chunk: chunk}, report)
}

// FlushWith relays, directly and in chunks, what is left pending on a path in both directions:
// packets committed and not received (or, once their destination can no longer receive them, their
// timeouts), then the acknowledgements written for them (and any written before) that the sender has
// not processed. It is what an operator runs on a backlog (`cityrelay tx flush`) and needs no NATS.
// report is told of each direction's result (optional).
//
// Closed channel ends: a close one end has and the other has not (a MsgChannelCloseInit, or a
// timeout on an ORDERED channel, this flush's own included) is confirmed on the other end
// (Linker.ConfirmClose, which proves the closed end), before the packets are relayed and again after.
// Packets pending towards a CLOSED end are all timed out on close (MsgTimeoutOnClose: the proven
// closed end beside the receipt's absence or next_sequence_recv, see TimeoutPackets), timed out or
// not; acknowledgements for a sender whose end is CLOSED cannot be processed any more and are
// reported (AcksOnClosed), not relayed.
func (r *Relayer) FlushWith(ctx context.Context, p *Path, o FlushOptions, report func(FlushReport)) error {
	if o.Chunk <= 0 {
		o.Chunk = 100
	}
	dirs := [][2]*End{{p.A, p.B}, {p.B, p.A}}
	reps := make([]FlushReport, len(dirs))
	found := make([][]uint64, len(dirs)) // sequences pending in each direction (chosen or not)
	for i, dir := range dirs {
		reps[i].From, reps[i].To = dir[0].ChainID(), dir[1].ChainID()
	}
	if _, err := r.confirmCloses(ctx, p, dirs, reps); err != nil {
		return err
	}
	if err := r.flushRecvs(ctx, p, o, dirs, reps, found, true); err != nil {
		return err
	}
	// A timeout on an ORDERED channel just closed the sender's end: confirm it on the other end, and
	// time out on close what waited behind the timed-out packet.
	for i, dir := range dirs {
		if h := reps[i].timeoutHeight; h > 0 {
			// The close is proven at a header past the timeout's block.
			if _, err := waitVerified(ctx, dir[0], h+1); err != nil {
				return fmt.Errorf("flush %s: %w", p.Name, err)
			}
		}
	}
	again, err := r.confirmCloses(ctx, p, dirs, reps)
	if err != nil {
		return err
	}
	if again {
		if err := r.flushRecvs(ctx, p, o, dirs, reps, found, false); err != nil {
			return err
		}
	}
	// The acknowledgements dst wrote for src's packets (those just delivered included) go back to src.
	for i, dir := range dirs {
		src, dst := dir[0], dir[1]
		rep := &reps[i]
		_, acks, err := Unrelayed(ctx, src, dst)
		if err != nil {
			return err
		}
		found[i] = append(found[i], acks...)
		acks = o.pick(src, acks, rep)
		rep.Acks = len(acks)
		if len(acks) > 0 {
			closed, _, err := r.endClosed(ctx, src)
			if err != nil {
				return fmt.Errorf("flush %s: %w", p.Name, err)
			}
			if closed {
				rep.AcksOnClosed = sequences.List(acks...)
				acks = nil
			}
		}
		for len(acks) > 0 {
			seqs := acks[:min(o.Chunk, len(acks))]
			acks = acks[len(seqs):]
			as, h, err := AcksFor(ctx, dst, seqs)
			if err != nil {
				return err
			}
			rep.unfound(seqs, len(as), func(i int) uint64 { return as[i].Packet.Sequence })
			if len(as) == 0 {
				continue
			}
			out, err := r.Ack(ctx, dst, src, as, h)
			if errors.Is(err, ErrChannelClosed) { // closed since it was proven open above
				rep.AcksOnClosed = rep.AcksOnClosed.Union(sequences.List(seqs...)).Union(sequences.List(acks...))
				break
			}
			if err != nil {
				return fmt.Errorf("flush %s: ack on %s: %w", p.Name, src.ChainID(), err)
			}
			rep.add(out, &rep.Acked)
		}
		if !o.Only.Empty() {
			rep.NotPending = o.Only.Minus(found[i])
		}
		if report != nil {
			report(*rep)
		}
	}
	return nil
}

// flushRecvs relays, in each direction, the packets pending on the destination (or their timeouts);
// first says this is the first pass (it counts what is pending).
func (r *Relayer) flushRecvs(ctx context.Context, p *Path, o FlushOptions, dirs [][2]*End, reps []FlushReport, found [][]uint64, first bool) error {
	for i, dir := range dirs {
		src, dst := dir[0], dir[1]
		rep := &reps[i]
		recv, _, err := Unrelayed(ctx, src, dst)
		if err != nil {
			return err
		}
		if first {
			found[i] = append(found[i], recv...)
		}
		recv = o.pick(src, recv, rep)
		if first {
			rep.Pending = len(recv)
		}
		if len(recv) == 0 {
			continue
		}
		closed, clb, err := r.endClosed(ctx, dst)
		if err != nil {
			return fmt.Errorf("flush %s: %w", p.Name, err)
		}
		for len(recv) > 0 {
			seqs := recv[:min(o.Chunk, len(recv))]
			recv = recv[len(seqs):]
			pks, h, err := SentPackets(ctx, src, seqs)
			if err != nil {
				return err
			}
			rep.unfound(seqs, len(pks), func(i int) uint64 { return pks[i].Sequence })
			if len(pks) == 0 {
				continue
			}
			if closed {
				if err := r.flushOnClose(ctx, src, dst, pks, max(h, clb), rep); err != nil {
					return fmt.Errorf("flush %s: timeouts on close on %s: %w", p.Name, src.ChainID(), err)
				}
				continue
			}
			live, err := r.flushTimeouts(ctx, src, dst, pks, rep)
			if err != nil {
				return fmt.Errorf("flush %s: timeouts on %s: %w", p.Name, src.ChainID(), err)
			}
			if len(live) == 0 {
				continue
			}
			out, err := r.Recv(ctx, src, dst, live, h)
			if errors.Is(err, ErrChannelClosed) { // closed since it was proven open above
				if closed, clb, err = r.endClosed(ctx, dst); err != nil {
					return fmt.Errorf("flush %s: %w", p.Name, err)
				}
				if err := r.flushOnClose(ctx, src, dst, live, max(h, clb), rep); err != nil {
					return fmt.Errorf("flush %s: timeouts on close on %s: %w", p.Name, src.ChainID(), err)
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("flush %s: recv on %s: %w", p.Name, dst.ChainID(), err)
			}
			rep.add(out, &rep.Received)
		}
	}
	return nil
}

// flushOnClose times out on close, on src, the packets pending towards dst's CLOSED end (proven
// closed at height closedAt or above).
func (r *Relayer) flushOnClose(ctx context.Context, src, dst *End, pks []channeltypes.Packet, closedAt int64, rep *FlushReport) error {
	rep.Closed = true
	_, seqs, err := r.TimeoutPackets(ctx, src, dst, pks, closedAt)
	if err != nil {
		return err
	}
	rep.TimedOut += len(seqs)
	rep.TimedOutOnClose += len(seqs)
	rep.Done += len(pks) - len(seqs) // received before the close: their acknowledgement settles them
	return nil
}

// endClosed proves e's channel end at e's newest verified header and reports whether it is CLOSED,
// and the header's height.
func (r *Relayer) endClosed(ctx context.Context, e *End) (bool, int64, error) {
	lb, err := e.Light.VerifyLatest(ctx)
	if err != nil {
		return false, 0, fmt.Errorf("verify latest header of %s: %w", e.ChainID(), err)
	}
	ch, _, err := e.channelAt(ctx, r.Check, lb)
	if err != nil {
		return false, 0, fmt.Errorf("prove channel %s/%s on %s: %w", e.PortID, e.ChannelID, e.ChainID(), err)
	}
	return ch.State == channeltypes.CLOSED, lb.Height, nil
}

// confirmCloses confirms on the other end every close one end of p has (see Linker.ConfirmClose) and
// reports whether it confirmed one.
func (r *Relayer) confirmCloses(ctx context.Context, p *Path, dirs [][2]*End, reps []FlushReport) (bool, error) {
	if p.A.ChannelID == "" || p.B.ChannelID == "" {
		return false, nil
	}
	l := &Linker{Check: r.Check}
	var confirmed bool
	for i, dir := range dirs {
		closed, other := dir[0], dir[1]
		isClosed, _, err := r.endClosed(ctx, closed)
		if err != nil {
			return false, fmt.Errorf("flush %s: %w", p.Name, err)
		}
		if !isClosed {
			continue
		}
		sent, err := l.ConfirmClose(ctx, p, closed, other)
		if err != nil {
			return false, fmt.Errorf("flush %s: confirm the close of %s/%s on %s: %w", p.Name, closed.ChannelID, closed.ChainID(), other.ChainID(), err)
		}
		if sent {
			reps[i].CloseConfirmed = true
			confirmed = true
		}
	}
	return confirmed, nil
}

// pick keeps, of the pending sequences of packets src sent, those to relay: the chosen ones (Only),
// or all but those src's end excludes (added to rep.Excluded).
func (o FlushOptions) pick(src *End, seqs []uint64, rep *FlushReport) []uint64 {
	if !o.Only.Empty() {
		in, _ := o.Only.Split(seqs)
		return in
	}
	excluded, keep := src.Excluded.Split(seqs)
	rep.Excluded = rep.Excluded.Union(sequences.List(excluded...))
	return keep
}

// flushTimeouts delivers to src the timeouts of the packets dst can no longer receive (at its latest
// verified header) and returns the others.
func (r *Relayer) flushTimeouts(ctx context.Context, src, dst *End, pks []channeltypes.Packet, rep *FlushReport) ([]channeltypes.Packet, error) {
	lb, err := dst.Light.VerifyLatest(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify latest header of %s: %w", dst.ChainID(), err)
	}
	var live, timed []channeltypes.Packet
	for _, pk := range pks {
		if TimedOut(pk, dst, lb) {
			timed = append(timed, pk)
		} else {
			live = append(live, pk)
		}
	}
	if len(timed) > 0 {
		tx, seqs, err := r.TimeoutPackets(ctx, src, dst, timed, lb.Height)
		if err != nil {
			return nil, err
		}
		if tx != nil {
			rep.timeoutHeight = tx.Height
		}
		rep.TimedOut += len(seqs)
		rep.Done += len(timed) - len(seqs) // received after all: their acknowledgement settles them
	}
	return live, nil
}

// unfound adds to rep.Unfound those of seqs not among the n found (seq(i) is the i-th's sequence).
func (rep *FlushReport) unfound(seqs []uint64, n int, seq func(int) uint64) {
	got := make([]uint64, n)
	for i := range n {
		got[i] = seq(i)
	}
	rep.Unfound = rep.Unfound.Union(sequences.List(seqs...).Minus(got))
}

func (rep *FlushReport) add(o *Outcome, delivered *int) {
	*delivered += len(o.Delivered)
	rep.Done += len(o.Done)
	rep.Bad += len(o.Bad)
	for _, err := range o.Bad {
		rep.Errors = append(rep.Errors, err)
	}
}
