package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// scanner reads one chain's verified blocks and publishes the work they hold for every path end on
// the chain. Its cursor advances only after JetStream acknowledged every publish of a block.
type scanner struct {
	chain   string
	o       Options
	cursors jetstream.KeyValue
	life    *lifecycle
}

func (s *scanner) ends() []*relayer.End {
	var out []*relayer.End
	for _, p := range s.o.Paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			if e.ChainID() == s.chain {
				out = append(out, e)
			}
		}
	}
	return out
}

// counterpart returns the path and the other end of e.
func (s *scanner) counterpart(e *relayer.End) (*relayer.Path, *relayer.End) {
	for _, p := range s.o.Paths {
		if p.A == e {
			return p, p.B
		}
		if p.B == e {
			return p, p.A
		}
	}
	return nil, nil
}

func (s *scanner) run(ctx context.Context) error {
	ends := s.ends()
	src := ends[0]
	es, ok := src.Chain.(relayer.EventSource)
	if !ok {
		return fmt.Errorf("chain %s cannot list block events", s.chain)
	}
	cursor, err := s.loadCursor(ctx, src, ends)
	if err != nil {
		return err
	}
	log := s.o.Log.With().Str("chain", s.chain).Logger()
	log.Info().Int64("from", cursor+1).Msg("scanner started")
	for {
		lb, err := src.Light.VerifyLatest(ctx)
		if err != nil {
			return fmt.Errorf("verify latest header of %s: %w", s.chain, err)
		}
		// Block h's results are final once header h+1 is verified.
		for h := cursor + 1; h < lb.Height; h++ {
			events, err := es.BlockEvents(ctx, h, channeltypes.EventTypeSendPacket, channeltypes.EventTypeWriteAck)
			if err != nil {
				return fmt.Errorf("events of %s/%d: %w", s.chain, h, err)
			}
			n, err := s.publish(ctx, ends, events, h)
			if err != nil {
				return err
			}
			if _, err := s.cursors.Put(ctx, s.cursorKey(ends), []byte(strconv.FormatInt(h, 10))); err != nil {
				return fmt.Errorf("save cursor of %s: %w", s.chain, err)
			}
			cursor = h
			if n > 0 {
				log.Debug().Int64("height", h).Int("work", n).Msg("block scanned")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.o.Poll):
		}
	}
}

// cursorKey names the cursor of this chain for the channel ends this instance scans it for: instances
// serving different paths on one chain keep their own cursors, so none skips blocks only the other's
// paths were scanned for; instances serving the same ends share one.
func (s *scanner) cursorKey(ends []*relayer.End) string {
	ids := make([]string, len(ends))
	for i, e := range ends {
		ids[i] = e.PortID + "/" + e.ChannelID
	}
	sort.Strings(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, ",")))
	return s.chain + "." + hex.EncodeToString(sum[:8])
}

// loadCursor returns the last scanned height, or starts just below the latest verified header.
func (s *scanner) loadCursor(ctx context.Context, src *relayer.End, ends []*relayer.End) (int64, error) {
	entry, err := s.cursors.Get(ctx, s.cursorKey(ends))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		entry, err = s.cursors.Get(ctx, s.chain) // a cursor saved before cursors were per set of ends
	}
	if err == nil {
		return strconv.ParseInt(string(entry.Value()), 10, 64)
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, fmt.Errorf("read cursor of %s: %w", s.chain, err)
	}
	lb, err := src.Light.VerifyLatest(ctx)
	if err != nil {
		return 0, err
	}
	return lb.Height - 1, nil
}

func (s *scanner) publish(ctx context.Context, ends []*relayer.End, events []abciEvent, h int64) (n int, err error) {
	sends, err := relayer.SendPackets(events)
	if err != nil {
		s.o.Log.Warn().Err(err).Str("chain", s.chain).Int64("height", h).Msg("malformed send_packet event skipped")
	}
	acks, err := relayer.WrittenAcks(events)
	if err != nil {
		s.o.Log.Warn().Err(err).Str("chain", s.chain).Int64("height", h).Msg("malformed write_acknowledgement event skipped")
	}
	now := time.Now().UnixNano()
	var works []*packets.Work
	for _, e := range ends {
		p, other := s.counterpart(e)
		for _, pk := range sends {
			if pk.SourcePort != e.PortID || pk.SourceChannel != e.ChannelID {
				continue
			}
			works = append(works, &packets.Work{Kind: packets.KindRecv, Path: p.Name, From: s.chain, To: other.ChainID(), Height: h,
				Packet: toWire(pk), Class: packets.Classify(pk.SourcePort, pk.Data), ObservedUnixNano: now})
		}
		for _, a := range acks {
			if a.Packet.DestinationPort != e.PortID || a.Packet.DestinationChannel != e.ChannelID {
				continue
			}
			works = append(works, &packets.Work{Kind: packets.KindAck, Path: p.Name, From: s.chain, To: other.ChainID(), Height: h,
				Packet: toWire(a.Packet), Ack: a.Ack, Class: packets.Classify(a.Packet.SourcePort, a.Packet.Data), ObservedUnixNano: now})
		}
	}
	// Published asynchronously in windows (JetStream bounds the acks outstanding); the block counts as
	// scanned only once every publish is acknowledged. An item's "observed" record goes out on the
	// connection before the item itself, so a submitter's later record for it can never be overwritten.
	for len(works) > 0 {
		window := works[:min(len(works), publishWindow)]
		works = works[len(window):]
		futs := make([]jetstream.PubAckFuture, len(window))
		for i, w := range window {
			bz, err := w.Encode()
			if err != nil {
				return 0, err
			}
			s.life.set(w.MsgID(), "observed", "")
			if futs[i], err = s.o.JS.PublishAsync(w.Subject(), bz, jetstream.WithMsgID(w.MsgID())); err != nil {
				return 0, fmt.Errorf("publish %s: %w", w.MsgID(), err)
			}
		}
		for i, f := range futs {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return 0, fmt.Errorf("publish %s: %w", window[i].MsgID(), err)
			case <-ctx.Done():
				return 0, ctx.Err()
			}
			if s.o.OnObserved != nil {
				s.o.OnObserved(window[i])
			}
		}
		n += len(window)
	}
	return n, nil
}

// publishWindow bounds the asynchronous publishes outstanding (JetStream's client allows 4,000).
const publishWindow = 1000
