package relayer

import (
	"context"
	"fmt"
)

// FlushReport is what Flush did in one direction of a path.
type FlushReport struct {
	From, To        string
	Pending, Acks   int // found by query
	Received, Acked int // delivered by this flush
	Done            int // proven already done on the destination
	Bad             int // refused items (see Errors)
	Errors          []error
}

// Flush relays, directly and in chunks, everything left pending on a path in both directions:
// packets committed and not received, then the acknowledgements written for them (and any written
// before) that the sender has not processed. It is what an operator runs on a backlog (`cityrelay tx
// flush`) and needs no NATS. report is told of each direction's result (optional).
func (r *Relayer) Flush(ctx context.Context, p *Path, chunk int, report func(FlushReport)) error {
	if chunk <= 0 {
		chunk = 100
	}
	dirs := [][2]*End{{p.A, p.B}, {p.B, p.A}}
	reps := make([]FlushReport, len(dirs))
	for i, dir := range dirs {
		src, dst := dir[0], dir[1]
		rep := &reps[i]
		rep.From, rep.To = src.ChainID(), dst.ChainID()
		recv, _, err := Unrelayed(ctx, src, dst)
		if err != nil {
			return err
		}
		rep.Pending = len(recv)
		for len(recv) > 0 {
			seqs := recv[:min(chunk, len(recv))]
			recv = recv[len(seqs):]
			pks, h, err := SentPackets(ctx, src, seqs)
			if err != nil {
				return err
			}
			if len(pks) == 0 {
				continue
			}
			out, err := r.Recv(ctx, src, dst, pks, h)
			if err != nil {
				return fmt.Errorf("flush %s: recv on %s: %w", p.Name, dst.ChainID(), err)
			}
			rep.add(out, &rep.Received)
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
		rep.Acks = len(acks)
		for len(acks) > 0 {
			seqs := acks[:min(chunk, len(acks))]
			acks = acks[len(seqs):]
			as, h, err := AcksFor(ctx, dst, seqs)
			if err != nil {
				return err
			}
			if len(as) == 0 {
				continue
			}
			out, err := r.Ack(ctx, dst, src, as, h)
			if err != nil {
				return fmt.Errorf("flush %s: ack on %s: %w", p.Name, src.ChainID(), err)
			}
			rep.add(out, &rep.Acked)
		}
		if report != nil {
			report(*rep)
		}
	}
	return nil
}

func (rep *FlushReport) add(o *Outcome, delivered *int) {
	*delivered += len(o.Delivered)
	rep.Done += len(o.Done)
	rep.Bad += len(o.Bad)
	for _, err := range o.Bad {
		rep.Errors = append(rep.Errors, err)
	}
}
