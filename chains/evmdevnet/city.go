package evmdevnet

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/contracts"
)

// City is an EVM city on a devnet: the CityAttestationRegistry deployed for a city chain id, with an
// issuer DID whose key and trust the registry admin (the dev account) has set.
type City struct {
	Chain    *Chain
	ChainID  string
	Registry common.Address
	// Issuer is the city's issuing DID (did:city:<chain-id>:registrar), Method its key's method id and
	// Key the key.
	Issuer string
	Method string
	Key    *ecdsa.PrivateKey
	abi    *contracts.CityAttestationRegistry
	seq    uint64
}

// Attestation is what an issue signed and the registry recorded.
type Attestation struct {
	ID             [32]byte
	Subject        string
	CredentialType string
	Digest         []byte
	ValidFrom      int64
	ValidUntil     int64
	IssuerSeq      uint64
	Signature      []byte
	Block          uint64
}

// DeployCity deploys the registry for cityChainID, gives the issuer DID a key (derived from the
// chain's seed) and trusts it for credentialTypes.
func (c *Chain) DeployCity(cityChainID string, credentialTypes ...string) (*City, error) {
	addr, err := c.Deploy(contracts.DeployData(cityChainID), nil)
	if err != nil {
		return nil, fmt.Errorf("deploy registry for %s: %w", cityChainID, err)
	}
	// The registry's code holds block.chainid (its immutable evmChainId): what a city-qbft client of
	// this chain pins is the hash of exactly this code.
	code, err := c.Code(addr, c.Height())
	if err != nil {
		return nil, fmt.Errorf("registry code for %s: %w", cityChainID, err)
	}
	if !bytes.Equal(code, contracts.RuntimeCodeFor(c.cfg.ChainID)) {
		return nil, fmt.Errorf("registry for %s at %s: deployed code (%d bytes, hash %s) is not RuntimeCodeFor(%d) (hash %s)",
			cityChainID, addr, len(code), crypto.Keccak256Hash(code), c.cfg.ChainID, contracts.RuntimeCodeHashFor(c.cfg.ChainID))
	}
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("cityrelay/evmdevnet/issuer/" + cityChainID)))
	if err != nil {
		return nil, err
	}
	city := &City{Chain: c, ChainID: cityChainID, Registry: addr, Issuer: didtypes.FormatDID(cityChainID, "registrar"),
		Method: "key-1", Key: key, abi: contracts.NewCityAttestationRegistry()}
	if _, err := c.Transact(addr, city.abi.PackSetKey(city.Issuer, city.Method, crypto.PubkeyToAddress(key.PublicKey))); err != nil {
		return nil, fmt.Errorf("set issuer key: %w", err)
	}
	for _, ct := range credentialTypes {
		if _, err := c.Transact(addr, city.abi.PackSetTrusted(ct, city.Issuer, true)); err != nil {
			return nil, fmt.Errorf("trust issuer for %s: %w", ct, err)
		}
	}
	return city, nil
}

// Issue signs an attestation for subject with the issuer's key and records it in the registry.
func (ci *City) Issue(subject, credentialType string, digest []byte, validFor time.Duration) (*Attestation, error) {
	ci.seq++
	now := time.Now().Unix()
	a := &Attestation{Subject: subject, CredentialType: credentialType, Digest: digest, ValidFrom: now - 60,
		ValidUntil: now + int64(validFor/time.Second), IssuerSeq: ci.seq}
	signBytes := didtypes.AttestationSignBytes(ci.ChainID, ci.Issuer, ci.Method, subject, credentialType, digest, a.ValidFrom, a.ValidUntil, a.IssuerSeq)
	h := sha256.Sum256(signBytes)
	sig, err := crypto.Sign(h[:], ci.Key)
	if err != nil {
		return nil, err
	}
	a.ID, a.Signature = h, sig
	r, err := ci.Chain.Transact(ci.Registry, ci.abi.PackIssue(ci.Issuer, ci.Method, subject, credentialType, digest, a.ValidFrom, a.ValidUntil, a.IssuerSeq, sig))
	if err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	a.Block = r.BlockNumber.Uint64()
	return a, nil
}

// ChangeStatus signs and records a status change (contracts.StatusRevoked, contracts.StatusSuspended,
// contracts.StatusActive) of an attestation the issuer issued; it returns the block.
func (ci *City) ChangeStatus(id [32]byte, status uint8) (uint64, error) {
	ci.seq++
	signBytes := didtypes.RevocationSignBytes(ci.ChainID, contracts.IDHex(id), ci.Issuer, ci.Method, didtypes.AttestationStatus(status), ci.seq)
	h := sha256.Sum256(signBytes)
	sig, err := crypto.Sign(h[:], ci.Key)
	if err != nil {
		return 0, err
	}
	r, err := ci.Chain.Transact(ci.Registry, ci.abi.PackChangeStatus(id, ci.Issuer, ci.Method, status, ci.seq, sig))
	if err != nil {
		return 0, fmt.Errorf("change status of %x: %w", id, err)
	}
	return r.BlockNumber.Uint64(), nil
}

// Equivocate returns the RLP of a second header at height n, sealed by the same validators as the
// chain's (SetSealers), that differs from the chain's only in its timestamp (one second later): what
// a byzantine validator set signs to fork a light client. The state root is the block's, so the
// block's proofs hold for it too.
func (c *Chain) Equivocate(n uint64) ([]byte, error) {
	h, err := c.Header(n)
	if err != nil {
		return nil, err
	}
	forged := types.CopyHeader(h)
	forged.Time++
	extra, err := decodeExtra(forged.Extra)
	if err != nil {
		return nil, err
	}
	if forged.Extra, err = encodeExtra(extra.Validators, extra.Round, nil); err != nil {
		return nil, err
	}
	sealed, err := c.engine.sealHeader(forged)
	if err != nil {
		return nil, err
	}
	return rlp.EncodeToBytes(sealed)
}
