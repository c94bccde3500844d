// Package pipeline distributes relaying over NATS JetStream: per chain a scanner publishes recv and
// ack work found in verified blocks, per destination chain a submitter on a shared pull consumer
// delivers it in batches. Several relayer processes on one NATS share the work: JetStream hands each
// work item to one submitter, and drops duplicate publications inside its de-duplication window.
package pipeline

import (
	"context"
	"fmt"
	"time"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// Options configure a pipeline instance.
type Options struct {
	Paths     []*relayer.Path
	JS        jetstream.JetStream
	Relayer   relayer.Relayer
	BatchMax  int
	BatchWait time.Duration
	Log       zerolog.Logger
	// Poll is the pause between a scanner's polls of its chain's latest header until the chain's block
	// interval is learned (default 200ms). From then on a scanner polls when the next block is due
	// (pacer): by block time, backing off while nothing changes.
	Poll time.Duration
	// OnDelivered is told of every delivering tx (metrics, tests).
	OnDelivered func(Delivered)
	// OnObserved is told of every work item published (metrics).
	OnObserved func(*packets.Work)
	// InFlight is how many batches a submitter keeps in flight per destination (default 3). The
	// submitter of an ORDERED channel end (Path.Order) keeps one: its batches go strictly in sequence.
	InFlight int
	// ClearOnStart publishes, at start, the work left from before (in chunks of ClearChunk), and
	// ClearInterval (when set) again every interval, beside live relaying: work a scanner missed
	// (a dead-lettered item re-queued, a block skipped by an earlier version) is found again.
	ClearOnStart  bool
	ClearInterval time.Duration
	ClearChunk    int
	// OnFailed is told of work that failed: refused by the chain ("tx <codespace>/<code>", an item
	// alone), too large for a tx alone ("too large"), or dead-lettered ("dead"); or "forged" for an
	// event naming another counterparty than its channel's (skipped, never published). A retry is not
	// a failure: see OnRetried.
	OnFailed func(path, kind, reason string, items int)
	// OnRetried is told of work handed back to be tried again for a passing reason: "transient" (a
	// node unreachable or behind, a state not verified yet, an account sequence taken) or "height
	// ahead" (an item naming a source height not verified yet). Work that keeps failing
	// deterministically is dead-lettered after MaxDeliver tries and then reported to OnFailed.
	OnRetried func(path, kind, reason string, items int)
	// MaxDeliver is how many times an item that fails deterministically (refused by the chain, a
	// height never verified) is tried before it is dead-lettered with the reason (default 8).
	MaxDeliver int
	// RetryBase is the first retry delay; each further one doubles, up to 5 minutes (default 2s).
	RetryBase time.Duration
	// OnPartFailed is told when a scanner, submitter or clearing fails (it is restarted) (health).
	OnPartFailed func(part string, err error)
	// OnScanned is told of each block a scanner finished (health: scanner lag).
	OnScanned func(chain string, height int64)
	// OnTxFailed is told of every delivery tx to chain that failed, before the batch is split,
	// handed back or dead-lettered (metrics: a *chains.TxError's code, chains.ErrSimulation).
	OnTxFailed func(chain string, err error)
	// Classify names what each packet carries (Work.Class) and the attestation id it carries, which
	// the packet bucket indexes (default packets.Unclassified: every packet "other", none indexed).
	// The daemon hands in the city's, classify.Describe.
	Classify packets.Classifier
	// Allowed, when set, says whether a path's channel end may be relayed (the channel filters): a
	// path with an end it refuses is not scanned, cleared or submitted for (logged at start).
	Allowed func(path string, e *relayer.End) bool
	// Exclusions record the excluded sequences skipped and those an operator released (Clear); Run
	// makes one when nil. Share one value between Run and Clear.
	Exclusions *Exclusions
	// OnExcluded is told, once per work item, of work skipped because the packet's sending end
	// excludes its sequence (relayer.End.Excluded; metrics). chain is the sending chain.
	OnExcluded func(path, chain, kind string)
	// OnBelowMinFee is told, once per packet, of a recv skipped because the packet's escrowed recv fee
	// is below its sending end's minimum (relayer.End.MinFees; metrics). chain is the sending chain.
	OnBelowMinFee func(path, chain string)
}

// Delivered is a committed tx of packet messages.
type Delivered struct {
	To, Path, Kind string
	Sequences      []uint64
	TxHash         string
	Height         int64
	// Latency is from the scanner's observation of the oldest item to the tx's commit.
	Latency time.Duration
	// Tx is the committed tx: gas, fee, messages and where its time went.
	Tx *relayer.TxInfo
}

// Run runs the scanners and submitters until ctx ends, then stops fetching and returns once
// in-flight batches are finished or handed back.
func Run(ctx context.Context, o Options) error {
	if o.BatchMax <= 0 {
		o.BatchMax = 50
	}
	if o.BatchWait <= 0 {
		o.BatchWait = 500 * time.Millisecond
	}
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.InFlight <= 0 {
		o.InFlight = 3
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = packets.DefaultMaxDeliver
	}
	if o.RetryBase <= 0 {
		o.RetryBase = packets.DefaultRetryBase
	}
	if o.Classify == nil {
		o.Classify = packets.Unclassified
	}
	if o.Exclusions == nil {
		o.Exclusions = NewExclusions()
	}
	kv, err := o.JS.KeyValue(ctx, packets.CursorBucket)
	if err != nil {
		return fmt.Errorf("cursor bucket: %w", err)
	}
	if _, err := o.JS.KeyValue(ctx, packets.PacketBucket); err != nil {
		return fmt.Errorf("packet bucket: %w", err)
	}
	if o.Allowed != nil {
		var kept []*relayer.Path
		for _, p := range o.Paths {
			if !o.Allowed(p.Name, p.A) || !o.Allowed(p.Name, p.B) {
				o.Log.Info().Str("path", p.Name).Str("src_channel", p.A.PortID+"/"+p.A.ChannelID).Str("dst_channel", p.B.PortID+"/"+p.B.ChannelID).
					Msg("channel filtered out: not relayed")
				continue
			}
			kept = append(kept, p)
		}
		o.Paths = kept
		if len(kept) == 0 {
			<-ctx.Done()
			return nil
		}
	}
	life := packets.NewRecorder(o.JS, o.Log)
	g, gctx := errgroup.WithContext(ctx)
	chains := map[string][]*relayer.End{}
	subs := map[string]*submitter{} // one per channel end served
	for _, p := range o.Paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			chains[e.ChainID()] = append(chains[e.ChainID()], e)
			k := e.ChainID() + "/" + e.PortID + "/" + e.ChannelID
			if subs[k] == nil {
				subs[k] = &submitter{to: e.ChainID(), port: e.PortID, channel: e.ChannelID, o: o, rel: &o.Relayer, life: life,
					ordered: p.Order == channeltypes.ORDERED}
			}
		}
	}
	for chain := range chains {
		s := &scanner{chain: chain, o: o, cursors: kv, life: life}
		g.Go(func() error { return supervise(gctx, o, "scanner "+chain, s.run) })
	}
	if o.ClearOnStart || o.ClearInterval > 0 {
		g.Go(func() error { return supervise(gctx, o, "clearing", every(clearPending, o)) })
	}
	for k, s := range subs {
		g.Go(func() error { return supervise(gctx, o, "submitter "+k, s.run) })
	}
	return g.Wait()
}

// supervise restarts a failing loop with backoff instead of stopping the daemon.
func supervise(ctx context.Context, o Options, name string, run func(context.Context) error) error {
	return packets.Supervise(ctx, o.Log, name, run, o.OnPartFailed)
}

// every runs f at start (with ClearOnStart) and then every ClearInterval until ctx ends (for
// supervise: a failed run is retried by it with backoff).
func every(f func(context.Context, Options) error, o Options) func(context.Context) error {
	first := o.ClearOnStart
	return func(ctx context.Context) error {
		for {
			if first {
				if err := f(ctx, o); err != nil {
					return err
				}
			}
			first = true
			if o.ClearInterval <= 0 {
				<-ctx.Done()
				return nil
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(o.ClearInterval):
			}
		}
	}
}

// ErrTerminal marks work that retrying cannot deliver; it goes to the dead-letter subject.
var ErrTerminal = packets.ErrTerminal

// classOf is the class o.Classify gives a packet.
func classOf(o Options, port string, data []byte) string {
	class, _ := o.Classify(port, data)
	return class
}
