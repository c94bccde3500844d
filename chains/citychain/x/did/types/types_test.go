package types_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

func TestParseDID(t *testing.T) {
	for _, tc := range []struct {
		in            string
		chain, suffix string
		ok            bool
	}{
		{"did:city:seoul-1:citizen-1", "seoul-1", "citizen-1", true},
		{"did:city:wego-1:A.b_c-9", "wego-1", "A.b_c-9", true},
		{"did:foo:seoul-1:x", "", "", false},                                         // wrong method
		{"did:city:seoul-1", "", "", false},                                          // no suffix
		{"did:city::x", "", "", false},                                               // empty chain id
		{"did:city:Seoul-1:x", "", "", false},                                        // upper-case chain id
		{"did:city:seoul/1:x", "", "", false},                                        // '/' would break store keys
		{"did:city:seoul-1:a b", "", "", false},                                      // space in suffix
		{"did:city:seoul-1:a:b", "", "", false},                                      // ':' in suffix
		{"did:city:seoul-1:" + string(bytes.Repeat([]byte("a"), 65)), "", "", false}, // suffix too long
	} {
		chain, suffix, err := types.ParseDID(tc.in)
		if tc.ok != (err == nil) || chain != tc.chain || suffix != tc.suffix {
			t.Errorf("ParseDID(%q) = %q, %q, %v", tc.in, chain, suffix, err)
		}
		if err != nil && !types.ErrInvalidDID.Is(err) {
			t.Errorf("ParseDID(%q): error %v does not wrap ErrInvalidDID", tc.in, err)
		}
	}
}

// TestAttestationSignBytesGolden pins the signing bytes: changing them breaks every signature ever made.
func TestAttestationSignBytesGolden(t *testing.T) {
	sb := types.AttestationSignBytes("seoul-1", "did:city:seoul-1:civil-office", "key-1", "did:city:seoul-1:citizen-1",
		"residency-card", []byte{0xab, 0xcd}, 1, 2, 3)
	want := "6369747972656c61792f6469642f76312f6174746573746174696f6e00" + // tag
		"00000007" + hex.EncodeToString([]byte("seoul-1")) +
		"0000001d" + hex.EncodeToString([]byte("did:city:seoul-1:civil-office")) +
		"00000005" + hex.EncodeToString([]byte("key-1")) +
		"0000001a" + hex.EncodeToString([]byte("did:city:seoul-1:citizen-1")) +
		"0000000e" + hex.EncodeToString([]byte("residency-card")) +
		"00000002abcd" + "0000000000000001" + "0000000000000002" + "0000000000000003"
	if got := hex.EncodeToString(sb); got != want {
		t.Fatalf("signing bytes changed:\n got %s\nwant %s", got, want)
	}
	if id := types.AttestationID(sb); len(id) != 64 {
		t.Fatalf("id %q", id)
	}
	// Another kind with the same fields never has the same bytes.
	rb := types.RevocationSignBytes("seoul-1", "x", "did:city:seoul-1:civil-office", "key-1", types.ATTESTATION_STATUS_REVOKED, 3)
	if bytes.HasPrefix(rb, sb[:20]) {
		t.Fatal("revocation bytes share the attestation's domain tag")
	}
}

func TestVerifySignature(t *testing.T) {
	msg := []byte("attest")
	edPriv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	edPub := edPriv.Public().(ed25519.PublicKey)
	sk, _ := crypto.ToECDSA(bytes.Repeat([]byte{2}, 32))
	secPub := crypto.CompressPubkey(&sk.PublicKey)
	secSig := types.SignSecp256k1(sk, msg)

	// A high-s twin of a valid signature: s' = n - s.
	n := crypto.S256().Params().N
	s := new(big.Int).SetBytes(secSig[32:])
	high := append(append([]byte{}, secSig[:32]...), new(big.Int).Sub(n, s).FillBytes(make([]byte, 32))...)

	for _, tc := range []struct {
		name string
		kt   types.KeyType
		pub  []byte
		msg  []byte
		sig  []byte
		ok   bool
	}{
		{"ed25519 valid", types.KEY_TYPE_ED25519, edPub, msg, types.SignEd25519(edPriv, msg), true},
		{"ed25519 tampered message", types.KEY_TYPE_ED25519, edPub, []byte("attesT"), types.SignEd25519(edPriv, msg), false},
		{"secp256k1 valid", types.KEY_TYPE_SECP256K1, secPub, msg, secSig, true},
		{"secp256k1 tampered message", types.KEY_TYPE_SECP256K1, secPub, []byte("attesT"), secSig, false},
		{"secp256k1 high s refused", types.KEY_TYPE_SECP256K1, secPub, msg, high, false},
		{"secp256k1 short signature", types.KEY_TYPE_SECP256K1, secPub, msg, secSig[:63], false},
		{"unknown key type", types.KEY_TYPE_UNSPECIFIED, edPub, msg, types.SignEd25519(edPriv, msg), false},
	} {
		err := types.VerifySignature(tc.kt, tc.pub, tc.msg, tc.sig)
		if tc.ok != (err == nil) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil && !types.ErrInvalidSignature.Is(err) {
			t.Errorf("%s: %v does not wrap ErrInvalidSignature", tc.name, err)
		}
	}
}

func TestPacketKind(t *testing.T) {
	d := types.DIDPacketData{Packet: &types.DIDPacketData_ServiceMessage{ServiceMessage: &types.ServiceMessagePacket{
		Message: types.ServiceMessage{ServiceType: "parking.permit"}}}}
	if d.Kind() != "service:parking.permit" {
		t.Fatalf("kind %q", d.Kind())
	}
}
