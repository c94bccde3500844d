package evmrelay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/chains/evm"
	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/light/qbft"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/evmrelay"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// bucheon is the Cosmos city (a real citychaind node) shared by the package's tests.
var bucheon *devnet.Chain

func TestMain(m *testing.M) {
	testnet.Main(m, testnet.Shared{Options: devnet.Options{ChainIDs: []string{"bucheon-1"}}, Ready: func(net *devnet.Devnet) {
		bucheon = net.Chain("bucheon-1")
	}})
}

// evmCity is an EVM city on a QBFT devnet with its registry, a light client of it, and its city-qbft
// client on Bucheon.
type evmCity struct {
	chain  *evmdevnet.Chain
	city   *evmdevnet.City
	src    *evm.Client
	dest   *cosmos.Client
	client string
}

func startCity(t *testing.T, name string, evmChainID uint64, validators int) *evmCity {
	t.Helper()
	chain, city := testnet.EVMCity(t, evmdevnet.Config{ChainID: evmChainID, Validators: validators, Seed: name}, name, "residency")
	c := &evmCity{chain: chain, city: city, src: dialEVM(t, chain, city, chain.RPCURL()), dest: testnet.Client(t, bucheon, devnet.RelayerKey)}
	origins.Store(name, c.src)
	t.Cleanup(func() { origins.Delete(name) })
	return c
}

// origins are the running EVM cities' light clients, by city: verify proves the origin's own status
// with them.
var origins sync.Map

func evmOrigins(city string) (verify.Origin, bool) {
	src, ok := origins.Load(city)
	if !ok {
		return nil, false
	}
	return verify.EvmOrigin{City: city, Headers: src.(*evm.Client)}, true
}

// dialEVM is a light client of chain reached through rpc, trusting its current head.
func dialEVM(t *testing.T, chain *evmdevnet.Chain, city *evmdevnet.City, rpc string) *evm.Client {
	t.Helper()
	src, err := evm.Dial(context.Background(), evm.Config{ChainID: chain.ChainID(), RPC: rpc, Registry: city.Registry,
		RegistryCodeHash: contracts.RuntimeCodeHashFor(chain.ChainID()), TrustingPeriod: 24 * time.Hour, StoreDir: t.TempDir()}, testnet.TrustAt(t, chain, chain.Height()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

// createClient creates the city's city-qbft client on Bucheon (anyone may).
func (c *evmCity) createClient(t *testing.T) {
	t.Helper()
	id, err := evmrelay.CreateClient(context.Background(), c.src, c.dest, evmrelay.ClientParams{City: c.city.ChainID,
		EvmChainID: c.chain.ChainID(), Registry: c.city.Registry, TrustingPeriod: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c.client = id
}

// link creates the city's client and has Bucheon's registry admin register it for the city.
func (c *evmCity) link(t *testing.T) {
	t.Helper()
	c.createClient(t)
	if _, err := bucheon.RegisterCity(context.Background(), c.city.ChainID, c.client); err != nil {
		t.Fatal(err)
	}
}

func (c *evmCity) bridge(t *testing.T, js jetstream.JetStream, delivered chan<- string) *evmrelay.Bridge {
	return &evmrelay.Bridge{City: c.city.ChainID, Source: c.src, Dest: c.dest, Client: c.client, JS: js, Poll: 100 * time.Millisecond,
		RetryBase: 200 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel),
		OnDelivered: func(id string, s didtypes.AttestationStatus, _ uint64, _ int64) { delivered <- id + "/" + s.String() }}
}

// verifyOnBucheon verifies the attestation on Bucheon as `cityrelay verify` does, until it is want
// (a tx committed in block h shows in the state of header h+1) or a timeout.
func verifyOnBucheon(t *testing.T, origin string, id [32]byte, want verify.Status) *verify.Result {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := verifyOnce(t, origin, id)
		if res.Status == want || time.Now().After(deadline) {
			return res
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func verifyOnce(t *testing.T, origin string, id [32]byte) *verify.Result {
	t.Helper()
	lc, err := light.New(context.Background(), light.Options{ChainID: bucheon.ChainID, Primary: bucheon.RPCAddr, TrustingPeriod: 24 * time.Hour,
		TrustLatest: true, StoreDir: t.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	res, err := verify.Attestation(context.Background(), testnet.Client(t, bucheon, devnet.RelayerKey), lc, origin, contracts.IDHex(id), verify.Options{MaxHeaderAge: time.Minute, Origins: evmOrigins})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func waitFor(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", want)
		}
	}
}

// TestAttestationFromEVMCity: an attestation issued on a 4- and a 21-validator QBFT city arrives in
// Bucheon through the JetStream pipeline, `verify` says valid there, then revoked after the issuer
// revokes it on the EVM city.
func TestAttestationFromEVMCity(t *testing.T) {
	for _, tc := range []struct {
		city       string
		chainID    uint64
		validators int
	}{{"gimpo-evm", 7001, 4}, {"incheon-evm", 7002, 21}} {
		t.Run(fmt.Sprintf("%d validators", tc.validators), func(t *testing.T) {
			c := startCity(t, tc.city, tc.chainID, tc.validators)
			c.link(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			delivered := make(chan string, 16)
			done := make(chan error, 1)
			go func() { done <- c.bridge(t, testnet.JetStream(t, time.Hour), delivered).Run(ctx) }()

			a, err := c.city.Issue("did:city:bucheon-1:alice", "residency", bytes.Repeat([]byte{0xa1}, 32), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, delivered, contracts.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_ACTIVE.String())
			res := verifyOnBucheon(t, tc.city, a.ID, verify.StatusValid)
			if res.Status != verify.StatusValid || res.Client != c.client || res.RegisteredClient != c.client || res.EvmProofHeight < a.Block {
				t.Fatalf("verify after issue: %+v", res)
			}
			if at := res.Attestation; at.SubjectDid != "did:city:bucheon-1:alice" || at.IssuerDid != c.city.Issuer || at.IssuedHeight != int64(a.Block) {
				t.Fatalf("verified attestation: %+v", at)
			}

			if _, err := c.city.ChangeStatus(a.ID, contracts.StatusRevoked); err != nil {
				t.Fatal(err)
			}
			waitFor(t, delivered, contracts.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_REVOKED.String())
			if res := verifyOnBucheon(t, tc.city, a.ID, verify.StatusRevoked); res.Status != verify.StatusRevoked {
				t.Fatalf("verify after revocation: %s (%s)", res.Status, res.Reason)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestEvmRevocationCountsAtTheOrigin (issue 19): an EVM city's credential delivered to Bucheon, then
// revoked in the city's registry with no relayer running. Bucheon's copy still says valid; verify
// proves status[id] at the city's newest verified block, bound to Bucheon's registered city-qbft
// client, and says revoked at once.
func TestEvmRevocationCountsAtTheOrigin(t *testing.T) {
	c := startCity(t, "goyang-evm", 7005, 4)
	c.link(t)
	ctx, cancel := context.WithCancel(context.Background())
	delivered := make(chan string, 16)
	done := make(chan error, 1)
	go func() { done <- c.bridge(t, testnet.JetStream(t, time.Hour), delivered).Run(ctx) }()
	a, err := c.city.Issue("did:city:bucheon-1:carol", "residency", bytes.Repeat([]byte{0xc0}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, delivered, contracts.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_ACTIVE.String())
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res := verifyOnBucheon(t, "goyang-evm", a.ID, verify.StatusValid)
	if res.Status != verify.StatusValid || res.StatusFrom != "origin" || res.OriginHeight < int64(a.Block) {
		t.Fatalf("before the revocation: %+v", res)
	}

	block, err := c.city.ChangeStatus(a.ID, contracts.StatusRevoked)
	if err != nil {
		t.Fatal(err)
	}
	committed := time.Now()
	res = verifyOnBucheon(t, "goyang-evm", a.ID, verify.StatusRevoked)
	t.Logf("revocation in goyang-evm's registry at block %d; verify on bucheon-1 said %s %s later, at block %d (no relayer)",
		block, res.Status, time.Since(committed).Round(time.Millisecond), res.OriginHeight)
	if res.Status != verify.StatusRevoked || res.StatusFrom != "origin" || res.RelayedStatus != verify.StatusValid || res.OriginHeight < int64(block) ||
		!strings.Contains(res.Reason, "revoked at goyang-evm height") {
		t.Fatalf("after the revocation, not relayed: %+v", res)
	}
}

// tamperingProxy forwards JSON-RPC to target, rewriting the answers of one method.
// Tampering is on while *on is true.
func tamperingProxy(t *testing.T, target, method string, tamper func(result json.RawMessage) json.RawMessage) (string, *atomic.Int64, *atomic.Bool) {
	t.Helper()
	var hits atomic.Int64
	var on atomic.Bool
	on.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		resp, err := http.Post(target, "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		var req struct {
			Method string `json:"method"`
		}
		if on.Load() && json.Unmarshal(body, &req) == nil && req.Method == method {
			var msg map[string]json.RawMessage
			if json.Unmarshal(out, &msg) == nil && msg["result"] != nil {
				msg["result"] = tamper(msg["result"])
				out, _ = json.Marshal(msg)
				hits.Add(1)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &hits, &on
}

// flipHex changes one hex digit in the middle of the n-th 0x-string of a JSON value longer than 66
// characters (a proof node or a header, not an address or a word).
func flipHex(v json.RawMessage) json.RawMessage {
	s := string(v)
	seen := 0
	for i := 0; i < len(s)-2; i++ {
		if s[i] == '"' && strings.HasPrefix(s[i+1:], "0x") {
			end := strings.IndexByte(s[i+1:], '"')
			if end > 66 && seen == 0 {
				j := i + 1 + end/2
				c := byte('0')
				if s[j] == '0' {
					c = '1'
				}
				return json.RawMessage(s[:j] + string(c) + s[j+1:])
			}
			if end > 66 {
				seen++
			}
			i += end
		}
	}
	return v
}

// TestLyingNodesAndForgeries: a node that tampers with a proof or a header makes the relayer refuse
// before submitting; a submission forced past the relayer is refused by Bucheon; a chain that calls
// itself an EVM city without its registered client is refused.
func TestLyingNodesAndForgeries(t *testing.T) {
	ctx := context.Background()
	c := startCity(t, "gimpo-evm2", 7003, 4)
	c.link(t)
	a, err := c.city.Issue("did:city:bucheon-1:bob", "residency", bytes.Repeat([]byte{0xb0}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w := &packets.EvmWork{City: c.city.ChainID, To: bucheon.ChainID, Client: c.client, ID: contracts.IDHex(a.ID), Block: a.Block}

	// A proof tampered with on the way: refused by the relayer's check, nothing sent.
	proofURL, hits, _ := tamperingProxy(t, c.chain.RPCURL(), "eth_getProof", flipHex)
	lying := &evmrelay.Bridge{City: c.city.ChainID, Source: dialEVM(t, c.chain, c.city, proofURL), Dest: c.dest, Client: c.client}
	if _, _, err := lying.Deliver(ctx, w); !errors.Is(err, qbft.ErrInvalidProof) || hits.Load() == 0 {
		t.Fatalf("tampered proof: err %v (tampered %d answers), want qbft.ErrInvalidProof", err, hits.Load())
	}
	// A header tampered with: the EVM light client refuses it.
	if _, err := c.chain.Mine(); err != nil {
		t.Fatal(err)
	}
	headerURL, hhits, tampering := tamperingProxy(t, c.chain.RPCURL(), "debug_getRawHeader", flipHex)
	tampering.Store(false) // the trust root comes through honestly; the newer header does not
	src := dialEVMAt(t, c, headerURL)
	tampering.Store(true)
	lying = &evmrelay.Bridge{City: c.city.ChainID, Source: src, Dest: c.dest, Client: c.client}
	var verr *evm.VerificationError
	if _, _, err := lying.Deliver(ctx, w); !errors.As(err, &verr) || hhits.Load() == 0 {
		t.Fatalf("tampered header: err %v (tampered %d answers), want an evm.VerificationError", err, hhits.Load())
	}
	if res := verifyOnce(t, c.city.ChainID, a.ID); res.Status != verify.StatusAbsent {
		t.Fatalf("after lying nodes: %s, want absent", res.Status)
	}

	// The honest relayer delivers; then forced submissions go straight to Bucheon.
	honest := &evmrelay.Bridge{City: c.city.ChainID, Source: c.src, Dest: c.dest, Client: c.client}
	prepared, err := honest.Prepare(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.dest.Send(ctx, prepared.Msgs...); err != nil {
		t.Fatal(err)
	}
	msg := prepared.Submit
	for name, forge := range map[string]func(m *didtypes.MsgSubmitEvmAttestation){
		"another subject":             func(m *didtypes.MsgSubmitEvmAttestation) { m.SubjectDid = "did:city:bucheon-1:mallory" },
		"status word not proven":      func(m *didtypes.MsgSubmitEvmAttestation) { m.StatusWord[31] = byte(contracts.StatusSuspended) },
		"issued block moved":          func(m *didtypes.MsgSubmitEvmAttestation) { m.IssuedBlock-- },
		"tampered proof node":         func(m *didtypes.MsgSubmitEvmAttestation) { m.IssuedProof[0][7] ^= 1 },
		"a height never verified":     func(m *didtypes.MsgSubmitEvmAttestation) { m.ProofHeight += 1000 },
		"an unregistered city client": func(m *didtypes.MsgSubmitEvmAttestation) { m.ClientId = "07-tendermint-0" },
	} {
		forged := cloneSubmit(msg)
		forge(forged)
		_, err := c.dest.Send(ctx, forged)
		var txErr *cosmos.TxError
		if !errors.As(err, &txErr) {
			t.Errorf("%s: err %v, want the chain's refusal", name, err)
			continue
		}
		t.Logf("forged (%s) refused by %s: %s", name, bucheon.ChainID, txErr.Log)
		if strings.Contains(txErr.Log, ".go:") {
			t.Errorf("%s: the refusal leaks source paths: %s", name, txErr.Log)
		}
	}
	if res := verifyOnBucheon(t, c.city.ChainID, a.ID, verify.StatusValid); res.Status != verify.StatusValid {
		t.Fatalf("after forged submissions: %s (%s)", res.Status, res.Reason)
	}

	// A second chain whose registry calls itself gimpo-evm2, with a city-qbft client of its own on
	// Bucheon: that client is not the one Bucheon's registry names for gimpo-evm2.
	impostor := startCity(t, c.city.ChainID, 7004, 4)
	impostor.createClient(t)
	fake, err := impostor.city.Issue("did:city:bucheon-1:mallory", "residency", bytes.Repeat([]byte{0xee}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	imp := &evmrelay.Bridge{City: c.city.ChainID, Source: impostor.src, Dest: c.dest, Client: impostor.client}
	var txErr *cosmos.TxError
	_, _, err = imp.Deliver(ctx, &packets.EvmWork{City: c.city.ChainID, To: bucheon.ChainID, Client: impostor.client, ID: contracts.IDHex(fake.ID), Block: fake.Block})
	if !errors.As(err, &txErr) || !strings.Contains(err.Error(), "not a registered city") {
		t.Fatalf("impostor city: %v", err)
	}
	if res := verifyOnce(t, c.city.ChainID, fake.ID); res.Status != verify.StatusAbsent {
		t.Fatalf("impostor's attestation on Bucheon: %s", res.Status)
	}
}

// dialEVMAt is a light client of c's chain through rpc, trusting the block before the head (so the
// head must be verified through rpc).
func dialEVMAt(t *testing.T, c *evmCity, rpc string) *evm.Client {
	t.Helper()
	src, err := evm.Dial(context.Background(), evm.Config{ChainID: c.chain.ChainID(), RPC: rpc, Registry: c.city.Registry,
		RegistryCodeHash: contracts.RuntimeCodeHashFor(c.chain.ChainID()), TrustingPeriod: 24 * time.Hour, StoreDir: t.TempDir()}, testnet.TrustAt(t, c.chain, c.chain.Height()-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

func cloneSubmit(m *didtypes.MsgSubmitEvmAttestation) *didtypes.MsgSubmitEvmAttestation {
	out := *m
	out.StatusWord = append([]byte(nil), m.StatusWord...)
	out.IssuedProof = make([][]byte, len(m.IssuedProof))
	for i, n := range m.IssuedProof {
		out.IssuedProof[i] = append([]byte(nil), n...)
	}
	return &out
}

// forkingWitness is a witness that serves, at height, another header sealed by the validators.
func forkingWitness(t *testing.T, target string, height uint64, forged []byte) string {
	t.Helper()
	want := fmt.Sprintf("0x%x", height)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			ID     json.RawMessage   `json:"id"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		if json.Unmarshal(body, &req) == nil && req.Method == "debug_getRawHeader" && len(req.Params) == 1 && string(req.Params[0]) == `"`+want+`"` {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": fmt.Sprintf("0x%x", forged)})
			return
		}
		resp, err := http.Post(target, "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestForkFreezesClient: the EVM city's validators seal two blocks at one height; a witness serves the
// other one. The relayer's light client catches it, the relayer submits both headers as misbehaviour,
// Bucheon freezes the city-qbft client, and `verify` stops calling what was proven through it valid.
func TestForkFreezesClient(t *testing.T) {
	ctx := context.Background()
	c := startCity(t, "gimpo-evm3", 7005, 4)
	c.link(t)
	a, err := c.city.Issue("did:city:bucheon-1:carol", "residency", bytes.Repeat([]byte{0xc0}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	honest := &evmrelay.Bridge{City: c.city.ChainID, Source: c.src, Dest: c.dest, Client: c.client}
	if _, _, err := honest.Deliver(ctx, &packets.EvmWork{City: c.city.ChainID, To: bucheon.ChainID, Client: c.client, ID: contracts.IDHex(a.ID), Block: a.Block}); err != nil {
		t.Fatal(err)
	}
	if res := verifyOnBucheon(t, c.city.ChainID, a.ID, verify.StatusValid); res.Status != verify.StatusValid {
		t.Fatalf("before the fork: %s", res.Status)
	}

	// Blocks the client on Bucheon has not seen: the misbehaviour carries them as the ancestry that
	// binds both forked headers to the client's trusted block (issue 20).
	for i := 0; i < 3; i++ {
		if _, err := c.chain.Mine(); err != nil {
			t.Fatal(err)
		}
	}
	// A light client with a witness, trusting the current head; then the fork one block above it.
	trust := testnet.TrustAt(t, c.chain, c.chain.Height())
	forkAt, err := c.chain.Mine()
	if err != nil {
		t.Fatal(err)
	}
	forged, err := c.chain.Equivocate(forkAt)
	if err != nil {
		t.Fatal(err)
	}
	src, err := evm.Dial(ctx, evm.Config{ChainID: c.chain.ChainID(), RPC: c.chain.RPCURL(), Witnesses: []string{forkingWitness(t, c.chain.RPCURL(), forkAt, forged)},
		Registry: c.city.Registry, RegistryCodeHash: contracts.RuntimeCodeHashFor(c.chain.ChainID()), TrustingPeriod: 24 * time.Hour, StoreDir: t.TempDir()}, trust)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	watcher := &evmrelay.Bridge{City: c.city.ChainID, Source: src, Dest: c.dest, Client: c.client, Log: zerolog.New(zerolog.NewTestWriter(t))}
	w := &packets.EvmWork{City: c.city.ChainID, To: bucheon.ChainID, Client: c.client, ID: contracts.IDHex(a.ID), Block: a.Block}
	var fe *evm.ForkError
	if _, err := watcher.Prepare(ctx, w); !errors.As(err, &fe) || fe.Height != forkAt {
		t.Fatalf("prepare over a forking witness: %v", err)
	}
	// The misbehaviour was submitted: the client is frozen, nothing more goes through it.
	if _, err := honest.Prepare(ctx, w); !errors.Is(err, evmrelay.ErrClientFrozen) {
		t.Fatalf("after the fork: %v, want ErrClientFrozen", err)
	}
	res := verifyOnBucheon(t, c.city.ChainID, a.ID, verify.StatusClientFrozen)
	if res.Status != verify.StatusClientFrozen || !strings.Contains(res.Reason, "frozen") {
		t.Fatalf("verify after the fork: %s (%s)", res.Status, res.Reason)
	}
}
