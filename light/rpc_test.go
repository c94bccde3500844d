package light

import (
	"context"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"
)

// countingNode answers commits and validator sets from per-height sets and counts validator calls.
type countingNode struct {
	rpcclient.RemoteClient // unused methods panic
	sets                   map[int64]*types.ValidatorSet
	validatorCalls         int
}

func (n *countingNode) Commit(_ context.Context, h *int64) (*ctypes.ResultCommit, error) {
	hd := &types.Header{Height: *h, ValidatorsHash: n.sets[*h].Hash()}
	return &ctypes.ResultCommit{SignedHeader: types.SignedHeader{Header: hd, Commit: &types.Commit{Height: *h}}}, nil
}

func (n *countingNode) Validators(_ context.Context, h *int64, _, _ *int) (*ctypes.ResultValidators, error) {
	n.validatorCalls++
	vs := n.sets[*h]
	return &ctypes.ResultValidators{BlockHeight: *h, Validators: vs.Copy().Validators, Count: vs.Size(), Total: vs.Size()}, nil
}

// TestValidatorSetReusedOnlyForTheSameHash: a height whose commit names the validators hash of the
// set fetched last is answered without asking the node, with that set at that height; a height whose
// commit names another hash, or whose commit was not seen, is asked for.
func TestValidatorSetReusedOnlyForTheSameHash(t *testing.T) {
	set := func(n int) *types.ValidatorSet {
		var vals []*types.Validator
		for range n {
			vals = append(vals, types.NewValidator(ed25519.GenPrivKey().PubKey(), 10))
		}
		return types.NewValidatorSet(vals)
	}
	a, b := set(2), set(3)
	node := &countingNode{sets: map[int64]*types.ValidatorSet{1: a, 2: a, 3: a, 4: b, 5: b, 6: a, 7: a}}
	r := &validatorReuse{RemoteClient: node, hashAt: map[int64][]byte{}}
	ctx := context.Background()
	want := map[int64]int{1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3} // validator calls after each height
	for h := int64(1); h <= 6; h++ {
		if _, err := r.Commit(ctx, &h); err != nil {
			t.Fatal(err)
		}
		res, err := r.Validators(ctx, &h, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := types.ValidatorSetFromExistingValidators(res.Validators)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Hash()) != string(node.sets[h].Hash()) || res.BlockHeight != h {
			t.Fatalf("height %d: got set %X at %d, want %X", h, got.Hash(), res.BlockHeight, node.sets[h].Hash())
		}
		if node.validatorCalls != want[h] {
			t.Fatalf("height %d: %d validator calls to the node, want %d", h, node.validatorCalls, want[h])
		}
	}
	// A height whose commit was not fetched through this client is asked for.
	h := int64(7)
	if _, err := r.Validators(ctx, &h, nil, nil); err != nil {
		t.Fatal(err)
	}
	if node.validatorCalls != 4 {
		t.Fatalf("validators of a height whose commit was not seen: %d calls, want 4", node.validatorCalls)
	}
}
