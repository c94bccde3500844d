package chains

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// The neutral types of an EVM city's roles. An EVM city (a QBFT chain with a CityAttestationRegistry
// contract) is read through its verifying light client (chains/evm implements it): verified headers,
// proven registry storage, and logs as hints. The interfaces over these types are defined where they
// are consumed (relayer/evmrelay.Source, relayer/verify.EvmHeaders), as the relayer takes only what it
// uses; these types are what both sides name.

// ErrWitnessMismatch is what an EvmForkError wraps: a witness serves, at a verified height, another
// block that verifies from the trusted state too (a fork, or an attack with the validators' keys).
var ErrWitnessMismatch = errors.New("witness serves another block: possible fork or attack")

// EvmHeader is a header of an EVM city that its light client verified (seals checked from a trusted
// header, or linked to one by parent hashes, and confirmed by the witnesses that answered). The
// client shares it between callers: treat it as read-only.
type EvmHeader struct {
	Height     uint64
	Time       time.Time
	StateRoot  common.Hash
	Hash       common.Hash
	Validators []common.Address
	// RLP is the header as the primary served it (committed seals inside extraData).
	RLP []byte
	// ParentHash is the header's parent hash (the link a verification below it follows).
	ParentHash common.Hash
}

// RegistryProof is the registry's state at a verified header, proven: the account proof from the
// header's state root and, per slot, the value and its proof from the account's storage root.
type RegistryProof struct {
	Height       uint64
	StateRoot    common.Hash
	Address      common.Address
	AccountProof [][]byte
	StorageRoot  common.Hash
	Slots        []SlotProof
}

// SlotProof is one proven storage slot.
type SlotProof struct {
	Slot common.Hash
	// Value is the slot's word; zero means the proof shows the slot unset.
	Value common.Hash
	Proof [][]byte
}

// EvmForkError is a witness serving, at a height the light client verified, another header sealed by
// a quorum of its validators: evidence that the validators signed two blocks at one height (or that
// the primary fed the client a fork). Primary and Conflicting are the two headers' RLP; together they
// are the city-qbft client's Misbehaviour. It wraps ErrWitnessMismatch.
type EvmForkError struct {
	ChainID     uint64
	Height      uint64
	Witness     string
	Primary     []byte
	Conflicting []byte
}

func (e *EvmForkError) Error() string {
	return fmt.Sprintf("evm chain %d: %v: witness %s serves another block %d sealed by a quorum of its validators", e.ChainID, ErrWitnessMismatch, e.Witness, e.Height)
}

// Unwrap makes errors.Is(err, ErrWitnessMismatch) true.
func (e *EvmForkError) Unwrap() error { return ErrWitnessMismatch }

// UnionLogs merges answers to one log filter: every distinct log once, in block and log-index order.
// Logs are the same only when everything about them is (block, transaction, index, topics, data): a
// forged log that shares a real one's position does not push the real one out.
func UnionLogs(answers ...[]types.Log) []types.Log {
	seen := map[string]bool{}
	var out []types.Log
	for _, logs := range answers {
		for _, l := range logs {
			k := logKey(&l)
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].BlockNumber != out[j].BlockNumber {
			return out[i].BlockNumber < out[j].BlockNumber
		}
		return out[i].Index < out[j].Index
	})
	return out
}

func logKey(l *types.Log) string {
	b := make([]byte, 0, 128+32*len(l.Topics)+len(l.Data))
	b = binary.BigEndian.AppendUint64(b, l.BlockNumber)
	b = append(b, l.BlockHash[:]...)
	b = append(b, l.TxHash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(l.TxIndex))
	b = binary.BigEndian.AppendUint64(b, uint64(l.Index))
	b = append(b, l.Address[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(l.Topics)))
	for _, t := range l.Topics {
		b = append(b, t[:]...)
	}
	return string(append(b, l.Data...))
}
