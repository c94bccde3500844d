package cosmos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	"github.com/cosmos/cosmos-sdk/codec"
	grpctypes "github.com/cosmos/cosmos-sdk/types/grpc"
	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// dialGRPC connects to a node's gRPC endpoint (plaintext: the endpoint is on a trusted network or
// loopback; nothing read from it is trusted anyway, proofs are checked against verified headers).
func dialGRPC(addr string, cdc codec.Codec) (*grpc.ClientConn, error) {
	pc, ok := cdc.(*codec.ProtoCodec)
	if !ok {
		return nil, errors.New("grpc needs a proto codec")
	}
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(pc.GRPCCodec()), grpc.MaxCallRecvMsgSize(64<<20)))
}

// invokeGRPC calls a query method over gRPC at height (0 = latest), retrying an unavailable node with
// backoff. NotFound is ErrNotFound; another refusal is a *QueryError with codespace "grpc".
func (c *Client) invokeGRPC(ctx context.Context, method string, req, resp proto.Message, height int64) error {
	if height > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, grpctypes.GRPCBlockHeightHeader, strconv.FormatInt(height, 10))
	}
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := c.grpc.Invoke(ctx, method, req, resp)
		if err == nil {
			return nil
		}
		st, _ := status.FromError(err)
		switch st.Code() {
		case codes.NotFound:
			return fmt.Errorf("%s query %s: %w: %s", c.cfg.ChainID, method, ErrNotFound, st.Message())
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
			if attempt >= 4 || ctx.Err() != nil {
				return fmt.Errorf("%s query %s: %w: %v", c.cfg.ChainID, method, ErrNoEndpoint, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		default:
			return &QueryError{ChainID: c.cfg.ChainID, Path: method, Codespace: "grpc", Code: uint32(st.Code()), Log: st.Message()}
		}
	}
}

// abciQueryGRPC runs an ABCI query through the node's gRPC CometBFT service (protobuf, no JSON).
func (c *Client) abciQueryGRPC(ctx context.Context, path string, data []byte, height int64, prove bool) (value []byte, ops *cmtcrypto.ProofOps, h int64, err error) {
	var resp cmtservice.ABCIQueryResponse
	if err := c.invokeGRPC(ctx, "/cosmos.base.tendermint.v1beta1.Service/ABCIQuery",
		&cmtservice.ABCIQueryRequest{Data: data, Path: path, Height: height, Prove: prove}, &resp, 0); err != nil {
		return nil, nil, 0, err
	}
	if resp.Code != 0 {
		return nil, nil, 0, &QueryError{ChainID: c.cfg.ChainID, Path: path, Codespace: resp.Codespace, Code: resp.Code, Log: resp.Log}
	}
	if resp.ProofOps != nil {
		ops = &cmtcrypto.ProofOps{}
		for _, op := range resp.ProofOps.Ops {
			ops.Ops = append(ops.Ops, cmtcrypto.ProofOp{Type: op.Type, Key: op.Key, Data: op.Data})
		}
	}
	return resp.Value, ops, resp.Height, nil
}
