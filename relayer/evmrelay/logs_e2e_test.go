package evmrelay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/evm"
	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/evmrelay"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// statusChangedTopic is the registry's StatusChanged event signature.
func statusChangedTopic(t *testing.T) common.Hash {
	t.Helper()
	parsed, err := contracts.CityAttestationRegistryMetaData.ParseABI()
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Events["StatusChanged"].ID
}

// dropLogs removes from an eth_getLogs answer every log whose first topic is one of topics(), and
// counts them by topic in removed.
func dropLogs(t *testing.T, topics func() []common.Hash, removed *sync.Map) func(json.RawMessage) json.RawMessage {
	return func(result json.RawMessage) json.RawMessage {
		var logs []types.Log
		if err := json.Unmarshal(result, &logs); err != nil {
			t.Errorf("proxy: eth_getLogs answer: %v", err)
			return result
		}
		kept := logs[:0]
		for _, l := range logs {
			if len(l.Topics) > 0 && slices.Contains(topics(), l.Topics[0]) {
				n, _ := removed.LoadOrStore(l.Topics[0], new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				continue
			}
			kept = append(kept, l)
		}
		out, err := json.Marshal(kept)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return result
		}
		return out
	}
}

// dialEVMWitnessed is a light client of chain through rpc (the primary) with witnesses, trusting its
// current head.
func dialEVMWitnessed(t *testing.T, chain *evmdevnet.Chain, city *evmdevnet.City, rpc string, witnesses ...string) *evm.Client {
	t.Helper()
	src, err := evm.Dial(context.Background(), evm.Config{ChainID: chain.ChainID(), RPC: rpc, Witnesses: witnesses, Registry: city.Registry,
		RegistryCodeHash: contracts.RuntimeCodeHashFor(chain.ChainID()), TrustingPeriod: 24 * time.Hour, StoreDir: t.TempDir()}, testnet.TrustAt(t, chain, chain.Height()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

// TestDroppedStatusLogs: the EVM primary drops every StatusChanged log from its eth_getLogs answers
// (a withheld revocation). The revocation still reaches Bucheon, twice over on its own:
//   - with a witness and no status recheck: the verified headers' logsBloom shows the registry's
//     StatusChanged the primary left out, and the witness's answer (taken in union) has it;
//   - with no witness and a short status recheck: the bloom shows the gap but no node fills it; the
//     recheck proves the registry's status[id] again and finds the revocation. The primary withholds
//     the Issued log too by then: the submitter takes the attestation's fields from Bucheon's record
//     (checked against the proven issued[id]).
func TestDroppedStatusLogs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		city     string
		chainID  uint64
		witness  bool
		recheck  time.Duration
		viaCheck bool // the revocation must come from a recheck
	}{
		{"bloom and witness, no recheck", "gimpo-evm-drop", 7011, true, -1, false},
		{"recheck, no witness", "incheon-evm-drop", 7012, false, 2 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCity(t, tc.city, tc.chainID, 4)
			c.link(t)
			var dropIssued atomic.Bool
			var removed sync.Map
			parsed, err := contracts.CityAttestationRegistryMetaData.ParseABI()
			if err != nil {
				t.Fatal(err)
			}
			primary, dropped, _ := tamperingProxy(t, c.chain.RPCURL(), "eth_getLogs", dropLogs(t, func() []common.Hash {
				if dropIssued.Load() {
					return []common.Hash{parsed.Events["StatusChanged"].ID, parsed.Events["Issued"].ID}
				}
				return []common.Hash{parsed.Events["StatusChanged"].ID}
			}, &removed))
			var witnesses []string
			if tc.witness {
				witnesses = append(witnesses, c.chain.RPCURL())
			}
			src := dialEVMWitnessed(t, c.chain, c.city, primary, witnesses...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			delivered := make(chan string, 16)
			done := make(chan error, 1)
			var missing, rechecks, changes atomic.Int64
			b := &evmrelay.Bridge{City: c.city.ChainID, Source: src, Dest: c.dest, Client: c.client, JS: testnet.JetStream(t, time.Hour), Poll: 100 * time.Millisecond,
				RetryBase: 200 * time.Millisecond, StatusRecheck: tc.recheck, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel),
				OnDelivered:   func(id string, s didtypes.AttestationStatus, _ uint64, _ int64) { delivered <- id + "/" + s.String() },
				OnLogsMissing: func(n int) { missing.Add(int64(n)) },
				OnRecheck: func(_, changed int) {
					rechecks.Add(1)
					changes.Add(int64(changed))
				}}
			go func() { done <- b.Run(ctx) }()

			a, err := c.city.Issue("did:city:bucheon-1:dora", "residency", bytes.Repeat([]byte{0xd0}, 32), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, delivered, contracts.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_ACTIVE.String())
			if n := missing.Load(); n != 0 {
				t.Fatalf("%d logs counted missing before any was dropped", n)
			}
			dropIssued.Store(tc.viaCheck)
			if _, err := c.city.ChangeStatus(a.ID, contracts.StatusRevoked); err != nil {
				t.Fatal(err)
			}
			waitFor(t, delivered, contracts.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_REVOKED.String())
			if res := verifyOnBucheon(t, c.city.ChainID, a.ID, verify.StatusRevoked); res.Status != verify.StatusRevoked {
				t.Fatalf("verify after revocation: %s (%s)", res.Status, res.Reason)
			}
			if dropped.Load() == 0 {
				t.Fatal("the proxy tampered with no eth_getLogs answer")
			}
			// The scanner saw the gap in the primary's answer either way (from the bloom; with a
			// witness, also from its answer).
			if missing.Load() == 0 {
				t.Fatal("no log counted missing from the primary's answers")
			}
			removedOf := func(event string) int64 {
				if n, ok := removed.Load(parsed.Events[event].ID); ok {
					return n.(*atomic.Int64).Load()
				}
				return 0
			}
			if removedOf("StatusChanged") == 0 {
				t.Fatal("the proxy dropped no StatusChanged log")
			}
			if tc.viaCheck && changes.Load() == 0 {
				t.Fatalf("the revocation arrived, but no recheck (of %d) found a change", rechecks.Load())
			}
			if tc.viaCheck && removedOf("Issued") == 0 {
				t.Fatal("the proxy dropped no Issued log: the submitter's fallback to Bucheon's record was not exercised")
			}
			if !tc.viaCheck && rechecks.Load() != 0 {
				t.Fatalf("%d rechecks ran with the recheck off", rechecks.Load())
			}
			t.Logf("eth_getLogs answers seen: %d; dropped: %d StatusChanged, %d Issued; logs counted missing: %d; rechecks: %d, changes found: %d",
				dropped.Load(), removedOf("StatusChanged"), removedOf("Issued"), missing.Load(), rechecks.Load(), changes.Load())
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// injectingProxy forwards JSON-RPC to target and adds to each eth_getLogs answer whose filter asks for
// StatusChanged logs the logs inject returns for the asked range.
func injectingProxy(t *testing.T, target string, topic common.Hash, inject func(from, to uint64) []types.Log) (string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
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
			Params []struct {
				FromBlock hexutil.Uint64  `json:"fromBlock"`
				ToBlock   hexutil.Uint64  `json:"toBlock"`
				Topics    [][]common.Hash `json:"topics"`
			} `json:"params"`
		}
		var msg map[string]json.RawMessage
		if json.Unmarshal(body, &req) == nil && req.Method == "eth_getLogs" && len(req.Params) == 1 && len(req.Params[0].Topics) > 0 &&
			slices.Contains(req.Params[0].Topics[0], topic) && json.Unmarshal(out, &msg) == nil && msg["result"] != nil {
			if extra := inject(uint64(req.Params[0].FromBlock), uint64(req.Params[0].ToBlock)); len(extra) > 0 {
				var logs []types.Log
				if err := json.Unmarshal(msg["result"], &logs); err != nil {
					t.Errorf("proxy: %v", err)
				}
				msg["result"], _ = json.Marshal(append(logs, extra...))
				out, _ = json.Marshal(msg)
				hits.Add(1)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &hits
}

// lineWatch is a log writer that signals each line holding all of its substrings.
type lineWatch struct {
	want []string
	seen chan struct{}
}

func (l *lineWatch) Write(p []byte) (int, error) {
	for _, w := range l.want {
		if !bytes.Contains(p, []byte(w)) {
			return len(p), nil
		}
	}
	select {
	case l.seen <- struct{}{}:
	default:
	}
	return len(p), nil
}

// TestForgedStatusLogBurnsNoID: the EVM primary forges a StatusChanged log announcing the issuer
// sequence of the revocation to come, in a block before it. The forged work item is delivered (the
// registry's status, unchanged, is proven: nothing changes on Bucheon) and the real revocation, with
// the same sequence, is not dropped as its duplicate: the de-duplication id carries the log's block.
func TestForgedStatusLogBurnsNoID(t *testing.T) {
	c := startCity(t, "gimpo-evm-forge", 7013, 4)
	c.link(t)
	topic := statusChangedTopic(t)
	parsed, err := contracts.CityAttestationRegistryMetaData.ParseABI()
	if err != nil {
		t.Fatal(err)
	}
	var forged atomic.Pointer[types.Log]
	primary, injected := injectingProxy(t, c.chain.RPCURL(), topic, func(from, to uint64) []types.Log {
		if l := forged.Load(); l != nil && l.BlockNumber >= from && l.BlockNumber <= to {
			return []types.Log{*l}
		}
		return nil
	})
	src := dialEVMWitnessed(t, c.chain, c.city, primary)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	delivered := make(chan string, 16)
	done := make(chan error, 1)
	a, err := c.city.Issue("did:city:bucheon-1:erin", "residency", bytes.Repeat([]byte{0xe0}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	nextSeq := a.IssuerSeq + 1 // the sequence the revocation will carry
	forgedDone := &lineWatch{want: []string{`"evm attestation delivered"`, `"status_seq":` + strconv.FormatUint(nextSeq, 10), `"updated":false`},
		seen: make(chan struct{}, 1)}
	b := &evmrelay.Bridge{City: c.city.ChainID, Source: src, Dest: c.dest, Client: c.client, JS: testnet.JetStream(t, time.Hour), Poll: 100 * time.Millisecond,
		RetryBase: 200 * time.Millisecond, StatusRecheck: -1,
		Log:         zerolog.New(io.MultiWriter(zerolog.NewTestWriter(t), forgedDone)).Level(zerolog.InfoLevel),
		OnDelivered: func(id string, s didtypes.AttestationStatus, _ uint64, _ int64) { delivered <- id + "/" + s.String() }}
	go func() { done <- b.Run(ctx) }()
	waitFor(t, delivered, contracts.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_ACTIVE.String())

	// The forged log, in the next block: StatusChanged(id, revoked, the next sequence).
	at := c.chain.Height() + 1
	data, err := parsed.Events["StatusChanged"].Inputs.NonIndexed().Pack(c.city.Issuer, c.city.Method, contracts.StatusRevoked, nextSeq,
		bytes.Repeat([]byte{0x55}, contracts.SignatureLength), at)
	if err != nil {
		t.Fatal(err)
	}
	forged.Store(&types.Log{Address: c.city.Registry, Topics: []common.Hash{topic, common.Hash(a.ID)}, Data: data, BlockNumber: at,
		TxHash: common.Hash{0xf0}, BlockHash: common.Hash{0xf1}})
	if _, err := c.chain.Mine(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-forgedDone.seen:
	case <-time.After(60 * time.Second):
		t.Fatalf("the forged item was not handled (forged answers: %d)", injected.Load())
	}
	if res := verifyOnce(t, c.city.ChainID, a.ID); res.Status != verify.StatusValid {
		t.Fatalf("after the forged log: %s (%s)", res.Status, res.Reason)
	}

	// The real revocation, with the sequence the forged log announced.
	if _, err := c.city.ChangeStatus(a.ID, contracts.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	waitFor(t, delivered, contracts.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_REVOKED.String())
	if res := verifyOnBucheon(t, c.city.ChainID, a.ID, verify.StatusRevoked); res.Status != verify.StatusRevoked {
		t.Fatalf("verify after revocation: %s (%s)", res.Status, res.Reason)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
