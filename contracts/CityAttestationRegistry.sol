// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title CityAttestationRegistry
/// @notice Issues and tracks the status of a city's DID attestations on an EVM (QBFT) city chain.
/// @dev This is the EVM twin of x/did's IssueAttestation and SetAttestationStatus (see docs/evm-city.md).
/// The signing bytes are byte-for-byte those of x/did's AttestationSignBytes and RevocationSignBytes, hashed
/// with sha256, so one issuer key and one signature work on both kinds of city. A Cosmos city learns an
/// attestation through the city-qbft light client by proving the storage slots of `issued[id]` (slot 5)
/// and `status[id]` (slot 6) against a verified state root; the storage layout below is therefore part of
/// the protocol: never reorder, retype or remove a state variable; new ones go after the last.
///
/// The contract has one immutable, evmChainId, set from block.chainid at deployment: the EVM writes it
/// into the runtime code, so the runtime code (and its hash, which the city-qbft light client pins and
/// checks in every header's account proof) is the compiler's deployedBytecode with the chain id at the
/// offsets in build/CityAttestationRegistry.immutables.json. It differs per EVM chain: a staging net whose
/// validators are this city's and whose registry sits at the same address (same deployer, same nonce)
/// holds different code, so its headers cannot update this chain's client. It is never a constructor
/// argument: whoever deploys the contract elsewhere cannot choose it.
contract CityAttestationRegistry {
    // ---------------------------------------------------------------------------------------------
    // Storage (protocol: slot numbers are fixed)
    // ---------------------------------------------------------------------------------------------

    /// @notice slot 0: may set keys and trusted issuers.
    address public admin;
    /// @notice slot 1: the city's chain id as the Cosmos side knows it; the origin in all signing bytes.
    string public chainId;
    /// @notice slot 2: keccak256(did ‖ 0x00 ‖ method) → Ethereum address of that method's secp256k1 key
    /// (zero: no key, or revoked).
    mapping(bytes32 => address) public keys;
    /// @notice slot 3: keccak256(credentialType ‖ 0x00 ‖ issuerDid) → trusted.
    mapping(bytes32 => bool) public trusted;
    /// @notice slot 4: keccak256(issuerDid) → last issuer sequence used, by issues and status changes alike.
    mapping(bytes32 => uint64) public issuerSeqs;
    /// @notice slot 5: id → keccak256(abi.encode(id, signer, uint64(issuedBlock))); zero: never issued.
    mapping(bytes32 => bytes32) public issued;
    /// @notice slot 6: id → status | statusSeq << 8 | statusBlock << 72.
    mapping(bytes32 => uint256) public status;
    /// @notice slot 7: id → keccak256(issuerDid ‖ 0x00 ‖ issuerMethod) of the issuing key.
    mapping(bytes32 => bytes32) public issuerOf;
    /// @notice slot 8: id → keccak256(issuerDid) of the issuer. A status change may be signed by any
    /// method of the issuer's DID (as in x/did, so a rotated or revoked key's attestations can still be
    /// revoked), which slot 7 alone cannot check.
    mapping(bytes32 => bytes32) public issuerDidOf;
    /// @notice slot 9: keccak256(did) → the DID's controller account. Zero: the admin controls the DID
    /// (it sets the DID's keys). The controller revokes the DID's attestations and keys without any
    /// issuer key or issuer sequence, so no signature of a key, leaked or not, can stop it.
    mapping(bytes32 => address) public controllers;
    /// @notice slot 10: keccak256(did ‖ 0x00 ‖ method) → the attestations that key signed, in issue order
    /// (so by block): the index the controller's bulk revocation after a key leak walks.
    mapping(bytes32 => Signed[]) internal signedBy;

    /// @notice An entry of signedBy: an attestation and the block it was issued in.
    struct Signed {
        bytes32 id;
        uint64 block;
    }

    /// @notice The EVM chain id (EIP-155) the registry was deployed on: block.chainid at deployment. An
    /// immutable (in the code, not in storage), so it binds the runtime code hash to the chain.
    uint256 public immutable evmChainId;

    // ---------------------------------------------------------------------------------------------
    // Constants (no storage)
    // ---------------------------------------------------------------------------------------------

    uint8 internal constant STATUS_ACTIVE = 1;
    uint8 internal constant STATUS_REVOKED = 2;
    uint8 internal constant STATUS_SUSPENDED = 3;

    /// @notice At most this many signedBy entries are walked by one revokeLeakedKey call (its gas).
    uint256 public constant MAX_LEAK_REVOCATIONS_PER_CALL = 100;

    /// @dev secp256k1n / 2: a signature with a larger s is the malleable twin of a low-s one.
    uint256 internal constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @dev Domain tags of x/did's signing bytes, trailing NUL included.
    bytes internal constant ATTESTATION_TAG = "cityrelay/did/v1/attestation\x00";
    bytes internal constant REVOCATION_TAG = "cityrelay/did/v1/revocation\x00";

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice An attestation was issued; carries everything needed to rebuild its signing bytes.
    event Issued(
        bytes32 indexed id,
        string issuerDid,
        string issuerMethod,
        string subjectDid,
        string credentialType,
        bytes digest,
        int64 validFrom,
        int64 validUntil,
        uint64 issuerSeq,
        bytes signature,
        uint64 issuedBlock
    );

    /// @notice An attestation's status changed; carries the signed status change.
    event StatusChanged(
        bytes32 indexed id,
        string issuerDid,
        string issuerMethod,
        uint8 newStatus,
        uint64 issuerSeq,
        bytes signature,
        uint64 statusBlock
    );

    /// @notice A DID's controller changed.
    event ControllerSet(string did, address controller);

    /// @notice A key was revoked by its DID's controller.
    event KeyRevoked(string did, string method, uint64 block);

    // ---------------------------------------------------------------------------------------------
    // Administration
    // ---------------------------------------------------------------------------------------------

    /// @param chainId_ the city's chain id as the Cosmos side knows it (e.g. "gimpo-evm").
    constructor(string memory chainId_) {
        require(bytes(chainId_).length > 0, "CityAttestationRegistry: empty chain id");
        admin = msg.sender;
        chainId = chainId_;
        evmChainId = block.chainid;
    }

    modifier onlyAdmin() {
        require(msg.sender == admin, "CityAttestationRegistry: caller is not the admin");
        _;
    }

    /// @notice Sets (or, with the zero address, removes) the secp256k1 key of a local DID's method.
    /// @param key the Ethereum address of the method's public key.
    function setKey(string calldata did, string calldata method, address key) external onlyAdmin {
        require(_isLocalDid(bytes(did)), "CityAttestationRegistry: did is not a DID of this city");
        keys[_keyId(bytes(did), bytes(method))] = key;
    }

    /// @notice Sets the controller account of a local DID: the admin, or the DID's current controller.
    function setController(string calldata did, address controller) external {
        require(_isLocalDid(bytes(did)), "CityAttestationRegistry: did is not a DID of this city");
        require(msg.sender == controllerOf(did), "CityAttestationRegistry: caller is not the DID's controller");
        controllers[keccak256(bytes(did))] = controller;
        emit ControllerSet(did, controller);
    }

    /// @notice The account that controls did: its controller, or the admin when none is set.
    function controllerOf(string calldata did) public view returns (address) {
        address c = controllers[keccak256(bytes(did))];
        return c == address(0) ? admin : c;
    }

    /// @notice Trusts (or stops trusting) an issuer DID for a credential type.
    function setTrusted(string calldata credentialType, string calldata issuerDid, bool ok) external onlyAdmin {
        trusted[keccak256(abi.encodePacked(credentialType, bytes1(0x00), issuerDid))] = ok;
    }

    // ---------------------------------------------------------------------------------------------
    // Attestations
    // ---------------------------------------------------------------------------------------------

    /// @notice Issues an attestation signed by a trusted issuer of this city.
    /// @param signature 65 bytes r ‖ s ‖ v over sha256(AttestationSignBytes(chainId, ...)), v ∈ {0, 1, 27, 28},
    /// s ≤ secp256k1n/2.
    /// @return id sha256 of the signing bytes (x/did's attestation id is its lowercase hex).
    function issue(
        string calldata issuerDid,
        string calldata issuerMethod,
        string calldata subjectDid,
        string calldata credentialType,
        bytes calldata digest,
        int64 validFrom,
        int64 validUntil,
        uint64 issuerSeq,
        bytes calldata signature
    ) external returns (bytes32 id) {
        require(_isLocalDid(bytes(issuerDid)), "CityAttestationRegistry: issuer is not a DID of this city");
        require(
            trusted[keccak256(abi.encodePacked(credentialType, bytes1(0x00), issuerDid))],
            "CityAttestationRegistry: issuer is not trusted for the credential type"
        );
        bytes32 didHash = keccak256(bytes(issuerDid));
        _checkNextSeq(didHash, issuerSeq);

        id = _attestationHash(issuerDid, issuerMethod, subjectDid, credentialType, digest, validFrom, validUntil, issuerSeq);
        require(issued[id] == 0, "CityAttestationRegistry: attestation already issued");

        bytes32 keyId = _keyId(bytes(issuerDid), bytes(issuerMethod));
        address signer = _recover(id, signature);
        require(signer == keys[keyId] && signer != address(0), "CityAttestationRegistry: signer is not the issuer's key");

        uint64 issuedBlock = uint64(block.number);
        issuerSeqs[didHash] = issuerSeq;
        issued[id] = keccak256(abi.encode(id, signer, issuedBlock));
        status[id] = STATUS_ACTIVE;
        issuerOf[id] = keyId;
        issuerDidOf[id] = didHash;
        signedBy[keyId].push(Signed(id, issuedBlock));

        emit Issued(
            id,
            issuerDid,
            issuerMethod,
            subjectDid,
            credentialType,
            digest,
            validFrom,
            validUntil,
            issuerSeq,
            signature,
            issuedBlock
        );
    }

    /// @notice Changes an attestation's status (active ↔ suspended, or to revoked, which is final).
    /// @param issuerDid the original issuer's DID; issuerMethod may be any of its methods with a key.
    /// @param signature 65 bytes r ‖ s ‖ v over sha256(RevocationSignBytes(chainId, hex(id), ...)).
    function changeStatus(
        bytes32 id,
        string calldata issuerDid,
        string calldata issuerMethod,
        uint8 newStatus,
        uint64 issuerSeq,
        bytes calldata signature
    ) external {
        require(issued[id] != 0, "CityAttestationRegistry: attestation not issued");
        bytes32 didHash = keccak256(bytes(issuerDid));
        require(issuerDidOf[id] == didHash, "CityAttestationRegistry: not the attestation's issuer");
        require(
            newStatus == STATUS_ACTIVE || newStatus == STATUS_REVOKED || newStatus == STATUS_SUSPENDED,
            "CityAttestationRegistry: invalid status"
        );
        uint8 current = uint8(status[id]);
        require(current != STATUS_REVOKED, "CityAttestationRegistry: attestation is revoked");
        require(current != newStatus, "CityAttestationRegistry: status unchanged");
        _checkNextSeq(didHash, issuerSeq);

        bytes32 h = sha256(
            abi.encodePacked(
                REVOCATION_TAG,
                _lp(bytes(chainId)),
                _lp(_hex(id)),
                _lp(bytes(issuerDid)),
                _lp(bytes(issuerMethod)),
                uint64(newStatus),
                issuerSeq
            )
        );
        address signer = _recover(h, signature);
        require(
            signer == keys[_keyId(bytes(issuerDid), bytes(issuerMethod))] && signer != address(0),
            "CityAttestationRegistry: signer is not the issuer's key"
        );

        uint64 statusBlock = uint64(block.number);
        issuerSeqs[didHash] = issuerSeq;
        status[id] = uint256(newStatus) | (uint256(issuerSeq) << 8) | (uint256(statusBlock) << 72);

        emit StatusChanged(id, issuerDid, issuerMethod, newStatus, issuerSeq, signature, statusBlock);
    }

    // ---------------------------------------------------------------------------------------------
    // The controller: revocation without any issuer key
    // ---------------------------------------------------------------------------------------------

    /// @notice Revokes an attestation on the word of its issuer DID's controller alone. Revoked is final.
    /// The status word takes the DID's next issuer sequence (the maximum when it is exhausted), so the
    /// sequences of one attestation's status changes only grow.
    function controllerRevoke(bytes32 id, string calldata issuerDid) external {
        require(issued[id] != 0, "CityAttestationRegistry: attestation not issued");
        bytes32 didHash = keccak256(bytes(issuerDid));
        require(issuerDidOf[id] == didHash, "CityAttestationRegistry: not the attestation's issuer");
        require(msg.sender == controllerOf(issuerDid), "CityAttestationRegistry: caller is not the DID's controller");
        require(uint8(status[id]) != STATUS_REVOKED, "CityAttestationRegistry: attestation is revoked");
        _controllerRevoke(id, issuerDid, didHash);
    }

    /// @notice Removes a key of did, for the DID's controller (the admin may also, with setKey).
    function revokeKey(string calldata did, string calldata method) external {
        require(msg.sender == controllerOf(did), "CityAttestationRegistry: caller is not the DID's controller");
        bytes32 keyId = _keyId(bytes(did), bytes(method));
        require(keys[keyId] != address(0), "CityAttestationRegistry: no such key");
        keys[keyId] = address(0);
        emit KeyRevoked(did, method, uint64(block.number));
    }

    /// @notice The remedy after a key leak, for the DID's controller: removes the key (if still set), then
    /// revokes what it signed from block fromBlock on, walking at most maxCount (≤ 100) of its signedBy
    /// entries from index max(start, the first entry at or after fromBlock). Already revoked entries are
    /// skipped. Call again with start = next while more is true.
    function revokeLeakedKey(
        string calldata did,
        string calldata method,
        uint64 fromBlock,
        uint256 start,
        uint256 maxCount
    ) external returns (uint256 next, bool more) {
        require(msg.sender == controllerOf(did), "CityAttestationRegistry: caller is not the DID's controller");
        require(
            maxCount > 0 && maxCount <= MAX_LEAK_REVOCATIONS_PER_CALL,
            "CityAttestationRegistry: maxCount must be 1 to MAX_LEAK_REVOCATIONS_PER_CALL"
        );
        bytes32 keyId = _keyId(bytes(did), bytes(method));
        if (keys[keyId] != address(0)) {
            keys[keyId] = address(0);
            emit KeyRevoked(did, method, uint64(block.number));
        }
        Signed[] storage list = signedBy[keyId];
        uint256 n = list.length;
        // Binary search: the first entry issued at or after fromBlock (entries are in block order).
        uint256 lo = 0;
        uint256 hi = n;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (list[mid].block < fromBlock) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        uint256 i = start > lo ? start : lo;
        uint256 end = i + maxCount < n ? i + maxCount : n;
        bytes32 didHash = keccak256(bytes(did));
        for (; i < end; i++) {
            bytes32 id = list[i].id;
            if (uint8(status[id]) != STATUS_REVOKED) {
                _controllerRevoke(id, did, didHash);
            }
        }
        return (end, end < n);
    }

    /// @notice How many attestations the key did#method has signed (the length of its signedBy index).
    function signedCount(string calldata did, string calldata method) external view returns (uint256) {
        return signedBy[_keyId(bytes(did), bytes(method))].length;
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev Requires issuerSeq to be exactly the DID's last issuer sequence plus one: a sequence that could
    /// jump would let one signature of any key pin the DID at 2^64-1, after which nothing signed could
    /// ever pass again.
    function _checkNextSeq(bytes32 didHash, uint64 issuerSeq) internal view {
        uint64 last = issuerSeqs[didHash];
        require(issuerSeq > last, "CityAttestationRegistry: stale issuer sequence");
        require(issuerSeq == last + 1, "CityAttestationRegistry: issuer sequence must be the last one plus one");
    }

    /// @dev Revokes id for the controller of didHash (issuerDid): the next issuer sequence, this block,
    /// and the same StatusChanged event as a signed change, with no method and no signature.
    function _controllerRevoke(bytes32 id, string calldata issuerDid, bytes32 didHash) internal {
        uint64 seq = issuerSeqs[didHash];
        if (seq < type(uint64).max) {
            seq++;
        }
        issuerSeqs[didHash] = seq;
        uint64 statusBlock = uint64(block.number);
        status[id] = uint256(STATUS_REVOKED) | (uint256(seq) << 8) | (uint256(statusBlock) << 72);
        emit StatusChanged(id, issuerDid, "", STATUS_REVOKED, seq, "", statusBlock);
    }

    /// @dev sha256 of x/did's AttestationSignBytes(chainId, ...).
    function _attestationHash(
        string calldata issuerDid,
        string calldata issuerMethod,
        string calldata subjectDid,
        string calldata credentialType,
        bytes calldata digest,
        int64 validFrom,
        int64 validUntil,
        uint64 issuerSeq
    ) internal view returns (bytes32) {
        bytes memory head = abi.encodePacked(
            ATTESTATION_TAG,
            _lp(bytes(chainId)),
            _lp(bytes(issuerDid)),
            _lp(bytes(issuerMethod)),
            _lp(bytes(subjectDid)),
            _lp(bytes(credentialType))
        );
        // int64 goes in as its two's complement uint64, as Go's uint64(int64) does.
        return sha256(abi.encodePacked(head, _lp(digest), uint64(validFrom), uint64(validUntil), issuerSeq));
    }

    /// @dev The signing-bytes encoding of a string or bytes value: 4-byte big-endian length, then the bytes.
    function _lp(bytes memory b) internal pure returns (bytes memory) {
        require(b.length <= type(uint32).max, "CityAttestationRegistry: value too long");
        return abi.encodePacked(uint32(b.length), b);
    }

    /// @dev keys/issuerOf key of a DID method: keccak256(did ‖ 0x00 ‖ method).
    function _keyId(bytes memory did, bytes memory method) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(did, bytes1(0x00), method));
    }

    /// @dev Whether did starts with "did:city:<chainId>:" and has a non-empty suffix.
    function _isLocalDid(bytes memory did) internal view returns (bool) {
        bytes memory prefix = abi.encodePacked("did:city:", chainId, ":");
        if (did.length <= prefix.length) {
            return false;
        }
        for (uint256 i = 0; i < prefix.length; i++) {
            if (did[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /// @dev Lowercase hex of a 32-byte value (64 characters, no 0x): x/did's attestation id string.
    function _hex(bytes32 v) internal pure returns (bytes memory out) {
        bytes16 digits = "0123456789abcdef";
        out = new bytes(64);
        for (uint256 i = 0; i < 32; i++) {
            uint8 b = uint8(v[i]);
            out[2 * i] = digits[b >> 4];
            out[2 * i + 1] = digits[b & 0x0f];
        }
    }

    /// @dev Recovers the signer of h from a 65-byte r ‖ s ‖ v signature; refuses high s, a v outside
    /// {0, 1, 27, 28} and signatures that recover to nothing.
    function _recover(bytes32 h, bytes calldata signature) internal pure returns (address signer) {
        require(signature.length == 65, "CityAttestationRegistry: signature must be 65 bytes");
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        require(uint256(s) <= HALF_N, "CityAttestationRegistry: signature s is high");
        if (v < 27) {
            v += 27;
        }
        require(v == 27 || v == 28, "CityAttestationRegistry: signature v is invalid");
        signer = ecrecover(h, v, r, s);
        require(signer != address(0), "CityAttestationRegistry: signature does not recover");
    }
}
