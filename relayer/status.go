package relayer

import (
	"context"
	"fmt"
)

// EndStatus is what an end's chain says of the path's client, connection and channel.
type EndStatus struct {
	Chain           string
	ClientID        string
	ClientTracks    string
	ClientHeight    uint64
	TrustingPeriod  string
	ConnectionID    string
	ConnectionState string
	PortID          string
	ChannelID       string
	ChannelState    string
}

// Status queries an end's client, connection and channel (what exists of them).
func Status(ctx context.Context, e *End) (EndStatus, error) {
	s := EndStatus{Chain: e.ChainID(), ClientID: e.ClientID, ConnectionID: e.ConnectionID, PortID: e.PortID, ChannelID: e.ChannelID}
	if e.ClientID != "" {
		cs, err := clientState(ctx, e.Chain, e.ClientID)
		if err != nil {
			return s, err
		}
		s.ClientTracks, s.ClientHeight, s.TrustingPeriod = cs.ChainId, cs.LatestHeight.RevisionHeight, cs.TrustingPeriod.String()
	}
	if e.ConnectionID != "" {
		conn, err := e.Chain.Connection(ctx, e.ConnectionID)
		if err != nil {
			return s, fmt.Errorf("query connection %s on %s: %w", e.ConnectionID, e.ChainID(), err)
		}
		s.ConnectionState = conn.State.String()
	}
	if e.ChannelID != "" {
		ch, err := e.Chain.Channel(ctx, e.PortID, e.ChannelID)
		if err != nil {
			return s, fmt.Errorf("query channel %s/%s on %s: %w", e.PortID, e.ChannelID, e.ChainID(), err)
		}
		s.ChannelState = ch.State.String()
	}
	return s, nil
}

// unrelayedPage is how many sequences one unreceived query carries.
const unrelayedPage = 500

// Unrelayed lists the sequences src committed that dst has not received, and those dst received whose
// acknowledgements src has not processed yet (their commitments are still on src). Every page of
// src's commitments is read.
func Unrelayed(ctx context.Context, src, dst *End) (recv, acks []uint64, err error) {
	seqs, err := src.Chain.PacketCommitments(ctx, src.PortID, src.ChannelID)
	if err != nil {
		return nil, nil, fmt.Errorf("packet commitments on %s: %w", src.ChainID(), err)
	}
	for len(seqs) > 0 {
		chunk := seqs[:min(len(seqs), unrelayedPage)]
		seqs = seqs[len(chunk):]
		un, err := dst.Chain.UnreceivedPackets(ctx, dst.PortID, dst.ChannelID, chunk)
		if err != nil {
			return nil, nil, fmt.Errorf("unreceived packets on %s: %w", dst.ChainID(), err)
		}
		recv = append(recv, un...)
		// Committed on src and received on dst: their acknowledgements are still to be relayed.
		unreceived := map[uint64]bool{}
		for _, s := range un {
			unreceived[s] = true
		}
		for _, s := range chunk {
			if !unreceived[s] {
				acks = append(acks, s)
			}
		}
	}
	return recv, acks, nil
}
