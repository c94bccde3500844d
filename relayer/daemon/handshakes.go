package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// maxAttemptedPerPath bounds the handshakes one daemon run sends txs for on behalf of others on one
// path, finished or not: anyone can start a channel handshake on a permissionless port, and each one
// costs the relayer txs (an INIT whose app refuses the ack still costs an OpenTry), and a completed one
// a scanner and submitters. Past it, handshakes are logged and left alone until the next start.
const maxAttemptedPerPath = 32

// maxTrackedHandshakes bounds the handshakes a path's completer remembers (backoff, logged once): the
// listing is anyone's to fill. Past it, a handshake not remembered yet is left alone this sweep (logged).
const maxTrackedHandshakes = 1024

// handshakeBackoffMax bounds the wait before a failed handshake is tried again.
const handshakeBackoffMax = 10 * time.Minute

// derivedPaths maps the name of a path the daemon opened a channel on for a counterparty to the
// configured path whose connection it is on (whose filter applies to it).
type derivedPaths struct{ m sync.Map }

// filterPath is the configured path whose filter applies to the path named name.
func (d *derivedPaths) filterPath(name string) string {
	if d != nil {
		if parent, ok := d.m.Load(name); ok {
			return parent.(string)
		}
	}
	return name
}

// startCompleter finds the selected paths that are linked and, every
// relay.handshake_interval, completes the channel handshakes others started on them (the filters
// allowing); each new channel is logged, counted and relayed by a pipeline of its own. The config is
// not rewritten (the running relayer never does): `cityrelay paths fetch` records such channels.
func startCompleter(ctx context.Context, g *errgroup.Group, o Options, js jetstream.JetStream, m *metrics, h *health, relays *lastRelays, derived *derivedPaths) error {
	names, err := selectPaths(o.Config.Paths, o.Paths)
	if err != nil {
		return err
	}
	counter := m.handshakes
	kv, err := js.KeyValue(ctx, packets.CursorBucket)
	if err != nil {
		return fmt.Errorf("cursor bucket (channels opened for counterparties are kept there): %w", err)
	}
	// Channel ends a configured path names: a `tx link` may be opening them; they are not others'.
	configured := map[string]bool{}
	for _, pc := range o.Config.Paths {
		for _, e := range []struct{ chain, port, ch string }{{pc.Src.Chain, pc.Src.PortID, pc.Src.ChannelID}, {pc.Dst.Chain, pc.Dst.PortID, pc.Dst.ChannelID}} {
			if e.ch != "" {
				configured[e.chain+"/"+e.port+"/"+e.ch] = true
			}
		}
	}
	for _, name := range names {
		pc := o.Config.Paths[name]
		if !linked(pc) {
			// A path `tx link` has not finished: its first channel handshake is link's, which the
			// daemon must not race (two OpenTry for one OpenInit would leave one end stuck).
			continue
		}
		p, err := o.Runtime.Path(ctx, name)
		if err != nil {
			return err
		}
		m.instrument([]*relayer.Path{p})
		for _, r := range []string{"opened", "failed", "filtered", "over_limit"} {
			counter.WithLabelValues(name, r)
		}
		var w *completer
		c := &relayer.Completer{
			Linker: &relayer.Linker{Check: m.checkProof(light.VerifyProofAgainstAppHash), Report: func(s relayer.Step) {
				o.Log.Info().Str("path", name).Str("chain", s.Chain).Str("action", s.Action).Str("channel", s.ID).Int64("height", s.Height).
					Str("tx", s.TxHash).Msg("handshake step")
				if s.TxHash != "" {
					w.sent++
				}
			}},
			Allowed: func(chain, port, channel string) bool {
				if channel == "" {
					return o.Config.PortAllowed(name, chain, port)
				}
				return o.Config.EndAllowed(name, chain, port, channel)
			},
		}
		w = &completer{c: c, path: p, o: o, counter: counter, configured: configured, next: map[relayer.Handshake]time.Time{},
			backoff: map[relayer.Handshake]time.Duration{}, skipped: map[relayer.Handshake]bool{}, derived: derived, kv: kv,
			start: func(np *relayer.Path) {
				g.Go(func() error { return runPipelines(ctx, o, []*relayer.Path{np}, js, m, h, relays, derived) })
			}}
		g.Go(func() error { return w.run(ctx) })
	}
	return nil
}

// completer sweeps one path's connection for handshakes others started.
type completer struct {
	c          *relayer.Completer
	path       *relayer.Path
	o          Options
	counter    *prometheus.CounterVec
	configured map[string]bool
	start      func(*relayer.Path)
	derived    *derivedPaths
	kv         jetstream.KeyValue              // the channels opened for counterparties, relayed again after a restart
	attempted  int                             // handshakes this run sent a tx for (maxAttemptedPerPath)
	sent       int                             // txs committed for handshakes (counted by the linker's Report)
	next       map[relayer.Handshake]time.Time // a failed handshake is tried again from then
	backoff    map[relayer.Handshake]time.Duration
	skipped    map[relayer.Handshake]bool // logged once as filtered or over the limit
}

func (w *completer) run(ctx context.Context) error {
	log := w.o.Log.With().Str("path", w.path.Name).Logger()
	log.Info().Dur("every", w.o.Config.Relay.HandshakeInterval.Duration).Msg("completing channel handshakes others start on the path's connection")
	w.resume(ctx)
	t := time.NewTicker(w.o.Config.Relay.HandshakeInterval.Duration)
	defer t.Stop()
	for {
		w.sweep(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (w *completer) isConfigured(h relayer.Handshake) bool {
	return h.AChannel != "" && w.configured[w.path.A.ChainID()+"/"+h.APort+"/"+h.AChannel] ||
		h.BChannel != "" && w.configured[w.path.B.ChainID()+"/"+h.BPort+"/"+h.BChannel]
}

func (w *completer) sweep(ctx context.Context) {
	log := w.o.Log.With().Str("path", w.path.Name).Logger()
	pending, err := w.c.Pending(ctx, w.path)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn().Err(err).Msg("listing the channel handshakes on the path's connection failed; trying again")
		}
		return
	}
	// What the listing no longer shows is forgotten: the maps hold only listed handshakes.
	listed := make(map[relayer.Handshake]bool, len(pending))
	for _, h := range pending {
		listed[h] = true
	}
	for h := range w.next {
		if !listed[h] {
			delete(w.next, h)
			delete(w.backoff, h)
		}
	}
	for h := range w.skipped {
		if !listed[h] {
			delete(w.skipped, h)
		}
	}
	untracked := 0
	for _, h := range pending {
		if ctx.Err() != nil {
			return
		}
		if w.isConfigured(h) || time.Now().Before(w.next[h]) {
			continue
		}
		l := log.With().Str("src_chain", w.path.A.ChainID()).Str("src_channel", h.APort+"/"+h.AChannel).
			Str("dst_chain", w.path.B.ChainID()).Str("dst_channel", h.BPort+"/"+h.BChannel).Logger()
		_, known := w.next[h]
		if !known && !w.skipped[h] && (len(w.next) >= maxTrackedHandshakes || len(w.skipped) >= maxTrackedHandshakes) {
			untracked++ // its outcome could not be remembered: a failure would be retried every sweep
			continue
		}
		if w.attempted >= maxAttemptedPerPath {
			if !w.skipped[h] {
				w.skipped[h] = true
				w.counter.WithLabelValues(w.path.Name, "over_limit").Inc()
				l.Warn().Int("limit", maxAttemptedPerPath).Msg("channel handshake left alone: this run sent txs for the most handshakes it completes on a path")
			}
			continue
		}
		name := w.path.Name + "-" + h.APort + "-" + orUnopened(h.AChannel)
		sent := w.sent
		np, err := w.c.Complete(ctx, w.path, h, name)
		if w.sent > sent || errors.Is(err, chains.ErrTxFailed) || errors.Is(err, chains.ErrTxTimeout) || np != nil {
			w.attempted++ // a tx went out for it, finished or not
		}
		switch {
		case errors.Is(err, relayer.ErrFiltered) && np == nil:
			if !w.skipped[h] {
				w.skipped[h] = true
				w.counter.WithLabelValues(w.path.Name, "filtered").Inc()
				l.Info().Msg("channel handshake left alone: the channel filter refuses it")
			}
		case errors.Is(err, relayer.ErrFiltered):
			w.counter.WithLabelValues(w.path.Name, "filtered").Inc()
			l.Info().Str("channel", np.A.ChannelID).Str("counterparty_channel", np.B.ChannelID).Msg("channel opened, but the filter refuses its ids: not relayed")
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			d := w.backoff[h]*2 + w.o.Config.Relay.HandshakeInterval.Duration
			w.backoff[h] = min(d, handshakeBackoffMax)
			w.next[h] = time.Now().Add(w.backoff[h])
			w.counter.WithLabelValues(w.path.Name, "failed").Inc()
			l.Warn().Err(err).Dur("retry_in", w.backoff[h]).Msg("completing a channel handshake failed")
		default:
			// The path's name is the one of the channel's A end (h.AChannel may have been empty).
			np.Name = w.path.Name + "-" + np.A.PortID + "-" + np.A.ChannelID
			w.remember(ctx, np)
			w.counter.WithLabelValues(w.path.Name, "opened").Inc()
			log.Info().Str("new_path", np.Name).Str("src_chain", np.A.ChainID()).Str("src_channel", np.A.PortID+"/"+np.A.ChannelID).
				Str("dst_chain", np.B.ChainID()).Str("dst_channel", np.B.PortID+"/"+np.B.ChannelID).Str("version", np.Version).
				Str("order", np.Order.String()).Msg("channel opened for a counterparty's handshake; relaying it (not written to the config: `cityrelay paths fetch` records it)")
			w.adopt(np)
		}
	}
	if untracked > 0 {
		log.Warn().Int("handshakes", untracked).Int("max_tracked", maxTrackedHandshakes).
			Msg("channel handshakes left alone this sweep: the path's completer remembers too many already (set a channel filter)")
	}
}

func orUnopened(s string) string {
	if s == "" {
		return "new"
	}
	return s
}

// openedChannel is the record of a channel the daemon opened for a counterparty on a path, kept in
// the cursor bucket under opened.<path>.<A port>.<A channel> so that a restarted daemon (or another
// instance on the same NATS) relays it again without a config change.
type openedChannel struct {
	APort    string `json:"a_port"`
	AChannel string `json:"a_channel"`
	BPort    string `json:"b_port"`
	BChannel string `json:"b_channel"`
}

// kvToken makes s a NATS subject token (a KV key part).
func kvToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func (w *completer) openedKey(port, channel string) string {
	return "opened." + kvToken(w.path.Name) + "." + kvToken(port) + "." + kvToken(channel)
}

// remember records np as opened for a counterparty (best effort: logged when it fails).
func (w *completer) remember(ctx context.Context, np *relayer.Path) {
	bz, _ := json.Marshal(openedChannel{APort: np.A.PortID, AChannel: np.A.ChannelID, BPort: np.B.PortID, BChannel: np.B.ChannelID})
	if _, err := w.kv.Put(ctx, w.openedKey(np.A.PortID, np.A.ChannelID), bz); err != nil {
		w.o.Log.Warn().Err(err).Str("path", w.path.Name).Str("channel", np.A.PortID+"/"+np.A.ChannelID).
			Msg("could not record the channel opened for a counterparty: after a restart `cityrelay paths fetch` adds it")
	}
}

// resume relays again the channels this path's daemons opened for counterparties before: each one is
// read with proofs on both chains (OPEN, over the path's connection, pointing at each other) and
// judged by today's filters.
func (w *completer) resume(ctx context.Context) {
	log := w.o.Log.With().Str("path", w.path.Name).Logger()
	lister, err := w.kv.ListKeysFiltered(ctx, "opened."+kvToken(w.path.Name)+".>")
	if err != nil {
		log.Warn().Err(err).Msg("could not list the channels opened for counterparties before")
		return
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	for _, k := range keys {
		e, err := w.kv.Get(ctx, k)
		if err != nil {
			log.Warn().Err(err).Str("key", k).Msg("could not read a channel opened for a counterparty before")
			continue
		}
		var oc openedChannel
		if err := json.Unmarshal(e.Value(), &oc); err != nil || oc.AChannel == "" || oc.BChannel == "" {
			log.Warn().Str("key", k).Msg("malformed record of a channel opened for a counterparty; skipped")
			continue
		}
		h := relayer.Handshake{APort: oc.APort, AChannel: oc.AChannel, BPort: oc.BPort, BChannel: oc.BChannel}
		if w.isConfigured(h) {
			continue // `paths fetch` made it a configured path: relayed as one
		}
		np, err := w.c.Complete(ctx, w.path, h, w.path.Name+"-"+oc.APort+"-"+oc.AChannel)
		if err != nil {
			if errors.Is(err, relayer.ErrFiltered) {
				w.counter.WithLabelValues(w.path.Name, "filtered").Inc()
			}
			log.Warn().Err(err).Str("src_channel", oc.APort+"/"+oc.AChannel).Str("dst_channel", oc.BPort+"/"+oc.BChannel).
				Msg("channel opened for a counterparty before is not relayed")
			continue
		}
		w.attempted++ // relayed again: it counts toward this run's cap as it did when opened
		w.adopt(np)
		log.Info().Str("new_path", np.Name).Str("src_channel", np.A.PortID+"/"+np.A.ChannelID).Str("dst_channel", np.B.PortID+"/"+np.B.ChannelID).
			Msg("relaying a channel opened for a counterparty before")
	}
}

// adopt relays np, a channel opened for a counterparty on w's path.
func (w *completer) adopt(np *relayer.Path) {
	w.derived.m.Store(np.Name, w.path.Name)
	w.configured[np.A.ChainID()+"/"+np.A.PortID+"/"+np.A.ChannelID] = true
	w.configured[np.B.ChainID()+"/"+np.B.PortID+"/"+np.B.ChannelID] = true
	w.start(np)
}
