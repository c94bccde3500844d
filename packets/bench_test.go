package packets_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/packets"
)

func jsFor(b *testing.B) jetstream.JetStream {
	js, _ := jetstream.New(testnet.NATS(b))
	return js
}

// BenchmarkPipelineItem is one work item through the pipeline's path: encode, publish with its
// Nats-Msg-Id to the work queue, fetch from the durable pull consumer, decode, acknowledge.
// BenchmarkBareJetStream does the same publish/fetch/ack with the same payload size and no work
// encoding or de-duplication id: the ratio is the pipeline's own cost.
func BenchmarkPipelineItem(b *testing.B) {
	js := jsFor(b)
	ctx := context.Background()
	if err := packets.Setup(ctx, js, 1, time.Hour); err != nil {
		b.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, packets.WorkStream, jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy,
		FilterSubject: packets.WorkSubject("bucheon-1", "*", "*")})
	if err != nil {
		b.Fatal(err)
	}
	w := sample()
	w.Packet.Data = make([]byte, 600) // an attestation packet's size
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Packet.Sequence = uint64(i + 1)
		bz, err := w.Encode()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.Publish(ctx, w.Subject(), bz, jetstream.WithMsgID(w.MsgID())); err != nil {
			b.Fatal(err)
		}
		batch, err := cons.Fetch(1)
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			if _, err := packets.Decode(m.Data()); err != nil {
				b.Fatal(err)
			}
			if err := m.Ack(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkBareJetStream(b *testing.B) {
	js := jsFor(b)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BARE", Subjects: []string{"bare.>"}, Retention: jetstream.WorkQueuePolicy}); err != nil {
		b.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "BARE", jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		b.Fatal(err)
	}
	w := sample()
	w.Packet.Data = make([]byte, 600)
	payload, _ := w.Encode()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := js.Publish(ctx, "bare.x", payload); err != nil {
			b.Fatal(err)
		}
		batch, err := cons.Fetch(1)
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			_ = m.Ack()
		}
	}
}

func BenchmarkDecodeWork(b *testing.B) {
	w := sample()
	w.Packet.Data = make([]byte, 600)
	bz, _ := w.Encode()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := packets.Decode(bz); err != nil {
			b.Fatal(err)
		}
	}
}
