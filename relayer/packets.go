package relayer

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
)

// Ack is an acknowledgement written on the chain that received packet.
type Ack struct {
	Packet channeltypes.Packet
	Ack    []byte
}

// SendPackets extracts the packets of send_packet events. Events come from an RPC node and are not
// trusted: a packet is relayed only with a proof of its commitment checked against a verified app
// hash, and a forged event has no such commitment.
func SendPackets(events []abci.Event) ([]channeltypes.Packet, error) {
	var out []channeltypes.Packet
	for _, ev := range events {
		if ev.Type != channeltypes.EventTypeSendPacket {
			continue
		}
		p, _, err := packetFromEvent(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// WrittenAcks extracts the acknowledgements of write_acknowledgement events (untrusted, as above).
func WrittenAcks(events []abci.Event) ([]Ack, error) {
	var out []Ack
	for _, ev := range events {
		if ev.Type != channeltypes.EventTypeWriteAck {
			continue
		}
		p, ack, err := packetFromEvent(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, Ack{Packet: p, Ack: ack})
	}
	return out, nil
}

func packetFromEvent(ev abci.Event) (channeltypes.Packet, []byte, error) {
	attrs := make(map[string]string, len(ev.Attributes))
	for _, a := range ev.Attributes {
		attrs[a.Key] = a.Value
	}
	var p channeltypes.Packet
	var err error
	bad := func(key string, err error) (channeltypes.Packet, []byte, error) {
		return channeltypes.Packet{}, nil, fmt.Errorf("%s event: attribute %s: %w: %v", ev.Type, key, ErrBadEvent, err)
	}
	if p.Sequence, err = strconv.ParseUint(attrs[channeltypes.AttributeKeySequence], 10, 64); err != nil {
		return bad(channeltypes.AttributeKeySequence, err)
	}
	p.SourcePort, p.SourceChannel = attrs[channeltypes.AttributeKeySrcPort], attrs[channeltypes.AttributeKeySrcChannel]
	p.DestinationPort, p.DestinationChannel = attrs[channeltypes.AttributeKeyDstPort], attrs[channeltypes.AttributeKeyDstChannel]
	if p.Data, err = hex.DecodeString(attrs[channeltypes.AttributeKeyDataHex]); err != nil {
		return bad(channeltypes.AttributeKeyDataHex, err)
	}
	if p.TimeoutHeight, err = clienttypes.ParseHeight(attrs[channeltypes.AttributeKeyTimeoutHeight]); err != nil {
		return bad(channeltypes.AttributeKeyTimeoutHeight, err)
	}
	if p.TimeoutTimestamp, err = strconv.ParseUint(attrs[channeltypes.AttributeKeyTimeoutTimestamp], 10, 64); err != nil {
		return bad(channeltypes.AttributeKeyTimeoutTimestamp, err)
	}
	var ack []byte
	if ev.Type == channeltypes.EventTypeWriteAck {
		if ack, err = hex.DecodeString(attrs[channeltypes.AttributeKeyAckHex]); err != nil {
			return bad(channeltypes.AttributeKeyAckHex, err)
		}
	}
	if err := p.ValidateBasic(); err != nil {
		return bad("packet", err)
	}
	return p, ack, nil
}

// Relayer builds and submits packet messages with proofs checked against verified headers.
type Relayer struct {
	Check ProofChecker
}

// RecvPackets delivers packets sent on src to dst: one tx of an update of dst's client of src (when
// needed) and a MsgRecvPacket per packet, each with a proof of the packet's commitment on src checked
// against the verified app hash first. Packets dst already received are skipped. It returns the tx
// (nil when nothing was left to deliver) and the sequences delivered.
//
// sentHeight is the height of the newest block that sent one of the packets: proofs come from a
// verified header above it (the app hash of header h commits to the state after block h-1).
func (r *Relayer) RecvPackets(ctx context.Context, src, dst *End, packets []channeltypes.Packet, sentHeight int64) (*TxInfo, []uint64, error) {
	if len(packets) == 0 {
		return nil, nil, nil
	}
	todo, err := unreceived(ctx, dst, packets)
	if err != nil || len(todo) == 0 {
		return nil, nil, err
	}
	update, lb, err := r.proofHeader(ctx, dst, src, sentHeight)
	if err != nil {
		return nil, nil, err
	}
	signer, err := dst.Chain.Address(ctx)
	if err != nil {
		return nil, nil, err
	}
	var msgs []sdk.Msg
	if update != nil {
		msgs = append(msgs, update)
	}
	proveStart := time.Now()
	proofs, err := proveAll(ctx, len(todo), func(ctx context.Context, i int) (*cosmos.Proven, error) {
		p := todo[i]
		return src.provenAt(ctx, r.Check, lb, ibcexported.StoreKey, host.PacketCommitmentKey(p.SourcePort, p.SourceChannel, p.Sequence))
	})
	if err != nil {
		return nil, nil, fmt.Errorf("prove commitments on %s: %w", src.ChainID(), err)
	}
	var seqs []uint64
	for i, p := range todo {
		proven := proofs[i]
		if proven.Value == nil {
			// Not committed (yet, or never: a forged event), or already acknowledged.
			continue
		}
		if string(proven.Value) != string(channeltypes.CommitPacket(nil, p)) {
			return nil, nil, fmt.Errorf("packet %s/%d: event does not match the proven commitment: %w", p.SourceChannel, p.Sequence, ErrBadEvent)
		}
		msgs = append(msgs, channeltypes.NewMsgRecvPacket(p, proven.Proof, src.height(lb.Height), signer))
		seqs = append(seqs, p.Sequence)
	}
	if len(seqs) == 0 {
		return nil, nil, nil
	}
	prove := time.Since(proveStart)
	res, err := dst.Chain.Send(ctx, msgs...)
	if err != nil {
		return nil, nil, fmt.Errorf("recv %d packets on %s: %w", len(seqs), dst.ChainID(), err)
	}
	return txInfo(res, prove), seqs, nil
}

// AckPackets returns acknowledgements written on src (the chain that received the packets) to dst
// (the chain that sent them), with proofs of the acknowledgement commitments on src.
// writtenHeight is the height of the newest block that wrote one of the acknowledgements.
func (r *Relayer) AckPackets(ctx context.Context, src, dst *End, acks []Ack, writtenHeight int64) (*TxInfo, []uint64, error) {
	if len(acks) == 0 {
		return nil, nil, nil
	}
	var seqs []uint64
	for _, a := range acks {
		seqs = append(seqs, a.Packet.Sequence)
	}
	var resp channeltypes.QueryUnreceivedAcksResponse
	err := dst.Chain.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/UnreceivedAcks", &channeltypes.QueryUnreceivedAcksRequest{
		PortId: acks[0].Packet.SourcePort, ChannelId: acks[0].Packet.SourceChannel, PacketAckSequences: seqs}, &resp, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("query unreceived acks on %s: %w", dst.ChainID(), err)
	}
	pending := map[uint64]bool{}
	for _, s := range resp.Sequences {
		pending[s] = true
	}
	update, lb, err := r.proofHeader(ctx, dst, src, writtenHeight)
	if err != nil {
		return nil, nil, err
	}
	signer, err := dst.Chain.Address(ctx)
	if err != nil {
		return nil, nil, err
	}
	var msgs []sdk.Msg
	if update != nil {
		msgs = append(msgs, update)
	}
	var todo []Ack
	for _, a := range acks {
		if pending[a.Packet.Sequence] {
			todo = append(todo, a)
		}
	}
	proveStart := time.Now()
	proofs, err := proveAll(ctx, len(todo), func(ctx context.Context, i int) (*cosmos.Proven, error) {
		p := todo[i].Packet
		return src.provenAt(ctx, r.Check, lb, ibcexported.StoreKey, host.PacketAcknowledgementKey(p.DestinationPort, p.DestinationChannel, p.Sequence))
	})
	if err != nil {
		return nil, nil, fmt.Errorf("prove acknowledgements on %s: %w", src.ChainID(), err)
	}
	seqs = seqs[:0]
	for i, a := range todo {
		p, proven := a.Packet, proofs[i]
		if proven.Value == nil {
			continue
		}
		if string(proven.Value) != string(channeltypes.CommitAcknowledgement(a.Ack)) {
			return nil, nil, fmt.Errorf("ack %s/%d: event does not match the proven commitment: %w", p.DestinationChannel, p.Sequence, ErrBadEvent)
		}
		msgs = append(msgs, channeltypes.NewMsgAcknowledgement(p, a.Ack, proven.Proof, src.height(lb.Height), signer))
		seqs = append(seqs, p.Sequence)
	}
	if len(seqs) == 0 {
		return nil, nil, nil
	}
	prove := time.Since(proveStart)
	res, err := dst.Chain.Send(ctx, msgs...)
	if err != nil {
		return nil, nil, fmt.Errorf("ack %d packets on %s: %w", len(seqs), dst.ChainID(), err)
	}
	return txInfo(res, prove), seqs, nil
}

// proofHeader returns a verified header of src above minHeight and, if dst's client of src has no
// consensus state there, the update that brings it there. When the client is already above
// minHeight, its own latest height is used and no update is sent (it would only cost gas).
func (r *Relayer) proofHeader(ctx context.Context, dst, src *End, minHeight int64) (sdk.Msg, *cmttypes.LightBlock, error) {
	cs, err := clientState(ctx, dst.Chain, dst.ClientID)
	if err != nil {
		return nil, nil, err
	}
	if trusted := int64(cs.LatestHeight.RevisionHeight); trusted > minHeight && cs.ChainId == src.ChainID() {
		lb, err := src.Light.VerifyHeight(ctx, trusted)
		if err != nil {
			return nil, nil, fmt.Errorf("verify %s header %d: %w", src.ChainID(), trusted, err)
		}
		return nil, lb, nil
	}
	lb, err := waitVerified(ctx, src, minHeight+1)
	if err != nil {
		return nil, nil, err
	}
	return updateTo(ctx, dst, src, lb)
}

// waitVerified returns e's latest verified header once it is at height h or above.
func waitVerified(ctx context.Context, e *End, h int64) (*cmttypes.LightBlock, error) {
	for {
		lb, err := e.Light.VerifyLatest(ctx)
		if err != nil {
			return nil, fmt.Errorf("verify latest header of %s: %w", e.ChainID(), err)
		}
		if lb.Height >= h {
			return lb, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %s header %d: %w", e.ChainID(), h, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unreceived keeps the packets dst has not received yet.
func unreceived(ctx context.Context, dst *End, packets []channeltypes.Packet) ([]channeltypes.Packet, error) {
	seqs := make([]uint64, len(packets))
	for i, p := range packets {
		seqs[i] = p.Sequence
	}
	var resp channeltypes.QueryUnreceivedPacketsResponse
	err := dst.Chain.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/UnreceivedPackets", &channeltypes.QueryUnreceivedPacketsRequest{
		PortId: packets[0].DestinationPort, ChannelId: packets[0].DestinationChannel, PacketCommitmentSequences: seqs}, &resp, 0)
	if err != nil {
		return nil, fmt.Errorf("query unreceived packets on %s: %w", dst.ChainID(), err)
	}
	want := map[uint64]bool{}
	for _, s := range resp.Sequences {
		want[s] = true
	}
	var out []channeltypes.Packet
	for _, p := range packets {
		if want[p.Sequence] {
			out = append(out, p)
		}
	}
	return out, nil
}

// proofConcurrency bounds parallel proof queries per batch: enough to hide RPC round trips, few
// enough not to load a node (PITFALLS: huge query bursts can take a node down).
const proofConcurrency = 8

// proveAll runs n proof queries with bounded concurrency, results in order.
func proveAll(ctx context.Context, n int, prove func(context.Context, int) (*cosmos.Proven, error)) ([]*cosmos.Proven, error) {
	out := make([]*cosmos.Proven, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(proofConcurrency)
	for i := range n {
		g.Go(func() error {
			p, err := prove(gctx, i)
			out[i] = p
			return err
		})
	}
	return out, g.Wait()
}
