package packets

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ReasonHeader carries, on a dead letter, why the work could not be delivered.
const ReasonHeader = "Cityrelay-Reason"

// Dead is a dead-lettered work item.
type Dead struct {
	Seq     uint64
	Subject string
	Reason  string
	// Work is the item, nil when its bytes are not a work item (it cannot be re-queued).
	Work *Work
	Data []byte
}

// DeadLetters lists the dead-letter stream, oldest first, at most limit items (0: all).
func DeadLetters(ctx context.Context, js jetstream.JetStream, limit int) ([]Dead, error) {
	s, err := js.Stream(ctx, DeadStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", DeadStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", DeadStream, err)
	}
	var out []Dead
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		if limit > 0 && len(out) >= limit {
			break
		}
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // retried or aged out
		}
		if err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", seq, err)
		}
		d := Dead{Seq: seq, Subject: m.Subject, Reason: m.Header.Get(ReasonHeader), Data: m.Data}
		if w, err := Decode(m.Data); err == nil {
			d.Work = w
		}
		out = append(out, d)
	}
	return out, nil
}

// ErrNotRequeueable is returned for a dead letter whose bytes are not a work item.
var ErrNotRequeueable = errors.New("dead letter is not a work item")

// Requeue publishes dead letter seq back to the work queue, under a fresh de-duplication id (the
// original id may still be inside the window), and removes it from the dead letters. Delivering work
// that is already done is harmless: the submitter proves it done and acknowledges it.
func Requeue(ctx context.Context, js jetstream.JetStream, seq uint64) (*Work, error) {
	s, err := js.Stream(ctx, DeadStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", DeadStream, err)
	}
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: %w", seq, err)
	}
	w, err := Decode(m.Data)
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: %w: %v", seq, ErrNotRequeueable, err)
	}
	if _, err := js.Publish(ctx, w.Subject(), m.Data, jetstream.WithMsgID(fmt.Sprintf("%s/retry/%d", w.MsgID(), seq))); err != nil {
		return nil, fmt.Errorf("requeue dead letter %d: %w", seq, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return w, fmt.Errorf("requeued dead letter %d but could not remove it: %w", seq, err)
	}
	return w, nil
}
