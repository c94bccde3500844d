package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// Ordered channels and closes in the pipeline. The submitter of an ORDERED end keeps one batch in
// flight; the relayer delivers of each batch only the gap-free run from the end's next sequence and
// marks the rest Later: those are handed back here (after laterDelay, not counted as failures), and
// the gap before them is fetched again from the source's tx index and published (JetStream drops what
// is queued already). A destination end found CLOSED turns recv work into timeout work (timed out
// on close); a close seen on a chain (channel_close_init, or channel_close after an ordered timeout)
// is confirmed on the counterparty by the scanner, and by every clearing pass for a close it missed.

const (
	// laterDelay is the pause before an item after a gap is offered again.
	laterDelay = time.Second
	// refetchEvery bounds how often one end fetches a gap again.
	refetchEvery = 10 * time.Second
	// closeWait bounds confirming one close (a tx and the header after it).
	closeWait = 2 * time.Minute
)

// refetchGate lets one gap fetch through per refetchEvery.
type refetchGate struct {
	mu   sync.Mutex
	last time.Time
}

func (g *refetchGate) allow() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.last) < refetchEvery {
		return false
	}
	g.last = time.Now()
	return true
}

// later hands back the items out marks Later and fetches the gap before them again.
func (s *submitter) later(ctx context.Context, g *group, out *relayer.Outcome) {
	if len(out.Later) == 0 {
		return
	}
	log := s.o.Log.With().Str("chain", s.to).Str("path", g.p.Name).Str("channel", g.dst.ChannelID).Str("kind", g.kind).Logger()
	var first uint64
	waited := 0 // newly held or handed back: each item counted once per wait
	for i := range out.Later {
		if seq := g.works[i].Packet.Sequence; first == 0 || seq < first {
			first = seq
		}
		fresh, full := false, true
		if s.ordered {
			fresh, full = s.held.hold(g.msgs[i])
		}
		if full {
			_ = g.msgs[i].NakWithDelay(laterDelay)
		}
		if fresh || full {
			waited++
		}
	}
	if waited > 0 {
		s.retried(g.p.Name, g.kind, "out of order", waited)
	}
	log.Debug().Int("items", len(out.Later)).Uint64("first_seq", first).Uints64("missing", out.Missing).Msg("ordered channel: items after a gap handed back")
	if len(out.Missing) == 0 || !s.refetch.allow() {
		return
	}
	n, err := s.fetchAgain(ctx, g, out.Missing)
	if err != nil {
		log.Warn().Err(err).Uints64("missing", out.Missing).Msg("ordered channel: fetching the gap again failed; its items wait")
		return
	}
	log.Info().Int("published", n).Uints64("missing", out.Missing).Msg("ordered channel: gap fetched again")
}

// fetchAgain publishes again the work of the missing sequences of g's kind, read from the source
// chain's tx index (what it reads is proven when delivered, like any work).
func (s *submitter) fetchAgain(ctx context.Context, g *group, missing []uint64) (int, error) {
	n := 0
	switch g.kind {
	case packets.KindRecv:
		sent, err := relayer.SentPacketsAt(ctx, g.src, missing)
		if err != nil {
			return 0, err
		}
		for _, x := range sent {
			if !linksEnds(x.Packet, g.src, g.dst) {
				continue
			}
			w := &packets.Work{Kind: packets.KindRecv, Path: g.p.Name, From: g.src.ChainID(), To: g.dst.ChainID(), Height: x.Height,
				Packet: packets.FromIBC(x.Packet), Class: classOf(s.o, x.Packet.SourcePort, x.Packet.Data), ObservedUnixNano: time.Now().UnixNano()}
			if err := publish(ctx, s.o.JS, w); err != nil {
				return n, err
			}
			n++
		}
	case packets.KindAck:
		written, err := relayer.AcksAt(ctx, g.src, missing)
		if err != nil {
			return 0, err
		}
		for _, a := range written {
			if !linksEnds(a.Packet, g.dst, g.src) {
				continue
			}
			w := &packets.Work{Kind: packets.KindAck, Path: g.p.Name, From: g.src.ChainID(), To: g.dst.ChainID(), Height: a.Height,
				Packet: packets.FromIBC(a.Packet), Ack: a.Ack.Ack, Class: classOf(s.o, a.Packet.SourcePort, a.Packet.Data), ObservedUnixNano: time.Now().UnixNano()}
			if err := publish(ctx, s.o.JS, w); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// onClosed settles a group whose channel end was proven CLOSED: recv work becomes timeout work for
// the packets' source (timed out on close); an acknowledgement can no longer be processed by a
// closed sender and is dead-lettered with the reason.
func (s *submitter) onClosed(ctx context.Context, g *group, cause error) {
	log := s.o.Log.With().Str("chain", s.to).Str("path", g.p.Name).Str("channel", g.dst.ChannelID).Str("kind", g.kind).Logger()
	if g.kind != packets.KindRecv {
		log.Warn().Err(cause).Int("items", len(g.msgs)).Msg("channel end closed: work dead-lettered")
		for i, m := range g.msgs {
			s.dead(ctx, m, g.works[i], fmt.Errorf("%w: %w", ErrTerminal, cause))
		}
		return
	}
	lb, err := g.dst.Light.VerifyLatest(ctx)
	if err != nil {
		for i, m := range g.msgs {
			s.retry(ctx, m, g.works[i], fmt.Errorf("verify latest header of %s: %w", g.dst.ChainID(), err))
		}
		return
	}
	for i, w := range g.works {
		t := &packets.Work{Kind: packets.KindTimeout, Path: w.Path, From: g.dst.ChainID(), To: g.src.ChainID(), Packet: w.Packet,
			Height: lb.Height, Class: w.Class, ObservedUnixNano: w.ObservedUnixNano}
		if err := publish(ctx, s.o.JS, t); err != nil {
			s.retried(g.p.Name, g.kind, "transient", 1)
			_ = g.msgs[i].NakWithDelay(nakDelay)
			continue
		}
		s.life.Set(w.MsgID(), packets.StateTimedOut, fmt.Sprintf("channel end %s/%s on %s closed: timed out on close", g.dst.PortID, g.dst.ChannelID, g.dst.ChainID()))
		_ = g.msgs[i].DoubleAck(ctx)
	}
	log.Info().Int("items", len(g.works)).Msg("channel end closed: packets handed to their source to time out on close")
}

// closeEvents are the events that close a channel end: a MsgChannelCloseInit, or a timeout on an
// ORDERED channel.
var closeEvents = []string{channeltypes.EventTypeChannelCloseInit, channeltypes.EventTypeChannelClosed}

// closes confirms, on the counterparty, the close of every end of this chain that events (of block
// h) say closed. An event only points: ConfirmClose proves the closed end before it acts. A failure
// is logged and counted (OnFailed, kind "close"); a clearing pass tries again.
func (s *scanner) closes(ctx context.Context, ends []*relayer.End, events []chains.Event, h int64) {
	for _, ev := range events {
		if ev.Type != channeltypes.EventTypeChannelCloseInit && ev.Type != channeltypes.EventTypeChannelClosed {
			continue
		}
		port, channel := attr(ev, channeltypes.AttributeKeyPortID), attr(ev, channeltypes.AttributeKeyChannelID)
		for _, e := range ends {
			if e.PortID != port || e.ChannelID != channel {
				continue
			}
			p, other := s.counterpart(e)
			confirmClose(ctx, s.o, p, e, other, fmt.Sprintf("%s at %d", ev.Type, h))
		}
	}
}

// confirmClose confirms on other the close of closed (see relayer.Linker.ConfirmClose), logging and
// counting the outcome; why says what pointed at the close.
func confirmClose(ctx context.Context, o Options, p *relayer.Path, closed, other *relayer.End, why string) {
	log := o.Log.With().Str("path", p.Name).Str("chain", other.ChainID()).Str("channel", other.ChannelID).Str("closed_chain", closed.ChainID()).
		Str("closed_channel", closed.ChannelID).Str("seen", why).Logger()
	cctx, cancel := context.WithTimeout(ctx, closeWait)
	defer cancel()
	sent, err := (&relayer.Linker{Check: o.Relayer.Check}).ConfirmClose(cctx, p, closed, other)
	switch {
	case err != nil && errors.Is(err, relayer.ErrNotClosed):
		log.Warn().Err(err).Msg("close not confirmed: the end is not closed at the verified header")
	case err != nil:
		log.Warn().Err(err).Msg("close confirm failed; a clearing pass tries again")
		if o.OnFailed != nil {
			o.OnFailed(p.Name, "close", "close confirm", 1)
		}
	case sent:
		log.Info().Msg("channel close confirmed on the counterparty")
	}
}

// clearCloses confirms, for every path, a close one end has and the other has not (one a scanner
// missed, or that failed).
func clearCloses(ctx context.Context, o Options) {
	l := &relayer.Linker{Check: o.Relayer.Check}
	for _, p := range o.Paths {
		if p.A.ChannelID == "" || p.B.ChannelID == "" {
			continue
		}
		for _, dir := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
			st, err := l.ChannelState(ctx, dir[0])
			if err != nil || st != channeltypes.CLOSED {
				continue
			}
			confirmClose(ctx, o, p, dir[0], dir[1], "clearing")
		}
	}
}

func attr(ev chains.Event, key string) string {
	for _, a := range ev.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}
