package relayer

import (
	"errors"
	"testing"
	"time"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"
)

// An upgraded client state, even one proven by the chain, is submitted only when it keeps the chain
// id and revision, lies above the plan height, keeps an unbonding period above the client's trusting
// period, and has proof specs and an upgrade path; the keys proven are ibc-go v8's.
func TestCheckUpgradedRefuses(t *testing.T) {
	path := []string{"upgrade", "upgradedIBCState"}
	client := ibctm.NewClientState("incheon-1", ibctm.DefaultTrustLevel, 48*time.Hour, 21*24*time.Hour, 20*time.Second,
		clienttypes.NewHeight(1, 90), commitmenttypes.GetSDKSpecs(), path)
	good := func() *ibctm.ClientState {
		return ibctm.NewClientState("incheon-1", ibctm.Fraction{}, 0, 30*24*time.Hour, 0, clienttypes.NewHeight(1, 101),
			commitmenttypes.GetSDKSpecs(), path)
	}
	cases := map[string]func(*ibctm.ClientState){
		"ok":                           func(*ibctm.ClientState) {},
		"another chain id":             func(c *ibctm.ClientState) { c.ChainId = "incheon-2" },
		"another revision":             func(c *ibctm.ClientState) { c.LatestHeight = clienttypes.NewHeight(2, 101) },
		"at the plan height":           func(c *ibctm.ClientState) { c.LatestHeight = clienttypes.NewHeight(1, 100) },
		"unbonding below the trusting": func(c *ibctm.ClientState) { c.UnbondingPeriod = 24 * time.Hour },
		"no proof specs":               func(c *ibctm.ClientState) { c.ProofSpecs = nil },
		"no upgrade path":              func(c *ibctm.ClientState) { c.UpgradePath = nil },
	}
	for name, change := range cases {
		up := good()
		change(up)
		err := checkUpgraded(client, &PlannedUpgrade{PlanHeight: 100, Client: up}, "incheon-1")
		if name == "ok" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, ErrUpgradeRefused) {
			t.Errorf("%s: %v, want ErrUpgradeRefused", name, err)
		}
	}
	store, ck, kk, err := upgradeKeys(path, 100)
	if err != nil || store != "upgrade" || string(ck) != "upgradedIBCState/100/upgradedClient" || string(kk) != "upgradedIBCState/100/upgradedConsState" {
		t.Fatalf("upgrade keys: %s %s %s %v", store, ck, kk, err)
	}
	if _, _, _, err := upgradeKeys([]string{"upgrade"}, 100); !errors.Is(err, ErrUpgradeRefused) {
		t.Fatalf("a one-element upgrade path: %v", err)
	}
}
