package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
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

// attestations issues and sends n attestations from Seoul on channel (devnet.SendAttestations).
func attestations(t *testing.T, seoul *devnet.Chain, admin *cosmos.Client, channel string, seq *uint64, n int) ([]uint64, int64) {
	t.Helper()
	seqs, h, err := seoul.SendAttestations(context.Background(), admin, channel, seq, n)
	if err != nil {
		t.Fatal(err)
	}
	return seqs, h
}

// TestPoisonIsIsolated publishes bad work straight into the work stream while 500 honest packets flow:
// undecodable bytes, a forged packet no chain committed, an inflated height, and an acknowledgement
// whose packet was altered (its proof holds, the chain refuses it). Each is dead-lettered with its own
// reason (a chain's refusal once it has been delivered at least the delivery limit times: a transient
// failure of its batch adds a delivery); every honest packet arrives and is acknowledged, and no
// honest item is dead-lettered.
func TestPoisonIsIsolated(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	p := instance(t, net, devnet.RelayerKey, nil)
	testnet.LinkPath(t, net, p)
	seoul := net.Chain("seoul-1")
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}

	// A packet received by hand before the pipeline runs: its acknowledgement is written on bucheon-1
	// and never relayed, so an altered copy of it stays refused by seoul-1 on every try.
	var issuerSeq uint64
	first, sentAt := attestations(t, seoul, admin, p.A.ChannelID, &issuerSeq, 1)
	if err := seoul.WaitHeight(ctx, sentAt+1); err != nil {
		t.Fatal(err)
	}
	pks, _, err := relayer.SentPackets(ctx, p.A, first)
	if err != nil || len(pks) != 1 {
		t.Fatalf("packet %v: %v", first, err)
	}
	recvTx, _, err := r.RecvPackets(ctx, p.A, p.B, pks, sentAt)
	if err != nil || recvTx == nil {
		t.Fatalf("recv by hand: %v", err)
	}
	acks, err := relayer.WrittenAcks(recvTx.Events)
	if err != nil || len(acks) != 1 {
		t.Fatalf("acks: %v %v", acks, err)
	}
	// Scanners start just below the latest verified header: let the ack's block fall behind it.
	if err := net.Chain("bucheon-1").WaitHeight(ctx, recvTx.Height+3); err != nil {
		t.Fatal(err)
	}

	js := testnet.JetStream(t, time.Hour)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: r, BatchMax: 50, BatchWait: 300 * time.Millisecond,
			MaxDeliver: 3, RetryBase: 300 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)})
	}()
	defer func() { cancel(); <-done }()

	lb, err := p.A.Light.VerifyLatest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	forged := func(seq uint64, height int64) *packets.Work {
		return &packets.Work{Kind: packets.KindRecv, Path: p.Name, From: "seoul-1", To: "bucheon-1", Height: height, Class: "other",
			Packet: packets.Packet{Sequence: seq, SourcePort: "did", SourceChannel: p.A.ChannelID, DestPort: "did", DestChannel: p.B.ChannelID,
				Data: []byte("forged"), TimeoutTimestamp: uint64(time.Now().Add(time.Hour).UnixNano())}}
	}
	altered := &packets.Work{Kind: packets.KindAck, Path: p.Name, From: "bucheon-1", To: "seoul-1", Height: recvTx.Height, Class: "attestation",
		Packet: packets.Packet{Sequence: acks[0].Packet.Sequence, SourcePort: "did", SourceChannel: p.A.ChannelID, DestPort: "did",
			DestChannel: p.B.ChannelID, Data: acks[0].Packet.Data, TimeoutTimestamp: acks[0].Packet.TimeoutTimestamp + 1}, Ack: acks[0].Ack}
	poison := map[string]struct {
		subject string
		data    []byte
		reason  string
	}{
		"garbage":   {packets.WorkSubject("bucheon-1", packets.EndToken("did", p.B.ChannelID), "recv"), []byte("\x00not a work item"), "bad work item"},
		"forged":    {"", nil, "never sent"},
		"inflated":  {"", nil, "height beyond the verified latest"},
		"altered":   {"", nil, "acknowledge packet verification failed"},
		"misrouted": {"", nil, "no path here links these ends"},
	}
	misrouted := forged(900_003, lb.Height-1)
	misrouted.From = "wego-1" // bucheon-1's end, but another chain than its counterparty
	for name, w := range map[string]*packets.Work{"forged": forged(900_001, lb.Height-1), "inflated": forged(900_002, 1<<40), "altered": altered,
		"misrouted": misrouted} {
		bz, err := w.Encode()
		if err != nil {
			t.Fatal(err)
		}
		e := poison[name]
		e.subject, e.data = w.Subject(), bz
		poison[name] = e
	}
	honest, _ := attestations(t, seoul, admin, p.A.ChannelID, &issuerSeq, 250)
	for name, e := range poison {
		if _, err := js.Publish(ctx, e.subject, e.data, jetstream.WithMsgID("poison-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	more, _ := attestations(t, seoul, admin, p.A.ChannelID, &issuerSeq, 250)
	honest = append(honest, more...)

	// Every honest packet is received and acknowledged: nothing is left pending but the packet whose
	// acknowledgement was never relayed.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		recv, pendingAcks, err := relayer.Unrelayed(ctx, p.A, p.B)
		if err == nil && len(recv) == 0 && len(pendingAcks) == 1 && pendingAcks[0] == first[0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("honest work not delivered: %d packets and %d acknowledgements pending %v (want only %d) (%v)", len(recv), len(pendingAcks), pendingAcks, first[0], err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, s := range honest {
		var resp didtypes.QueryDeliveryResponse
		if err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: p.A.ChannelID, Sequence: s}, &resp, 0); err != nil ||
			resp.Delivery.State != didtypes.DELIVERY_STATE_DELIVERED {
			t.Fatalf("packet %d: %v %v", s, resp.Delivery.State, err)
		}
	}

	// Each poison item is dead-lettered once, with its reason; nothing honest is.
	dead := deadLetters(t, js, len(poison), time.Minute)
	for name, e := range poison {
		n := 0
		for _, d := range dead {
			if bytes.Equal(d.Data, e.data) {
				n++
				reason := d.Header.Get("Cityrelay-Reason")
				if !strings.Contains(reason, e.reason) {
					t.Errorf("%s dead-lettered with %q, want it to say %q", name, reason, e.reason)
				}
				// The chain's refusal is deterministic: dead after MaxDeliver deliveries. A delivery of
				// its batch that failed for a transient reason (the ack batch's client update racing
				// another tx: "no consensus state at") is retried without counting, so it may be
				// more, never fewer.
				if name == "altered" {
					n := -1
					if m := failedTimes.FindStringSubmatch(reason); m != nil {
						n, _ = strconv.Atoi(m[1])
					}
					if n < 3 {
						t.Errorf("altered dead-lettered with %q, want it to say it failed at least 3 times (MaxDeliver)", reason)
					}
				}
			}
		}
		if n != 1 {
			t.Errorf("%s dead-lettered %d times, want once", name, n)
		}
	}
	if len(dead) != len(poison) {
		t.Errorf("%d dead letters for %d poison items", len(dead), len(poison))
	}

	// Dead letters are listed with their reasons; a work item among them can be re-queued (the forged
	// packet comes back dead with the same reason), bytes that are no work item cannot.
	listed, err := packets.DeadLetters(ctx, js, 0)
	if err != nil || len(listed) != len(poison) {
		t.Fatalf("dead letters: %d, %v", len(listed), err)
	}
	for _, d := range listed {
		switch {
		case d.Work == nil:
			if _, err := packets.Requeue(ctx, js, d.Seq); !errors.Is(err, packets.ErrNotRequeueable) {
				t.Errorf("re-queue of undecodable bytes: %v", err)
			}
		case d.Work.Packet.Sequence == 900_001:
			if _, err := packets.Requeue(ctx, js, d.Seq); err != nil {
				t.Fatalf("re-queue: %v", err)
			}
		}
	}
	again := deadLetters(t, js, len(poison), time.Minute) // the re-queued letter was removed; its new one makes the count again
	var back int
	for _, d := range again {
		if w, err := packets.Decode(d.Data); err == nil && w.Packet.Sequence == 900_001 && strings.Contains(d.Header.Get(packets.ReasonHeader), "never sent") {
			back++
		}
	}
	if back != 1 {
		t.Errorf("the re-queued forged packet is dead %d times after its retry, want once (the first letter removed, a new one added)", back)
	}
}

// failedTimes finds how many deliveries a deterministic failure took in a dead letter's reason.
var failedTimes = regexp.MustCompile(`failed (\d+) times`)

// deadLetters reads the dead-letter stream until it holds want messages (or the time runs out), then
// a little longer to catch any extra one.
func deadLetters(t *testing.T, js jetstream.JetStream, want int, within time.Duration) []*nats.Msg {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	for {
		s, err := js.Stream(ctx, packets.DeadStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if int(info.State.Msgs) >= want || time.Now().After(deadline) {
			time.Sleep(time.Second)
			var out []*nats.Msg
			info, _ = s.Info(ctx)
			for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
				m, err := s.GetMsg(ctx, seq)
				if err != nil {
					continue
				}
				out = append(out, &nats.Msg{Subject: m.Subject, Data: m.Data, Header: m.Header})
			}
			return out
		}
		time.Sleep(300 * time.Millisecond)
	}
}
