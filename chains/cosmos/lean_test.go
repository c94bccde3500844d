package cosmos

import (
	"reflect"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/gogoproto/proto"
)

// The lean responses read what the full ones hold, bodies aside.
func TestLeanResponsesMatchTheFullOnes(t *testing.T) {
	events := []abci.Event{
		{Type: "send_packet", Attributes: []abci.EventAttribute{{Key: "packet_sequence", Value: "7", Index: true}, {Key: "packet_data_hex", Value: "0a0b"}}},
		{Type: "message", Attributes: []abci.EventAttribute{{Key: "action", Value: "/ibc.core.channel.v1.MsgRecvPacket"}}},
	}
	body := &codectypes.Any{TypeUrl: "/cosmos.tx.v1beta1.Tx", Value: make([]byte, 4096)}
	full := func(h int64, code uint32) *sdk.TxResponse {
		return &sdk.TxResponse{Height: h, TxHash: "AB", Codespace: "sdk", Code: code, Data: "0A0B", RawLog: "log", Info: "info",
			GasWanted: 120, GasUsed: 100, Tx: body, Timestamp: "2026-11-26T00:00:00Z", Events: events,
			Logs: sdk.ABCIMessageLogs{{MsgIndex: 0, Log: "x"}}}
	}
	want := func(r *sdk.TxResponse) txResult {
		return txResult{Height: r.Height, Codespace: r.Codespace, Code: r.Code, Data: r.Data, RawLog: r.RawLog, GasWanted: r.GasWanted, GasUsed: r.GasUsed, Events: r.Events}
	}

	list := &txtypes.GetTxsEventResponse{Txs: []*txtypes.Tx{{Signatures: [][]byte{make([]byte, 64)}}, {}},
		TxResponses: []*sdk.TxResponse{full(5, 0), full(5, 11)}, Total: 2}
	bz, err := proto.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	var lean leanTxsEventResponse
	if err := proto.Unmarshal(bz, &lean); err != nil {
		t.Fatal(err)
	}
	if lean.Total != 2 || len(lean.Results) != 2 {
		t.Fatalf("total %d, %d results", lean.Total, len(lean.Results))
	}
	for i, r := range list.TxResponses {
		if !reflect.DeepEqual(lean.Results[i], want(r)) {
			t.Fatalf("result %d:\n got %+v\nwant %+v", i, lean.Results[i], want(r))
		}
	}

	// With a type filter, only those events are kept.
	filtered := leanTxsEventResponse{only: map[string]bool{"send_packet": true}}
	if err := proto.Unmarshal(bz, &filtered); err != nil {
		t.Fatal(err)
	}
	for i, r := range filtered.Results {
		if len(r.Events) != 1 || !reflect.DeepEqual(r.Events[0], events[0]) {
			t.Fatalf("filtered result %d: events %+v", i, r.Events)
		}
	}

	one := &txtypes.GetTxResponse{Tx: list.Txs[0], TxResponse: full(9, 0)}
	if bz, err = proto.Marshal(one); err != nil {
		t.Fatal(err)
	}
	var leanOne leanGetTxResponse
	if err := proto.Unmarshal(bz, &leanOne); err != nil {
		t.Fatal(err)
	}
	if leanOne.Result == nil || !reflect.DeepEqual(*leanOne.Result, want(one.TxResponse)) {
		t.Fatalf("GetTx result: %+v", leanOne.Result)
	}

	// Truncated input is an error, not a panic.
	if err := proto.Unmarshal(bz[:len(bz)-3], &leanOne); err == nil {
		t.Fatal("truncated response decoded without error")
	}
}

func TestExpectedSequence(t *testing.T) {
	for log, want := range map[string]uint64{
		"account sequence mismatch, expected 331, got 100: incorrect account sequence": 331,
		"failed to simulate tx: account sequence mismatch, expected 7, got 9":          7,
	} {
		if got, ok := expectedSequence(log); !ok || got != want {
			t.Errorf("%q: got %d, %v; want %d", log, got, ok, want)
		}
	}
	if _, ok := expectedSequence("incorrect account sequence"); ok {
		t.Error("a log without the expected sequence gave one")
	}
}
