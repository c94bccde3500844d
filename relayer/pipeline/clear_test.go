package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/classify"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// TestClearsPendingAtStart: packets sent before the relayer ever ran (no scanner saw them) are found
// by query at start and delivered, in chunks.
func TestClearsPendingAtStart(t *testing.T) {
	ctx := context.Background()
	dn := testnet.Chains(t, "seoul-1", "bucheon-1")
	p := instance(t, dn, devnet.RelayerKey, nil)
	testnet.LinkPath(t, dn, p)
	seoul := dn.Chain("seoul-1")
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	now := time.Now().Unix()
	var msgs []sdk.Msg
	for seq := uint64(1); seq <= 12; seq++ {
		digest := bytes.Repeat([]byte{byte(seq), 0x11}, 16)
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
	if err != nil || len(pks) != 12 {
		t.Fatalf("send_packet events: %d packets, %v", len(pks), err)
	}
	if err := seoul.WaitHeight(ctx, res.Height+3); err != nil {
		t.Fatal(err)
	}

	js := testnet.JetStream(t, time.Hour)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
			BatchMax: 10, BatchWait: 200 * time.Millisecond, ClearOnStart: true, ClearChunk: 5, Classify: classify.Describe,
			Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	}()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(90 * time.Second)
	for _, pk := range pks {
		for {
			var resp didtypes.QueryDeliveryResponse
			err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: p.A.ChannelID, Sequence: pk.Sequence}, &resp, 0)
			if err == nil && resp.Delivery.State == didtypes.DELIVERY_STATE_DELIVERED {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pending packet %d not cleared: %v %v", pk.Sequence, resp.Delivery.State, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Each cleared packet can be found by its attestation id: its entry in the packet bucket, written
	// by the clearing pass (the scanners started above these packets), with the send's block.
	kv, err := js.KeyValue(ctx, packets.PacketBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, pk := range pks {
		_, id := classify.Describe(pk.SourcePort, pk.Data)
		key := packets.AttestedKey(id, fmt.Sprintf("seoul-1/%s/%s/%d", pk.SourcePort, pk.SourceChannel, pk.Sequence))
		var a packets.Attested
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			e, err := kv.Get(ctx, key)
			if err == nil && json.Unmarshal(e.Value(), &a) == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no attestation entry %s for cleared packet %d: %v", key, pk.Sequence, err)
			}
		}
		if a.ID != id || a.Sequence != pk.Sequence || a.Dest != "bucheon-1" || a.Class != "attestation" || a.Height != res.Height {
			t.Errorf("cleared packet %d's entry: %+v", pk.Sequence, a)
		}
		// The clearing pass published the work a scanner publishes for the send's event (same block,
		// same content): one de-duplication id, whoever finds the packet first.
		w := &packets.Work{Kind: packets.KindRecv, Path: "any", From: "seoul-1", To: "bucheon-1", Height: res.Height, Packet: packets.Packet{
			Sequence: pk.Sequence, SourcePort: pk.SourcePort, SourceChannel: pk.SourceChannel, DestPort: pk.DestinationPort, DestChannel: pk.DestinationChannel,
			Data: pk.Data, TimeoutRevision: pk.TimeoutHeight.RevisionNumber, TimeoutHeight: pk.TimeoutHeight.RevisionHeight, TimeoutTimestamp: pk.TimeoutTimestamp}}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			var l packets.Lifecycle
			e, err := kv.Get(ctx, packets.LifecycleKey(w.MsgID()))
			if err == nil && json.Unmarshal(e.Value(), &l) == nil && l.State == "confirmed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cleared packet %d: no confirmed record under the scanner's id %s (%+v, %v)", pk.Sequence, w.MsgID(), l, err)
			}
		}
	}
}
