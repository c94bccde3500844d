package contracts

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	gethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/core/vm/runtime"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

const testChainID = "gimpo-evm"

// londonConfig is a chain at London and nothing later, like a QBFT city chain: the contract is compiled
// for evmVersion london, so it must not use later opcodes (PUSH0, MCOPY, transient storage).
var londonConfig = &params.ChainConfig{
	ChainID:             big.NewInt(1337),
	HomesteadBlock:      new(big.Int),
	EIP150Block:         new(big.Int),
	EIP155Block:         new(big.Int),
	EIP158Block:         new(big.Int),
	ByzantiumBlock:      new(big.Int),
	ConstantinopleBlock: new(big.Int),
	PetersburgBlock:     new(big.Int),
	IstanbulBlock:       new(big.Int),
	MuirGlacierBlock:    new(big.Int),
	BerlinBlock:         new(big.Int),
	LondonBlock:         new(big.Int),
}

// evmChain runs the registry in go-ethereum's EVM over an in-memory state, one call per "block".
type evmChain struct {
	t     *testing.T
	state *state.StateDB
	addr  common.Address
	reg   *CityAttestationRegistry
	admin common.Address
	block uint64
}

func (c *evmChain) config(from common.Address) *runtime.Config {
	return &runtime.Config{
		ChainConfig: londonConfig,
		Origin:      from,
		BlockNumber: new(big.Int).SetUint64(c.block),
		GasLimit:    30_000_000,
		State:       c.state,
	}
}

// deploy creates a registry for testChainID from the embedded creation code.
func deploy(t *testing.T) *evmChain {
	t.Helper()
	st, err := state.New(gethtypes.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		t.Fatal(err)
	}
	c := &evmChain{t: t, state: st, reg: NewCityAttestationRegistry(), admin: common.HexToAddress("0xad"), block: 10}
	code, addr, _, err := runtime.Create(DeployData(testChainID), c.config(c.admin))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	c.addr = addr
	chainID := londonConfig.ChainID.Uint64()
	if !bytes.Equal(code, RuntimeCodeFor(chainID)) {
		t.Fatalf("deployed code differs from RuntimeCodeFor(%d): the embedded bin-runtime with the chain id at the immutable's offsets", chainID)
	}
	if got := st.GetCodeHash(addr); got != RuntimeCodeHashFor(chainID) {
		t.Fatalf("code hash %s, want RuntimeCodeHashFor(%d) %s", got, chainID, RuntimeCodeHashFor(chainID))
	}
	t.Logf("registry deployed, %d bytes of runtime code, code hash %s", len(code), RuntimeCodeHashFor(chainID))
	return c
}

// call runs input as a transaction from from in the next block; a revert comes back as an error with
// the contract's reason.
func (c *evmChain) call(from common.Address, input []byte) ([]byte, error) {
	c.t.Helper()
	c.block++
	ret, _, err := runtime.Call(c.addr, input, c.config(from))
	if errors.Is(err, vm.ErrExecutionReverted) {
		reason, uerr := abi.UnpackRevert(ret)
		if uerr != nil {
			return nil, fmt.Errorf("reverted without a reason: %x", ret)
		}
		return nil, fmt.Errorf("reverted: %s", reason)
	}
	return ret, err
}

// view runs a read-only call without advancing the block.
func (c *evmChain) view(input []byte) []byte {
	c.t.Helper()
	ret, _, err := runtime.Call(c.addr, input, c.config(common.Address{}))
	if err != nil {
		c.t.Fatalf("view: %v", err)
	}
	return ret
}

func (c *evmChain) mustCall(from common.Address, input []byte) []byte {
	c.t.Helper()
	ret, err := c.call(from, input)
	if err != nil {
		c.t.Fatal(err)
	}
	return ret
}

// refused checks that input reverts with a reason containing want, and changes no storage.
func (c *evmChain) refused(from common.Address, input []byte, want string) {
	c.t.Helper()
	root := c.root()
	_, err := c.call(from, input)
	if err == nil || !strings.Contains(err.Error(), want) {
		c.t.Fatalf("got %v, want a revert with %q", err, want)
	}
	if c.root() != root {
		c.t.Fatal("a refused call changed the state")
	}
}

// root is the state root with every call so far applied.
func (c *evmChain) root() common.Hash {
	return c.state.IntermediateRoot(londonConfig.Rules(new(big.Int).SetUint64(c.block), true, 0))
}

func (c *evmChain) slot(slot common.Hash) common.Hash { return c.state.GetState(c.addr, slot) }

// lastLog is the last log the registry emitted.
func (c *evmChain) lastLog() *gethtypes.Log {
	logs := c.state.Logs()
	if len(logs) == 0 {
		c.t.Fatal("no logs")
	}
	return logs[len(logs)-1]
}

// attestation is the fields of an issue call.
type attestation struct {
	issuerDID, issuerMethod, subjectDID, credentialType string
	digest                                              []byte
	validFrom, validUntil                               int64
	issuerSeq                                           uint64
}

func (a attestation) signBytes() []byte {
	return didtypes.AttestationSignBytes(testChainID, a.issuerDID, a.issuerMethod, a.subjectDID, a.credentialType, a.digest,
		a.validFrom, a.validUntil, a.issuerSeq)
}

// sign is what an issuer wallet does: a 65-byte r ‖ s ‖ v (v ∈ {0, 1}) signature over sha256(signBytes).
func sign(t *testing.T, priv *ecdsa.PrivateKey, signBytes []byte) []byte {
	t.Helper()
	h := sha256.Sum256(signBytes)
	sig, err := crypto.Sign(h[:], priv)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func (c *evmChain) packIssue(a attestation, sig []byte) []byte {
	return c.reg.PackIssue(a.issuerDID, a.issuerMethod, a.subjectDID, a.credentialType, a.digest, a.validFrom, a.validUntil,
		a.issuerSeq, sig)
}

func revocationSig(t *testing.T, priv *ecdsa.PrivateKey, id [32]byte, issuerDID, method string, status uint8, seq uint64) []byte {
	t.Helper()
	sb := didtypes.RevocationSignBytes(testChainID, IDHex(id), issuerDID, method, didtypes.AttestationStatus(status), seq)
	return sign(t, priv, sb)
}

func TestRegistryInEVM(t *testing.T) {
	c := deploy(t)
	reg := c.reg

	issuerDID := didtypes.FormatDID(testChainID, "city-hall")
	issuerKey, _ := crypto.GenerateKey()
	rotatedKey, _ := crypto.GenerateKey()
	otherKey, _ := crypto.GenerateKey()
	issuerAddr := crypto.PubkeyToAddress(issuerKey.PublicKey)
	stranger := common.HexToAddress("0x5757")

	// Constructor state.
	if got, _ := reg.UnpackAdmin(c.view(reg.PackAdmin())); got != c.admin {
		t.Fatalf("admin %s, want the deployer %s", got, c.admin)
	}
	if got, _ := reg.UnpackChainId(c.view(reg.PackChainId())); got != testChainID {
		t.Fatalf("chainId %q", got)
	}

	// Administration.
	c.refused(stranger, reg.PackSetKey(issuerDID, "key-1", issuerAddr), "caller is not the admin")
	c.refused(stranger, reg.PackSetTrusted("residency-card", issuerDID, true), "caller is not the admin")
	c.refused(c.admin, reg.PackSetKey("did:city:seoul:city-hall", "key-1", issuerAddr), "not a DID of this city")
	c.refused(c.admin, reg.PackSetKey("did:city:"+testChainID+":", "key-1", issuerAddr), "not a DID of this city")
	c.mustCall(c.admin, reg.PackSetKey(issuerDID, "key-1", issuerAddr))
	c.mustCall(c.admin, reg.PackSetKey(issuerDID, "key-2", crypto.PubkeyToAddress(rotatedKey.PublicKey)))
	c.mustCall(c.admin, reg.PackSetTrusted("residency-card", issuerDID, true))
	if got := c.slot(MappingSlot(KeyID(issuerDID, "key-1"), SlotKeys)); common.BytesToAddress(got[:]) != issuerAddr {
		t.Fatalf("keys slot holds %s", got)
	}
	if got := c.slot(MappingSlot(TrustKey("residency-card", issuerDID), SlotTrusted)); got != common.BigToHash(big.NewInt(1)) {
		t.Fatalf("trusted slot holds %s", got)
	}

	// Issue: the id is sha256 of x/did's signing bytes; the proven slots hold what layout.go says.
	a := attestation{
		issuerDID: issuerDID, issuerMethod: "key-1", subjectDID: didtypes.FormatDID(testChainID, "citizen-1"),
		credentialType: "residency-card", digest: bytes.Repeat([]byte{0xd1}, 32),
		validFrom: -86400, validUntil: 1_900_000_000, issuerSeq: 1, // a negative int64 exercises two's complement
	}
	sig := sign(t, issuerKey, a.signBytes())
	ret := c.mustCall(stranger, c.packIssue(a, sig)) // anyone may submit a signed attestation
	issuedBlock := c.block
	id, err := reg.UnpackIssue(ret)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(a.signBytes()); id != want {
		t.Fatalf("id %x, want sha256(AttestationSignBytes) %x", id, want)
	}
	if IDHex(id) != didtypes.AttestationID(a.signBytes()) {
		t.Fatal("IDHex(id) is not x/did's attestation id")
	}
	if got, want := c.slot(IssuedSlot(id)), IssuedCommitment(id, issuerAddr, issuedBlock); got != want {
		t.Fatalf("issued[id] = %s, want IssuedCommitment %x", got, want)
	}
	word, err := DecodeStatusWord(c.slot(StatusSlot(id)))
	if err != nil || word != (StatusWord{Status: StatusActive}) {
		t.Fatalf("status[id] = %+v, %v; want active", word, err)
	}
	if got := c.slot(MappingSlot(id, SlotIssuerOf)); got != KeyID(issuerDID, "key-1") {
		t.Fatalf("issuerOf[id] = %s", got)
	}
	if got := c.slot(MappingSlot(id, SlotIssuerDIDOf)); got != IssuerSeqKey(issuerDID) {
		t.Fatalf("issuerDidOf[id] = %s", got)
	}
	if got := c.slot(MappingSlot(IssuerSeqKey(issuerDID), SlotIssuerSeqs)); got != common.BigToHash(big.NewInt(1)) {
		t.Fatalf("issuerSeqs = %s", got)
	}
	ev, err := reg.UnpackIssuedEvent(c.lastLog())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Id != id || ev.IssuerDid != issuerDID || ev.SubjectDid != a.subjectDID || ev.ValidFrom != a.validFrom ||
		ev.IssuerSeq != 1 || !bytes.Equal(ev.Signature, sig) || !bytes.Equal(ev.Digest, a.digest) || ev.IssuedBlock != issuedBlock {
		t.Fatalf("Issued event %+v", ev)
	}

	// Refused issues. Each uses a fresh sequence so only the fault under test can refuse it.
	next := func(mod func(*attestation)) attestation {
		b := a
		b.issuerSeq = 2
		b.subjectDID = didtypes.FormatDID(testChainID, "citizen-2")
		if mod != nil {
			mod(&b)
		}
		return b
	}
	b := next(nil)
	c.refused(stranger, c.packIssue(b, sign(t, otherKey, b.signBytes())), "signer is not the issuer's key")
	c.refused(stranger, c.packIssue(b, sign(t, rotatedKey, b.signBytes())), "signer is not the issuer's key") // key-2's key for key-1
	c.refused(stranger, c.packIssue(b, sign(t, issuerKey, a.signBytes())), "signer is not the issuer's key")  // signature over other bytes
	c.refused(stranger, c.packIssue(b, highS(sign(t, issuerKey, b.signBytes()))), "signature s is high")
	badV := sign(t, issuerKey, b.signBytes())
	badV[64] = 2
	c.refused(stranger, c.packIssue(b, badV), "signature v is invalid")
	c.refused(stranger, c.packIssue(b, sign(t, issuerKey, b.signBytes())[:64]), "signature must be 65 bytes")
	u := next(func(x *attestation) { x.credentialType = "business-licence" })
	c.refused(stranger, c.packIssue(u, sign(t, issuerKey, u.signBytes())), "not trusted for the credential type")
	f := next(func(x *attestation) { x.issuerDID = "did:city:seoul:city-hall" })
	c.refused(stranger, c.packIssue(f, sign(t, issuerKey, f.signBytes())), "issuer is not a DID of this city")
	r := next(func(x *attestation) { x.issuerSeq = 1 }) // reused
	c.refused(stranger, c.packIssue(r, sign(t, issuerKey, r.signBytes())), "stale issuer sequence")
	l := next(func(x *attestation) { x.issuerSeq = 0 }) // lower
	c.refused(stranger, c.packIssue(l, sign(t, issuerKey, l.signBytes())), "stale issuer sequence")
	g := next(func(x *attestation) { x.issuerSeq = 3 }) // a jump
	c.refused(stranger, c.packIssue(g, sign(t, issuerKey, g.signBytes())), "issuer sequence must be the last one plus one")
	c.refused(stranger, c.packIssue(a, sig), "stale issuer sequence") // a replay of the first issue

	// v may also be 27/28.
	b27 := next(nil)
	sig27 := sign(t, issuerKey, b27.signBytes())
	sig27[64] += 27
	id2, err := reg.UnpackIssue(c.mustCall(stranger, c.packIssue(b27, sig27)))
	if err != nil || id2 != AttestationID(b27.signBytes()) {
		t.Fatalf("issue with v+27: %x, %v", id2, err)
	}

	// Status changes: signed over x/did's RevocationSignBytes with the hex id, by any method of the
	// issuer's DID.
	suspend := revocationSig(t, rotatedKey, id, issuerDID, "key-2", StatusSuspended, 3)
	c.refused(stranger, reg.PackChangeStatus(id, issuerDID, "key-2", StatusSuspended, 3, revocationSig(t, otherKey, id, issuerDID, "key-2", StatusSuspended, 3)),
		"signer is not the issuer's key")
	c.refused(stranger, reg.PackChangeStatus(id, issuerDID, "key-2", StatusSuspended, 2, revocationSig(t, rotatedKey, id, issuerDID, "key-2", StatusSuspended, 2)),
		"stale issuer sequence")
	c.refused(stranger, reg.PackChangeStatus(id, issuerDID, "key-2", StatusSuspended, 3, highS(suspend)), "signature s is high")
	c.refused(stranger, reg.PackChangeStatus(id, issuerDID, "key-2", StatusActive, 3, revocationSig(t, rotatedKey, id, issuerDID, "key-2", StatusActive, 3)),
		"status unchanged")
	c.refused(stranger, reg.PackChangeStatus(id, issuerDID, "key-2", 4, 3, revocationSig(t, rotatedKey, id, issuerDID, "key-2", 4, 3)),
		"invalid status")
	otherDID := didtypes.FormatDID(testChainID, "other")
	c.mustCall(c.admin, reg.PackSetKey(otherDID, "key-1", crypto.PubkeyToAddress(otherKey.PublicKey)))
	c.refused(stranger, reg.PackChangeStatus(id, otherDID, "key-1", StatusSuspended, 1, revocationSig(t, otherKey, id, otherDID, "key-1", StatusSuspended, 1)),
		"not the attestation's issuer")
	var unknown [32]byte
	c.refused(stranger, reg.PackChangeStatus(unknown, issuerDID, "key-2", StatusSuspended, 3, revocationSig(t, rotatedKey, unknown, issuerDID, "key-2", StatusSuspended, 3)),
		"attestation not issued")

	c.mustCall(stranger, reg.PackChangeStatus(id, issuerDID, "key-2", StatusSuspended, 3, suspend))
	word, err = DecodeStatusWord(c.slot(StatusSlot(id)))
	if want := (StatusWord{Status: StatusSuspended, Seq: 3, Block: c.block}); err != nil || word != want {
		t.Fatalf("status after suspend %+v, %v; want %+v", word, err, want)
	}
	sc, err := reg.UnpackStatusChangedEvent(c.lastLog())
	if err != nil || sc.Id != id || sc.NewStatus != StatusSuspended || sc.IssuerMethod != "key-2" || sc.IssuerSeq != 3 ||
		!bytes.Equal(sc.Signature, suspend) || sc.StatusBlock != c.block {
		t.Fatalf("StatusChanged event %+v, %v", sc, err)
	}
	c.refused(stranger, reg.PackChangeStatus(id, issuerDID, "key-2", StatusSuspended, 3, suspend), "status unchanged")

	revoke := revocationSig(t, issuerKey, id, issuerDID, "key-1", StatusRevoked, 4)
	c.mustCall(stranger, reg.PackChangeStatus(id, issuerDID, "key-1", StatusRevoked, 4, revoke))
	revokedBlock := c.block
	word, err = DecodeStatusWord(c.slot(StatusSlot(id)))
	if want := (StatusWord{Status: StatusRevoked, Seq: 4, Block: revokedBlock}); err != nil || word != want {
		t.Fatalf("status after revoke %+v, %v; want %+v", word, err, want)
	}
	if got, _ := reg.UnpackStatus(c.view(reg.PackStatus(id))); got.Cmp(new(big.Int).SetBytes(c.slot(StatusSlot(id)).Bytes())) != 0 {
		t.Fatalf("status(id) getter %s disagrees with the slot", got)
	}

	// Revoked is final.
	c.refused(stranger, reg.PackChangeStatus(id, issuerDID, "key-1", StatusActive, 5, revocationSig(t, issuerKey, id, issuerDID, "key-1", StatusActive, 5)),
		"attestation is revoked")
	c.refused(stranger, reg.PackChangeStatus(id, issuerDID, "key-1", StatusRevoked, 5, revocationSig(t, issuerKey, id, issuerDID, "key-1", StatusRevoked, 5)),
		"attestation is revoked")

	// Removing a key stops it from signing.
	c.mustCall(c.admin, reg.PackSetKey(issuerDID, "key-1", common.Address{}))
	z := next(func(x *attestation) { x.issuerSeq = 5 })
	c.refused(stranger, c.packIssue(z, sign(t, issuerKey, z.signBytes())), "signer is not the issuer's key")

	// The issued commitment was never touched by status changes.
	if got, want := c.slot(IssuedSlot(id)), IssuedCommitment(id, issuerAddr, issuedBlock); got != want {
		t.Fatalf("issued[id] changed: %s", got)
	}
}

// TestRecoverSignerMatchesContract checks RecoverSigner against the contract on the same signatures.
func TestRecoverSignerMatchesContract(t *testing.T) {
	c := deploy(t)
	issuerDID := didtypes.FormatDID(testChainID, "issuer")
	key, _ := crypto.GenerateKey()
	c.mustCall(c.admin, c.reg.PackSetKey(issuerDID, "k", crypto.PubkeyToAddress(key.PublicKey)))
	c.mustCall(c.admin, c.reg.PackSetTrusted("t", issuerDID, true))

	for seq := uint64(1); seq <= 6; seq++ {
		a := attestation{issuerDID: issuerDID, issuerMethod: "k", subjectDID: "s", credentialType: "t", validUntil: 1, issuerSeq: seq}
		sig := sign(t, key, a.signBytes())
		withV := func(add byte) []byte {
			s := bytes.Clone(sig)
			s[64] += add
			return s
		}
		// Refused variants first, then one accepted (which uses up the sequence).
		variants := [][]byte{highS(sig), highS(withV(27)), withV(2), withV(29), sig[:64], withV(27 * byte(seq%2))}
		for i, s := range variants {
			want, goErr := RecoverSigner(AttestationID(a.signBytes()), s)
			_, evmErr := c.call(common.Address{1}, c.packIssue(a, s))
			if (goErr == nil) != (evmErr == nil) {
				t.Fatalf("seq %d variant %d: RecoverSigner %v, contract %v", seq, i, goErr, evmErr)
			}
			if last := i == len(variants)-1; last != (evmErr == nil) {
				t.Fatalf("seq %d variant %d: contract %v", seq, i, evmErr)
			}
			if evmErr == nil && want != crypto.PubkeyToAddress(key.PublicKey) {
				t.Fatalf("seq %d: RecoverSigner = %s", seq, want)
			}
		}
	}
}
