package daemon

import (
	"context"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/cityrelay/cityrelay/chains"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// watch refreshes clients before a third of their trusting period is left and updates the gauges.
func watch(ctx context.Context, o Options, paths []*relayer.Path, m *metrics, h *health, js jetstream.JetStream) error {
	every := o.RefreshEvery
	if every <= 0 {
		every = refreshEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	// expiries is when each client (path/chain/client) would expire as last read, and when to read it
	// again: the refresh needs it only when it could be near a third of the trusting period left.
	expiries := map[string]clientExpiry{}
	for {
		checked := map[string]bool{}
		balanced := map[string]bool{} // a chain's balance is read once a tick, not once per path
		for _, p := range paths {
			for _, e := range []*relayer.End{p.A, p.B} {
				if checked[e.ChainID()] {
					continue
				}
				checked[e.ChainID()] = true
				lb, err := e.Light.VerifyLatest(ctx)
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					h.lightClient(e.ChainID(), 0, time.Time{}, err)
					continue
				}
				h.lightClient(e.ChainID(), lb.Height, lb.Time, nil)
				m.lightHeight.WithLabelValues(e.ChainID()).Set(float64(lb.Height))
				m.lightAge.WithLabelValues(e.ChainID()).Set(time.Since(lb.Time).Seconds())
				m.scanLag.WithLabelValues(e.ChainID()).Set(float64(h.scanLag(e.ChainID())))
				gaugeLag(ctx, e, lb.Height, m)
			}
		}
		for _, p := range paths {
			for _, pair := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
				dst, src := pair[0], pair[1]
				if !balanced[dst.ChainID()] {
					balanced[dst.ChainID()] = true
					gaugeBalance(ctx, dst, m, gasDenom(o.Config, dst.ChainID()))
				}
				key := p.Name + "/" + dst.ChainID() + "/" + dst.ClientID
				now := time.Now()
				if ex, ok := expiries[key]; ok && now.Before(ex.next) {
					m.trustingLeft.WithLabelValues(p.Name, dst.ChainID(), dst.ClientID).Set(ex.at.Sub(now).Seconds())
					continue
				}
				updated, left, err := relayer.Client{Dst: dst, Src: src}.Refresh(ctx, 1.0/3, now)
				if err != nil && ctx.Err() == nil {
					delete(expiries, key)
					o.Log.Warn().Err(err).Str("path", p.Name).Str("chain", dst.ChainID()).Msg("client refresh failed")
					continue
				}
				if updated {
					m.clientUpdates.WithLabelValues(dst.ChainID()).Inc()
					o.Log.Info().Str("path", p.Name).Str("chain", dst.ChainID()).Str("client", dst.ClientID).Msg("client refreshed")
				}
				expiries[key] = nextExpiryCheck(now, left, every)
				m.trustingLeft.WithLabelValues(p.Name, dst.ChainID(), dst.ClientID).Set(left.Seconds())
			}
			gaugeQueues(ctx, p, js, m)
		}
		gaugeDead(ctx, js, m)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// clientExpiry is when a client expires as last read (at), and when to read it again (next).
type clientExpiry struct{ at, next time.Time }

// maxExpiryCheck bounds the pause between two reads of a client's expiry.
const maxExpiryCheck = time.Hour

// nextExpiryCheck: a client read at now with left of its trusting period is read again after a
// quarter of left (at least every, at most maxExpiryCheck). A client is refreshed at a third of its
// trusting period left, and left shrinks by at most a quarter between reads, so it is never read past
// a quarter of the period left; an update by relaying in between only moves its expiry later. With
// 120 members a 30 s read of every client was 240 client and consensus state queries a tick at the
// hub alone.
func nextExpiryCheck(now time.Time, left, every time.Duration) clientExpiry {
	return clientExpiry{at: now.Add(left), next: now.Add(min(max(left/4, every), maxExpiryCheck))}
}

// gaugeQueues sets a path's queue gauges from JetStream: per end, its consumer's pending,
// in-flight and redelivered messages, and the recv and ack work waiting in the work stream.
func gaugeQueues(ctx context.Context, p *relayer.Path, js jetstream.JetStream, m *metrics) {
	var backlog uint64
	work, err := js.Stream(ctx, packets.WorkStream)
	for _, dst := range []*relayer.End{p.A, p.B} {
		name := packets.ConsumerName(dst.ChainID(), dst.PortID, dst.ChannelID)
		if c, err := js.Consumer(ctx, packets.WorkStream, name); err == nil {
			if info, err := c.Info(ctx); err == nil {
				m.queue.WithLabelValues(dst.ChainID(), dst.ChannelID).Set(float64(info.NumPending + uint64(info.NumAckPending)))
				m.natsPending.WithLabelValues(name).Set(float64(info.NumPending))
				m.natsAckPend.WithLabelValues(name).Set(float64(info.NumAckPending))
				m.redelivered.WithLabelValues(name).Set(float64(info.NumRedelivered))
				backlog += info.NumPending + uint64(info.NumAckPending)
			}
		}
		if err != nil {
			continue
		}
		end := packets.EndToken(dst.PortID, dst.ChannelID)
		for kind, g := range map[string]*prometheus.GaugeVec{packets.KindRecv: m.unrelayed, packets.KindAck: m.unrelayedAck} {
			subject := packets.WorkSubject(dst.ChainID(), end, kind)
			if info, err := work.Info(ctx, jetstream.WithSubjectFilter(subject)); err == nil {
				g.WithLabelValues(p.Name, dst.ChainID()).Set(float64(info.State.Subjects[subject]))
			}
		}
	}
	m.backlog.WithLabelValues(p.Name).Set(float64(backlog))
}

// gaugeDead sets the dead-letter gauge from the dead-letter stream.
func gaugeDead(ctx context.Context, js jetstream.JetStream, m *metrics) {
	s, err := js.Stream(ctx, packets.DeadStream)
	if err != nil {
		return
	}
	if info, err := s.Info(ctx); err == nil {
		m.deadLetters.WithLabelValues(packets.DeadStream).Set(float64(info.State.Msgs))
	}
}

// gaugeLag sets how many blocks the light client's newest verified header is behind the node.
func gaugeLag(ctx context.Context, e *relayer.End, verified int64, m *metrics) {
	c, ok := e.Chain.(chains.StatusReader) // a chain without the role leaves the lag gauge unset
	if !ok {
		return
	}
	st, err := c.Status(ctx)
	if err != nil {
		return
	}
	m.lightLag.WithLabelValues(e.ChainID()).Set(float64(max(st.SyncInfo.LatestBlockHeight-verified, 0)))
}

// gasDenom is the denomination of chain's gas price ("" when it is not configured or does not parse).
func gasDenom(cfg *config.Config, chain string) string {
	if cfg == nil || cfg.Chains[chain] == nil {
		return ""
	}
	c, err := sdk.ParseDecCoin(cfg.Chains[chain].GasPrice)
	if err != nil {
		return ""
	}
	return c.Denom
}

// gaugeBalance sets the balance gauge of e's key in denom, the gas price's: anyone can send the key
// tokens of any denomination, and a label per denomination would let them grow the series.
func gaugeBalance(ctx context.Context, e *relayer.End, m *metrics, denom string) {
	c, ok := e.Chain.(chains.Balancer) // a chain without the role leaves the balance gauge unset
	if !ok {
		return
	}
	addr, err := e.Chain.Address(ctx)
	if err != nil {
		return
	}
	balances, err := c.Balances(ctx, addr)
	if err != nil {
		return
	}
	if denom == "" {
		return
	}
	f, _ := balances.AmountOf(denom).ToLegacyDec().Float64()
	m.balance.WithLabelValues(e.ChainID(), denom).Set(f)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
