package light

import (
	"fmt"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"
)

// VerifyProofAgainstAppHash checks the ICS-23 proof ops of (storeKey, key) against appHash: that the
// store holds value at key, or, when value is nil, that it holds nothing there. Errors wrap
// ErrProofInvalid.
func VerifyProofAgainstAppHash(appHash []byte, storeKey string, key, value []byte, ops *cmtcrypto.ProofOps) error {
	if ops == nil {
		return fmt.Errorf("%w: no proof", ErrProofInvalid)
	}
	proof, err := commitmenttypes.ConvertProofs(ops)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProofInvalid, err)
	}
	root := commitmenttypes.NewMerkleRoot(appHash)
	path := commitmenttypes.NewMerklePath(storeKey, string(key))
	if value == nil {
		err = proof.VerifyNonMembership(commitmenttypes.GetSDKSpecs(), root, path)
	} else {
		err = proof.VerifyMembership(commitmenttypes.GetSDKSpecs(), root, path, value)
	}
	if err != nil {
		return fmt.Errorf("%w: %s/%q: %v", ErrProofInvalid, storeKey, key, err)
	}
	return nil
}
