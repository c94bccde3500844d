package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// upgradeEvery is how often the upgrade watcher reads each served chain's upgrade plan (two proven
// queries a chain): plans are scheduled long ahead, and after the upgrade the clients are held, so a
// slower read only delays relaying after the restart by up to this much.
const upgradeEvery = 30 * time.Second

// upgradeMetrics are the upgrade watcher's series, registered when it starts.
type upgradeMetrics struct {
	planned  *prometheus.GaugeVec   // plan height of a pending IBC upgrade, by chain (0: none)
	upgrades *prometheus.CounterVec // client upgrades by tracked chain, host chain and result
}

func newUpgradeMetrics(reg prometheus.Registerer) *upgradeMetrics {
	u := &upgradeMetrics{
		planned: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cityrelay_upgrade_planned_height",
			Help: "Height of a chain's pending IBC software upgrade (proven from its upgrade module); 0 when none."}, []string{"chain"}),
		upgrades: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_client_upgrades_total",
			Help: "Client upgrades after a chain's software upgrade, by upgraded chain, chain holding the client and result (ok, failed, refused)."},
			[]string{"upgraded", "chain", "result"}),
	}
	if reg != nil {
		var are prometheus.AlreadyRegisteredError
		if err := reg.Register(u.planned); errors.As(err, &are) {
			u.planned = are.ExistingCollector.(*prometheus.GaugeVec)
		}
		if err := reg.Register(u.upgrades); errors.As(err, &are) {
			u.upgrades = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return u
}

// watchUpgrades notices a planned IBC software upgrade of a served chain and upgrades the chain's
// clients on the counterparties after it ran: every upgradeEvery it reads each chain's upgrade plan
// (proven against a verified header). While an IBC upgrade is planned at H, clients of the chain are
// held at or below H (relayer.HoldForUpgrade: an update past H would make the client unable to prove
// the upgrade). Once the plan is gone from the chain's state (applied) and the chain is past H+1, the
// clients are upgraded (relayer.UpgradeClients) and the hold released; a failure is logged, counted and
// tried again at the next read. A plan removed before its height (cancelled) releases the hold.
//
// A daemon started after the chain already ran its upgrade does not see the plan (it is deleted when
// applied): `cityrelay tx upgrade-clients --chain X --height H` does it then.
func watchUpgrades(ctx context.Context, paths []*relayer.Path, reg prometheus.Registerer, log zerolog.Logger, every time.Duration) error {
	if every <= 0 {
		every = upgradeEvery
	}
	um := newUpgradeMetrics(reg)
	ends := map[string]*relayer.End{}
	for _, p := range paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			if ends[e.ChainID()] == nil {
				ends[e.ChainID()] = e
			}
		}
	}
	planned := map[string]*relayer.Plan{}
	defer func() { // holds are process-wide: a stopped watcher holds nothing
		for id := range planned {
			relayer.ReleaseUpgradeHold(id)
		}
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for id, e := range ends {
			plan, err := relayer.PendingUpgrade(ctx, e, light.VerifyProofAgainstAppHash)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				log.Debug().Err(err).Str("chain", id).Msg("upgrade plan not read")
				continue
			}
			known := planned[id]
			switch {
			case plan != nil && plan.IBC:
				if known == nil || known.Height != plan.Height || known.Name != plan.Name {
					log.Warn().Str("chain", id).Str("plan", plan.Name).Int64("height", plan.Height).
						Msg("IBC software upgrade planned: clients of the chain are held at its height and upgraded after it")
				}
				planned[id] = plan
				relayer.HoldForUpgrade(id, plan.Height)
				um.planned.WithLabelValues(id).Set(float64(plan.Height))
			case known != nil:
				lb, err := e.Light.VerifyLatest(ctx)
				if err != nil {
					continue
				}
				if lb.Height <= known.Height {
					log.Warn().Str("chain", id).Str("plan", known.Name).Int64("height", known.Height).Msg("upgrade plan removed before its height: hold released")
					forget(planned, id, um)
					continue
				}
				if lb.Height <= known.Height+1 {
					continue // the upgraded height's header is not out yet
				}
				if upgradeClientsOf(ctx, paths, known, um, log) {
					forget(planned, id, um)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// forget releases the hold on chain id.
func forget(planned map[string]*relayer.Plan, id string, um *upgradeMetrics) {
	delete(planned, id)
	relayer.ReleaseUpgradeHold(id)
	um.planned.WithLabelValues(id).Set(0)
}

// upgradeClientsOf upgrades the clients of plan's chain and reports whether that is settled (each one
// upgraded, or never upgradable: past the height, refused, no upgraded state).
func upgradeClientsOf(ctx context.Context, paths []*relayer.Path, plan *relayer.Plan, um *upgradeMetrics, log zerolog.Logger) bool {
	settled := true
	for _, r := range relayer.UpgradeClients(ctx, paths, plan.Chain, plan.Height, light.VerifyProofAgainstAppHash) {
		ev := log.With().Str("chain", r.Chain).Str("client", r.ClientID).Str("upgraded", r.Of).Str("plan", plan.Name).Int64("height", plan.Height).Logger()
		switch {
		case r.Err == nil:
			um.upgrades.WithLabelValues(r.Of, r.Chain, "ok").Inc()
			ev.Info().Str("tx", r.Result.Tx.Hash).Int64("upgraded_height", r.Result.Height).
				Dur("unbonding", r.Result.After.UnbondingPeriod).Msg("client upgraded")
		case errors.Is(r.Err, relayer.ErrAlreadyUpgraded):
		case errors.Is(r.Err, relayer.ErrClientPastUpgrade), errors.Is(r.Err, relayer.ErrUpgradeRefused), errors.Is(r.Err, relayer.ErrNoUpgrade):
			um.upgrades.WithLabelValues(r.Of, r.Chain, "refused").Inc()
			ev.Error().Err(r.Err).Msg("client cannot be upgraded: it needs a recovery by its chain's authority or a replacement (cityrelay client replace)")
		default:
			settled = false
			um.upgrades.WithLabelValues(r.Of, r.Chain, "failed").Inc()
			ev.Warn().Err(r.Err).Msg("client upgrade failed; tried again")
		}
	}
	return settled
}
