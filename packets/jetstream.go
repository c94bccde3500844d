package packets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of the JetStream resources.
const (
	WorkStream    = "CITYRELAY_WORK"
	DeadStream    = "CITYRELAY_DEAD"
	CursorBucket  = "cityrelay_cursors"
	PacketBucket  = "cityrelay_packets"
	deadSubjects  = "cityrelay.dead.>"
	workSubjects  = "cityrelay.work.>"
	defaultWindow = 10 * time.Minute
	// lifecycleTTL is how long a work item's lifecycle record is kept: memory and disk stay bounded
	// whatever the number of packets relayed.
	lifecycleTTL = time.Hour
)

// DeadSubject is where terminally failed work goes, with the reason in a header.
func DeadSubject(to, path string) string { return "cityrelay.dead." + token(to) + "." + token(path) }

// Limits of the streams: the work queue refuses new work when full (publishers retry, scanners keep
// their cursors: nothing is dropped), dead letters and lifecycle records age out.
const (
	workMaxBytes    = 1 << 30
	deadMaxBytes    = 256 << 20
	deadMaxAge      = 30 * 24 * time.Hour
	lifecycleMaxGiB = 256 << 20
)

// ErrStreamMismatch is returned when an existing stream or bucket was made with settings cityrelay
// cannot work with (replicas, subjects, retention): it is reported, never overwritten.
var ErrStreamMismatch = errors.New("existing stream does not match")

// Setup creates the streams and KV buckets that are missing, with replicas copies each (what the
// server holds: see ProbeCapacity and ChooseReplicas; 0 is 1), and checks the ones present without changing them: an operator's
// tuning (limits, placement) is kept, a stream made with other replicas, subjects or retention is an
// error naming the difference. window is the de-duplication window: it must cover a relayer restart.
func Setup(ctx context.Context, js jetstream.JetStream, replicas int, window time.Duration) error {
	if window == 0 {
		window = defaultWindow
	}
	if replicas == 0 {
		replicas = 1
	}
	streams := []jetstream.StreamConfig{
		{Name: WorkStream, Subjects: []string{workSubjects}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
			Duplicates: window, Replicas: replicas, MaxBytes: workMaxBytes, Discard: jetstream.DiscardNew},
		{Name: DeadStream, Subjects: []string{deadSubjects}, Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			Replicas: replicas, MaxAge: deadMaxAge, MaxBytes: deadMaxBytes, Discard: jetstream.DiscardOld},
	}
	for _, cfg := range streams {
		if err := retryUnavailable(ctx, setupPatience, func() error { return ensureStream(ctx, js, cfg) }); err != nil {
			return err
		}
	}
	for _, kv := range []jetstream.KeyValueConfig{
		{Bucket: CursorBucket, Storage: jetstream.FileStorage, Replicas: replicas},
		{Bucket: PacketBucket, Storage: jetstream.FileStorage, Replicas: replicas, TTL: lifecycleTTL, MaxBytes: lifecycleMaxGiB},
	} {
		if err := retryUnavailable(ctx, setupPatience, func() error { return ensureBucket(ctx, js, kv) }); err != nil {
			return err
		}
	}
	return nil
}

// setupPatience is how long Setup waits for a cluster that does not answer yet (electing a meta or
// stream leader after a start or a restart) before giving up.
const setupPatience = time.Minute

// retryUnavailable runs f until it succeeds, fails for another reason than JetStream not answering
// (a request timeout, no responders), ctx ends, or patience runs out; it returns f's last error.
func retryUnavailable(ctx context.Context, patience time.Duration, f func() error) error {
	deadline := time.Now().Add(patience)
	wait := 250 * time.Millisecond
	for {
		err := f()
		unavailable := errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
			(errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil)
		if err == nil || !unavailable || !time.Now().Add(wait).Before(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
}

func ensureStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) error {
	s, err := js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if _, err := js.CreateStream(ctx, want); err != nil {
			return fmt.Errorf("create stream %s: %w", want.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", want.Name, err)
	}
	have := s.CachedInfo().Config
	switch {
	case have.Replicas != want.Replicas:
		return fmt.Errorf("%w: stream %s has %d replicas, nats.stream_replicas says %d (change one of them; cityrelay does not edit an existing stream)",
			ErrStreamMismatch, want.Name, have.Replicas, want.Replicas)
	case have.Retention != want.Retention:
		return fmt.Errorf("%w: stream %s has retention %s, want %s", ErrStreamMismatch, want.Name, have.Retention, want.Retention)
	case strings.Join(have.Subjects, ",") != strings.Join(want.Subjects, ","):
		return fmt.Errorf("%w: stream %s has subjects %v, want %v", ErrStreamMismatch, want.Name, have.Subjects, want.Subjects)
	}
	return nil
}

func ensureBucket(ctx context.Context, js jetstream.JetStream, want jetstream.KeyValueConfig) error {
	if _, err := js.KeyValue(ctx, want.Bucket); errors.Is(err, jetstream.ErrBucketNotFound) {
		if _, err := js.CreateKeyValue(ctx, want); err != nil {
			return fmt.Errorf("create kv %s: %w", want.Bucket, err)
		}
		return nil
	} else if err != nil {
		return fmt.Errorf("kv %s: %w", want.Bucket, err)
	}
	s, err := js.Stream(ctx, "KV_"+want.Bucket)
	if err != nil {
		return fmt.Errorf("kv %s: %w", want.Bucket, err)
	}
	if have := s.CachedInfo().Config.Replicas; have != want.Replicas {
		return fmt.Errorf("%w: kv %s has %d replicas, nats.stream_replicas says %d", ErrStreamMismatch, want.Bucket, have, want.Replicas)
	}
	return nil
}
