package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
)

// otherSigner submits client updates to bucheon-1's client of seoul-1 with another funded key of
// bucheon-1 than the daemon's.
type otherSigner struct {
	t        *testing.T
	ctx      context.Context
	seoul    *devnet.Chain
	client   *cosmos.Client
	addr     string
	clientID string
}

func newOtherSigner(t *testing.T, ctx context.Context, o *observed) *otherSigner {
	t.Helper()
	bucheon := o.net.Chain("bucheon-1")
	s := &otherSigner{t: t, ctx: ctx, seoul: o.seoul, client: testnet.Client(t, bucheon, devnet.Relayer2Key), clientID: o.cfg.Paths[observedPath].Dst.ClientID}
	if o.cfg.Paths[observedPath].Dst.Chain != "bucheon-1" || s.clientID == "" {
		t.Fatalf("path %+v: want bucheon-1's client of seoul-1 at its dst", o.cfg.Paths[observedPath])
	}
	var err error
	if s.addr, err = s.client.Address(ctx); err != nil {
		t.Fatal(err)
	}
	if s.addr == bucheon.Relayer.Address {
		t.Fatal("the other signer is the daemon's key")
	}
	return s
}

func (s *otherSigner) status() string {
	s.t.Helper()
	var st clienttypes.QueryClientStatusResponse
	if err := s.client.QueryGRPC(s.ctx, "/ibc.core.client.v1.Query/ClientStatus", &clienttypes.QueryClientStatusRequest{ClientId: s.clientID}, &st, 0); err != nil {
		s.t.Fatal(err)
	}
	return st.Status
}

// headersAbove forges, from seoul-1, the committed and a conflicting header at a height above the
// client's latest and seoul-1's newest block, both trusting the client's latest consensus state.
func (s *otherSigner) headersAbove() (*ibctm.Header, *ibctm.Header) {
	t, ctx := s.t, s.ctx
	t.Helper()
	typeURL, value, err := s.client.ClientState(ctx, s.clientID)
	var cs ibctm.ClientState
	if err != nil || typeURL != "/"+proto.MessageName(&cs) || proto.Unmarshal(value, &cs) != nil {
		t.Fatalf("client %s: %s %v", s.clientID, typeURL, err)
	}
	st, err := newestHeight(ctx, s.seoul)
	if err != nil {
		t.Fatal(err)
	}
	h := max(int64(cs.LatestHeight.RevisionHeight), st) + 3
	if err := s.seoul.WaitHeight(ctx, h+1); err != nil {
		t.Fatal(err)
	}
	mb, err := s.seoul.Misbehaviour(ctx, s.clientID, cs.LatestHeight, h)
	if err != nil {
		t.Fatal(err)
	}
	return mb.Header1, mb.Header2
}

// update submits h to the client, signed by the other key.
func (s *otherSigner) update(h *ibctm.Header) *cosmos.TxResult {
	s.t.Helper()
	anyHeader, err := codectypes.NewAnyWithValue(h)
	if err != nil {
		s.t.Fatal(err)
	}
	res, err := s.client.Send(s.ctx, &clienttypes.MsgUpdateClient{ClientId: s.clientID, ClientMessage: anyHeader, Signer: s.addr})
	if err != nil {
		s.t.Fatalf("update by another signer: %v", err)
	}
	s.t.Logf("update of %s to %d by %s in bucheon-1 block %d", s.clientID, h.GetHeight().GetRevisionHeight(), s.addr, res.Height)
	return res
}

// waitFor polls ok every 200 ms until it holds, failing the test after within.
func waitFor(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// caughtAndFrozen waits for the daemon to have frozen the client with misbehaviour after a conflicting
// update: Frozen on chain, one conflict and one misbehaviour counted, seoul-1's light client halted.
func caughtAndFrozen(t *testing.T, o *observed, s *otherSigner) {
	t.Helper()
	start := time.Now()
	waitFor(t, "the client frozen", 2*time.Minute, func() bool { return s.status() == string(ibcexported.Frozen) })
	t.Logf("client %s frozen after %s", s.clientID, time.Since(start).Round(time.Millisecond))
	// The metrics count once the daemon's tx returns (the chain may show the freeze a moment before).
	submitted := func() float64 {
		return metric(scrape(t, o.base), "cityrelay_misbehaviour_submitted_total", `chain="bucheon-1"`, `client="`+s.clientID+`"`)
	}
	waitFor(t, "the misbehaviour counted", 30*time.Second, func() bool { return submitted() >= 1 })
	time.Sleep(2 * time.Second) // a few more polls: nothing more may follow
	body := scrape(t, o.base)
	if n := metric(body, "cityrelay_client_updates_watched_total", `client="`+s.clientID+`"`, `outcome="conflict"`); n != 1 {
		t.Fatalf("conflicts counted: %v, want 1", n)
	}
	if n := submitted(); n != 1 {
		t.Fatalf("misbehaviour submitted: %v, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(o.home, "light", "seoul-1", light.HaltFile)); err != nil {
		t.Fatalf("seoul-1's light client not halted (the path goes on): %v", err)
	}
}

// TestDaemonCatchesOthersConflictingClientUpdate runs the daemon on seoul-1 and bucheon-1 linked by a
// path; ANOTHER key on bucheon-1 (not the daemon's) submits MsgUpdateClient to bucheon-1's client of
// seoul-1, the client the daemon relays over. First a genuine header of seoul-1: the daemon judges it
// (counted "agrees"), freezes nothing, halts nothing, the client stays Active. Then a header of a fork
// of seoul-1 at a new height (seoul-1's validator key signs another app hash: the chain accepts the
// update, its client now holds a forged consensus state): the daemon reads the tx from the block (its
// txs proven against bucheon-1's verified header), finds the header conflicting with the one its
// light client of seoul-1 verifies and validly signed, halts that light client (the path stops) and
// submits both headers as misbehaviour: the client is Frozen on chain and the metrics count it.
func TestDaemonCatchesOthersConflictingClientUpdate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := startObserved(t, 200*time.Millisecond, 0)
	s := newOtherSigner(t, ctx, o)
	clientID := s.clientID
	watched := func(outcome string) float64 {
		return metric(scrape(t, o.base), "cityrelay_client_updates_watched_total", `chain="bucheon-1"`, `client="`+clientID+`"`, `outcome="`+outcome+`"`)
	}
	haltFile := filepath.Join(o.home, "light", "seoul-1", light.HaltFile)

	// A genuine header from another signer: judged, agrees, nothing flagged.
	genuine, _ := s.headersAbove()
	s.update(genuine)
	waitFor(t, "the genuine update judged", time.Minute, func() bool { return watched("agrees") >= 1 })
	time.Sleep(2 * time.Second) // a few more polls: nothing may follow
	body := scrape(t, o.base)
	if n := metric(body, "cityrelay_client_updates_watched_total", `outcome="conflict"`); n != 0 {
		t.Fatalf("a genuine update counted as %v conflicts", n)
	}
	if n := metric(body, "cityrelay_misbehaviour_submitted_total"); n != 0 {
		t.Fatalf("misbehaviour submitted for a genuine update: %v", n)
	}
	if st := s.status(); st != string(ibcexported.Active) {
		t.Fatalf("client after a genuine update: %s", st)
	}
	if _, err := os.Stat(haltFile); err == nil {
		t.Fatal("seoul-1's light client halted on a genuine update")
	}
	waitStatus(t, o.base+"/readyz", http.StatusOK, "", 30*time.Second)

	// A fork's header from another signer at a new height: accepted by the chain, caught by the daemon.
	_, forged := s.headersAbove()
	s.update(forged)
	caughtAndFrozen(t, o, s)
}

// TestDaemonCatchesConflictingUpdateMadeBeforeItStarted: another signer puts a fork's header into
// bucheon-1's client of seoul-1 while no daemon runs; the daemon, at start, finds the client's latest
// consensus state (proven) is not its light client's header there, finds the update's tx, judges its
// header, and freezes the client.
func TestDaemonCatchesConflictingUpdateMadeBeforeItStarted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var s *otherSigner
	o := startObservedAfter(t, 200*time.Millisecond, 0, func(o *observed) {
		s = newOtherSigner(t, ctx, o)
		_, forged := s.headersAbove()
		res := s.update(forged)
		if err := o.net.Chain("bucheon-1").WaitHeight(ctx, res.Height+2); err != nil {
			t.Fatal(err)
		}
		if st := s.status(); st != string(ibcexported.Active) {
			t.Fatalf("the chain froze the client itself (%s): the forged header must be at a new height", st)
		}
	})
	caughtAndFrozen(t, o, s)
}

// newestHeight is the chain's newest block height.
func newestHeight(ctx context.Context, c *devnet.Chain) (int64, error) {
	cl, err := c.Client(devnet.RelayerKey, devnet.ClientOptions{})
	if err != nil {
		return 0, err
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}
