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

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// submitter delivers the work for one channel end of a destination chain from a pull consumer shared
// by every relayer instance that serves that end (and seen by no other). A batch is acknowledged to
// JetStream only after its tx is committed.
type submitter struct {
	to            string
	port, channel string
	o             Options
	rel           deliverer // o.Relayer
	life          *packets.Recorder
	// ordered: the end is an ORDERED channel's: one batch in flight, a split batch's halves one after
	// the other, items after a gap handed back (see ordered.go).
	ordered bool
	refetch refetchGate
	held    heldQueue // ordered: items after a gap, waiting (held.go)
}

// deliverer is what a submitter needs of the relayer: each kind of work delivered in one tx.
// *relayer.Relayer is one; tests use a fake.
type deliverer interface {
	Recv(ctx context.Context, src, dst *relayer.End, pks []channeltypes.Packet, sentHeight int64) (*relayer.Outcome, error)
	Ack(ctx context.Context, src, dst *relayer.End, acks []relayer.Ack, writtenHeight int64) (*relayer.Outcome, error)
	TimeoutPackets(ctx context.Context, src, dst *relayer.End, pks []channeltypes.Packet, pastHeight int64) (*relayer.TxInfo, []uint64, error)
}

var _ deliverer = (*relayer.Relayer)(nil)

const (
	// nakDelay is the pause before an item whose hand-off failed is offered again (to any instance).
	nakDelay = 2 * time.Second
	// ackWait bounds how long a crashed instance holds work; heartbeat keeps a live instance's claim.
	ackWait   = 15 * time.Second
	heartbeat = 5 * time.Second
)

func (s *submitter) run(ctx context.Context) error {
	cons, err := s.o.JS.CreateOrUpdateConsumer(ctx, packets.WorkStream, jetstream.ConsumerConfig{
		Durable:       packets.ConsumerName(s.to, s.port, s.channel),
		FilterSubject: packets.WorkSubject(s.to, packets.EndToken(s.port, s.channel), "*"),
		AckPolicy:     jetstream.AckExplicitPolicy,
		// An instance killed mid-batch frees its work after AckWait; a live one extends it with
		// progress heartbeats while its tx commits (see handle).
		AckWait:       ackWait,
		MaxAckPending: 10_000,
	})
	if err != nil {
		return fmt.Errorf("consumer for %s %s/%s: %w", s.to, s.port, s.channel, err)
	}
	log := s.o.Log.With().Str("chain", s.to).Str("channel", s.channel).Logger()
	inFlight := s.o.InFlight
	if s.ordered {
		inFlight = 1
	}
	log.Info().Int("in_flight", inFlight).Bool("ordered", s.ordered).Msg("submitter started")
	// Several batches in flight: while one relay tx waits for its block, the next is built and
	// broadcast (the key's signer hands out sequences in order; a tx is only acked once committed).
	g, gctx := errgroup.WithContext(ctx)
	gate := newIdleGate()
	for i := range inFlight {
		g.Go(func() error { return s.loop(gctx, cons, gate, i) })
	}
	return g.Wait()
}

// idleGate lets one of a submitter's loops poll a consumer that has no work while the others wait
// for it to find some: idle, the loops' fetches were most of an idle relayer's work (every loop of
// every channel end asked NATS twice a second at 500 ms BatchWait), and only one need ask.
type idleGate struct {
	mu     sync.Mutex
	poller int // the loop polling while idle, -1: none
	wake   chan struct{}
}

func newIdleGate() *idleGate { return &idleGate{poller: -1, wake: make(chan struct{})} }

// idle is called by loop id after a fetch that brought nothing: the poller (the first idle loop)
// goes on at once, the others wait until it finds work or ctx ends.
func (g *idleGate) idle(ctx context.Context, id int) {
	g.mu.Lock()
	if g.poller == -1 || g.poller == id {
		g.poller = id
		g.mu.Unlock()
		return
	}
	wake := g.wake
	g.mu.Unlock()
	select {
	case <-wake:
	case <-ctx.Done():
	}
}

// busy is called after a fetch that brought work: the waiting loops fetch again.
func (g *idleGate) busy() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.poller != -1 {
		g.poller = -1
		close(g.wake)
		g.wake = make(chan struct{})
	}
}

func (s *submitter) loop(ctx context.Context, cons jetstream.Consumer, gate *idleGate, id int) error {
	log := s.o.Log.With().Str("chain", s.to).Logger()
	if s.ordered {
		s.held.start() // one loop: an ordered end has one batch in flight
		defer s.held.release()
	}
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
		s.held.beat()
		taken := s.held.take(len(msgs))
		if len(msgs) == 0 && len(taken) == 0 {
			gate.idle(ctx, id)
			continue
		}
		if len(msgs) > 0 {
			gate.busy()
		}
		// Finish the batch even if shutdown begins: it is either committed and acked, or handed back.
		s.handle(context.WithoutCancel(ctx), append(taken, msgs...))
		s.held.settled(taken)
	}
	return nil
}

// group is work of one kind for one channel end of the destination, delivered in one tx.
type group struct {
	kind  string
	p     *relayer.Path
	dst   *relayer.End // the end on this submitter's chain
	src   *relayer.End
	works []*packets.Work
	msgs  []jetstream.Msg
}

func (g *group) sub(from, to int) *group {
	return &group{kind: g.kind, p: g.p, dst: g.dst, src: g.src, works: g.works[from:to], msgs: g.msgs[from:to]}
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
		p, dst, src := s.route(w)
		if p == nil {
			// This consumer only receives work for its own channel end, so work that matches no path
			// here names another counterparty than the end has: it is inconsistent, not unserved.
			s.dead(ctx, m, w, fmt.Errorf("%w: %s work for %s %s/%s from %s (packet %s/%s -> %s/%s): no path here links these ends",
				ErrTerminal, w.Kind, s.to, s.port, s.channel, w.From, w.Packet.SourcePort, w.Packet.SourceChannel, w.Packet.DestPort, w.Packet.DestChannel))
			continue
		}
		k := w.Kind + "/" + dst.PortID + "/" + dst.ChannelID
		if groups[k] == nil {
			groups[k] = &group{kind: w.Kind, p: p, dst: dst, src: src}
			order = append(order, k)
		}
		groups[k].works = append(groups[k].works, w)
		groups[k].msgs = append(groups[k].msgs, m)
	}
	for _, k := range order {
		g := s.trim(groups[k])
		s.awaitHeight(ctx, g)
		s.deliver(ctx, s.checkHeights(ctx, g))
	}
}

// route finds the local path a work item belongs to by what it is on chain: the channel end on this
// chain and the one on the chain the work came from, never by the path name in another instance's
// config. It returns the path, the end on this chain and the other end.
func (s *submitter) route(w *packets.Work) (*relayer.Path, *relayer.End, *relayer.End) {
	// Where the work goes: a recv goes to the packet's destination end; an ack or a timeout to its source.
	here, there := [2]string{w.Packet.DestPort, w.Packet.DestChannel}, [2]string{w.Packet.SourcePort, w.Packet.SourceChannel}
	if w.Kind != packets.KindRecv {
		here, there = there, here
	}
	for _, p := range s.o.Paths {
		for _, pair := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
			dst, src := pair[0], pair[1]
			if dst.ChainID() == s.to && src.ChainID() == w.From && dst.PortID == here[0] && dst.ChannelID == here[1] &&
				src.PortID == there[0] && src.ChannelID == there[1] {
				return p, dst, src
			}
		}
	}
	return nil, nil, nil
}

// checkHeights hands back, on their own, items naming a source height the source's light client has
// not verified: one inflated height must not hold a batch (or a shutdown) hostage.
func (s *submitter) checkHeights(ctx context.Context, g *group) *group {
	lb, err := g.src.Light.VerifyLatest(ctx)
	if err != nil {
		return g // the delivery reports it
	}
	ok := &group{kind: g.kind, p: g.p, dst: g.dst, src: g.src}
	for i, w := range g.works {
		if w.Height < lb.Height {
			ok.works, ok.msgs = append(ok.works, w), append(ok.msgs, g.msgs[i])
			continue
		}
		s.retried(g.p.Name, g.kind, "height ahead", 1)
		s.retry(ctx, g.msgs[i], w, fmt.Errorf("%w: item height %d, %s verified to %d", relayer.ErrHeightAhead, w.Height, g.src.ChainID(), lb.Height))
	}
	return ok
}

// retried reports items handed back for a passing reason (Options.OnRetried).
func (s *submitter) retried(path, kind, reason string, items int) {
	if s.o.OnRetried != nil {
		s.o.OnRetried(path, kind, reason, items)
	}
}

// deliver delivers a group in one tx (submit) and settles each item by the outcome, or, when the
// delivery failed, by what classify makes of the error: split the batch, dead-letter it, or hand it
// back.
func (s *submitter) deliver(ctx context.Context, g *group) {
	if len(g.works) == 0 {
		return
	}
	log := s.o.Log.With().Str("chain", s.to).Str("path", g.p.Name).Str("channel", g.dst.ChannelID).Str("kind", g.kind).Logger()
	var height, oldest int64
	for _, w := range g.works {
		height = max(height, w.Height)
		if oldest == 0 || w.ObservedUnixNano < oldest {
			oldest = w.ObservedUnixNano
		}
	}
	g, out, err := s.submit(ctx, g, height)
	if errors.Is(err, relayer.ErrChannelClosed) {
		s.onClosed(ctx, g, err)
		return
	}
	if err == nil {
		if out != nil {
			s.settle(ctx, g, out, oldest)
		}
		return
	}
	if s.o.OnTxFailed != nil {
		s.o.OnTxFailed(s.to, err)
	}
	switch f, reason := classify(err, len(g.works)); f {
	case failSplit:
		// Too large for one tx, or refused by the chain: deliver each half in its own tx, both in
		// flight. A refusal caused by one item ends with that item alone, and only it is retried.
		half := len(g.works) / 2
		log.Info().Err(err).Int("items", len(g.works)).Msg("splitting the batch")
		if s.ordered {
			// In sequence: the second half waits for the first (its items come after it).
			s.deliver(ctx, g.sub(0, half))
			s.deliver(ctx, g.sub(half, len(g.works)))
			return
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.deliver(ctx, g.sub(0, half))
		}()
		s.deliver(ctx, g.sub(half, len(g.works)))
		wg.Wait()
	case failDead:
		for i, m := range g.msgs {
			s.dead(ctx, m, g.works[i], err)
		}
	case failTransient:
		// Not a failure: the items are tried again (without a limit) once the cause passes.
		log.Info().Err(err).Int("items", len(g.msgs)).Msg("delivery not possible yet; handing the work back to retry")
		s.retried(g.p.Name, g.kind, reason, len(g.msgs))
		for i, m := range g.msgs {
			s.retry(ctx, m, g.works[i], err)
		}
	default:
		log.Warn().Err(err).Str("reason", reason).Int("items", len(g.msgs)).Msg("delivery refused; handing the work back")
		if s.o.OnFailed != nil {
			s.o.OnFailed(g.p.Name, g.kind, reason, len(g.msgs))
		}
		for i, m := range g.msgs {
			s.retry(ctx, m, g.works[i], err)
		}
	}
}

// submit delivers g in one tx of its kind, with proofs from above height. A recv group first hands
// off, as timeout work, the packets its destination can no longer receive: submit returns the group
// it delivered, and a nil outcome when nothing was left to deliver.
func (s *submitter) submit(ctx context.Context, g *group, height int64) (*group, *relayer.Outcome, error) {
	switch g.kind {
	case packets.KindRecv:
		live, err := s.splitTimeouts(ctx, g, g.src, g.dst)
		if err != nil || len(live.works) == 0 {
			return live, nil, err
		}
		out, err := s.rel.Recv(ctx, live.src, live.dst, packetsOf(live.works), height)
		return live, out, err
	case packets.KindTimeout:
		// This chain sent the packets; src here is the chain that never received them.
		tx, seqs, err := s.rel.TimeoutPackets(ctx, g.dst, g.src, packetsOf(g.works), height)
		return g, &relayer.Outcome{Tx: tx, Delivered: seqs}, err
	case packets.KindAck:
		acks := make([]relayer.Ack, len(g.works))
		for i, w := range g.works {
			acks[i] = relayer.Ack{Packet: w.Packet.IBC(), Ack: w.Ack}
		}
		out, err := s.rel.Ack(ctx, g.src, g.dst, acks, height)
		return g, out, err
	default:
		return g, nil, fmt.Errorf("%w: %s work is not handled yet", ErrTerminal, g.kind)
	}
}

func packetsOf(works []*packets.Work) []channeltypes.Packet {
	pks := make([]channeltypes.Packet, len(works))
	for i, w := range works {
		pks[i] = w.Packet.IBC()
	}
	return pks
}

// failure is what becomes of a batch whose delivery failed.
type failure int

const (
	// failRetry hands every item back, with backoff (see retry): the chain refused it, or it alone
	// does not fit a tx (a failure, counted).
	failRetry failure = iota
	// failTransient hands every item back, with backoff, for a passing cause (an unreachable node, a
	// state not verified yet, an account sequence taken): a retry, not a failure.
	failTransient
	// failSplit delivers each half of the batch in its own tx.
	failSplit
	// failDead dead-letters every item.
	failDead
)

// classify decides what becomes of a batch of items whose delivery failed with err, and for a
// retry the reason reported: "transient" or "height ahead" (a retry, not a failure), "too large" for
// a lone item that does not fit a tx, or "tx <codespace>/<code>" for a chain's refusal. A batch too large for one tx, or refused by the
// chain, is split while it holds more than one item; one refused for its account sequence (the signer
// retried it already) is handed back whole, as transient: its items are not at fault.
func classify(err error, items int) (failure, string) {
	var txErr *chains.TxError
	splittable := errors.Is(err, chains.ErrTxTooLarge) || errors.As(err, &txErr)
	switch {
	case errors.Is(err, chains.ErrSequenceMismatch):
		return failTransient, "transient"
	case errors.Is(err, relayer.ErrHeightAhead):
		return failTransient, "height ahead"
	case errors.Is(err, chains.ErrGasPriceAboveCap):
		// Nothing was sent: the chain asks more per gas than max_gas_price allows. Retried (without a
		// limit) until the price falls or the operator raises the cap.
		return failTransient, "gas price above cap"
	case splittable && items > 1:
		return failSplit, ""
	case errors.Is(err, ErrTerminal):
		return failDead, ""
	case txErr != nil:
		return failRetry, fmt.Sprintf("tx %s/%d", txErr.Codespace, txErr.Code)
	case errors.Is(err, chains.ErrTxTooLarge):
		return failRetry, "too large"
	default:
		return failTransient, "transient"
	}
}

// deterministic reports whether an item's failure would recur if it were tried again as it is (a
// chain's refusal, a height never verified, an item alone too large for a tx under this config):
// retry dead-letters such an item after MaxDeliver tries.
func deterministic(err error) bool {
	var txErr *chains.TxError
	if errors.Is(err, chains.ErrSequenceMismatch) {
		return false // the key's sequence, not the item
	}
	return errors.As(err, &txErr) || errors.Is(err, relayer.ErrHeightAhead) || errors.Is(err, chains.ErrTxTooLarge)
}

// settle acknowledges what the outcome delivered or proved done, and dead-letters, each on its own,
// what it refused.
func (s *submitter) settle(ctx context.Context, g *group, out *relayer.Outcome, oldest int64) {
	log := s.o.Log.With().Str("chain", s.to).Str("path", g.p.Name).Str("channel", g.dst.ChannelID).Str("kind", g.kind).Logger()
	var acked []jetstream.Msg
	var ackedWorks []*packets.Work
	var recs []packets.Lifecycle
	delivered := map[uint64]bool{}
	for _, seq := range out.Delivered {
		delivered[seq] = true
	}
	s.later(ctx, g, out)
	for i, w := range g.works {
		if bad, ok := out.Bad[i]; ok {
			s.dead(ctx, g.msgs[i], w, bad)
			continue
		}
		if _, ok := out.Later[i]; ok {
			continue // handed back by later
		}
		rec := packets.Lifecycle{State: packets.StateAlreadyDelivered, Reason: out.Done[i]}
		if _, done := out.Done[i]; !done && delivered[w.Packet.Sequence] && out.Tx != nil {
			rec = packets.Lifecycle{State: packets.StateConfirmed, Tx: out.Tx.Hash, Height: out.Tx.Height, Chain: s.to}
		}
		acked, ackedWorks, recs = append(acked, g.msgs[i]), append(ackedWorks, w), append(recs, rec)
	}
	for i, err := range ackAll(ctx, acked) {
		s.life.Put(ackedWorks[i].MsgID(), recs[i])
		if err != nil {
			log.Warn().Err(err).Uint64("seq", ackedWorks[i].Packet.Sequence).Msg("ack to JetStream failed; the item may be delivered again and will be dropped as done")
		}
	}
	if tx := out.Tx; tx != nil {
		d := Delivered{To: s.to, Path: g.p.Name, Kind: g.kind, Sequences: out.Delivered, TxHash: tx.Hash, Height: tx.Height,
			Latency: time.Since(time.Unix(0, oldest)), Tx: tx}
		log.Info().Uints64("seq", out.Delivered).Str("tx", tx.Hash).Int64("height", tx.Height).Int64("gas", tx.GasUsed).
			Uint64("simulated_gas", tx.Timing.SimulatedGas).Dur("prove_ms", tx.Prove).Dur("queue_ms", tx.Timing.Queue).Dur("simulate_ms", tx.Timing.Simulate).Dur("sign_ms", tx.Timing.Sign).
			Dur("broadcast_ms", tx.Timing.Broadcast).Dur("commit_ms", tx.Timing.Commit).Msg("packets delivered")
		if s.o.OnDelivered != nil {
			s.o.OnDelivered(d)
		}
	}
}

// retry hands an item back with exponential backoff (packets.Settler.Retry). An item that fails
// deterministically (a chain's refusal, a height never verified) is dead-lettered with the reason once
// it has been delivered MaxDeliver times; transient failures (an unreachable node) are retried without
// a limit.
func (s *submitter) retry(ctx context.Context, m jetstream.Msg, w *packets.Work, reason error) {
	s.settler().Retry(ctx, m, item(w), reason, deterministic(reason))
}

// splitTimeouts takes out of a recv group the packets dst can no longer receive: they become timeout
// work for the packet's source chain (published before their recv work is acknowledged).
func (s *submitter) splitTimeouts(ctx context.Context, g *group, src, dst *relayer.End) (*group, error) {
	lb, err := dst.Light.VerifyLatest(ctx)
	if err != nil {
		return g, fmt.Errorf("verify latest header of %s: %w", dst.ChainID(), err)
	}
	live := &group{kind: g.kind, p: g.p, dst: g.dst, src: g.src}
	for i, w := range g.works {
		if !relayer.TimedOut(w.Packet.IBC(), dst, lb) {
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
			s.retried(g.p.Name, g.kind, "transient", 1)
			_ = g.msgs[i].NakWithDelay(nakDelay)
			continue
		}
		s.life.Set(w.MsgID(), packets.StateTimedOut, fmt.Sprintf("timed out on %s at height %d", dst.ChainID(), lb.Height))
		s.o.Log.Info().Str("chain", dst.ChainID()).Str("path", w.Path).Uint64("seq", w.Packet.Sequence).Msg("packet timed out; timeout handed to its source")
		_ = g.msgs[i].DoubleAck(ctx)
	}
	return live, nil
}

// dead sends a work item that cannot be delivered to the dead-letter subject with the reason, and
// terminates it in the work queue (packets.Settler.Dead); w is nil when the bytes are not a work item.
func (s *submitter) dead(ctx context.Context, m jetstream.Msg, w *packets.Work, reason error) {
	_ = s.settler().Dead(ctx, m, item(w), reason)
}

// settler is the submitter's retry and dead-letter policy: a retry is recorded as such, a dead letter
// as failed (before it is published) and reported to OnFailed as "dead".
func (s *submitter) settler() *packets.Settler {
	return &packets.Settler{JS: s.o.JS, To: s.to, MaxDeliver: s.o.MaxDeliver, RetryBase: s.o.RetryBase, Requeue: nakDelay,
		Log: s.o.Log.With().Str("chain", s.to).Logger(),
		BeforeRetry: func(it packets.Item, _ uint64, _ time.Duration, err error) {
			s.life.Set(it.ID, packets.StateRetrying, err.Error())
		},
		BeforeDead: func(it packets.Item, reason error) {
			if it.ID != "" {
				s.life.Set(it.ID, packets.StateFailed, reason.Error())
			}
		},
		OnDead: func(it packets.Item, _ error) {
			if s.o.OnFailed != nil {
				s.o.OnFailed(it.Path, it.Kind, "dead", 1)
			}
		},
	}
}

// item names w for the settler ("unknown" path and kind when the bytes are not a work item).
func item(w *packets.Work) packets.Item {
	if w == nil {
		return packets.Item{Path: "unknown", Kind: "unknown"}
	}
	return packets.Item{Path: w.Path, Kind: w.Kind, ID: w.MsgID()}
}
