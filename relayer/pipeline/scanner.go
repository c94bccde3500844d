package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// scanner reads one chain's verified blocks and publishes the work they hold for every path end on
// the chain. Its cursor advances only after JetStream acknowledged every publish of a block.
type scanner struct {
	chain   string
	o       Options
	cursors jetstream.KeyValue
	life    *packets.Recorder
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
	pace := newPacer(s.o.Poll)
	var prev *cmttypes.LightBlock // the header verified by the poll before this one
	for {
		lb, err := src.Light.VerifyLatest(ctx)
		if err != nil {
			return fmt.Errorf("verify latest header of %s: %w", s.chain, err)
		}
		// The pause runs from now, not from the end of the scan: a slow scan (an index catching up)
		// must not delay the next poll by its own length.
		nextPoll := time.Now().Add(pace.next(lb.Height, lb.Time, time.Now()))
		// Block h's results are final once header h+1 is verified.
		for h := cursor + 1; h < lb.Height; h++ {
			var events []chains.Event
			if !fromTxsOnly(src.Chain) || prev == nil || prev.Height != h || !noTxs(prev) {
				if events, err = es.BlockEvents(ctx, h, append([]string{channeltypes.EventTypeSendPacket, channeltypes.EventTypeWriteAck}, closeEvents...)...); err != nil {
					return fmt.Errorf("events of %s/%d: %w", s.chain, h, err)
				}
			}
			s.closes(ctx, ends, events, h)
			n, err := s.publish(ctx, ends, events, h)
			if err != nil {
				return err
			}
			if _, err := s.cursors.Put(ctx, s.cursorKey(ends), []byte(strconv.FormatInt(h, 10))); err != nil {
				return fmt.Errorf("save cursor of %s: %w", s.chain, err)
			}
			cursor = h
			if s.o.OnScanned != nil {
				s.o.OnScanned(s.chain, h)
			}
			if n > 0 {
				log.Debug().Int64("height", h).Int("work", n).Msg("block scanned")
			}
		}
		prev = lb
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(nextPoll)):
		}
	}
}

// emptyDataHash is the data hash of a block without txs.
var emptyDataHash = cmttypes.Txs(nil).Hash()

// noTxs: the verified header lb commits to a block without txs, so the block holds no tx events,
// and a chain whose events are read from its txs alone (fromTxsOnly) need not be asked for them. The data hash is signed by the chain's validators: no node
// can make a block with packets pass for an empty one.
func noTxs(lb *cmttypes.LightBlock) bool { return bytes.Equal(lb.DataHash, emptyDataHash) }

// fromTxsOnly: the chain reads a block's events from its txs alone (a Cosmos client over a node's tx
// index), so a block without txs has none.
func fromTxsOnly(c any) bool {
	t, ok := c.(interface{ EventsFromTxsOnly() bool })
	return ok && t.EventsFromTxsOnly()
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
	// Saved at once: a scanner that fails before its first block must resume here, not skip ahead.
	start := lb.Height - 1
	if _, err := s.cursors.Create(ctx, s.cursorKey(ends), []byte(strconv.FormatInt(start, 10))); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return s.loadCursor(ctx, src, ends) // another instance with the same ends saved one first
		}
		return 0, fmt.Errorf("save first cursor of %s: %w", s.chain, err)
	}
	return start, nil
}

func (s *scanner) publish(ctx context.Context, ends []*relayer.End, events []chains.Event, h int64) (n int, err error) {
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
	attested := map[*packets.Work]string{} // recv work carrying an attestation id
	for _, e := range ends {
		p, other := s.counterpart(e)
		for _, pk := range sends {
			if pk.SourcePort != e.PortID || pk.SourceChannel != e.ChannelID {
				continue
			}
			if !linksEnds(pk, e, other) {
				skipForged(s.o, p.Name, packets.KindRecv, s.chain, h, pk)
				continue
			}
			if s.o.excluded(p.Name, e, packets.KindRecv, pk.Sequence) {
				continue
			}
			if s.o.belowMinFee(ctx, p.Name, e, pk.Sequence, h) {
				continue
			}
			class, id := s.o.Classify(pk.SourcePort, pk.Data)
			w := &packets.Work{Kind: packets.KindRecv, Path: p.Name, From: s.chain, To: other.ChainID(), Height: h,
				Packet: packets.FromIBC(pk), Class: class, ObservedUnixNano: now}
			if id != "" {
				attested[w] = id
			}
			works = append(works, w)
		}
		for _, a := range acks {
			if a.Packet.DestinationPort != e.PortID || a.Packet.DestinationChannel != e.ChannelID {
				continue
			}
			if !linksEnds(a.Packet, other, e) {
				skipForged(s.o, p.Name, packets.KindAck, s.chain, h, a.Packet)
				continue
			}
			if s.o.excluded(p.Name, other, packets.KindAck, a.Packet.Sequence) {
				continue
			}
			works = append(works, &packets.Work{Kind: packets.KindAck, Path: p.Name, From: s.chain, To: other.ChainID(), Height: h,
				Packet: packets.FromIBC(a.Packet), Ack: a.Ack, Class: classOf(s.o, a.Packet.SourcePort, a.Packet.Data), ObservedUnixNano: now})
		}
	}
	// Published asynchronously in windows (JetStream bounds the acks outstanding); the block counts as
	// scanned only once every publish is acknowledged. An item's "observed" record goes out on the
	// connection before the item itself, and only when the item has no record yet, so a submitter's
	// later record for it can never be overwritten (by this scanner, another instance's or a rescan);
	// a packet carrying an attestation id gets an index entry by that id beside it (best effort too).
	for len(works) > 0 {
		window := works[:min(len(works), publishWindow)]
		works = works[len(window):]
		futs := make([]jetstream.PubAckFuture, len(window))
		for i, w := range window {
			bz, err := w.Encode()
			if err != nil {
				return 0, err
			}
			s.life.Observed(w.MsgID())
			if id, ok := attested[w]; ok {
				s.life.Attested(id, w, w.Height)
			}
			if futs[i], err = s.o.JS.PublishAsync(w.Subject(), bz, jetstream.WithMsgID(w.MsgID())); err != nil {
				return 0, fmt.Errorf("publish %s: %w", w.MsgID(), err)
			}
		}
		// The block counts as published only once every publish is acknowledged; an ack that never
		// comes (a connection lost to a node that died) fails the block after publishAckWait, and the
		// supervisor scans it again (de-duplication drops what did arrive).
		wait := time.NewTimer(publishAckWait)
		for i, f := range futs {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				if !inProcessElsewhere(err) {
					wait.Stop()
					return 0, fmt.Errorf("publish %s: %w", window[i].MsgID(), err)
				}
			case <-wait.C:
				return 0, fmt.Errorf("publish %s: no acknowledgement from JetStream within %s", window[i].MsgID(), publishAckWait)
			case <-ctx.Done():
				wait.Stop()
				return 0, ctx.Err()
			}
			if s.o.OnObserved != nil {
				s.o.OnObserved(window[i])
			}
		}
		wait.Stop()
		n += len(window)
	}
	return n, nil
}

// linksEnds: pk goes from channel end src to channel end dst. A channel end has one counterparty, so
// an event naming another is forged (it would be published for an end that does not serve it).
func linksEnds(pk channeltypes.Packet, src, dst *relayer.End) bool {
	return pk.SourcePort == src.PortID && pk.SourceChannel == src.ChannelID && pk.DestinationPort == dst.PortID && pk.DestinationChannel == dst.ChannelID
}

// skipForged logs and counts (OnFailed, reason "forged") an event read on chain at height h that
// names another counterparty than the channel's: nothing is published for it.
func skipForged(o Options, path, kind, chain string, h int64, pk channeltypes.Packet) {
	o.Log.Warn().Str("chain", chain).Str("path", path).Str("kind", kind).Int64("height", h).Str("channel", pk.SourceChannel).
		Uint64("seq", pk.Sequence).Str("dst_port", pk.DestinationPort).Str("dst_channel", pk.DestinationChannel).
		Msg("forged packet event skipped: it names another counterparty than the channel's")
	if o.OnFailed != nil {
		o.OnFailed(path, kind, "forged", 1)
	}
}

// publishAckWait bounds the wait for JetStream's acknowledgement of a block's publishes.
const publishAckWait = 15 * time.Second

// errDuplicateInProcess is JetStream's answer when another instance's publish of the same work (the
// same Nats-Msg-Id) is being stored right now: the work is on its way, not lost (and periodic
// clearing finds it should that publish fail).
const errDuplicateInProcess jetstream.ErrorCode = 10158

func inProcessElsewhere(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errDuplicateInProcess
}

// publishWindow bounds the asynchronous publishes outstanding: a window's items, their observed
// records and attestation entries are at most 3,000 of the 4,000 JetStream's client allows.
const publishWindow = 1000
