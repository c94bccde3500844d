package cosmos

import (
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protowire"
)

// The tx service answers with each tx's body beside its result: for a relay tx of hundreds of
// messages that is a megabyte of proofs, decoded (and its Anys unpacked) only to be thrown away.
// These responses decode the result fields this package uses and skip the bodies unread.

// txResult is the part of a cosmos.base.abci.v1beta1.TxResponse this package reads.
type txResult struct {
	Height             int64
	Codespace          string
	Code               uint32
	Data               string
	RawLog             string
	GasWanted, GasUsed int64
	Events             []abci.Event
	only               map[string]bool
}

// leanTxsEventResponse is a cosmos.tx.v1beta1.GetTxsEventResponse without the txs.
type leanTxsEventResponse struct {
	Results []txResult
	Total   uint64
	// only, when set, keeps the events of these types (the others are skipped undecoded).
	only map[string]bool
}

func (m *leanTxsEventResponse) Reset() { *m = leanTxsEventResponse{only: m.only} }
func (m *leanTxsEventResponse) String() string {
	return fmt.Sprintf("GetTxsEventResponse{%d results}", len(m.Results))
}
func (*leanTxsEventResponse) ProtoMessage() {}

// Unmarshal reads tx_responses (2) and total (4).
func (m *leanTxsEventResponse) Unmarshal(b []byte) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == 2 && typ == protowire.BytesType:
			r := txResult{only: m.only}
			if err := r.unmarshal(v); err != nil {
				return err
			}
			m.Results = append(m.Results, r)
		case num == 4 && typ == protowire.VarintType:
			m.Total = n
		}
		return nil
	})
}

// leanGetTxResponse is a cosmos.tx.v1beta1.GetTxResponse without the tx.
type leanGetTxResponse struct {
	Result *txResult
}

func (m *leanGetTxResponse) Reset()         { *m = leanGetTxResponse{} }
func (m *leanGetTxResponse) String() string { return "GetTxResponse" }
func (*leanGetTxResponse) ProtoMessage()    {}

// Unmarshal reads tx_response (2).
func (m *leanGetTxResponse) Unmarshal(b []byte) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 2 && typ == protowire.BytesType {
			m.Result = &txResult{}
			return m.Result.unmarshal(v)
		}
		return nil
	})
}

// unmarshal reads a TxResponse's fields but its tx (11) and logs (7).
func (r *txResult) unmarshal(b []byte) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			r.Height = int64(n)
		case num == 3 && typ == protowire.BytesType:
			r.Codespace = string(v)
		case num == 4 && typ == protowire.VarintType:
			r.Code = uint32(n)
		case num == 5 && typ == protowire.BytesType:
			r.Data = string(v)
		case num == 6 && typ == protowire.BytesType:
			r.RawLog = string(v)
		case num == 9 && typ == protowire.VarintType:
			r.GasWanted = int64(n)
		case num == 10 && typ == protowire.VarintType:
			r.GasUsed = int64(n)
		case num == 13 && typ == protowire.BytesType:
			if r.only != nil && !r.only[eventType(v)] {
				return nil
			}
			var ev abci.Event
			if err := ev.Unmarshal(v); err != nil {
				return fmt.Errorf("tx response event: %w", err)
			}
			r.Events = append(r.Events, ev)
		}
		return nil
	})
}

// eventType reads an abci.Event's type (field 1) without decoding its attributes.
func eventType(b []byte) string {
	var t string
	_ = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 1 && typ == protowire.BytesType {
			t = string(v)
			return errStop
		}
		return nil
	})
	return t
}

// errStop ends eachField early.
var errStop = errors.New("stop")

// eachField calls f for every field of a protobuf message: its bytes for a length-delimited field,
// its value for a varint; other wire types are skipped.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return fmt.Errorf("decode tag: %w", protowire.ParseError(k))
		}
		b = b[k:]
		var v []byte
		var n uint64
		switch typ {
		case protowire.BytesType:
			v, k = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			n, k = protowire.ConsumeVarint(b)
		default:
			k = protowire.ConsumeFieldValue(num, typ, b)
		}
		if k < 0 {
			return fmt.Errorf("decode field %d: %w", num, protowire.ParseError(k))
		}
		b = b[k:]
		if err := f(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}
