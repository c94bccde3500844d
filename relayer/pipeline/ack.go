package pipeline

import (
	"context"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// ackAll double-acknowledges msgs, several at a time (each waits for the server's confirmation);
// it returns the error of each message (nil when acknowledged).
func ackAll(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	sem := make(chan struct{}, ackParallel)
	var wg sync.WaitGroup
	for i, m := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = m.DoubleAck(ctx)
		}()
	}
	wg.Wait()
	return errs
}

const ackParallel = 64
