package evmrelay

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/chains/evm"
)

func TestFailureReason(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"chain's refusal", fmt.Errorf("submit: %w", &chains.TxError{ChainID: "bucheon-1", Codespace: "did", Code: 21}), "refused"},
		{"event contradicted by storage", fmt.Errorf("gimpo-evm: %w", ErrEventMismatch), "refused"},
		{"no Issued event", ErrNoIssue, "refused"},
		// Alone in its tx: it will not fit on another try either (the operator raises max_gas and
		// re-queues it from the dead letters).
		{"too large for one tx", fmt.Errorf("bucheon-1: 2 messages need 95000000 gas, max_gas is 90000000: %w", chains.ErrTxTooLarge), "refused"},
		{"node down", errors.New("dial tcp 127.0.0.1:8545: connection refused"), "transient"},
	} {
		if got := failureReason(c.err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// fakeLogs is a Source answering only logs: the primary's and the witnesses'.
type fakeLogs struct {
	Source
	primary   []types.Log
	witnessed []types.Log
	answered  int
	werr      error
}

func (f *fakeLogs) Logs(context.Context, uint64, uint64, [][]common.Hash) ([]types.Log, error) {
	return f.primary, nil
}

func (f *fakeLogs) WitnessLogs(context.Context, uint64, uint64, [][]common.Hash) ([]types.Log, int, error) {
	return f.witnessed, f.answered, f.werr
}

// The scanner's window of logs: the verified bloom of a block shows a registry StatusChanged of id;
// the primary leaves it out.
func TestWindowLogsAgainstBloom(t *testing.T) {
	registryAddr := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	id, other := common.Hash{0x01}, common.Hash{0x02}
	var bloom types.Bloom
	for _, item := range [][]byte{registryAddr[:], statusChangedTopic[:], id[:]} {
		bloom.Add(item)
	}
	blooms := map[uint64]types.Bloom{7: bloom}
	real := types.Log{Address: registryAddr, Topics: []common.Hash{statusChangedTopic, id}, BlockNumber: 7, Index: 3, TxHash: common.Hash{0xa}}
	// A forged log in the same block whose made-up id is not in the bloom: it does not cover the gap.
	forged := types.Log{Address: registryAddr, Topics: []common.Hash{statusChangedTopic, other}, BlockNumber: 7, Index: 3, TxHash: common.Hash{0xb}}
	noWitness := fmt.Errorf("logs 1..9: %w", evm.ErrNoWitness)
	for _, tc := range []struct {
		name      string
		src       *fakeLogs
		blooms    map[uint64]types.Bloom
		want      []types.Log
		wantErr   error
		wantCount int
	}{
		{"witness fills the gap", &fakeLogs{primary: nil, witnessed: []types.Log{real}, answered: 1}, blooms, []types.Log{real}, nil, 1},
		{"forged log beside the real one: both kept", &fakeLogs{primary: []types.Log{forged}, witnessed: []types.Log{real}, answered: 1}, blooms,
			[]types.Log{forged, real}, nil, 1},
		{"gap and no witness answers: refused, retried", &fakeLogs{primary: []types.Log{forged}, werr: noWitness}, blooms, nil, ErrLogsWithheld, 1},
		{"no gap, no witness answers: the primary's answer", &fakeLogs{primary: []types.Log{real}, werr: noWitness}, blooms, []types.Log{real}, nil, 0},
		{"gap no node fills: counted, not retried", &fakeLogs{primary: nil, answered: 1}, blooms, nil, nil, 1},
		{"no witness configured: counted, left to the recheck", &fakeLogs{primary: nil}, blooms, nil, nil, 1},
		{"honest primary, witness agrees", &fakeLogs{primary: []types.Log{real}, witnessed: []types.Log{real}, answered: 1}, blooms, []types.Log{real}, nil, 0},
		{"no registry log in the blooms", &fakeLogs{primary: nil, answered: 1}, map[uint64]types.Bloom{}, nil, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var counted int
			b := &Bridge{City: "gimpo-evm", Source: tc.src, Log: zerolog.Nop(), OnLogsMissing: func(n int) { counted += n }}
			got, err := b.windowLogs(context.Background(), 1, 9, tc.blooms)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d logs, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				if got[i].TxHash != tc.want[i].TxHash {
					t.Fatalf("log %d from tx %s, want %s", i, got[i].TxHash, tc.want[i].TxHash)
				}
			}
			if counted != tc.wantCount {
				t.Fatalf("%d counted missing, want %d", counted, tc.wantCount)
			}
		})
	}
}

func TestDecodePairs(t *testing.T) {
	// Two pairs as cosmossdk.io/store's kv.Pairs encodes them, with an unknown field in between.
	var bz []byte
	pair := func(k, v string) []byte {
		var p []byte
		p = protowire.AppendTag(p, 1, protowire.BytesType)
		p = protowire.AppendBytes(p, []byte(k))
		p = protowire.AppendTag(p, 2, protowire.BytesType)
		return protowire.AppendBytes(p, []byte(v))
	}
	bz = protowire.AppendTag(bz, 1, protowire.BytesType)
	bz = protowire.AppendBytes(bz, pair("fatt/gimpo-evm/a", "x"))
	bz = protowire.AppendTag(bz, 9, protowire.VarintType)
	bz = protowire.AppendVarint(bz, 5)
	bz = protowire.AppendTag(bz, 1, protowire.BytesType)
	bz = protowire.AppendBytes(bz, pair("fatt/gimpo-evm/b", "y"))
	got, err := decodePairs(bz)
	if err != nil || len(got) != 2 || string(got[0].Key) != "fatt/gimpo-evm/a" || string(got[1].Value) != "y" {
		t.Fatalf("decode: %v %q", err, got)
	}
	if _, err := decodePairs(bz[:len(bz)-1]); err == nil {
		t.Fatal("a truncated answer decoded")
	}
}
