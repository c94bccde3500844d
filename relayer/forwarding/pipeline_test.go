package forwarding_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/classify"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// TestPipelineRelaysThroughTheHub: the relayer's pipelines (scanners at verified heights, JetStream
// work queue, submitters), serving the two paths of the star, carry an attestation from seoul-1 through
// wego-1 to bucheon-1 and the hub's asynchronous acknowledgement back to seoul-1, with nothing but the
// send on seoul-1 done by the test.
func TestPipelineRelaysThroughTheHub(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	toHub, fromHub := star(t)
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	seoulAdmin, bucheonAdmin := testnet.Client(t, seoul, devnet.AdminKey), testnet.Client(t, bucheon, devnet.AdminKey)
	mustSend(t, bucheonAdmin, &didtypes.MsgRegisterHub{Admin: bucheon.Admin.Address, ChainId: "wego-1"})

	js := testnet.JetStream(t, time.Hour)
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{toHub, fromHub}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
			BatchMax: 20, BatchWait: 300 * time.Millisecond, Classify: classify.Describe,
			Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("pipeline: %v", err)
		}
	}()

	id := issue(t, seoulAdmin, seoul)
	start := time.Now()
	sent := mustSend(t, seoulAdmin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: toHub.A.ChannelID, AttestationId: id,
		DestinationChainId: "bucheon-1", ViaChainId: "wego-1"})
	packets, err := relayer.SendPackets(sent.Events)
	if err != nil || len(packets) != 1 {
		t.Fatalf("send_packet: %v %v", packets, err)
	}
	var d didtypes.Delivery
	for {
		d = delivery(t, seoulAdmin, toHub.A.ChannelID, packets[0].Sequence)
		if d.State != didtypes.DELIVERY_STATE_PENDING {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("seoul-1's delivery still pending after %s: %+v", time.Since(start).Round(time.Second), d)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if d.State != didtypes.DELIVERY_STATE_DELIVERED {
		t.Fatalf("seoul-1's delivery through the hub, by the pipeline: %+v", d)
	}
	t.Logf("seoul-1 → wego-1 → bucheon-1 and the acknowledgement back, by the pipeline: %s", time.Since(start).Round(time.Millisecond))
	f, err := foreign(bucheonAdmin, "seoul-1", id)
	if err != nil || f.Route == nil || f.Route.HubChainId != "wego-1" || f.SourceChannel != fromHub.B.ChannelID {
		t.Fatalf("bucheon-1's record: %+v %v", f, err)
	}
}
