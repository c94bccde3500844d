package relayer

import (
	"context"
	"fmt"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/rs/zerolog"
)

// EventSource is a chain whose block events can be read (pull mode).
type EventSource interface {
	BlockEvents(ctx context.Context, h int64) ([]abci.Event, error)
}

// Relayed reports packets a PathRelayer delivered.
type Relayed struct {
	Path, From, To string
	Kind           string // "recv" or "ack"
	Sequences      []uint64
	TxHash         string
	Height         int64
}

// PathRelayer relays a linked path in both directions: it scans each chain's blocks up to its light
// client's verified height for send_packet and write_acknowledgement events of the path's channels,
// and delivers them with proofs. It is the synchronous core the NATS pipelines distribute.
type PathRelayer struct {
	Path    *Path
	Relayer Relayer
	Log     zerolog.Logger
	// Poll is the pause between scans (default 200ms).
	Poll time.Duration
	// OnRelayed is told of every delivering tx (optional).
	OnRelayed func(Relayed)
}

// Run relays until ctx ends. It starts scanning at each chain's latest verified height; transient
// errors are logged and retried on the next round.
func (pr *PathRelayer) Run(ctx context.Context) error {
	if pr.Poll == 0 {
		pr.Poll = 200 * time.Millisecond
	}
	p := pr.Path
	cursor := map[*End]int64{}
	for _, e := range []*End{p.A, p.B} {
		lb, err := e.Light.VerifyLatest(ctx)
		if err != nil {
			return fmt.Errorf("path %s: verify latest header of %s: %w", p.Name, e.ChainID(), err)
		}
		cursor[e] = lb.Height - 1
	}
	for {
		for _, dir := range [][2]*End{{p.A, p.B}, {p.B, p.A}} {
			src, dst := dir[0], dir[1]
			next, err := pr.scan(ctx, src, dst, cursor[src])
			if err != nil && ctx.Err() == nil {
				pr.Log.Warn().Err(err).Str("path", p.Name).Str("chain", src.ChainID()).Int64("height", cursor[src]+1).Msg("relay round failed; retrying")
			}
			cursor[src] = next
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pr.Poll):
		}
	}
}

// scan relays what blocks (from, verified-1] of src hold and returns the last height fully handled.
func (pr *PathRelayer) scan(ctx context.Context, src, dst *End, from int64) (int64, error) {
	es, ok := src.Chain.(EventSource)
	if !ok {
		return from, fmt.Errorf("chain %s cannot list block events", src.ChainID())
	}
	lb, err := src.Light.VerifyLatest(ctx)
	if err != nil {
		return from, err
	}
	// Block h's results are final once header h+1 exists; proofs need a header above h anyway.
	for h := from + 1; h < lb.Height; h++ {
		events, err := es.BlockEvents(ctx, h)
		if err != nil {
			return h - 1, err
		}
		all, err := SendPackets(events)
		if err != nil {
			return h - 1, err
		}
		var sends []channeltypes.Packet
		for _, pk := range all {
			if pk.SourcePort == src.PortID && pk.SourceChannel == src.ChannelID {
				sends = append(sends, pk)
			}
		}
		allAcks, err := WrittenAcks(events)
		if err != nil {
			return h - 1, err
		}
		var acks []Ack
		for _, a := range allAcks {
			if a.Packet.DestinationPort == src.PortID && a.Packet.DestinationChannel == src.ChannelID {
				acks = append(acks, a)
			}
		}
		if tx, seqs, err := pr.Relayer.RecvPackets(ctx, src, dst, sends, h); err != nil {
			return h - 1, err
		} else if tx != nil {
			pr.report(Relayed{Path: pr.Path.Name, From: src.ChainID(), To: dst.ChainID(), Kind: "recv", Sequences: seqs, TxHash: tx.Hash, Height: tx.Height})
		}
		if tx, seqs, err := pr.Relayer.AckPackets(ctx, src, dst, acks, h); err != nil {
			return h - 1, err
		} else if tx != nil {
			pr.report(Relayed{Path: pr.Path.Name, From: src.ChainID(), To: dst.ChainID(), Kind: "ack", Sequences: seqs, TxHash: tx.Hash, Height: tx.Height})
		}
	}
	return lb.Height - 1, nil
}

func (pr *PathRelayer) report(r Relayed) {
	pr.Log.Info().Str("path", r.Path).Str("chain", r.To).Str("from", r.From).Str("kind", r.Kind).
		Uints64("sequences", r.Sequences).Str("tx", r.TxHash).Int64("height", r.Height).Msg("packets relayed")
	if pr.OnRelayed != nil {
		pr.OnRelayed(r)
	}
}
