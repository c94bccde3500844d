// Package qbftclient is the city-qbft IBC light client: it follows a QBFT (Hyperledger Besu, GoQuorum)
// EVM city chain by its committed seals (light/qbft) and proves storage of the city's pinned
// CityAttestationRegistry contract. Each update carries a sealed header and the registry's account
// proof, so a consensus state holds a verified state root, the registry's storage root and the
// validator set later headers are checked against.
//
// Phase 1 proves registry storage only (x/did's MsgSubmitEvmAttestation); IBC connections and channels
// to an EVM city (ICS-24 paths in a contract) are a later phase.
package qbftclient

import (
	"encoding/json"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/ibc-go/v8/modules/core/exported"
	"github.com/grpc-ecosystem/grpc-gateway/runtime"
)

// ClientType is the client type: client ids are city-qbft-<n>.
const ClientType = "city-qbft"

// RegisterInterfaces registers the client's types as the IBC client interfaces they implement.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*exported.ClientState)(nil), &ClientState{})
	registry.RegisterImplementations((*exported.ConsensusState)(nil), &ConsensusState{})
	registry.RegisterImplementations((*exported.ClientMessage)(nil), &Header{}, &Misbehaviour{})
}

// AppModuleBasic registers the client's interfaces with the app; it has no state of its own.
type AppModuleBasic struct{}

var _ module.AppModuleBasic = AppModuleBasic{}

// Name is the module's name.
func (AppModuleBasic) Name() string { return ClientType }

// RegisterLegacyAminoCodec is a no-op: the client has no amino types.
func (AppModuleBasic) RegisterLegacyAminoCodec(*codec.LegacyAmino) {}

// RegisterInterfaces registers the client's types.
func (AppModuleBasic) RegisterInterfaces(r codectypes.InterfaceRegistry) { RegisterInterfaces(r) }

// DefaultGenesis is empty: clients live in 02-client's genesis.
func (AppModuleBasic) DefaultGenesis(codec.JSONCodec) json.RawMessage { return nil }

// ValidateGenesis accepts the empty genesis.
func (AppModuleBasic) ValidateGenesis(codec.JSONCodec, client.TxEncodingConfig, json.RawMessage) error {
	return nil
}

// RegisterGRPCGatewayRoutes is a no-op.
func (AppModuleBasic) RegisterGRPCGatewayRoutes(client.Context, *runtime.ServeMux) {}
