package daemon

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/classify"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// series counts the series of the family name in m's registry.
func series(t *testing.T, m *metrics, name string) (int, map[string]bool) {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				values[l.GetName()+"="+l.GetValue()] = true
			}
		}
		return len(mf.GetMetric()), values
	}
	return 0, values
}

// servicePacket is the data of a did service message of type typ (valid as a packet: it decodes).
func servicePacket(typ string, nonce uint64) []byte {
	m := didtypes.ServiceMessage{ServiceType: typ, SenderDid: "did:city:seoul-1:citizen-1", SenderMethod: "key-1",
		OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", Nonce: nonce, Expiry: 1, Payload: []byte(`{"points":100}`),
		Signature: make([]byte, 64)}
	d := didtypes.DIDPacketData{Packet: &didtypes.DIDPacketData_ServiceMessage{ServiceMessage: &didtypes.ServiceMessagePacket{Message: m,
		SenderKey: didtypes.IssuerKey{Type: didtypes.KEY_TYPE_ED25519, PublicKey: make([]byte, 32)}}}}
	return d.GetBytes()
}

// TestServiceTypeLabelsBounded: the service type of a service message is chosen by its sender (any
// DID holder). 1,000 packets of 1,000 distinct types, classified as the scanner classifies them and
// counted as the daemon counts them, leave packets_observed_total with the known types and
// service:other only, not a series per type.
func TestServiceTypeLabelsBounded(t *testing.T) {
	m := newMetrics(nil)
	for i := range 1000 {
		data := servicePacket(fmt.Sprintf("spam.type-%04d", i), uint64(i+1))
		class := classify.Classify(didtypes.PortID, data)
		if class != "service:spam.type-"+fmt.Sprintf("%04d", i) {
			t.Fatalf("packet %d classified %q", i, class)
		}
		m.observedWork(&packets.Work{Path: "seoul-bucheon", Kind: packets.KindRecv, Class: class})
	}
	for _, typ := range classify.ServiceTypes {
		m.observedWork(&packets.Work{Path: "seoul-bucheon", Kind: packets.KindRecv, Class: classify.Classify(didtypes.PortID, servicePacket(typ, 1))})
	}
	n, values := series(t, m, "cityrelay_packets_observed_total")
	if n > len(classify.ServiceTypes)+1 {
		t.Errorf("%d series after 1,000 service types, want at most %d (the known types and service:other)", n, len(classify.ServiceTypes)+1)
	}
	if !values["class=service:other"] {
		t.Errorf("no class=service:other series (%d label values)", len(values))
	}
	for _, typ := range classify.ServiceTypes {
		if !values["class=service:"+typ] {
			t.Errorf("known type %s has no series", typ)
		}
	}
	t.Logf("%d observed series after 1,004 packets of 1,004 service types", n)
}

// TestConfiguredServiceTypes: metrics.service_types replaces the default list.
func TestConfiguredServiceTypes(t *testing.T) {
	m := newMetrics(nil)
	m.knownServices([]string{"bus.pass"})
	for _, typ := range []string{"bus.pass", "mileage.transfer", "bus.pass2"} {
		m.observedWork(&packets.Work{Path: "p", Kind: packets.KindRecv, Class: classify.Classify(didtypes.PortID, servicePacket(typ, 1))})
	}
	for _, c := range []string{classify.ClassAttestation, classify.ClassRevocation, classify.ClassICS20, classify.ClassInvalid, packets.ClassOther, "unknown", ""} {
		m.observedWork(&packets.Work{Path: "p", Kind: packets.KindRecv, Class: c})
	}
	_, values := series(t, m, "cityrelay_packets_observed_total")
	want := []string{"class=service:bus.pass", "class=service:other", "class=attestation", "class=revocation", "class=ics20", "class=invalid", "class=other"}
	for _, v := range want {
		if !values[v] {
			t.Errorf("no %s series", v)
		}
	}
	if values["class=service:mileage.transfer"] || values["class=unknown"] || values["class="] {
		t.Errorf("a class outside the configured ones has its own series: %v", values)
	}
}

// TestRefusalLabelsBounded: a node reports the codespace and code of a refusal, and a lying one can
// name a new pair with every answer. 1,000 refusals with 1,000 distinct codespaces (and a few with
// characters no label should carry) keep tx_failed_total and packets_failed_total to the first
// maxRefusalLabels pairs and "other".
func TestRefusalLabelsBounded(t *testing.T) {
	m := newMetrics(nil)
	for i := range 1000 {
		err := &chains.TxError{ChainID: "bucheon-1", Codespace: fmt.Sprintf("cs%04d", i), Code: uint32(i)}
		m.txFailed("bucheon-1", fmt.Errorf("deliver: %w", err))
		m.failedWork("p", packets.KindRecv, fmt.Sprintf("tx %s/%d", err.Codespace, err.Code), 1)
	}
	for _, odd := range []string{"cs\n{evil}", strings.Repeat("x", 200)} {
		m.txFailed("bucheon-1", &chains.TxError{Codespace: odd, Code: 1})
		m.failedWork("p", packets.KindRecv, "tx "+odd+"/1", 1)
		m.retriedWork("p", packets.KindRecv, odd, 1)
	}
	if n, _ := series(t, m, "cityrelay_tx_failed_total"); n > maxRefusalLabels+1 {
		t.Errorf("tx_failed_total has %d series after 1,002 distinct refusals, want at most %d", n, maxRefusalLabels+1)
	}
	if n, _ := series(t, m, "cityrelay_packets_failed_total"); n > maxRefusalLabels+1 {
		t.Errorf("packets_failed_total has %d series, want at most %d", n, maxRefusalLabels+1)
	}
	if n, values := series(t, m, "cityrelay_packets_retried_total"); n != 1 || !values["reason=other"] {
		t.Errorf("packets_retried_total: %d series %v, want reason=other alone", n, values)
	}
	if got := testutil.ToFloat64(m.txRefused.WithLabelValues("bucheon-1", labelOther, labelOther)); got != 1000-maxRefusalLabels+2 {
		t.Errorf("refusals counted under other: %v, want %d", got, 1000-maxRefusalLabels+2)
	}
}

// denomSpam is a chain whose relayer key holds the gas denomination and 1,000 tokens anyone sent it.
type denomSpam struct{ relayer.Chain }

func (denomSpam) ChainID() string                         { return "bucheon-1" }
func (denomSpam) Address(context.Context) (string, error) { return "city1relayer", nil }
func (denomSpam) Balances(context.Context, string) (sdk.Coins, error) {
	coins := sdk.NewCoins(sdk.NewInt64Coin("ucity", 5_000_000))
	for i := range 1000 {
		coins = coins.Add(sdk.NewInt64Coin(fmt.Sprintf("spam%04d", i), 1))
	}
	return coins, nil
}

// TestBalanceLabelsBounded: anyone can send the relayer's key tokens of any denomination; the
// balance gauge names only the gas price's.
func TestBalanceLabelsBounded(t *testing.T) {
	m := newMetrics(nil)
	cfg := &config.Config{Chains: map[string]*config.Chain{"bucheon-1": {GasPrice: "0.0025ucity"}}}
	gaugeBalance(context.Background(), &relayer.End{Chain: denomSpam{}}, m, gasDenom(cfg, "bucheon-1"))
	n, values := series(t, m, "cityrelay_wallet_balance")
	if n != 1 || !values["denom=ucity"] {
		t.Fatalf("wallet_balance: %d series %v, want the gas denomination alone", n, values)
	}
	if got := testutil.ToFloat64(m.balance.WithLabelValues("bucheon-1", "ucity")); got != 5_000_000 {
		t.Errorf("balance %v, want 5000000", got)
	}
}
