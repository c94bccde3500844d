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
	"github.com/cityrelay/cityrelay/chains/evm/registry"
	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

const city = "gimpo-evm"

// fixture is ibc-go's real 02-client keeper over an in-memory store, and a 4-validator EVM devnet
// with the city's registry.
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
		RegistryCodeHash: registry.RuntimeCodeHash.Bytes(), TrustingPeriod: 3600, MaxClockDrift: 10}}
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

	issued := registry.IssuedCommitment(a.ID, crypto.PubkeyToAddress(f.city.Key.PublicKey), a.Block)
	_, proofs := f.accountProof(h1, registry.IssuedSlot(a.ID), registry.StatusSlot(a.ID))
	if err := f.verifySlot(id, h1, registry.IssuedSlot(a.ID), issued, proofs[registry.IssuedSlot(a.ID)]); err != nil {
		t.Fatalf("issued slot: %v", err)
	}
	active := registry.StatusWord{Status: registry.StatusActive}.Encode()
	if err := f.verifySlot(id, h1, registry.StatusSlot(a.ID), active, proofs[registry.StatusSlot(a.ID)]); err != nil {
		t.Fatalf("status slot: %v", err)
	}
	// Refused: a wrong value, the proof of another slot, a proof at a height the client never verified.
	revoked := registry.StatusWord{Status: registry.StatusRevoked, Seq: 9, Block: h1}.Encode()
	if err := f.verifySlot(id, h1, registry.StatusSlot(a.ID), revoked, proofs[registry.StatusSlot(a.ID)]); err == nil {
		t.Fatal("a status the registry never held was proven")
	}
	if err := f.verifySlot(id, h1, registry.StatusSlot(a.ID), issued, proofs[registry.IssuedSlot(a.ID)]); err == nil {
		t.Fatal("the issued slot's proof was accepted for the status slot")
	}
	if err := f.verifySlot(id, h1+5, registry.IssuedSlot(a.ID), issued, proofs[registry.IssuedSlot(a.ID)]); !errors.Is(err, clienttypes.ErrConsensusStateNotFound) {
		t.Fatalf("proof at an unverified height: %v", err)
	}
	// Absence: an id never issued.
	var other [32]byte
	other[0] = 1
	_, absent := f.accountProof(h1, registry.IssuedSlot(other))
	cs := f.clientState(id)
	if err := cs.VerifyNonMembership(f.ctx, f.k.ClientStore(f.ctx, id), f.cdc, qbftclient.Height(h1), 0, 0,
		qbftclient.EncodeProof(absent[registry.IssuedSlot(other)]), qbftclient.SlotPath(registry.IssuedSlot(other))); err != nil {
		t.Fatalf("absence of an unknown id: %v", err)
	}
	if err := cs.VerifyNonMembership(f.ctx, f.k.ClientStore(f.ctx, id), f.cdc, qbftclient.Height(h1), 0, 0,
		qbftclient.EncodeProof(proofs[registry.IssuedSlot(a.ID)]), qbftclient.SlotPath(registry.IssuedSlot(a.ID))); err == nil {
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
	// A client pinning another code hash refuses the registry's account.
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
			_, proofs := f.accountProof(h0, registry.StatusSlot(a.ID))
			err = f.verifySlot(id, h0, registry.StatusSlot(a.ID), registry.StatusWord{Status: registry.StatusActive}.Encode(), proofs[registry.StatusSlot(a.ID)])
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
	_, proofs := f.accountProof(h0, registry.StatusSlot(a.ID))
	word := registry.StatusWord{Status: registry.StatusActive}.Encode()
	if err := f.verifySlot(id, h0, registry.StatusSlot(a.ID), word, proofs[registry.StatusSlot(a.ID)]); err != nil {
		t.Fatalf("active client: %v", err)
	}
	f.ctx = f.ctx.WithBlockTime(time.Now().Add(2 * time.Hour)) // past the 1h trusting period
	if st := f.status(id); st != exported.Expired {
		t.Fatalf("status %s, want Expired", st)
	}
	if err := f.verifySlot(id, h0, registry.StatusSlot(a.ID), word, proofs[registry.StatusSlot(a.ID)]); !errors.Is(err, clienttypes.ErrClientNotActive) {
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
	staging := testnet.EVM(t, evmdevnet.Config{ChainID: 7002, Validators: 4, Seed: evmdevnet.DefaultSeed,
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
	stagingHeader := func(n, trusted uint64, withAncestors bool) *qbftclient.Header {
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
		h := &qbftclient.Header{HeaderRlp: raw, AccountProof: acct, TrustedHeight: trusted}
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
