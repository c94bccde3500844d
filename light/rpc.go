package light

import (
	"bytes"
	"context"
	"sync"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/cityrelay/cityrelay/internal/rpcconn"
)

// rpcTimeout bounds one RPC call of a light client's provider (cometbft's provider uses 5 s).
const rpcTimeout = 5 * time.Second

// newRPC is the RPC client of a light client's provider at remote, over the process's shared HTTP
// transport (rpcconn), whose validator sets are reused across heights (validatorReuse).
func newRPC(remote string) (*validatorReuse, error) {
	c, err := rpcconn.New(remote, rpcTimeout)
	if err != nil {
		return nil, err
	}
	return &validatorReuse{RemoteClient: c, hashAt: map[int64][]byte{}}, nil
}

// validatorReuse is an RPC client that answers /validators for a height from the set it fetched
// last, when the commit it served for that height names the same validators hash: validator sets
// rarely change, and a light block otherwise costs two requests (commit, validators) where one does.
// The answer is exactly what the node would serve (a set's hash commits to every validator's key and
// power; proposer priorities, which it leaves out, only order proposers and no check uses them), and cometbft checks the header's
// ValidatorsHash against the set in any case, so a reused set can never pass where the node's
// would not. Sets larger than one page are never reused (the provider pages through them).
type validatorReuse struct {
	rpcclient.RemoteClient
	mu sync.Mutex
	// hashAt is the validators hash of each height whose commit was served and not yet used.
	hashAt map[int64][]byte
	// last is the last full single-page validator set fetched, and its hash.
	last     *ctypes.ResultValidators
	lastHash []byte
}

// maxRemembered bounds hashAt (heights whose validators were never asked for).
const maxRemembered = 256

func (r *validatorReuse) Commit(ctx context.Context, height *int64) (*ctypes.ResultCommit, error) {
	res, err := r.RemoteClient.Commit(ctx, height)
	if err == nil && res.Header != nil {
		r.mu.Lock()
		if len(r.hashAt) >= maxRemembered {
			clear(r.hashAt)
		}
		r.hashAt[res.Height] = res.ValidatorsHash
		r.mu.Unlock()
	}
	return res, err
}

func (r *validatorReuse) Validators(ctx context.Context, height *int64, page, perPage *int) (*ctypes.ResultValidators, error) {
	if height != nil && (page == nil || *page == 1) {
		r.mu.Lock()
		hash, ok := r.hashAt[*height]
		last := r.last
		if ok && last != nil && bytes.Equal(hash, r.lastHash) && (perPage == nil || *perPage >= last.Total) {
			r.mu.Unlock()
			out := *last
			out.BlockHeight = *height
			out.Validators = copyValidators(last.Validators)
			return &out, nil
		}
		r.mu.Unlock()
	}
	res, err := r.RemoteClient.Validators(ctx, height, page, perPage)
	if err != nil || height == nil || (page != nil && *page != 1) || res.Total != len(res.Validators) || res.Total == 0 {
		return res, err
	}
	vs, verr := types.ValidatorSetFromExistingValidators(copyValidators(res.Validators))
	if verr != nil {
		return res, err
	}
	r.mu.Lock()
	r.last, r.lastHash = res, vs.Hash()
	r.mu.Unlock()
	return res, err
}

// copyValidators is a deep copy: a validator set built from the answer updates its validators'
// proposer priorities in place, and the kept answer must not change.
func copyValidators(vals []*types.Validator) []*types.Validator {
	out := make([]*types.Validator, len(vals))
	for i, v := range vals {
		out[i] = v.Copy()
	}
	return out
}
