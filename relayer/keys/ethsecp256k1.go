package keys

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/crypto"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	ethcrypto "github.com/ethereum/go-ethereum/crypto"
)

// eth_secp256k1 is the key type of Ethermint-style chains (Evmos, Cronos, Kava, cosmos/evm): a
// secp256k1 key whose address is the Ethereum one (the last 20 bytes of the Keccak-256 of the
// uncompressed public key) and whose signatures are 65-byte recoverable ECDSA signatures over the
// Keccak-256 of the sign bytes. Neither ethermint nor cosmos/evm is a dependency here (ethermint
// needs forked SDK replaces; cosmos/evm needs SDK v0.53): this is the same algorithm over
// go-ethereum's secp256k1, with ethermint's protobuf type URLs and amino names, so a key's record,
// its address and its signatures are what those chains expect.

const (
	// EthSecp256k1Type is the algorithm's name (hd.PubKeyType; ethermint's KeyType).
	EthSecp256k1Type = hd.PubKeyType("eth_secp256k1")
	// Secp256k1Type is the SDK's default algorithm.
	Secp256k1Type = hd.Secp256k1Type

	ethPrivKeyName = "ethermint.crypto.v1.ethsecp256k1.PrivKey"
	ethPubKeyName  = "ethermint.crypto.v1.ethsecp256k1.PubKey"
	// EthPubKeyTypeURL is the type URL an eth_secp256k1 public key carries in a tx's signer info: a
	// chain that has not registered it cannot decode the tx.
	EthPubKeyTypeURL = "/" + ethPubKeyName

	ethPrivKeySize = 32
)

// ErrBadKey is returned for key bytes that are not a valid eth_secp256k1 key.
var ErrBadKey = errors.New("invalid eth_secp256k1 key")

func init() {
	// Armored export (crypto.EncryptArmorPrivKey) and import encode the private key with the SDK's
	// global amino codec: register the type under ethermint's amino names.
	legacy.Cdc.RegisterConcrete(&EthPubKey{}, "ethermint/PubKeyEthSecp256k1", nil)
	legacy.Cdc.RegisterConcrete(&EthPrivKey{}, "ethermint/PrivKeyEthSecp256k1", nil)
}

// registerEth registers the eth_secp256k1 key types in an interface registry (the keyring's record
// codec, a tx encoder's).
func registerEth(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*cryptotypes.PubKey)(nil), &EthPubKey{})
	registry.RegisterImplementations((*cryptotypes.PrivKey)(nil), &EthPrivKey{})
}

// RegisterInterfaces registers the eth_secp256k1 key types (for a chain client's encoding).
func RegisterInterfaces(registry codectypes.InterfaceRegistry) { registerEth(registry) }

// EthPrivKey is an eth_secp256k1 private key (32 bytes).
type EthPrivKey struct {
	Key []byte `json:"key"`
}

// EthPubKey is an eth_secp256k1 public key (33 bytes, compressed).
type EthPubKey struct {
	Key []byte `json:"key"`
}

var (
	_ cryptotypes.PrivKey     = (*EthPrivKey)(nil)
	_ cryptotypes.PubKey      = (*EthPubKey)(nil)
	_ codec.ProtoMarshaler    = (*EthPrivKey)(nil)
	_ codec.ProtoMarshaler    = (*EthPubKey)(nil)
	_ interface{ Size() int } = (*EthPubKey)(nil)
)

// Bytes is the private key's raw bytes.
func (k *EthPrivKey) Bytes() []byte { return append([]byte(nil), k.Key...) }

// PubKey is the compressed public key.
func (k *EthPrivKey) PubKey() cryptotypes.PubKey {
	ecdsa, err := ethcrypto.ToECDSA(k.Key)
	if err != nil {
		return &EthPubKey{}
	}
	return &EthPubKey{Key: ethcrypto.CompressPubkey(&ecdsa.PublicKey)}
}

// Equals compares private keys in constant time.
func (k *EthPrivKey) Equals(other cryptotypes.LedgerPrivKey) bool {
	return k.Type() == other.Type() && subtle.ConstantTimeCompare(k.Bytes(), other.Bytes()) == 1
}

// Type is the algorithm's name.
func (k *EthPrivKey) Type() string { return string(EthSecp256k1Type) }

// Sign signs the Keccak-256 of msg: a 65-byte [R || S || V] signature, V in {0, 1} (ethermint's).
func (k *EthPrivKey) Sign(msg []byte) ([]byte, error) {
	ecdsa, err := ethcrypto.ToECDSA(k.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return ethcrypto.Sign(ethcrypto.Keccak256(msg), ecdsa)
}

// Address is the Ethereum address: the last 20 bytes of the Keccak-256 of the uncompressed key.
func (k *EthPubKey) Address() crypto.Address {
	pub, err := ethcrypto.DecompressPubkey(k.Key)
	if err != nil {
		return nil
	}
	return crypto.Address(ethcrypto.PubkeyToAddress(*pub).Bytes())
}

// Bytes is the compressed public key.
func (k *EthPubKey) Bytes() []byte { return append([]byte(nil), k.Key...) }

// VerifySignature checks a 64- or 65-byte signature over the Keccak-256 of msg.
func (k *EthPubKey) VerifySignature(msg, sig []byte) bool {
	if len(sig) == ethcrypto.SignatureLength {
		sig = sig[:ethcrypto.SignatureLength-1] // drop V
	}
	if len(sig) != ethcrypto.SignatureLength-1 {
		return false
	}
	return ethcrypto.VerifySignature(k.Key, ethcrypto.Keccak256(msg), sig)
}

// Equals compares public keys.
func (k *EthPubKey) Equals(other cryptotypes.PubKey) bool {
	return k.Type() == other.Type() && bytes.Equal(k.Bytes(), other.Bytes())
}

// Type is the algorithm's name.
func (k *EthPubKey) Type() string { return string(EthSecp256k1Type) }

// Protobuf: one field, `bytes key = 1`, as ethermint's generated types; written by hand so that no
// generated code or file descriptor of ethermint is needed.

func (k *EthPrivKey) Reset()                   { *k = EthPrivKey{} }
func (k *EthPrivKey) String() string           { return "EthPrivKey{***}" }
func (*EthPrivKey) ProtoMessage()              {}
func (*EthPrivKey) XXX_MessageName() string    { return ethPrivKeyName }
func (k *EthPrivKey) Size() int                { return keySize(k.Key) }
func (k *EthPrivKey) Marshal() ([]byte, error) { return marshalKey(k.Key), nil }
func (k *EthPrivKey) MarshalTo(b []byte) (int, error) {
	return copy(b, marshalKey(k.Key)), nil
}
func (k *EthPrivKey) MarshalToSizedBuffer(b []byte) (int, error) {
	bz := marshalKey(k.Key)
	return copy(b[len(b)-len(bz):], bz), nil
}
func (k *EthPrivKey) Unmarshal(b []byte) error {
	key, err := unmarshalKey(b)
	if err != nil {
		return err
	}
	if len(key) != ethPrivKeySize {
		return fmt.Errorf("%w: private key of %d bytes, want %d", ErrBadKey, len(key), ethPrivKeySize)
	}
	k.Key = key
	return nil
}

func (k *EthPubKey) Reset()                   { *k = EthPubKey{} }
func (k *EthPubKey) String() string           { return fmt.Sprintf("EthPubKey{%X}", k.Key) }
func (*EthPubKey) ProtoMessage()              {}
func (*EthPubKey) XXX_MessageName() string    { return ethPubKeyName }
func (k *EthPubKey) Size() int                { return keySize(k.Key) }
func (k *EthPubKey) Marshal() ([]byte, error) { return marshalKey(k.Key), nil }
func (k *EthPubKey) MarshalTo(b []byte) (int, error) {
	return copy(b, marshalKey(k.Key)), nil
}
func (k *EthPubKey) MarshalToSizedBuffer(b []byte) (int, error) {
	bz := marshalKey(k.Key)
	return copy(b[len(b)-len(bz):], bz), nil
}
func (k *EthPubKey) Unmarshal(b []byte) error {
	key, err := unmarshalKey(b)
	if err != nil {
		return err
	}
	if len(key) != ethcrypto.DigestLength+1 {
		return fmt.Errorf("%w: public key of %d bytes, want 33 (compressed)", ErrBadKey, len(key))
	}
	k.Key = key
	return nil
}

func keySize(key []byte) int {
	if len(key) == 0 {
		return 0
	}
	return 1 + varintLen(uint64(len(key))) + len(key)
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func marshalKey(key []byte) []byte {
	if len(key) == 0 {
		return []byte{}
	}
	out := make([]byte, 0, keySize(key))
	out = append(out, 0x0a) // field 1, wire type 2
	v := uint64(len(key))
	for v >= 0x80 {
		out = append(out, byte(v)|0x80)
		v >>= 7
	}
	out = append(out, byte(v))
	return append(out, key...)
}

// unmarshalKey reads field 1 (bytes) of a message; unknown fields are skipped as protobuf requires.
func unmarshalKey(b []byte) ([]byte, error) {
	var key []byte
	for len(b) > 0 {
		tag, n := readVarint(b)
		if n == 0 {
			return nil, fmt.Errorf("%w: bad field tag", ErrBadKey)
		}
		b = b[n:]
		switch wire := tag & 7; wire {
		case 0:
			_, n := readVarint(b)
			if n == 0 {
				return nil, fmt.Errorf("%w: bad varint", ErrBadKey)
			}
			b = b[n:]
		case 2:
			l, n := readVarint(b)
			if n == 0 || uint64(len(b)-n) < l {
				return nil, fmt.Errorf("%w: truncated field", ErrBadKey)
			}
			if tag>>3 == 1 {
				key = append([]byte(nil), b[n:n+int(l)]...)
			}
			b = b[n+int(l):]
		default:
			return nil, fmt.Errorf("%w: unexpected wire type %d", ErrBadKey, wire)
		}
	}
	return key, nil
}

func readVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// ethSecp256k1Algo is the keyring's SignatureAlgo for eth_secp256k1: keys derived by BIP-32 from the
// mnemonic's seed along the HD path (the same derivation as the SDK's secp256k1 and go-ethereum's
// HD wallets; Ethereum's path is m/44'/60'/0'/0/0).
type ethSecp256k1Algo struct{}

// EthSecp256k1 is the eth_secp256k1 signature algorithm.
var EthSecp256k1 = ethSecp256k1Algo{}

func (ethSecp256k1Algo) Name() hd.PubKeyType { return EthSecp256k1Type }

func (ethSecp256k1Algo) Derive() hd.DeriveFn { return hd.Secp256k1.Derive() }

func (ethSecp256k1Algo) Generate() hd.GenerateFn {
	return func(bz []byte) cryptotypes.PrivKey {
		key := make([]byte, ethPrivKeySize)
		copy(key[ethPrivKeySize-min(len(bz), ethPrivKeySize):], bz)
		return &EthPrivKey{Key: key}
	}
}
