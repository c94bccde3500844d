package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cityrelay/cityrelay/relayer"
)

// Minimum ICS-29 fees (relayer.End.MinFees, config min_fees; Hermes packet_filter.min_fees): a
// packet sent on a fee-enabled channel whose escrowed recv fee, read with a proof from the sending
// chain's fee module, does not meet the sending end's minimum is not relayed by the daemon (neither
// from the scanners nor by clearing). It is skipped, logged once and counted (OnBelowMinFee), never
// dead-lettered: `cityrelay tx flush --sequences` or the admin clear naming it relays it, and a
// later clearing relays it once its fee was raised (MsgPayPacketFeeAsync). Only the recv is
// filtered (like Hermes): an ack is relayed whoever delivered the packet.

// feeState keeps which channel ends are fee-enabled (proven once per pipeline: a channel's version
// changes only by a channel upgrade, which a restart picks up) and which skipped packets were
// logged. It lives in the pipeline's Exclusions.
type feeState struct {
	mu      sync.Mutex
	enabled map[string]bool // chain/port/channel
	seen    map[excludedKey]bool
}

func newFeeState() *feeState {
	return &feeState{enabled: map[string]bool{}, seen: map[excludedKey]bool{}}
}

// feeEnabled reports whether src's channel is fee-enabled (its proven version is ICS-29 fee metadata).
func (f *feeState) feeEnabled(ctx context.Context, check relayer.ProofChecker, src *relayer.End) (bool, error) {
	k := src.ChainID() + "/" + src.PortID + "/" + src.ChannelID
	f.mu.Lock()
	on, ok := f.enabled[k]
	f.mu.Unlock()
	if ok {
		return on, nil
	}
	on, err := relayer.ChannelFeeEnabled(ctx, check, src)
	if err != nil {
		return false, fmt.Errorf("channel %s/%s on %s: %w", src.PortID, src.ChannelID, src.ChainID(), err)
	}
	f.mu.Lock()
	f.enabled[k] = on
	f.mu.Unlock()
	return on, nil
}

// first records a skipped item and reports whether it is the first time (bounded like Exclusions).
func (f *feeState) first(k excludedKey) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[k] || len(f.seen) >= maxExcludedSeen {
		return false
	}
	f.seen[k] = true
	return true
}

// feeWait bounds the wait for a verified header above a packet's send height.
const feeWait = 30 * time.Second

// belowMinFee reports whether the recv of the packet seq sent from src on path at sentHeight (0:
// unknown, any verified height) is to be skipped for a recv fee below src's minimum. A packet an
// operator released (tx flush --sequences, the admin clear) is never skipped. A fee that cannot be
// read (node error, bad proof) skips the packet this time, logged at warn: clearing asks again.
func (o Options) belowMinFee(ctx context.Context, path string, src *relayer.End, seq uint64, sentHeight int64) bool {
	if len(src.MinFees) == 0 {
		return false
	}
	fees := newFeeState() // no record shared: nothing cached, every skip logged
	if o.Exclusions != nil {
		if o.Exclusions.isReleased(path, seq) {
			return false
		}
		fees = o.Exclusions.fees
	}
	on, err := fees.feeEnabled(ctx, o.Relayer.Check, src)
	if err != nil {
		o.Log.Warn().Err(err).Str("chain", src.ChainID()).Str("path", path).Str("channel", src.ChannelID).Uint64("seq", seq).
			Msg("min_fees: cannot tell whether the channel is fee-enabled; packet skipped for now (clearing asks again)")
		return true
	}
	if !on {
		return false
	}
	paid, err := escrowedAbove(ctx, o.Relayer.Check, src, seq, sentHeight)
	if err != nil {
		o.Log.Warn().Err(err).Str("chain", src.ChainID()).Str("path", path).Str("channel", src.ChannelID).Uint64("seq", seq).
			Msg("min_fees: escrowed fee unreadable; packet skipped for now (clearing asks again)")
		return true
	}
	if relayer.MeetsMinimum(paid.Recv, src.MinFees) {
		return false
	}
	if fees.first(excludedKey{path: path, chain: src.ChainID(), channel: src.ChannelID, kind: "min_fee", seq: seq}) {
		o.Log.Info().Str("chain", src.ChainID()).Str("path", path).Str("channel", src.ChannelID).Uint64("seq", seq).
			Str("recv_fee", paid.Recv.String()).Str("min_fees", src.MinFees.String()).Bool("proven", paid.Proven).Int64("height", paid.Height).
			Msg("packet's recv fee below min_fees: not relayed (relay it with `cityrelay tx flush --sequences` or the admin clear)")
		if o.OnBelowMinFee != nil {
			o.OnBelowMinFee(path, src.ChainID())
		}
	}
	return true
}

// errNoHeaderAbove is a verified header above the send height not coming in time.
var errNoHeaderAbove = errors.New("no verified header above the send height")

// escrowedAbove is relayer.EscrowedFees read at a verified header above sentHeight (the header of
// height h commits to the state after block h-1: a fee paid in the send's block is seen only above it).
func escrowedAbove(ctx context.Context, check relayer.ProofChecker, src *relayer.End, seq uint64, sentHeight int64) (*relayer.PacketFees, error) {
	deadline := time.Now().Add(feeWait)
	for {
		f, err := relayer.EscrowedFees(ctx, check, src, seq)
		if err != nil || f.Height > sentHeight {
			return f, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s at %d after %s: %w", src.ChainID(), sentHeight, feeWait, errNoHeaderAbove)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
