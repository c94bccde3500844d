package relayer_test

import (
	"context"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// TestFlushClearsABacklog: 1,000 ICS-20 packets pile up with no relayer running (more than one page
// of commitments); one flush delivers every packet and returns every acknowledgement.
func TestFlushClearsABacklog(t *testing.T) {
	const n = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, _ := linkPath(t, transfertypes.PortID, transfertypes.Version, nil)
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	timeout := uint64(time.Now().Add(time.Hour).UnixNano())
	for sent := 0; sent < n; sent += 100 {
		var msgs []sdk.Msg
		for range 100 {
			msgs = append(msgs, transfertypes.NewMsgTransfer(transfertypes.PortID, p.A.ChannelID, sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(1)),
				seoul.Admin.Address, bucheon.Admin.Address, transfertypesHeight(), timeout, ""))
		}
		mustSend(t, admin, msgs...)
	}
	recv, _, err := relayer.Unrelayed(ctx, p.A, p.B)
	if err != nil || len(recv) != n {
		t.Fatalf("backlog: %d pending packets, want %d (%v)", len(recv), n, err)
	}

	start := time.Now()
	var reps []relayer.FlushReport
	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	if err := r.Flush(ctx, p, 100, func(rep relayer.FlushReport) { reps = append(reps, rep) }); err != nil {
		t.Fatalf("flush: %v", err)
	}
	t.Logf("flushed %d packets and their acknowledgements in %s: %+v", n, time.Since(start).Round(time.Millisecond), reps)
	if len(reps) != 2 || reps[0].Pending != n || reps[0].Received != n || reps[0].Acked != n || reps[0].Bad != 0 {
		t.Fatalf("flush report %+v", reps)
	}
	recv, acks, err := relayer.Unrelayed(ctx, p.A, p.B)
	if err != nil || len(recv) != 0 || len(acks) != 0 {
		t.Fatalf("left after flush: %d packets, %d acknowledgements (%v)", len(recv), len(acks), err)
	}
}
