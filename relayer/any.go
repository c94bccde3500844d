package relayer

import codectypes "github.com/cosmos/cosmos-sdk/codec/types"

// clientAny is how a client state is stored: a protobuf Any.
type clientAny = codectypes.Any
