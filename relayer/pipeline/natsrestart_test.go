package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// TestNATSRestart stops the NATS server in the middle of the traffic and starts it again on the same
// store: the relayer reconnects and every packet is delivered.
func TestNATSRestart(t *testing.T) {
	ctx := context.Background()
	dn := testnet.Chains(t, "seoul-1", "bucheon-1")
	p := instance(t, dn, devnet.RelayerKey, nil)
	testnet.LinkPath(t, dn, p)
	store := t.TempDir()
	ln, _ := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	srv, err := packets.StartEmbedded(store, addr)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := srv.Connect(nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js := testnet.JetStreamOn(t, nc, time.Hour)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
			BatchMax: 20, BatchWait: 200 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	}()
	defer func() { cancel(); <-done }()

	seoul := dn.Chain("seoul-1")
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	seq := uint64(0)
	var sent []uint64
	send := func(n int) {
		now := time.Now().Unix()
		var msgs []sdk.Msg
		for range n {
			seq++
			digest := bytes.Repeat([]byte{byte(seq), 0x42}, 16)
			sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, "key-1", seoul.Citizen.DID, "certificate", digest, now-5, now+3600, seq)
			sig, _ := seoul.Issuer.Sign(sb)
			msgs = append(msgs, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: "key-1",
				SubjectDid: seoul.Citizen.DID, CredentialType: "certificate", Digest: digest, ValidFrom: now - 5, ValidUntil: now + 3600, IssuerSeq: seq, Signature: sig},
				&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: didtypes.AttestationID(sb)})
		}
		res, err := admin.Send(ctx, msgs...)
		if err != nil {
			t.Fatal(err)
		}
		pks, err := relayer.SendPackets(res.Events)
		if err != nil || len(pks) != n {
			t.Fatalf("send_packet events: %d of %d, %v", len(pks), n, err)
		}
		for _, pk := range pks {
			sent = append(sent, pk.Sequence)
		}
	}
	send(30)
	time.Sleep(300 * time.Millisecond)
	if n := pendingCommitments(t, admin, p.A.ChannelID); n == 0 {
		t.Fatal("nothing in flight when NATS stops: the test would prove nothing")
	} else {
		t.Logf("%d packets unacknowledged when NATS stops", n)
	}
	srv.Stop() // NATS goes away mid-run
	send(30)
	time.Sleep(2 * time.Second)
	srv, err = packets.StartEmbedded(store, addr)
	if err != nil {
		t.Fatalf("restart nats: %v", err)
	}
	defer srv.Stop()

	deadline := time.Now().Add(2 * time.Minute)
	for _, s := range sent {
		for {
			var resp didtypes.QueryDeliveryResponse
			err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: p.A.ChannelID, Sequence: s}, &resp, 0)
			if err == nil && resp.Delivery.State == didtypes.DELIVERY_STATE_DELIVERED {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d not delivered after the NATS restart: %v %v", s, resp.Delivery.State, fmt.Sprint(err))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
