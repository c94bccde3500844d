package main

import (
	"context"
	"strings"
	"testing"
	"time"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
)

// didDelivery is the state of a chain's did delivery record of the packet seq sent on channel.
func didDelivery(t *testing.T, cl *cosmos.Client, channel string, seq uint64) didtypes.DeliveryState {
	t.Helper()
	var resp didtypes.QueryDeliveryResponse
	if err := cl.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: channel, Sequence: seq}, &resp, 0); err != nil {
		t.Fatalf("delivery %s/%d on %s: %v", channel, seq, cl.ChainID(), err)
	}
	return resp.Delivery.State
}

// TestFlushClosedChannels: `tx flush` on two ORDERED did paths between Seoul and Bucheon.
//
//   - closed: a packet (timing out in an hour) is pending on Seoul when Bucheon's registry admin
//     closes Bucheon's end. The flush confirms the close on Seoul and times the packet out on close
//     (MsgTimeoutOnClose, proving Bucheon's closed end): the commitment is gone, Seoul's did module
//     records TIMED_OUT, an hour early; both ends are CLOSED.
//   - timeout: packet 1 times out, packet 2 (an hour) waits behind it. The flush times 1 out
//     (MsgTimeout with Bucheon's next_sequence_recv: Seoul's end closes), confirms the close on
//     Bucheon, and times 2 out on close: both ends CLOSED, both commitments gone, both TIMED_OUT,
//     Bucheon received nothing.
//
// A rerun of either finds nothing to do.
func TestFlushClosedChannels(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	oh := operatorHome(t, []*devnet.Chain{seoul, bucheon}, testnet.HomeOptions{})
	for _, name := range []string{"closed", "timeout"} {
		oh.Must("", "paths", "new", name, "--src", "seoul-1", "--dst", "bucheon-1", "--order", "ordered")
		oh.LinkCities(net, name)
	}
	rpc := devnet.ClientOptions{NoGRPC: true}
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpc)
	bucheonAdmin := testnet.ClientWith(t, bucheon, devnet.AdminKey, rpc)
	bucheonEnd := func(channel string) *relayer.End {
		return &relayer.End{Chain: bucheonAdmin, Light: testnet.LightOf(t, bucheon), PortID: didtypes.PortID, ChannelID: channel}
	}
	var issuerSeq uint64

	// closed: the counterparty closes while a packet is pending.
	closed := oh.Config().Paths["closed"]
	pending, _ := testnet.SendAttestation(t, seoul, admin, closed.Src.ChannelID, &issuerSeq, time.Now().Add(time.Hour))
	if st := didDelivery(t, admin, closed.Src.ChannelID, pending.Sequence); st != didtypes.DELIVERY_STATE_PENDING {
		t.Fatalf("the packet is %s on seoul-1, not pending", st)
	}
	if _, err := bucheonAdmin.Send(ctx, channeltypes.NewMsgChannelCloseInit(didtypes.PortID, closed.Dst.ChannelID, bucheon.Admin.Address)); err != nil {
		t.Fatalf("close init on bucheon-1: %v", err)
	}
	be := bucheonEnd(closed.Dst.ChannelID)
	testnet.Eventually(t, time.Minute, "bucheon-1's end proven CLOSED", func() bool { return testnet.ChannelState(t, be) == channeltypes.CLOSED })
	out := oh.Must("", "tx", "flush", "closed")
	t.Logf("flush closed:\n%s", out)
	for _, want := range []string{"the close of bucheon-1's channel end confirmed on seoul-1", "bucheon-1's channel end is closed: 1 packets timed out on close",
		"seoul-1 -> bucheon-1: 1 packets pending, 0 received"} {
		if !strings.Contains(out, want) {
			t.Fatalf("flush output lacks %q:\n%s", want, out)
		}
	}
	if testnet.HasCommitment(t, admin, didtypes.PortID, closed.Src.ChannelID, pending.Sequence) {
		t.Fatal("the commitment is still on seoul-1")
	}
	if st := didDelivery(t, admin, closed.Src.ChannelID, pending.Sequence); st != didtypes.DELIVERY_STATE_TIMED_OUT {
		t.Fatalf("the packet is %s on seoul-1, want TIMED_OUT", st)
	}
	if out := oh.Must("", "query", "channels", "closed"); strings.Count(out, "STATE_CLOSED") != 2 {
		t.Fatalf("channels after the flush:\n%s", out)
	}
	if out := oh.Must("", "tx", "flush", "closed"); strings.Contains(out, "timed out on close") || strings.Contains(out, "confirmed") ||
		!strings.Contains(out, "seoul-1 -> bucheon-1: 0 packets pending") {
		t.Fatalf("a rerun did something:\n%s", out)
	}

	// timeout: an ordered timeout closes Seoul's end; the flush finishes the close and what waited.
	to := oh.Config().Paths["timeout"]
	deadline := time.Now().Add(4 * time.Second)
	first, _ := testnet.SendAttestation(t, seoul, admin, to.Src.ChannelID, &issuerSeq, deadline)
	second, _ := testnet.SendAttestation(t, seoul, admin, to.Src.ChannelID, &issuerSeq, time.Now().Add(time.Hour))
	lb := testnet.LightOf(t, bucheon)
	testnet.Eventually(t, time.Minute, "a bucheon-1 header past the first packet's timeout", func() bool {
		h, err := lb.VerifyLatest(ctx)
		return err == nil && h.Time.After(deadline.Add(time.Second))
	})
	out = oh.Must("", "tx", "flush", "timeout")
	t.Logf("flush timeout:\n%s", out)
	for _, want := range []string{"seoul-1 -> bucheon-1: 2 packets pending, 0 received", "2 timed out",
		"the close of seoul-1's channel end confirmed on bucheon-1", "bucheon-1's channel end is closed: 1 packets timed out on close"} {
		if !strings.Contains(out, want) {
			t.Fatalf("flush output lacks %q:\n%s", want, out)
		}
	}
	for _, pk := range []channeltypes.Packet{first, second} {
		if testnet.HasCommitment(t, admin, didtypes.PortID, to.Src.ChannelID, pk.Sequence) {
			t.Fatalf("the commitment of packet %d is still on seoul-1", pk.Sequence)
		}
		if st := didDelivery(t, admin, to.Src.ChannelID, pk.Sequence); st != didtypes.DELIVERY_STATE_TIMED_OUT {
			t.Fatalf("packet %d is %s on seoul-1, want TIMED_OUT", pk.Sequence, st)
		}
	}
	if n := testnet.NextSequenceRecv(t, bucheonAdmin, didtypes.PortID, to.Dst.ChannelID); n != 1 {
		t.Fatalf("bucheon-1 next_sequence_recv %d: a timed-out packet was received", n)
	}
	if out := oh.Must("", "query", "channels", "timeout"); strings.Count(out, "STATE_CLOSED") != 2 {
		t.Fatalf("channels after the flush:\n%s", out)
	}
	if out := oh.Must("", "tx", "flush", "timeout"); strings.Contains(out, "timed out on close") || strings.Contains(out, "confirmed") {
		t.Fatalf("a rerun did something:\n%s", out)
	}
}
