package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// daemonProc is a `cityrelay start` child process.
type daemonProc struct {
	cmd *exec.Cmd
	log *os.File
}

func startDaemon(t *testing.T, bin, home, logPath string, args ...string) *daemonProc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"start", "--home", home}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens to the test, no daemon is left behind.
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &daemonProc{cmd: cmd, log: f}
}

func (d *daemonProc) signal(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	_ = d.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		d.log.Close()
		return err
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		t.Fatalf("daemon did not stop on %v within 30s", sig)
		return nil
	}
}

func rss(pid int) string {
	bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(bz), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "?"
}

// TestDaemonDeliversEverythingThroughAKill runs `cityrelay start` as a real process on a 3-chain
// devnet with 2 paths, kills it with SIGKILL in the middle of the traffic (the embedded NATS dies
// with it), restarts it, and checks that every attestation and service message was received and
// acknowledged, and that no packet was received twice on chain.
func TestDaemonDeliversEverythingThroughAKill(t *testing.T) {
	ctx := context.Background()
	bin := testnet.Build(t, ".")
	net := testnet.Chains(t, "seoul-1", "bucheon-1", "wego-1")
	oh := operatorHome(t, net.Chains, testnet.HomeOptions{})
	home := oh.Dir
	for _, other := range []string{"bucheon-1", "wego-1"} {
		oh.Must("", "paths", "new", "seoul-"+other, "--src", "seoul-1", "--dst", other)
		oh.LinkCities(net, "seoul-"+other)
	}
	cfgPath := filepath.Join(home, "config.toml")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Global.LogFormat = "json"
	cfg.Metrics.Listen = "127.0.0.1:0"
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}

	logPath := filepath.Join(home, "daemon.log")
	d := startDaemon(t, bin, home, logPath)
	waitLog(t, logPath, "relayer started", 0)

	seoul := net.Chain("seoul-1")
	enc, _ := cosmos.NewEncoding(citychain.AccountAddressPrefix, didtypes.RegisterInterfaces)
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	channels := map[string]string{"bucheon-1": cfg.Paths["seoul-bucheon-1"].Src.ChannelID, "wego-1": cfg.Paths["seoul-wego-1"].Src.ChannelID}

	issuerSeq, nonce := uint64(0), uint64(0)
	type sent struct {
		channel string
		seq     uint64
	}
	var all []sent
	attIDs := map[string][]string{}
	started := time.Now()
	send := func(dest string, n int) {
		t.Helper()
		now := time.Now().Unix()
		var msgs []sdk.Msg
		for i := 0; i < n; i++ {
			issuerSeq++
			digest := bytes.Repeat([]byte{byte(issuerSeq), byte(issuerSeq >> 8)}, 16)
			sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, "key-1", seoul.Citizen.DID, "residency-card", digest, now-5, now+3600, issuerSeq)
			sig, _ := seoul.Issuer.Sign(sb)
			msgs = append(msgs, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: "key-1",
				SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 5, ValidUntil: now + 3600,
				IssuerSeq: issuerSeq, Signature: sig},
				&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: channels[dest], AttestationId: didtypes.AttestationID(sb)})
			nonce++
			m := didtypes.ServiceMessage{ServiceType: "mileage.transfer", SenderDid: seoul.Citizen.DID, SenderMethod: "key-1", OriginChainId: "seoul-1",
				DestinationChainId: dest, Nonce: nonce, Expiry: now + 3600, Payload: []byte(fmt.Sprintf(`{"points":%d}`, nonce))}
			msb := m.SignBytes()
			m.Signature, _ = seoul.Citizen.Sign(msb)
			m.MsgId = didtypes.MessageID(msb)
			msgs = append(msgs, &didtypes.MsgSendServiceMessage{Sender: seoul.Admin.Address, SourceChannel: channels[dest], Message: m})
		}
		res, err := admin.Send(ctx, msgs...)
		if err != nil {
			t.Fatalf("send %d to %s: %v", n, dest, err)
		}
		for _, m := range msgs {
			if a, ok := m.(*didtypes.MsgSendAttestation); ok {
				attIDs[dest] = append(attIDs[dest], a.AttestationId)
			}
		}
		pks, _ := relayer.SendPackets(res.Events)
		for _, p := range pks {
			all = append(all, sent{p.SourceChannel, p.Sequence})
		}
	}
	// 2 batches x 2 paths x 125 attestations and 125 service messages: 500 + 500 packets.
	const perBatch = 125
	send("bucheon-1", perBatch)
	send("wego-1", perBatch)
	time.Sleep(700 * time.Millisecond) // let some of it be in flight
	// SIGKILL: no chance to finish or hand anything back; JetStream's store must recover.
	// unacked counts Seoul's packets not acknowledged yet: the work in flight when the daemon is stopped.
	unacked := func(when string) {
		t.Helper()
		n := 0
		for _, dest := range []string{"bucheon-1", "wego-1"} {
			var resp channeltypes.QueryPacketCommitmentsResponse
			if err := admin.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/PacketCommitments", &channeltypes.QueryPacketCommitmentsRequest{
				PortId: "did", ChannelId: channels[dest], Pagination: &query.PageRequest{Limit: 1000}}, &resp, 0); err != nil {
				t.Fatal(err)
			}
			n += len(resp.Commitments)
		}
		if n == 0 {
			t.Fatalf("nothing in flight at the %s: the test would prove nothing", when)
		}
		t.Logf("%d packets unacknowledged at the %s", n, when)
	}
	unacked("SIGKILL")
	pid := d.cmd.Process.Pid
	_ = d.signal(t, syscall.SIGKILL)
	send("bucheon-1", perBatch)
	send("wego-1", perBatch)
	d = startDaemon(t, bin, home, logPath)
	waitLog(t, logPath, "relayer started", 1)

	// SIGTERM under load: batches in flight finish or are handed back, and the daemon exits within 10 s;
	// what it did not deliver is delivered after the restart (checked below with everything else).
	send("bucheon-1", perBatch)
	send("wego-1", perBatch)
	time.Sleep(700 * time.Millisecond)
	unacked("SIGTERM")
	termAt := time.Now()
	if err := d.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("daemon exit after SIGTERM under load: %v", err)
	}
	if took := time.Since(termAt); took > 10*time.Second {
		t.Fatalf("SIGTERM under load took %s to stop the daemon, want at most 10s", took)
	} else {
		t.Logf("SIGTERM under load: stopped in %s", took.Round(time.Millisecond))
	}
	d = startDaemon(t, bin, home, logPath)
	waitLog(t, logPath, "relayer started", 2)

	// The same attestation sent twice: Bucheon refuses the second copy with an error acknowledgement,
	// Seoul records the rejection, and the daemon goes on relaying the rest.
	if len(attIDs["bucheon-1"]) == 0 {
		t.Fatal("no attestation was sent to bucheon-1")
	}
	firstAtt := attIDs["bucheon-1"][0]
	dup, err := admin.Send(ctx, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: channels["bucheon-1"], AttestationId: firstAtt})
	if err != nil {
		t.Fatal(err)
	}
	dupPks, err := relayer.SendPackets(dup.Events)
	if err != nil || len(dupPks) != 1 {
		t.Fatalf("send_packet events of the duplicate: %d packets, %v", len(dupPks), err)
	}
	send("wego-1", 10)

	deadline := time.Now().Add(3 * time.Minute)
	for _, s := range all {
		for {
			var resp didtypes.QueryDeliveryResponse
			err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: s.channel, Sequence: s.seq}, &resp, 0)
			if err == nil && resp.Delivery.State == didtypes.DELIVERY_STATE_DELIVERED {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s/%d not delivered and acknowledged (state %v, err %v); daemon log in %s", s.channel, s.seq, resp.Delivery.State, err, logPath)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	elapsed := time.Since(started)
	var rej didtypes.QueryDeliveryResponse
	for time.Now().Before(deadline) {
		err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: channels["bucheon-1"], Sequence: dupPks[0].Sequence}, &rej, 0)
		if err == nil && rej.Delivery.State != didtypes.DELIVERY_STATE_PENDING {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if rej.Delivery.State != didtypes.DELIVERY_STATE_REJECTED || !strings.Contains(rej.Delivery.Error, "already exists") {
		t.Fatalf("duplicate attestation: delivery %+v, want REJECTED with the reason", rej.Delivery)
	}

	// The daemon serves health, metrics and verification on its loopback address.
	addr := lastField(t, logPath, "metrics, health and verification on http", "addr")
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/metrics": "cityrelay_packets_relayed_total",
		"/v1/attestations/bucheon-1/seoul-1/" + firstAtt:                `"status":"valid"`,
		"/v1/attestations/bucheon-1/seoul-1/" + strings.Repeat("0", 64): `"status":"absent"`,
	} {
		body := httpGet(t, "http://"+addr+path)
		if !strings.Contains(body, want) {
			t.Errorf("GET %s: want %q in\n%s", path, want, body)
		}
	}
	t.Logf("%d packets (attestations + service messages, 2 paths, one SIGKILL, one SIGTERM under load) received and acknowledged in %s: %.1f packets/s; daemon RSS %s (first run pid %d)",
		len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(), rss(d.cmd.Process.Pid), pid)

	// Graceful stop on SIGTERM.
	if err := d.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("daemon exit after SIGTERM: %v", err)
	}

	// No packet was received twice: count MsgRecvPacket per packet in every committed tx.
	for _, dest := range []string{"bucheon-1", "wego-1"} {
		counts := recvCounts(t, net.Chain(dest), enc)
		n := 0
		for _, s := range all {
			if s.channel != channels[dest] {
				continue
			}
			n++
		}
		for key, c := range counts {
			if c != 1 {
				t.Errorf("%s: MsgRecvPacket %s committed %d times", dest, key, c)
			}
		}
		if dest == "bucheon-1" {
			n += len(dupPks) // the rejected duplicate is received too, with an error acknowledgement
		}
		if len(counts) != n {
			t.Errorf("%s: %d packets received, %d sent", dest, len(counts), n)
		}
	}
}

// recvCounts scans every block of c and counts committed MsgRecvPacket per source channel/sequence.
func recvCounts(t *testing.T, c *devnet.Chain, enc cosmos.Encoding) map[string]int {
	t.Helper()
	cl, err := rpchttp.New(c.RPCAddr, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	dec := enc.TxConfig.TxDecoder()
	for h := int64(1); h <= st.SyncInfo.LatestBlockHeight; h++ {
		b, err := cl.Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Block.Txs) == 0 {
			continue
		}
		res, err := cl.BlockResults(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		for i, raw := range b.Block.Txs {
			if res.TxsResults[i].Code != 0 {
				continue
			}
			tx, err := dec(raw)
			if err != nil {
				continue
			}
			for _, m := range tx.GetMsgs() {
				if r, ok := m.(*channeltypes.MsgRecvPacket); ok && r.Packet.DestinationPort == didtypes.PortID {
					counts[fmt.Sprintf("%s/%d", r.Packet.SourceChannel, r.Packet.Sequence)]++
				}
			}
		}
	}
	return counts
}

// waitLog waits until the log has more than `after` lines containing msg.
func waitLog(t *testing.T, path, msg string, after int) {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(msg))
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		f, err := os.Open(path)
		if err == nil {
			n := 0
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if re.MatchString(sc.Text()) {
					n++
				}
			}
			f.Close()
			if n > after {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	bz, _ := os.ReadFile(path)
	t.Fatalf("daemon log never said %q:\n%s", msg, bz)
}

// lastField returns a JSON log field of the last line containing msg.
func lastField(t *testing.T, path, msg, field string) string {
	t.Helper()
	bz, _ := os.ReadFile(path)
	val := ""
	for _, l := range strings.Split(string(bz), "\n") {
		if !strings.Contains(l, msg) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			if v, ok := m[field].(string); ok {
				val = v
			}
		}
	}
	if val == "" {
		t.Fatalf("no %s in log lines %q", field, msg)
	}
	return val
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	bz, _ := io.ReadAll(resp.Body)
	return string(bz)
}
