package qbftclient

import (
	"math/big"

	errorsmod "cosmossdk.io/errors"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	"github.com/ethereum/go-ethereum/common"
)

func newBig(n uint64) *big.Int { return new(big.Int).SetUint64(n) }

// ClientType is city-qbft.
func (cs *ConsensusState) ClientType() string { return ClientType }

// GetTimestamp is the header time in nanoseconds.
func (cs *ConsensusState) GetTimestamp() uint64 { return cs.Timestamp * 1e9 }

// ValidateBasic checks the consensus state's fields.
func (cs *ConsensusState) ValidateBasic() error {
	switch {
	case cs.Timestamp == 0:
		return errorsmod.Wrap(clienttypes.ErrInvalidConsensus, "timestamp is zero")
	case len(cs.StateRoot) != common.HashLength:
		return errorsmod.Wrap(clienttypes.ErrInvalidConsensus, "state root must be 32 bytes")
	case len(cs.StorageRoot) != common.HashLength:
		return errorsmod.Wrap(clienttypes.ErrInvalidConsensus, "storage root must be 32 bytes")
	case len(cs.HeaderHash) != common.HashLength:
		return errorsmod.Wrap(clienttypes.ErrInvalidConsensus, "header hash must be 32 bytes")
	case len(cs.Validators) == 0:
		return errorsmod.Wrap(clienttypes.ErrInvalidConsensus, "no validators")
	}
	seen := make(map[string]bool, len(cs.Validators))
	for _, v := range cs.Validators {
		if len(v) != common.AddressLength {
			return errorsmod.Wrapf(clienttypes.ErrInvalidConsensus, "validator %x is not a 20-byte address", v)
		}
		if seen[string(v)] {
			return errorsmod.Wrapf(clienttypes.ErrInvalidConsensus, "validator %x listed twice", v)
		}
		seen[string(v)] = true
	}
	return nil
}

func (cs *ConsensusState) addresses() []common.Address {
	out := make([]common.Address, len(cs.Validators))
	for i, v := range cs.Validators {
		out[i] = common.BytesToAddress(v)
	}
	return out
}

// ClientType is city-qbft.
func (h *Header) ClientType() string { return ClientType }

// ValidateBasic checks the header carries a header and a trusted height.
func (h *Header) ValidateBasic() error {
	switch {
	case h == nil:
		return errorsmod.Wrap(clienttypes.ErrInvalidHeader, "no header")
	case len(h.HeaderRlp) == 0:
		return errorsmod.Wrap(clienttypes.ErrInvalidHeader, "empty header rlp")
	case h.TrustedHeight == 0:
		return errorsmod.Wrap(clienttypes.ErrInvalidHeader, "trusted height is zero")
	case len(h.AccountProof) == 0:
		return errorsmod.Wrap(clienttypes.ErrInvalidHeader, "no registry account proof")
	}
	return nil
}

// ClientType is city-qbft.
func (m *Misbehaviour) ClientType() string { return ClientType }

// ValidateBasic checks both headers are present.
func (m *Misbehaviour) ValidateBasic() error {
	if m.Header_1 == nil || m.Header_2 == nil {
		return errorsmod.Wrap(clienttypes.ErrInvalidMisbehaviour, "misbehaviour needs two headers")
	}
	// A fork is proven by seals and ancestry (checked with the client's store): the headers need no
	// registry account proof.
	for i, h := range []*Header{m.Header_1, m.Header_2} {
		if len(h.HeaderRlp) == 0 || h.TrustedHeight == 0 {
			return errorsmod.Wrapf(clienttypes.ErrInvalidMisbehaviour, "header %d needs its rlp and a trusted height", i+1)
		}
	}
	return nil
}
