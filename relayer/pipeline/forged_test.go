package pipeline_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// Predicted forgeries: the attacker guesses the block the real revocation will be sent in (its data
// holds that height) within a window of predictWindow heights, starting predictLead blocks after the
// block it forges them in.
const (
	predictLead   = 20
	predictWindow = 120
)

// TestForgedSendCannotEraseTheRealPacket: Seoul's RPC node keeps no tx index (the relayer reads block
// events from block_results) and lies in them. Into an empty block it injects send_packet events for
// the NEXT sequence of the did channel: a forged reinstatement of an attestation, the revocation
// that is about to be sent, predicted byte for byte (explicit timeout, and one copy per block height
// the revocation may be sent in, so one of them carries exactly the real packet's content), and one
// addressed to a channel end the did channel does not lead to. Into the block that really sends the
// revocation it injects, before the real event, a forged reinstatement with the same sequence. None
// of them was committed by Seoul: each is dead-lettered with a reason saying so (the misaddressed one
// is skipped by the scanner and counted); and the real revocation, sent after the forgeries were
// dead-lettered, is received on Bucheon (its packet receipt and the revoked status queried on
// Bucheon) and acknowledged on Seoul. With the work de-duplication id
// <chain>/<port>/<channel>/<seq>/<kind>, the first forgery took the real revocation's id, and
// JetStream dropped the revocation as a duplicate; with the content alone in the id, the predicted
// forgery did; with the height alone, the same-block forgery did.
func TestForgedSendCannotEraseTheRealPacket(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	liar := newForger(t, seoul.RPCAddr)
	defer liar.Close()
	p := instanceVia(t, net, devnet.RelayerKey, map[string]string{"seoul-1": liar.URL})
	testnet.LinkPath(t, net, p)
	js := testnet.JetStream(t, time.Hour)
	var skipped atomic.Int64 // events naming another counterparty, skipped by the scanner
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.Run(rctx, pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
			BatchMax: 50, BatchWait: 200 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
			OnFailed: func(_, kind, reason string, n int) {
				if reason == "forged" {
					skipped.Add(int64(n))
				}
			}})
	}()
	defer func() { cancel(); <-done }()

	// A residency card is attested to Bucheon (the real packets go to Seoul's node directly; only
	// the relayer reads Seoul through the liar).
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	onBucheon := testnet.ClientWith(t, bucheon, devnet.AdminKey, rpcOnly)
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{0x5e, 0x01}, 16)
	sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, seoul.Issuer.Method, seoul.Citizen.DID, "residency-card", digest, now-5, now+86400, 1)
	sig, err := seoul.Issuer.Sign(sb)
	if err != nil {
		t.Fatal(err)
	}
	id := didtypes.AttestationID(sb)
	res, err := admin.Send(ctx, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: seoul.Issuer.Method,
		SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 5, ValidUntil: now + 86400, IssuerSeq: 1, Signature: sig},
		&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: id})
	if err != nil {
		t.Fatal(err)
	}
	first, err := relayer.SendPackets(res.Events)
	if err != nil || len(first) != 1 {
		t.Fatalf("attestation send_packet: %d packets, %v", len(first), err)
	}
	waitDelivered(t, admin, p.A.ChannelID, first[0].Sequence, 90*time.Second)

	// The card is revoked on Seoul; its revocation is not sent yet.
	rsig, err := seoul.Issuer.Sign(didtypes.RevocationSignBytes("seoul-1", id, seoul.Issuer.DID, seoul.Issuer.Method, didtypes.ATTESTATION_STATUS_REVOKED, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Send(ctx, &didtypes.MsgSetAttestationStatus{Submitter: seoul.Admin.Address, AttestationId: id, IssuerMethod: seoul.Issuer.Method,
		NewStatus: didtypes.ATTESTATION_STATUS_REVOKED, IssuerSeq: 2, Signature: rsig}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	// What the attacker knows: everything the revocation packet will hold but the block it is sent in.
	var att didtypes.QueryAttestationResponse
	if err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Attestation", &didtypes.QueryAttestationRequest{Id: id}, &att, 0); err != nil {
		t.Fatal(err)
	}
	var doc didtypes.QueryDIDResponse
	if err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: seoul.Issuer.DID}, &doc, 0); err != nil {
		t.Fatal(err)
	}
	method, ok := doc.Document.Method(att.Attestation.StatusMethod)
	if !ok {
		t.Fatalf("no method %s on %s", att.Attestation.StatusMethod, seoul.Issuer.DID)
	}
	a := att.Attestation
	revocation := func(status didtypes.AttestationStatus, sourceHeight int64) []byte {
		return didtypes.DIDPacketData{Packet: &didtypes.DIDPacketData_Revocation{Revocation: &didtypes.RevocationPacket{
			AttestationId: a.Id, OriginChainId: a.OriginChainId, IssuerDid: a.IssuerDid, IssuerMethod: a.StatusMethod, NewStatus: status,
			IssuerSeq: a.StatusSeq, Signature: a.StatusSignature, IssuerKey: didtypes.IssuerKeyOf(*method), SourceHeight: sourceHeight,
			StatusHeight: a.StatusHeight}}}.GetBytes()
	}
	var next channeltypes.QueryNextSequenceSendResponse
	if err := admin.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/NextSequenceSend",
		&channeltypes.QueryNextSequenceSendRequest{PortId: didtypes.PortID, ChannelId: p.A.ChannelID}, &next, 0); err != nil {
		t.Fatal(err)
	}
	seq := next.NextSequenceSend
	timeout := uint64(time.Now().Add(didtypes.DefaultTimeout).UnixNano())
	from := latestHeight(t, admin)

	// The liar forges, in the next empty block it serves, the reinstatement and the predicted
	// revocations; in the block of the real send, one more reinstatement.
	liar.arm(&forgery{port: didtypes.PortID, channel: p.A.ChannelID, dstPort: didtypes.PortID, dstChannel: p.B.ChannelID, seq: seq, timeout: timeout,
		from: from + 1,
		early: func(h int64) ([][]byte, int64) {
			datas := [][]byte{revocation(didtypes.ATTESTATION_STATUS_ACTIVE, h)}
			for s := h + predictLead; s < h+predictLead+predictWindow; s++ {
				datas = append(datas, revocation(didtypes.ATTESTATION_STATUS_REVOKED, s))
			}
			return datas, h + predictLead
		},
		same: func(h int64) []byte { return revocation(didtypes.ATTESTATION_STATUS_ACTIVE, h) },
	})
	fakeAt, early, lo := liar.injected(t, 60*time.Second)
	t.Logf("%d forged send_packet events for sequence %d injected at seoul-1 height %d (predicted send heights %d..%d)", len(early), seq, fakeAt, lo, lo+predictWindow-1)

	// The forgeries are dead-lettered before the real revocation exists (waiting until their number
	// stops growing: with a de-duplication id the first forgery can occupy, only one ever is).
	settled := settledDeadLetters(t, js, len(early), 90*time.Second)
	t.Logf("%d of %d early forgeries dead-lettered before the revocation is sent", settled, len(early))

	// The revocation is sent in the window the attacker predicted.
	if err := seoul.WaitHeight(ctx, lo-1); err != nil {
		t.Fatal(err)
	}
	if h := latestHeight(t, admin); h >= lo+predictWindow-3 {
		t.Fatalf("seoul-1 at height %d, past the predicted window %d..%d before the forgeries were settled: the machine is too slow for this test",
			h, lo, lo+predictWindow-1)
	}
	res, err = admin.Send(ctx, &didtypes.MsgSendRevocation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: id, TimeoutTimestamp: timeout})
	if err != nil {
		t.Fatalf("send revocation: %v", err)
	}
	sent, err := relayer.SendPackets(res.Events)
	if err != nil || len(sent) != 1 || sent[0].Sequence != seq {
		t.Fatalf("revocation send_packet: %+v, %v (want sequence %d)", sent, err, seq)
	}
	real := sent[0]
	if res.Height < lo || res.Height >= lo+predictWindow {
		t.Fatalf("revocation sent at height %d, outside the predicted window %d..%d", res.Height, lo, lo+predictWindow-1)
	}
	if !bytes.Equal(real.Data, revocation(didtypes.ATTESTATION_STATUS_REVOKED, res.Height)) {
		t.Fatal("the predicted revocation differs from the real one: the test does not forge what it claims")
	}
	t.Logf("real revocation: sequence %d at height %d; a forgery with its exact content was injected at height %d", seq, res.Height, fakeAt)

	// The real revocation is received on Bucheon: its receipt and the revoked card, queried there.
	deadline := time.Now().Add(90 * time.Second)
	for {
		var rc channeltypes.QueryPacketReceiptResponse
		errR := onBucheon.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/PacketReceipt",
			&channeltypes.QueryPacketReceiptRequest{PortId: didtypes.PortID, ChannelId: p.B.ChannelID, Sequence: seq}, &rc, 0)
		var f didtypes.QueryForeignAttestationResponse
		errF := onBucheon.QueryGRPC(ctx, "/cityrelay.did.v1.Query/ForeignAttestation",
			&didtypes.QueryForeignAttestationRequest{OriginChainId: "seoul-1", Id: id}, &f, 0)
		if errR == nil && rc.Received && errF == nil && f.Attestation.Attestation.Status == didtypes.ATTESTATION_STATUS_REVOKED {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the real revocation (sequence %d) was not received on bucheon-1 within 90s (receipt %v %v; card %v %v): a forged send_packet erased it",
				seq, rc.Received, errR, f.Attestation.Attestation.Status, errF)
		}
		time.Sleep(300 * time.Millisecond)
	}
	waitDelivered(t, admin, p.A.ChannelID, seq, 60*time.Second)
	sameAt := liar.sameBlock()
	if sameAt != res.Height {
		t.Fatalf("the same-block forgery went into height %d, want the revocation's block %d", sameAt, res.Height)
	}

	// Every forgery is dead-lettered once, with a reason that says the chain never committed it;
	// the one that predicted the revocation exactly among them.
	same := revocation(didtypes.ATTESTATION_STATUS_ACTIVE, res.Height)
	dead := deadLetters(t, js, len(early)+1, 60*time.Second)
	seen := map[string]int{}
	predicted := false
	for _, d := range dead {
		w, err := packets.Decode(d.Data)
		if err != nil {
			t.Errorf("undecodable dead letter: %v", err)
			continue
		}
		reason := d.Header.Get(packets.ReasonHeader)
		switch {
		case w.Packet.Sequence != seq:
			t.Errorf("dead letter for sequence %d (%s): only forgeries of %d should be dead", w.Packet.Sequence, reason, seq)
			continue
		case w.Height == fakeAt:
			if !strings.Contains(reason, "never sent") || !strings.Contains(reason, "forged") {
				t.Errorf("early forgery dead-lettered with %q, want it to say never sent and forged", reason)
			}
			if bytes.Equal(w.Packet.Data, real.Data) && w.Packet.TimeoutTimestamp == real.TimeoutTimestamp {
				predicted = true
			}
		case w.Height == res.Height:
			if !bytes.Equal(w.Packet.Data, same) {
				t.Errorf("the real revocation was dead-lettered: %q", reason)
			}
			if !strings.Contains(reason, "does not match the commitment") || !strings.Contains(reason, "forged") {
				t.Errorf("same-block forgery dead-lettered with %q, want it to say it does not match the commitment and is forged", reason)
			}
		default:
			t.Errorf("dead letter of height %d: %q", w.Height, reason)
		}
		seen[fmt.Sprintf("%d/%x", w.Height, w.Packet.Data)]++
	}
	if !predicted {
		t.Error("the forgery carrying the real revocation's exact content is not among the dead letters")
	}
	for _, data := range early {
		if n := seen[fmt.Sprintf("%d/%x", fakeAt, data)]; n != 1 {
			t.Errorf("an early forgery was dead-lettered %d times, want once", n)
		}
	}
	if n := seen[fmt.Sprintf("%d/%x", res.Height, same)]; n != 1 {
		t.Errorf("the same-block forgery was dead-lettered %d times, want once", n)
	}
	if len(dead) != len(early)+1 {
		t.Errorf("%d dead letters, want %d (the forgeries)", len(dead), len(early)+1)
	}
	// The forgery addressed to another channel end was skipped by the scanner (counted, never
	// published: no end would ever take it off the queue).
	if n := skipped.Load(); n != 1 {
		t.Errorf("%d events skipped as naming another counterparty, want 1", n)
	}

	// What the console and `cityrelay packet` show for the packet: its recv confirmed on Bucheon,
	// the forgeries of its sequence beside it, failed with their reasons.
	kv, err := js.KeyValue(ctx, packets.PacketBucket)
	if err != nil {
		t.Fatal(err)
	}
	packet := fmt.Sprintf("seoul-1/%s/%s/%d", didtypes.PortID, p.A.ChannelID, seq)
	var recs []packets.Lifecycle
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		all, err := packets.Lifecycles(ctx, kv, packet)
		if err != nil {
			t.Fatal(err)
		}
		recs = all[packets.KindRecv]
		if len(recs) == len(early)+2 && recs[0].State == "confirmed" || time.Now().After(deadline) {
			break
		}
	}
	if len(recs) != len(early)+2 || recs[0].State != "confirmed" || recs[0].Chain != "bucheon-1" {
		t.Fatalf("recv lifecycle of %s: %d records %+v; want the confirmed delivery first and %d forgeries", packet, len(recs), recs[:min(len(recs), 2)], len(early)+1)
	}
	for _, l := range recs[1:] {
		if l.State != "failed" || !strings.Contains(l.Reason, "forged") {
			t.Errorf("a forgery's record: %+v", l)
		}
	}
}

// latestHeight is the chain's newest block, as its node says.
func latestHeight(t *testing.T, cl *cosmos.Client) int64 {
	t.Helper()
	st, err := cl.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.SyncInfo.LatestBlockHeight
}

// waitDelivered waits for Seoul to record the packet's delivery (its acknowledgement relayed back).
func waitDelivered(t *testing.T, cl *cosmos.Client, channel string, seq uint64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var resp didtypes.QueryDeliveryResponse
		err := cl.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: channel, Sequence: seq}, &resp, 0)
		if err == nil && resp.Delivery.State == didtypes.DELIVERY_STATE_DELIVERED {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("packet %d not delivered within %s: %v %v", seq, within, resp.Delivery.State, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// settledDeadLetters waits until the dead-letter stream holds want messages, or holds some and their
// number has not grown for 5 seconds, and returns how many it holds.
func settledDeadLetters(t *testing.T, js jetstream.JetStream, want int, within time.Duration) int {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	last, since := 0, time.Now()
	for {
		s, err := js.Stream(ctx, packets.DeadStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := int(info.State.Msgs)
		if n != last {
			last, since = n, time.Now()
		}
		if n >= want || (n > 0 && time.Since(since) > 5*time.Second) {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters after %s, want %d", n, within, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// forgery is what a forger injects into the block_results it serves.
type forgery struct {
	port, channel, dstPort, dstChannel string
	seq, timeout                       uint64
	// from: the first height whose empty block gets the early forgeries; early returns their data
	// for the block at h (and the first predicted height, for the log).
	from  int64
	early func(h int64) ([][]byte, int64)
	// same returns the data of the forgery put before the real send_packet of seq in its block h.
	same func(h int64) []byte
}

// forger is a lying RPC node in front of a real one: it keeps no tx index (GetTxsEvent fails, so a
// client reads block events from block_results), and, once armed, forges send_packet events in the
// block_results it serves. Every other answer (headers, proofs, queries, broadcasts) is the node's.
type forger struct {
	*httptest.Server
	mu             sync.Mutex
	f              *forgery
	fakeAt, sameAt int64
	early          [][]byte
	lo             int64
}

func newForger(t *testing.T, target string) *forger {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	fg := &forger{}
	fg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var call struct {
			Method string          `json:"method"`
			Params map[string]any  `json:"params"`
			ID     json.RawMessage `json:"id"`
		}
		single := json.Unmarshal(body, &call) == nil
		if single && call.Method == "abci_query" && call.Params["path"] == "/cosmos.tx.v1beta1.Service/GetTxsEvent" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"response":{"code":1,"codespace":"forger","log":"transaction indexing is disabled","height":"0"}}}`, call.ID)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, u.String()+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if single && call.Method == "block_results" {
			out = fg.forge(out)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	}))
	return fg
}

func (fg *forger) arm(f *forgery) {
	fg.mu.Lock()
	defer fg.mu.Unlock()
	fg.f = f
}

// injected waits for the early forgeries and returns their block, their data and the first height
// they predicted.
func (fg *forger) injected(t *testing.T, within time.Duration) (int64, [][]byte, int64) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		fg.mu.Lock()
		at, early, lo := fg.fakeAt, fg.early, fg.lo
		fg.mu.Unlock()
		if at > 0 {
			return at, early, lo
		}
		if time.Now().After(deadline) {
			t.Fatalf("no empty block served within %s: nothing forged", within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (fg *forger) sameBlock() int64 {
	fg.mu.Lock()
	defer fg.mu.Unlock()
	return fg.sameAt
}

// forge rewrites a block_results answer (the same way every time it is asked for a block).
func (fg *forger) forge(out []byte) []byte {
	fg.mu.Lock()
	defer fg.mu.Unlock()
	if fg.f == nil {
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var msg map[string]any
	if dec.Decode(&msg) != nil {
		return out
	}
	res, ok := msg["result"].(map[string]any)
	if !ok {
		return out
	}
	hs, _ := res["height"].(string)
	h, err := strconv.ParseInt(hs, 10, 64)
	if err != nil {
		return out
	}
	txs, _ := res["txs_results"].([]any)
	f := fg.f
	switch {
	case h == fg.fakeAt || (fg.fakeAt == 0 && h >= f.from && len(txs) == 0):
		if fg.fakeAt == 0 {
			fg.fakeAt = h
			fg.early, fg.lo = f.early(h)
		}
		var events []any
		for _, data := range fg.early {
			events = append(events, fg.sendPacket(data, f.dstChannel))
		}
		// And one more, to a channel end the did channel does not lead to.
		events = append(events, fg.sendPacket(f.same(h), "channel-99"))
		txs = append(txs, map[string]any{"code": 0, "data": nil, "log": "", "info": "", "gas_wanted": "0", "gas_used": "0", "events": events, "codespace": ""})
	case fg.fakeAt > 0 && (fg.sameAt == 0 || h == fg.sameAt):
		for _, tx := range txs {
			txr, _ := tx.(map[string]any)
			events, _ := txr["events"].([]any)
			for i, ev := range events {
				if !fg.isReal(ev) {
					continue
				}
				fg.sameAt = h
				forged := append([]any{}, events[:i]...)
				forged = append(forged, fg.sendPacket(f.same(h), f.dstChannel))
				txr["events"] = append(forged, events[i:]...)
				break
			}
		}
	default:
		return out
	}
	res["txs_results"] = txs
	forged, err := json.Marshal(msg)
	if err != nil {
		return out
	}
	return forged
}

// isReal: ev is the real send_packet of the forged sequence.
func (fg *forger) isReal(ev any) bool {
	e, _ := ev.(map[string]any)
	if e["type"] != channeltypes.EventTypeSendPacket {
		return false
	}
	attrs, _ := e["attributes"].([]any)
	var seq, ch string
	for _, a := range attrs {
		m, _ := a.(map[string]any)
		switch m["key"] {
		case channeltypes.AttributeKeySequence:
			seq, _ = m["value"].(string)
		case channeltypes.AttributeKeySrcChannel:
			ch, _ = m["value"].(string)
		}
	}
	return ch == fg.f.channel && seq == strconv.FormatUint(fg.f.seq, 10)
}

// sendPacket is a send_packet event as CometBFT serves it, for the forged sequence with data, to
// dstChannel.
func (fg *forger) sendPacket(data []byte, dstChannel string) map[string]any {
	f := fg.f
	attr := func(k, v string) map[string]any { return map[string]any{"key": k, "value": v, "index": true} }
	return map[string]any{"type": channeltypes.EventTypeSendPacket, "attributes": []any{
		attr(channeltypes.AttributeKeyDataHex, hex.EncodeToString(data)),
		attr(channeltypes.AttributeKeyTimeoutHeight, "0-0"),
		attr(channeltypes.AttributeKeyTimeoutTimestamp, strconv.FormatUint(f.timeout, 10)),
		attr(channeltypes.AttributeKeySequence, strconv.FormatUint(f.seq, 10)),
		attr(channeltypes.AttributeKeySrcPort, f.port),
		attr(channeltypes.AttributeKeySrcChannel, f.channel),
		attr(channeltypes.AttributeKeyDstPort, f.dstPort),
		attr(channeltypes.AttributeKeyDstChannel, dstChannel),
		attr(channeltypes.AttributeKeyChannelOrdering, channeltypes.UNORDERED.String()),
	}}
}
