package relayer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	"github.com/cosmos/gogoproto/proto"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// newUnbonding is the unbonding period the upgrade gives incheon-1 (from the default 21 days); the
// clients of it keep their trusting period (14 days, two thirds of the old one).
const newUnbonding = 30 * 24 * time.Hour

// lyingUpgradeNode is a node of the upgrading chain that serves another upgraded client state (a
// longer unbonding period) than the chain stored, or says there is none, with the chain's real proof.
type lyingUpgradeNode struct {
	relayer.Chain
	absent bool
}

func (l lyingUpgradeNode) QueryProven(ctx context.Context, storeKey string, key []byte, height int64) (*chains.Proof, error) {
	p, err := l.Chain.QueryProven(ctx, storeKey, key, height)
	if err != nil || storeKey != "upgrade" || !strings.HasSuffix(string(key), "/upgradedClient") || p.Value == nil {
		return p, err
	}
	forged := *p
	if l.absent {
		forged.Value = nil
		return &forged, nil
	}
	var a codectypes.Any
	if err := proto.Unmarshal(p.Value, &a); err != nil {
		return nil, err
	}
	var cs ibctm.ClientState
	if err := proto.Unmarshal(a.Value, &cs); err != nil {
		return nil, err
	}
	cs.UnbondingPeriod = 365 * 24 * time.Hour
	a.Value, _ = proto.Marshal(&cs)
	forged.Value, _ = proto.Marshal(&a)
	return &forged, nil
}

// TestUpgradeClientsAfterChainUpgrade: incheon-1 (a citychaind child process whose admin is its
// genesis upgrade authority) schedules an IBC software upgrade (MsgIBCSoftwareUpgrade: plan at height
// H, upgraded client state with a 30-day unbonding period), halts at H ("UPGRADE ... NEEDED"), and is
// restarted with --upgrade-handler, which sets its staking unbonding time to 30 days. Bucheon's client
// of incheon-1 is then upgraded with proofs of the upgraded states against incheon-1's verified header
// at H: its client state carries the new unbonding period (and its own trusting period), it holds the
// upgraded consensus state at H+1, and packets flow over the path afterwards. A node that serves a
// forged upgraded client state (or denies there is one) with the chain's proof is refused before
// anything is sent. On a chain without an upgrade authority (bucheon-1) nobody can schedule one.
func TestUpgradeClientsAfterChainUpgrade(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	incheon := testnet.StartProcessChain(t, "incheon-1", devnet.InitOptions{AdminUpgrades: true})
	bucheon := net.Chain("bucheon-1")
	pair := &devnet.Devnet{Chains: []*devnet.Chain{incheon.Chain, bucheon}}
	p := &relayer.Path{Name: "incheon-bucheon", A: end(t, incheon.Chain, transfertypes.PortID), B: end(t, bucheon, transfertypes.PortID),
		Version: transfertypes.Version, Order: channeltypes.UNORDERED}
	testnet.LinkPath(t, pair, p)
	bq := testnet.Client(t, bucheon, devnet.RelayerKey)
	clientOnBucheon := func() *ibctm.ClientState {
		t.Helper()
		var res clienttypes.QueryClientStateResponse
		if err := bq.QueryGRPC(ctx, "/ibc.core.client.v1.Query/ClientState", &clienttypes.QueryClientStateRequest{ClientId: p.B.ClientID}, &res, 0); err != nil {
			t.Fatal(err)
		}
		var cs ibctm.ClientState
		if err := proto.Unmarshal(res.ClientState.Value, &cs); err != nil {
			t.Fatal(err)
		}
		return &cs
	}
	before := clientOnBucheon()

	// A chain without a genesis upgrade authority (bucheon-1) refuses every upgrade, as before.
	if _, err := bucheon.ScheduleIBCUpgrade(ctx, citychain.TestUpgradePlan, 1_000_000, newUnbonding); err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("an upgrade scheduled by bucheon-1's admin, which is not its upgrade authority: %v", err)
	}

	// Schedule the upgrade a few blocks ahead and wait for the halt.
	st, err := p.A.Chain.(*cosmos.Client).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	planHeight := st.SyncInfo.LatestBlockHeight + 20
	txHeight, err := incheon.ScheduleIBCUpgrade(ctx, citychain.TestUpgradePlan, planHeight, newUnbonding)
	if err != nil {
		t.Fatalf("schedule upgrade: %v", err)
	}
	// The relayer sees the plan, proven, with its upgraded client state.
	if err := incheon.WaitHeight(ctx, txHeight+2); err != nil {
		t.Fatal(err)
	}
	plan, err := relayer.PendingUpgrade(ctx, p.A, light.VerifyProofAgainstAppHash)
	if err != nil || plan == nil || plan.Name != citychain.TestUpgradePlan || plan.Height != planHeight || !plan.IBC {
		t.Fatalf("pending upgrade of incheon-1: %+v, %v", plan, err)
	}
	// Bring Bucheon's client close to the plan height, as live relaying would.
	if _, _, err := (relayer.Client{Dst: p.B, Src: p.A}).Update(ctx); err != nil {
		t.Fatal(err)
	}
	needed := `UPGRADE "` + citychain.TestUpgradePlan + `" NEEDED at height: `
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(incheon.LogTail(1<<20), needed) {
		if time.Now().After(deadline) {
			t.Fatalf("incheon-1 did not halt for the upgrade at %d:\n%s", planHeight, incheon.LogTail(3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The block at H is agreed and stored, but not executed: the chain stays there.
	halted := func() int64 {
		t.Helper()
		st, err := p.A.Chain.(*cosmos.Client).Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.SyncInfo.LatestBlockHeight
	}
	h1 := halted()
	time.Sleep(2 * time.Second)
	if h2 := halted(); h1 != h2 || h2 > planHeight || h2 < planHeight-1 {
		t.Fatalf("incheon-1 after the halt: at %d then %d, want it to stay at %d or %d", h1, h2, planHeight-1, planHeight)
	}
	t.Logf("incheon-1 halted before the upgrade height %d", planHeight)

	// Restart with the upgrade's handler; the chain runs the upgrade at H and goes on.
	if err := incheon.Stop(); err != nil {
		t.Fatal(err)
	}
	incheon.Start(planHeight+3, "--"+citychain.OptionUpgradeHandler, citychain.TestUpgradePlan)
	var sp stakingtypes.QueryParamsResponse
	if err := p.A.Chain.(*cosmos.Client).QueryGRPC(ctx, "/cosmos.staking.v1beta1.Query/Params", &stakingtypes.QueryParamsRequest{}, &sp, 0); err != nil {
		t.Fatal(err)
	}
	if sp.Params.UnbondingTime != newUnbonding {
		t.Fatalf("incheon-1's unbonding time after the upgrade: %s, want %s", sp.Params.UnbondingTime, newUnbonding)
	}

	// A lying node of incheon-1: refused, nothing sent.
	for _, absent := range []bool{false, true} {
		liar := &relayer.End{Chain: lyingUpgradeNode{Chain: p.A.Chain, absent: absent}, Light: p.A.Light, ClientID: p.A.ClientID}
		_, err := (relayer.Client{Dst: p.B, Src: liar}).Upgrade(ctx, light.VerifyProofAgainstAppHash, planHeight)
		if err == nil || errors.Is(err, relayer.ErrNoUpgrade) {
			t.Fatalf("a forged upgraded client state (absent %v) was not refused: %v", absent, err)
		}
		t.Logf("forged upgraded client state (absent %v) refused: %v", absent, err)
		if got := clientOnBucheon(); got.UnbondingPeriod != before.UnbondingPeriod {
			t.Fatalf("client changed after a refused upgrade: %+v", got)
		}
	}

	res, err := (relayer.Client{Dst: p.B, Src: p.A}).Upgrade(ctx, light.VerifyProofAgainstAppHash, planHeight)
	if err != nil {
		t.Fatalf("upgrade client: %v", err)
	}
	t.Logf("upgraded %s on bucheon-1 in tx %s (%d msgs, %d updates): height %d, unbonding %s", p.B.ClientID, res.Tx.Hash, res.Tx.Msgs,
		res.Tx.ClientUpdates, res.Height, res.After.UnbondingPeriod)
	after := clientOnBucheon()
	if after.UnbondingPeriod != newUnbonding || after.TrustingPeriod != before.TrustingPeriod || after.ChainId != "incheon-1" ||
		after.FrozenHeight != (clienttypes.Height{}) {
		t.Fatalf("client after the upgrade: %+v (before %+v)", after, before)
	}
	if res.Height != planHeight+1 || int64(after.LatestHeight.RevisionHeight) < planHeight+1 {
		t.Fatalf("upgraded height %d, client at %s: want %d", res.Height, after.LatestHeight, planHeight+1)
	}
	var cons clienttypes.QueryConsensusStateResponse
	if err := bq.QueryGRPC(ctx, "/ibc.core.client.v1.Query/ConsensusState", &clienttypes.QueryConsensusStateRequest{ClientId: p.B.ClientID,
		RevisionNumber: 1, RevisionHeight: uint64(planHeight + 1)}, &cons, 0); err != nil {
		t.Fatalf("consensus state at the upgraded height %d: %v", planHeight+1, err)
	}
	// Once a verified header of Bucheon commits to the upgrade, a second one is not attempted.
	if err := bucheon.WaitHeight(ctx, res.Tx.Height+2); err != nil {
		t.Fatal(err)
	}
	if _, err := (relayer.Client{Dst: p.B, Src: p.A}).Upgrade(ctx, nil, planHeight); !errors.Is(err, relayer.ErrAlreadyUpgraded) {
		t.Fatalf("second upgrade: %v, want ErrAlreadyUpgraded", err)
	}

	// Packets flow after the upgrade.
	admin := testnet.Client(t, incheon.Chain, devnet.AdminKey)
	timeout := uint64(time.Now().Add(time.Hour).UnixNano())
	mustSend(t, admin, transfertypes.NewMsgTransfer(transfertypes.PortID, p.A.ChannelID, sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(7)),
		incheon.Admin.Address, bucheon.Admin.Address, clienttypes.ZeroHeight(), timeout, ""))
	var reps []relayer.FlushReport
	if err := (&relayer.Relayer{Check: light.VerifyProofAgainstAppHash}).Flush(ctx, p, 100, func(r relayer.FlushReport) { reps = append(reps, r) }); err != nil {
		t.Fatalf("flush after the upgrade: %v", err)
	}
	if len(reps) == 0 || reps[0].Received != 1 || reps[0].Acked != 1 {
		t.Fatalf("flush after the upgrade: %+v", reps)
	}
	recv, acks, err := relayer.Unrelayed(ctx, p.A, p.B)
	if err != nil || len(recv) != 0 || len(acks) != 0 {
		t.Fatalf("left after the upgrade's flush: %d packets, %d acks (%v)", len(recv), len(acks), err)
	}
}
