package cosmos

import (
	"context"
	"fmt"
	"time"

	"github.com/cosmos/cosmos-sdk/types/query"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/cityrelay/cityrelay/chains"
)

// The roles of package chains the client serves.
var (
	_ chains.Prover           = (*Client)(nil)
	_ chains.Submitter        = (*Client)(nil)
	_ chains.ClientQuerier    = (*Client)(nil)
	_ chains.HandshakeQuerier = (*Client)(nil)
	_ chains.PacketQuerier    = (*Client)(nil)
	_ chains.EventSource      = (*Client)(nil)
	_ chains.TxSearcher       = (*Client)(nil)
	_ chains.Balancer         = (*Client)(nil)
	_ chains.StatusReader     = (*Client)(nil)
	_ chains.StoreQuerier     = (*Client)(nil)
)

// ClientState returns the client state of clientID (latest height) as a protobuf Any.
func (c *Client) ClientState(ctx context.Context, clientID string) (string, []byte, error) {
	var resp clienttypes.QueryClientStateResponse
	if err := c.QueryGRPC(ctx, "/ibc.core.client.v1.Query/ClientState", &clienttypes.QueryClientStateRequest{ClientId: clientID}, &resp, 0); err != nil {
		return "", nil, err
	}
	return resp.ClientState.GetTypeUrl(), resp.ClientState.GetValue(), nil
}

// ConsensusState returns the consensus state of clientID at h (latest height) as a protobuf Any.
func (c *Client) ConsensusState(ctx context.Context, clientID string, h clienttypes.Height) (string, []byte, error) {
	var resp clienttypes.QueryConsensusStateResponse
	req := &clienttypes.QueryConsensusStateRequest{ClientId: clientID, RevisionNumber: h.RevisionNumber, RevisionHeight: h.RevisionHeight}
	if err := c.QueryGRPC(ctx, "/ibc.core.client.v1.Query/ConsensusState", req, &resp, 0); err != nil {
		return "", nil, err
	}
	return resp.ConsensusState.GetTypeUrl(), resp.ConsensusState.GetValue(), nil
}

// UnbondingPeriod is the staking module's unbonding time.
func (c *Client) UnbondingPeriod(ctx context.Context) (time.Duration, error) {
	var resp stakingtypes.QueryParamsResponse
	if err := c.QueryGRPC(ctx, "/cosmos.staking.v1beta1.Query/Params", &stakingtypes.QueryParamsRequest{}, &resp, 0); err != nil {
		return 0, err
	}
	return resp.Params.UnbondingTime, nil
}

// Connection returns the connection id (latest height); a missing one is ErrNotFound.
func (c *Client) Connection(ctx context.Context, id string) (*connectiontypes.ConnectionEnd, error) {
	var resp connectiontypes.QueryConnectionResponse
	if err := c.QueryGRPC(ctx, "/ibc.core.connection.v1.Query/Connection", &connectiontypes.QueryConnectionRequest{ConnectionId: id}, &resp, 0); err != nil {
		return nil, err
	}
	if resp.Connection == nil {
		return nil, fmt.Errorf("%s connection %s: %w", c.cfg.ChainID, id, ErrNotFound)
	}
	return resp.Connection, nil
}

// Channel returns the channel (port, id) (latest height); a missing one is ErrNotFound.
func (c *Client) Channel(ctx context.Context, port, id string) (*channeltypes.Channel, error) {
	var resp channeltypes.QueryChannelResponse
	if err := c.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/Channel", &channeltypes.QueryChannelRequest{PortId: port, ChannelId: id}, &resp, 0); err != nil {
		return nil, err
	}
	if resp.Channel == nil {
		return nil, fmt.Errorf("%s channel %s/%s: %w", c.cfg.ChainID, port, id, ErrNotFound)
	}
	return resp.Channel, nil
}

// commitmentsPage is how many sequences one page of packet commitments carries.
const commitmentsPage = 500

// PacketCommitments lists the sequences of the packet commitments stored for the channel end, every page.
func (c *Client) PacketCommitments(ctx context.Context, port, channel string) ([]uint64, error) {
	var seqs []uint64
	err := everyPage(func(next []byte) (*query.PageResponse, error) {
		var resp channeltypes.QueryPacketCommitmentsResponse
		if err := c.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/PacketCommitments", &channeltypes.QueryPacketCommitmentsRequest{
			PortId: port, ChannelId: channel, Pagination: &query.PageRequest{Key: next, Limit: commitmentsPage}}, &resp, 0); err != nil {
			return nil, err
		}
		for _, pc := range resp.Commitments {
			seqs = append(seqs, pc.Sequence)
		}
		return resp.Pagination, nil
	})
	return seqs, err
}

// ConsensusHeights lists the heights of clientID's consensus states (latest height), every page, in
// the store's order (not sorted).
func (c *Client) ConsensusHeights(ctx context.Context, clientID string) ([]clienttypes.Height, error) {
	var heights []clienttypes.Height
	err := everyPage(func(next []byte) (*query.PageResponse, error) {
		var resp clienttypes.QueryConsensusStateHeightsResponse
		if err := c.QueryGRPC(ctx, "/ibc.core.client.v1.Query/ConsensusStateHeights", &clienttypes.QueryConsensusStateHeightsRequest{
			ClientId: clientID, Pagination: &query.PageRequest{Key: next, Limit: commitmentsPage}}, &resp, 0); err != nil {
			return nil, err
		}
		heights = append(heights, resp.ConsensusStateHeights...)
		return resp.Pagination, nil
	})
	return heights, err
}

// everyPage calls page with each page's key (nil for the first) until a page has no next key.
func everyPage(page func(next []byte) (*query.PageResponse, error)) error {
	var next []byte
	for {
		res, err := page(next)
		if err != nil {
			return err
		}
		if res == nil || len(res.NextKey) == 0 {
			return nil
		}
		next = res.NextKey
	}
}

// UnreceivedPackets returns those of seqs the channel end has not received.
func (c *Client) UnreceivedPackets(ctx context.Context, port, channel string, seqs []uint64) ([]uint64, error) {
	var resp channeltypes.QueryUnreceivedPacketsResponse
	if err := c.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/UnreceivedPackets", &channeltypes.QueryUnreceivedPacketsRequest{
		PortId: port, ChannelId: channel, PacketCommitmentSequences: seqs}, &resp, 0); err != nil {
		return nil, err
	}
	return resp.Sequences, nil
}

// UnreceivedAcks returns those of seqs (sent from the channel end) whose acknowledgements it has not
// processed.
func (c *Client) UnreceivedAcks(ctx context.Context, port, channel string, seqs []uint64) ([]uint64, error) {
	var resp channeltypes.QueryUnreceivedAcksResponse
	if err := c.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/UnreceivedAcks", &channeltypes.QueryUnreceivedAcksRequest{
		PortId: port, ChannelId: channel, PacketAckSequences: seqs}, &resp, 0); err != nil {
		return nil, err
	}
	return resp.Sequences, nil
}

// Balances returns every balance of addr.
func (c *Client) Balances(ctx context.Context, addr string) (sdk.Coins, error) {
	var resp banktypes.QueryAllBalancesResponse
	if err := c.QueryGRPC(ctx, "/cosmos.bank.v1beta1.Query/AllBalances", &banktypes.QueryAllBalancesRequest{Address: addr}, &resp, 0); err != nil {
		return nil, err
	}
	return resp.Balances, nil
}
