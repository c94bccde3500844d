package qbftclient_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	storetypes "cosmossdk.io/store/types"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clientkeeper "github.com/cosmos/ibc-go/v8/modules/core/02-client/keeper"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	"github.com/cosmos/ibc-go/v8/modules/core/exported"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

const city = "gimpo-evm"

// fixture is ibc-go's real 02-client keeper over an in-memory store, and a 4-validator EVM devnet
// with the city's contracts.
type fixture struct {
	t      *testing.T
	ctx    sdk.Context
	cdc    codec.BinaryCodec
	k      clientkeeper.Keeper
	chain  *evmdevnet.Chain
	city   *evmdevnet.City
	params qbftclient.ClientState
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	chain, c := testnet.EVMCity(t, evmdevnet.Config{ChainID: 7001, Validators: 4}, city, "residency")
	reg := codectypes.NewInterfaceRegistry()
	clienttypes.RegisterInterfaces(reg)
	qbftclient.RegisterInterfaces(reg)
	cdc := codec.NewProtoCodec(reg)
	key := storetypes.NewKVStoreKey("ibc")
	tctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("transient_ibc"))
	ctx := tctx.Ctx.WithBlockTime(time.Now()).WithGasMeter(storetypes.NewInfiniteGasMeter())
	k := clientkeeper.NewKeeper(cdc, key, nil, nil, nil)
	k.SetParams(ctx, clienttypes.DefaultParams())
	k.SetNextClientSequence(ctx, 0)
	return &fixture{t: t, ctx: ctx, cdc: cdc, k: k, chain: chain, city: c, params: qbftclient.ClientState{
		EvmChainId: 7001, CityChainId: city, RegistryAddress: c.Registry.Bytes(),
		RegistryCodeHash: contracts.RuntimeCodeHashFor(7001).Bytes(), TrustingPeriod: 3600, MaxClockDrift: 10}}
}

func (f *fixture) accountProof(n uint64, slots ...common.Hash) ([][]byte, map[common.Hash][][]byte) {
	f.t.Helper()
	res, err := f.chain.Proof(f.city.Registry, slots, n)
	if err != nil {
		f.t.Fatal(err)
	}
	decode := func(nodes []string) [][]byte {
		out := make([][]byte, len(nodes))
		for i, s := range nodes {
			out[i] = hexutil.MustDecode(s)
		}
		return out
	}
	storage := map[common.Hash][][]byte{}
	for _, sp := range res.StorageProof {
		storage[common.HexToHash(sp.Key)] = decode(sp.Proof)
	}
	return decode(res.AccountProof), storage
}

func (f *fixture) header(n, trusted uint64) *qbftclient.Header {
	f.t.Helper()
	raw, err := f.chain.RawHeader(n)
	if err != nil {
		f.t.Fatal(err)
	}
	acct, _ := f.accountProof(n)
	return &qbftclient.Header{HeaderRlp: raw, AccountProof: acct, TrustedHeight: trusted}
}

func (f *fixture) create(params qbftclient.ClientState) (string, uint64) {
	f.t.Helper()
	n := f.chain.Height()
	h := f.header(n, 0)
	cs, cons, err := qbftclient.NewClient(params, h.HeaderRlp, h.AccountProof)
	if err != nil {
		f.t.Fatal(err)
	}
	id, err := f.k.CreateClient(f.ctx, cs, cons)
	if err != nil {
		f.t.Fatal(err)
	}
	return id, n
}

func (f *fixture) clientState(id string) *qbftclient.ClientState {
	cs, ok := f.k.GetClientState(f.ctx, id)
	if !ok {
		f.t.Fatalf("no client %s", id)
	}
	return cs.(*qbftclient.ClientState)
}

func (f *fixture) status(id string) exported.Status {
	return f.k.GetClientStatus(f.ctx, f.clientState(id), id)
}

// verifySlot proves slot = want at height through the client as x/did does.
func (f *fixture) verifySlot(id string, height uint64, slot common.Hash, want [32]byte, proof [][]byte) error {
	cs := f.clientState(id)
	return cs.VerifyMembership(f.ctx, f.k.ClientStore(f.ctx, id), f.cdc, qbftclient.Height(height), 0, 0,
		qbftclient.EncodeProof(proof), qbftclient.SlotPath(slot), want[:])
}

func TestCreateUpdateProve(t *testing.T) {
	f := newFixture(t)
	id, h0 := f.create(f.params)
	if !strings.HasPrefix(id, qbftclient.ClientType+"-") || f.status(id) != exported.Active {
		t.Fatalf("client %s is %s", id, f.status(id))
	}

	a, err := f.city.Issue("did:city:bucheon-1:alice", "residency", bytes.Repeat([]byte{7}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	h1 := f.chain.Height()
	gasBefore := f.ctx.GasMeter().GasConsumed()
	if err := f.k.UpdateClient(f.ctx, id, f.header(h1, h0)); err != nil {
		t.Fatalf("update to %d: %v", h1, err)
	}
	if used := f.ctx.GasMeter().GasConsumed() - gasBefore; used < 4*qbftclient.SealRecoveryGas {
		t.Fatalf("update used %d gas, less than 4 seal recoveries", used)
	}
	if got := f.clientState(id).LatestHeight; got != h1 {
		t.Fatalf("latest height %d, want %d", got, h1)
	}

	issued := contracts.IssuedCommitment(a.ID, crypto.PubkeyToAddress(f.city.Key.PublicKey), a.Block)
	_, proofs := f.accountProof(h1, contracts.IssuedSlot(a.ID), contracts.StatusSlot(a.ID))
	if err := f.verifySlot(id, h1, contracts.IssuedSlot(a.ID), issued, proofs[contracts.IssuedSlot(a.ID)]); err != nil {
		t.Fatalf("issued slot: %v", err)
	}
	active := contracts.StatusWord{Status: contracts.StatusActive}.Encode()
	if err := f.verifySlot(id, h1, contracts.StatusSlot(a.ID), active, proofs[contracts.StatusSlot(a.ID)]); err != nil {
		t.Fatalf("status slot: %v", err)
	}
	// Refused: a wrong value, the proof of another slot, a proof at a height the client never verified.
	revoked := contracts.StatusWord{Status: contracts.StatusRevoked, Seq: 9, Block: h1}.Encode()
	if err := f.verifySlot(id, h1, contracts.StatusSlot(a.ID), revoked, proofs[contracts.StatusSlot(a.ID)]); err == nil {
		t.Fatal("a status the registry never held was proven")
	}
	if err := f.verifySlot(id, h1, contracts.StatusSlot(a.ID), issued, proofs[contracts.IssuedSlot(a.ID)]); err == nil {
		t.Fatal("the issued slot's proof was accepted for the status slot")
	}
	if err := f.verifySlot(id, h1+5, contracts.IssuedSlot(a.ID), issued, proofs[contracts.IssuedSlot(a.ID)]); !errors.Is(err, clienttypes.ErrConsensusStateNotFound) {
		t.Fatalf("proof at an unverified height: %v", err)
	}
	// Absence: an id never issued.
	var other [32]byte
	other[0] = 1
	_, absent := f.accountProof(h1, contracts.IssuedSlot(other))
	cs := f.clientState(id)
	if err := cs.VerifyNonMembership(f.ctx, f.k.ClientStore(f.ctx, id), f.cdc, qbftclient.Height(h1), 0, 0,
		qbftclient.EncodeProof(absent[contracts.IssuedSlot(other)]), qbftclient.SlotPath(contracts.IssuedSlot(other))); err != nil {
		t.Fatalf("absence of an unknown id: %v", err)
	}
	if err := cs.VerifyNonMembership(f.ctx, f.k.ClientStore(f.ctx, id), f.cdc, qbftclient.Height(h1), 0, 0,
		qbftclient.EncodeProof(proofs[contracts.IssuedSlot(a.ID)]), qbftclient.SlotPath(contracts.IssuedSlot(a.ID))); err == nil {
		t.Fatal("an issued attestation was proven absent")
	}
}

func TestUpdatesRefused(t *testing.T) {
	f := newFixture(t)
	id, h0 := f.create(f.params)
	if _, err := f.chain.Mine(); err != nil {
		t.Fatal(err)
	}

	// 2 of 4 seals: no quorum.
	f.chain.SetSealers(2)
	n, err := f.chain.Mine()
	if err != nil {
		t.Fatal(err)
	}
	f.chain.SetSealers(4)
	if err := f.k.UpdateClient(f.ctx, id, f.header(n, h0)); err == nil || !strings.Contains(err.Error(), "not enough committed seals") {
		t.Fatalf("under-quorum header: %v", err)
	}
	n, err = f.chain.Mine()
	if err != nil {
		t.Fatal(err)
	}
	// A tampered account proof, and an account proof of another account (the dev account: no code).
	h := f.header(n, h0)
	h.AccountProof[len(h.AccountProof)-1] = append([]byte{}, h.AccountProof[len(h.AccountProof)-1]...)
	h.AccountProof[len(h.AccountProof)-1][5] ^= 1
	if err := f.k.UpdateClient(f.ctx, id, h); err == nil {
		t.Fatal("a tampered account proof was accepted")
	}
	// A state root changed after sealing.
	h = f.header(n, h0)
	h.HeaderRlp = bytes.Replace(h.HeaderRlp, f.stateRoot(n), bytes.Repeat([]byte{0xee}, 32), 1)
	if err := f.k.UpdateClient(f.ctx, id, h); err == nil {
		t.Fatal("a header whose state root changed after sealing was accepted")
	}
	// From a trusted height the client never verified.
	if err := f.k.UpdateClient(f.ctx, id, f.header(n, h0+1)); !errors.Is(err, clienttypes.ErrConsensusStateNotFound) {
		t.Fatalf("update from an unknown trusted height: %v", err)
	}
	// A client pinning another code hash is refused (since the registry's code holds its chain id, at
	// creation: TestCreateRefusesUnboundCodeHash; an account proof of another code hash in an update:
	// TestStagingNetAboveKnownHeights).
	other := f.params
	other.RegistryCodeHash = bytes.Repeat([]byte{1}, 32)
	hdr := f.header(n, 0)
	if _, _, err := qbftclient.NewClient(other, hdr.HeaderRlp, hdr.AccountProof); err == nil || !strings.Contains(err.Error(), "code hash") {
		t.Fatalf("another code hash: %v", err)
	}
	// The honest header still updates: nothing above changed the client.
	if err := f.k.UpdateClient(f.ctx, id, f.header(n, h0)); err != nil {
		t.Fatalf("honest update after refusals: %v", err)
	}
}

func (f *fixture) stateRoot(n uint64) []byte {
	h, err := f.chain.Header(n)
	if err != nil {
		f.t.Fatal(err)
	}
	return h.Root.Bytes()
}

func TestMisbehaviourFreezes(t *testing.T) {
	for _, how := range []string{"misbehaviour", "conflicting update"} {
		t.Run(how, func(t *testing.T) {
			f := newFixture(t)
			id, h0 := f.create(f.params)
			a, err := f.city.Issue("did:city:bucheon-1:bob", "residency", bytes.Repeat([]byte{9}, 32), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			n := f.chain.Height()
			honest := f.header(n, h0)
			forgedRLP, err := f.chain.Equivocate(n)
			if err != nil {
				t.Fatal(err)
			}
			forged := &qbftclient.Header{HeaderRlp: forgedRLP, AccountProof: honest.AccountProof, TrustedHeight: h0}
			switch how {
			case "misbehaviour":
				if err := f.k.UpdateClient(f.ctx, id, &qbftclient.Misbehaviour{Header_1: honest, Header_2: honest}); err == nil {
					t.Fatal("the same header twice was taken for misbehaviour")
				}
				// Seals alone prove a fork: no account proofs needed.
				sealedOnly := func(h *qbftclient.Header) *qbftclient.Header {
					return &qbftclient.Header{HeaderRlp: h.HeaderRlp, TrustedHeight: h.TrustedHeight}
				}
				underQuorum := sealedOnly(forged)
				f.chain.SetSealers(2)
				if underQuorum.HeaderRlp, err = f.chain.Equivocate(n); err != nil {
					t.Fatal(err)
				}
				f.chain.SetSealers(4)
				if err := f.k.UpdateClient(f.ctx, id, &qbftclient.Misbehaviour{Header_1: sealedOnly(honest), Header_2: underQuorum}); err == nil {
					t.Fatal("a conflicting header without a quorum of seals froze the client")
				}
				if err := f.k.UpdateClient(f.ctx, id, &qbftclient.Misbehaviour{Header_1: sealedOnly(honest), Header_2: sealedOnly(forged)}); err != nil {
					t.Fatalf("misbehaviour: %v", err)
				}
			default:
				if err := f.k.UpdateClient(f.ctx, id, honest); err != nil {
					t.Fatal(err)
				}
				if err := f.k.UpdateClient(f.ctx, id, forged); err != nil {
					t.Fatalf("conflicting header: %v", err)
				}
			}
			if st := f.status(id); st != exported.Frozen {
				t.Fatalf("client is %s after misbehaviour, want Frozen", st)
			}
			// A frozen client proves nothing, not even what is true.
			_, proofs := f.accountProof(h0, contracts.StatusSlot(a.ID))
			err = f.verifySlot(id, h0, contracts.StatusSlot(a.ID), contracts.StatusWord{Status: contracts.StatusActive}.Encode(), proofs[contracts.StatusSlot(a.ID)])
			if !errors.Is(err, clienttypes.ErrClientNotActive) {
				t.Fatalf("frozen client's membership: %v", err)
			}
			if err := f.k.UpdateClient(f.ctx, id, f.header(n, h0)); err == nil {
				t.Fatal("a frozen client was updated")
			}
		})
	}
}

func TestExpiredClientProvesNothing(t *testing.T) {
	f := newFixture(t)
	a, err := f.city.Issue("did:city:bucheon-1:carol", "residency", bytes.Repeat([]byte{3}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, h0 := f.create(f.params)
	_, proofs := f.accountProof(h0, contracts.StatusSlot(a.ID))
	word := contracts.StatusWord{Status: contracts.StatusActive}.Encode()
	if err := f.verifySlot(id, h0, contracts.StatusSlot(a.ID), word, proofs[contracts.StatusSlot(a.ID)]); err != nil {
		t.Fatalf("active client: %v", err)
	}
	f.ctx = f.ctx.WithBlockTime(time.Now().Add(2 * time.Hour)) // past the 1h trusting period
	if st := f.status(id); st != exported.Expired {
		t.Fatalf("status %s, want Expired", st)
	}
	if err := f.verifySlot(id, h0, contracts.StatusSlot(a.ID), word, proofs[contracts.StatusSlot(a.ID)]); !errors.Is(err, clienttypes.ErrClientNotActive) {
		t.Fatalf("expired client's membership: %v", err)
	}
	n, err := f.chain.Mine()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.k.UpdateClient(f.ctx, id, f.header(n, h0)); err == nil {
		t.Fatal("an expired client was updated")
	}
}

// TestUpdateStateIgnoresMisbehaviour: ibc-go's CheckTx calls UpdateState with whatever message passed
// VerifyClientMessage, misbehaviour included; it must store nothing and not panic.
func TestUpdateStateIgnoresMisbehaviour(t *testing.T) {
	f := newFixture(t)
	id, h0 := f.create(f.params)
	cs := f.clientState(id)
	heights := cs.UpdateState(f.ctx, f.cdc, f.k.ClientStore(f.ctx, id), &qbftclient.Misbehaviour{Header_1: f.header(h0, h0), Header_2: f.header(h0, h0)})
	if len(heights) != 0 || f.clientState(id).LatestHeight != h0 || f.status(id) != exported.Active {
		t.Fatalf("UpdateState with misbehaviour: heights %v, latest %d, %s", heights, f.clientState(id).LatestHeight, f.status(id))
	}
}

// ancestors are the raw headers of chain strictly between blocks from and to: the ancestry that
// proves block to (or a block sharing its parent) descends from block from.
func ancestors(t *testing.T, chain *evmdevnet.Chain, from, to uint64) [][]byte {
	t.Helper()
	var out [][]byte
	for n := from + 1; n < to; n++ {
		raw, err := chain.RawHeader(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// TestStagingNetDoesNotFreeze is issue 20 (4): the city's validator keys also seal a staging net (a
// second QBFT chain from the same validator seed, with the same registry at the same address). The
// staging net's block at a height the client verified is sealed by a quorum of the trusted
// validators, yet it is no misbehaviour of the city's chain: it must not freeze the client, neither as
// Misbehaviour nor as a conflicting update, and must not update it. A real equivocation on the city's
// chain still freezes it.
func TestStagingNetDoesNotFreeze(t *testing.T) {
	f := newFixture(t)
	staging, stagingAt := f.startStaging(7002)
	stagingHeader := func(n, trusted uint64, withAncestors bool) *qbftclient.Header {
		t.Helper()
		h := stagingAt(n, trusted)
		if withAncestors {
			h.Ancestors = ancestors(t, staging, trusted, n)
		}
		return h
	}

	id, h0 := f.create(f.params)
	for i := 0; i < 3; i++ {
		if _, err := f.chain.Mine(); err != nil {
			t.Fatal(err)
		}
	}
	n := f.chain.Height()
	for staging.Height() < n+1 {
		if _, err := staging.Mine(); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := f.stateRoot(n), stagingRoot(t, staging, n); bytes.Equal(a, b) {
		t.Fatal("staging and city blocks are the same: the test needs two chains")
	}
	// The staging block is sealed by a quorum of the trusted validators: only the ancestry tells.
	if err := f.k.UpdateClient(f.ctx, id, f.header(n, h0)); err != nil {
		t.Fatalf("honest update to %d: %v", n, err)
	}
	honest := f.header(n, h0)
	honest.Ancestors = ancestors(t, f.chain, h0, n)
	stored := f.consensus(id, n)

	refused := func(what string, msg exported.ClientMessage, reason string) {
		t.Helper()
		err := f.k.UpdateClient(f.ctx, id, msg)
		if st := f.status(id); st != exported.Active {
			t.Fatalf("%s: client is %s, want Active (%v)", what, st, err)
		}
		if err == nil || !strings.Contains(err.Error(), reason) {
			t.Fatalf("%s: want a refusal for %q, got %v", what, reason, err)
		}
		t.Logf("%s refused: %v", what, err)
	}
	const notDescendant, noAncestry = "not a descendant of trusted block", "ancestors between trusted block"
	refused("misbehaviour with the staging block, no ancestry", &qbftclient.Misbehaviour{Header_1: honest, Header_2: stagingHeader(n, h0, false)}, noAncestry)
	refused("misbehaviour with the staging block and the staging ancestry", &qbftclient.Misbehaviour{Header_1: honest, Header_2: stagingHeader(n, h0, true)}, notDescendant)
	refused("misbehaviour with the staging block first", &qbftclient.Misbehaviour{Header_1: stagingHeader(n, h0, true), Header_2: honest}, notDescendant)
	refused("conflicting update with the staging block", stagingHeader(n, h0, false), "does not prove it descends")
	refused("conflicting update with the staging block and its ancestry", stagingHeader(n, h0, true), notDescendant)
	refused("adjacent update with the staging block", stagingHeader(h0+1, h0, false), notDescendant)
	refused("skipping update with the staging block's ancestry", stagingHeader(n+1, h0, true), notDescendant)
	if got := f.consensus(id, n); !bytes.Equal(got.HeaderHash, stored.HeaderHash) {
		t.Fatalf("consensus state at %d changed to %x", n, got.HeaderHash)
	}
	if _, ok := f.k.GetClientConsensusState(f.ctx, id, qbftclient.Height(h0+1)); ok {
		t.Fatal("the staging block was stored as a consensus state")
	}

	// A true fork of the city's chain, with its ancestry, still freezes the client.
	forged, err := f.chain.Equivocate(n)
	if err != nil {
		t.Fatal(err)
	}
	mb := &qbftclient.Misbehaviour{Header_1: honest, Header_2: &qbftclient.Header{HeaderRlp: forged, TrustedHeight: h0, Ancestors: ancestors(t, f.chain, h0, n)}}
	gasBefore := f.ctx.GasMeter().GasConsumed()
	if err := f.k.UpdateClient(f.ctx, id, mb); err != nil {
		t.Fatalf("equivocation on the city's chain: %v", err)
	}
	t.Logf("misbehaviour with %d ancestors per header (%d bytes each): %d bytes, %d gas", len(mb.Header_2.Ancestors),
		len(mb.Header_2.Ancestors[0]), mb.Size(), f.ctx.GasMeter().GasConsumed()-gasBefore)
	if st := f.status(id); st != exported.Frozen {
		t.Fatalf("client is %s after a real equivocation, want Frozen", st)
	}
}

// startStaging starts a staging net of the fixture's city: another EVM chain (chainID) sealed by the
// same validator keys (same seed), with the same registry deployed by the same key at the same nonce,
// so at the same address. It returns the net and a builder of its client-update headers.
func (f *fixture) startStaging(chainID uint64) (*evmdevnet.Chain, func(n, trusted uint64) *qbftclient.Header) {
	t := f.t
	t.Helper()
	staging := testnet.EVM(t, evmdevnet.Config{ChainID: chainID, Validators: 4, Seed: evmdevnet.DefaultSeed,
		DevBalance: new(big.Int).Mul(evmdevnet.DefaultDevBalance, big.NewInt(2))})
	if fmt.Sprint(staging.Validators()) != fmt.Sprint(f.chain.Validators()) {
		t.Fatalf("staging validators %v, city's %v: the test needs the same keys", staging.Validators(), f.chain.Validators())
	}
	sc, err := staging.DeployCity(city, "residency")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Registry != f.city.Registry {
		t.Fatalf("staging registry at %s, city's at %s: the test needs the same address", sc.Registry, f.city.Registry)
	}
	return staging, func(n, trusted uint64) *qbftclient.Header {
		t.Helper()
		raw, err := staging.RawHeader(n)
		if err != nil {
			t.Fatal(err)
		}
		res, err := staging.Proof(sc.Registry, nil, n)
		if err != nil {
			t.Fatal(err)
		}
		var acct [][]byte
		for _, s := range res.AccountProof {
			acct = append(acct, hexutil.MustDecode(s))
		}
		return &qbftclient.Header{HeaderRlp: raw, AccountProof: acct, TrustedHeight: trusted}
	}
}

// TestStagingNetAboveKnownHeights is issue 20 (4)'s remaining gap: a staging net's block (same
// validator keys, another EVM chain id, the same registry at the same address) at a height above every
// height the client knows has no verified block to conflict with and carries no ancestry: its seals
// verify from the trusted validators. What refuses it is the registry's account proof: the registry's
// code holds block.chainid, so the staging registry's code hash is not the one the client pins. The
// honest client keeps updating afterwards, through that height.
func TestStagingNetAboveKnownHeights(t *testing.T) {
	f := newFixture(t)
	const stagingChainID = 7002
	staging, stagingHeader := f.startStaging(stagingChainID)
	if contracts.RuntimeCodeHashFor(7001) == contracts.RuntimeCodeHashFor(stagingChainID) {
		t.Fatal("the two chains' registries have one code hash")
	}
	for _, c := range []struct {
		chain *evmdevnet.Chain
		id    uint64
	}{{f.chain, 7001}, {staging, stagingChainID}} {
		code, err := c.chain.Code(f.city.Registry, c.chain.Height())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(code, contracts.RuntimeCodeFor(c.id)) {
			t.Fatalf("chain %d's registry code is not RuntimeCodeFor(%d)", c.id, c.id)
		}
	}

	id, h0 := f.create(f.params)
	for i := 0; i < 2; i++ {
		if _, err := f.chain.Mine(); err != nil {
			t.Fatal(err)
		}
	}
	n := f.chain.Height()
	if err := f.k.UpdateClient(f.ctx, id, f.header(n, h0)); err != nil {
		t.Fatalf("honest update to %d: %v", n, err)
	}
	m := n + 3 // above every height the client knows
	for staging.Height() < m {
		if _, err := staging.Mine(); err != nil {
			t.Fatal(err)
		}
	}
	// The staging block is sealed by a quorum of the trusted validators and its account proof is
	// sound: a client of the staging chain takes it. Only the binding tells the chains apart.
	sh := stagingHeader(m, n)
	stagingParams := f.params
	stagingParams.EvmChainId, stagingParams.RegistryCodeHash = stagingChainID, contracts.RuntimeCodeHashFor(stagingChainID).Bytes()
	if _, _, err := qbftclient.NewClient(stagingParams, sh.HeaderRlp, sh.AccountProof); err != nil {
		t.Fatalf("the staging block as the staging chain's client start: %v", err)
	}

	for _, trusted := range []uint64{n, h0} {
		hdr := stagingHeader(m, trusted)
		err := f.k.UpdateClient(f.ctx, id, hdr)
		if err == nil || !errors.Is(err, clienttypes.ErrInvalidHeader) || !strings.Contains(err.Error(), "code hash is not the pinned one") ||
			!strings.Contains(err.Error(), "not the registry of EVM chain 7001") {
			t.Fatalf("skipping update to staging block %d from trusted %d: want a refusal naming the code hash and the chain, got %v", m, trusted, err)
		}
		t.Logf("staging block %d from trusted %d refused: %v", m, trusted, err)
	}
	if st := f.status(id); st != exported.Active {
		t.Fatalf("client is %s after the staging updates, want Active", st)
	}
	if got := f.clientState(id).LatestHeight; got != n {
		t.Fatalf("latest height %d after the staging updates, want %d", got, n)
	}
	if _, ok := f.k.GetClientConsensusState(f.ctx, id, qbftclient.Height(m)); ok {
		t.Fatal("the staging block was stored as a consensus state")
	}

	// The honest client keeps updating: to the next block, and through the staging block's height.
	for f.chain.Height() < m+1 {
		if _, err := f.chain.Mine(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.k.UpdateClient(f.ctx, id, f.header(n+1, n)); err != nil {
		t.Fatalf("honest adjacent update to %d after the staging header: %v", n+1, err)
	}
	if err := f.k.UpdateClient(f.ctx, id, f.header(m, n+1)); err != nil {
		t.Fatalf("honest skipping update to %d after the staging header: %v", m, err)
	}
	if got := f.clientState(id).LatestHeight; got != m || f.status(id) != exported.Active {
		t.Fatalf("latest height %d (%s), want %d, Active", got, f.status(id), m)
	}
	// The honest block at m is stored, and the staging block at m, now conflicting without ancestry,
	// neither freezes nor replaces it.
	stored := f.consensus(id, m)
	if err := f.k.UpdateClient(f.ctx, id, stagingHeader(m, n)); err == nil || f.status(id) != exported.Active {
		t.Fatalf("staging block at the verified height %d: %v, client %s", m, err, f.status(id))
	}
	if got := f.consensus(id, m); !bytes.Equal(got.HeaderHash, stored.HeaderHash) {
		t.Fatalf("consensus state at %d changed", m)
	}
}

// TestCreateRefusesUnboundCodeHash: a client is created only pinning the registry's code hash on its
// own EVM chain. Another chain's code hash, the chain-independent template's, or an arbitrary hash is
// refused at creation on every path (NewClient, MsgCreateClient's ValidateBasic, the keeper's
// CreateClient through Initialize), so no one, permissionless creation included, can create a client
// that a staging net's headers would update.
func TestCreateRefusesUnboundCodeHash(t *testing.T) {
	f := newFixture(t)
	n := f.chain.Height()
	h := f.header(n, 0)
	_, good, err := qbftclient.NewClient(f.params, h.HeaderRlp, h.AccountProof)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		hash []byte
	}{
		{"another chain's code hash", contracts.RuntimeCodeHashFor(7002).Bytes()},
		{"the chain-independent template's hash", crypto.Keccak256(contracts.RuntimeCodeTemplate())},
		{"an arbitrary hash", bytes.Repeat([]byte{1}, 32)},
	} {
		params := f.params
		params.RegistryCodeHash = tc.hash
		const reason = "is not the registry's code hash on EVM chain 7001"
		if _, _, err := qbftclient.NewClient(params, h.HeaderRlp, h.AccountProof); err == nil || !strings.Contains(err.Error(), reason) {
			t.Fatalf("%s: NewClient: %v", tc.name, err)
		}
		cs := params
		cs.LatestHeight = n
		msg, err := clienttypes.NewMsgCreateClient(&cs, good, sdk.AccAddress(bytes.Repeat([]byte{0xc1}, 20)).String())
		if err != nil {
			t.Fatal(err)
		}
		if err := msg.ValidateBasic(); err == nil || !strings.Contains(err.Error(), reason) {
			t.Fatalf("%s: MsgCreateClient.ValidateBasic: %v", tc.name, err)
		}
		id, err := f.k.CreateClient(f.ctx, &cs, good)
		if err == nil || !errors.Is(err, clienttypes.ErrInvalidClient) || !strings.Contains(err.Error(), reason) {
			t.Fatalf("%s: keeper CreateClient: client %q, %v", tc.name, id, err)
		}
		t.Logf("%s refused: %v", tc.name, err)
	}
	// A client of chain 7002 pinning 7002's hash is well formed (it tracks the staging net, not ours).
	other := f.params
	other.EvmChainId, other.RegistryCodeHash, other.LatestHeight = 7002, contracts.RuntimeCodeHashFor(7002).Bytes(), n
	if err := other.Validate(); err != nil {
		t.Fatalf("a client bound to chain 7002: %v", err)
	}
	if id, _ := f.create(f.params); f.status(id) != exported.Active {
		t.Fatalf("the bound client is %s", f.status(id))
	}
}

func stagingRoot(t *testing.T, c *evmdevnet.Chain, n uint64) []byte {
	t.Helper()
	h, err := c.Header(n)
	if err != nil {
		t.Fatal(err)
	}
	return h.Root.Bytes()
}

func (f *fixture) consensus(id string, n uint64) *qbftclient.ConsensusState {
	f.t.Helper()
	cs, ok := f.k.GetClientConsensusState(f.ctx, id, qbftclient.Height(n))
	if !ok {
		f.t.Fatalf("no consensus state at %d", n)
	}
	return cs.(*qbftclient.ConsensusState)
}
