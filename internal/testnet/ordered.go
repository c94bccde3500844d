package testnet

import (
	"bytes"
	"context"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	icacontrollertypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/controller/types"
	icatypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// OrderedDIDPath links, between chains a and b of net, an ORDERED did channel over new clients and a
// new connection, its ends signing with key (the relayer's, or the registry admin's where the test
// closes the channel), and returns the path.
func OrderedDIDPath(tb testing.TB, net *devnet.Devnet, name, a, b, key string) *relayer.Path {
	tb.Helper()
	end := func(id string) *relayer.End {
		c := net.Chain(id)
		return &relayer.End{Chain: ClientWith(tb, c, key, devnet.ClientOptions{NoGRPC: true}), Light: LightOf(tb, c), PortID: didtypes.PortID}
	}
	p := &relayer.Path{Name: name, A: end(a), B: end(b), Version: didtypes.Version, Order: channeltypes.ORDERED}
	LinkPath(tb, net, p)
	return p
}

// ChannelState is the state of e's channel end, proven at e's newest verified header.
func ChannelState(tb testing.TB, e *relayer.End) channeltypes.State {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := (&relayer.Linker{Check: light.VerifyProofAgainstAppHash}).ChannelState(ctx, e)
	if err != nil {
		tb.Fatalf("channel %s/%s on %s: %v", e.PortID, e.ChannelID, e.ChainID(), err)
	}
	return st
}

// NextSequenceRecv is the next receive sequence of channel port/channel as cl's node answers.
func NextSequenceRecv(tb testing.TB, cl *cosmos.Client, port, channel string) uint64 {
	tb.Helper()
	var resp channeltypes.QueryNextSequenceReceiveResponse
	if err := cl.QueryGRPC(context.Background(), "/ibc.core.channel.v1.Query/NextSequenceReceive",
		&channeltypes.QueryNextSequenceReceiveRequest{PortId: port, ChannelId: channel}, &resp, 0); err != nil {
		tb.Fatalf("next sequence recv of %s/%s on %s: %v", port, channel, cl.ChainID(), err)
	}
	return resp.NextSequenceReceive
}

// HasCommitment reports whether cl's chain still holds the commitment of packet seq sent on port/channel.
func HasCommitment(tb testing.TB, cl *cosmos.Client, port, channel string, seq uint64) bool {
	tb.Helper()
	var resp channeltypes.QueryPacketCommitmentsResponse
	if err := cl.QueryGRPC(context.Background(), "/ibc.core.channel.v1.Query/PacketCommitments",
		&channeltypes.QueryPacketCommitmentsRequest{PortId: port, ChannelId: channel}, &resp, 0); err != nil {
		tb.Fatalf("packet commitments of %s/%s on %s: %v", port, channel, cl.ChainID(), err)
	}
	for _, c := range resp.Commitments {
		if c.Sequence == seq {
			return true
		}
	}
	return false
}

// SendAttestation issues one certificate with c's sample issuer (issuer sequence *seq+1) and sends it
// on channel through cl (the admin's client) with the given timeout (zero: the module's default). It
// returns the packet and the tx height.
func SendAttestation(tb testing.TB, c *devnet.Chain, cl *cosmos.Client, channel string, seq *uint64, timeout time.Time) (channeltypes.Packet, int64) {
	tb.Helper()
	*seq++
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{byte(*seq), byte(*seq >> 8), 0x5c}, 11)[:32]
	sb := didtypes.AttestationSignBytes(c.ChainID, c.Issuer.DID, c.Issuer.Method, c.Citizen.DID, "certificate", digest, now-5, now+3600, *seq)
	sig, err := c.Issuer.Sign(sb)
	if err != nil {
		tb.Fatal(err)
	}
	var tt uint64
	if !timeout.IsZero() {
		tt = uint64(timeout.UnixNano())
	}
	msgs := []sdk.Msg{&didtypes.MsgIssueAttestation{Submitter: c.Admin.Address, IssuerDid: c.Issuer.DID, IssuerMethod: c.Issuer.Method,
		SubjectDid: c.Citizen.DID, CredentialType: "certificate", Digest: digest, ValidFrom: now - 5, ValidUntil: now + 3600, IssuerSeq: *seq, Signature: sig},
		&didtypes.MsgSendAttestation{Sender: c.Admin.Address, SourceChannel: channel, AttestationId: didtypes.AttestationID(sb), TimeoutTimestamp: tt}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := cl.Send(ctx, msgs...)
	if err != nil {
		tb.Fatalf("send an attestation on %s %s: %v", c.ChainID, channel, err)
	}
	pks, err := relayer.SendPackets(res.Events)
	if err != nil || len(pks) != 1 {
		tb.Fatalf("send_packet events of the attestation: %d packets, %v", len(pks), err)
	}
	return pks[0], res.Height
}

// Eventually polls cond every 250ms until it holds or wait passes (then the test fails with what).
func Eventually(tb testing.TB, wait time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("not within %s: %s", wait, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// ICAPath links a connection between controller and host (new clients, ends signing with the
// relayer key), registers an interchain account of owner's key on controller over an ORDERED channel
// (MsgRegisterInterchainAccount: the controller chain begins the channel handshake itself) and
// completes the handshake as a relayer would (try, ack, confirm with proofs). It returns the path
// (controller end A) and the account's address on host.
func ICAPath(tb testing.TB, net *devnet.Devnet, name, controller, host string) (*relayer.Path, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), LinkTimeout)
	defer cancel()
	ctl := net.Chain(controller)
	end := func(c *devnet.Chain, port string) *relayer.End {
		return &relayer.End{Chain: ClientWith(tb, c, devnet.RelayerKey, devnet.ClientOptions{NoGRPC: true}), Light: LightOf(tb, c), PortID: port}
	}
	owner := ctl.Admin.Address
	p := &relayer.Path{Name: name, A: end(ctl, icatypes.ControllerPortPrefix+owner), B: end(net.Chain(host), icatypes.HostPortID),
		Order: channeltypes.ORDERED}
	l := &relayer.Linker{Check: light.VerifyProofAgainstAppHash}
	if err := l.LinkConnection(ctx, p); err != nil {
		tb.Fatalf("link connection of %s: %v", name, err)
	}
	admin := ClientWith(tb, ctl, devnet.AdminKey, devnet.ClientOptions{NoGRPC: true})
	res, err := admin.Send(ctx, icacontrollertypes.NewMsgRegisterInterchainAccountWithOrdering(p.A.ConnectionID, owner, "", channeltypes.ORDERED))
	if err != nil {
		tb.Fatalf("register an interchain account on %s: %v", controller, err)
	}
	for _, ev := range res.Events {
		if ev.Type != channeltypes.EventTypeChannelOpenInit {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == channeltypes.AttributeKeyChannelID {
				p.A.ChannelID = a.Value
			}
		}
	}
	if p.A.ChannelID == "" {
		tb.Fatalf("registering an interchain account on %s began no channel handshake", controller)
	}
	// The handshake's next step proves the INIT channel: at a header past the tx's block.
	for {
		lb, err := p.A.Light.VerifyLatest(ctx)
		if err != nil {
			tb.Fatalf("verify %s: %v", controller, err)
		}
		if lb.Height > res.Height {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := l.LinkChannel(ctx, p); err != nil {
		tb.Fatalf("complete the ICA channel handshake of %s: %v", name, err)
	}
	var acct icacontrollertypes.QueryInterchainAccountResponse
	if err := admin.QueryGRPC(ctx, "/ibc.applications.interchain_accounts.controller.v1.Query/InterchainAccount",
		&icacontrollertypes.QueryInterchainAccountRequest{Owner: owner, ConnectionId: p.A.ConnectionID}, &acct, 0); err != nil {
		tb.Fatalf("interchain account of %s on %s: %v", owner, host, err)
	}
	return p, acct.Address
}
