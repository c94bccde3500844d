// Package evmrelay brings attestations of an EVM city (a QBFT chain with a CityAttestationRegistry
// contract) into a Cosmos city, over the same JetStream work queue as IBC packets. A scanner reads the
// registry's events at heights the EVM light client verified and publishes work items that are only
// references (city, attestation id, block); a submitter proves each one again from registry storage at
// a verified header, checks the proof before spending gas, and sends the Cosmos city an update of its
// city-qbft client with the header and a MsgSubmitEvmAttestation carrying the storage proofs. Nothing
// the EVM RPC node says is believed: events are hints, proofs are checked against a header the light
// client verified, and the Cosmos chain checks everything again.
//
// Events are hints, but a node that withholds one must not withhold what it announces: the scanner
// checks each eth_getLogs answer against the logsBloom of the verified headers of its blocks and asks
// the witnesses too, taking the union; and the status of every record the Cosmos city holds of the
// EVM city is proven again from the registry every StatusRecheck, whatever the logs said.
package evmrelay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/light/qbft"
	"github.com/cityrelay/cityrelay/packets"
)

// Source is the EVM city as the bridge reads it: every header from its light client (chains/evm's
// client, opened by relayer/assemble).
type Source interface {
	Latest(ctx context.Context) (*chains.EvmHeader, error)
	VerifiedHeader(ctx context.Context, height uint64) (*chains.EvmHeader, error)
	RegistryProof(ctx context.Context, vh *chains.EvmHeader, slots []common.Hash) (*chains.RegistryProof, error)
	// Logs are the primary's registry logs; WitnessLogs the union of the witnesses' (none, 0, nil
	// without witnesses; chains/evm.ErrNoWitness when none answered).
	Logs(ctx context.Context, from, to uint64, topics [][]common.Hash) ([]types.Log, error)
	WitnessLogs(ctx context.Context, from, to uint64, topics [][]common.Hash) ([]types.Log, int, error)
	// RegistryBlooms are the verified logsBlooms of the blocks from..top that hold the registry's
	// address.
	RegistryBlooms(ctx context.Context, top *chains.EvmHeader, from uint64) (map[uint64]types.Bloom, error)
}

// Dest is the Cosmos city the attestations go to (chains/cosmos's client): it takes txs, answers for
// its clients, and lists the records of its did store (ABCI store queries).
type Dest interface {
	chains.Submitter
	chains.ClientQuerier
	chains.StoreQuerier
}

// Errors the submitter branches on.
var (
	// ErrNotYet: the event's block is above the newest verified header (retried).
	ErrNotYet = errors.New("event block not verified yet")
	// ErrEventMismatch: the node's event does not match what the registry's storage proves (a lying
	// node or a reorganised chain); the item is retried, then dead-lettered.
	ErrEventMismatch = errors.New("event does not match the registry's proven storage")
	// ErrNoIssue: no Issued event was found for the attestation.
	ErrNoIssue = errors.New("no Issued event for the attestation")
	// ErrClientFrozen: the city-qbft client on Dest is frozen; nothing can be delivered through it.
	ErrClientFrozen = errors.New("city-qbft client frozen")
	// ErrLogsWithheld: the verified headers' logsBloom shows registry logs the primary's eth_getLogs
	// answer lacks, and no witness answered for the range; the scanner retries the range.
	ErrLogsWithheld = errors.New("registry logs withheld by the EVM primary")
)

// Bridge relays one EVM city's attestations to one Cosmos city.
type Bridge struct {
	// City is the EVM city's chain id (its DIDs are did:city:<City>:…).
	City   string
	Source Source
	Dest   Dest
	// Client is the city-qbft client on Dest that Dest's city registry names for City.
	Client string
	JS     jetstream.JetStream
	Log    zerolog.Logger
	// Poll is the pause between scans with nothing new (default 500ms).
	Poll time.Duration
	// StartBlock is the first block scanned when there is no cursor yet (default 1).
	StartBlock uint64
	// LogWindow is the most blocks one eth_getLogs asks for (default 2000).
	LogWindow uint64
	// MaxDeliver is how many times an item is tried before it is dead-lettered (default 8).
	MaxDeliver int
	// RetryBase is the first retry delay, doubled per try up to 5 minutes (default 2s).
	RetryBase time.Duration
	// StatusRecheck is the pause between re-provings of the status of the EVM city's records on Dest
	// (default 10 minutes; negative: never).
	StatusRecheck time.Duration
	// OnDelivered is told of each attestation the Cosmos city stored or updated (metrics, tests).
	OnDelivered func(id string, status didtypes.AttestationStatus, evmHeight uint64, txHeight int64)
	// OnFailed is told of each failed attempt: reason is "transient", "refused" or "dead".
	OnFailed func(reason string)
	// OnPartFailed is told when the scanner or the submitter fails (it is restarted).
	OnPartFailed func(part string, err error)
	// OnLogsMissing is told of registry logs the primary's eth_getLogs answer lacked: logs a witness
	// returned, and events a block's verified logsBloom shows that no log explains.
	OnLogsMissing func(n int)
	// OnRecheck is told of each status recheck: the records re-proven and the changes found (each
	// published as work).
	OnRecheck func(checked, changed int)
}

var abi = contracts.NewCityAttestationRegistry()

// Event topics of the registry.
var (
	issuedTopic        = abiEventID("Issued")
	statusChangedTopic = abiEventID("StatusChanged")
)

func abiEventID(name string) common.Hash {
	parsed, err := contracts.CityAttestationRegistryMetaData.ParseABI()
	if err != nil {
		panic(fmt.Sprintf("registry ABI: %v", err)) // the ABI is compiled in
	}
	return parsed.Events[name].ID
}

// Run scans and submits until ctx ends; a failing part is restarted with backoff.
func (b *Bridge) Run(ctx context.Context) error {
	b.defaults()
	b.Log = b.Log.With().Str("city", b.City).Str("chain", b.Dest.ChainID()).Str("client", b.Client).Logger()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return b.supervise(gctx, "evm scanner "+b.City, b.scan) })
	g.Go(func() error { return b.supervise(gctx, "evm submitter "+b.City+"→"+b.Dest.ChainID(), b.submit) })
	if b.StatusRecheck > 0 {
		g.Go(func() error {
			return b.supervise(gctx, "evm status recheck "+b.City+"→"+b.Dest.ChainID(), b.recheckEvery)
		})
	}
	return g.Wait()
}

func (b *Bridge) defaults() {
	if b.Poll <= 0 {
		b.Poll = 500 * time.Millisecond
	}
	if b.StartBlock == 0 {
		b.StartBlock = 1
	}
	if b.LogWindow == 0 {
		b.LogWindow = 2000
	}
	if b.MaxDeliver <= 0 {
		b.MaxDeliver = packets.DefaultMaxDeliver
	}
	if b.RetryBase <= 0 {
		b.RetryBase = packets.DefaultRetryBase
	}
	if b.StatusRecheck == 0 {
		b.StatusRecheck = 10 * time.Minute
	}
}

func (b *Bridge) supervise(ctx context.Context, part string, run func(context.Context) error) error {
	return packets.Supervise(ctx, b.Log, part, run, b.OnPartFailed)
}

// cursorKey is the scanner's cursor in the cursors bucket.
func (b *Bridge) cursorKey() string {
	return "evm." + sanitize(b.City) + "." + sanitize(b.Dest.ChainID()) + "." + sanitize(b.Client)
}

func sanitize(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			out[i] = '_'
		}
	}
	return string(out)
}

// scan publishes a work item per registry event, in verified blocks only, and moves its cursor after
// each published window (a restart re-publishes at most one window; JetStream drops the duplicates).
// The events of a window are the union of the primary's and the witnesses' answers, checked against
// the verified logsBlooms of its blocks (windowLogs).
func (b *Bridge) scan(ctx context.Context) error {
	kv, err := b.JS.KeyValue(ctx, packets.CursorBucket)
	if err != nil {
		return fmt.Errorf("cursor bucket: %w", err)
	}
	next := b.StartBlock
	if e, err := kv.Get(ctx, b.cursorKey()); err == nil {
		done, perr := strconv.ParseUint(string(e.Value()), 10, 64)
		if perr != nil {
			return fmt.Errorf("cursor %s: %q: %w", b.cursorKey(), e.Value(), perr)
		}
		next = done + 1
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("cursor %s: %w", b.cursorKey(), err)
	}
	b.Log.Info().Uint64("from_block", next).Msg("evm scanner started")
	for {
		vh, err := b.Source.Latest(ctx)
		if err != nil {
			b.onVerifyError(ctx, err)
			return fmt.Errorf("verify latest header of %s: %w", b.City, err)
		}
		var blooms map[uint64]types.Bloom
		if next <= vh.Height {
			if blooms, err = b.Source.RegistryBlooms(ctx, vh, next); err != nil {
				return fmt.Errorf("logsBlooms of blocks %d..%d of %s: %w", next, vh.Height, b.City, err)
			}
		}
		for next <= vh.Height {
			to := min(next+b.LogWindow-1, vh.Height)
			logs, err := b.windowLogs(ctx, next, to, blooms)
			if err != nil {
				return fmt.Errorf("registry events %d..%d of %s: %w", next, to, b.City, err)
			}
			for i := range logs {
				if err := b.publish(ctx, &logs[i]); err != nil {
					return err
				}
			}
			if _, err := kv.Put(ctx, b.cursorKey(), []byte(strconv.FormatUint(to, 10))); err != nil {
				return fmt.Errorf("cursor %s: %w", b.cursorKey(), err)
			}
			next = to + 1
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(b.Poll):
		}
	}
}

// registryTopics is the scanner's log filter: the registry's two events.
var registryTopics = [][]common.Hash{{issuedTopic, statusChangedTopic}}

// windowLogs are the registry's events in blocks from..to: the union of the primary's answer and the
// witnesses'. A block whose verified logsBloom shows the registry's address and an event's topic must
// have a log of that event whose id is in the bloom too; when the primary's answer has none, its
// answer is not taken as complete: the witnesses' answers must be had (ErrLogsWithheld when no witness
// answers, retried). What no node returns although a bloom shows it (a bloom's false positive, or
// every node withholding it) is logged and counted: the status recheck re-proves every record anyway.
// The bloom cannot show a second log of one event in a block; the witnesses' union can.
func (b *Bridge) windowLogs(ctx context.Context, from, to uint64, blooms map[uint64]types.Bloom) ([]types.Log, error) {
	primary, err := b.Source.Logs(ctx, from, to, registryTopics)
	if err != nil {
		return nil, err
	}
	gaps := bloomGaps(blooms, from, to, primary)
	if len(gaps) > 0 {
		b.Log.Warn().Uint64("from_block", from).Uint64("to_block", to).Strs("missing", gaps).
			Msg("the EVM primary's eth_getLogs answer lacks registry events the verified headers' logsBloom shows: not taken as complete; asking the witnesses")
	}
	witnessed, answered, err := b.Source.WitnessLogs(ctx, from, to, registryTopics)
	if err != nil {
		if len(gaps) > 0 {
			b.logsMissing(len(gaps))
			return nil, fmt.Errorf("%w: %v: %w", ErrLogsWithheld, gaps, err)
		}
		b.Log.Warn().Err(err).Uint64("from_block", from).Uint64("to_block", to).
			Msg("no witness answered for registry events; the primary's answer, which the logsBloom does not contradict, is used")
		return primary, nil
	}
	all := chains.UnionLogs(primary, witnessed)
	extra := len(all) - len(chains.UnionLogs(primary))
	still := bloomGaps(blooms, from, to, all)
	b.logsMissing(extra + len(still))
	if extra > 0 {
		b.Log.Warn().Uint64("from_block", from).Uint64("to_block", to).Int("logs", extra).Int("witnesses", answered).
			Msg("witnesses returned registry events the EVM primary did not: relayed from their answers")
	}
	if len(still) > 0 {
		ev := b.Log.Warn().Uint64("from_block", from).Uint64("to_block", to).Strs("missing", still)
		if answered == 0 {
			ev.Msg("registry events the logsBloom shows are missing and no witness is configured to ask: the status recheck covers status changes; an issue is not recovered (configure witnesses)")
		} else {
			ev.Int("witnesses", answered).Msg("registry events the logsBloom shows were returned by no node (a bloom's false positive, or every node withholds them)")
		}
	}
	return all, nil
}

func (b *Bridge) logsMissing(n int) {
	if n > 0 && b.OnLogsMissing != nil {
		b.OnLogsMissing(n)
	}
}

// bloomGaps lists, as "block:event", the registry events that blocks' logsBlooms show in from..to
// and that no log of logs explains: a log of the event in that block whose id (topic 1) the bloom
// holds too, so that a forged log with a made-up id does not cover a withheld one.
func bloomGaps(blooms map[uint64]types.Bloom, from, to uint64, logs []types.Log) []string {
	var gaps []string
	heights := make([]uint64, 0, len(blooms))
	for h := range blooms {
		if h >= from && h <= to {
			heights = append(heights, h)
		}
	}
	slices.Sort(heights)
	byBlock := map[uint64][]*types.Log{}
	for i := range logs {
		byBlock[logs[i].BlockNumber] = append(byBlock[logs[i].BlockNumber], &logs[i])
	}
	for _, h := range heights {
		bloom := blooms[h]
		for _, ev := range []struct {
			name  string
			topic common.Hash
		}{{"Issued", issuedTopic}, {"StatusChanged", statusChangedTopic}} {
			if !types.BloomLookup(bloom, ev.topic) {
				continue
			}
			explained := slices.ContainsFunc(byBlock[h], func(l *types.Log) bool {
				return len(l.Topics) > 1 && l.Topics[0] == ev.topic && types.BloomLookup(bloom, l.Topics[1])
			})
			if !explained {
				gaps = append(gaps, fmt.Sprintf("%d:%s", h, ev.name))
			}
		}
	}
	return gaps
}

// publish turns a registry event into a work item. An event that does not decode is logged and
// skipped: it cannot be the registry's (whose code the client pins), and nothing relies on events.
func (b *Bridge) publish(ctx context.Context, l *types.Log) error {
	w := &packets.EvmWork{City: b.City, To: b.Dest.ChainID(), Client: b.Client, Block: l.BlockNumber, ObservedUnixNano: time.Now().UnixNano()}
	switch l.Topics[0] {
	case issuedTopic:
		ev, err := abi.UnpackIssuedEvent(l)
		if err != nil {
			b.Log.Warn().Err(err).Uint64("block", l.BlockNumber).Msg("undecodable Issued event skipped")
			return nil
		}
		w.ID = contracts.IDHex(ev.Id)
	case statusChangedTopic:
		ev, err := abi.UnpackStatusChangedEvent(l)
		if err != nil {
			b.Log.Warn().Err(err).Uint64("block", l.BlockNumber).Msg("undecodable StatusChanged event skipped")
			return nil
		}
		w.ID, w.StatusSeq = contracts.IDHex(ev.Id), ev.IssuerSeq
	default:
		return nil
	}
	if err := b.publishWork(ctx, w); err != nil {
		return err
	}
	b.Log.Debug().Str("id", w.ID).Uint64("block", w.Block).Uint64("status_seq", w.StatusSeq).Msg("evm attestation work published")
	return nil
}

// submit delivers the work items of this city's client on Dest, one at a time.
func (b *Bridge) submit(ctx context.Context) error {
	cons, err := b.JS.CreateOrUpdateConsumer(ctx, packets.WorkStream, jetstream.ConsumerConfig{
		Durable:       packets.EvmConsumerName(b.Dest.ChainID(), b.Client),
		FilterSubject: packets.EvmWorkSubject(b.Dest.ChainID(), b.Client),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       time.Minute,
		MaxAckPending: 1000,
	})
	if err != nil {
		return fmt.Errorf("evm consumer for %s on %s: %w", b.Client, b.Dest.ChainID(), err)
	}
	b.Log.Info().Msg("evm submitter started")
	for ctx.Err() == nil {
		batch, err := cons.Fetch(20, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch evm work: %w", err)
		}
		for m := range batch.Messages() {
			b.handle(context.WithoutCancel(ctx), m)
		}
	}
	return nil
}

func (b *Bridge) handle(ctx context.Context, m jetstream.Msg) {
	w, err := packets.DecodeEvm(m.Data())
	if err != nil {
		b.dead(ctx, m, nil, err)
		return
	}
	log := b.Log.With().Str("id", w.ID).Uint64("status_seq", w.StatusSeq).Logger()
	res, height, err := b.Deliver(ctx, w)
	if err == nil {
		_ = m.DoubleAck(ctx)
		log.Info().Str("status", res.status.String()).Uint64("evm_height", res.proofHeight).Int64("height", height).Bool("updated", res.updated).
			Msg("evm attestation delivered")
		if b.OnDelivered != nil && res.updated {
			b.OnDelivered(w.ID, res.status, res.proofHeight, height)
		}
		return
	}
	b.settler(log).Retry(ctx, m, b.item(w), err, failureReason(err) == "refused")
}

// failureReason says how a failed delivery is retried: "refused" when it would fail again as it is (a
// chain's refusal, an event the storage contradicts, no Issued event, a submission alone too large for
// one tx): dead-lettered after MaxDeliver tries; "transient" otherwise (a node down): retried without
// a limit.
func failureReason(err error) string {
	var txErr *chains.TxError
	if errors.As(err, &txErr) || errors.Is(err, ErrEventMismatch) || errors.Is(err, ErrNoIssue) || errors.Is(err, chains.ErrTxTooLarge) {
		return "refused"
	}
	return "transient"
}

// dead sends a work item that cannot be delivered to the dead-letter subject with the reason, and
// terminates it in the work queue (packets.Settler.Dead); w is nil when the bytes are not a work item.
func (b *Bridge) dead(ctx context.Context, m jetstream.Msg, w *packets.EvmWork, reason error) {
	_ = b.settler(b.Log).Dead(ctx, m, b.item(w), reason)
}

// settler is the submitter's retry and dead-letter policy: each retry is reported to OnFailed with
// its reason ("transient" or "refused"), each dead letter as "dead".
func (b *Bridge) settler(log zerolog.Logger) *packets.Settler {
	return &packets.Settler{JS: b.JS, To: b.Dest.ChainID(), MaxDeliver: b.MaxDeliver, RetryBase: b.RetryBase, Log: log,
		BeforeRetry: func(_ packets.Item, tries uint64, delay time.Duration, err error) {
			reason := failureReason(err)
			if b.OnFailed != nil {
				b.OnFailed(reason)
			}
			log.Warn().Err(err).Str("reason", reason).Uint64("try", tries).Dur("retry_in", delay).Msg("evm attestation not delivered; retrying")
		},
		OnDead: func(packets.Item, error) {
			if b.OnFailed != nil {
				b.OnFailed("dead")
			}
		},
	}
}

// item names w for the settler: its dead letters go to cityrelay.dead.<chain>.evm-<city>.
func (b *Bridge) item(w *packets.EvmWork) packets.Item {
	it := packets.Item{Path: "evm-" + b.City, Kind: packets.KindEvmAttestation}
	if w != nil {
		it.ID = w.MsgID()
	}
	return it
}

// result is what a delivery did.
type result struct {
	status      didtypes.AttestationStatus
	proofHeight uint64
	updated     bool
}

// Prepared is a delivery ready to send: the client update (when the client is behind the proof's
// header) and the submission, proven and checked.
type Prepared struct {
	Msgs        []sdk.Msg
	Submit      *didtypes.MsgSubmitEvmAttestation
	ProofHeight uint64
	Status      didtypes.AttestationStatus
}

// Prepare proves the attestation of w from the registry at the newest verified header (or at the
// client's height when another instance moved the client past this light client) and builds the
// messages, checking the proofs and the event against each other before any gas is spent.
func (b *Bridge) Prepare(ctx context.Context, w *packets.EvmWork) (*Prepared, error) {
	b.defaults()
	id, err := contracts.ParseID(w.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEventMismatch, err)
	}
	vh, err := b.Source.Latest(ctx)
	if err != nil {
		b.onVerifyError(ctx, err)
		return nil, fmt.Errorf("verify latest header of %s: %w", b.City, err)
	}
	if vh.Height < w.Block {
		return nil, fmt.Errorf("%w: block %d, verified %d", ErrNotYet, w.Block, vh.Height)
	}
	trusted, err := b.clientHeight(ctx)
	if err != nil {
		return nil, err
	}
	if vh.Height < trusted {
		// The client is ahead of this light client (another instance updated it): prove at the
		// client's height, which this light client verifies first.
		if vh, err = b.Source.VerifiedHeader(ctx, trusted); err != nil {
			return nil, fmt.Errorf("verify block %d of %s (the client's height): %w", trusted, b.City, err)
		}
	}
	issued, err := b.findIssued(ctx, id, vh.Height)
	if errors.Is(err, ErrNoIssue) {
		// No node returned the Issued event (withheld?): a record Dest holds has the same fields, and
		// they are checked against the proven issued[id] just the same.
		if rec, rerr := b.issuedFromRecord(ctx, id); rerr == nil {
			issued, err = rec, nil
		}
	}
	if err != nil {
		return nil, err
	}
	rp, err := b.Source.RegistryProof(ctx, vh, []common.Hash{contracts.IssuedSlot(id), contracts.StatusSlot(id)})
	if err != nil {
		return nil, fmt.Errorf("prove %s at block %d of %s: %w", w.ID, vh.Height, b.City, err)
	}
	msg, err := b.buildSubmit(ctx, issued, rp)
	if err != nil {
		return nil, err
	}
	word, err := contracts.DecodeStatusWord(rp.Slots[1].Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEventMismatch, err)
	}
	p := &Prepared{Submit: msg, ProofHeight: vh.Height, Status: didtypes.AttestationStatus(word.Status)}
	if vh.Height > trusted {
		update, err := b.buildUpdate(ctx, vh, rp, trusted)
		if err != nil {
			return nil, err
		}
		p.Msgs = append(p.Msgs, update)
	}
	p.Msgs = append(p.Msgs, msg)
	return p, nil
}

// Deliver prepares w and sends it to Dest in one tx. It returns what was delivered and the tx height.
func (b *Bridge) Deliver(ctx context.Context, w *packets.EvmWork) (*result, int64, error) {
	p, err := b.Prepare(ctx, w)
	if err != nil {
		return nil, 0, err
	}
	res, err := b.Dest.Send(ctx, p.Msgs...)
	if err != nil {
		return nil, 0, fmt.Errorf("submit %s to %s: %w", w.ID, b.Dest.ChainID(), err)
	}
	return &result{status: p.Status, proofHeight: p.ProofHeight, updated: submitUpdated(res)}, res.Height, nil
}

// submitUpdated reads MsgSubmitEvmAttestationResponse.updated from the tx's events: the keeper emits
// did_evm_attestation only when it wrote.
func submitUpdated(res *chains.TxResult) bool {
	for _, e := range res.Events {
		if e.Type == "did_evm_attestation" {
			return true
		}
	}
	return false
}

// clientHeight is the city-qbft client's latest height on Dest. It is read without proof: a lying
// Cosmos node can only make the update or the submission fail, never make Dest accept anything.
func (b *Bridge) clientHeight(ctx context.Context) (uint64, error) {
	typeURL, value, err := b.Dest.ClientState(ctx, b.Client)
	if err != nil {
		return 0, fmt.Errorf("client %s on %s: %w", b.Client, b.Dest.ChainID(), err)
	}
	var cs qbftclient.ClientState
	if typeURL != "/"+proto.MessageName(&cs) {
		return 0, fmt.Errorf("client %s on %s is not a %s client", b.Client, b.Dest.ChainID(), qbftclient.ClientType)
	}
	if err := proto.Unmarshal(value, &cs); err != nil {
		return 0, fmt.Errorf("client %s on %s: %w", b.Client, b.Dest.ChainID(), err)
	}
	if cs.FrozenHeight != 0 {
		return 0, fmt.Errorf("%w: client %s on %s (misbehaviour of %s's validators was proven)", ErrClientFrozen, b.Client, b.Dest.ChainID(), b.City)
	}
	return cs.LatestHeight, nil
}

// findIssued finds the attestation's Issued event at or below block upTo, newest window first, in
// the primary's answers and, when the primary's window has none, the witnesses'.
func (b *Bridge) findIssued(ctx context.Context, id [32]byte, upTo uint64) (*contracts.CityAttestationRegistryIssued, error) {
	filter := [][]common.Hash{{issuedTopic}, {common.Hash(id)}}
	find := func(logs []types.Log) *contracts.CityAttestationRegistryIssued {
		for i := range logs {
			if ev, err := abi.UnpackIssuedEvent(&logs[i]); err == nil && ev.Id == id {
				return ev
			}
		}
		return nil
	}
	for to := upTo; ; {
		from := uint64(1)
		if to > b.LogWindow {
			from = to - b.LogWindow + 1
		}
		logs, err := b.Source.Logs(ctx, from, to, filter)
		if err != nil {
			return nil, fmt.Errorf("find the issue of %x on %s: %w", id, b.City, err)
		}
		if ev := find(logs); ev != nil {
			return ev, nil
		}
		if witnessed, _, err := b.Source.WitnessLogs(ctx, from, to, filter); err == nil {
			if ev := find(witnessed); ev != nil {
				b.logsMissing(1)
				b.Log.Warn().Str("id", contracts.IDHex(id)).Uint64("block", ev.IssuedBlock).Msg("a witness returned the Issued event the EVM primary did not")
				return ev, nil
			}
		}
		if from == 1 {
			return nil, fmt.Errorf("%w: %x on %s", ErrNoIssue, id, b.City)
		}
		to = from - 1
	}
}

// issuedFromRecord is the Issued event as Dest's record of the attestation holds its fields (an
// unproven read: buildSubmit checks the fields against the proven issued[id] commitment).
func (b *Bridge) issuedFromRecord(ctx context.Context, id [32]byte) (*contracts.CityAttestationRegistryIssued, error) {
	res, err := b.Dest.ABCIQuery(ctx, "/store/"+didtypes.StoreKey+"/key", didtypes.ForeignAttestationKey(b.City, contracts.IDHex(id)), 0, false)
	if err != nil {
		return nil, fmt.Errorf("record of %x on %s: %w", id, b.Dest.ChainID(), err)
	}
	if len(res.Value) == 0 {
		return nil, fmt.Errorf("%w: %x on %s: no record either", ErrNoIssue, id, b.Dest.ChainID())
	}
	var f didtypes.ForeignAttestation
	if err := proto.Unmarshal(res.Value, &f); err != nil {
		return nil, fmt.Errorf("%w: record of %x on %s: %v", ErrBadRecord, id, b.Dest.ChainID(), err)
	}
	a := &f.Attestation
	if a.IssuedHeight <= 0 {
		return nil, fmt.Errorf("%w: record of %x on %s: issued height %d", ErrBadRecord, id, b.Dest.ChainID(), a.IssuedHeight)
	}
	return &contracts.CityAttestationRegistryIssued{Id: id, IssuerDid: a.IssuerDid, IssuerMethod: a.IssuerMethod, SubjectDid: a.SubjectDid,
		CredentialType: a.CredentialType, Digest: a.Digest, ValidFrom: a.ValidFrom, ValidUntil: a.ValidUntil, IssuerSeq: a.IssuerSeq,
		Signature: a.Signature, IssuedBlock: uint64(a.IssuedHeight)}, nil
}

// buildSubmit builds MsgSubmitEvmAttestation from the Issued event and the proven slots, after
// checking that they agree (the registry's commitment binds the signer and the issue block), so a
// lying node costs no gas.
func (b *Bridge) buildSubmit(ctx context.Context, ev *contracts.CityAttestationRegistryIssued, rp *chains.RegistryProof) (*didtypes.MsgSubmitEvmAttestation, error) {
	if len(rp.Slots) != 2 {
		return nil, fmt.Errorf("registry proof has %d slots, want 2", len(rp.Slots))
	}
	signBytes := didtypes.AttestationSignBytes(b.City, ev.IssuerDid, ev.IssuerMethod, ev.SubjectDid, ev.CredentialType, ev.Digest,
		ev.ValidFrom, ev.ValidUntil, ev.IssuerSeq)
	id := contracts.AttestationID(signBytes)
	if id != ev.Id {
		return nil, fmt.Errorf("%w: the Issued event's fields hash to %x, not its id %x", ErrEventMismatch, id, ev.Id)
	}
	signer, err := contracts.RecoverSigner(id, ev.Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature of %x: %v", ErrEventMismatch, id, err)
	}
	if want := contracts.IssuedCommitment(id, signer, ev.IssuedBlock); common.Hash(want) != rp.Slots[0].Value {
		return nil, fmt.Errorf("%w: issued[%x] is %s at block %d, the event implies %x", ErrEventMismatch, id, rp.Slots[0].Value, rp.Height, want)
	}
	submitter, err := b.Dest.Address(ctx)
	if err != nil {
		return nil, err
	}
	word := rp.Slots[1].Value
	return &didtypes.MsgSubmitEvmAttestation{
		Submitter: submitter, ClientId: b.Client, ProofHeight: rp.Height,
		IssuerDid: ev.IssuerDid, IssuerMethod: ev.IssuerMethod, SubjectDid: ev.SubjectDid, CredentialType: ev.CredentialType,
		Digest: ev.Digest, ValidFrom: ev.ValidFrom, ValidUntil: ev.ValidUntil, IssuerSeq: ev.IssuerSeq, Signature: ev.Signature,
		IssuedBlock: ev.IssuedBlock, StatusWord: word.Bytes(), IssuedProof: rp.Slots[0].Proof, StatusProof: rp.Slots[1].Proof,
	}, nil
}

// buildUpdate is the MsgUpdateClient moving the city-qbft client from trusted to vh.
func (b *Bridge) buildUpdate(ctx context.Context, vh *chains.EvmHeader, rp *chains.RegistryProof, trusted uint64) (sdk.Msg, error) {
	signer, err := b.Dest.Address(ctx)
	if err != nil {
		return nil, err
	}
	header, err := codectypes.NewAnyWithValue(&qbftclient.Header{HeaderRlp: vh.RLP, AccountProof: rp.AccountProof, TrustedHeight: trusted})
	if err != nil {
		return nil, err
	}
	return &clienttypes.MsgUpdateClient{ClientId: b.Client, ClientMessage: header, Signer: signer}, nil
}

// onVerifyError reports a fork the light client found (a witness serving another sealed header at a
// verified height) to Dest as misbehaviour, which freezes the city-qbft client there.
func (b *Bridge) onVerifyError(ctx context.Context, err error) {
	var fe *chains.EvmForkError
	if !errors.As(err, &fe) {
		return
	}
	b.Log.Error().Uint64("height", fe.Height).Str("witness", fe.Witness).Msg("fork of the EVM city detected: two headers sealed at one height")
	if err := b.ReportFork(ctx, fe); err != nil {
		b.Log.Error().Err(err).Uint64("height", fe.Height).Msg("misbehaviour not submitted")
	}
}

// forkAncestry returns the ancestors (blocks trusted+1 .. fe.Height-1) of both headers of a fork, which
// the city-qbft client needs to accept them as misbehaviour of its chain (the validators' keys may seal
// other chains too). The witness that served the conflicting header is asked for its blocks below it;
// when the primary's header links to them as well (two blocks sealed on one parent) they serve both,
// else the primary's side is its verified headers. Nothing needs trusting here: the client checks
// every link down to a block it trusts.
func (b *Bridge) forkAncestry(ctx context.Context, fe *chains.EvmForkError, trusted uint64) (primary, conflicting [][]byte, err error) {
	if fe.Height == trusted+1 {
		return nil, nil, nil
	}
	if conflicting, err = witnessHeaders(ctx, fe.Witness, trusted+1, fe.Height-1); err != nil {
		return nil, nil, fmt.Errorf("ancestors of the conflicting header at %d: %w", fe.Height, err)
	}
	parent, err := qbft.ParentHash(fe.Primary)
	if err != nil {
		return nil, nil, fmt.Errorf("primary header at %d: %w", fe.Height, err)
	}
	if qbft.Links(conflicting[len(conflicting)-1], parent) {
		return conflicting, conflicting, nil
	}
	for n := trusted + 1; n < fe.Height; n++ {
		vh, err := b.Source.VerifiedHeader(ctx, n)
		if err != nil {
			return nil, nil, fmt.Errorf("ancestor %d of the fork at %d: %w", n, fe.Height, err)
		}
		primary = append(primary, vh.RLP)
	}
	return primary, conflicting, nil
}

// ErrForkNotReportable: the fork is at or below the client's latest height, so no trusted consensus
// state below it is known to verify both headers from.
var ErrForkNotReportable = errors.New("fork not reportable as misbehaviour")

// ReportFork submits the two conflicting headers of fe to Dest as the city-qbft client's
// Misbehaviour, verified from the client's latest consensus state; the client freezes and proves
// nothing from then on. A client already frozen is left as it is.
func (b *Bridge) ReportFork(ctx context.Context, fe *chains.EvmForkError) error {
	trusted, err := b.clientHeight(ctx)
	if errors.Is(err, ErrClientFrozen) {
		return nil
	}
	if err != nil {
		return err
	}
	if fe.Height <= trusted {
		return fmt.Errorf("%w: fork at %d, client %s at %d", ErrForkNotReportable, fe.Height, b.Client, trusted)
	}
	if gap := fe.Height - trusted - 1; gap > qbftclient.MaxAncestors {
		return fmt.Errorf("%w: fork at %d is %d blocks above the client's %d, more ancestors than a misbehaviour carries (%d)",
			ErrForkNotReportable, fe.Height, gap, trusted, qbftclient.MaxAncestors)
	}
	primary, conflicting, err := b.forkAncestry(ctx, fe, trusted)
	if err != nil {
		return err
	}
	signer, err := b.Dest.Address(ctx)
	if err != nil {
		return err
	}
	mb, err := codectypes.NewAnyWithValue(&qbftclient.Misbehaviour{
		Header_1: &qbftclient.Header{HeaderRlp: fe.Primary, TrustedHeight: trusted, Ancestors: primary},
		Header_2: &qbftclient.Header{HeaderRlp: fe.Conflicting, TrustedHeight: trusted, Ancestors: conflicting},
	})
	if err != nil {
		return err
	}
	res, err := b.Dest.Send(ctx, &clienttypes.MsgUpdateClient{ClientId: b.Client, ClientMessage: mb, Signer: signer})
	if err != nil {
		return fmt.Errorf("submit misbehaviour of %s to %s: %w", b.City, b.Dest.ChainID(), err)
	}
	b.Log.Warn().Str("tx", res.Hash).Int64("height", res.Height).Uint64("fork_height", fe.Height).
		Uint64("trusted_height", trusted).Int("ancestors", len(primary)).
		Msg("misbehaviour submitted: the city-qbft client is frozen until the city's registry admin registers a new client")
	return nil
}
