package packets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Retry defaults of the submitters.
const (
	// DefaultMaxDeliver is how many deliveries of an item that fails deterministically are made before
	// it is dead-lettered.
	DefaultMaxDeliver = 8
	// DefaultRetryBase is the first retry delay.
	DefaultRetryBase = 2 * time.Second
	// MaxBackoff caps the retry backoff.
	MaxBackoff = 5 * time.Minute
)

// ErrTerminal marks work that retrying cannot deliver; it goes to the dead-letter subject.
var ErrTerminal = errors.New("terminal")

// ErrDeadLetter is returned when a dead letter could not be published (the item is handed back).
var ErrDeadLetter = errors.New("dead-letter publish failed")

// Backoff is the retry delay of the n-th delivery of an item: base doubled per earlier try, at most
// MaxBackoff.
func Backoff(base time.Duration, n uint64) time.Duration {
	d := base
	for i := uint64(1); i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Deliveries is how many times JetStream delivered m (1 when its metadata cannot be read).
func Deliveries(m jetstream.Msg) uint64 {
	if md, err := m.Metadata(); err == nil && md != nil {
		return md.NumDelivered
	}
	return 1
}

// Publisher publishes a message to a stream (jetstream.JetStream is one).
type Publisher interface {
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// Item names a work item for the dead-letter subject, the log and the hooks of a Settler.
type Item struct {
	// Path is the dead-letter subject's second token ("unknown" when the bytes are not a work item).
	Path string
	// Kind is the work's kind (for the hooks).
	Kind string
	// ID is the work's de-duplication id ("" when the bytes are not a work item).
	ID string
}

// Settler hands back, or dead-letters, the work items of one destination chain whose delivery failed:
// the one retry and dead-letter policy of every submitter (IBC packets and EVM attestations alike).
//
//   - Retry hands an item back with exponential backoff (Backoff(RetryBase, deliveries)). An item whose
//     failure is deterministic (it would fail again as it is: a chain's refusal, a height never
//     verified) is dead-lettered once it has been delivered MaxDeliver times, with a reason wrapping
//     ErrTerminal that says how often it failed; a transient failure (a node down) is retried without
//     a limit.
//   - Dead publishes the item's bytes to DeadSubject(To, Path) with the reason in ReasonHeader and
//     terminates it in the work queue. When the dead letter cannot be published the item is handed back
//     after Requeue, so nothing is lost.
type Settler struct {
	JS Publisher
	// To is the chain the work goes to.
	To string
	// MaxDeliver: see Retry (default DefaultMaxDeliver).
	MaxDeliver int
	// RetryBase is the first retry delay, doubled per further delivery up to MaxBackoff (default
	// DefaultRetryBase).
	RetryBase time.Duration
	// Requeue is the pause before an item whose dead letter could not be published is offered again
	// (default RetryBase).
	Requeue time.Duration
	Log     zerolog.Logger
	// BeforeRetry (optional) is told of an item about to be handed back: its deliveries and the delay.
	BeforeRetry func(it Item, tries uint64, delay time.Duration, err error)
	// BeforeDead (optional) is told of an item about to be dead-lettered, before the dead letter is
	// published (and whether or not it can be).
	BeforeDead func(it Item, reason error)
	// OnDead (optional) is told of an item dead-lettered (its dead letter published).
	OnDead func(it Item, reason error)
}

// Verdict is what Retry did with an item.
type Verdict struct {
	// Tries is how many times the item was delivered.
	Tries uint64
	// Dead: dead-lettered (its failure deterministic, MaxDeliver deliveries made); else handed back
	// after Delay.
	Dead  bool
	Delay time.Duration
}

func (s *Settler) maxDeliver() uint64 {
	if s.MaxDeliver <= 0 {
		return DefaultMaxDeliver
	}
	return uint64(s.MaxDeliver)
}

func (s *Settler) retryBase() time.Duration {
	if s.RetryBase <= 0 {
		return DefaultRetryBase
	}
	return s.RetryBase
}

// Retry hands m back with backoff, or dead-letters it: see Settler. deterministic says whether err
// would recur if the item were tried again as it is.
func (s *Settler) Retry(ctx context.Context, m jetstream.Msg, it Item, err error, deterministic bool) Verdict {
	n := Deliveries(m)
	if deterministic && n >= s.maxDeliver() {
		_ = s.Dead(ctx, m, it, fmt.Errorf("%w: failed %d times, last: %v", ErrTerminal, n, err))
		return Verdict{Tries: n, Dead: true}
	}
	d := Backoff(s.retryBase(), n)
	if s.BeforeRetry != nil {
		s.BeforeRetry(it, n, d, err)
	}
	_ = m.NakWithDelay(d)
	return Verdict{Tries: n, Delay: d}
}

// Dead sends m to the dead-letter subject with reason and terminates it in the work queue. When the
// dead letter cannot be published, m is handed back after Requeue and the error (wrapping
// ErrDeadLetter) returned.
func (s *Settler) Dead(ctx context.Context, m jetstream.Msg, it Item, reason error) error {
	if s.BeforeDead != nil {
		s.BeforeDead(it, reason)
	}
	msg := nats.NewMsg(DeadSubject(s.To, it.Path))
	msg.Data = m.Data()
	msg.Header.Set(ReasonHeader, reason.Error())
	if _, err := s.JS.PublishMsg(ctx, msg); err != nil {
		s.Log.Error().Err(err).Str("path", it.Path).Str("work", it.ID).Msg("dead-letter publish failed; leaving the item for redelivery")
		requeue := s.Requeue
		if requeue <= 0 {
			requeue = s.retryBase()
		}
		_ = m.NakWithDelay(requeue)
		return fmt.Errorf("%w: %s: %w", ErrDeadLetter, msg.Subject, err)
	}
	s.Log.Error().Str("path", it.Path).Str("work", it.ID).Str("reason", reason.Error()).Msg("work item dead-lettered")
	if s.OnDead != nil {
		s.OnDead(it, reason)
	}
	_ = m.Term()
	return nil
}
