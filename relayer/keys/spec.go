package keys

import (
	"errors"
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

var (
	// ErrBadSpec is returned for an unknown algorithm, a malformed HD path or a coin type that
	// contradicts the HD path.
	ErrBadSpec = errors.New("invalid key options")
	// ErrWrongPassphrase is returned when an armored key does not decrypt with the passphrase given.
	ErrWrongPassphrase = errors.New("wrong passphrase for the armored key")
	// ErrEmptyPassphrase is returned when a key would be exported without a passphrase of at least
	// MinPassphrase characters.
	ErrEmptyPassphrase = errors.New("an exported key needs a passphrase of at least 8 characters")
)

// Coin types of the default HD paths: the Cosmos Hub's (118) for secp256k1, Ethereum's (60) for
// eth_secp256k1.
const (
	CosmosCoinType   uint32 = 118
	EthereumCoinType uint32 = 60
)

// Spec is how a key is made from a mnemonic: the signature algorithm and the BIP-44 HD path.
type Spec struct {
	Algo   hd.PubKeyType // secp256k1 or eth_secp256k1
	HDPath string        // m/44'/<coin type>'/<account>'/<change>/<index>
}

// DefaultSpec is the SDK's default: secp256k1 at m/44'/118'/0'/0/0.
func DefaultSpec() Spec { return Spec{Algo: Secp256k1Type, HDPath: sdk.FullFundraiserPath} }

// ParseSpec resolves a key's options. algo is "secp256k1" (or "", the default) or "eth_secp256k1";
// hdPath, when given, is a BIP-44 path (m/44'/118'/0'/0/0); coinType, when given without a path,
// makes m/44'/<coinType>'/0'/0/0 (rly's --coin-type); given with a path, it must be the path's.
// With neither, the algorithm's default coin type is used (118, or 60 for eth_secp256k1).
func ParseSpec(algo string, coinType *uint32, hdPath string) (Spec, error) {
	spec := Spec{Algo: hd.PubKeyType(strings.TrimSpace(algo))}
	switch spec.Algo {
	case "", Secp256k1Type:
		spec.Algo = Secp256k1Type
	case EthSecp256k1Type:
	default:
		return Spec{}, fmt.Errorf("%w: algorithm %q: use secp256k1 or eth_secp256k1", ErrBadSpec, algo)
	}
	if hdPath = strings.TrimSpace(hdPath); hdPath != "" {
		params, err := hd.NewParamsFromPath(hdPath)
		if err != nil {
			return Spec{}, fmt.Errorf("%w: hd path %q: %v (want a BIP-44 path such as m/44'/118'/0'/0/0)", ErrBadSpec, hdPath, err)
		}
		if coinType != nil && *coinType != params.CoinType {
			return Spec{}, fmt.Errorf("%w: coin type %d contradicts the hd path %q (coin type %d): give one of them", ErrBadSpec, *coinType, hdPath, params.CoinType)
		}
		spec.HDPath = params.String()
		return spec, nil
	}
	ct := CosmosCoinType
	if spec.Algo == EthSecp256k1Type {
		ct = EthereumCoinType
	}
	if coinType != nil {
		if *coinType >= 1<<31 {
			return Spec{}, fmt.Errorf("%w: coin type %d: must be below 2^31 (it is hardened)", ErrBadSpec, *coinType)
		}
		ct = *coinType
	}
	spec.HDPath = hd.CreateHDPath(ct, 0, 0).String()
	return spec, nil
}

func (s Spec) algo() (keyring.SignatureAlgo, error) {
	switch s.Algo {
	case Secp256k1Type, "":
		return hd.Secp256k1, nil
	case EthSecp256k1Type:
		return EthSecp256k1, nil
	}
	return nil, fmt.Errorf("%w: algorithm %q", ErrBadSpec, s.Algo)
}

// Algo is the algorithm of the key name ("secp256k1", "eth_secp256k1").
func Algo(kr keyring.Keyring, name string) (string, error) {
	rec, err := kr.Key(name)
	if err != nil {
		return "", fmt.Errorf("key %s: %w", name, err)
	}
	pub, err := rec.GetPubKey()
	if err != nil {
		return "", fmt.Errorf("key %s: %w", name, err)
	}
	return pub.Type(), nil
}

// MinPassphrase is the shortest passphrase Export accepts (the file keyring's own minimum).
const MinPassphrase = 8

// Export returns the key name's private key armored and encrypted with passphrase (the SDK's armor:
// bcrypt key derivation, xsalsa20-poly1305), to move it to another host with Import. The armor and
// the passphrase are secrets: never log them.
func Export(kr keyring.Keyring, name, passphrase string) (string, error) {
	if len(passphrase) < MinPassphrase {
		return "", fmt.Errorf("export key %s: %w", name, ErrEmptyPassphrase)
	}
	armor, err := kr.ExportPrivKeyArmor(name, passphrase)
	if err != nil {
		return "", fmt.Errorf("export key %s: %w", name, err)
	}
	return armor, nil
}

// Import stores an armored key (Export) under name and returns its address. A wrong passphrase is
// ErrWrongPassphrase, and nothing is stored.
func Import(kr keyring.Keyring, name, armor, passphrase, prefix string) (string, error) {
	if err := kr.ImportPrivKey(name, armor, passphrase); err != nil {
		if errorsmod.IsOf(err, sdkerrors.ErrWrongPassword) {
			return "", fmt.Errorf("import key %s: %w", name, ErrWrongPassphrase)
		}
		if errors.Is(err, keyring.ErrOverwriteKey) {
			return "", fmt.Errorf("import key %s: a key of that name exists (delete it first, or import under another name): %w", name, err)
		}
		return "", fmt.Errorf("import key %s: %w", name, err)
	}
	return Address(kr, name, prefix)
}

// ErrAlgoUnsupported is returned when a chain refuses a tx because it does not know the signing
// key's algorithm (an eth_secp256k1 key on a chain without Ethermint's key types).
var ErrAlgoUnsupported = errors.New("the chain does not accept keys of this algorithm")

// ExplainSendError explains a chain's refusal of a tx signed by a key of algo: when the chain could
// not decode the key's public key type (it names the type URL it cannot resolve), the error is
// ErrAlgoUnsupported, naming the chain and the algorithm. Other errors are returned as they are.
func ExplainSendError(chainID, algo string, err error) error {
	if err == nil || algo != string(EthSecp256k1Type) || !strings.Contains(err.Error(), EthPubKeyTypeURL) {
		return err
	}
	return fmt.Errorf("chain %s cannot decode the relayer key's public key (%s, type %s): it is not an Ethermint-style chain; "+
		"use a secp256k1 key there (key_algo = \"secp256k1\", `cityrelay keys add %s NAME --algo secp256k1`): %w: %w",
		chainID, algo, EthPubKeyTypeURL, chainID, ErrAlgoUnsupported, err)
}
