package cosmos

import "github.com/cometbft/cometbft/rpc/client"

func rpcQueryOptions(height int64, prove bool) client.ABCIQueryOptions {
	return client.ABCIQueryOptions{Height: height, Prove: prove}
}
