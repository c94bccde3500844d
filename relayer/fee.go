package relayer

import (
	"context"
	"errors"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
	ibcfeetypes "github.com/cosmos/ibc-go/v8/modules/apps/29-fee/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// ICS-29 fee middleware (ibc-go's 29-fee). A channel is fee-enabled when its version is the fee
// metadata {"fee_version":"ics29-1","app_version":...}. On such a channel a packet's sender (or
// anyone) escrows a recv, an ack and a timeout fee on the source chain; the destination's fee module
// writes into the acknowledgement the counterparty payee registered for the relayer that delivered
// the packet, and the source pays that address the recv fee when the ack comes back (the ack fee to
// the payee of the relayer that delivered the ack, the timeout fee likewise on a timeout).

// ErrNotFeeEnabled is returned for a channel whose version is not ICS-29 fee metadata.
var ErrNotFeeEnabled = errors.New("channel is not fee-enabled (ICS-29)")

// FeeEnabled reports whether version is an ICS-29 fee-wrapped version, and the application version
// inside it.
func FeeEnabled(version string) (appVersion string, ok bool) {
	md, err := ibcfeetypes.MetadataFromVersion(version)
	if err != nil || md.FeeVersion != ibcfeetypes.Version {
		return "", false
	}
	return md.AppVersion, true
}

// PayeeOptions say whom register-payee names on each end (empty: the defaults).
type PayeeOptions struct {
	// Payee, when set, is registered on the end's chain (MsgRegisterPayee) as the address paid the
	// ack and timeout fees the relayer earns there. Unset: the fee module pays the relayer's own
	// address, and nothing is registered.
	Payee string
	// CounterpartyPayee is registered on the end's chain (MsgRegisterCounterpartyPayee) as the
	// address on the counterparty chain paid the recv fees of the packets the relayer delivers to
	// this end. Unset: the relayer's own address on the counterparty chain.
	CounterpartyPayee string
}

// PayeeRegistration is what RegisterPayee registered on one end.
type PayeeRegistration struct {
	Chain             string
	PortID, ChannelID string
	Relayer           string // the relayer's address on Chain
	Payee             string // registered payee ("" when none was registered)
	CounterpartyPayee string // registered counterparty payee
	Height            int64
	TxHash            string
}

// RegisterPayee registers, on end's chain, the relayer's counterparty payee (and its payee when
// o.Payee is set) for end's channel, whose counterparty is other. The channel must be fee-enabled
// (ErrNotFeeEnabled otherwise: the fee module would refuse the messages). Registering again
// replaces the previous registration.
func RegisterPayee(ctx context.Context, end, other *End, o PayeeOptions) (*PayeeRegistration, error) {
	if end.ChannelID == "" {
		return nil, fmt.Errorf("register payee on %s: the end has no channel: %w", end.ChainID(), ErrHandshake)
	}
	ch, err := end.Chain.Channel(ctx, end.PortID, end.ChannelID)
	if err != nil {
		return nil, fmt.Errorf("register payee on %s: channel %s/%s: %w", end.ChainID(), end.PortID, end.ChannelID, err)
	}
	if _, ok := FeeEnabled(ch.Version); !ok {
		return nil, fmt.Errorf("register payee on %s: channel %s/%s has version %q: %w", end.ChainID(), end.PortID, end.ChannelID, ch.Version, ErrNotFeeEnabled)
	}
	signer, err := end.Chain.Address(ctx)
	if err != nil {
		return nil, fmt.Errorf("register payee on %s: relayer address: %w", end.ChainID(), err)
	}
	cp := o.CounterpartyPayee
	if cp == "" {
		if cp, err = other.Chain.Address(ctx); err != nil {
			return nil, fmt.Errorf("register payee on %s: relayer address on counterparty %s: %w", end.ChainID(), other.ChainID(), err)
		}
	}
	msgs := []sdk.Msg{ibcfeetypes.NewMsgRegisterCounterpartyPayee(end.PortID, end.ChannelID, signer, cp)}
	if o.Payee != "" {
		msgs = append(msgs, ibcfeetypes.NewMsgRegisterPayee(end.PortID, end.ChannelID, signer, o.Payee))
	}
	for _, m := range msgs {
		if v, ok := m.(sdk.HasValidateBasic); ok {
			if err := v.ValidateBasic(); err != nil {
				return nil, fmt.Errorf("register payee on %s: %s: %w", end.ChainID(), sdk.MsgTypeURL(m), err)
			}
		}
	}
	res, err := end.Chain.Send(ctx, msgs...)
	if err != nil {
		return nil, fmt.Errorf("register payee on %s channel %s/%s: %w", end.ChainID(), end.PortID, end.ChannelID, err)
	}
	return &PayeeRegistration{Chain: end.ChainID(), PortID: end.PortID, ChannelID: end.ChannelID, Relayer: signer,
		Payee: o.Payee, CounterpartyPayee: cp, Height: res.Height, TxHash: res.Hash}, nil
}

// PacketFees is what the source chain's fee module holds in escrow for one packet.
type PacketFees struct {
	// Recv, Ack and Timeout are the sums over every fee paid for the packet.
	Recv, Ack, Timeout sdk.Coins
	// Proven is true when the escrow was read with an ICS-23 proof checked against a verified app
	// hash of the source chain (absence included: no fee escrowed).
	Proven bool
	Height int64 // the verified height the escrow was read at
}

// EscrowedFees reads the fees escrowed on src's chain for the packet sequence seq sent from src's
// channel, proven against src's newest verified header: the fee module's store ("feeibc"), key
// feesInEscrow/<port>/<channel>/<sequence>. No entry (no fee paid, or already paid out) is proven
// absence and zero fees.
func EscrowedFees(ctx context.Context, check ProofChecker, src *End, seq uint64) (*PacketFees, error) {
	id := channeltypes.NewPacketID(src.PortID, src.ChannelID, seq)
	p, lb, err := src.verifiedRead(ctx, check, ibcfeetypes.StoreKey, ibcfeetypes.KeyFeesInEscrow(id))
	if err != nil {
		return nil, fmt.Errorf("fees escrowed for %s/%s sequence %d on %s: %w", src.PortID, src.ChannelID, seq, src.ChainID(), err)
	}
	out := &PacketFees{Proven: true, Height: lb.Height}
	if p.Value == nil {
		return out, nil
	}
	var fees ibcfeetypes.PacketFees
	if err := fees.Unmarshal(p.Value); err != nil {
		return nil, fmt.Errorf("fees escrowed for %s/%s sequence %d on %s: decode: %w", src.PortID, src.ChannelID, seq, src.ChainID(), err)
	}
	for _, f := range fees.PacketFees {
		out.Recv = out.Recv.Add(f.Fee.RecvFee...)
		out.Ack = out.Ack.Add(f.Fee.AckFee...)
		out.Timeout = out.Timeout.Add(f.Fee.TimeoutFee...)
	}
	return out, nil
}

// MeetsMinimum reports whether recv fees paid meet min, Hermes' packet_filter.min_fees rule: min
// is a list of alternatives, and the packet qualifies when for at least one coin of min the fees
// hold at least that amount of its denomination. An empty min is always met.
func MeetsMinimum(recv sdk.Coins, min sdk.Coins) bool {
	if len(min) == 0 {
		return true
	}
	for _, c := range min {
		if recv.AmountOf(c.Denom).GTE(c.Amount) {
			return true
		}
	}
	return false
}

// ChannelFeeEnabled reports whether e's channel is fee-enabled, read with a proof of the channel end
// checked against e's newest verified header (a node cannot make the relayer treat a fee-enabled
// channel as a plain one, nor the reverse).
func ChannelFeeEnabled(ctx context.Context, check ProofChecker, e *End) (bool, error) {
	ch, err := (&Linker{Check: check}).channel(ctx, e)
	if err != nil {
		return false, err
	}
	_, ok := FeeEnabled(ch.Version)
	return ok, nil
}
