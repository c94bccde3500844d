package evmrelay_test

import (
	"bytes"
	"context"
	"encoding/json"
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
// (a withheld revocation). The revocation still reaches Bucheon.
func TestDroppedStatusLogs(t *testing.T) {
	c := startCity(t, "gimpo-evm-drop", 7011, 4)
	c.link(t)
	primary, dropped, _ := tamperingProxy(t, c.chain.RPCURL(), "eth_getLogs", dropLogs(t, statusChangedTopic(t)))
	src := dialEVMWitnessed(t, c.chain, c.city, primary, c.chain.RPCURL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	delivered := make(chan string, 16)
	done := make(chan error, 1)
	b := &evmrelay.Bridge{City: c.city.ChainID, Source: src, Dest: c.dest, Client: c.client, JS: natsJS(t), Poll: 100 * time.Millisecond,
		RetryBase: 200 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel),
		OnDelivered: func(id string, s didtypes.AttestationStatus, _ uint64, _ int64) { delivered <- id + "/" + s.String() }}
	go func() { done <- b.Run(ctx) }()

	a, err := c.city.Issue("did:city:bucheon-1:dora", "residency", bytes.Repeat([]byte{0xd0}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, delivered, registry.IDHex(a.ID)+"/"+didtypes.ATTESTATION_STATUS_ACTIVE.String())
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
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
