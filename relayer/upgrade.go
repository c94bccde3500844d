package relayer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	upgradetypes "cosmossdk.io/x/upgrade/types"
	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/light"
)

// Errors of client upgrades callers branch on.
var (
	// ErrNoUpgrade: Src's state at the plan height holds no upgraded client state (no IBC upgrade was
	// scheduled at that height, or the height is wrong), proven absent against a verified header.
	ErrNoUpgrade = errors.New("no upgraded client state at that height")
	// ErrClientPastUpgrade: the client was already updated past the upgrade height, so it cannot prove
	// the upgrade any more (ibc-go proves it against the client's latest consensus state, which must be
	// the one at the plan height): only the chain's authority can recover it (MsgRecoverClient).
	ErrClientPastUpgrade = errors.New("client updated past the upgrade height")
	// ErrUpgradeRefused: the proven upgraded client state is one the relayer will not submit (another
	// chain id, a height not above the plan, an unbonding period not above the client's trusting period).
	ErrUpgradeRefused = errors.New("upgraded client state refused")
	// ErrAlreadyUpgraded: the client already holds the upgraded client state.
	ErrAlreadyUpgraded = errors.New("client already upgraded")
)

// upgradeStore is the store of the upgrade module (07-tendermint's default upgrade path is
// ["upgrade", "upgradedIBCState"]).
const upgradeStoreKey = "upgrade"

// UpgradeResult is what Client.Upgrade did.
type UpgradeResult struct {
	// PlanHeight is Src's upgrade height; Height the upgraded client's latest height.
	PlanHeight, Height int64
	// Before and After are the client's states before and after (After as submitted: the upgraded
	// client state with the client's own trusting parameters kept, as ibc-go does).
	Before, After *ibctm.ClientState
	Tx            *TxInfo
}

// upgradeKeys are the keys, in the store of upgradePath[0], of the upgraded client and consensus
// states an IBC upgrade at planHeight stored (ibc-go v8: upgradedIBCState/{height}/upgradedClient
// and .../upgradedConsState, the key ibc-go's 07-tendermint proves against the client's latest height).
func upgradeKeys(upgradePath []string, planHeight int64) (store string, client, cons []byte, err error) {
	if len(upgradePath) != 2 || upgradePath[0] == "" || upgradePath[1] == "" {
		return "", nil, nil, fmt.Errorf("upgrade path %q: want [store, key prefix]: %w", upgradePath, ErrUpgradeRefused)
	}
	client = []byte(fmt.Sprintf("%s/%d/upgradedClient", upgradePath[1], planHeight))
	cons = []byte(fmt.Sprintf("%s/%d/upgradedConsState", upgradePath[1], planHeight))
	return upgradePath[0], client, cons, nil
}

// PlannedUpgrade is Src's upgraded client state at planHeight, proven against Src's verified header at
// planHeight (whose app hash commits to the state after planHeight-1, where the chain stored both the
// upgraded client and consensus states), with the header and the proofs.
type PlannedUpgrade struct {
	PlanHeight        int64
	Header            *cmttypes.LightBlock
	Client            *ibctm.ClientState
	Consensus         *ibctm.ConsensusState
	clientAny         *clientAny
	consAny           *clientAny
	clientProof       []byte
	consensusProof    []byte
	ProofCheckElapsed time.Duration
}

// ProvenUpgrade reads Src's upgraded client and consensus states at planHeight with proofs checked by
// check against the app hash of Src's light-client-verified header at planHeight. A node that serves
// another client state than the chain stored (other parameters, another height) cannot make this
// return it: the proof does not verify. upgradePath is the client's (empty: the default).
func ProvenUpgrade(ctx context.Context, src *End, check ProofChecker, upgradePath []string, planHeight int64) (*PlannedUpgrade, error) {
	if len(upgradePath) == 0 {
		upgradePath = []string{upgradeStoreKey, "upgradedIBCState"}
	}
	store, ck, kk, err := upgradeKeys(upgradePath, planHeight)
	if err != nil {
		return nil, err
	}
	lb, err := src.Light.VerifyHeight(ctx, planHeight)
	if err != nil {
		return nil, fmt.Errorf("verify %s header at upgrade height %d: %w", src.ChainID(), planHeight, err)
	}
	start := time.Now()
	cp, err := src.provenAt(ctx, check, lb, store, ck)
	if err != nil {
		return nil, fmt.Errorf("upgraded client state of %s at %d: %w", src.ChainID(), planHeight, err)
	}
	kp, err := src.provenAt(ctx, check, lb, store, kk)
	if err != nil {
		return nil, fmt.Errorf("upgraded consensus state of %s at %d: %w", src.ChainID(), planHeight, err)
	}
	if cp.Value == nil || kp.Value == nil {
		return nil, fmt.Errorf("%s at %d (proven at verified height %d): %w", src.ChainID(), planHeight, lb.Height, ErrNoUpgrade)
	}
	u := &PlannedUpgrade{PlanHeight: planHeight, Header: lb, clientAny: &clientAny{}, consAny: &clientAny{},
		clientProof: cp.Bytes, consensusProof: kp.Bytes, ProofCheckElapsed: time.Since(start)}
	if err := proto.Unmarshal(cp.Value, u.clientAny); err != nil {
		return nil, fmt.Errorf("upgraded client state of %s: %w", src.ChainID(), ErrNotTendermint)
	}
	if u.Client, err = decodeClientState(u.clientAny.TypeUrl, u.clientAny.Value); err != nil {
		return nil, fmt.Errorf("upgraded client state of %s: %w", src.ChainID(), err)
	}
	if err := proto.Unmarshal(kp.Value, u.consAny); err != nil {
		return nil, fmt.Errorf("upgraded consensus state of %s: %w", src.ChainID(), ErrNotTendermint)
	}
	if u.consAny.TypeUrl != tmConsensusStateURL {
		return nil, fmt.Errorf("upgraded consensus state of %s of type %q: %w", src.ChainID(), u.consAny.TypeUrl, ErrNotTendermint)
	}
	u.Consensus = &ibctm.ConsensusState{}
	if err := proto.Unmarshal(u.consAny.Value, u.Consensus); err != nil {
		return nil, fmt.Errorf("decode upgraded consensus state of %s: %w", src.ChainID(), err)
	}
	return u, nil
}

// Upgrade moves Dst's client of Src to Src's upgrade at planHeight, as Hermes's `upgrade client` does
// and ibc-go's 07-tendermint VerifyUpgradeAndUpdateState requires: the upgraded states are proven
// against the client's latest consensus state, which must be the one at planHeight, so the client is
// first updated to Src's verified header at planHeight (in the same tx), then MsgUpgradeClient carries
// the upgraded client and consensus states with their proofs. The upgraded consensus state has no
// usable root (a sentinel), so when Src's light client has a header past the upgraded height, the tx
// ends with an update to it: the client can prove packets at once.
//
// Before anything is sent the relayer checks what it would submit: both states proven against the
// verified header (ProvenUpgrade), the same chain id (a chain-id-changing upgrade needs a new light
// client of the new chain: refused), a height above the plan, an unbonding period above the client's
// trusting period (else ibc-go would refuse the new state).
func (c Client) Upgrade(ctx context.Context, check ProofChecker, planHeight int64) (*UpgradeResult, error) {
	src, dst := c.Src, c.Dst
	if check == nil {
		check = light.VerifyProofAgainstAppHash
	}
	cs, at, err := c.committed(ctx)
	if err != nil {
		return nil, err
	}
	latest := int64(cs.LatestHeight.RevisionHeight)
	u, err := ProvenUpgrade(ctx, src, check, cs.UpgradePath, planHeight)
	if err != nil {
		return nil, err
	}
	if cs.LatestHeight.GTE(u.Client.LatestHeight) && cs.UnbondingPeriod == u.Client.UnbondingPeriod {
		return nil, fmt.Errorf("client %s on %s is at %s with unbonding %s: %w", dst.ClientID, dst.ChainID(), cs.LatestHeight, cs.UnbondingPeriod, ErrAlreadyUpgraded)
	}
	if latest > planHeight {
		return nil, fmt.Errorf("client %s on %s is at %d, past %s's upgrade height %d: %w", dst.ClientID, dst.ChainID(), latest, src.ChainID(), planHeight, ErrClientPastUpgrade)
	}
	if err := checkUpgraded(cs, u, src.ChainID()); err != nil {
		return nil, fmt.Errorf("client %s on %s: %w", dst.ClientID, dst.ChainID(), err)
	}
	signer, err := dst.Chain.Address(ctx)
	if err != nil {
		return nil, err
	}
	var msgs []sdk.Msg
	if latest < planHeight {
		m, err := c.updateMsg(ctx, at, cs.LatestHeight, u.Header)
		if err != nil {
			return nil, fmt.Errorf("update %s on %s to the upgrade height %d: %w", dst.ClientID, dst.ChainID(), planHeight, err)
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs, &clienttypes.MsgUpgradeClient{ClientId: dst.ClientID, ClientState: u.clientAny, ConsensusState: u.consAny,
		ProofUpgradeClient: u.clientProof, ProofUpgradeConsensusState: u.consensusProof, Signer: signer})
	updates := len(msgs) - 1
	if m := c.updateAfterUpgrade(ctx, u, signer); m != nil {
		msgs = append(msgs, m)
		updates++
	}
	res, err := dst.Chain.Send(ctx, msgs...)
	if err != nil {
		return nil, fmt.Errorf("upgrade client %s on %s to %s's upgrade at %d: %w", dst.ClientID, dst.ChainID(), src.ChainID(), planHeight, err)
	}
	after := *cs
	after.ChainId, after.UnbondingPeriod, after.LatestHeight = u.Client.ChainId, u.Client.UnbondingPeriod, u.Client.LatestHeight
	after.ProofSpecs, after.UpgradePath = u.Client.ProofSpecs, u.Client.UpgradePath
	return &UpgradeResult{PlanHeight: planHeight, Height: int64(u.Client.LatestHeight.RevisionHeight), Before: cs, After: &after,
		Tx: txInfo(res, u.ProofCheckElapsed, len(msgs), updates)}, nil
}

// checkUpgraded refuses an upgraded client state the relayer must not submit.
func checkUpgraded(cs *ibctm.ClientState, u *PlannedUpgrade, srcChain string) error {
	up := u.Client
	switch {
	case up.ChainId != srcChain:
		return fmt.Errorf("upgraded client state names chain %q, not %s (a chain-id change needs a client of the new chain): %w", up.ChainId, srcChain, ErrUpgradeRefused)
	case up.LatestHeight.RevisionNumber != cs.LatestHeight.RevisionNumber:
		return fmt.Errorf("upgraded client state at revision %d, client at %d: %w", up.LatestHeight.RevisionNumber, cs.LatestHeight.RevisionNumber, ErrUpgradeRefused)
	case int64(up.LatestHeight.RevisionHeight) <= u.PlanHeight:
		return fmt.Errorf("upgraded client state's height %s is not above the plan height %d: %w", up.LatestHeight, u.PlanHeight, ErrUpgradeRefused)
	case up.UnbondingPeriod <= cs.TrustingPeriod:
		return fmt.Errorf("upgraded unbonding period %s is not above the client's trusting period %s: %w", up.UnbondingPeriod, cs.TrustingPeriod, ErrUpgradeRefused)
	case len(up.ProofSpecs) == 0 || len(up.UpgradePath) == 0:
		return fmt.Errorf("upgraded client state without proof specs or upgrade path: %w", ErrUpgradeRefused)
	}
	return nil
}

// updateAfterUpgrade is a MsgUpdateClient from the upgraded consensus state (trusted at the upgraded
// height, its next validators the set at the plan height) to Src's newest verified header above the
// upgraded height, or nil when there is none yet or its trusted validators cannot be had (the next
// relay's update then moves the client, from the upgraded height).
func (c Client) updateAfterUpgrade(ctx context.Context, u *PlannedUpgrade, signer string) sdk.Msg {
	src := c.Src
	lb, err := src.Light.VerifyLatest(ctx)
	if err != nil || lb.Height <= int64(u.Client.LatestHeight.RevisionHeight) {
		return nil
	}
	next, err := src.Light.ValidatorsAt(ctx, u.PlanHeight, u.Consensus.NextValidatorsHash)
	if err != nil || !bytes.Equal(next.Hash(), u.Consensus.NextValidatorsHash) {
		return nil
	}
	h, err := tmHeader(src.ChainID(), lb, u.Client.LatestHeight, next)
	if err != nil {
		return nil
	}
	m, err := clienttypes.NewMsgUpdateClient(c.Dst.ClientID, h, signer)
	if err != nil {
		return nil
	}
	return m
}

// Plan is a software upgrade planned on a chain, read from its upgrade module's state with a proof
// against a verified header.
type Plan struct {
	Chain  string
	Name   string
	Height int64
	// IBC: the chain stored an upgraded client state for its counterparties' clients with the plan
	// (MsgIBCSoftwareUpgrade), so they can be upgraded after it.
	IBC bool
	// At is the verified height whose state holds the plan.
	At int64
}

// PendingUpgrade reads the plan of the upgrade module of e's chain (nil when none is pending: none was
// scheduled, or it ran already), and whether an upgraded client state was stored with it, both
// proven against e's latest verified header.
func PendingUpgrade(ctx context.Context, e *End, check ProofChecker) (*Plan, error) {
	if check == nil {
		check = light.VerifyProofAgainstAppHash
	}
	pp, lb, err := e.verifiedRead(ctx, check, upgradeStoreKey, []byte{upgradetypes.PlanByte})
	if err != nil {
		return nil, fmt.Errorf("upgrade plan of %s: %w", e.ChainID(), err)
	}
	if pp.Value == nil {
		return nil, nil
	}
	var plan upgradetypes.Plan
	if err := proto.Unmarshal(pp.Value, &plan); err != nil {
		return nil, fmt.Errorf("upgrade plan of %s: %w", e.ChainID(), err)
	}
	p := &Plan{Chain: e.ChainID(), Name: plan.Name, Height: plan.Height, At: lb.Height}
	_, ck, _, _ := upgradeKeys([]string{upgradeStoreKey, "upgradedIBCState"}, plan.Height)
	cp, err := e.provenAt(ctx, check, lb, upgradeStoreKey, ck)
	if err != nil {
		return nil, fmt.Errorf("upgraded client state of %s's plan %s: %w", e.ChainID(), plan.Name, err)
	}
	p.IBC = cp.Value != nil
	return p, nil
}

// UpgradeReport is the upgrade of one client of an upgraded chain.
type UpgradeReport struct {
	Chain, ClientID, Of string // the client ClientID on Chain, of the upgraded chain Of
	Result              *UpgradeResult
	Err                 error
}

// UpgradeClients upgrades, on the counterparties of every path in paths with an end on chainID, their
// client of chainID to its upgrade at planHeight (each client once, however many paths share it).
// Paths whose end on chainID has no client yet are skipped. One client's failure does not stop the
// others: each report carries its error.
func UpgradeClients(ctx context.Context, paths []*Path, chainID string, planHeight int64, check ProofChecker) []UpgradeReport {
	var reps []UpgradeReport
	seen := map[string]bool{}
	for _, p := range paths {
		for _, pair := range [][2]*End{{p.A, p.B}, {p.B, p.A}} {
			src, dst := pair[0], pair[1]
			if src.ChainID() != chainID || dst.ClientID == "" {
				continue
			}
			key := dst.ChainID() + "/" + dst.ClientID
			if seen[key] {
				continue
			}
			seen[key] = true
			res, err := Client{Dst: dst, Src: src}.Upgrade(ctx, check, planHeight)
			reps = append(reps, UpgradeReport{Chain: dst.ChainID(), ClientID: dst.ClientID, Of: chainID, Result: res, Err: err})
		}
	}
	return reps
}
