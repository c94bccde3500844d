package forwarding_test

import (
	"context"
	"strings"
	"testing"
	"time"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// TestSecondHopTimeoutReachesTheOrigin: the hub forwards, nobody relays the second hop before its
// timeout (the first hop's), the relayer proves on the hub that bucheon-1 never received it, and the
// hub's asynchronous acknowledgement tells seoul-1 the packet timed out on the way to bucheon-1 via
// wego-1.
func TestSecondHopTimeoutReachesTheOrigin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	toHub, fromHub := star(t)
	r := &relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	seoulAdmin := testnet.Client(t, seoul, devnet.AdminKey)
	mustSend(t, testnet.Client(t, bucheon, devnet.AdminKey), &didtypes.MsgRegisterHub{Admin: bucheon.Admin.Address, ChainId: "wego-1"})

	id := issue(t, seoulAdmin, seoul)
	deadline := time.Now().Add(8 * time.Second)
	sent := mustSend(t, seoulAdmin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: toHub.A.ChannelID, AttestationId: id,
		DestinationChainId: "bucheon-1", ViaChainId: "wego-1", TimeoutTimestamp: uint64(deadline.UnixNano())})
	first, err := relayer.SendPackets(sent.Events)
	if err != nil || len(first) != 1 {
		t.Fatalf("send_packet: %v %v", first, err)
	}
	hop1, _, err := r.RecvPackets(ctx, toHub.A, toHub.B, first, sent.Height)
	if err != nil {
		t.Fatalf("recv on wego-1: %v", err)
	}
	forwarded, err := relayer.SendPackets(hop1.Events)
	if err != nil || len(forwarded) != 1 || forwarded[0].TimeoutTimestamp != first[0].TimeoutTimestamp {
		t.Fatalf("the hub's forward: %+v %v (the second hop ends when the first would)", forwarded, err)
	}

	// Past the timeout on bucheon-1 (its block time): prove the receipt's absence there, on the hub.
	bcl := testnet.Client(t, bucheon, devnet.RelayerKey)
	var past int64
	for past == 0 {
		st, err := bcl.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.SyncInfo.LatestBlockTime.After(deadline) {
			past = st.SyncInfo.LatestBlockHeight
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("bucheon-1 never passed the timeout")
		case <-time.After(300 * time.Millisecond):
		}
	}
	back, seqs, err := r.TimeoutPackets(ctx, fromHub.A, fromHub.B, forwarded, past)
	if err != nil || len(seqs) != 1 {
		t.Fatalf("timeout on wego-1: %v (seqs %v)", err, seqs)
	}
	acks, err := relayer.WrittenAcks(back.Events)
	if err != nil || len(acks) != 1 || acks[0].Packet.Sequence != first[0].Sequence {
		t.Fatalf("the hub's acknowledgement of the first hop: %+v %v", acks, err)
	}
	if _, _, err := r.AckPackets(ctx, toHub.B, toHub.A, acks, back.Height); err != nil {
		t.Fatalf("ack on seoul-1: %v", err)
	}
	d := delivery(t, seoulAdmin, toHub.A.ChannelID, first[0].Sequence)
	if d.State != didtypes.DELIVERY_STATE_REJECTED || !strings.Contains(d.Error, "timed out on the way to bucheon-1 via wego-1") {
		t.Fatalf("seoul-1's delivery after the second hop timed out: %+v", d)
	}
	t.Logf("seoul-1's delivery: %s", d.Error)
	if _, err := foreign(bcl, "seoul-1", id); err == nil {
		t.Fatal("bucheon-1 holds a packet that timed out")
	}
}
