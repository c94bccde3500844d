package cosmos

import (
	"context"
	"errors"
	"fmt"

	"github.com/cosmos/cosmos-sdk/types/query"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains"
)

var _ chains.ChannelLister = (*Client)(nil)

// ErrTooMany is a listing longer than the client takes.
var ErrTooMany = errors.New("listing too long")

// channelsPage is how many channels one page carries; maxChannels bounds a listing (a node that
// pages on without end must not hold the caller).
const (
	channelsPage = 200
	maxChannels  = 20_000
)

// ConnectionChannels lists the channels over connectionID (latest height), every page.
func (c *Client) ConnectionChannels(ctx context.Context, connectionID string) ([]channeltypes.IdentifiedChannel, error) {
	var out []channeltypes.IdentifiedChannel
	err := everyPage(func(next []byte) (*query.PageResponse, error) {
		var resp channeltypes.QueryConnectionChannelsResponse
		if err := c.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/ConnectionChannels", &channeltypes.QueryConnectionChannelsRequest{
			Connection: connectionID, Pagination: &query.PageRequest{Key: next, Limit: channelsPage}}, &resp, 0); err != nil {
			return nil, err
		}
		return resp.Pagination, c.appendChannels(&out, resp.Channels)
	})
	return out, err
}

// Channels lists every channel of the chain (latest height), every page.
func (c *Client) Channels(ctx context.Context) ([]channeltypes.IdentifiedChannel, error) {
	var out []channeltypes.IdentifiedChannel
	err := everyPage(func(next []byte) (*query.PageResponse, error) {
		var resp channeltypes.QueryChannelsResponse
		if err := c.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/Channels", &channeltypes.QueryChannelsRequest{
			Pagination: &query.PageRequest{Key: next, Limit: channelsPage}}, &resp, 0); err != nil {
			return nil, err
		}
		return resp.Pagination, c.appendChannels(&out, resp.Channels)
	})
	return out, err
}

// appendChannels adds a page of listed channels to out, refusing a listing past maxChannels.
func (c *Client) appendChannels(out *[]channeltypes.IdentifiedChannel, page []*channeltypes.IdentifiedChannel) error {
	if len(*out)+len(page) > maxChannels {
		return fmt.Errorf("%s lists more than %d channels: %w", c.cfg.ChainID, maxChannels, ErrTooMany)
	}
	for _, ch := range page {
		if ch != nil {
			*out = append(*out, *ch)
		}
	}
	return nil
}
