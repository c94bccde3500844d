package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/relayer"
)

// Watching others' client updates (relayer.CheckUpdates): for every chain with clients the paths relay
// over, each new block's update_client events (a node's hint) name the blocks worth reading; the block's
// txs, proven against the chain's verified header, give the MsgUpdateClient messages others signed, and
// each header is judged by our light client of the client's chain. A validly signed conflict halts
// that light client, and its fork goes to freezeOnFork's hook: misbehaviour to every client of the
// forked chain on the paths, logged and counted (cityrelay_misbehaviour_submitted_total), and every
// path over the forked chain stops (its light client verifies nothing until an operator clears the
// halt). A judged update is counted in cityrelay_client_updates_watched_total by outcome.

const (
	// updateWatchPoll is how often a chain's new blocks are looked at: a conflicting update is caught
	// within about this long after its block (plus judging it).
	updateWatchPoll = 3 * time.Second
	// updateWatchBatch bounds the blocks read in one poll through block events, one request a block
	// (a chain far ahead is caught up over polls); updateSearchBatch through the node's tx index, one
	// request a client for all of them, at most updateSearchPage txs.
	updateWatchBatch  = 50
	updateSearchBatch = 1000
	updateSearchPage  = 100
	// updateWatchPendingTries bounds how often an update whose header height our light client could
	// not verify yet is judged again (one poll apart) before it is given up, logged.
	updateWatchPendingTries = 300
	// updateWatchMaxPending bounds the updates of one chain waiting to be judged again: beyond it a new
	// one is given up at once (logged, counted pending). Each block holding pending updates is read
	// once a poll, whatever the number of its pending txs.
	updateWatchMaxPending = 64
)

// updateWatch is the watch of one chain's blocks for updates to the clients on it.
type updateWatch struct {
	chain   string
	clients map[string]relayer.Client // by client id
	events  relayer.EventSource
	search  chains.TxSearcher      // the node's tx index, when it has one (else events block by block)
	light   relayer.HeaderVerifier // the chain's own light client (for the latest verified height)
	own     string                 // our relayer's address on the chain ("" if unknown)
	pending map[pendingUpdate]int  // updates whose header could not be judged yet → tries
	log     zerolog.Logger
	count   *prometheus.CounterVec
}

type pendingBlock struct {
	client string
	height int64
}

type pendingUpdate struct {
	client string
	height int64
	tx     string
}

// watchUpdates starts, in g, one watch per chain that holds clients of the paths.
func watchUpdates(ctx context.Context, g *errgroup.Group, log zerolog.Logger, m *metrics, paths []*relayer.Path) {
	count := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_client_updates_watched_total",
		Help: "Client updates others submitted to the clients the paths relay over, judged against our light client of the client's chain: " +
			"agrees, conflict (a validly signed conflicting header: misbehaviour), not_evidence (conflicting, not validly signed), pending, halted, other, over_limit (beyond the updates judged a block)."},
		[]string{"chain", "client", "outcome"})
	if err := m.reg.Register(count); err != nil {
		log.Error().Err(err).Msg("client update watch: metric not registered")
	}
	for chain, clients := range relayer.WatchedClients(paths) {
		w := &updateWatch{chain: chain, clients: map[string]relayer.Client{}, pending: map[pendingUpdate]int{},
			log: log.With().Str("chain", chain).Str("part", "update-watch").Logger(), count: count}
		for _, c := range clients {
			w.clients[c.Dst.ClientID] = c
			w.light = c.Dst.Light
			if es, ok := c.Dst.Chain.(relayer.EventSource); ok {
				w.events = es
			}
			if ts, ok := c.Dst.Chain.(chains.TxSearcher); ok {
				w.search = ts
			}
			if _, ok := c.Dst.Chain.(chains.BlockUpdateReader); !ok {
				w.events = nil
			}
			count.WithLabelValues(chain, c.Dst.ClientID, relayer.UpdateConflict)
		}
		if w.events == nil {
			w.log.Warn().Msg("client update watch: the chain serves neither block events nor blocks: others' updates to its clients are not checked")
			continue
		}
		g.Go(func() error { w.run(ctx); return nil })
	}
}

// judgeOf is the conflict checker of a client's chain: its light client, unwrapped from the metrics.
func judgeOf(c relayer.Client) (relayer.ConflictChecker, bool) {
	lc := c.Src.Light
	if t, timed := lc.(timedHeaders); timed {
		lc = t.HeaderVerifier
	}
	j, ok := lc.(relayer.ConflictChecker)
	return j, ok
}

func (w *updateWatch) run(ctx context.Context) {
	var cursor int64
	for {
		if cursor == 0 {
			if lb, err := w.light.VerifyLatest(ctx); err == nil {
				cursor = lb.Height // updates from the start on
				w.log.Info().Int64("from", cursor+1).Int("clients", len(w.clients)).Msg("watching others' updates to the clients on this chain")
				w.startCheck(ctx)
			}
		} else {
			cursor = w.poll(ctx, cursor)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(updateWatchPoll):
		}
	}
}

// poll judges the pending updates again, then reads the blocks after cursor up to the newest verified
// one (at most updateWatchBatch), and returns the new cursor: the last block read in full.
func (w *updateWatch) poll(ctx context.Context, cursor int64) int64 {
	if w.own == "" {
		for _, c := range w.clients {
			if a, err := c.Dst.Chain.Address(ctx); err == nil {
				w.own = a
			}
			break
		}
	}
	// One read of each block holding pending updates, judging only those (not one read a tx: K pending
	// updates in one block would be K² judgements).
	blocks := map[pendingBlock]map[string]bool{}
	for p := range w.pending {
		b := pendingBlock{client: p.client, height: p.height}
		if blocks[b] == nil {
			blocks[b] = map[string]bool{}
		}
		blocks[b][p.tx] = true
	}
	for b, txs := range blocks {
		w.check(ctx, w.clients[b.client], b.height, txs)
	}
	lb, err := w.light.VerifyLatest(ctx)
	if err != nil || lb.Height <= cursor {
		return cursor
	}
	if w.search != nil {
		next, err := w.pollSearch(ctx, cursor, min(lb.Height, cursor+updateSearchBatch))
		if err == nil {
			return next
		}
		w.log.Debug().Err(err).Msg("client update watch: tx search failed; reading block events instead")
	}
	for h := cursor + 1; h <= lb.Height && h <= cursor+updateWatchBatch; h++ {
		events, err := w.events.BlockEvents(ctx, h, "update_client")
		if err != nil {
			w.log.Debug().Err(err).Int64("height", h).Msg("client update watch: block events unreadable; read again next poll")
			return h - 1
		}
		seen := map[string]bool{}
		for _, ev := range events {
			for _, a := range ev.Attributes {
				if a.Key == "client_id" {
					seen[a.Value] = true
				}
			}
		}
		if !w.checkBlock(ctx, h, seen) {
			return h - 1
		}
	}
	return min(lb.Height, cursor+updateWatchBatch)
}

// pollSearch finds the blocks in (cursor, to] with update txs of the watched clients through the node's
// tx index (one query a client), judges them, and returns the new cursor: to, or less when a query
// filled its page (the rest next poll).
func (w *updateWatch) pollSearch(ctx context.Context, cursor, to int64) (int64, error) {
	byHeight := map[int64]map[string]bool{}
	done := to
	for id := range w.clients {
		q := fmt.Sprintf("update_client.client_id='%s' AND tx.height>=%d AND tx.height<=%d", id, cursor+1, to)
		txs, err := w.search.SearchTxEvents(ctx, q, updateSearchPage)
		if err != nil {
			return cursor, err
		}
		if len(txs) == updateSearchPage {
			if last := txs[len(txs)-1].Height; last > cursor+1 {
				done = min(done, last-1) // the last block may hold more than the page showed
			} else {
				done = min(done, last)
			}
		}
		for _, tx := range txs {
			if w.own != "" && onlySender(tx.Events, w.own) {
				continue // our own update (the node's word: a node that lies here could as well leave the tx out)
			}
			if byHeight[tx.Height] == nil {
				byHeight[tx.Height] = map[string]bool{}
			}
			byHeight[tx.Height][id] = true
		}
	}
	for _, h := range slices.Sorted(maps.Keys(byHeight)) {
		if h > done {
			break
		}
		if !w.checkBlock(ctx, h, byHeight[h]) {
			return h - 1, nil
		}
	}
	return done, nil
}

// checkBlock judges block h's updates to the watched clients among ids; false: read it again later.
func (w *updateWatch) checkBlock(ctx context.Context, h int64, ids map[string]bool) bool {
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		c, ok := w.clients[id]
		if !ok {
			continue
		}
		if !w.check(ctx, c, h, nil) {
			return false
		}
	}
	return true
}

// check judges the updates of block h to c's client (only the txs of pending when judging pending
// ones again; nil: a block read for the first time) and reports whether the block was read (false:
// read it again later).
func (w *updateWatch) check(ctx context.Context, c relayer.Client, h int64, pending map[string]bool) bool {
	judge, ok := judgeOf(c)
	if !ok {
		return true
	}
	log := w.log.With().Str("client", c.Dst.ClientID).Str("of", c.Src.ChainID()).Int64("height", h).Logger()
	checks, err := c.CheckUpdates(ctx, h, judge, w.own)
	if err != nil {
		ev := log.Warn()
		if !errors.Is(err, relayer.ErrUnprovenBlock) {
			ev = log.Debug()
		}
		ev.Err(err).Msg("client update watch: block not judged; read again next poll")
		for tx := range pending {
			w.retry(log, pendingUpdate{client: c.Dst.ClientID, height: h, tx: tx})
		}
		return false
	}
	for _, r := range checks {
		if pending != nil && !pending[r.TxHash] {
			continue
		}
		key := pendingUpdate{client: c.Dst.ClientID, height: h, tx: r.TxHash}
		if r.Outcome == relayer.UpdatePending {
			if _, known := w.pending[key]; !known {
				if len(w.pending) >= updateWatchMaxPending {
					w.count.WithLabelValues(w.chain, c.Dst.ClientID, relayer.UpdatePending).Inc()
					log.Error().Str("tx", r.TxHash).Str("signer", r.Signer).Int64("header_height", r.HeaderHeight).Int("max_pending", updateWatchMaxPending).
						AnErr("reason", r.Err).Msg("client update watch: too many updates waiting to be judged: this one is given up")
					continue
				}
				w.pending[key] = 0
			}
			w.retry(log, key)
			continue
		}
		delete(w.pending, key)
		w.count.WithLabelValues(w.chain, c.Dst.ClientID, r.Outcome).Inc()
		ev := log.With().Str("tx", r.TxHash).Str("signer", r.Signer).Int64("header_height", r.HeaderHeight).Logger()
		switch r.Outcome {
		case relayer.UpdateAgrees:
			ev.Debug().Msg("another relayer's client update agrees with our light client")
		case relayer.UpdateConflict:
			ev.Error().Err(r.Err).Msg("another relayer's client update carries a validly signed header conflicting with our light client's: " +
				"a fork; the light client halted, misbehaviour goes to every client of the chain and its paths stop")
		case relayer.UpdateOverLimit:
			ev.Warn().Err(r.Err).Msg("client update watch: too many others' updates in one block: this one is not judged")
		case relayer.UpdateNotEvidence:
			ev.Warn().Err(r.Err).Msg("another relayer's client update carries a conflicting header that does not verify: not a fork, nothing done")
		default:
			ev.Debug().AnErr("reason", r.Err).Str("outcome", r.Outcome).Msg("another relayer's client update not judged")
		}
	}
	return true
}

// retry counts one more try of a pending update, giving it up after updateWatchPendingTries.
func (w *updateWatch) retry(log zerolog.Logger, p pendingUpdate) {
	w.pending[p]++
	if w.pending[p] >= updateWatchPendingTries {
		delete(w.pending, p)
		w.count.WithLabelValues(w.chain, p.client, relayer.UpdatePending).Inc()
		log.Error().Str("tx", p.tx).Int("tries", updateWatchPendingTries).
			Msg("client update watch: another relayer's update could not be judged (our light client never verified its height): given up")
	}
}

// onlySender reports whether every message of a tx was sent by addr (its message events' sender).
func onlySender(events []chains.Event, addr string) bool {
	n := 0
	for _, ev := range events {
		if ev.Type != "message" {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == "sender" {
				if a.Value != addr {
					return false
				}
				n++
			}
		}
	}
	return n > 0
}

// startCheck compares each client's latest consensus state with our light client's header at its
// height (relayer.Client.CheckLatestConsensus): an update made while no watch ran. On a difference the
// update's tx is found through the node's tx index and judged like any other (only its signed header
// can prove a fork; the difference alone halts and freezes nothing).
func (w *updateWatch) startCheck(ctx context.Context) {
	for _, id := range slices.Sorted(maps.Keys(w.clients)) {
		c := w.clients[id]
		log := w.log.With().Str("client", id).Str("of", c.Src.ChainID()).Logger()
		h, err := c.CheckLatestConsensus(ctx)
		switch {
		case err == nil:
			continue
		case !errors.Is(err, relayer.ErrConsensusConflict):
			log.Debug().Err(err).Msg("client update watch: the client's latest consensus state not compared at start")
			continue
		}
		log.Error().Err(err).Int64("height", h).Msg("the client's latest consensus state is not our light client's header: looking for the update that put it there")
		if w.search == nil {
			log.Error().Msg("client update watch: the node has no tx index: the update cannot be found; check the client by hand")
			continue
		}
		height := clienttypes.NewHeight(clienttypes.ParseChainID(c.Src.ChainID()), uint64(h)).String()
		txs, err := w.search.SearchTxEvents(ctx, fmt.Sprintf("update_client.client_id='%s' AND update_client.consensus_height='%s'", id, height), updateSearchPage)
		if err != nil || len(txs) == 0 {
			log.Error().AnErr("search_error", err).Str("consensus_height", height).Msg("client update watch: the update was not found; check the client by hand")
			continue
		}
		for _, tx := range txs {
			w.checkBlock(ctx, tx.Height, map[string]bool{id: true})
		}
	}
}
