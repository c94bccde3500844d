package demo

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/chains/evm"
	"github.com/cityrelay/cityrelay/chains/evm/registry"
	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/light/qbft"
	"github.com/cityrelay/cityrelay/relayer/evmrelay"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// Gimpo is the demo's EVM city: a QBFT chain with the CityAttestationRegistry contract.
const (
	Gimpo        = "gimpo-evm"
	gimpoChainID = 7001
)

// evmCity tells the EVM part of the story: a residency card issued on Gimpo's QBFT chain is proven
// into Bucheon (QBFT seals → state root → registry storage) and verified there, then revoked.
func evmCity(ctx context.Context, r *runner, o Options, log zerolog.Logger, js jetstream.JetStream, relayCtx context.Context,
	net *devnet.Devnet, bucheon *cosmos.Client, bucheonLight *light.Client,
) error {
	var chain *evmdevnet.Chain
	var city *evmdevnet.City
	if err := r.do("start EVM city "+Gimpo+" (4 QBFT validators, London EVM, loopback JSON-RPC)", Gimpo, func() (int64, string, error) {
		var err error
		if chain, err = evmdevnet.Start(evmdevnet.Config{ChainID: gimpoChainID, Validators: 4, Seed: Gimpo}); err != nil {
			return 0, "", err
		}
		if city, err = chain.DeployCity(Gimpo, "residency-card"); err != nil {
			return 0, "", err
		}
		return int64(chain.Height()), fmt.Sprintf("%s, registry %s (code hash %s…)", chain.RPCURL(), city.Registry, registry.RuntimeCodeHash.Hex()[:12]), nil
	}); err != nil {
		if chain != nil {
			_ = chain.Close()
		}
		return err
	}
	go func() { <-relayCtx.Done(); _ = chain.Close() }()

	var src *evm.Client
	if err := r.do("light client of "+Gimpo+" (QBFT committed seals)", Gimpo, func() (int64, string, error) {
		// The demo trusts the chain it just started; an operator gives a trust height and hash.
		raw, err := chain.RawHeader(chain.Height())
		if err != nil {
			return 0, "", err
		}
		h, err := qbft.ParseHeader(raw)
		if err != nil {
			return 0, "", err
		}
		trust, err := qbft.NewTrustedHeader(h)
		if err != nil {
			return 0, "", err
		}
		src, err = evm.Dial(ctx, evm.Config{ChainID: gimpoChainID, RPC: chain.RPCURL(), Registry: city.Registry,
			RegistryCodeHash: registry.RuntimeCodeHash, TrustingPeriod: 24 * time.Hour, StoreDir: filepath.Join(o.Home, "light", Gimpo)}, trust)
		if err != nil {
			return 0, "", err
		}
		return int64(trust.Height), fmt.Sprintf("trusted block %d, %d validators", trust.Height, len(trust.Validators)), nil
	}); err != nil {
		return err
	}
	go func() { <-relayCtx.Done(); src.Close() }()

	var clientID string
	if err := r.do("create city-qbft client of "+Gimpo, Bucheon, func() (int64, string, error) {
		var err error
		clientID, err = evmrelay.CreateClient(ctx, src, bucheon, evmrelay.ClientParams{City: Gimpo, EvmChainID: gimpoChainID,
			Registry: city.Registry, TrustingPeriod: 24 * time.Hour})
		return 0, clientID + " pins the registry's address and code hash", err
	}); err != nil {
		return err
	}
	if err := r.do(fmt.Sprintf("%s recognises %s as client %s (city registry)", Bucheon, Gimpo, clientID), Bucheon, func() (int64, string, error) {
		h, err := net.RegisterCity(ctx, Bucheon, Gimpo, clientID)
		return h, "citychaind tx did register-city " + Gimpo + " " + clientID, err
	}); err != nil {
		return err
	}

	bridge := &evmrelay.Bridge{City: Gimpo, Source: src, Dest: bucheon, Client: clientID, JS: js, Log: log, Poll: 200 * time.Millisecond}
	go func() { _ = bridge.Run(relayCtx) }()

	var att *evmdevnet.Attestation
	subject := didtypes.FormatDID(Gimpo, "lee-seojun")
	if err := r.do("issue residency card in the registry contract", Gimpo, func() (int64, string, error) {
		var err error
		att, err = city.Issue(subject, "residency-card", bytes.Repeat([]byte{0x5e}, 32), 365*24*time.Hour)
		if err != nil {
			return 0, "", err
		}
		return int64(att.Block), "id " + registry.IDHex(att.ID)[:16] + "…, signed by " + city.Issuer + " (ecrecover on chain)", nil
	}); err != nil {
		return err
	}
	if err := r.do("relay + verify EVM attestation (seals → state root → storage proofs)", Bucheon, func() (int64, string, error) {
		res, err := waitStatus(ctx, bucheon, bucheonLight, Gimpo, registry.IDHex(att.ID), verify.StatusValid)
		if err != nil {
			return 0, "", err
		}
		return res.HeaderHeight, fmt.Sprintf("%s: %s for %s, proven at %s block %d through %s", res.Status, res.Attestation.CredentialType,
			res.Attestation.SubjectDid, Gimpo, res.EvmProofHeight, res.Client), nil
	}); err != nil {
		return err
	}
	if err := r.do("revoke the card in the registry contract", Gimpo, func() (int64, string, error) {
		h, err := city.ChangeStatus(att.ID, registry.StatusRevoked)
		return int64(h), "revoked is final", err
	}); err != nil {
		return err
	}
	return r.do("relay + verify EVM revocation arrived", Bucheon, func() (int64, string, error) {
		res, err := waitStatus(ctx, bucheon, bucheonLight, Gimpo, registry.IDHex(att.ID), verify.StatusRevoked)
		if err != nil {
			return 0, "", err
		}
		return res.HeaderHeight, string(res.Status), nil
	})
}
