package classify_test

import (
	"testing"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/relayer/classify"
)

func TestClassify(t *testing.T) {
	att := didtypes.DIDPacketData{Packet: &didtypes.DIDPacketData_Revocation{Revocation: &didtypes.RevocationPacket{}}}
	for _, tc := range []struct {
		port string
		data []byte
		want string
	}{
		{"transfer", []byte(`{"denom":"ucity","amount":"5","sender":"a","receiver":"b"}`), classify.ClassICS20},
		{"transfer", []byte(`not json`), classify.ClassOther},
		{"did", []byte{0xff}, classify.ClassInvalid},
		{"did", att.GetBytes(), classify.ClassInvalid}, // a revocation with no fields fails validation
		{"icahost", []byte(`{}`), classify.ClassOther},
	} {
		if got := classify.Classify(tc.port, tc.data); got != tc.want {
			t.Errorf("Classify(%s, %q) = %s, want %s", tc.port, tc.data, got, tc.want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("did", []byte{0x0a, 0x00})
	f.Add("transfer", []byte(`{"denom":"ucity","amount":"1","sender":"a","receiver":"b"}`))
	f.Add("other", []byte{})
	f.Fuzz(func(t *testing.T, port string, data []byte) {
		if classify.Classify(port, data) == "" {
			t.Fatal("empty class")
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	m := didtypes.ServiceMessage{ServiceType: "mileage.transfer", SenderDid: "did:city:seoul-1:citizen-1", SenderMethod: "key-1",
		OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", Nonce: 1, Expiry: 1, Payload: []byte(`{"points":100}`), Signature: make([]byte, 64)}
	d := didtypes.DIDPacketData{Packet: &didtypes.DIDPacketData_ServiceMessage{ServiceMessage: &didtypes.ServiceMessagePacket{Message: m,
		SenderKey: didtypes.IssuerKey{Type: didtypes.KEY_TYPE_ED25519, PublicKey: make([]byte, 32)}}}}
	bz := d.GetBytes()
	for _, tc := range []struct {
		port string
		data []byte
	}{{"did", bz}, {"transfer", []byte(`{"denom":"ucity","amount":"5","sender":"a","receiver":"b"}`)}} {
		b.Run(tc.port, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if classify.Classify(tc.port, tc.data) == "" {
					b.Fatal("no class")
				}
			}
		})
	}
}
