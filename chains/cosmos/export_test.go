package cosmos

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// SignTx exposes tx building and signing to the benchmarks.
func (c *Client) SignTx(ctx context.Context, msgs []sdk.Msg, gas uint64) ([]byte, error) {
	c.signer.mu.Lock()
	defer c.signer.mu.Unlock()
	if err := c.signer.load(ctx); err != nil {
		return nil, err
	}
	bz, _, err := c.signer.signTx(ctx, msgs, gas, c.cfg.GasPrice)
	return bz, err
}

// GasPrice exposes the price of the next tx to the gas pricing tests.
func (c *Client) GasPrice(ctx context.Context) (sdk.DecCoin, error) { return c.fees.price(ctx, c) }

// RequiredPrice exposes the parsing of an insufficient-fee refusal.
var RequiredPrice = requiredPrice
