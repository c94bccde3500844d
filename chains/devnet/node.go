package devnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"cosmossdk.io/log"
	pruningtypes "cosmossdk.io/store/pruning/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/server"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	servergrpc "github.com/cosmos/cosmos-sdk/server/grpc"
	"google.golang.org/grpc"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
)

// MinGasPrice is the minimum gas price every devnet validator accepts.
const MinGasPrice = "0.0025" + citychain.BondDenom

// nodeOptions configure one in-process node.
type nodeOptions struct {
	Home      string
	ChainID   string
	BlockTime time.Duration
	RPCPort   int
	P2PPort   int
	GRPCPort  int
	// WithoutDID builds the app without the did module.
	WithoutDID bool
}

// runningNode is a CometBFT node with the city chain app and a gRPC server, in this process.
type runningNode struct {
	node     *node.Node
	grpc     *grpc.Server
	grpcDone chan error
	appDB    dbm.DB
}

// cometConfig is the CometBFT configuration of a devnet node: loopback only, no pprof, no
// Prometheus (two nodes in one process would register the same collectors), indexed txs.
func cometConfig(o nodeOptions) *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(o.Home)
	cfg.Moniker = o.ChainID
	cfg.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", o.RPCPort)
	cfg.RPC.PprofListenAddress = ""
	// Relayers batch many messages per tx and read big blocks.
	cfg.RPC.MaxBodyBytes = 16 << 20
	cfg.RPC.MaxOpenConnections = 0
	cfg.RPC.TimeoutBroadcastTxCommit = 30 * time.Second
	cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", o.P2PPort)
	cfg.P2P.PexReactor = false
	cfg.P2P.AllowDuplicateIP = true
	cfg.Instrumentation.Prometheus = false
	cfg.Consensus.TimeoutCommit = o.BlockTime
	cfg.Consensus.TimeoutPropose = time.Second
	cfg.TxIndex.Indexer = "kv"
	cfg.Mempool.MaxTxBytes = 4 << 20
	cfg.Mempool.MaxTxsBytes = 256 << 20
	return cfg
}

// startNode starts a node whose home already holds config, keys and genesis.
func startNode(ctx context.Context, o nodeOptions) (*runningNode, error) {
	cfg := cometConfig(o)
	cmtcfg.EnsureRoot(o.Home)
	pv := privval.LoadOrGenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	nodeKey, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node %s: node key: %w", o.ChainID, err)
	}
	appDB, err := dbm.NewGoLevelDB("application", filepath.Join(o.Home, "data"), nil)
	if err != nil {
		return nil, fmt.Errorf("node %s: open app db: %w", o.ChainID, err)
	}
	appOpts := appOptions{flags.FlagHome: o.Home, flags.FlagChainID: o.ChainID, citychain.OptionWithoutDID: o.WithoutDID}
	app := citychain.New(log.NewNopLogger(), appDB, nil, true, appOpts,
		baseapp.SetChainID(o.ChainID),
		baseapp.SetMinGasPrices(MinGasPrice),
		// Keep every version: relayers and verifiers ask for proofs at recent heights.
		baseapp.SetPruning(pruningtypes.NewPruningOptions(pruningtypes.PruningNothing)),
	)
	n, err := node.NewNode(cfg, pv, nodeKey, proxy.NewLocalClientCreator(server.NewCometABCIWrapper(app)),
		node.DefaultGenesisDocProviderFunc(cfg), cmtcfg.DefaultDBProvider,
		node.DefaultMetricsProvider(cfg.Instrumentation), cmtlog.NewNopLogger())
	if err != nil {
		_ = appDB.Close()
		return nil, fmt.Errorf("node %s: create: %w", o.ChainID, err)
	}
	if err := n.Start(); err != nil {
		_ = appDB.Close()
		return nil, fmt.Errorf("node %s: start: %w", o.ChainID, err)
	}

	enc := app.Encoding()
	clientCtx := client.Context{}.
		WithCodec(enc.Codec).WithInterfaceRegistry(enc.InterfaceRegistry).WithTxConfig(enc.TxConfig).
		WithLegacyAmino(enc.Amino).WithChainID(o.ChainID).WithClient(rpclocal.New(n))
	app.RegisterTxService(clientCtx)
	app.RegisterTendermintService(clientCtx)
	srvCfg := srvconfig.DefaultConfig()
	app.RegisterNodeService(clientCtx, *srvCfg)
	grpcCfg := srvCfg.GRPC
	grpcCfg.Address = fmt.Sprintf("127.0.0.1:%d", o.GRPCPort)
	grpcSrv, err := servergrpc.NewGRPCServer(clientCtx, app, grpcCfg)
	if err != nil {
		_ = n.Stop()
		return nil, fmt.Errorf("node %s: grpc server: %w", o.ChainID, err)
	}
	ln, err := net.Listen("tcp", grpcCfg.Address)
	if err != nil {
		_ = n.Stop()
		return nil, fmt.Errorf("node %s: grpc listen: %w", o.ChainID, err)
	}
	rn := &runningNode{node: n, grpc: grpcSrv, grpcDone: make(chan error, 1), appDB: appDB}
	go func() { rn.grpcDone <- grpcSrv.Serve(ln) }()
	return rn, nil
}

// stop stops the gRPC server and the node and closes its databases.
func (rn *runningNode) stop() error {
	rn.grpc.Stop()
	<-rn.grpcDone
	var errs []error
	if rn.node.IsRunning() {
		if err := rn.node.Stop(); err != nil {
			errs = append(errs, err)
		}
		rn.node.Wait()
	}
	if err := rn.appDB.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// appOptions is the map-backed servertypes.AppOptions.
type appOptions map[string]any

func (o appOptions) Get(key string) any { return o[key] }

// FreePorts returns n distinct loopback TCP ports that were free a moment ago. All listeners are
// held open until every port is chosen, so the n ports differ from each other.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
