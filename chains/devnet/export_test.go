package devnet_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"cosmossdk.io/log"
	storetypes "cosmossdk.io/store/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didkeeper "github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

type appOpts map[string]any

func (o appOpts) Get(key string) any { return o[key] }

// ports binds the did port of a fresh store (InitGenesis claims it); nothing else of IBC is used.
type ports struct{}

func (ports) BindPort(sdk.Context, string) *capabilitytypes.Capability {
	return capabilitytypes.NewCapability(1)
}
func (ports) GetCapability(sdk.Context, string) (*capabilitytypes.Capability, bool) {
	return nil, false
}
func (ports) AuthenticateCapability(sdk.Context, *capabilitytypes.Capability, string) bool {
	return false
}
func (ports) ClaimCapability(sdk.Context, *capabilitytypes.Capability, string) error { return nil }

func kvContents(s storetypes.KVStore) map[string][]byte {
	it := s.Iterator(nil, nil)
	defer it.Close()
	out := map[string][]byte{}
	for ; it.Valid(); it.Next() {
		out[string(it.Key())] = bytes.Clone(it.Value())
	}
	return out
}

// TestExportKeepsDIDState is issue 20 (5) on a real chain: DIDs and attestations (one revoked) made by
// txs on a running city chain; the node is stopped, its application database opened by the app,
// and `citychaind export`'s path (ExportAppStateAndValidators) run. The did section of the exported
// app state, imported into a fresh store, holds exactly the keys and values of the chain's did store.
func TestExportKeepsDIDState(t *testing.T) {
	d := testnet.Chains(t, "export-1")
	c := d.Chain("export-1")
	admin := testnet.Client(t, c, devnet.AdminKey)
	create, office := newEd25519DID(c.ChainID, c.Admin.Address, "tax-office")
	if _, err := send(t, admin, create); err != nil {
		t.Fatalf("create DID: %v", err)
	}
	now := time.Now().Unix()
	seq := issuerSeq(t, admin, c.Issuer.DID)
	var ids []string
	for _, subject := range []string{c.Citizen.DID, office.DID} {
		seq++
		msg, id := attestation(c.ChainID, c.Admin.Address, c.Issuer, subject, "residency-card", now-60, now+86400, seq)
		if _, err := send(t, admin, msg); err != nil {
			t.Fatalf("issue: %v", err)
		}
		ids = append(ids, id)
	}
	seq++
	sig, err := c.Issuer.Sign(didtypes.RevocationSignBytes(c.ChainID, ids[0], c.Issuer.DID, c.Issuer.Method, didtypes.ATTESTATION_STATUS_REVOKED, seq))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := send(t, admin, &didtypes.MsgSetAttestationStatus{Submitter: c.Admin.Address, AttestationId: ids[0], IssuerMethod: c.Issuer.Method,
		NewStatus: didtypes.ATTESTATION_STATUS_REVOKED, IssuerSeq: seq, Signature: sig}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	db, err := dbm.NewGoLevelDB("application", filepath.Join(c.Home, "data"), nil)
	if err != nil {
		t.Fatalf("open the stopped chain's application db: %v", err)
	}
	defer db.Close()
	app := citychain.New(log.NewNopLogger(), db, nil, true, appOpts{flags.FlagHome: c.Home, flags.FlagChainID: c.ChainID},
		baseapp.SetChainID(c.ChainID))
	if _, err := app.ExportAppStateAndValidators(true, nil, nil); err == nil {
		t.Fatal("a zero-height export was accepted")
	}
	exp, err := app.ExportAppStateAndValidators(false, nil, nil)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if exp.Height <= 2 || len(exp.Validators) != 1 {
		t.Fatalf("export at height %d with %d validators", exp.Height, len(exp.Validators))
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal(exp.AppState, &state); err != nil {
		t.Fatal(err)
	}
	var gs didtypes.GenesisState
	if err := app.AppCodec().UnmarshalJSON(state[didtypes.ModuleName], &gs); err != nil {
		t.Fatalf("decode the did section: %v", err)
	}
	if err := gs.Validate(); err != nil {
		t.Fatalf("exported did genesis: %v", err)
	}
	if len(gs.Dids) != 3 || len(gs.Attestations) != 2 {
		t.Fatalf("exported %d DIDs and %d attestations, want 3 and 2", len(gs.Dids), len(gs.Attestations))
	}

	live := kvContents(app.CommitMultiStore().GetKVStore(app.DIDStoreKey()))
	key := storetypes.NewKVStoreKey(didtypes.StoreKey)
	tc := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("t_did"))
	k := didkeeper.NewKeeper(app.AppCodec(), runtime.NewKVStoreService(key), nil, nil, nil, ports{}, ports{})
	if err := k.InitGenesis(tc.Ctx.WithChainID(c.ChainID), gs); err != nil {
		t.Fatalf("import: %v", err)
	}
	imported := kvContents(tc.Ctx.KVStore(key))
	for sk, v := range live {
		if w, ok := imported[sk]; !ok || !bytes.Equal(v, w) {
			t.Errorf("%s: chain %x, imported %x (present %v)", sk, v, w, ok)
		}
	}
	for sk := range imported {
		if _, ok := live[sk]; !ok {
			t.Errorf("%s: added by the import", sk)
		}
	}
	t.Logf("did store of %s at height %d: %d keys round-tripped through export (%d bytes of app state)", c.ChainID, exp.Height-1, len(live), len(exp.AppState))
}
