package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// submitter delivers the work for one destination chain from a pull consumer shared by every relayer
// instance. A batch is acknowledged to JetStream only after its tx is committed.
type submitter struct {
	to   string
	o    Options
	life *lifecycle
}

const (
	// nakDelay is the pause before a transiently failed item is offered again (to any instance).
	nakDelay = 2 * time.Second
	// ackWait bounds how long a crashed instance holds work; heartbeat keeps a live instance's claim.
	ackWait   = 15 * time.Second
	heartbeat = 5 * time.Second
)

func (s *submitter) run(ctx context.Context) error {
	cons, err := s.o.JS.CreateOrUpdateConsumer(ctx, packets.WorkStream, jetstream.ConsumerConfig{
		Durable:       "submit-" + s.to,
		FilterSubject: packets.WorkSubject(s.to, "*", "*"),
		AckPolicy:     jetstream.AckExplicitPolicy,
		// An instance killed mid-batch frees its work after AckWait; a live one extends it with
		// progress heartbeats while its tx commits (see handle).
		AckWait:       ackWait,
		MaxAckPending: 10_000,
	})
	if err != nil {
		return fmt.Errorf("consumer for %s: %w", s.to, err)
	}
	log := s.o.Log.With().Str("chain", s.to).Logger()
	log.Info().Int("in_flight", s.o.InFlight).Msg("submitter started")
	// Several batches in flight: while one relay tx waits for its block, the next is built and
	// broadcast (the key's signer hands out sequences in order; a tx is only acked once committed).
	g, gctx := errgroup.WithContext(ctx)
	for range s.o.InFlight {
		g.Go(func() error { return s.loop(gctx, cons) })
	}
	return g.Wait()
}

func (s *submitter) loop(ctx context.Context, cons jetstream.Consumer) error {
	log := s.o.Log.With().Str("chain", s.to).Logger()
	for ctx.Err() == nil {
		batch, err := cons.Fetch(s.o.BatchMax, jetstream.FetchMaxWait(s.o.BatchWait))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch work for %s: %w", s.to, err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && len(msgs) == 0 && ctx.Err() == nil {
			log.Debug().Err(err).Msg("fetch ended")
		}
		if len(msgs) > 0 {
			// Finish the batch even if shutdown begins: it is either committed and acked, or handed back.
			s.handle(context.WithoutCancel(ctx), msgs)
		}
	}
	return nil
}

type group struct {
	path, kind string
	works      []*packets.Work
	msgs       []jetstream.Msg
}

func (s *submitter) handle(ctx context.Context, msgs []jetstream.Msg) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range msgs {
					_ = m.InProgress()
				}
			}
		}
	}()
	groups := map[string]*group{}
	var order []string
	for _, m := range msgs {
		w, err := packets.Decode(m.Data())
		if err != nil {
			s.dead(ctx, m, nil, err)
			continue
		}
		k := w.Path + "/" + w.Kind
		if groups[k] == nil {
			groups[k] = &group{path: w.Path, kind: w.Kind}
			order = append(order, k)
		}
		groups[k].works = append(groups[k].works, w)
		groups[k].msgs = append(groups[k].msgs, m)
	}
	for _, k := range order {
		s.deliver(ctx, groups[k])
	}
}

func (s *submitter) path(name string) *relayer.Path {
	for _, p := range s.o.Paths {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (s *submitter) deliver(ctx context.Context, g *group) {
	log := s.o.Log.With().Str("chain", s.to).Str("path", g.path).Str("kind", g.kind).Logger()
	p := s.path(g.path)
	if p == nil {
		for i, m := range g.msgs {
			s.dead(ctx, m, g.works[i], fmt.Errorf("%w: path %s is not configured here", ErrTerminal, g.path))
		}
		return
	}
	dst, src := p.A, p.B
	if p.B.ChainID() == s.to {
		dst, src = p.B, p.A
	}
	var height, oldest int64
	for _, w := range g.works {
		height = max(height, w.Height)
		if oldest == 0 || w.ObservedUnixNano < oldest {
			oldest = w.ObservedUnixNano
		}
	}
	var tx *relayer.TxInfo
	var seqs []uint64
	var err error
	switch g.kind {
	case packets.KindRecv:
		if g, err = s.splitTimeouts(ctx, g, src, dst); err != nil {
			break
		}
		if len(g.works) == 0 {
			return
		}
		pks := make([]channeltypes.Packet, len(g.works))
		for i, w := range g.works {
			pks[i] = fromWire(w.Packet)
		}
		tx, seqs, err = s.o.Relayer.RecvPackets(ctx, src, dst, pks, height)
	case packets.KindTimeout:
		pks := make([]channeltypes.Packet, len(g.works))
		for i, w := range g.works {
			pks[i] = fromWire(w.Packet)
		}
		// This chain sent the packets; src here is the chain that never received them.
		tx, seqs, err = s.o.Relayer.TimeoutPackets(ctx, dst, src, pks, height)
	case packets.KindAck:
		acks := make([]relayer.Ack, len(g.works))
		for i, w := range g.works {
			acks[i] = relayer.Ack{Packet: fromWire(w.Packet), Ack: w.Ack}
		}
		tx, seqs, err = s.o.Relayer.AckPackets(ctx, src, dst, acks, height)
	default:
		err = fmt.Errorf("%w: %s work is not handled yet", ErrTerminal, g.kind)
	}
	if err != nil && errors.Is(err, cosmos.ErrTxTooLarge) && len(g.works) > 1 {
		// More than one tx can carry (gas or bytes): deliver each half in its own tx, both in flight.
		half := len(g.works) / 2
		log.Info().Int("items", len(g.works)).Msg("batch too large for one tx; splitting it")
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.deliver(ctx, &group{path: g.path, kind: g.kind, works: g.works[:half], msgs: g.msgs[:half]})
		}()
		s.deliver(ctx, &group{path: g.path, kind: g.kind, works: g.works[half:], msgs: g.msgs[half:]})
		wg.Wait()
		return
	}
	if err != nil {
		if errors.Is(err, ErrTerminal) || errors.Is(err, relayer.ErrBadEvent) {
			for i, m := range g.msgs {
				s.dead(ctx, m, g.works[i], err)
			}
			return
		}
		var txErr *cosmos.TxError
		reason := "transient"
		if errors.As(err, &txErr) {
			reason = fmt.Sprintf("tx %s/%d", txErr.Codespace, txErr.Code)
		}
		log.Warn().Err(err).Str("reason", reason).Int("items", len(g.msgs)).Msg("delivery failed; handing the work back")
		if s.o.OnFailed != nil {
			s.o.OnFailed(g.path, g.kind, reason, len(g.msgs))
		}
		for i, m := range g.msgs {
			s.life.set(g.works[i].MsgID(), "retrying", err.Error())
			_ = m.NakWithDelay(nakDelay)
		}
		return
	}
	// Committed (or nothing left to do: the destination already had every item): ack them all.
	state, detail := "already-delivered", ""
	if tx != nil {
		state, detail = "confirmed", tx.Hash
	}
	for i, err := range ackAll(ctx, g.msgs) {
		s.life.set(g.works[i].MsgID(), state, detail)
		if err != nil {
			log.Warn().Err(err).Uint64("seq", g.works[i].Packet.Sequence).Msg("ack to JetStream failed; the item may be delivered again and will be dropped as done")
		}
	}
	if tx != nil {
		d := Delivered{To: s.to, Path: g.path, Kind: g.kind, Sequences: seqs, TxHash: tx.Hash, Height: tx.Height,
			Latency: time.Since(time.Unix(0, oldest))}
		log.Info().Uints64("seq", seqs).Str("tx", tx.Hash).Int64("height", tx.Height).Int64("gas", tx.GasUsed).
			Uint64("simulated_gas", tx.Timing.SimulatedGas).Dur("prove_ms", tx.Prove).Dur("queue_ms", tx.Timing.Queue).Dur("simulate_ms", tx.Timing.Simulate).Dur("sign_ms", tx.Timing.Sign).
			Dur("broadcast_ms", tx.Timing.Broadcast).Dur("commit_ms", tx.Timing.Commit).Msg("packets delivered")
		if s.o.OnDelivered != nil {
			s.o.OnDelivered(d)
		}
	}
}

// splitTimeouts takes out of a recv group the packets dst can no longer receive: they become timeout
// work for the packet's source chain (published before their recv work is acknowledged).
func (s *submitter) splitTimeouts(ctx context.Context, g *group, src, dst *relayer.End) (*group, error) {
	lb, err := dst.Light.VerifyLatest(ctx)
	if err != nil {
		return g, fmt.Errorf("verify latest header of %s: %w", dst.ChainID(), err)
	}
	live := &group{path: g.path, kind: g.kind}
	for i, w := range g.works {
		if !relayer.TimedOut(fromWire(w.Packet), dst, lb) {
			live.works, live.msgs = append(live.works, w), append(live.msgs, g.msgs[i])
			continue
		}
		t := &packets.Work{Kind: packets.KindTimeout, Path: w.Path, From: dst.ChainID(), To: src.ChainID(), Packet: w.Packet,
			Height: lb.Height, Class: w.Class, ObservedUnixNano: w.ObservedUnixNano}
		bz, err := t.Encode()
		if err == nil {
			_, err = s.o.JS.Publish(ctx, t.Subject(), bz, jetstream.WithMsgID(t.MsgID()))
		}
		if err != nil {
			_ = g.msgs[i].NakWithDelay(nakDelay)
			continue
		}
		s.life.set(w.MsgID(), "timed-out", fmt.Sprintf("timed out on %s at height %d", dst.ChainID(), lb.Height))
		s.o.Log.Info().Str("chain", dst.ChainID()).Str("path", w.Path).Uint64("seq", w.Packet.Sequence).Msg("packet timed out; timeout handed to its source")
		_ = g.msgs[i].DoubleAck(ctx)
	}
	return live, nil
}

// dead sends a work item that cannot be delivered to the dead-letter subject with the reason, and
// terminates it in the work queue.
func (s *submitter) dead(ctx context.Context, m jetstream.Msg, w *packets.Work, reason error) {
	path := "unknown"
	if w != nil {
		path = w.Path
		s.life.set(w.MsgID(), "failed", reason.Error())
	}
	msg := nats.NewMsg(packets.DeadSubject(s.to, path))
	msg.Data = m.Data()
	msg.Header.Set("Cityrelay-Reason", reason.Error())
	if _, err := s.o.JS.PublishMsg(ctx, msg); err != nil {
		s.o.Log.Error().Err(err).Str("chain", s.to).Msg("dead-letter publish failed; leaving the item for redelivery")
		_ = m.NakWithDelay(nakDelay)
		return
	}
	s.o.Log.Error().Str("chain", s.to).Str("path", path).Str("reason", reason.Error()).Msg("work item dead-lettered")
	if s.o.OnFailed != nil {
		kind := "unknown"
		if w != nil {
			kind = w.Kind
		}
		s.o.OnFailed(path, kind, "dead", 1)
	}
	_ = m.Term()
}
