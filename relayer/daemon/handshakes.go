package daemon

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// maxOpenedPerPath bounds the channels one daemon run opens for others on one path: anyone can start a
// channel handshake on a permissionless port, and each one completed costs the relayer three txs and a
// scanner and submitters. Past it, handshakes are logged and left alone until the next start.
const maxOpenedPerPath = 32

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
		c := &relayer.Completer{
			Linker: &relayer.Linker{Check: m.checkProof(light.VerifyProofAgainstAppHash), Report: func(s relayer.Step) {
				o.Log.Info().Str("path", name).Str("chain", s.Chain).Str("action", s.Action).Str("channel", s.ID).Int64("height", s.Height).
					Str("tx", s.TxHash).Msg("handshake step")
			}},
			Allowed: func(chain, port, channel string) bool {
				if channel == "" {
					return o.Config.PortAllowed(name, chain, port)
				}
				return o.Config.EndAllowed(name, chain, port, channel)
			},
		}
		w := &completer{c: c, path: p, o: o, counter: counter, configured: configured, next: map[relayer.Handshake]time.Time{},
			backoff: map[relayer.Handshake]time.Duration{}, skipped: map[relayer.Handshake]bool{}, derived: derived,
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
	opened     int
	next       map[relayer.Handshake]time.Time // a failed handshake is tried again from then
	backoff    map[relayer.Handshake]time.Duration
	skipped    map[relayer.Handshake]bool // logged once as filtered or over the limit
}

func (w *completer) run(ctx context.Context) error {
	log := w.o.Log.With().Str("path", w.path.Name).Logger()
	log.Info().Dur("every", w.o.Config.Relay.HandshakeInterval.Duration).Msg("completing channel handshakes others start on the path's connection")
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
	for _, h := range pending {
		if ctx.Err() != nil {
			return
		}
		if w.isConfigured(h) || time.Now().Before(w.next[h]) {
			continue
		}
		l := log.With().Str("src_chain", w.path.A.ChainID()).Str("src_channel", h.APort+"/"+h.AChannel).
			Str("dst_chain", w.path.B.ChainID()).Str("dst_channel", h.BPort+"/"+h.BChannel).Logger()
		if w.opened >= maxOpenedPerPath {
			if !w.skipped[h] {
				w.skipped[h] = true
				w.counter.WithLabelValues(w.path.Name, "over_limit").Inc()
				l.Warn().Int("limit", maxOpenedPerPath).Msg("channel handshake left alone: this run opened the most channels it opens on a path")
			}
			continue
		}
		name := w.path.Name + "-" + h.APort + "-" + orUnopened(h.AChannel)
		np, err := w.c.Complete(ctx, w.path, h, name)
		switch {
		case errors.Is(err, relayer.ErrFiltered) && np == nil:
			if !w.skipped[h] {
				w.skipped[h] = true
				w.counter.WithLabelValues(w.path.Name, "filtered").Inc()
				l.Info().Msg("channel handshake left alone: the channel filter refuses it")
			}
		case errors.Is(err, relayer.ErrFiltered):
			w.opened++
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
			w.opened++
			// The path's name is the one of the channel's A end (h.AChannel may have been empty).
			np.Name = w.path.Name + "-" + np.A.PortID + "-" + np.A.ChannelID
			w.derived.m.Store(np.Name, w.path.Name)
			w.configured[np.A.ChainID()+"/"+np.A.PortID+"/"+np.A.ChannelID] = true
			w.configured[np.B.ChainID()+"/"+np.B.PortID+"/"+np.B.ChannelID] = true
			w.counter.WithLabelValues(w.path.Name, "opened").Inc()
			log.Info().Str("new_path", np.Name).Str("src_chain", np.A.ChainID()).Str("src_channel", np.A.PortID+"/"+np.A.ChannelID).
				Str("dst_chain", np.B.ChainID()).Str("dst_channel", np.B.PortID+"/"+np.B.ChannelID).Str("version", np.Version).
				Str("order", np.Order.String()).Msg("channel opened for a counterparty's handshake; relaying it (not written to the config: `cityrelay paths fetch` records it)")
			w.start(np)
		}
	}
}

func orUnopened(s string) string {
	if s == "" {
		return "new"
	}
	return s
}
