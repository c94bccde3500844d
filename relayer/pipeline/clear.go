package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// clearPending publishes, once at start and in chunks, the work left over from before this relayer
// ran: packets committed but not received, acknowledgements written but not processed. It runs beside
// the scanners; de-duplication absorbs any overlap with what they find (each item carries the block of
// its own event, read from the tx index, so its id is the scanner's). A packet carrying an attestation
// id gets its entry in the packet bucket as the scanners write it. Excluded sequences are skipped.
func clearPending(ctx context.Context, o Options) error {
	life := packets.NewRecorder(o.JS, o.Log)
	clearCloses(ctx, o)
	for _, p := range o.Paths {
		if _, err := clearPath(ctx, o, life, p, sequences.Set{}); err != nil {
			return err
		}
	}
	return nil
}

// ErrUnknownPath: Clear was asked for a path the pipeline does not relay.
var ErrUnknownPath = errors.New("no such path relayed here")

// ClearReport is what Clear published for a path, per direction.
type ClearReport struct {
	Path       string
	Directions []ClearDirection
}

// ClearDirection is what Clear published in one direction of a path.
type ClearDirection struct {
	From, To string
	// Packets is the recv work published (its submitter delivers the recv, or the timeout once To can
	// no longer receive it); Acks the ack work.
	Packets, Acks int
	// Excluded are the pending sequences skipped (From's end excludes them and they were not named).
	Excluded sequences.Set
	// NotPending are the named sequences with nothing to relay in this direction.
	NotPending sequences.Set
	// BelowMinFee are the pending sequences whose recv was skipped: their escrowed recv fee is below
	// From's end's min_fees (and they were not named).
	BelowMinFee sequences.Set
}

// Clear publishes now, through the pipeline's work queue (its submitters deliver it as they deliver
// what the scanners find), the work pending on path name: of the sequences only when not empty (in both
// directions, excluded ones too: they are released for the rest of their relaying here, the ack after
// the recv), else of every pending sequence but the excluded ones. It is the daemon's "clear now" (the
// admin clear): the same de-duplication ids as the scanners', so work already queued is not doubled.
func Clear(ctx context.Context, o Options, name string, only sequences.Set) (*ClearReport, error) {
	var p *relayer.Path
	for _, q := range o.Paths {
		if q.Name == name {
			p = q
		}
	}
	if p == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownPath, name)
	}
	if o.Classify == nil {
		o.Classify = packets.Unclassified
	}
	if !only.Empty() && o.Exclusions != nil {
		o.Exclusions.Release(name, only)
	}
	return clearPath(ctx, o, packets.NewRecorder(o.JS, o.Log), p, only)
}

// clearPath publishes the pending work of path p (see Clear for only).
func clearPath(ctx context.Context, o Options, life *packets.Recorder, p *relayer.Path, only sequences.Set) (*ClearReport, error) {
	rep := &ClearReport{Path: p.Name}
	for _, dir := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
		src, dst := dir[0], dir[1]
		d := ClearDirection{From: src.ChainID(), To: dst.ChainID()}
		recv, acks, err := relayer.Unrelayed(ctx, src, dst)
		if err != nil {
			return nil, err
		}
		if !only.Empty() {
			d.NotPending = only.Minus(append(append([]uint64{}, recv...), acks...))
			recv, _ = only.Split(recv)
			acks, _ = only.Split(acks)
		} else {
			var ex []uint64
			recv, ex = skipExcluded(o, p.Name, src, packets.KindRecv, recv)
			d.Excluded = sequences.List(ex...)
			recv, ex = skipBelowMinFee(ctx, o, p.Name, src, recv)
			d.BelowMinFee = sequences.List(ex...)
			acks, ex = skipExcluded(o, p.Name, src, packets.KindAck, acks)
			d.Excluded = d.Excluded.Union(sequences.List(ex...))
		}
		switch {
		case len(recv)+len(acks) > 0:
			o.Log.Info().Str("path", p.Name).Str("chain", src.ChainID()).Int("packets", len(recv)).Int("acks", len(acks)).Str("excluded", d.Excluded.String()).
				Msg("clearing pending work")
		case !d.Excluded.Empty():
			o.Log.Debug().Str("path", p.Name).Str("chain", src.ChainID()).Str("excluded", d.Excluded.String()).Msg("clearing: only excluded work pending")
		}
		for _, chunk := range chunks(recv, o.ClearChunk) {
			sent, err := relayer.SentPacketsAt(ctx, src, chunk)
			if err != nil {
				return nil, err
			}
			for _, s := range sent {
				pk := s.Packet
				if !linksEnds(pk, src, dst) {
					skipForged(o, p.Name, packets.KindRecv, src.ChainID(), s.Height, pk)
					continue
				}
				class, id := o.Classify(pk.SourcePort, pk.Data)
				// The send's own block, as a scanner saw it: the same work, the same id.
				w := &packets.Work{Kind: packets.KindRecv, Path: p.Name, From: src.ChainID(), To: dst.ChainID(), Height: s.Height, Packet: packets.FromIBC(pk),
					Class: class, ObservedUnixNano: time.Now().UnixNano()}
				if err := publish(ctx, o.JS, w); err != nil {
					return nil, err
				}
				d.Packets++
				if id != "" {
					life.Attested(id, w, s.Height)
				}
			}
		}
		for _, chunk := range chunks(acks, o.ClearChunk) {
			written, err := relayer.AcksAt(ctx, dst, chunk)
			if err != nil {
				return nil, err
			}
			for _, a := range written {
				if !linksEnds(a.Packet, src, dst) {
					skipForged(o, p.Name, packets.KindAck, dst.ChainID(), a.Height, a.Packet)
					continue
				}
				w := &packets.Work{Kind: packets.KindAck, Path: p.Name, From: dst.ChainID(), To: src.ChainID(), Height: a.Height, Packet: packets.FromIBC(a.Packet),
					Ack: a.Ack.Ack, Class: classOf(o, a.Packet.SourcePort, a.Packet.Data), ObservedUnixNano: time.Now().UnixNano()}
				if err := publish(ctx, o.JS, w); err != nil {
					return nil, err
				}
				d.Acks++
			}
		}
		rep.Directions = append(rep.Directions, d)
	}
	return rep, nil
}

// skipExcluded splits the pending sequences of packets src sent into those to clear and those src's
// end excludes (logged and counted once each, Options.excluded).
func skipExcluded(o Options, path string, src *relayer.End, kind string, seqs []uint64) (keep, excluded []uint64) {
	for _, q := range seqs {
		if o.excluded(path, src, kind, q) {
			excluded = append(excluded, q)
		} else {
			keep = append(keep, q)
		}
	}
	return keep, excluded
}

func publish(ctx context.Context, js jetstream.JetStream, w *packets.Work) error {
	bz, err := w.Encode()
	if err != nil {
		return err
	}
	if _, err := js.Publish(ctx, w.Subject(), bz, jetstream.WithMsgID(w.MsgID())); err != nil {
		return fmt.Errorf("publish %s: %w", w.MsgID(), err)
	}
	return nil
}

func chunks(seqs []uint64, n int) [][]uint64 {
	if n <= 0 {
		n = 100
	}
	var out [][]uint64
	for len(seqs) > 0 {
		k := min(n, len(seqs))
		out = append(out, seqs[:k])
		seqs = seqs[k:]
	}
	return out
}

// skipBelowMinFee splits the pending sequences of packets src sent into those to clear and those
// whose recv fee is below src's minimum (Options.belowMinFee).
func skipBelowMinFee(ctx context.Context, o Options, path string, src *relayer.End, seqs []uint64) (keep, below []uint64) {
	if len(src.MinFees) == 0 {
		return seqs, nil
	}
	for _, q := range seqs {
		if o.belowMinFee(ctx, path, src, q, 0) {
			below = append(below, q)
		} else {
			keep = append(keep, q)
		}
	}
	return keep, below
}
