package devnet

import (
	"context"
	"fmt"
	"time"

	upgradetypes "cosmossdk.io/x/upgrade/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"
)

// upgradeAuthority is the genesis upgrade authority of a new home: the admin with AdminUpgrades.
func upgradeAuthority(o InitOptions, admin string) string {
	if o.AdminUpgrades {
		return admin
	}
	return ""
}

// ScheduleIBCUpgrade schedules the upgrade plan name at height with an upgraded client state for the
// chain's counterparties' clients (MsgIBCSoftwareUpgrade, signed by the admin, which must be the
// chain's genesis upgrade authority: InitOptions.AdminUpgrades). The upgraded client keeps the chain
// id, its latest height is height+1 (above the height counterparties update their clients to before
// upgrading them) and its unbonding period is unbonding; the chain's own staking unbonding time
// becomes that when the plan's handler runs. It returns the tx height.
func (c *Chain) ScheduleIBCUpgrade(ctx context.Context, name string, height int64, unbonding time.Duration) (int64, error) {
	cs := ibctm.NewClientState(c.ChainID, ibctm.DefaultTrustLevel, 0, unbonding, 0,
		clienttypes.NewHeight(clienttypes.ParseChainID(c.ChainID), uint64(height+1)), commitmenttypes.GetSDKSpecs(),
		[]string{"upgrade", "upgradedIBCState"}).ZeroCustomFields()
	msg, err := clienttypes.NewMsgIBCSoftwareUpgrade(c.Admin.Address, upgradetypes.Plan{Name: name, Height: height, Info: "devnet upgrade"}, cs)
	if err != nil {
		return 0, fmt.Errorf("%s: build upgrade %s: %w", c.ChainID, name, err)
	}
	return c.adminSend(ctx, msg)
}
