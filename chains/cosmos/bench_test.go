package cosmos_test

import (
	"context"
	"fmt"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains/devnet"
)

// BenchmarkBuildRelayTx builds and signs one relay tx of 30 and of 100 MsgRecvPacket (each with an
// attestation-sized payload and a 1 KiB proof), as a submitter does per batch.
func BenchmarkBuildRelayTx(b *testing.B) {
	c := net.Chain("seoul-1")
	cl := newClient(&testing.T{}, c.RPCAddr)
	for _, n := range []int{30, 100} {
		b.Run(fmt.Sprintf("msgs=%d", n), func(b *testing.B) {
			msgs := make([]sdk.Msg, n)
			for i := range msgs {
				p := channeltypes.NewPacket(make([]byte, 600), uint64(i+1), "did", "channel-0", "did", "channel-0", clienttypes.ZeroHeight(), 1)
				msgs[i] = channeltypes.NewMsgRecvPacket(p, make([]byte, 1024), clienttypes.NewHeight(1, 10), c.Relayer.Address)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := cl.SignTx(context.Background(), msgs, 10_000_000); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1000, "µs/msg")
		})
	}
	_ = devnet.RelayerKey
}
