// Package demo runs the whole cityrelay story on embedded defaults: three city chains and an EVM
// city, light clients, linked did paths, the relay daemon of `cityrelay start`, and a residency card
// issued in Seoul, verified in Bucheon and in a member city, revoked, service messages between the
// cities, and an attestation forwarded from Seoul to Bucheon through the member city (the association's
// hub, which Bucheon's registry marks as one). Without Once the daemon's web console and /metrics stay
// up on loopback while a trickle of citizen activity keeps the relayer busy.
//
// It is a composition root, beside cmd/cityrelay's commands: it starts the chains (chains/devnet,
// chains/evmdevnet), writes the config an operator would, opens it with relayer/assemble and runs
// the daemon of `cityrelay start` (daemon.Run) on it; the story then only talks to the chains.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/daemon"
	"github.com/cityrelay/cityrelay/relayer/keys"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// Chain ids of the demo: Seoul, Bucheon, and a member city of the city association.
const (
	Seoul   = "seoul-1"
	Bucheon = "bucheon-1"
	Member  = "wego-1"
)

// DefaultListen is where the demo serves the console and /metrics (the daemon's default
// metrics.listen); a free port on the same host is used when its port is taken.
const DefaultListen = "127.0.0.1:9464"

// DefaultTrickleEvery is the pace of the citizen activity after the story (without Once).
const DefaultTrickleEvery = 3 * time.Second

// Options configure the demo.
type Options struct {
	// Home holds the chains, light client stores and logs; a temporary directory when empty.
	Home string
	// Once exits after the story; otherwise the relayer, its console and a trickle of citizen
	// activity keep running until ctx ends.
	Once      bool
	BlockTime time.Duration
	Out       io.Writer
	// Log receives the relayer's structured log (default: a file under Home).
	Log *zerolog.Logger
	// Listen is the loopback address of the console and /metrics without Once (default
	// DefaultListen); when its port is taken a free port on the same host is used (and printed).
	Listen string
	// TrickleEvery is the pace of the citizen activity without Once (default DefaultTrickleEvery).
	TrickleEvery time.Duration
}

// ErrStepFailed is returned when a step of the story did not verify.
var ErrStepFailed = errors.New("demo step failed")

// ErrNotLoopback is returned for a listen address off loopback: the demo's console has no admin
// token and verifies for anyone who can reach it.
var ErrNotLoopback = errors.New("the demo serves its console on loopback only")

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
	// summarised: the summary was printed (once, after the story or at the end).
	summarised bool
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
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.summarised {
		return
	}
	r.summarised = true
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

// Listen binds the demo's console address: addr, or a free port on addr's host when addr's port is
// taken (taken is then true). addr must be on loopback.
func Listen(addr string) (ln net.Listener, taken bool, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, false, fmt.Errorf("demo listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, false, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	ln, err = net.Listen("tcp", addr)
	if err == nil {
		return ln, false, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, false, fmt.Errorf("demo listen %s: %w", addr, err)
	}
	if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
		return nil, true, fmt.Errorf("demo listen %s (its port is taken) on a free port: %w", addr, err)
	}
	return ln, true, nil
}

// Run tells the story. It returns nil only when every step verified (and, without Once, when ctx
// ended after that).
func Run(ctx context.Context, o Options) (err error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.BlockTime == 0 {
		o.BlockTime = 300 * time.Millisecond
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.TrickleEvery <= 0 {
		o.TrickleEvery = DefaultTrickleEvery
	}
	// The console's port is bound first, so its address is in the first lines; the daemon serves it
	// once the paths are linked.
	var ln net.Listener
	var taken bool
	if !o.Once {
		if ln, taken, err = Listen(o.Listen); err != nil {
			return err
		}
		defer ln.Close()
	}
	if o.Home == "" {
		dir, err := os.MkdirTemp("", "cityrelay-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.Home = dir
	} else if err := os.MkdirAll(o.Home, 0o700); err != nil {
		return fmt.Errorf("demo home: %w", err)
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
	defer r.summary()
	fmt.Fprintf(o.Out, "cityrelay demo: home %s, relayer log %s\n", o.Home, filepath.Join(o.Home, "relayer.log"))
	url := ""
	if ln != nil {
		url = "http://" + ln.Addr().String() + "/"
		if taken {
			fmt.Fprintf(o.Out, "%s is taken: the console uses %s instead\n", o.Listen, ln.Addr())
		}
		fmt.Fprintf(o.Out, "open %s to watch the relayer (web console and /metrics, served once the paths are linked); Ctrl-C stops\n", url)
	}
	fmt.Fprintln(o.Out)

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

	// The relayer is configured as an operator configures `cityrelay start` (the config is written
	// to <home>/config.toml): relayer/assemble opens its chain and light clients, the daemon runs on them.
	cfg, err := relayerConfig(net, o, ln)
	if err != nil {
		return err
	}
	rt := assemble.Open(cfg, assemble.Options{Home: o.Home, TrustLatest: true, Log: *log})
	defer rt.Close()
	clients := map[string]assemble.Chain{}
	lights := map[string]*light.Client{}
	admins := map[string]*cosmos.Client{}
	for _, c := range net.Chains {
		// The demo trusts the chains it just started (TrustLatest); an operator gives trust height and hash.
		if clients[c.ChainID], err = rt.Chain(c.ChainID); err != nil {
			return err
		}
		if lights[c.ChainID], err = rt.Light(ctx, c.ChainID); err != nil {
			return err
		}
		if admins[c.ChainID], err = c.Client(devnet.AdminKey, devnet.ClientOptions{}); err != nil {
			return err
		}
	}
	// verify proves the issuing city's own current status with the relayer's light client of it.
	origins := rt.Origins(ctx)

	paths, hub, err := linkPaths(ctx, r, rt, net, admins[Bucheon])
	if err != nil {
		return err
	}

	// The EVM city is configured before the daemon starts, which then delivers its attestations too.
	gimpo, err := evmCitySetup(ctx, r, o, cfg, rt, net, clients[Bucheon])
	if gimpo != nil {
		defer gimpo.chain.Close()
	}
	if err != nil {
		return err
	}
	if err := cfg.Save(filepath.Join(o.Home, "config.toml")); err != nil {
		return err
	}

	// From here the relayer runs on its own: the daemon of `cityrelay start` (embedded NATS with
	// JetStream, scanners publishing the work found in verified blocks, submitters delivering it,
	// client refresh, and without Once its HTTP side: the web console, /metrics, /healthz and
	// /v1/attestations).
	daemonCtx, stopDaemon := context.WithCancel(ctx)
	// The story and the trickle end when the daemon does: a story step then fails at once instead of
	// waiting for a relayer that is gone, and the daemon's error is returned.
	storyCtx, stopStory := context.WithCancel(ctx)
	defer stopStory()
	var daemonErr error
	daemonDone := make(chan struct{})
	served := make(chan string, 1)
	what := "start the relayer daemon (embedded NATS, pipelines, console)"
	if o.Once {
		what = "start the relayer daemon (embedded NATS, pipelines)"
	}
	go func() {
		defer stopStory()
		defer close(daemonDone)
		daemonErr = daemon.Run(daemonCtx, daemon.Options{Home: o.Home, Config: cfg, Runtime: rt, Log: *log, Listener: ln,
			Ready: func(addr string) { served <- addr }})
	}()
	defer func() {
		stopDaemon()
		<-daemonDone
		if daemonErr != nil {
			err = errors.Join(err, fmt.Errorf("relayer daemon: %w", daemonErr))
		}
	}()
	if err := r.do(what, "all", func() (int64, string, error) {
		if o.Once {
			return 0, fmt.Sprintf("%d paths, EVM city %s; config %s", len(paths)+1, Gimpo, filepath.Join(o.Home, "config.toml")), nil
		}
		select {
		case addr := <-served:
			return 0, "console and /metrics on http://" + addr + "/; config " + filepath.Join(o.Home, "config.toml"), nil
		case <-storyCtx.Done():
			return 0, "", errors.New("stopped before it served")
		}
	}); err != nil {
		return err
	}
	ctx = storyCtx

	s, err := seoulStory(ctx, r, net, admins[Seoul], paths, clients, lights, origins)
	if err != nil {
		return err
	}
	if err := forwardStory(ctx, r, s, hub, admins[Bucheon]); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if err := evmCityStory(ctx, r, gimpo, clients[Bucheon], lights[Bucheon], origins); err != nil {
		return err
	}

	if o.Once {
		return nil
	}
	r.summary()
	fmt.Fprintf(o.Out, "\nopen %s to watch the relayer; Ctrl-C stops\n", url)
	fmt.Fprintf(o.Out, "a citizen's activity goes on every %s (attestations, service messages, now and then a revocation); the relayer delivers it\n\n", o.TrickleEvery)
	t := &trickle{story: s, gimpo: gimpo, out: o.Out, start: r.start, log: *log}
	t.run(ctx, o.TrickleEvery)
	fmt.Fprintf(o.Out, "\nstopped after %s: %s; the console was %s\n", time.Since(r.start).Round(time.Second), t.counts(), url)
	return nil
}

// linkPaths links Seoul's did paths to Bucheon and the member city, and the member city's path to
// Bucheon (the member city is also the association's hub), as `cityrelay tx link` does, with each
// city's registry admin recognising the other's client in between; the ids go into the config. Then
// Bucheon's registry admin marks the member city as a hub, so Bucheon accepts what it forwards. It
// returns Seoul's paths by the other city, and the hub's path to Bucheon.
func linkPaths(ctx context.Context, r *runner, rt *assemble.Runtime, net *devnet.Devnet, bucheonAdmin *cosmos.Client) (map[string]*relayer.Path, *relayer.Path, error) {
	paths := map[string]*relayer.Path{}
	var hub *relayer.Path
	for _, name := range pathNames() {
		p, err := rt.Path(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		// The IBC clients' trusting periods: two thirds of the chains' unbonding periods.
		p.TrustingPeriodA, p.TrustingPeriodB = 0, 0
		l := relayer.Linker{Check: light.VerifyProofAgainstAppHash}
		if err := r.do("link path "+p.Name+" (clients, connection)", p.A.ChainID(), func() (int64, string, error) {
			if err := l.LinkConnection(ctx, p); err != nil {
				return 0, "", err
			}
			return 0, fmt.Sprintf("%s %s <-> %s %s", p.A.ClientID, p.A.ConnectionID, p.B.ClientID, p.B.ConnectionID), nil
		}); err != nil {
			return nil, nil, err
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
				return nil, nil, err
			}
		}
		if err := r.do("open did channel "+p.Name, p.A.ChainID(), func() (int64, string, error) {
			if err := l.Link(ctx, p); err != nil {
				return 0, "", err
			}
			return 0, fmt.Sprintf("%s/%s <-> %s/%s", p.A.ClientID, p.A.ChannelID, p.B.ClientID, p.B.ChannelID), nil
		}); err != nil {
			return nil, nil, err
		}
		rt.Record(p)
		if p.A.ChainID() == Seoul {
			paths[p.B.ChainID()] = p
		} else {
			hub = p
		}
	}
	bucheon := net.Chain(Bucheon)
	if err := r.do(fmt.Sprintf("%s marks %s as a hub (city registry)", Bucheon, Member), Bucheon, func() (int64, string, error) {
		res, err := bucheonAdmin.Send(ctx, &didtypes.MsgRegisterHub{Admin: bucheon.Admin.Address, ChainId: Member})
		if err != nil {
			return 0, "", err
		}
		return res.Height, "citychaind tx did register-hub " + Member + ": packets it forwards are accepted for their origin", nil
	}); err != nil {
		return nil, nil, err
	}
	return paths, hub, nil
}

// pathNames are the demo's did paths: Seoul to Bucheon and to the member city, and the member city
// (the hub) to Bucheon.
func pathNames() []string {
	return []string{Seoul + "<->" + Bucheon, Seoul + "<->" + Member, Member + "<->" + Bucheon}
}

// seoulStory is the Cosmos part of the story, told while the daemon relays: a citizen's DID in Seoul,
// a residency card sent to Bucheon and the member city and verified there with light-client proofs,
// its revocation proven at Seoul and relayed, and service messages acknowledged. The story goes on
// (the trickle) with what it returns.
func seoulStory(ctx context.Context, r *runner, net *devnet.Devnet, admin *cosmos.Client, paths map[string]*relayer.Path,
	clients map[string]assemble.Chain, lights map[string]*light.Client, origins verify.Origins,
) (*story, error) {
	seoul := net.Chain(Seoul)
	citizen, err := newCitizenKey()
	if err != nil {
		return nil, err
	}
	citizen.DID = didtypes.FormatDID(Seoul, "kim-minji")
	s := &story{seoul: seoul, admin: admin, paths: paths, citizen: citizen}
	if err := r.do("register citizen DID "+citizen.DID, Seoul, func() (int64, string, error) {
		pub, _ := hexBytes(citizen.PublicKey)
		res, err := s.admin.Send(ctx, &didtypes.MsgCreateDID{Controller: seoul.Admin.Address, Suffix: "kim-minji",
			Methods: []didtypes.MethodInput{{Id: "key-1", Type: didtypes.KEY_TYPE_SECP256K1, PublicKey: pub}}})
		if err != nil {
			return 0, "", err
		}
		return res.Height, "secp256k1 key-1; issuer " + seoul.Issuer.DID + " (trusted in genesis)", nil
	}); err != nil {
		return nil, err
	}

	var attID string
	if err := r.do("issue residency-card attestation", Seoul, func() (int64, string, error) {
		id, h, err := s.issue(ctx, "residency-card", Bucheon, Member)
		attID = id
		return h, "id " + shortID(id) + ", sent to " + Bucheon + " and " + Member, err
	}); err != nil {
		return nil, err
	}
	for _, other := range []string{Bucheon, Member} {
		if err := r.do("relay + verify attestation with light-client proof", other, func() (int64, string, error) {
			res, err := waitStatus(ctx, clients[other], lights[other], origins, Seoul, attID, verify.StatusValid, false)
			if err != nil {
				return 0, "", err
			}
			return res.HeaderHeight, fmt.Sprintf("%s: %s for %s, issuer %s, received at %d", res.Status, res.Attestation.CredentialType,
				res.Attestation.SubjectDid, res.Attestation.IssuerDid, res.ReceivedHeight), nil
		}); err != nil {
			return nil, err
		}
	}

	if err := r.do("revoke attestation and send the revocation", Seoul, func() (int64, string, error) {
		h, seq, err := s.revoke(ctx, attID, Bucheon, Member)
		return h, "issuer_seq " + fmt.Sprint(seq), err
	}); err != nil {
		return nil, err
	}
	for _, other := range []string{Bucheon, Member} {
		if err := r.do("verify revoked at the origin (a fresh proof of Seoul's own record)", other, func() (int64, string, error) {
			res, err := waitStatus(ctx, clients[other], lights[other], origins, Seoul, attID, verify.StatusRevoked, false)
			if err != nil {
				return 0, "", err
			}
			return res.HeaderHeight, reasonOf(res), nil
		}); err != nil {
			return nil, err
		}
		if err := r.do("relay + verify revocation arrived", other, func() (int64, string, error) {
			res, err := waitStatus(ctx, clients[other], lights[other], origins, Seoul, attID, verify.StatusRevoked, true)
			if err != nil {
				return 0, "", err
			}
			return res.HeaderHeight, string(res.Status) + " in the relayed record too", nil
		}); err != nil {
			return nil, err
		}
	}

	services := []struct{ typ, dest, payload string }{
		{"mileage.transfer", Bucheon, `{"points":1200,"to":"did:city:bucheon-1:kim-minji"}`},
		{"mvote.ballot", Member, `{"poll":"park-renewal-2026","choice":"yes"}`},
		{"parking.permit", Bucheon, `{"zone":"B-3","valid_days":30}`},
	}
	var sends []sentMessage
	for _, m := range services {
		if err := r.do("send service message "+m.typ+" -> "+m.dest, Seoul, func() (int64, string, error) {
			sent, h, err := s.sendService(ctx, m.typ, m.dest, m.payload)
			if err != nil {
				return 0, "", err
			}
			sends = append(sends, sent)
			return h, fmt.Sprintf("signed by %s, sequence %d", citizen.DID, sent.seq), nil
		}); err != nil {
			return nil, err
		}
	}
	for _, m := range sends {
		if err := r.do("acknowledgement of "+m.typ+" recorded", Seoul, func() (int64, string, error) {
			d, err := waitDelivery(ctx, s.admin, m.channel, m.seq)
			if err != nil {
				return 0, "", err
			}
			if d.State != didtypes.DELIVERY_STATE_DELIVERED {
				return d.ResolvedHeight, "", fmt.Errorf("delivery %s: %s", d.State, d.Error)
			}
			return d.ResolvedHeight, fmt.Sprintf("%s/%d %s", m.channel, m.seq, d.State), nil
		}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// forwardStory sends an attestation from Seoul to Bucheon through the hub (the member city): the hub
// checks it, records it and forwards it on its own channel to Bucheon, which takes the hub's word for
// Seoul (its registry marks the member city as a hub) and records it with its route; Bucheon's
// acknowledgement goes back through the hub to Seoul's delivery record.
func forwardStory(ctx context.Context, r *runner, s *story, hub *relayer.Path, bucheon *cosmos.Client) error {
	var id string
	var sent sentMessage
	if err := r.do(fmt.Sprintf("send an attestation from %s to %s via %s", Seoul, Bucheon, Member), Seoul, func() (int64, string, error) {
		var h int64
		var err error
		id, sent, h, err = s.issueVia(ctx, "residency-card", Bucheon, Member)
		if err != nil {
			return h, "", err
		}
		return h, fmt.Sprintf("residency-card id %s, to the hub on %s/%d with route %s -> %s", shortID(id), sent.channel, sent.seq, Seoul, Bucheon), nil
	}); err != nil {
		return err
	}
	return r.do(fmt.Sprintf("forwarded attestation recorded on %s via %s (route %s -> %s -> %s)", Bucheon, Member, Seoul, Member, Bucheon), Bucheon, func() (int64, string, error) {
		// Seoul's delivery record reads delivered once Bucheon's acknowledgement came back through the hub.
		d, err := waitDelivery(ctx, s.admin, sent.channel, sent.seq)
		if err != nil {
			return 0, "", err
		}
		if d.State != didtypes.DELIVERY_STATE_DELIVERED {
			return d.ResolvedHeight, "", fmt.Errorf("delivery %s/%d %s: %s", sent.channel, sent.seq, d.State, d.Error)
		}
		var res didtypes.QueryForeignAttestationResponse
		if err := bucheon.QueryGRPC(ctx, "/cityrelay.did.v1.Query/ForeignAttestation",
			&didtypes.QueryForeignAttestationRequest{OriginChainId: Seoul, Id: id}, &res, 0); err != nil {
			return 0, "", fmt.Errorf("%s's record of %s attestation %s: %w", Bucheon, Seoul, shortID(id), err)
		}
		f := res.Attestation
		want := didtypes.Route{OriginChainId: Seoul, DestinationChainId: Bucheon, HubChainId: Member}
		if f.Route == nil || *f.Route != want {
			return f.ReceivedHeight, "", fmt.Errorf("%s's record of %s has route %v, want %v", Bucheon, shortID(id), f.Route, want)
		}
		if f.SourceChannel != hub.B.ChannelID {
			return f.ReceivedHeight, "", fmt.Errorf("%s's record of %s came on %s, not on the hub's channel %s", Bucheon, shortID(id), f.SourceChannel, hub.B.ChannelID)
		}
		if f.Attestation.Status != didtypes.ATTESTATION_STATUS_ACTIVE {
			return f.ReceivedHeight, "", fmt.Errorf("%s's record of %s: status %s", Bucheon, shortID(id), f.Attestation.Status)
		}
		return f.ReceivedHeight, fmt.Sprintf("%s on %s (the hub's channel), route %s -> %s -> %s; %s delivery %s/%d %s", shortID(id), f.SourceChannel,
			f.Route.OriginChainId, f.Route.HubChainId, f.Route.DestinationChainId, Seoul, sent.channel, sent.seq, d.State), nil
	})
}

// relayerConfig is the relayer's config for the devnet (chains with the relayer key restored into
// <home>/keys, the three did paths still to link), what `cityrelay config init`, `chains add`, `keys
// restore` and `paths new` would write. ln, when set, is the console's listener.
func relayerConfig(dn *devnet.Devnet, o Options, ln net.Listener) (*config.Config, error) {
	cfg := config.Default()
	cfg.Global.LogFormat = "json"
	cfg.Metrics.Enabled = ln != nil
	if ln != nil {
		cfg.Metrics.Listen = ln.Addr().String()
	}
	cfg.Relay.BatchMaxWait = config.Duration{Duration: 200 * time.Millisecond}
	cfg.EvmCities = map[string]*config.EvmCity{}
	for _, c := range dn.Chains {
		cfg.Chains[c.ChainID] = &config.Chain{RPC: []string{c.RPCAddr}, GRPC: c.GRPCAddr, AccountPrefix: "city", KeyName: devnet.RelayerKey,
			KeyringBackend: "test", Devnet: true, GasPrice: devnet.MinGasPrice, GasAdjustment: 1.05, MaxGas: 50_000_000,
			TrustingPeriod: config.Duration{Duration: 14 * 24 * time.Hour}}
		kr, err := keys.Open(keys.Options{Home: o.Home, ChainID: c.ChainID, Backend: "test", Devnet: true})
		if err != nil {
			return nil, err
		}
		if _, err := keys.Restore(kr, devnet.RelayerKey, c.Relayer.Mnemonic, "city"); err != nil {
			return nil, fmt.Errorf("relayer key of %s: %w", c.ChainID, err)
		}
	}
	for _, pair := range [][2]string{{Seoul, Bucheon}, {Seoul, Member}, {Member, Bucheon}} {
		cfg.Paths[pair[0]+"<->"+pair[1]] = &config.Path{Src: config.PathEnd{Chain: pair[0], PortID: didtypes.PortID},
			Dst: config.PathEnd{Chain: pair[1], PortID: didtypes.PortID}, Version: didtypes.Version, Order: "unordered"}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo relayer config: %w", err)
	}
	return cfg, nil
}

// story is what the citizen and Seoul's civil office do, in the story and in the trickle after it.
type story struct {
	seoul   *devnet.Chain
	admin   *cosmos.Client // Seoul's admin key: submits the civil office's and the citizen's txs
	paths   map[string]*relayer.Path
	citizen devnet.DIDKey
	mu      sync.Mutex
	nonce   uint64 // the citizen's last service-message nonce
}

// issue has Seoul's civil office issue an attestation of credentialType to the citizen and send it
// to the dests; it returns the attestation id and the tx height.
func (s *story) issue(ctx context.Context, credentialType string, dests ...string) (string, int64, error) {
	id, issue, err := s.newAttestation(ctx, credentialType)
	if err != nil {
		return "", 0, err
	}
	msgs := []sdk.Msg{issue}
	for _, d := range dests {
		msgs = append(msgs, &didtypes.MsgSendAttestation{Sender: s.seoul.Admin.Address, SourceChannel: s.paths[d].A.ChannelID, AttestationId: id})
	}
	res, err := s.admin.Send(ctx, msgs...)
	if err != nil {
		return "", 0, err
	}
	return id, res.Height, nil
}

// issueVia has Seoul's civil office issue an attestation of credentialType to the citizen and send it
// to dest through the hub via (on Seoul's channel to the hub, with the route {Seoul, dest}); it
// returns the attestation id, the packet sent to the hub and the tx height.
func (s *story) issueVia(ctx context.Context, credentialType, dest, via string) (string, sentMessage, int64, error) {
	id, issue, err := s.newAttestation(ctx, credentialType)
	if err != nil {
		return "", sentMessage{}, 0, err
	}
	res, err := s.admin.Send(ctx, issue, &didtypes.MsgSendAttestation{Sender: s.seoul.Admin.Address, SourceChannel: s.paths[via].A.ChannelID,
		AttestationId: id, DestinationChainId: dest, ViaChainId: via})
	if err != nil {
		return "", sentMessage{}, 0, err
	}
	pks, err := relayer.SendPackets(res.Events)
	if err != nil || len(pks) != 1 {
		return "", sentMessage{}, res.Height, fmt.Errorf("send_packet event of tx at height %d: %d packets (%v)", res.Height, len(pks), err)
	}
	return id, sentMessage{channel: pks[0].SourceChannel, seq: pks[0].Sequence, typ: credentialType}, res.Height, nil
}

// newAttestation signs the civil office's next attestation of credentialType to the citizen; it
// returns its id and the message issuing it.
func (s *story) newAttestation(ctx context.Context, credentialType string) (string, *didtypes.MsgIssueAttestation, error) {
	seq, err := s.issuerSeq(ctx)
	if err != nil {
		return "", nil, err
	}
	seq++
	now := time.Now().Unix()
	digest := make([]byte, 32)
	_, _ = rand.Read(digest) // stands for the salted digest of the off-chain card
	iss := s.seoul.Issuer
	sb := didtypes.AttestationSignBytes(Seoul, iss.DID, iss.Method, s.citizen.DID, credentialType, digest, now-60, now+365*86400, seq)
	sig, err := iss.Sign(sb)
	if err != nil {
		return "", nil, err
	}
	return didtypes.AttestationID(sb), &didtypes.MsgIssueAttestation{Submitter: s.seoul.Admin.Address, IssuerDid: iss.DID, IssuerMethod: iss.Method,
		SubjectDid: s.citizen.DID, CredentialType: credentialType, Digest: digest, ValidFrom: now - 60, ValidUntil: now + 365*86400,
		IssuerSeq: seq, Signature: sig}, nil
}

// revoke has the civil office revoke attestation id and send the revocation to the dests; it returns
// the tx height and the issuer sequence signed.
func (s *story) revoke(ctx context.Context, id string, dests ...string) (int64, uint64, error) {
	seq, err := s.issuerSeq(ctx)
	if err != nil {
		return 0, 0, err
	}
	seq++
	iss := s.seoul.Issuer
	sig, err := iss.Sign(didtypes.RevocationSignBytes(Seoul, id, iss.DID, iss.Method, didtypes.ATTESTATION_STATUS_REVOKED, seq))
	if err != nil {
		return 0, 0, err
	}
	msgs := []sdk.Msg{&didtypes.MsgSetAttestationStatus{Submitter: s.seoul.Admin.Address, AttestationId: id, IssuerMethod: iss.Method,
		NewStatus: didtypes.ATTESTATION_STATUS_REVOKED, IssuerSeq: seq, Signature: sig}}
	for _, d := range dests {
		msgs = append(msgs, &didtypes.MsgSendRevocation{Sender: s.seoul.Admin.Address, SourceChannel: s.paths[d].A.ChannelID, AttestationId: id})
	}
	res, err := s.admin.Send(ctx, msgs...)
	if err != nil {
		return 0, 0, err
	}
	return res.Height, seq, nil
}

// issuerSeq is the civil office's last issuer sequence on Seoul.
func (s *story) issuerSeq(ctx context.Context) (uint64, error) {
	var doc didtypes.QueryDIDResponse
	if err := s.admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: s.seoul.Issuer.DID}, &doc, 0); err != nil {
		return 0, fmt.Errorf("issuer %s: %w", s.seoul.Issuer.DID, err)
	}
	return doc.Document.IssuerSeq, nil
}

// sentMessage is a service message's packet.
type sentMessage struct {
	channel string
	seq     uint64
	typ     string
}

// sendService sends a service message signed by the citizen to dest.
func (s *story) sendService(ctx context.Context, typ, dest, payload string) (sentMessage, int64, error) {
	s.mu.Lock()
	s.nonce++
	nonce := s.nonce
	s.mu.Unlock()
	m := didtypes.ServiceMessage{ServiceType: typ, SenderDid: s.citizen.DID, SenderMethod: "key-1", OriginChainId: Seoul,
		DestinationChainId: dest, Nonce: nonce, Expiry: time.Now().Add(time.Hour).Unix(), Payload: []byte(payload)}
	sb := m.SignBytes()
	sig, err := s.citizen.Sign(sb)
	if err != nil {
		return sentMessage{}, 0, err
	}
	m.Signature, m.MsgId = sig, didtypes.MessageID(sb)
	res, err := s.admin.Send(ctx, &didtypes.MsgSendServiceMessage{Sender: s.seoul.Admin.Address, SourceChannel: s.paths[dest].A.ChannelID, Message: m})
	if err != nil {
		return sentMessage{}, 0, err
	}
	pks, err := relayer.SendPackets(res.Events)
	if err != nil || len(pks) != 1 {
		return sentMessage{}, res.Height, fmt.Errorf("send_packet event of tx at height %d: %d packets (%v)", res.Height, len(pks), err)
	}
	return sentMessage{channel: pks[0].SourceChannel, seq: pks[0].Sequence, typ: typ}, res.Height, nil
}

func shortID(id string) string {
	if len(id) < 16 {
		return id
	}
	return id[:16] + "…"
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

// reasonOf is where a verified status was proven.
func reasonOf(res *verify.Result) string {
	if res.Reason != "" {
		return res.Reason
	}
	return fmt.Sprintf("%s in the %s record (it arrived before the origin was asked)", res.Status, res.StatusFrom)
}

// waitStatus polls a verified answer until it has the wanted status (the relayer works meanwhile);
// with relayed, until the relayed record itself says so.
func waitStatus(ctx context.Context, cl chains.Prover, lc *light.Client, origins verify.Origins, origin, id string, want verify.Status, relayed bool) (*verify.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var last *verify.Result
	var lastErr error
	for {
		res, err := verify.Attestation(ctx, cl, lc, origin, id, verify.Options{MaxHeaderAge: time.Minute, Now: time.Now(), Origins: origins})
		if err == nil && res.Status == want && (!relayed || res.StatusFrom == "relayed") {
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
