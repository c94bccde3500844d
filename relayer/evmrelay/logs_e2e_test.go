package evmrelay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/evm"
	"github.com/cityrelay/cityrelay/chains/evm/registry"
	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/relayer/evmrelay"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// statusChangedTopic is the registry's StatusChanged event signature.
func statusChangedTopic(t *testing.T) common.Hash {
	t.Helper()
	parsed, err := registry.CityAttestationRegistryMetaData.ParseABI()
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Events["StatusChanged"].ID
}

// dropLogs removes from an eth_getLogs answer every log whose first topic is topic.
func dropLogs(t *testing.T, topic common.Hash) func(json.RawMessage) json.RawMessage {
	return func(result json.RawMessage) json.RawMessage {
		var logs []types.Log
		if err := json.Unmarshal(result, &logs); err != nil {
			t.Errorf("proxy: eth_getLogs answer: %v", err)
			return result
		}
		kept := logs[:0]
		for _, l := range logs {
			if len(l.Topics) > 0 && l.Topics[0] == topic {
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
		RegistryCodeHash: registry.RuntimeCodeHash, TrustingPeriod: 24 * time.Hour, StoreDir: t.TempDir()}, trustAt(t, chain, chain.Height()))
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
//     recheck proves the registry's status[id] again and finds the revocation.
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
			primary, dropped, _ := tamperingProxy(t, c.chain.RPCURL(), "eth_getLogs", dropLogs(t, statusChangedTopic(t)))
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
			b := &evmrelay.Bridge{City: c.city.ChainID, Source: src, Dest: c.dest, Client: c.client, JS: natsJS(t), Poll: 100 * time.Millisecond,
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
			waitFor(t, delivered, registry.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_ACTIVE.String())
			if n := missing.Load(); n != 0 {
				t.Fatalf("%d logs counted missing before any was dropped", n)
			}
			if _, err := c.city.ChangeStatus(a.ID, registry.StatusRevoked); err != nil {
				t.Fatal(err)
			}
			waitFor(t, delivered, registry.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_REVOKED.String())
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
			if tc.viaCheck && changes.Load() == 0 {
				t.Fatalf("the revocation arrived, but no recheck (of %d) found a change", rechecks.Load())
			}
			if !tc.viaCheck && rechecks.Load() != 0 {
				t.Fatalf("%d rechecks ran with the recheck off", rechecks.Load())
			}
			t.Logf("eth_getLogs answers tampered: %d; logs counted missing: %d; rechecks: %d, changes found: %d",
				dropped.Load(), missing.Load(), rechecks.Load(), changes.Load())
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
