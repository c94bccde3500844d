package demo

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/light/qbft"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/evmrelay"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// Gimpo is the demo's EVM city: a QBFT chain with the CityAttestationRegistry contract.
const (
	Gimpo        = "gimpo-evm"
	gimpoChainID = 7001
)

// gimpoCity is the demo's EVM city once set up: its chain, its registry contract and the city-qbft
// client Bucheon follows it with.
type gimpoCity struct {
	chain    *evmdevnet.Chain
	city     *evmdevnet.City
	clientID string
}

// evmCitySetup starts the EVM city, opens its QBFT light client through relayer/assemble, creates its
// city-qbft client on Bucheon, registers it in Bucheon's city registry, and configures the delivery
// (cfg.EvmCities) for the daemon. The returned city, when not nil, is closed by the caller.
func evmCitySetup(ctx context.Context, r *runner, o Options, cfg *config.Config, rt *assemble.Runtime, net *devnet.Devnet,
	bucheon assemble.Chain,
) (*gimpoCity, error) {
	g := &gimpoCity{}
	if err := r.do("start EVM city "+Gimpo+" (4 QBFT validators, London EVM, loopback JSON-RPC)", Gimpo, func() (int64, string, error) {
		var err error
		if g.chain, err = evmdevnet.Start(evmdevnet.Config{ChainID: gimpoChainID, Validators: 4, Seed: Gimpo}); err != nil {
			return 0, "", err
		}
		if g.city, err = g.chain.DeployCity(Gimpo, "residency-card"); err != nil {
			return 0, "", err
		}
		return int64(g.chain.Height()), fmt.Sprintf("%s, registry %s (code hash %s…)", g.chain.RPCURL(), g.city.Registry, contracts.RuntimeCodeHashFor(g.chain.ChainID()).Hex()[:12]), nil
	}); err != nil {
		if g.chain != nil {
			return g, err
		}
		return nil, err
	}

	var src assemble.EvmCity
	if err := r.do("light client of "+Gimpo+" (QBFT committed seals)", Gimpo, func() (int64, string, error) {
		// The demo trusts the chain it just started; an operator gives a trust height and hash.
		raw, err := g.chain.RawHeader(g.chain.Height())
		if err != nil {
			return 0, "", err
		}
		h, err := qbft.ParseHeader(raw)
		if err != nil {
			return 0, "", err
		}
		hash, err := h.Hash()
		if err != nil {
			return 0, "", err
		}
		cfg.EvmCities[Gimpo] = &config.EvmCity{EvmChainID: gimpoChainID, RPC: g.chain.RPCURL(), Registry: g.city.Registry.Hex(),
			TrustingPeriod: config.Duration{Duration: 24 * time.Hour}, TrustHeight: h.Number().Uint64(), TrustHash: hash.Hex(),
			Deliver: []config.EvmDelivery{{Chain: Bucheon}}}
		if src, err = rt.EvmCity(ctx, Gimpo); err != nil {
			return 0, "", err
		}
		return int64(h.Number().Uint64()), fmt.Sprintf("trusted block %d (%s…)", h.Number().Uint64(), hash.Hex()[:12]), nil
	}); err != nil {
		return g, err
	}

	if err := r.do("create city-qbft client of "+Gimpo, Bucheon, func() (int64, string, error) {
		var err error
		g.clientID, err = evmrelay.CreateClient(ctx, src, bucheon, evmrelay.ClientParams{City: Gimpo, EvmChainID: gimpoChainID,
			Registry: g.city.Registry, TrustingPeriod: 24 * time.Hour})
		return 0, g.clientID + " pins the registry's address and code hash", err
	}); err != nil {
		return g, err
	}
	if err := r.do(fmt.Sprintf("%s recognises %s as client %s (city registry)", Bucheon, Gimpo, g.clientID), Bucheon, func() (int64, string, error) {
		h, err := net.RegisterCity(ctx, Bucheon, Gimpo, g.clientID)
		return h, "citychaind tx did register-city " + Gimpo + " " + g.clientID, err
	}); err != nil {
		return g, err
	}
	cfg.EvmCities[Gimpo].Deliver[0].ClientID = g.clientID
	return g, nil
}

// evmCityStory tells the EVM part of the story: a residency card issued on Gimpo's QBFT chain is
// proven into Bucheon (QBFT seals → state root → registry storage) by the daemon and verified there,
// then revoked.
func evmCityStory(ctx context.Context, r *runner, g *gimpoCity, bucheon chains.Prover, bucheonLight *light.Client, origins verify.Origins) error {
	var att *evmdevnet.Attestation
	subject := didtypes.FormatDID(Gimpo, "lee-seojun")
	if err := r.do("issue residency card in the registry contract", Gimpo, func() (int64, string, error) {
		var err error
		att, err = g.city.Issue(subject, "residency-card", bytes.Repeat([]byte{0x5e}, 32), 365*24*time.Hour)
		if err != nil {
			return 0, "", err
		}
		return int64(att.Block), "id " + contracts.IDHex(att.ID)[:16] + "…, signed by " + g.city.Issuer + " (ecrecover on chain)", nil
	}); err != nil {
		return err
	}
	if err := r.do("relay + verify EVM attestation (seals → state root → storage proofs)", Bucheon, func() (int64, string, error) {
		res, err := waitStatus(ctx, bucheon, bucheonLight, origins, Gimpo, contracts.IDHex(att.ID), verify.StatusValid, false)
		if err != nil {
			return 0, "", err
		}
		return res.HeaderHeight, fmt.Sprintf("%s: %s for %s, proven at %s block %d through %s", res.Status, res.Attestation.CredentialType,
			res.Attestation.SubjectDid, Gimpo, res.EvmProofHeight, res.Client), nil
	}); err != nil {
		return err
	}
	if err := r.do("revoke the card in the registry contract", Gimpo, func() (int64, string, error) {
		h, err := g.city.ChangeStatus(att.ID, contracts.StatusRevoked)
		return int64(h), "revoked is final", err
	}); err != nil {
		return err
	}
	if err := r.do("verify revoked at the origin (a fresh proof of Gimpo's registry)", Bucheon, func() (int64, string, error) {
		res, err := waitStatus(ctx, bucheon, bucheonLight, origins, Gimpo, contracts.IDHex(att.ID), verify.StatusRevoked, false)
		if err != nil {
			return 0, "", err
		}
		return res.HeaderHeight, reasonOf(res), nil
	}); err != nil {
		return err
	}
	return r.do("relay + verify EVM revocation arrived", Bucheon, func() (int64, string, error) {
		res, err := waitStatus(ctx, bucheon, bucheonLight, origins, Gimpo, contracts.IDHex(att.ID), verify.StatusRevoked, true)
		if err != nil {
			return 0, "", err
		}
		return res.HeaderHeight, string(res.Status) + " in the relayed record too", nil
	})
}
