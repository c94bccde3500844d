package packets

import (
	"errors"
	"strings"
	"testing"
)

func TestEvmWorkRoundTripAndRefusals(t *testing.T) {
	id := strings.Repeat("ab", 32)
	w := &EvmWork{City: "gimpo-evm", To: "bucheon-1", Client: "city-qbft-0", ID: id, Block: 7, StatusSeq: 3}
	bz, err := w.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvm(bz)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *w {
		t.Fatalf("round trip: %+v, want %+v", got, w)
	}
	if want := "gimpo-evm/" + id + "/3/7/evm-attestation"; got.MsgID() != want {
		t.Fatalf("msg id %q, want %q", got.MsgID(), want)
	}
	if want := "cityrelay.work.bucheon-1.evm:city-qbft-0.evm-attestation"; got.Subject() != want {
		t.Fatalf("subject %q, want %q", got.Subject(), want)
	}
	for name, bad := range map[string]string{
		"packet work":   `{"v":1,"kind":"recv","city":"gimpo-evm","to":"bucheon-1","client":"c","id":"` + id + `","block":1,"status_seq":0,"observed_unix_nano":0}`,
		"unknown field": `{"v":1,"kind":"evm-attestation","city":"gimpo-evm","to":"bucheon-1","client":"c","id":"` + id + `","block":1,"x":1}`,
		"upper hex id":  `{"v":1,"kind":"evm-attestation","city":"gimpo-evm","to":"bucheon-1","client":"c","id":"` + strings.ToUpper(id) + `","block":1}`,
		"block 0":       `{"v":1,"kind":"evm-attestation","city":"gimpo-evm","to":"bucheon-1","client":"c","id":"` + id + `","block":0}`,
		"same chain":    `{"v":1,"kind":"evm-attestation","city":"bucheon-1","to":"bucheon-1","client":"c","id":"` + id + `","block":1}`,
		"version 2":     `{"v":2,"kind":"evm-attestation","city":"gimpo-evm","to":"bucheon-1","client":"c","id":"` + id + `","block":1}`,
		"trailing":      `{"v":1,"kind":"evm-attestation","city":"gimpo-evm","to":"bucheon-1","client":"c","id":"` + id + `","block":1} {}`,
	} {
		if _, err := DecodeEvm([]byte(bad)); !errors.Is(err, ErrBadWork) {
			t.Errorf("%s: err %v, want ErrBadWork", name, err)
		}
	}
}
