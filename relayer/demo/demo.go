// Package demo runs the whole cityrelay story on embedded defaults: three city chains, light
// clients, linked did paths, a relayer, and a residency card issued in Seoul, verified in Bucheon and
// in a member city, revoked, and service messages between the cities.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// Chain ids of the demo: Seoul, Bucheon, and a member city of the city association.
const (
	Seoul   = "seoul-1"
	Bucheon = "bucheon-1"
	Member  = "wego-1"
)

// Options configure the demo.
type Options struct {
	// Home holds the chains, light client stores and logs; a temporary directory when empty.
	Home string
	// Once exits after the story; otherwise the relayer keeps running until ctx ends.
	Once      bool
	BlockTime time.Duration
	Out       io.Writer
	// Log receives the relayer's structured log (default: a file under Home).
	Log *zerolog.Logger
}

// ErrStepFailed is returned when a step of the story did not verify.
var ErrStepFailed = errors.New("demo step failed")

type step struct {
	what, where string
	height      int64
	took        time.Duration
	ok          bool
	note        string
}

type runner struct {
	out   io.Writer
	start time.Time
	steps []step
	mu    sync.Mutex
}

func (r *runner) do(what, where string, fn func() (int64, string, error)) error {
	t := time.Now()
	h, note, err := fn()
	s := step{what: what, where: where, height: h, took: time.Since(t), ok: err == nil, note: note}
	if err != nil {
		s.note = err.Error()
	}
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
	mark := "ok"
	if err != nil {
		mark = "FAILED"
	}
	fmt.Fprintf(r.out, "[%7s] %-6s %-72s %-10s height %-5s %7s  %s\n", time.Since(r.start).Round(10*time.Millisecond), mark, what, where, heightText(h),
		s.took.Round(time.Millisecond), s.note)
	if err != nil {
		return fmt.Errorf("%w: %s on %s: %v", ErrStepFailed, what, where, err)
	}
	return nil
}

// heightText is a step's height, or "-" for a step that has none (it made several txs, or none, or
// failed): a 0 there reads as a real height.
func heightText(h int64) string {
	if h == 0 {
		return "-"
	}
	return strconv.FormatInt(h, 10)
}

func (r *runner) summary() {
	fmt.Fprintln(r.out, "\nsummary")
	w := tabwriter.NewWriter(r.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "#\tstep\tchain\theight\ttook\tresult")
	for i, s := range r.steps {
		res := "ok"
		if !s.ok {
			res = "FAILED: " + s.note
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, s.what, s.where, heightText(s.height), s.took.Round(time.Millisecond), res)
	}
	_ = w.Flush()
	fmt.Fprintf(r.out, "total %s\n", time.Since(r.start).Round(time.Millisecond))
}

// Run tells the story. It returns nil only when every step verified.
func Run(ctx context.Context, o Options) (err error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.BlockTime == 0 {
		o.BlockTime = 300 * time.Millisecond
	}
	if o.Home == "" {
		dir, err := os.MkdirTemp("", "cityrelay-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.Home = dir
	}
	log := o.Log
	if log == nil {
		f, err := os.Create(filepath.Join(o.Home, "relayer.log"))
		if err != nil {
			return err
		}
		defer f.Close()
		l := zerolog.New(f).With().Timestamp().Logger()
		log = &l
	}
	r := &runner{out: o.Out, start: time.Now()}
	stopNATS := func() {}
	defer r.summary()
	fmt.Fprintf(o.Out, "cityrelay demo: home %s, relayer log %s\n\n", o.Home, filepath.Join(o.Home, "relayer.log"))

	var net *devnet.Devnet
	if err := r.do("start 3 city chains (CometBFT, loopback)", "all", func() (int64, string, error) {
		var err error
		net, err = devnet.Start(ctx, devnet.Options{Home: filepath.Join(o.Home, "chains"), ChainIDs: []string{Seoul, Bucheon, Member}, BlockTime: o.BlockTime})
		if err != nil {
			return 0, "", err
		}
		return 2, fmt.Sprintf("block time %s", o.BlockTime), nil
	}); err != nil {
		return err
	}
	defer func() {
		if serr := net.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()

	ends := map[string]func(port string) (*relayer.End, error){}
	clients := map[string]*cosmos.Client{}
	admins := map[string]*cosmos.Client{}
	lights := map[string]*light.Client{}
	for _, c := range net.Chains {
		rel, err := newClient(c, devnet.RelayerKey)
		if err != nil {
			return err
		}
		adm, err := newClient(c, devnet.AdminKey)
		if err != nil {
			return err
		}
		// The demo trusts the chains it just started; an operator gives trust height and hash.
		lc, err := light.New(ctx, light.Options{ChainID: c.ChainID, Primary: c.RPCAddr, TrustingPeriod: 14 * 24 * time.Hour,
			TrustLatest: true, StoreDir: filepath.Join(o.Home, "light", c.ChainID), Logger: *log})
		if err != nil {
			return err
		}
		defer lc.Close()
		clients[c.ChainID], admins[c.ChainID], lights[c.ChainID] = rel, adm, lc
		c := c
		ends[c.ChainID] = func(port string) (*relayer.End, error) {
			return &relayer.End{Chain: clients[c.ChainID], Light: lights[c.ChainID], PortID: port}, nil
		}
	}

	paths := map[string]*relayer.Path{}
	for _, other := range []string{Bucheon, Member} {
		a, _ := ends[Seoul](didtypes.PortID)
		b, _ := ends[other](didtypes.PortID)
		p := &relayer.Path{Name: Seoul + "<->" + other, A: a, B: b, Version: didtypes.Version, Order: channeltypes.UNORDERED}
		l := relayer.Linker{Check: light.VerifyProofAgainstAppHash}
		if err := r.do("link path "+p.Name+" (clients, connection)", Seoul, func() (int64, string, error) {
			if err := l.LinkConnection(ctx, p); err != nil {
				return 0, "", err
			}
			return 0, fmt.Sprintf("%s %s <-> %s %s", p.A.ClientID, p.A.ConnectionID, p.B.ClientID, p.B.ConnectionID), nil
		}); err != nil {
			return err
		}
		// A chain id proves nothing: each city's registry admin recognises the other city's client
		// (after checking its trust root out of band); only then does a did channel open.
		for _, e := range [][2]*relayer.End{{p.B, p.A}, {p.A, p.B}} {
			on, city := e[0], e[1]
			if err := r.do(fmt.Sprintf("%s recognises %s as client %s (city registry)", on.ChainID(), city.ChainID(), on.ClientID), on.ChainID(), func() (int64, string, error) {
				h, err := net.RegisterCity(ctx, on.ChainID(), city.ChainID(), on.ClientID)
				if err == nil {
					// The header after the tx's block commits to the entry the link checks.
					err = net.Chain(on.ChainID()).WaitHeight(ctx, h+1)
				}
				return h, "citychaind tx did register-city " + city.ChainID() + " " + on.ClientID, err
			}); err != nil {
				return err
			}
		}
		if err := r.do("open did channel "+p.Name, Seoul, func() (int64, string, error) {
			if err := l.Link(ctx, p); err != nil {
				return 0, "", err
			}
			return 0, fmt.Sprintf("%s/%s <-> %s/%s", p.A.ClientID, p.A.ChannelID, p.B.ClientID, p.B.ChannelID), nil
		}); err != nil {
			return err
		}
		paths[other] = p
	}

	// The relayer runs on its own from here, as `cityrelay start` does: an embedded NATS server with
	// JetStream, scanners publishing the work found in verified blocks, submitters delivering it.
	var srv *packets.Embedded
	if err := r.do("start embedded NATS (JetStream) and the relayer pipelines", "all", func() (int64, string, error) {
		var err error
		if srv, err = packets.StartEmbedded(filepath.Join(o.Home, "nats"), "127.0.0.1:-1"); err != nil {
			return 0, "", err
		}
		stopNATS = srv.Stop
		return 0, srv.URL() + " (token in " + filepath.Join(o.Home, "nats", packets.TokenFile) + ")", nil
	}); err != nil {
		return err
	}
	defer func() { stopNATS() }()
	nc, err := srv.Connect(nats.Name("cityrelay-demo"))
	if err != nil {
		return fmt.Errorf("connect to embedded nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return err
	}
	if err := packets.Setup(ctx, js, 1, time.Hour); err != nil {
		return err
	}
	relayCtx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	var relayedMu sync.Mutex
	relayed := map[string]int{}
	pipelineDone := make(chan error, 1)
	go func() {
		pipelineDone <- pipeline.Run(relayCtx, pipeline.Options{Paths: []*relayer.Path{paths[Bucheon], paths[Member]}, JS: js,
			Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash}, BatchMax: 50, BatchWait: 200 * time.Millisecond, Log: *log,
			OnDelivered: func(d pipeline.Delivered) {
				relayedMu.Lock()
				relayed[d.Path+" "+d.Kind] += len(d.Sequences)
				relayedMu.Unlock()
			}})
	}()
	defer func() { stopRelay(); <-pipelineDone }()

	seoul := net.Chain(Seoul)
	sc := admins[Seoul]
	citizen, err := newCitizenKey()
	if err != nil {
		return err
	}
	citizenDID := didtypes.FormatDID(Seoul, "kim-minji")
	citizen.DID = citizenDID
	if err := r.do("register citizen DID "+citizenDID, Seoul, func() (int64, string, error) {
		pub, _ := hexBytes(citizen.PublicKey)
		res, err := sc.Send(ctx, &didtypes.MsgCreateDID{Controller: seoul.Admin.Address, Suffix: "kim-minji",
			Methods: []didtypes.MethodInput{{Id: "key-1", Type: didtypes.KEY_TYPE_SECP256K1, PublicKey: pub}}})
		if err != nil {
			return 0, "", err
		}
		return res.Height, "secp256k1 key-1; issuer " + seoul.Issuer.DID + " (trusted in genesis)", nil
	}); err != nil {
		return err
	}

	now := time.Now().Unix()
	var attID string
	var issuerSeq uint64
	if err := r.do("issue residency-card attestation", Seoul, func() (int64, string, error) {
		var doc didtypes.QueryDIDResponse
		if err := sc.QueryGRPC(ctx, "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: seoul.Issuer.DID}, &doc, 0); err != nil {
			return 0, "", err
		}
		issuerSeq = doc.Document.IssuerSeq + 1
		digest := make([]byte, 32)
		_, _ = rand.Read(digest) // stands for the salted digest of the off-chain card
		sb := didtypes.AttestationSignBytes(Seoul, seoul.Issuer.DID, seoul.Issuer.Method, citizenDID, "residency-card", digest, now-60, now+365*86400, issuerSeq)
		sig, err := seoul.Issuer.Sign(sb)
		if err != nil {
			return 0, "", err
		}
		attID = didtypes.AttestationID(sb)
		msgs := []sdk.Msg{&didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: seoul.Issuer.Method,
			SubjectDid: citizenDID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 60, ValidUntil: now + 365*86400,
			IssuerSeq: issuerSeq, Signature: sig}}
		for _, other := range []string{Bucheon, Member} {
			msgs = append(msgs, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: paths[other].A.ChannelID, AttestationId: attID})
		}
		res, err := sc.Send(ctx, msgs...)
		if err != nil {
			return 0, "", err
		}
		return res.Height, "id " + attID[:16] + "…, sent to " + Bucheon + " and " + Member, nil
	}); err != nil {
		return err
	}

	for _, other := range []string{Bucheon, Member} {
		if err := r.do("relay + verify attestation with light-client proof", other, func() (int64, string, error) {
			res, err := waitStatus(ctx, clients[other], lights[other], Seoul, attID, verify.StatusValid)
			if err != nil {
				return 0, "", err
			}
			return res.HeaderHeight, fmt.Sprintf("%s: %s for %s, issuer %s, received at %d", res.Status, res.Attestation.CredentialType,
				res.Attestation.SubjectDid, res.Attestation.IssuerDid, res.ReceivedHeight), nil
		}); err != nil {
			return err
		}
	}

	if err := r.do("revoke attestation and send the revocation", Seoul, func() (int64, string, error) {
		seq := issuerSeq + 1
		sig, err := seoul.Issuer.Sign(didtypes.RevocationSignBytes(Seoul, attID, seoul.Issuer.DID, seoul.Issuer.Method, didtypes.ATTESTATION_STATUS_REVOKED, seq))
		if err != nil {
			return 0, "", err
		}
		msgs := []sdk.Msg{&didtypes.MsgSetAttestationStatus{Submitter: seoul.Admin.Address, AttestationId: attID, IssuerMethod: seoul.Issuer.Method,
			NewStatus: didtypes.ATTESTATION_STATUS_REVOKED, IssuerSeq: seq, Signature: sig}}
		for _, other := range []string{Bucheon, Member} {
			msgs = append(msgs, &didtypes.MsgSendRevocation{Sender: seoul.Admin.Address, SourceChannel: paths[other].A.ChannelID, AttestationId: attID})
		}
		res, err := sc.Send(ctx, msgs...)
		if err != nil {
			return 0, "", err
		}
		return res.Height, "issuer_seq " + fmt.Sprint(seq), nil
	}); err != nil {
		return err
	}
	for _, other := range []string{Bucheon, Member} {
		if err := r.do("relay + verify revocation arrived", other, func() (int64, string, error) {
			res, err := waitStatus(ctx, clients[other], lights[other], Seoul, attID, verify.StatusRevoked)
			if err != nil {
				return 0, "", err
			}
			return res.HeaderHeight, string(res.Status), nil
		}); err != nil {
			return err
		}
	}

	services := []struct{ typ, dest, payload string }{
		{"mileage.transfer", Bucheon, `{"points":1200,"to":"did:city:bucheon-1:kim-minji"}`},
		{"mvote.ballot", Member, `{"poll":"park-renewal-2026","choice":"yes"}`},
		{"parking.permit", Bucheon, `{"zone":"B-3","valid_days":30}`},
	}
	type sent struct {
		channel string
		seq     uint64
		typ     string
	}
	var sends []sent
	for i, s := range services {
		if err := r.do("send service message "+s.typ+" -> "+s.dest, Seoul, func() (int64, string, error) {
			m := didtypes.ServiceMessage{ServiceType: s.typ, SenderDid: citizenDID, SenderMethod: "key-1", OriginChainId: Seoul,
				DestinationChainId: s.dest, Nonce: uint64(i + 1), Expiry: time.Now().Add(time.Hour).Unix(), Payload: []byte(s.payload)}
			sb := m.SignBytes()
			sig, err := citizen.Sign(sb)
			if err != nil {
				return 0, "", err
			}
			m.Signature, m.MsgId = sig, didtypes.MessageID(sb)
			res, err := sc.Send(ctx, &didtypes.MsgSendServiceMessage{Sender: seoul.Admin.Address, SourceChannel: paths[s.dest].A.ChannelID, Message: m})
			if err != nil {
				return 0, "", err
			}
			pks, err := relayer.SendPackets(res.Events)
			if err != nil || len(pks) != 1 {
				return 0, "", fmt.Errorf("send_packet event: %v", err)
			}
			sends = append(sends, sent{channel: pks[0].SourceChannel, seq: pks[0].Sequence, typ: s.typ})
			return res.Height, fmt.Sprintf("signed by %s, sequence %d", citizenDID, pks[0].Sequence), nil
		}); err != nil {
			return err
		}
	}
	for _, s := range sends {
		if err := r.do("acknowledgement of "+s.typ+" recorded", Seoul, func() (int64, string, error) {
			d, err := waitDelivery(ctx, sc, s.channel, s.seq)
			if err != nil {
				return 0, "", err
			}
			if d.State != didtypes.DELIVERY_STATE_DELIVERED {
				return d.ResolvedHeight, "", fmt.Errorf("delivery %s: %s", d.State, d.Error)
			}
			return d.ResolvedHeight, fmt.Sprintf("%s/%d %s", s.channel, s.seq, d.State), nil
		}); err != nil {
			return err
		}
	}

	if err := evmCity(ctx, r, o, *log, js, relayCtx, net, clients[Bucheon], lights[Bucheon]); err != nil {
		return err
	}

	if o.Once {
		return nil
	}
	fmt.Fprintln(o.Out, "\nthe relayer keeps running; send packets to the chains above and watch the counts (Ctrl-C stops)")
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			relayedMu.Lock()
			fmt.Fprintf(o.Out, "[%7s] relayed: %v\n", time.Since(r.start).Round(time.Second), relayed)
			relayedMu.Unlock()
		}
	}
}

func newClient(c *devnet.Chain, key string) (*cosmos.Client, error) {
	return c.Client(key, devnet.ClientOptions{})
}

func newCitizenKey() (devnet.DIDKey, error) {
	sk, err := crypto.GenerateKey()
	if err != nil {
		return devnet.DIDKey{}, err
	}
	return devnet.DIDKey{Method: "key-1", Type: didtypes.KEY_TYPE_SECP256K1,
		PrivateKey: fmt.Sprintf("%x", crypto.FromECDSA(sk)), PublicKey: fmt.Sprintf("%x", crypto.CompressPubkey(&sk.PublicKey))}, nil
}

func hexBytes(s string) ([]byte, error) {
	var b []byte
	_, err := fmt.Sscanf(s, "%x", &b)
	return b, err
}

// waitStatus polls a verified answer until it has the wanted status (the relayer works meanwhile).
func waitStatus(ctx context.Context, cl *cosmos.Client, lc *light.Client, origin, id string, want verify.Status) (*verify.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var last *verify.Result
	var lastErr error
	for {
		res, err := verify.Attestation(ctx, cl, lc, origin, id, verify.Options{MaxHeaderAge: time.Minute, Now: time.Now()})
		if err == nil && res.Status == want {
			return res, nil
		}
		last, lastErr = res, err
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, lastErr
			}
			return nil, fmt.Errorf("status %s, want %s", last.Status, want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func waitDelivery(ctx context.Context, cl *cosmos.Client, channel string, seq uint64) (didtypes.Delivery, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		var resp didtypes.QueryDeliveryResponse
		err := cl.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: channel, Sequence: seq}, &resp, 0)
		if err == nil && resp.Delivery.State != didtypes.DELIVERY_STATE_PENDING {
			return resp.Delivery, nil
		}
		select {
		case <-ctx.Done():
			return resp.Delivery, fmt.Errorf("delivery %s/%d still %s", channel, seq, resp.Delivery.State)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
