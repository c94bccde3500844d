package verify

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/light/qbft"
)

// EvmHeaders is our QBFT light client of an EVM city (chains/evm's client, opened by relayer/assemble):
// its newest verified block (cross-checked with its witnesses), verified blocks at chosen heights, and
// registry proofs at them.
type EvmHeaders interface {
	Latest(ctx context.Context) (*chains.EvmHeader, error)
	VerifiedHeader(ctx context.Context, height uint64) (*chains.EvmHeader, error)
	RegistryProof(ctx context.Context, vh *chains.EvmHeader, slots []common.Hash) (*chains.RegistryProof, error)
}

// EvmOrigin is an EVM city as an origin: our QBFT light client of its chain.
type EvmOrigin struct {
	City    string
	Headers EvmHeaders
}

// status binds a fresh verified block of the EVM city to the registered city-qbft client c and proves
// issued[id] and status[id] of the registry that client pins.
//
// Why this is sound: the verifying chain's state (proven against its verified header) holds c's client
// state (registry address and code hash, trusting period, clock drift) and its latest consensus state
// (block number, time and validators: what the city-qbft client verified, from the trust root the
// registry admin chose). The fresh block is accepted only if it verifies from that consensus state by
// the rule city-qbft itself applies on an update (qbft.Verify: a quorum of its own validators sealed
// it and f+1 of the trusted validators are among them, within the trusting period), so it is a block
// of the chain the registry names. Its state root commits to the registry account (address and code
// hash from the client state, not from our config) and so to the two storage words.
func (o EvmOrigin) status(ctx context.Context, rd reader, c *clientInfo, id string, opts Options) (*originState, error) {
	if c.qbft == nil {
		return nil, fmt.Errorf("%w: %s is configured here as an EVM city, but %s's registered client %s of it is a %s client", ErrNotFresh, o.City, rd.chain.ChainID(), c.id, c.typ)
	}
	var cs qbftclient.ConsensusState
	if err := unmarshalAny(c.latestConsensus, &cs); err != nil {
		return nil, fmt.Errorf("%w: consensus state of client %s at %s on %s: %v", ErrCouldNotVerify, c.id, c.latest, rd.chain.ChainID(), err)
	}
	trustedHeight := c.latest.GetRevisionHeight()
	vh, err := o.Headers.Latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: no verified block of %s: %v", ErrNotFresh, o.City, err)
	}
	if vh.Height <= trustedHeight {
		if vh, err = o.Headers.VerifiedHeader(ctx, trustedHeight); err != nil {
			return nil, fmt.Errorf("%w: block %d of %s: %v", ErrNotFresh, trustedHeight, o.City, err)
		}
		if vh.Hash != common.BytesToHash(cs.HeaderHash) || vh.StateRoot != common.BytesToHash(cs.StateRoot) {
			return nil, fmt.Errorf("%w: our light client of %s is not bound to %s's registered client %s: at block %d it verified hash %s, the client holds %s",
				ErrNotFresh, o.City, rd.chain.ChainID(), c.id, trustedHeight, vh.Hash, common.BytesToHash(cs.HeaderHash))
		}
	} else if err := o.bind(ctx, c.qbft, trustedHeight, &cs, vh, opts.Now); err != nil {
		return nil, fmt.Errorf("%w: our light client's block %d of %s does not verify from %s's registered client %s (its state at %d): %v",
			ErrNotFresh, vh.Height, o.City, rd.chain.ChainID(), c.id, trustedHeight, err)
	}
	if age := opts.Now.Sub(vh.Time); age > opts.MaxOriginAge {
		return nil, fmt.Errorf("%w: the newest verified block of %s, %d, is %s old (max %s): its nodes are stalled or freezing their answers",
			ErrNotFresh, o.City, vh.Height, age.Round(time.Second), opts.MaxOriginAge)
	}
	raw, err := contracts.ParseID(id)
	if err != nil {
		return nil, fmt.Errorf("%w: attestation id %s: %v", ErrCouldNotVerify, id, err)
	}
	slots := []common.Hash{contracts.IssuedSlot(raw), contracts.StatusSlot(raw)}
	p, err := o.Headers.RegistryProof(ctx, vh, slots)
	if err != nil {
		return nil, fmt.Errorf("%w: %s's registry proof at block %d: %v", ErrNotFresh, o.City, vh.Height, err)
	}
	// Checked again here against what the registered client pins, not what our configuration says.
	storageRoot, err := qbft.VerifyRegistryAccount(vh.StateRoot, common.BytesToAddress(c.qbft.RegistryAddress), common.BytesToHash(c.qbft.RegistryCodeHash), p.AccountProof)
	if err != nil {
		return nil, fmt.Errorf("%w: %s's registry account at block %d, as client %s pins it: %v", ErrNotFresh, o.City, vh.Height, c.id, err)
	}
	var words [2]common.Hash
	var present [2]bool
	for i := range slots {
		if len(p.Slots) != len(slots) || p.Slots[i].Slot != slots[i] {
			return nil, fmt.Errorf("%w: %s's registry proof does not hold slot %s", ErrNotFresh, o.City, slots[i])
		}
		if words[i], present[i], err = qbft.VerifyStorage(storageRoot, slots[i], p.Slots[i].Proof); err != nil {
			return nil, fmt.Errorf("%w: %s's registry at block %d: %v", ErrNotFresh, o.City, vh.Height, err)
		}
	}
	st := &originState{height: int64(vh.Height), time: vh.Time}
	if !present[0] {
		return st, nil // never issued there
	}
	w, err := contracts.DecodeStatusWord(words[1])
	if err != nil {
		return nil, fmt.Errorf("%w: %s's status of %s: %v", ErrCouldNotVerify, o.City, id, err)
	}
	// The registry keeps a commitment to the attestation, not its fields: the status is the origin's,
	// the fields are the relayed record's (whose id, the hash of its signing bytes, is the same id).
	a := rd.attestation
	if a == nil {
		return nil, fmt.Errorf("%w: no relayed record of %s to pair %s's status with", ErrCouldNotVerify, id, o.City)
	}
	out := *a
	switch w.Status {
	case contracts.StatusActive:
		out.Status = didtypes.ATTESTATION_STATUS_ACTIVE
	case contracts.StatusRevoked:
		out.Status = didtypes.ATTESTATION_STATUS_REVOKED
	case contracts.StatusSuspended:
		out.Status = didtypes.ATTESTATION_STATUS_SUSPENDED
	default:
		return nil, fmt.Errorf("%w: %s's status word of %s has status %d", ErrCouldNotVerify, o.City, id, w.Status)
	}
	st.att = &out
	return st, nil
}

// bind verifies vh from the consensus state at trustedHeight by city-qbft's update rule, bisecting
// through blocks our light client verifies when the validator set changed too much to skip.
func (o EvmOrigin) bind(ctx context.Context, cl *qbftclient.ClientState, trustedHeight uint64, cs *qbftclient.ConsensusState, target *chains.EvmHeader, now time.Time) error {
	opts := qbft.Options{TrustingPeriod: time.Duration(cl.TrustingPeriod) * time.Second, MaxClockDrift: time.Duration(cl.MaxClockDrift) * time.Second}
	tr := qbft.Trusted{Number: new(big.Int).SetUint64(trustedHeight), Time: time.Unix(int64(cs.Timestamp), 0)}
	for _, v := range cs.Validators {
		tr.Validators = append(tr.Validators, common.BytesToAddress(v))
	}
	pivot := target
	for i := 0; i < maxBisections; i++ {
		h, err := qbft.ParseHeader(pivot.RLP)
		if err != nil {
			return fmt.Errorf("block %d: %w", pivot.Height, err)
		}
		_, err = qbft.Verify(tr, h, opts, now)
		switch {
		case err == nil && pivot.Height == target.Height:
			return nil
		case err == nil:
			tr = qbft.Trusted{Number: new(big.Int).SetUint64(pivot.Height), Time: pivot.Time, Validators: pivot.Validators}
			pivot = target
		case errors.Is(err, qbft.ErrTrustOverlap):
			mid := (tr.Number.Uint64() + pivot.Height) / 2
			if mid <= tr.Number.Uint64() {
				return err
			}
			if pivot, err = o.Headers.VerifiedHeader(ctx, mid); err != nil {
				return fmt.Errorf("block %d: %w", mid, err)
			}
		default:
			return err
		}
	}
	return fmt.Errorf("no binding within %d bisection steps", maxBisections)
}
