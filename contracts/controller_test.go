package contracts

import (
	"bytes"
	"crypto/ecdsa"
	"math"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm/runtime"
	"github.com/ethereum/go-ethereum/crypto"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// controlledCity is a registry with did:city:gimpo-evm:office, keys key-1 (the one that leaks) and
// key-2, trusted for residency-card, and its controller account ctrl.
type controlledCity struct {
	*evmChain
	did  string
	ctrl common.Address
	keys map[string]*ecdsa.PrivateKey
	n    byte
}

func newControlledCity(t *testing.T) *controlledCity {
	t.Helper()
	c := &controlledCity{evmChain: deploy(t), did: didtypes.FormatDID(testChainID, "office"), ctrl: common.HexToAddress("0xc0"),
		keys: map[string]*ecdsa.PrivateKey{}}
	for _, m := range []string{"key-1", "key-2"} {
		k, _ := crypto.GenerateKey()
		c.keys[m] = k
		c.mustCall(c.admin, c.reg.PackSetKey(c.did, m, crypto.PubkeyToAddress(k.PublicKey)))
	}
	c.mustCall(c.admin, c.reg.PackSetTrusted("residency-card", c.did, true))
	// Without a controller the admin controls the DID; the admin hands it to the city's account, and
	// from then on only that account can move it.
	if got, _ := c.reg.UnpackControllerOf(c.view(c.reg.PackControllerOf(c.did))); got != c.admin {
		t.Fatalf("controllerOf an unset DID = %s, want the admin", got)
	}
	c.refused(common.HexToAddress("0x5757"), c.reg.PackSetController(c.did, common.HexToAddress("0x5757")), "caller is not the DID's controller")
	c.mustCall(c.admin, c.reg.PackSetController(c.did, c.ctrl))
	c.refused(c.admin, c.reg.PackSetController(c.did, c.admin), "caller is not the DID's controller")
	if got := c.slot(MappingSlot(IssuerSeqKey(c.did), SlotControllers)); common.BytesToAddress(got[:]) != c.ctrl {
		t.Fatalf("controllers slot holds %s", got)
	}
	return c
}

func (c *controlledCity) attestation(method string, seq uint64) attestation {
	c.n++
	return attestation{issuerDID: c.did, issuerMethod: method, subjectDID: didtypes.FormatDID(testChainID, "citizen-1"),
		credentialType: "residency-card", digest: bytes.Repeat([]byte{c.n}, 32), validUntil: 1_900_000_000, issuerSeq: seq}
}

// gasOf runs input from from in the next block and returns its output and the gas it used.
func (c *controlledCity) gasOf(from common.Address, input []byte) ([]byte, uint64) {
	c.t.Helper()
	c.block++
	cfg := c.config(from)
	ret, left, err := runtime.Call(c.addr, input, cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	return ret, cfg.GasLimit - left
}

// next is the DID's next issuer sequence, as the contract has it.
func (c *controlledCity) next() uint64 {
	c.t.Helper()
	last, err := c.reg.UnpackIssuerSeqs(c.view(c.reg.PackIssuerSeqs(IssuerSeqKey(c.did))))
	if err != nil {
		c.t.Fatal(err)
	}
	return last + 1
}

// issue issues with method at the DID's next sequence, from anyone (whoever holds the key).
func (c *controlledCity) issue(method string) [32]byte {
	c.t.Helper()
	a := c.attestation(method, c.next())
	id, err := c.reg.UnpackIssue(c.mustCall(common.HexToAddress("0xa77ac"), c.packIssue(a, sign(c.t, c.keys[method], a.signBytes()))))
	if err != nil {
		c.t.Fatal(err)
	}
	return id
}

func (c *controlledCity) word(id [32]byte) StatusWord {
	c.t.Helper()
	w, err := DecodeStatusWord(c.slot(StatusSlot(id)))
	if err != nil {
		c.t.Fatal(err)
	}
	return w
}

// TestRegistryPinIsRefusedAndControllerRevokes is the attack of issue 19 on the contract: after
// attestation A at issuer sequence 1, a signature with 2^64-1 (or any jump) is refused; the issuer
// goes on at 2. And whatever the sequence, the DID's controller revokes alone: no key, no signature.
func TestRegistryPinIsRefusedAndControllerRevokes(t *testing.T) {
	c := newControlledCity(t)
	a := c.issue("key-1")
	pin := c.attestation("key-1", math.MaxUint64)
	c.refused(common.HexToAddress("0xbad"), c.packIssue(pin, sign(t, c.keys["key-1"], pin.signBytes())), "issuer sequence must be the last one plus one")
	c.refused(common.HexToAddress("0xbad"), c.reg.PackChangeStatus(a, c.did, "key-1", StatusSuspended, math.MaxUint64,
		revocationSig(t, c.keys["key-1"], a, c.did, "key-1", StatusSuspended, math.MaxUint64)), "issuer sequence must be the last one plus one")
	b := c.issue("key-2") // seq 2: the DID goes on

	// The controller revokes A: only the controller, only the issuer's attestation, once.
	c.refused(common.HexToAddress("0xbad"), c.reg.PackControllerRevoke(a, c.did), "caller is not the DID's controller")
	c.refused(c.admin, c.reg.PackControllerRevoke(a, c.did), "caller is not the DID's controller")
	c.refused(c.ctrl, c.reg.PackControllerRevoke(a, didtypes.FormatDID(testChainID, "other")), "not the attestation's issuer")
	var unknown [32]byte
	c.refused(c.ctrl, c.reg.PackControllerRevoke(unknown, c.did), "attestation not issued")
	c.mustCall(c.ctrl, c.reg.PackControllerRevoke(a, c.did))
	if w := c.word(a); w != (StatusWord{Status: StatusRevoked, Seq: 3, Block: c.block}) {
		t.Fatalf("status word after the controller's revocation %+v", w)
	}
	ev, err := c.reg.UnpackStatusChangedEvent(c.lastLog())
	if err != nil || ev.Id != a || ev.NewStatus != StatusRevoked || ev.IssuerSeq != 3 || ev.IssuerMethod != "" || len(ev.Signature) != 0 || ev.IssuerDid != c.did {
		t.Fatalf("StatusChanged of the controller's revocation %+v, %v", ev, err)
	}
	c.refused(c.ctrl, c.reg.PackControllerRevoke(a, c.did), "attestation is revoked")
	c.refused(common.HexToAddress("0xbad"), c.reg.PackChangeStatus(a, c.did, "key-1", StatusActive, 4,
		revocationSig(t, c.keys["key-1"], a, c.did, "key-1", StatusActive, 4)), "attestation is revoked")

	// A DID pinned before this rule (its slot at 2^64-1, as the old contract allowed): the issuer's keys
	// can do nothing more, its controller still revokes, at the maximum sequence.
	c.state.SetState(c.addr, MappingSlot(IssuerSeqKey(c.did), SlotIssuerSeqs), common.BigToHash(new(big.Int).SetUint64(math.MaxUint64)))
	c.refused(common.HexToAddress("0xbad"), c.reg.PackChangeStatus(b, c.did, "key-2", StatusRevoked, 5,
		revocationSig(t, c.keys["key-2"], b, c.did, "key-2", StatusRevoked, 5)), "stale issuer sequence")
	c.mustCall(c.ctrl, c.reg.PackControllerRevoke(b, c.did))
	if w := c.word(b); w.Status != StatusRevoked || w.Seq != math.MaxUint64 {
		t.Fatalf("pinned DID: status word after the controller's revocation %+v", w)
	}
}

// TestRegistryRevokeLeakedKey: key-1 leaks; the attacker issues with it. The controller removes the
// key and revokes what it signed from the leak's block on, at most 3 entries per call, resuming with
// the returned cursor; what key-1 signed before and what key-2 signed stay active; the key signs
// nothing more.
func TestRegistryRevokeLeakedKey(t *testing.T) {
	c := newControlledCity(t)
	var legit, forged [][32]byte
	for range 3 {
		legit = append(legit, c.issue("key-1"), c.issue("key-2"))
	}
	g := c.attestation("key-2", c.next())
	_, gas := c.gasOf(common.HexToAddress("0xa77ac"), c.packIssue(g, sign(t, c.keys["key-2"], g.signBytes())))
	t.Logf("issue: gas %d (execution, without the intrinsic 21000 and calldata), the signedBy entry included", gas)
	c.block += 100
	leakBlock := c.block + 1
	for range 7 {
		forged = append(forged, c.issue("key-1"))
	}
	// The issuer itself already revoked one forged attestation: the walk skips it.
	seq := c.next()
	c.mustCall(c.ctrl, c.reg.PackChangeStatus(forged[2], c.did, "key-2", StatusRevoked, seq,
		revocationSig(t, c.keys["key-2"], forged[2], c.did, "key-2", StatusRevoked, seq)))

	c.refused(common.HexToAddress("0xbad"), c.reg.PackRevokeLeakedKey(c.did, "key-1", leakBlock, big.NewInt(0), big.NewInt(3)), "caller is not the DID's controller")
	c.refused(c.ctrl, c.reg.PackRevokeLeakedKey(c.did, "key-1", leakBlock, big.NewInt(0), big.NewInt(101)), "maxCount must be 1 to")
	c.refused(c.ctrl, c.reg.PackRevokeLeakedKey(c.did, "key-1", leakBlock, big.NewInt(0), big.NewInt(0)), "maxCount must be 1 to")

	start := big.NewInt(0)
	var calls []RevokeLeakedKeyOutput
	for {
		ret, gas := c.gasOf(c.ctrl, c.reg.PackRevokeLeakedKey(c.did, "key-1", leakBlock, start, big.NewInt(3)))
		out, err := c.reg.UnpackRevokeLeakedKey(ret)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("revokeLeakedKey from %s: next %s, more %v, gas %d", start, out.Next, out.More, gas)
		calls = append(calls, out)
		if len(calls) == 1 {
			if got := c.slot(MappingSlot(KeyID(c.did, "key-1"), SlotKeys)); got != (common.Hash{}) {
				t.Fatalf("key-1 still set after the first call: %s", got)
			}
		}
		if !out.More {
			break
		}
		if len(calls) > 5 {
			t.Fatal("revocation does not end")
		}
		start = out.Next
	}
	// Entries 3..9 of key-1's index (3 legit before the leak): [3,6) [6,9) [9,10).
	if len(calls) != 3 || calls[0].Next.Int64() != 6 || calls[1].Next.Int64() != 9 || calls[2].Next.Int64() != 10 {
		t.Fatalf("calls %+v", calls)
	}
	for i, id := range forged {
		w := c.word(id)
		if w.Status != StatusRevoked {
			t.Fatalf("forged %d is %d", i, w.Status)
		}
	}
	for i, id := range legit {
		if w := c.word(id); w.Status != StatusActive {
			t.Fatalf("legit %d is %d", i, w.Status)
		}
	}
	if n, _ := c.reg.UnpackSignedCount(c.view(c.reg.PackSignedCount(c.did, "key-1"))); n.Int64() != 10 {
		t.Fatalf("signedCount %s, want 10", n)
	}
	z := c.attestation("key-1", c.next())
	c.refused(common.HexToAddress("0xa77ac"), c.packIssue(z, sign(t, c.keys["key-1"], z.signBytes())), "signer is not the issuer's key")
	c.issue("key-2")

	// revokeKey alone, for the controller only.
	c.refused(common.HexToAddress("0xbad"), c.reg.PackRevokeKey(c.did, "key-2"), "caller is not the DID's controller")
	c.mustCall(c.ctrl, c.reg.PackRevokeKey(c.did, "key-2"))
	c.refused(c.ctrl, c.reg.PackRevokeKey(c.did, "key-2"), "no such key")
	kr, err := c.reg.UnpackKeyRevokedEvent(c.lastLog())
	if err != nil || kr.Did != c.did || kr.Method != "key-2" {
		t.Fatalf("KeyRevoked %+v, %v", kr, err)
	}
}
