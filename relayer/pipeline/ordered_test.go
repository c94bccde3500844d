package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// runPipeline runs a pipeline instance on p until the test ends; o's Paths, JS, Relayer and Log are
// filled in.
func runPipeline(t *testing.T, js jetstream.JetStream, p *relayer.Path, o pipeline.Options) {
	t.Helper()
	o.Paths, o.JS, o.Relayer = []*relayer.Path{p}, js, relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	o.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	if o.BatchWait == 0 {
		o.BatchWait = 300 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pipeline: %v", err)
		}
	})
}

// deliveryState is the state of seoul's delivery record of the packet seq sent on channel.
func deliveryState(t *testing.T, cl *cosmos.Client, channel string, seq uint64) didtypes.DeliveryState {
	var resp didtypes.QueryDeliveryResponse
	if err := cl.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: channel, Sequence: seq}, &resp, 0); err != nil {
		return didtypes.DELIVERY_STATE_UNSPECIFIED
	}
	return resp.Delivery.State
}

// TestOrderedChannel500InOrder sends 500 attestations on an ORDERED did channel: the first 50 before
// the relayer starts (no scanner sees them, and clearing is off), so the 450 it sees wait behind a
// gap that the submitter fetches again instead of skipping. Every packet arrives, in sequence:
// Bucheon's next_sequence_recv is 501, the recv txs carry 1..500 in order (one batch in flight), and
// every acknowledgement comes back in order (Seoul's next_sequence_ack is 501: the chain takes an
// ordered channel's acknowledgements only in sequence).
func TestOrderedChannel500InOrder(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul := net.Chain("seoul-1")
	p := testnet.OrderedDIDPath(t, net, "seoul-bucheon-ordered", "seoul-1", "bucheon-1", devnet.RelayerKey)
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	var issuerSeq uint64
	first, h, err := seoul.SendAttestations(ctx, admin, p.A.ChannelID, &issuerSeq, 50)
	if err != nil {
		t.Fatal(err)
	}
	if err := seoul.WaitHeight(ctx, h+3); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var recvOrder, ackOrder []uint64
	outOfOrder := 0
	handBacks := map[string]int{} // every hand-back, by reason
	js := testnet.JetStream(t, time.Hour)
	runPipeline(t, js, p, pipeline.Options{BatchMax: 50,
		OnDelivered: func(d pipeline.Delivered) {
			mu.Lock()
			defer mu.Unlock()
			switch d.Kind {
			case packets.KindRecv:
				recvOrder = append(recvOrder, d.Sequences...)
			case packets.KindAck:
				ackOrder = append(ackOrder, d.Sequences...)
			}
		},
		OnRetried: func(_, kind, reason string, n int) {
			mu.Lock()
			defer mu.Unlock()
			handBacks[kind+" "+reason] += n
			if reason == "out of order" {
				outOfOrder += n
			}
		}})
	time.Sleep(3 * time.Second) // the scanner starts above the first 50
	rest, _, err := seoul.SendAttestations(ctx, admin, p.A.ChannelID, &issuerSeq, 450)
	if err != nil {
		t.Fatal(err)
	}
	if first[0] != 1 || rest[len(rest)-1] != 500 {
		t.Fatalf("sequences %d..%d and %d..%d, want 1..500", first[0], first[len(first)-1], rest[0], rest[len(rest)-1])
	}
	bucheonCl := p.B.Chain.(*cosmos.Client)
	start := time.Now()
	testnet.Eventually(t, 5*time.Minute, "500 packets received on bucheon-1", func() bool {
		return testnet.NextSequenceRecv(t, bucheonCl, p.B.PortID, p.B.ChannelID) == 501
	})
	t.Logf("500 packets received in order %s after the last send", time.Since(start).Round(time.Millisecond))
	testnet.Eventually(t, 3*time.Minute, "500 acknowledgements processed on seoul-1", func() bool {
		return deliveryState(t, admin, p.A.ChannelID, 500) == didtypes.DELIVERY_STATE_DELIVERED
	})
	// The chain can show the last delivery before the relayer's callback has recorded its tx (it runs
	// once the relayer sees the commit): wait for the relayer's own account of all 500 each way.
	testnet.Eventually(t, time.Minute, "the relayer reported 500 recvs and 500 acks delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(recvOrder) >= 500 && len(ackOrder) >= 500
	})
	mu.Lock()
	defer mu.Unlock()
	if err := consecutive(recvOrder, 500); err != nil {
		t.Fatalf("recv order: %v", err)
	}
	if err := consecutive(ackOrder, 500); err != nil {
		t.Fatalf("ack order: %v", err)
	}
	if outOfOrder == 0 {
		t.Fatal("no item waited behind the gap of the first 50 packets: the gap was not exercised")
	}
	for _, s := range []uint64{1, 50, 51, 250, 500} {
		if st := deliveryState(t, admin, p.A.ChannelID, s); st != didtypes.DELIVERY_STATE_DELIVERED {
			t.Fatalf("delivery %d on seoul-1: %v", s, st)
		}
	}
	t.Logf("%d items waited behind a gap and were handed back", outOfOrder)
	total := 0
	for _, n := range handBacks {
		total += n
	}
	t.Logf("hand-backs: %d in all, by kind and reason %v", total, handBacks)
}

// consecutive checks that seqs is exactly 1..n in order.
func consecutive(seqs []uint64, n int) error {
	if len(seqs) != n {
		return fmt.Errorf("%d sequences, want %d", len(seqs), n)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			return fmt.Errorf("position %d holds %d (…%v…)", i, s, seqs[max(0, i-3):min(len(seqs), i+3)])
		}
	}
	return nil
}

// waitPast waits until chain c's newest block time is past t.
func waitPast(t *testing.T, e *relayer.End, at time.Time) {
	t.Helper()
	testnet.Eventually(t, time.Minute, fmt.Sprintf("%s past %s", e.ChainID(), at.Format(time.RFC3339)), func() bool {
		lb, err := e.Light.VerifyLatest(context.Background())
		return err == nil && lb.Time.After(at)
	})
}

// bothClosed waits until both ends of p are CLOSED (proven).
func bothClosed(t *testing.T, p *relayer.Path, wait time.Duration) {
	t.Helper()
	testnet.Eventually(t, wait, "both ends of "+p.Name+" CLOSED", func() bool {
		return testnet.ChannelState(t, p.A) == channeltypes.CLOSED && testnet.ChannelState(t, p.B) == channeltypes.CLOSED
	})
}

// TestOrderedTimeoutClosesChannel: on an ORDERED channel a packet times out before anyone relays it,
// and a second one waits behind it. The relayer (started after the timeout, clearing at start) proves
// Bucheon's next_sequence_recv on Seoul (MsgTimeout): Seoul's end closes, as ICS-4 says; the relayer
// confirms the close on Bucheon (it saw channel_close), and the second packet, which has not timed
// out, is timed out on close. Both ends end CLOSED, both commitments are gone, Bucheon received
// nothing, and Seoul's did module recorded both timeouts.
func TestOrderedTimeoutClosesChannel(t *testing.T) {
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul := net.Chain("seoul-1")
	p := testnet.OrderedDIDPath(t, net, "seoul-bucheon-ordered", "seoul-1", "bucheon-1", devnet.RelayerKey)
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	var issuerSeq uint64
	timeout := time.Now().Add(4 * time.Second)
	soon, _ := testnet.SendAttestation(t, seoul, admin, p.A.ChannelID, &issuerSeq, timeout)
	later, _ := testnet.SendAttestation(t, seoul, admin, p.A.ChannelID, &issuerSeq, time.Now().Add(time.Hour))
	waitPast(t, p.B, timeout.Add(time.Second))

	js := testnet.JetStream(t, time.Hour)
	var mu sync.Mutex
	kinds := map[string][]uint64{}
	runPipeline(t, js, p, pipeline.Options{BatchMax: 20, ClearOnStart: true, ClearInterval: 10 * time.Second,
		OnDelivered: func(d pipeline.Delivered) {
			mu.Lock()
			defer mu.Unlock()
			kinds[d.Kind] = append(kinds[d.Kind], d.Sequences...)
		}})
	bothClosed(t, p, 3*time.Minute)
	for _, pk := range []channeltypes.Packet{soon, later} {
		pk := pk
		testnet.Eventually(t, 2*time.Minute, fmt.Sprintf("packet %d TIMED_OUT on seoul-1", pk.Sequence), func() bool {
			return deliveryState(t, admin, p.A.ChannelID, pk.Sequence) == didtypes.DELIVERY_STATE_TIMED_OUT
		})
		if testnet.HasCommitment(t, admin, p.A.PortID, p.A.ChannelID, pk.Sequence) {
			t.Fatalf("the commitment of packet %d is still on seoul-1", pk.Sequence)
		}
	}
	if n := testnet.NextSequenceRecv(t, p.B.Chain.(*cosmos.Client), p.B.PortID, p.B.ChannelID); n != 1 {
		t.Fatalf("bucheon-1 next_sequence_recv %d: a timed-out packet was received", n)
	}
	// The callback follows the commit the state above shows.
	testnet.Eventually(t, 30*time.Second, "two timeouts reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(kinds[packets.KindTimeout]) >= 2
	})
	mu.Lock()
	defer mu.Unlock()
	if len(kinds[packets.KindRecv]) != 0 {
		t.Fatalf("recv delivered %v on a channel whose first packet timed out", kinds[packets.KindRecv])
	}
	if got := kinds[packets.KindTimeout]; len(got) != 2 {
		t.Fatalf("timeouts delivered %v, want packets %d and %d", got, soon.Sequence, later.Sequence)
	}
}

// TestCloseChannelFromEitherSide: a close begun on Seoul by the operator (Linker.CloseChannel, what
// `cityrelay tx close-channel` runs) ends with both ends CLOSED; a close begun on Bucheon by its
// registry admin is confirmed on Seoul by the running relayer (it saw channel_close_init). Only the
// registry admin may begin a close of a did channel (anyone can send MsgChannelCloseInit), and an
// UNORDERED did channel is never closed.
func TestCloseChannelFromEitherSide(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	bucheon := net.Chain("bucheon-1")
	byOperator := testnet.OrderedDIDPath(t, net, "closed-by-operator", "seoul-1", "bucheon-1", devnet.AdminKey)
	byCounterparty := testnet.OrderedDIDPath(t, net, "closed-by-bucheon", "seoul-1", "bucheon-1", devnet.RelayerKey)

	// Not the registry admin: refused, the channel stays open.
	_, err := byCounterparty.A.Chain.Send(ctx, channeltypes.NewMsgChannelCloseInit(byCounterparty.A.PortID, byCounterparty.A.ChannelID, net.Chain("seoul-1").Relayer.Address))
	if err == nil || !strings.Contains(err.Error(), "registry admin") {
		t.Fatalf("close init by the relayer key: %v, want a refusal naming the registry admin", err)
	}
	if st := testnet.ChannelState(t, byCounterparty.A); st != channeltypes.OPEN {
		t.Fatalf("after a refused close init the end is %s", st)
	}

	l := &relayer.Linker{Check: light.VerifyProofAgainstAppHash, Report: func(s relayer.Step) { t.Logf("%s %s %s at %d", s.Chain, s.Action, s.ID, s.Height) }}
	if err := l.CloseChannel(ctx, byOperator, byOperator.A); err != nil {
		t.Fatalf("close channel from seoul-1: %v", err)
	}
	bothClosed(t, byOperator, time.Minute)
	// A rerun finds nothing to do.
	if err := l.CloseChannel(ctx, byOperator, byOperator.A); err != nil {
		t.Fatalf("close again: %v", err)
	}

	js := testnet.JetStream(t, time.Hour)
	runPipeline(t, js, byCounterparty, pipeline.Options{BatchMax: 20})
	time.Sleep(2 * time.Second) // the scanners start above the close
	bucheonAdmin := testnet.ClientWith(t, bucheon, devnet.AdminKey, rpcOnly)
	if _, err := bucheonAdmin.Send(ctx, channeltypes.NewMsgChannelCloseInit(byCounterparty.B.PortID, byCounterparty.B.ChannelID, bucheon.Admin.Address)); err != nil {
		t.Fatalf("close init on bucheon-1 by its registry admin: %v", err)
	}
	bothClosed(t, byCounterparty, 2*time.Minute)

	// An unordered did channel cannot be closed, even by the admin.
	unordered := instance(t, net, devnet.AdminKey, nil)
	unordered.Name = "unordered"
	testnet.LinkPath(t, net, unordered)
	err = l.CloseChannel(ctx, unordered, unordered.A)
	if err == nil || !strings.Contains(err.Error(), "cannot be closed") {
		t.Fatalf("close an unordered did channel: %v, want refused", err)
	}
	if st := testnet.ChannelState(t, unordered.A); st != channeltypes.OPEN {
		t.Fatalf("unordered end %s after a refused close", st)
	}
}

// TestTimeoutOnClose: a packet (timing out in an hour) is pending on Seoul when Bucheon's registry
// admin closes Bucheon's end. The relayer, started then with clearing, confirms the close on Seoul
// and proves on Seoul, with MsgTimeoutOnClose, Bucheon's closed end and next_sequence_recv: the
// commitment is deleted and Seoul's did module records the timeout (its OnTimeoutPacket callback),
// an hour before the packet could time out otherwise.
func TestTimeoutOnClose(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	p := testnet.OrderedDIDPath(t, net, "seoul-bucheon-ordered", "seoul-1", "bucheon-1", devnet.RelayerKey)
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	var issuerSeq uint64
	pending, _ := testnet.SendAttestation(t, seoul, admin, p.A.ChannelID, &issuerSeq, time.Now().Add(time.Hour))
	if deliveryState(t, admin, p.A.ChannelID, pending.Sequence) != didtypes.DELIVERY_STATE_PENDING {
		t.Fatal("the packet is not pending on seoul-1")
	}
	bucheonAdmin := testnet.ClientWith(t, bucheon, devnet.AdminKey, rpcOnly)
	if _, err := bucheonAdmin.Send(ctx, channeltypes.NewMsgChannelCloseInit(p.B.PortID, p.B.ChannelID, bucheon.Admin.Address)); err != nil {
		t.Fatalf("close init on bucheon-1: %v", err)
	}
	js := testnet.JetStream(t, time.Hour)
	var mu sync.Mutex
	var timeouts []pipeline.Delivered
	runPipeline(t, js, p, pipeline.Options{BatchMax: 20, ClearOnStart: true, ClearInterval: 10 * time.Second,
		OnDelivered: func(d pipeline.Delivered) {
			mu.Lock()
			defer mu.Unlock()
			if d.Kind == packets.KindTimeout {
				timeouts = append(timeouts, d)
			}
		}})
	testnet.Eventually(t, 3*time.Minute, "the pending packet timed out on close", func() bool {
		return deliveryState(t, admin, p.A.ChannelID, pending.Sequence) == didtypes.DELIVERY_STATE_TIMED_OUT
	})
	if testnet.HasCommitment(t, admin, p.A.PortID, p.A.ChannelID, pending.Sequence) {
		t.Fatal("the commitment is still on seoul-1")
	}
	bothClosed(t, p, time.Minute)
	testnet.Eventually(t, 30*time.Second, "the timeout reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(timeouts) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if len(timeouts) != 1 || len(timeouts[0].Sequences) != 1 || timeouts[0].Sequences[0] != pending.Sequence {
		t.Fatalf("timeout txs %+v, want one for packet %d", timeouts, pending.Sequence)
	}
	if !hasEvent(timeouts[0].Tx, "timeout_packet") {
		t.Fatalf("the timeout tx %s has no timeout_packet event", timeouts[0].TxHash)
	}
}

func hasEvent(tx *relayer.TxInfo, typ string) bool {
	for _, ev := range tx.Events {
		if ev.Type == typ {
			return true
		}
	}
	return false
}
