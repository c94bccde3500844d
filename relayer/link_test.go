package relayer_test

import (
	"context"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// linkPath links seoul-1 and bucheon-1 on the given port and returns the path.
func linkPath(t testing.TB, port, version string, reuse *relayer.Path) (*relayer.Path, []relayer.Step) {
	t.Helper()
	return linkPathTrusting(t, port, version, reuse, 0)
}

// linkPathTrusting is linkPath with a new client of seoul-1 on bucheon-1 of trusting period
// trustingSeoul (0: the default, two thirds of seoul-1's unbonding period).
func linkPathTrusting(t testing.TB, port, version string, reuse *relayer.Path, trustingSeoul time.Duration) (*relayer.Path, []relayer.Step) {
	t.Helper()
	a := end(t, net.Chain("seoul-1"), port)
	b := end(t, net.Chain("bucheon-1"), port)
	if reuse != nil {
		a.ClientID, a.ConnectionID = reuse.A.ClientID, reuse.A.ConnectionID
		b.ClientID, b.ConnectionID = reuse.B.ClientID, reuse.B.ConnectionID
	}
	p := &relayer.Path{Name: "seoul-bucheon-" + port, A: a, B: b, Version: version, Order: channeltypes.UNORDERED, TrustingPeriodA: trustingSeoul}
	var steps []relayer.Step
	// The devnet's registry admins recognise each other's new client (an operator's link stops and
	// names the admin command instead).
	l := relayer.Linker{Check: light.VerifyProofAgainstAppHash, Register: net.RegisterCity, Report: func(s relayer.Step) {
		t.Logf("%s: %s %s (height %d, tx %s)", s.Chain, s.Action, s.ID, s.Height, s.TxHash)
		steps = append(steps, s)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	if err := l.Link(ctx, p); err != nil {
		t.Fatalf("link %s: %v", p.Name, err)
	}
	t.Logf("linked %s in %s", p.Name, time.Since(start).Round(time.Millisecond))
	return p, steps
}

func TestLinkDidAndTransfer(t *testing.T) {
	p, steps := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	if len(steps) != 12 {
		t.Fatalf("a fresh did link takes 2 clients + 4 connection + 2 registrations + 4 channel steps, got %d", len(steps))
	}
	if s := steps[6]; s.Action != "recognise bucheon-1" || s.Chain != "seoul-1" || s.ID != p.A.ClientID {
		t.Fatalf("step 7 must be seoul-1 recognising bucheon-1's client %s: %+v", p.A.ClientID, s)
	}
	if s := steps[7]; s.Action != "recognise seoul-1" || s.Chain != "bucheon-1" || s.ID != p.B.ClientID {
		t.Fatalf("step 8 must be bucheon-1 recognising seoul-1's client %s: %+v", p.B.ClientID, s)
	}
	for _, e := range []*relayer.End{p.A, p.B} {
		if e.ClientID == "" || e.ConnectionID == "" || e.ChannelID == "" {
			t.Fatalf("%s: ids not recorded: %+v", e.ChainID(), e)
		}
	}

	// Running link again on the linked path does nothing.
	again := relayer.Linker{Check: light.VerifyProofAgainstAppHash, Report: func(s relayer.Step) {
		t.Errorf("rerun of a linked path did %s on %s", s.Action, s.Chain)
	}}
	if err := again.Link(context.Background(), p); err != nil {
		t.Fatalf("relink: %v", err)
	}

	// ICS-20 links the same way over the same connection: only the channel handshake runs.
	tp, tsteps := linkPath(t, "transfer", "ics20-1", p)
	if len(tsteps) != 4 || tp.A.ChannelID == "" || tp.B.ChannelID == "" {
		t.Fatalf("transfer channel: %d steps, ids %q %q", len(tsteps), tp.A.ChannelID, tp.B.ChannelID)
	}

	// update-clients moves each client to the other chain's latest verified header.
	for _, pair := range [][2]*relayer.End{{p.A, p.B}, {p.B, p.A}} {
		dst, src := pair[0], pair[1]
		before, _, err := relayer.Client{Dst: dst, Src: src}.Update(context.Background())
		if err != nil {
			t.Fatalf("update %s on %s: %v", dst.ClientID, dst.ChainID(), err)
		}
		if err := net.Chain(src.ChainID()).WaitHeight(context.Background(), before+3); err != nil {
			t.Fatal(err)
		}
		after, tx, err := relayer.Client{Dst: dst, Src: src}.Update(context.Background())
		if err != nil {
			t.Fatalf("update %s on %s: %v", dst.ClientID, dst.ChainID(), err)
		}
		if after <= before || tx == nil {
			t.Fatalf("client %s on %s did not advance: %d -> %d", dst.ClientID, dst.ChainID(), before, after)
		}
	}
}

// TestRefreshClient: a client with less than the refresh fraction left is updated; one with plenty
// left is not.
func TestRefreshClient(t *testing.T) {
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	ctx := context.Background()
	now := time.Now()
	left, trusting, err := relayer.Client{Dst: p.B, Src: p.A}.Expiry(ctx, now)
	if err != nil || left <= 0 || left > trusting {
		t.Fatalf("expiry: left %s of %s, %v", left, trusting, err)
	}
	if updated, _, err := (relayer.Client{Dst: p.B, Src: p.A}).Refresh(ctx, 1.0/3, now); err != nil || updated {
		t.Fatalf("fresh client refreshed: %v %v", updated, err)
	}
	// Seen from a moment when only a fifth of the trusting period is left, it must be refreshed.
	later := now.Add(trusting - trusting/5)
	updated, after, err := relayer.Client{Dst: p.B, Src: p.A}.Refresh(ctx, 1.0/3, later)
	if err != nil || !updated || after <= left-time.Second {
		t.Fatalf("refresh: updated %v, left %s (was %s), %v", updated, after, left, err)
	}
}

// lyingClientReads answers the unproven client reads with a client state whose trusting period is a
// century: a node that wants the relayer to let a client expire.
type lyingClientReads struct{ relayer.Chain }

func (l lyingClientReads) ClientState(ctx context.Context, clientID string) (string, []byte, error) {
	typeURL, value, err := l.Chain.ClientState(ctx, clientID)
	if err != nil {
		return "", nil, err
	}
	var cs ibctm.ClientState
	if err := proto.Unmarshal(value, &cs); err != nil {
		return "", nil, err
	}
	cs.TrustingPeriod = 100 * 365 * 24 * time.Hour
	value, err = proto.Marshal(&cs)
	return typeURL, value, err
}

// TestRefreshIgnoresUnprovenClientState: the refresh reads the client with proofs, so a node lying in
// its plain queries cannot make a client that is due look fresh.
func TestRefreshIgnoresUnprovenClientState(t *testing.T) {
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	ctx := context.Background()
	honest := *p.B
	lying := *p.B
	lying.Chain = lyingClientReads{p.B.Chain}
	_, trusting, err := relayer.Client{Dst: &honest, Src: p.A}.Expiry(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, told, err := relayer.Client{Dst: &lying, Src: p.A}.Expiry(ctx, time.Now())
	if err != nil || told != trusting {
		t.Fatalf("expiry through a lying node: trusting period %s (true %s), %v", told, trusting, err)
	}
	later := time.Now().Add(trusting - trusting/5)
	if updated, _, err := (relayer.Client{Dst: &lying, Src: p.A}).Refresh(ctx, 1.0/3, later); err != nil || !updated {
		t.Fatalf("a client due for refresh was skipped through a lying node: updated %v, %v", updated, err)
	}
}
