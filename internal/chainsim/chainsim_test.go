package chainsim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/types"

	"github.com/cityrelay/cityrelay/internal/chainsim"
)

// A synthetic chain answers as a CometBFT node does: its latest commit is signed by its validators
// (the commit verifies against the validator set it serves), a height above its head is refused with
// the node's words (the light provider reads them as "not yet"), and only loopback addresses are served.
func TestChainServesSignedCommits(t *testing.T) {
	if _, err := chainsim.Start(chainsim.Options{IDs: chainsim.IDs(1), Addr: "10.1.2.3"}); !errors.Is(err, chainsim.ErrNotLoopback) {
		t.Fatalf("non-loopback address: %v, want ErrNotLoopback", err)
	}
	sim, err := chainsim.Start(chainsim.Options{IDs: chainsim.IDs(2), Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()
	time.Sleep(500 * time.Millisecond)
	cl, err := rpchttp.New(sim.Addr(1), "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := cl.Commit(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Height < 2 || res.ChainID != "sim1-1" {
		t.Fatalf("latest commit %s/%d", res.ChainID, res.Height)
	}
	vals, err := cl.Validators(ctx, &res.Height, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if vals.Total != 4 {
		t.Fatalf("%d validators, want 4", vals.Total)
	}
	if err := verifyCommit(res.ChainID, &res.SignedHeader, vals.Validators); err != nil {
		t.Fatalf("commit %d does not verify: %v", res.Height, err)
	}
	far := res.Height + 1000
	if _, err := cl.Commit(ctx, &far); err == nil || !strings.Contains(err.Error(), "must be less than or equal to the current blockchain height") {
		t.Fatalf("commit above the head: %v", err)
	}
	if st := sim.Stats(); st.Requests["commit"] != 2 || st.Requests["validators"] != 1 || len(st.Errors) != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// verifyCommit checks sh's commit against the validators as a light client does (2/3 of the power
// signed sh's block id).
func verifyCommit(chainID string, sh *types.SignedHeader, vals []*types.Validator) error {
	vs, err := types.ValidatorSetFromExistingValidators(vals)
	if err != nil {
		return err
	}
	if err := sh.ValidateBasic(chainID); err != nil {
		return err
	}
	return vs.VerifyCommitLight(chainID, sh.Commit.BlockID, sh.Height, sh.Commit)
}
