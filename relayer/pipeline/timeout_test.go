package pipeline_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// TestTimeoutWhenDestinationIsDown: Bucheon cannot be reached past a packet's timeout (its RPC goes
// down: an in-process CometBFT node cannot be restarted in the same process, so the node keeps
// running behind a switch the test turns off); when it is back, the relayer proves on Seoul that
// Bucheon never received the packet, and Seoul records TIMED_OUT.
func TestTimeoutWhenDestinationIsDown(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	bucheon, seoul := net.Chain("bucheon-1"), net.Chain("seoul-1")
	sw := newSwitch(t, bucheon.RPCAddr)
	defer sw.Close()
	p := instanceVia(t, net, devnet.RelayerKey, map[string]string{"bucheon-1": sw.URL})
	testnet.LinkPath(t, net, p)
	js := testnet.JetStream(t, time.Hour)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
			BatchMax: 10, BatchWait: 200 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)})
	}()
	defer func() { cancel(); <-done }()

	sw.down.Store(true)
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	now := time.Now()
	digest := bytes.Repeat([]byte{0x77}, 32)
	sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, "key-1", seoul.Citizen.DID, "certificate", digest, now.Unix()-5, now.Unix()+3600, 1)
	sig, _ := seoul.Issuer.Sign(sb)
	res, err := admin.Send(ctx, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: "key-1",
		SubjectDid: seoul.Citizen.DID, CredentialType: "certificate", Digest: digest, ValidFrom: now.Unix() - 5, ValidUntil: now.Unix() + 3600,
		IssuerSeq: 1, Signature: sig},
		&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: didtypes.AttestationID(sb),
			TimeoutTimestamp: uint64(now.Add(3 * time.Second).UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	pks, err := relayer.SendPackets(res.Events)
	if err != nil || len(pks) != 1 {
		t.Fatalf("send_packet events: %d packets, %v", len(pks), err)
	}
	time.Sleep(5 * time.Second) // past the timeout, with Bucheon unreachable
	sw.down.Store(false)

	deadline := time.Now().Add(90 * time.Second)
	for {
		var resp didtypes.QueryDeliveryResponse
		err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: p.A.ChannelID, Sequence: pks[0].Sequence}, &resp, 0)
		if err == nil && resp.Delivery.State == didtypes.DELIVERY_STATE_TIMED_OUT {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery state %v, want TIMED_OUT (err %v)", resp.Delivery.State, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The attestation never reached Bucheon.
	var f didtypes.QueryForeignAttestationResponse
	if err := p.B.Chain.(*cosmos.Client).QueryGRPC(ctx, "/cityrelay.did.v1.Query/ForeignAttestation",
		&didtypes.QueryForeignAttestationRequest{OriginChainId: "seoul-1", Id: didtypes.AttestationID(sb)}, &f, 0); err == nil {
		t.Fatal("a timed-out attestation was received")
	}
	_ = sdk.Msg(nil)
}

// rpcSwitch forwards to a node's RPC, or answers 503 while down.
type rpcSwitch struct {
	*httptest.Server
	down atomic.Bool
}

func newSwitch(t *testing.T, target string) *rpcSwitch {
	u, _ := url.Parse(target)
	s := &rpcSwitch{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "node down", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	return s
}
