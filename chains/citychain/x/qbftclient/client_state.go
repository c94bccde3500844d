package qbftclient

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	errorsmod "cosmossdk.io/errors"
	storetypes "cosmossdk.io/store/types"
	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	"github.com/cosmos/ibc-go/v8/modules/core/exported"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/light/qbft"
)

var (
	_ exported.ClientState    = (*ClientState)(nil)
	_ exported.ConsensusState = (*ConsensusState)(nil)
	_ exported.ClientMessage  = (*Header)(nil)
	_ exported.ClientMessage  = (*Misbehaviour)(nil)
)

// SealRecoveryGas is charged per committed seal before it is recovered (the EVM's ecrecover price), so
// a header with many seals costs its submitter, not the chain.
const SealRecoveryGas = 3000

// AncestorGas is charged per ancestor header a client message carries, before it is parsed and
// hashed, so a long ancestry costs its submitter.
const AncestorGas = 2000

// MaxAncestors bounds the ancestry of one header: a submitter whose header is further above its
// trusted block first updates the client closer to it.
const MaxAncestors = 4096

// Height is the IBC height of EVM block n (revision 0: an EVM chain has no revisions).
func Height(n uint64) clienttypes.Height { return clienttypes.NewHeight(0, n) }

// ClientType is city-qbft.
func (cs *ClientState) ClientType() string { return ClientType }

// GetLatestHeight is the latest verified block.
func (cs *ClientState) GetLatestHeight() exported.Height { return Height(cs.LatestHeight) }

func (cs *ClientState) registry() common.Address { return common.BytesToAddress(cs.RegistryAddress) }
func (cs *ClientState) codeHash() common.Hash    { return common.BytesToHash(cs.RegistryCodeHash) }
func (cs *ClientState) options() qbft.Options {
	return qbft.Options{
		TrustingPeriod: time.Duration(cs.TrustingPeriod) * time.Second,
		MaxClockDrift:  time.Duration(cs.MaxClockDrift) * time.Second,
	}
}

// Validate checks the client state's own fields, among them that the pinned registry code hash is the
// registry's on the client's EVM chain (checkRegistryBinding).
func (cs *ClientState) Validate() error {
	switch {
	case cs.EvmChainId == 0:
		return errorsmod.Wrap(clienttypes.ErrInvalidClient, "evm chain id is zero")
	case strings.TrimSpace(cs.CityChainId) == "":
		return errorsmod.Wrap(clienttypes.ErrInvalidClient, "city chain id is empty")
	case len(cs.RegistryAddress) != common.AddressLength:
		return errorsmod.Wrapf(clienttypes.ErrInvalidClient, "registry address is %d bytes, want 20", len(cs.RegistryAddress))
	case len(cs.RegistryCodeHash) != common.HashLength:
		return errorsmod.Wrapf(clienttypes.ErrInvalidClient, "registry code hash is %d bytes, want 32", len(cs.RegistryCodeHash))
	case cs.LatestHeight == 0:
		return errorsmod.Wrap(clienttypes.ErrInvalidClient, "latest height is zero")
	case cs.TrustingPeriod == 0:
		return errorsmod.Wrap(clienttypes.ErrInvalidClient, "trusting period is zero")
	}
	return cs.checkRegistryBinding()
}

// checkRegistryBinding refuses a registry code hash other than contracts.RuntimeCodeHashFor(evm_chain_id).
// QBFT seals do not commit to a chain id, so the validators' keys may also seal another chain (a
// staging net) whose registry, deployed by the same key at the same nonce, sits at the same address.
// The registry's runtime code holds block.chainid (its immutable evmChainId), so on any other chain its
// code hash differs, and the account proof every header carries ties the header to this chain. A
// client pinning any other hash (a chain-independent one, another chain's) would lose that binding:
// no one may create one, permissionless creation included.
func (cs *ClientState) checkRegistryBinding() error {
	want := contracts.RuntimeCodeHashFor(cs.EvmChainId)
	if !bytes.Equal(cs.RegistryCodeHash, want.Bytes()) {
		return errorsmod.Wrapf(clienttypes.ErrInvalidClient, "registry code hash %x is not the registry's code hash on EVM chain %d (%s): "+
			"the registry's code holds its chain id, and a client must pin its own chain's code so that no header of another chain "+
			"sealed by the same validators can update it", cs.RegistryCodeHash, cs.EvmChainId, want)
	}
	return nil
}

// Status is Frozen after misbehaviour, Expired when the latest consensus state is past the trusting
// period (or missing), else Active.
func (cs *ClientState) Status(ctx sdk.Context, clientStore storetypes.KVStore, cdc codec.BinaryCodec) exported.Status {
	if cs.FrozenHeight != 0 {
		return exported.Frozen
	}
	cons, ok := getConsensusState(clientStore, cdc, cs.LatestHeight)
	if !ok {
		return exported.Expired
	}
	if !ctx.BlockTime().Before(time.Unix(int64(cons.Timestamp), 0).Add(time.Duration(cs.TrustingPeriod) * time.Second)) {
		return exported.Expired
	}
	return exported.Active
}

// ExportMetadata has nothing to export.
func (cs *ClientState) ExportMetadata(storetypes.KVStore) []exported.GenesisMetadata { return nil }

// ZeroCustomFields keeps what identifies the chain and the registry.
func (cs *ClientState) ZeroCustomFields() exported.ClientState {
	return &ClientState{EvmChainId: cs.EvmChainId, CityChainId: cs.CityChainId,
		RegistryAddress: cs.RegistryAddress, RegistryCodeHash: cs.RegistryCodeHash}
}

// GetTimestampAtHeight is the header time (nanoseconds) of the consensus state at height.
func (cs *ClientState) GetTimestampAtHeight(_ sdk.Context, clientStore storetypes.KVStore, cdc codec.BinaryCodec, height exported.Height) (uint64, error) {
	cons, ok := getConsensusState(clientStore, cdc, height.GetRevisionHeight())
	if !ok {
		return 0, errorsmod.Wrapf(clienttypes.ErrConsensusStateNotFound, "height %s", height)
	}
	return cons.GetTimestamp(), nil
}

// Initialize stores the client and its first consensus state, which the creator vouches for (as with
// every IBC client: trust starts at the subjective initialisation, checked by the city registry's
// admin before registering the client). It refuses a client state that does not validate, above all
// one whose registry code hash is not its EVM chain's (checkRegistryBinding): ibc-go's keeper calls
// Initialize on every creation path, MsgCreateClient's ValidateBasic or not.
func (cs *ClientState) Initialize(_ sdk.Context, cdc codec.BinaryCodec, clientStore storetypes.KVStore, consState exported.ConsensusState) error {
	if err := cs.Validate(); err != nil {
		return err
	}
	cons, ok := consState.(*ConsensusState)
	if !ok {
		return errorsmod.Wrapf(clienttypes.ErrInvalidConsensus, "want %T, got %T", &ConsensusState{}, consState)
	}
	if err := cons.ValidateBasic(); err != nil {
		return err
	}
	setClientState(clientStore, cdc, cs)
	setConsensusState(clientStore, cdc, cons, cs.LatestHeight)
	return nil
}

// VerifyMembership proves a registry storage slot's value at height (only while the client is Active). The path is a MerklePath of one
// key, the slot as 0x-hex; proof is the RLP list of the storage proof's nodes; value is the 32-byte word.
func (cs *ClientState) VerifyMembership(ctx sdk.Context, clientStore storetypes.KVStore, cdc codec.BinaryCodec, height exported.Height,
	_, _ uint64, proof []byte, path exported.Path, value []byte,
) error {
	cons, slot, nodes, err := cs.proofInputs(ctx, clientStore, cdc, height, proof, path)
	if err != nil {
		return err
	}
	if len(value) != common.HashLength {
		return errorsmod.Wrapf(commitmenttypes.ErrInvalidProof, "value is %d bytes, want a 32-byte word", len(value))
	}
	if err := qbft.VerifyStorageValue(common.BytesToHash(cons.StorageRoot), slot, common.BytesToHash(value), nodes); err != nil {
		return errorsmod.Wrapf(commitmenttypes.ErrInvalidProof, "registry slot %s at %s: %s", slot, height, err)
	}
	return nil
}

// VerifyNonMembership proves a registry storage slot is unset at height.
func (cs *ClientState) VerifyNonMembership(ctx sdk.Context, clientStore storetypes.KVStore, cdc codec.BinaryCodec, height exported.Height,
	_, _ uint64, proof []byte, path exported.Path,
) error {
	cons, slot, nodes, err := cs.proofInputs(ctx, clientStore, cdc, height, proof, path)
	if err != nil {
		return err
	}
	_, present, err := qbft.VerifyStorage(common.BytesToHash(cons.StorageRoot), slot, nodes)
	if err != nil {
		return errorsmod.Wrapf(commitmenttypes.ErrInvalidProof, "registry slot %s at %s: %s", slot, height, err)
	}
	if present {
		return errorsmod.Wrapf(commitmenttypes.ErrInvalidProof, "registry slot %s is set at %s", slot, height)
	}
	return nil
}

func (cs *ClientState) proofInputs(ctx sdk.Context, clientStore storetypes.KVStore, cdc codec.BinaryCodec, height exported.Height, proof []byte, path exported.Path,
) (*ConsensusState, common.Hash, [][]byte, error) {
	if st := cs.Status(ctx, clientStore, cdc); st != exported.Active {
		return nil, common.Hash{}, nil, errorsmod.Wrapf(clienttypes.ErrClientNotActive, "city-qbft client is %s: it proves nothing", st)
	}
	if height.GetRevisionNumber() != 0 {
		return nil, common.Hash{}, nil, errorsmod.Wrapf(clienttypes.ErrInvalidHeight, "revision %d: an EVM chain has only revision 0", height.GetRevisionNumber())
	}
	cons, ok := getConsensusState(clientStore, cdc, height.GetRevisionHeight())
	if !ok {
		return nil, common.Hash{}, nil, errorsmod.Wrapf(clienttypes.ErrConsensusStateNotFound, "height %s", height)
	}
	slot, err := SlotFromPath(path)
	if err != nil {
		return nil, common.Hash{}, nil, err
	}
	var nodes [][]byte
	if err := rlp.DecodeBytes(proof, &nodes); err != nil {
		return nil, common.Hash{}, nil, errorsmod.Wrapf(commitmenttypes.ErrInvalidProof, "storage proof is not an RLP list of nodes: %s", err)
	}
	return cons, slot, nodes, nil
}

// SlotPath is the path VerifyMembership takes for a registry storage slot.
func SlotPath(slot common.Hash) commitmenttypes.MerklePath {
	return commitmenttypes.NewMerklePath(slot.Hex())
}

// SlotFromPath reads a registry storage slot from a SlotPath.
func SlotFromPath(path exported.Path) (common.Hash, error) {
	mp, ok := path.(commitmenttypes.MerklePath)
	if !ok {
		if p, ok2 := path.(*commitmenttypes.MerklePath); ok2 && p != nil {
			mp, ok = *p, true
		}
	}
	if !ok || len(mp.KeyPath) != 1 {
		return common.Hash{}, errorsmod.Wrapf(commitmenttypes.ErrInvalidProof, "path must be one registry storage slot, got %v", path)
	}
	k := mp.KeyPath[0]
	raw, err := hex.DecodeString(strings.TrimPrefix(k, "0x"))
	if err != nil || len(raw) != common.HashLength {
		return common.Hash{}, errorsmod.Wrapf(commitmenttypes.ErrInvalidProof, "path key %q is not a 32-byte 0x-hex slot", k)
	}
	return common.BytesToHash(raw), nil
}

// EncodeProof is the proof bytes VerifyMembership takes: the RLP list of a storage proof's nodes.
func EncodeProof(nodes [][]byte) []byte {
	bz, err := rlp.EncodeToBytes(nodes)
	if err != nil {
		panic(fmt.Sprintf("rlp of byte slices cannot fail: %v", err))
	}
	return bz
}

// VerifyClientMessage verifies a header (sealed by a quorum of its validators and f+1 of the trusted
// set, registry account proven with the pinned code hash) or misbehaviour (two such headers).
func (cs *ClientState) VerifyClientMessage(ctx sdk.Context, cdc codec.BinaryCodec, clientStore storetypes.KVStore, msg exported.ClientMessage) error {
	switch m := msg.(type) {
	case *Header:
		_, err := cs.verifyHeader(ctx, cdc, clientStore, m)
		return err
	case *Misbehaviour:
		return cs.verifyMisbehaviour(ctx, cdc, clientStore, m)
	default:
		return errorsmod.Wrapf(clienttypes.ErrInvalidClientType, "city-qbft cannot handle %T", msg)
	}
}

// verified is what a verified header establishes.
type verified struct {
	number uint64
	cons   *ConsensusState
}

func (cs *ClientState) verifyHeader(ctx sdk.Context, cdc codec.BinaryCodec, clientStore storetypes.KVStore, m *Header) (*verified, error) {
	if err := m.ValidateBasic(); err != nil {
		return nil, err
	}
	h, trusted, err := cs.verifySealed(ctx, cdc, clientStore, m)
	if err != nil {
		return nil, err
	}
	n := h.Number().Uint64()
	// The seals say only that the validators signed this header, not on which chain: the same keys
	// may seal a staging net. A header is bound to the client's chain by its parent hashes. An
	// adjacent header carries that proof in itself, a skipping one in its ancestors when given (the
	// relayer of today sends none: see the README on skipping updates).
	chained := false
	if len(m.Ancestors) > 0 || n == m.TrustedHeight+1 {
		if err := descends(ctx, n, m.HeaderRlp, m.Ancestors, m.TrustedHeight, trusted); err != nil {
			return nil, errorsmod.Wrapf(clienttypes.ErrInvalidHeader, "block %d: %s", n, err)
		}
		chained = true
	}
	// A header conflicting with a verified block freezes the client (CheckForMisbehaviour) only when
	// it is proven to descend from a trusted block: otherwise it may be another chain's block, and
	// anyone could freeze the client with a staging net's header.
	if existing, ok := getConsensusState(clientStore, cdc, n); ok && !chained {
		hash, err := h.Hash()
		if err != nil {
			return nil, errorsmod.Wrap(clienttypes.ErrInvalidHeader, err.Error())
		}
		if !bytes.Equal(existing.HeaderHash, hash.Bytes()) {
			return nil, errorsmod.Wrapf(clienttypes.ErrInvalidHeader, "block %d %s conflicts with the verified block %x there and "+
				"does not prove it descends from trusted block %d (ancestors): it may be another chain sealed by the same keys", n, hash, existing.HeaderHash, m.TrustedHeight)
		}
	}
	return cs.consensusOf(h, m.HeaderRlp, m.AccountProof)
}

// descends checks that the header at n (headerRLP) descends from the trusted block at trustedHeight:
// ancestors are the headers trustedHeight+1 .. n-1, each the parent of the next, the first a child of
// the trusted block. A parent is named by its QBFT hash (Besu) or by keccak256 of its sealed RLP
// (go-ethereum-based chains); the trusted block's RLP hash is known for consensus states stored since
// rlp_hash exists.
func descends(ctx sdk.Context, n uint64, headerRLP []byte, ancestors [][]byte, trustedHeight uint64, trusted *ConsensusState) error {
	if n <= trustedHeight {
		return fmt.Errorf("block %d is not above trusted block %d", n, trustedHeight)
	}
	if gap := n - trustedHeight - 1; uint64(len(ancestors)) != gap {
		return fmt.Errorf("%d ancestors between trusted block %d and block %d, want %d", len(ancestors), trustedHeight, n, gap)
	}
	if len(ancestors) > MaxAncestors {
		return fmt.Errorf("%d ancestors, at most %d: update the client closer to block %d first", len(ancestors), MaxAncestors, n)
	}
	ctx.GasMeter().ConsumeGas(uint64(len(ancestors))*AncestorGas, "city-qbft ancestors")
	names := []common.Hash{common.BytesToHash(trusted.HeaderHash)} // the hashes a child of the last block may name
	if len(trusted.RlpHash) == common.HashLength {
		names = append(names, common.BytesToHash(trusted.RlpHash))
	}
	link := func(number uint64, raw []byte) error {
		parent, err := qbft.ParentHash(raw)
		if err != nil {
			return fmt.Errorf("block %d: %w", number, err)
		}
		for _, name := range names {
			if parent == name {
				return nil
			}
		}
		return fmt.Errorf("block %d's parent is %s, not block %d (%v): not a descendant of trusted block %d", number, parent, number-1, names, trustedHeight)
	}
	for i, raw := range ancestors {
		number := trustedHeight + 1 + uint64(i)
		a, err := qbft.ParseHeader(raw)
		if err != nil {
			return fmt.Errorf("ancestor %d: %w", i, err)
		}
		if num := a.Number(); !num.IsUint64() || num.Uint64() != number {
			return fmt.Errorf("ancestor %d is block %s, want %d", i, num, number)
		}
		if err := link(number, raw); err != nil {
			return err
		}
		hash, err := a.Hash()
		if err != nil {
			return fmt.Errorf("ancestor %d: %w", i, err)
		}
		names = []common.Hash{hash, crypto.Keccak256Hash(raw)}
	}
	return link(n, headerRLP)
}

// verifySealed checks a header's seals from its trusted consensus state (what misbehaviour needs: a
// fork is proven by seals, not by the registry's state).
func (cs *ClientState) verifySealed(ctx sdk.Context, cdc codec.BinaryCodec, clientStore storetypes.KVStore, m *Header) (*qbft.Header, *ConsensusState, error) {
	if m == nil || len(m.HeaderRlp) == 0 || m.TrustedHeight == 0 {
		return nil, nil, errorsmod.Wrap(clienttypes.ErrInvalidHeader, "a header needs its rlp and a trusted height")
	}
	h, err := qbft.ParseHeader(m.HeaderRlp)
	if err != nil {
		return nil, nil, errorsmod.Wrap(clienttypes.ErrInvalidHeader, err.Error())
	}
	ctx.GasMeter().ConsumeGas(uint64(h.SealCount())*SealRecoveryGas, "city-qbft seal recovery")
	if !h.Number().IsUint64() {
		return nil, nil, errorsmod.Wrap(clienttypes.ErrInvalidHeader, "block number overflows")
	}
	trusted, ok := getConsensusState(clientStore, cdc, m.TrustedHeight)
	if !ok {
		return nil, nil, errorsmod.Wrapf(clienttypes.ErrConsensusStateNotFound, "no trusted consensus state at %d", m.TrustedHeight)
	}
	tr := qbft.Trusted{Number: newBig(m.TrustedHeight), Time: time.Unix(int64(trusted.Timestamp), 0), Validators: trusted.addresses()}
	if _, err := qbft.Verify(tr, h, cs.options(), ctx.BlockTime()); err != nil {
		return nil, nil, errorsmod.Wrapf(clienttypes.ErrInvalidHeader, "block %s from trusted %d: %s", h.Number(), m.TrustedHeight, err)
	}
	return h, trusted, nil
}

// consensusOf builds the consensus state of a header whose seals were verified: the registry's account
// proof against its state root gives the storage root.
func (cs *ClientState) consensusOf(h *qbft.Header, headerRLP []byte, accountProof [][]byte) (*verified, error) {
	storageRoot, err := qbft.VerifyRegistryAccount(h.StateRoot(), cs.registry(), cs.codeHash(), accountProof)
	if errors.Is(err, qbft.ErrCodeHash) {
		// The seals may be the trusted validators', but the state is not this chain's registry: the
		// header of another chain they seal (a staging net's registry holds its own chain id), or
		// another contract at the address.
		return nil, errorsmod.Wrapf(clienttypes.ErrInvalidHeader, "registry %s at block %s: %s: not the registry of EVM chain %d "+
			"(a block of another chain sealed by the same validators?)", cs.registry(), h.Number(), err, cs.EvmChainId)
	}
	if err != nil {
		return nil, errorsmod.Wrapf(clienttypes.ErrInvalidHeader, "registry %s at block %s: %s", cs.registry(), h.Number(), err)
	}
	hash, err := h.Hash()
	if err != nil {
		return nil, errorsmod.Wrap(clienttypes.ErrInvalidHeader, err.Error())
	}
	root := h.StateRoot()
	cons := &ConsensusState{Timestamp: h.Time(), StateRoot: root.Bytes(), StorageRoot: storageRoot.Bytes(), HeaderHash: hash.Bytes(),
		RlpHash: crypto.Keccak256(headerRLP)}
	for _, v := range h.Validators() {
		cons.Validators = append(cons.Validators, v.Bytes())
	}
	return &verified{number: h.Number().Uint64(), cons: cons}, nil
}

func (cs *ClientState) verifyMisbehaviour(ctx sdk.Context, cdc codec.BinaryCodec, clientStore storetypes.KVStore, m *Misbehaviour) error {
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	var numbers [2]*big.Int
	var hashes [2]common.Hash
	for i, hm := range []*Header{m.Header_1, m.Header_2} {
		h, trusted, err := cs.verifySealed(ctx, cdc, clientStore, hm)
		if err != nil {
			return errorsmod.Wrapf(clienttypes.ErrInvalidMisbehaviour, "header %d: %s", i+1, err)
		}
		// Two headers at one height are a fork of this chain only if both descend from blocks the
		// client trusts: the validators' keys may also seal another chain (a staging net), whose
		// block at that height is no misbehaviour and must not freeze the client.
		if err := descends(ctx, h.Number().Uint64(), hm.HeaderRlp, hm.Ancestors, hm.TrustedHeight, trusted); err != nil {
			return errorsmod.Wrapf(clienttypes.ErrInvalidMisbehaviour, "header %d: %s", i+1, err)
		}
		if hashes[i], err = h.Hash(); err != nil {
			return errorsmod.Wrapf(clienttypes.ErrInvalidMisbehaviour, "header %d: %s", i+1, err)
		}
		numbers[i] = h.Number()
	}
	if numbers[0].Cmp(numbers[1]) != 0 {
		return errorsmod.Wrapf(clienttypes.ErrInvalidMisbehaviour, "headers at %s and %s: misbehaviour needs two headers at one height", numbers[0], numbers[1])
	}
	if hashes[0] == hashes[1] {
		return errorsmod.Wrapf(clienttypes.ErrInvalidMisbehaviour, "both headers at %s are the same block", numbers[0])
	}
	return nil
}

// CheckForMisbehaviour is true for verified Misbehaviour, and for a verified header that conflicts
// with the consensus state already stored at its height.
func (cs *ClientState) CheckForMisbehaviour(ctx sdk.Context, cdc codec.BinaryCodec, clientStore storetypes.KVStore, msg exported.ClientMessage) bool {
	switch m := msg.(type) {
	case *Misbehaviour:
		return true
	case *Header:
		h, err := qbft.ParseHeader(m.HeaderRlp)
		if err != nil || !h.Number().IsUint64() {
			return false
		}
		existing, ok := getConsensusState(clientStore, cdc, h.Number().Uint64())
		if !ok {
			return false
		}
		hash, err := h.Hash()
		return err == nil && !bytes.Equal(existing.HeaderHash, hash.Bytes())
	}
	return false
}

// UpdateStateOnMisbehaviour freezes the client.
func (cs *ClientState) UpdateStateOnMisbehaviour(_ sdk.Context, cdc codec.BinaryCodec, clientStore storetypes.KVStore, _ exported.ClientMessage) {
	cs.FrozenHeight = 1
	setClientState(clientStore, cdc, cs)
}

// UpdateState stores the consensus state of a verified header (a header at a height already stored is
// a no-op) and advances the latest height.
func (cs *ClientState) UpdateState(ctx sdk.Context, cdc codec.BinaryCodec, clientStore storetypes.KVStore, msg exported.ClientMessage) []exported.Height {
	// ibc-go's CheckTx (RedundantRelayDecorator) calls UpdateState after VerifyClientMessage without
	// CheckForMisbehaviour, so a Misbehaviour reaches here there: it updates nothing (as 07-tendermint).
	m, ok := msg.(*Header)
	if !ok {
		return []exported.Height{}
	}
	h, err := qbft.ParseHeader(m.HeaderRlp)
	if err != nil {
		return []exported.Height{} // VerifyClientMessage parsed it: unreachable
	}
	v, err := cs.consensusOf(h, m.HeaderRlp, m.AccountProof)
	if err != nil {
		return []exported.Height{} // VerifyClientMessage proved it: unreachable
	}
	height := Height(v.number)
	if _, exists := getConsensusState(clientStore, cdc, v.number); exists {
		return []exported.Height{height}
	}
	setConsensusState(clientStore, cdc, v.cons, v.number)
	if v.number > cs.LatestHeight {
		cs.LatestHeight = v.number
	}
	setClientState(clientStore, cdc, cs)
	return []exported.Height{height}
}

// CheckSubstituteAndUpdateState is refused: recovering a city-qbft client means registering a new
// client for the city (citychaind tx did register-city), which the registry audits.
func (cs *ClientState) CheckSubstituteAndUpdateState(sdk.Context, codec.BinaryCodec, storetypes.KVStore, storetypes.KVStore, exported.ClientState) error {
	return errorsmod.Wrap(clienttypes.ErrUpdateClientFailed, "city-qbft clients are not substituted: create a new client and register it for the city")
}

// VerifyUpgradeAndUpdateState is refused: QBFT chains have no upgrade path of this kind.
func (cs *ClientState) VerifyUpgradeAndUpdateState(sdk.Context, codec.BinaryCodec, storetypes.KVStore, exported.ClientState, exported.ConsensusState, []byte, []byte) error {
	return errorsmod.Wrap(clienttypes.ErrInvalidUpgradeClient, "city-qbft clients are not upgraded")
}

func getConsensusState(clientStore storetypes.KVStore, cdc codec.BinaryCodec, height uint64) (*ConsensusState, bool) {
	bz := clientStore.Get(host.ConsensusStateKey(Height(height)))
	if len(bz) == 0 {
		return nil, false
	}
	cs, err := clienttypes.UnmarshalConsensusState(cdc, bz)
	if err != nil {
		return nil, false
	}
	c, ok := cs.(*ConsensusState)
	return c, ok
}

func setConsensusState(clientStore storetypes.KVStore, cdc codec.BinaryCodec, cs *ConsensusState, height uint64) {
	clientStore.Set(host.ConsensusStateKey(Height(height)), clienttypes.MustMarshalConsensusState(cdc, cs))
}

func setClientState(clientStore storetypes.KVStore, cdc codec.BinaryCodec, cs *ClientState) {
	clientStore.Set(host.ClientStateKey(), clienttypes.MustMarshalClientState(cdc, cs))
}

// NewClient builds the state of a new client from a header its creator chose to trust (the subjective
// start every IBC client has): the header must be sealed by a quorum of its own validators, and the
// registry's account proof must hold against its state root with the pinned code hash.
func NewClient(cs ClientState, headerRLP []byte, accountProof [][]byte) (*ClientState, *ConsensusState, error) {
	h, err := qbft.ParseHeader(headerRLP)
	if err != nil {
		return nil, nil, err
	}
	if _, err := h.VerifySeals(); err != nil {
		return nil, nil, err
	}
	if !h.Number().IsUint64() {
		return nil, nil, errorsmod.Wrap(clienttypes.ErrInvalidHeader, "block number overflows")
	}
	cs.LatestHeight, cs.FrozenHeight = h.Number().Uint64(), 0
	if err := cs.Validate(); err != nil {
		return nil, nil, err
	}
	v, err := cs.consensusOf(h, headerRLP, accountProof)
	if err != nil {
		return nil, nil, err
	}
	return &cs, v.cons, nil
}
