package app

import (
	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	didkeeper "github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// closeGuard refuses a MsgChannelCloseInit on port did unless the registry admin signs it. IBC lets
// any account send MsgChannelCloseInit and hands the app's OnChanCloseInit no signer, so without this
// anyone could close a city's ORDERED did channel (UNORDERED ones the module refuses to close at all).
type closeGuard struct{ did didkeeper.Keeper }

func (g closeGuard) AnteHandle(ctx sdk.Context, tx sdk.Tx, simulate bool, next sdk.AnteHandler) (sdk.Context, error) {
	for _, msg := range tx.GetMsgs() {
		m, ok := msg.(*channeltypes.MsgChannelCloseInit)
		if !ok || m.PortId != didtypes.PortID {
			continue
		}
		if err := g.did.CheckRegistryAdmin(ctx, m.Signer); err != nil {
			return ctx, errorsmod.Wrapf(err, "close %s/%s: only the registry admin closes a did channel", m.PortId, m.ChannelId)
		}
	}
	return next(ctx, tx, simulate)
}

// withCloseGuard runs closeGuard before the ante handler h.
func withCloseGuard(h sdk.AnteHandler, did didkeeper.Keeper) sdk.AnteHandler {
	return sdk.ChainAnteDecorators(closeGuard{did: did}, anteTail{h})
}

// anteTail is an ante handler as the last decorator of a chain.
type anteTail struct{ h sdk.AnteHandler }

func (t anteTail) AnteHandle(ctx sdk.Context, tx sdk.Tx, simulate bool, _ sdk.AnteHandler) (sdk.Context, error) {
	return t.h(ctx, tx, simulate)
}
