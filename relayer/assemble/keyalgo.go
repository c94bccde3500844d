package assemble

import (
	"context"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/relayer/keys"
)

// noteKeyAlgo records the algorithm of the chain's relayer key when it is not the SDK's secp256k1
// (a key not there yet is noted nothing: Send fails on it anyway). Called with r.mu held.
func (r *Runtime) noteKeyAlgo(id string, kr keyring.Keyring, name string) {
	algo, err := keys.Algo(kr, name)
	if err != nil || algo == string(keys.Secp256k1Type) {
		return
	}
	if r.algos == nil {
		r.algos = map[string]string{}
	}
	r.algos[id] = algo
}

// withAlgoCheck is c, or, for a chain whose relayer key is eth_secp256k1, c with Send's refusals
// for want of that key type explained (keys.ExplainSendError: ErrAlgoUnsupported). Called with r.mu
// held.
func (r *Runtime) withAlgoCheck(id string, c *cosmos.Client) Chain {
	if algo, ok := r.algos[id]; ok {
		return algoChecked{Client: c, algo: algo}
	}
	return c
}

// algoChecked is a chain client whose key is of another algorithm than secp256k1: a chain that does
// not know it refuses every tx, and Send says why.
type algoChecked struct {
	*cosmos.Client
	algo string
}

func (a algoChecked) Send(ctx context.Context, msgs ...sdk.Msg) (*cosmos.TxResult, error) {
	res, err := a.Client.Send(ctx, msgs...)
	return res, keys.ExplainSendError(a.ChainID(), a.algo, err)
}
