package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkRelayEndToEnd drives a sustained load of DID packets (attestations and service messages
// mixed) from seoul-1 to the other chains through `cityrelay start` (a child process, so its CPU and
// memory are its own) and reports throughput, latency, batching, relayer cost and the destination
// chain's capacity measured in the same run. Environment: CITYRELAY_BENCH_N packets in all (default
// 10000), CITYRELAY_BENCH_CHAINS chains (default 2: seoul-1 and bucheon-1; more make a star of paths
// from seoul-1, the packets spread over them), CITYRELAY_BENCH_BLOCK_MS block time (default 1000),
// CITYRELAY_BENCH_RATE send rate in packets/s (default unlimited), CITYRELAY_BENCH_BATCH and
// CITYRELAY_BENCH_INFLIGHT the relayer's batch_max_msgs and in_flight. scripts/bench.sh sets them.
func BenchmarkRelayEndToEnd(b *testing.B) {
	n := envInt("CITYRELAY_BENCH_N", 10000)
	blockTime := time.Duration(envInt("CITYRELAY_BENCH_BLOCK_MS", 1000)) * time.Millisecond
	rate := envInt("CITYRELAY_BENCH_RATE", 0)
	k := min(max(envInt("CITYRELAY_BENCH_CHAINS", 2), 2), len(benchChains))
	ctx := context.Background()
	dir := b.TempDir()
	bin := testnet.Build(b, ".")
	net := testnet.ChainsWith(b, devnet.Options{Home: filepath.Join(dir, "chains"), ChainIDs: benchChains[:k], BlockTime: blockTime})
	oh := operatorHome(b, net.Chains, testnet.HomeOptions{Dir: filepath.Join(dir, "relayer"), ChainArgs: []string{"--max-gas", "90000000"}})
	home := oh.Dir
	spokes := benchChains[1:k]
	for i, dst := range spokes {
		name := fmt.Sprintf("p%d", i+1)
		oh.Must("", "paths", "new", name, "--src", "seoul-1", "--dst", dst)
		oh.LinkCities(net, name)
	}
	cfg, _ := config.Load(filepath.Join(home, "config.toml"))
	cfg.Global.LogFormat, cfg.Global.LogLevel = "json", envStr("CITYRELAY_BENCH_LOG", "warn")
	cfg.Metrics.Enabled = false
	cfg.Relay.BatchMaxMsgs = envInt("CITYRELAY_BENCH_BATCH", 500)
	cfg.Relay.BatchMaxWait = config.Duration{Duration: blockTime / 2}
	cfg.Relay.InFlight = envInt("CITYRELAY_BENCH_INFLIGHT", cfg.Relay.InFlight)
	if err := cfg.Save(filepath.Join(home, "config.toml")); err != nil {
		b.Fatal(err)
	}
	channels := make([]string, len(spokes)) // seoul-1's channel to each spoke
	for i := range spokes {
		channels[i] = cfg.Paths[fmt.Sprintf("p%d", i+1)].Src.ChannelID
	}

	logf, _ := os.Create(envStr("CITYRELAY_BENCH_DAEMON_LOG", filepath.Join(home, "daemon.log")))
	defer logf.Close()
	args := []string{"start", "--home", home}
	if prof := os.Getenv("CITYRELAY_BENCH_CPUPROFILE"); prof != "" {
		args = append(args, "--cpu-profile", prof)
	}
	daemon := exec.Command(bin, args...)
	daemon.Stdout, daemon.Stderr = logf, logf
	if err := daemon.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = daemon.Process.Signal(os.Interrupt); _ = daemon.Wait() }()
	time.Sleep(2 * time.Second)
	cpu0 := procCPU(daemon.Process.Pid)
	self0 := selfCPU()
	busy0, total0 := machineCPU()
	// The daemon's resident set, sampled through the run: it must not grow with packets relayed.
	rssDone, rssStopped := make(chan struct{}), make(chan struct{})
	var rss []int64
	go func() {
		defer close(rssStopped)
		for {
			select {
			case <-rssDone:
				return
			case <-time.After(time.Second):
				rss = append(rss, procRSS(daemon.Process.Pid))
			}
		}
	}()

	seoul := net.Chain("seoul-1")
	enc, _ := cosmos.NewEncoding(citychain.AccountAddressPrefix, didtypes.RegisterInterfaces)
	admin := testnet.ClientWith(b, seoul, devnet.AdminKey, devnet.ClientOptions{MaxGas: 90_000_000})

	const perTx = 100               // packets per send tx (half attestations, half service messages)
	sentAt := map[packetKey]int64{} // packet -> send height
	issuerSeq, nonce := uint64(0), uint64(0)
	var hashes []string
	start := time.Now()
	b.ResetTimer()
	for sent, tx := 0, 0; sent < n; tx++ {
		now := time.Now().Unix()
		channel, dst := channels[tx%len(channels)], spokes[tx%len(spokes)] // send txs take the paths in turn
		var msgs []sdk.Msg
		for i := 0; i < perTx/2 && sent < n; i++ {
			issuerSeq++
			digest := bytes.Repeat([]byte{byte(issuerSeq), byte(issuerSeq >> 8), byte(issuerSeq >> 16), 1}, 8)
			sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, "key-1", seoul.Citizen.DID, "certificate", digest, now-5, now+86400, issuerSeq)
			sig, _ := seoul.Issuer.Sign(sb)
			msgs = append(msgs, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: "key-1",
				SubjectDid: seoul.Citizen.DID, CredentialType: "certificate", Digest: digest, ValidFrom: now - 5, ValidUntil: now + 86400, IssuerSeq: issuerSeq, Signature: sig},
				&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: channel, AttestationId: didtypes.AttestationID(sb)})
			nonce++
			m := didtypes.ServiceMessage{ServiceType: "parking.permit", SenderDid: seoul.Citizen.DID, SenderMethod: "key-1", OriginChainId: "seoul-1",
				DestinationChainId: dst, Nonce: nonce, Expiry: now + 86400, Payload: []byte(fmt.Sprintf(`{"zone":"B-%d"}`, nonce))}
			msb := m.SignBytes()
			m.Signature, _ = seoul.Citizen.Sign(msb)
			m.MsgId = didtypes.MessageID(msb)
			msgs = append(msgs, &didtypes.MsgSendServiceMessage{Sender: seoul.Admin.Address, SourceChannel: channel, Message: m})
			sent += 2
		}
		// Broadcast without waiting: several send txs land in each block, so the load can exceed what
		// the relayer and the destination can take.
		hash, err := admin.Broadcast(ctx, msgs...)
		if err != nil {
			b.Fatalf("broadcast: %v", err)
		}
		hashes = append(hashes, hash)
		if rate > 0 {
			time.Sleep(time.Duration(float64(len(msgs)) / float64(rate) * float64(time.Second)))
		}
	}
	for _, hash := range hashes {
		res, err := admin.WaitTx(ctx, hash)
		if err != nil {
			b.Fatalf("send tx %s: %v", hash, err)
		}
		pks, _ := relayer.SendPackets(res.Events)
		for _, p := range pks {
			sentAt[packetKey{p.SourceChannel, p.Sequence}] = res.Height
		}
	}
	if len(sentAt) != n {
		b.Fatalf("%d packets sent, want %d", len(sentAt), n)
	}
	// Wait until Seoul holds every acknowledgement (no commitment left on any channel); a relayer that
	// makes no progress for two minutes fails the run.
	progress, left := time.Now(), -1
	for _, channel := range channels {
		for {
			var commits channeltypes.QueryPacketCommitmentsResponse
			err := admin.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/PacketCommitments", &channeltypes.QueryPacketCommitmentsRequest{PortId: "did", ChannelId: channel,
				Pagination: &query.PageRequest{CountTotal: true, Limit: 1}}, &commits, 0)
			if err == nil {
				if n := int(commits.Pagination.GetTotal()); n != left {
					progress, left = time.Now(), n
				}
				if left == 0 {
					break
				}
			}
			if time.Since(progress) > 2*time.Minute {
				b.Fatalf("no progress for 2 minutes: %d packets on %s not acknowledged", left, channel)
			}
			time.Sleep(250 * time.Millisecond)
		}
		left = -1
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(rssDone)
	<-rssStopped
	cpu := procCPU(daemon.Process.Pid) - cpu0
	peak := procHWM(daemon.Process.Pid)
	chainsCPU := selfCPU() - self0
	busy1, total1 := machineCPU()

	// Latency and batching, read back from the chains: recv block per packet on each spoke, acks on
	// seoul-1.
	acks := scanRelay(b, seoul, enc)
	seoulTimes := blockTimes(b, seoul)
	recvAt := map[packetKey]blockAt{}
	var recvRate, fill float64
	var recvTxs, recvMsgs int
	var recvGas int64
	var interval time.Duration
	for _, id := range spokes {
		st := scanRelay(b, net.Chain(id), enc)
		r, iv := perSecond(st.recvAt, blockTime)
		recvRate += r
		interval += iv / time.Duration(len(spokes))
		fill += medianFill(st.recvAt) / float64(len(spokes))
		recvTxs, recvMsgs, recvGas = recvTxs+st.recvTxs, recvMsgs+st.recvMsgs, recvGas+st.recvGas
		for key, at := range st.recvAt {
			recvAt[key] = at
		}
	}
	var lat []time.Duration
	var latBlocks []float64
	for key, sh := range sentAt {
		r, ok := recvAt[key]
		if !ok {
			b.Fatalf("packet %s/%d never received", key.channel, key.seq)
		}
		d := r.time.Sub(seoulTimes[sh])
		lat = append(lat, d)
		latBlocks = append(latBlocks, float64(r.height-sh)) // block intervals: recv height - send height
	}
	// The load: packets committed on seoul-1 per second, over the blocks that carried the sends.
	sendAt := map[packetKey]blockAt{}
	for key, sh := range sentAt {
		sendAt[key] = blockAt{sh, seoulTimes[sh]}
	}
	offered, _ := perSecond(sendAt, blockTime)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	sort.Float64s(latBlocks)
	pct := func(q float64) int { return min(len(lat)-1, int(q*float64(len(lat)))) }
	gasPerRecv := float64(recvGas) / float64(recvMsgs)
	capacityPerBlock := float64(citychain.DefaultBlockMaxGas) / gasPerRecv
	capacity := capacityPerBlock / blockTime.Seconds() * float64(len(spokes))
	// Throughput while relaying: packets received per second from the first recv block to the last
	// (summed over the destinations), and acknowledgements likewise; delivered is the lower of the
	// two. The end-to-end rate (first send to last ack) also carries the pipeline's fixed latency and
	// the ramp up and down, which weigh less the larger N is; the median block's fill is the steady state.
	ackRate, _ := perSecond(acks.ackAt, blockTime)
	delivered := min(recvRate, ackRate)
	endToEnd := float64(n) / elapsed.Seconds()
	// The destinations' capacity at the block interval they actually kept while receiving (a machine
	// short of CPU stretches blocks), beside the nominal one.
	measuredCapacity := capacityPerBlock / interval.Seconds() * float64(len(spokes))
	b.ReportMetric(delivered, "packets/s")
	b.ReportMetric(recvRate, "recv_pkts/s")
	b.ReportMetric(ackRate, "ack_pkts/s")
	b.ReportMetric(endToEnd, "end_to_end_pkts/s")
	b.ReportMetric(interval.Seconds()*1000, "dest_block_ms")
	b.ReportMetric(delivered/measuredCapacity, "delivered/capacity_at_measured_blocks")
	b.ReportMetric(fill/capacityPerBlock, "median_block_fill/capacity")
	b.ReportMetric(float64(lat[pct(0.5)].Milliseconds()), "p50_ms")
	b.ReportMetric(float64(lat[pct(0.99)].Milliseconds()), "p99_ms")
	b.ReportMetric(latBlocks[pct(0.5)], "p50_blocks")
	b.ReportMetric(latBlocks[pct(0.99)], "p99_blocks")
	b.ReportMetric(float64(recvMsgs)/float64(recvTxs), "msgs/tx")
	b.ReportMetric(cpu.Seconds()/float64(n)*1000, "cpu_s/1000pkts")
	b.ReportMetric(float64(peak)/1024, "peak_rss_MB")
	b.ReportMetric(gasPerRecv, "gas/recv")
	b.ReportMetric(capacity, "capacity_pkts/s")
	b.ReportMetric(delivered/capacity, "delivered/capacity")
	b.ReportMetric(offered, "offered_pkts/s")
	b.ReportMetric(chainsCPU.Seconds()/elapsed.Seconds(), "chains+sender_cores")
	b.ReportMetric((busy1-busy0)/(total1-total0), "machine_busy")
	b.Logf("daemon RSS (MB) every 10%% of the run: %s", rssSeries(rss, 10))
	b.Logf("%d chains, %d packets in %s; %d recv txs; capacity %.0f recv/block per destination at %.0f gas each", k, n, elapsed.Round(time.Millisecond), recvTxs, capacityPerBlock, gasPerRecv)
}

// benchChains are the chains of the benchmark: seoul-1 sends, the others receive.
var benchChains = []string{"seoul-1", "bucheon-1", "incheon-1", "suwon-1", "goyang-1", "seongnam-1"}

// packetKey names a packet by seoul-1's channel and its sequence.
type packetKey struct {
	channel string
	seq     uint64
}

type relayStats struct {
	recvAt, ackAt     map[packetKey]blockAt
	recvTxs, recvMsgs int
	recvGas           int64
}

type blockAt struct {
	height int64
	time   time.Time
}

// perSecond is the packets per second of at (packet → block) from its first block to its last, counting
// the last block's interval, and the mean block interval over that span (nominal when all of at is
// in one block).
func perSecond(at map[packetKey]blockAt, nominal time.Duration) (float64, time.Duration) {
	var first, last blockAt
	for _, a := range at {
		if first.height == 0 || a.height < first.height {
			first = a
		}
		if a.height > last.height {
			last = a
		}
	}
	if last.height <= first.height {
		return float64(len(at)) / nominal.Seconds(), nominal
	}
	interval := last.time.Sub(first.time) / time.Duration(last.height-first.height)
	return float64(len(at)) / (last.time.Sub(first.time) + interval).Seconds(), interval
}

// medianFill is the median number of packets per block from the first block of at to its last
// (blocks with none count as zero).
func medianFill(at map[packetKey]blockAt) float64 {
	per := map[int64]int{}
	first, last := int64(0), int64(0)
	for _, a := range at {
		per[a.height]++
		if first == 0 || a.height < first {
			first = a.height
		}
		last = max(last, a.height)
	}
	var fills []int
	for h := first; h <= last && first > 0; h++ {
		fills = append(fills, per[h])
	}
	if len(fills) == 0 {
		return 0
	}
	sort.Ints(fills)
	return float64(fills[len(fills)/2])
}

// scanRelay reads a chain's blocks: when each packet was received or acknowledged there, and the
// recv txs' sizes and gas.
func scanRelay(b *testing.B, c *devnet.Chain, enc cosmos.Encoding) relayStats {
	cl, _ := rpchttp.New(c.RPCAddr, "/websocket")
	ctx := context.Background()
	s, _ := cl.Status(ctx)
	st := relayStats{recvAt: map[packetKey]blockAt{}, ackAt: map[packetKey]blockAt{}}
	dec := enc.TxConfig.TxDecoder()
	for h := int64(1); h <= s.SyncInfo.LatestBlockHeight; h++ {
		blk, err := cl.Block(ctx, &h)
		if err != nil || len(blk.Block.Txs) == 0 {
			continue
		}
		res, err := cl.BlockResults(ctx, &h)
		if err != nil {
			b.Fatal(err)
		}
		for i, raw := range blk.Block.Txs {
			if res.TxsResults[i].Code != 0 {
				continue
			}
			tx, err := dec(raw)
			if err != nil {
				continue
			}
			n := 0
			for _, m := range tx.GetMsgs() {
				switch r := m.(type) {
				case *channeltypes.MsgRecvPacket:
					n++
					st.recvAt[packetKey{r.Packet.SourceChannel, r.Packet.Sequence}] = blockAt{h, blk.Block.Time}
				case *channeltypes.MsgAcknowledgement:
					st.ackAt[packetKey{r.Packet.SourceChannel, r.Packet.Sequence}] = blockAt{h, blk.Block.Time}
				}
			}
			if n > 0 {
				st.recvTxs++
				st.recvMsgs += n
				st.recvGas += res.TxsResults[i].GasUsed
			}
		}
	}
	return st
}

func blockTimes(b *testing.B, c *devnet.Chain) map[int64]time.Time {
	cl, _ := rpchttp.New(c.RPCAddr, "/websocket")
	ctx := context.Background()
	s, _ := cl.Status(ctx)
	out := map[int64]time.Time{}
	for h := int64(1); h <= s.SyncInfo.LatestBlockHeight; h++ {
		hd, err := cl.Header(ctx, &h)
		if err != nil {
			b.Fatal(err)
		}
		out[h] = hd.Header.Time
	}
	return out
}

// procCPU is the user+system CPU time of a process (from /proc/<pid>/stat, in clock ticks of 10ms).
func procCPU(pid int) time.Duration {
	bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(bz)[strings.LastIndex(string(bz), ")")+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// selfCPU is the CPU time of this process (the chains and the sender).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU returns the busy and total jiffies of all CPUs (from /proc/stat).
func machineCPU() (busy, total float64) {
	bz, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(strings.SplitN(string(bz), "\n", 2)[0])[1:]
	for i, v := range f {
		x, _ := strconv.ParseFloat(v, 64)
		total += x
		if i != 3 && i != 4 { // idle, iowait
			busy += x
		}
	}
	return busy, total
}

// procRSS is the resident set of a process, in KiB.
func procRSS(pid int) int64 { return procStatus(pid, "VmRSS:") }

// rssSeries renders k evenly spaced samples of a series of KiB values, in MB.
func rssSeries(s []int64, k int) string {
	if len(s) == 0 {
		return "-"
	}
	var parts []string
	for i := 1; i <= k; i++ {
		parts = append(parts, fmt.Sprintf("%.0f", float64(s[min(len(s)-1, i*len(s)/k)])/1024))
	}
	return strings.Join(parts, " ")
}

// procHWM is the peak resident set of a process, in KiB.
func procHWM(pid int) int64 { return procStatus(pid, "VmHWM:") }

// procStatus reads a KiB field of /proc/<pid>/status.
func procStatus(pid int, field string) int64 {
	bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(bz), "\n") {
		if strings.HasPrefix(l, field) {
			v, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return v
		}
	}
	return 0
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
