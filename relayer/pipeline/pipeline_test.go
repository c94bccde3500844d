package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
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
	"github.com/cityrelay/cityrelay/relayer/classify"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// rpcOnly is a client reaching its chain over the RPC only (no gRPC).
var rpcOnly = devnet.ClientOptions{NoGRPC: true}

// instance is one relayer process's view of the path: its own key, clients and light clients.
func instance(t *testing.T, net *devnet.Devnet, key string, linked *relayer.Path) *relayer.Path {
	t.Helper()
	return instanceVia(t, net, key, nil, linked)
}

// instanceVia is instance with some chains reached through other RPC addresses (proxies).
func instanceVia(t *testing.T, net *devnet.Devnet, key string, via map[string]string, linked ...*relayer.Path) *relayer.Path {
	t.Helper()
	var l *relayer.Path
	if len(linked) > 0 {
		l = linked[0]
	}
	return pathOf(t, net, key, "seoul-bucheon", "seoul-1", "bucheon-1", via, l)
}

// pathOf is one relayer process's view of the did path name between chains a and b (ids from linked).
func pathOf(t *testing.T, net *devnet.Devnet, key, name, chainA, chainB string, via map[string]string, linked *relayer.Path) *relayer.Path {
	t.Helper()
	end := func(c *devnet.Chain, ids *relayer.End) *relayer.End {
		rpc := c.RPCAddr
		if v, ok := via[c.ChainID]; ok {
			rpc = v
		}
		clientRPC := ""
		if rpc != c.RPCAddr {
			clientRPC = rpc
		}
		lc := testnet.Light(t, c.ChainID, rpc, func(o *light.Options) { o.TrustingPeriod, o.Logger = time.Hour, zerolog.Nop() })
		e := &relayer.End{Chain: testnet.ClientWith(t, c, key, devnet.ClientOptions{RPC: clientRPC, NoGRPC: true}), Light: lc, PortID: didtypes.PortID}
		if ids != nil {
			e.ClientID, e.ConnectionID, e.ChannelID = ids.ClientID, ids.ConnectionID, ids.ChannelID
		}
		return e
	}
	var a, b *relayer.End
	if linked != nil {
		a, b = linked.A, linked.B
	}
	return &relayer.Path{Name: name, A: end(net.Chain(chainA), a), B: end(net.Chain(chainB), b),
		Version: didtypes.Version, Order: channeltypes.UNORDERED}
}

// capGas gives a path's ends clients whose txs may use at most maxGas (as max_gas does).
func capGas(t *testing.T, net *devnet.Devnet, key string, p *relayer.Path, maxGas uint64) {
	t.Helper()
	for _, e := range []*relayer.End{p.A, p.B} {
		e.Chain = testnet.ClientWith(t, net.Chain(e.ChainID()), key, devnet.ClientOptions{NoGRPC: true, MaxGas: maxGas})
	}
}

// TestTwoRelayersShareTheWork runs two pipeline instances on one embedded NATS: every packet is
// delivered and acknowledged, none is submitted by both; then one instance stops and the other
// finishes the rest.
func TestTwoRelayersShareTheWork(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	p1 := instance(t, net, devnet.RelayerKey, nil)
	testnet.LinkPath(t, net, p1)
	p2 := instance(t, net, devnet.Relayer2Key, p1)
	// r1 may spend at most 700,000 gas per tx: its batches of 20 recv messages (~1.4M gas) do not fit
	// one tx and are split (ErrTxTooLarge before anything is broadcast).
	capGas(t, net, devnet.RelayerKey, p1, 700_000)

	js := testnet.JetStream(t, time.Hour)

	var mu sync.Mutex
	submitted := map[string]map[uint64]string{} // "recv"/"ack" -> seq -> instance
	biggestRecv := map[string]int{}             // instance -> most recv messages in one tx
	twice := []string{}
	var latencies []time.Duration
	txs := map[string]map[uint64]pipeline.Delivered{} // "recv"/"ack" -> seq -> its tx
	record := func(name string) func(pipeline.Delivered) {
		return func(d pipeline.Delivered) {
			mu.Lock()
			defer mu.Unlock()
			if submitted[d.Kind] == nil {
				submitted[d.Kind], txs[d.Kind] = map[uint64]string{}, map[uint64]pipeline.Delivered{}
			}
			for _, s := range d.Sequences {
				if prev, ok := submitted[d.Kind][s]; ok {
					twice = append(twice, fmt.Sprintf("%s %d by %s and %s", d.Kind, s, prev, name))
				}
				submitted[d.Kind][s] = name
				txs[d.Kind][s] = d
			}
			if d.Kind == packets.KindRecv {
				latencies = append(latencies, d.Latency)
				biggestRecv[name] = max(biggestRecv[name], len(d.Sequences))
			}
		}
	}
	run := func(name string, p *relayer.Path) (context.CancelFunc, chan error) {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
				BatchMax: 20, BatchWait: 300 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Str("instance", name).Logger(),
				OnDelivered: record(name), Classify: classify.Describe})
		}()
		return cancel, done
	}
	stop1, done1 := run("r1", p1)
	stop2, done2 := run("r2", p2)

	seoul := net.Chain("seoul-1")
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	issuerSeq := uint64(0)
	sends := map[uint64]sentAttestation{} // by sequence
	sendBatch := func(n int) []uint64 {
		t.Helper()
		now := time.Now().Unix()
		var msgs []sdk.Msg
		var ids []string
		for i := 0; i < n; i++ {
			issuerSeq++
			digest := bytes.Repeat([]byte{byte(issuerSeq)}, 32)
			sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, "key-1", seoul.Citizen.DID, "certificate", digest, now-5, now+3600, issuerSeq)
			sig, _ := seoul.Issuer.Sign(sb)
			ids = append(ids, didtypes.AttestationID(sb))
			msgs = append(msgs, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: "key-1",
				SubjectDid: seoul.Citizen.DID, CredentialType: "certificate", Digest: digest, ValidFrom: now - 5, ValidUntil: now + 3600,
				IssuerSeq: issuerSeq, Signature: sig},
				&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p1.A.ChannelID, AttestationId: didtypes.AttestationID(sb)})
		}
		res, err := admin.Send(ctx, msgs...)
		if err != nil {
			t.Fatalf("send %d attestations: %v", n, err)
		}
		pks, _ := relayer.SendPackets(res.Events)
		if len(pks) != n {
			t.Fatalf("%d attestations sent in %d packets", n, len(pks))
		}
		var seqs []uint64
		for i, p := range pks { // one packet per MsgSendAttestation, in the order of the messages
			seqs = append(seqs, p.Sequence)
			sends[p.Sequence] = sentAttestation{id: ids[i], height: res.Height}
		}
		return seqs
	}
	waitDelivered := func(seqs []uint64) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for _, s := range seqs {
			for {
				var resp didtypes.QueryDeliveryResponse
				err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: p1.A.ChannelID, Sequence: s}, &resp, 0)
				if err == nil && resp.Delivery.State == didtypes.DELIVERY_STATE_DELIVERED {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("packet %d not delivered and acknowledged in time (state %v, err %v)", s, resp.Delivery.State, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}

	first := sendBatch(30)
	first = append(first, sendBatch(30)...)
	waitDelivered(first)

	// One relayer stops; the other finishes what comes next.
	stop2()
	if err := <-done2; err != nil {
		t.Fatalf("instance 2 stopped with %v", err)
	}
	second := sendBatch(20)
	waitDelivered(second)
	stop1()
	if err := <-done1; err != nil {
		t.Fatalf("instance 1 stopped with %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(twice) > 0 {
		t.Fatalf("submitted by both instances: %v", twice)
	}
	for _, s := range append(first, second...) {
		if _, ok := submitted[packets.KindRecv][s]; !ok {
			t.Errorf("recv of %d delivered by no instance the test saw", s)
		}
	}
	by := map[string]int{}
	for _, who := range submitted[packets.KindRecv] {
		by[who]++
	}
	t.Logf("recv deliveries by instance: %v; acks: %d; recv latencies (observe -> commit) of %d txs, e.g. %v", by, len(submitted[packets.KindAck]), len(latencies), latencies[:min(5, len(latencies))])
	if n := biggestRecv["r1"]; n == 0 || n > 11 {
		t.Errorf("r1's biggest recv tx carried %d messages; with 700,000 gas per tx it must split its batches of 20", n)
	}
	for _, s := range second {
		if submitted[packets.KindRecv][s] != "r1" {
			t.Errorf("after r2 stopped, %d was delivered by %s", s, submitted[packets.KindRecv][s])
		}
	}
	checkPacketBucket(t, js, p1, append(first, second...), sends, txs)
}

// sentAttestation is an attestation a test sent: its id and the block that holds the send.
type sentAttestation struct {
	id     string
	height int64
}

// checkPacketBucket checks what the instances recorded in the packet bucket for each attestation
// packet seq that p.A (seoul-1) sent and they relayed: its recv and its ack confirmed by the tx that
// delivered it (hash, height and chain), and an entry under its attestation id naming the packet and
// its send. The records are written asynchronously: they are waited for up to 10 seconds.
func checkPacketBucket(t *testing.T, js jetstream.JetStream, p *relayer.Path, seqs []uint64, sends map[uint64]sentAttestation,
	txs map[string]map[uint64]pipeline.Delivered) {
	t.Helper()
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, packets.PacketBucket)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second) // for all of them
	get := func(key string, v any) error {
		for {
			e, err := kv.Get(ctx, key)
			if err == nil {
				return json.Unmarshal(e.Value(), v)
			}
			if time.Now().After(deadline) {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	src, dst, ch := p.A.ChainID(), p.B.ChainID(), p.A.ChannelID
	for _, seq := range seqs {
		packet := fmt.Sprintf("%s/%s/%s/%d", src, didtypes.PortID, ch, seq)
		// Both instances scanned Seoul and Bucheon and published each event: one work item (one
		// de-duplication id, one record) per packet and kind.
		var all map[string][]packets.Lifecycle
		for {
			all, err = packets.Lifecycles(ctx, kv, packet)
			if err == nil && len(all[packets.KindRecv]) > 0 && all[packets.KindRecv][0].State == "confirmed" &&
				len(all[packets.KindAck]) > 0 && all[packets.KindAck][0].State == "confirmed" || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("lifecycle of %s: %v", packet, err)
			continue
		}
		for kind, chain := range map[string]string{packets.KindRecv: dst, packets.KindAck: src} {
			if len(all[kind]) != 1 {
				t.Errorf("%s lifecycle of %s: %d work items recorded, want one: %+v", kind, packet, len(all[kind]), all[kind])
				continue
			}
			l := all[kind][0]
			d := txs[kind][seq]
			if l.State != "confirmed" || l.Tx != d.TxHash || l.Height != d.Height || l.Height <= 0 || l.Chain != chain || d.To != chain {
				t.Errorf("%s lifecycle of %s: %+v; want confirmed by tx %s at height %d on %s", kind, packet, l, d.TxHash, d.Height, chain)
			}
		}
		sent := sends[seq]
		var a packets.Attested
		if err := get(packets.AttestedKey(sent.id, packet), &a); err != nil {
			t.Errorf("attestation %s of %s: %v", sent.id, packet, err)
			continue
		}
		want := packets.Attested{ID: sent.id, Chain: src, Port: didtypes.PortID, Channel: ch, Sequence: seq, Dest: dst, Path: p.Name,
			Class: classify.ClassAttestation, Height: sent.height, AtUnix: a.AtUnix}
		if a != want || a.AtUnix <= 0 {
			t.Errorf("attestation entry of %s: %+v, want %+v", packet, a, want)
		}
	}
}

// pendingCommitments counts the packets c sent on channel that are not acknowledged yet (their
// commitments are still on c): work in flight.
func pendingCommitments(t *testing.T, cl *cosmos.Client, channel string) int {
	t.Helper()
	var resp channeltypes.QueryPacketCommitmentsResponse
	if err := cl.QueryGRPC(context.Background(), "/ibc.core.channel.v1.Query/PacketCommitments",
		&channeltypes.QueryPacketCommitmentsRequest{PortId: didtypes.PortID, ChannelId: channel, Pagination: &query.PageRequest{Limit: 1000}}, &resp, 0); err != nil {
		t.Fatal(err)
	}
	return len(resp.Commitments)
}
