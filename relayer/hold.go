package relayer

import (
	"errors"
	"sync"
)

// ErrUpgradePending is returned for a client update held back by an upgrade: the tracked chain has
// an IBC upgrade planned at a height, the client is at or below it, and the update would take it
// above, after which the client could never be upgraded (ibc-go proves the upgrade against the
// client's consensus state at the plan height). The update is tried again once the client is upgraded.
// It is transient: the work waits, it is not refused.
var ErrUpgradePending = errors.New("client update held until the chain's upgrade is applied to the client")

// holds are the chains whose clients are held at an upgrade height: chain id → plan height. They are
// process-wide: every path of the process serving a client of the chain must hold it alike.
var holds sync.Map

// HoldForUpgrade holds every client of chainID at planHeight: an update to a header above it is
// refused with ErrUpgradePending while the client is at or below it (the daemon's upgrade watcher sets
// this when it sees a planned IBC upgrade, and releases it once the clients are upgraded).
func HoldForUpgrade(chainID string, planHeight int64) { holds.Store(chainID, planHeight) }

// ReleaseUpgradeHold ends HoldForUpgrade for chainID.
func ReleaseUpgradeHold(chainID string) { holds.Delete(chainID) }

// upgradeHold is the plan height clients of chainID are held at.
func upgradeHold(chainID string) (int64, bool) {
	v, ok := holds.Load(chainID)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}
