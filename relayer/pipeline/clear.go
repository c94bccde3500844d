package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// clear publishes, once at start and in chunks, the work left over from before this relayer ran:
// packets committed but not received, acknowledgements written but not processed. It runs beside the
// scanners; de-duplication absorbs any overlap with what they find (each item carries the block of
// its own event, read from the tx index, so its id is the scanner's). A packet carrying an attestation
// id gets its entry in the packet bucket as the scanners write it.
func clearPending(ctx context.Context, o Options) error {
	life := packets.NewRecorder(o.JS, o.Log)
	clearCloses(ctx, o)
	for _, p := range o.Paths {
		for _, dir := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
			src, dst := dir[0], dir[1]
			recv, acks, err := relayer.Unrelayed(ctx, src, dst)
			if err != nil {
				return err
			}
			if len(recv)+len(acks) > 0 {
				o.Log.Info().Str("path", p.Name).Str("chain", src.ChainID()).Int("packets", len(recv)).Int("acks", len(acks)).Msg("clearing pending work")
			}
			for _, chunk := range chunks(recv, o.ClearChunk) {
				sent, err := relayer.SentPacketsAt(ctx, src, chunk)
				if err != nil {
					return err
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
						return err
					}
					if id != "" {
						life.Attested(id, w, s.Height)
					}
				}
			}
			for _, chunk := range chunks(acks, o.ClearChunk) {
				written, err := relayer.AcksAt(ctx, dst, chunk)
				if err != nil {
					return err
				}
				for _, a := range written {
					if !linksEnds(a.Packet, src, dst) {
						skipForged(o, p.Name, packets.KindAck, dst.ChainID(), a.Height, a.Packet)
						continue
					}
					w := &packets.Work{Kind: packets.KindAck, Path: p.Name, From: dst.ChainID(), To: src.ChainID(), Height: a.Height, Packet: packets.FromIBC(a.Packet),
						Ack: a.Ack.Ack, Class: classOf(o, a.Packet.SourcePort, a.Packet.Data), ObservedUnixNano: time.Now().UnixNano()}
					if err := publish(ctx, o.JS, w); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
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
