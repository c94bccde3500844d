package relayer

import (
	"context"
	"fmt"

	"github.com/cosmos/cosmos-sdk/types/query"
	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
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
		var resp connectiontypes.QueryConnectionResponse
		if err := e.Chain.QueryGRPC(ctx, "/ibc.core.connection.v1.Query/Connection", &connectiontypes.QueryConnectionRequest{ConnectionId: e.ConnectionID}, &resp, 0); err != nil {
			return s, fmt.Errorf("query connection %s on %s: %w", e.ConnectionID, e.ChainID(), err)
		}
		s.ConnectionState = resp.Connection.State.String()
	}
	if e.ChannelID != "" {
		var resp channeltypes.QueryChannelResponse
		if err := e.Chain.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/Channel", &channeltypes.QueryChannelRequest{PortId: e.PortID, ChannelId: e.ChannelID}, &resp, 0); err != nil {
			return s, fmt.Errorf("query channel %s/%s on %s: %w", e.PortID, e.ChannelID, e.ChainID(), err)
		}
		s.ChannelState = resp.Channel.State.String()
	}
	return s, nil
}

// unrelayedPage is how many sequences one commitments page or unreceived query carries.
const unrelayedPage = 500

// Unrelayed lists the sequences src committed that dst has not received, and those dst received whose
// acknowledgements src has not processed yet (their commitments are still on src). Every page of
// src's commitments is read.
func Unrelayed(ctx context.Context, src, dst *End) (recv, acks []uint64, err error) {
	var seqs []uint64
	var next []byte
	for {
		var commits channeltypes.QueryPacketCommitmentsResponse
		if err := src.Chain.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/PacketCommitments",
			&channeltypes.QueryPacketCommitmentsRequest{PortId: src.PortID, ChannelId: src.ChannelID,
				Pagination: &query.PageRequest{Key: next, Limit: unrelayedPage}}, &commits, 0); err != nil {
			return nil, nil, fmt.Errorf("packet commitments on %s: %w", src.ChainID(), err)
		}
		for _, c := range commits.Commitments {
			seqs = append(seqs, c.Sequence)
		}
		if commits.Pagination == nil || len(commits.Pagination.NextKey) == 0 {
			break
		}
		next = commits.Pagination.NextKey
	}
	for len(seqs) > 0 {
		chunk := seqs[:min(len(seqs), unrelayedPage)]
		seqs = seqs[len(chunk):]
		var un channeltypes.QueryUnreceivedPacketsResponse
		if err := dst.Chain.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/UnreceivedPackets", &channeltypes.QueryUnreceivedPacketsRequest{
			PortId: dst.PortID, ChannelId: dst.ChannelID, PacketCommitmentSequences: chunk}, &un, 0); err != nil {
			return nil, nil, fmt.Errorf("unreceived packets on %s: %w", dst.ChainID(), err)
		}
		recv = append(recv, un.Sequences...)
		// Committed on src and received on dst: their acknowledgements are still to be relayed.
		unreceived := map[uint64]bool{}
		for _, s := range un.Sequences {
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
