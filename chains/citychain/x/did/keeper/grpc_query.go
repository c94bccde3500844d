package keeper

import (
	"context"

	"cosmossdk.io/store/prefix"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/types/query"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

type queryServer struct{ Keeper }

// NewQueryServer returns the did module's Query service.
func NewQueryServer(k Keeper) types.QueryServer { return queryServer{k} }

var _ types.QueryServer = queryServer{}

func (q queryServer) DID(ctx context.Context, req *types.QueryDIDRequest) (*types.QueryDIDResponse, error) {
	if _, _, err := types.ParseDID(req.GetDid()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	doc, ok, err := q.GetDID(ctx, req.Did)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "DID %s not found", req.Did)
	}
	return &types.QueryDIDResponse{Document: doc}, nil
}

func (q queryServer) Attestation(ctx context.Context, req *types.QueryAttestationRequest) (*types.QueryAttestationResponse, error) {
	a, ok, err := q.GetAttestation(ctx, req.GetId())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "attestation %s not found", req.GetId())
	}
	return &types.QueryAttestationResponse{Attestation: a}, nil
}

func (q queryServer) ForeignAttestation(ctx context.Context, req *types.QueryForeignAttestationRequest) (*types.QueryForeignAttestationResponse, error) {
	f, ok, err := q.GetForeignAttestation(ctx, req.GetOriginChainId(), req.GetId())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "attestation %s from %s not found", req.GetId(), req.GetOriginChainId())
	}
	return &types.QueryForeignAttestationResponse{Attestation: f}, nil
}

func (q queryServer) Delivery(ctx context.Context, req *types.QueryDeliveryRequest) (*types.QueryDeliveryResponse, error) {
	d, ok, err := q.GetDelivery(ctx, req.GetChannel(), req.GetSequence())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no delivery for %s/%d", req.GetChannel(), req.GetSequence())
	}
	return &types.QueryDeliveryResponse{Delivery: d}, nil
}

func (q queryServer) Inbox(ctx context.Context, req *types.QueryInboxRequest) (*types.QueryInboxResponse, error) {
	store := prefix.NewStore(runtime.KVStoreAdapter(q.kv(ctx)), types.InboxPrefix)
	var entries []types.InboxEntry
	page, err := query.FilteredPaginate(store, req.GetPagination(), func(_, value []byte, accumulate bool) (bool, error) {
		var e types.InboxEntry
		if err := q.cdc.Unmarshal(value, &e); err != nil {
			return false, err
		}
		if req.GetServiceType() != "" && e.Message.ServiceType != req.GetServiceType() {
			return false, nil
		}
		if accumulate {
			entries = append(entries, e)
		}
		return true, nil
	})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryInboxResponse{Entries: entries, Pagination: page}, nil
}

func (q queryServer) TrustedIssuers(ctx context.Context, req *types.QueryTrustedIssuersRequest) (*types.QueryTrustedIssuersResponse, error) {
	issuers, err := q.Keeper.TrustedIssuers(ctx, req.GetCredentialType())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryTrustedIssuersResponse{Issuers: issuers}, nil
}

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.GetParams(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q queryServer) Cities(ctx context.Context, _ *types.QueryCitiesRequest) (*types.QueryCitiesResponse, error) {
	cities, err := q.Keeper.Cities(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryCitiesResponse{Cities: cities}, nil
}

func (q queryServer) City(ctx context.Context, req *types.QueryCityRequest) (*types.QueryCityResponse, error) {
	chainID, clientID := req.GetChainId(), req.GetClientId()
	var ok bool
	var err error
	switch {
	case chainID != "" && clientID == "":
		clientID, ok, err = q.CityClient(ctx, chainID)
	case clientID != "" && chainID == "":
		chainID, ok, err = q.CityOfClient(ctx, clientID)
	default:
		return nil, status.Error(codes.InvalidArgument, "give a chain id or a client id")
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "city %s%s is not registered", chainID, clientID)
	}
	return &types.QueryCityResponse{City: types.City{ChainId: chainID, ClientId: clientID}}, nil
}

func (q queryServer) Hubs(ctx context.Context, _ *types.QueryHubsRequest) (*types.QueryHubsResponse, error) {
	hubs, err := q.Keeper.Hubs(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryHubsResponse{Hubs: hubs}, nil
}
