//! Test vectors for the key derivation, computed once by this
//! implementation and hard-coded.
//!
//! They are **not** taken from an external specification (sealpost's labels
//! and constructions are its own). Their purpose is to pin the derivation:
//! any change to a label, an HKDF/HMAC input, the order of the X3DH
//! Diffie-Hellman results or the split of a KDF output changes these bytes
//! and fails the test, and with it wire compatibility with every deployed
//! peer. If such a change is intended, it needs a new protocol version
//! (`MessageType::version`), and these vectors are regenerated deliberately
//! (last: format version 3 of bundles and 1:1 messages, PQXDH).
//! `tests/integration/vectors.rs` pins a complete transcript through the public API.
//!
//! When they were generated, every value here was also recomputed
//! independently from the description in [PROTOCOL](crate::docs::protocol) with Python's
//! `cryptography` package (HKDF-SHA256, HMAC-SHA256, X25519 with the
//! Ed25519-to-X25519 identity conversion, ChaCha20-Poly1305), and matched:
//! see `tests/vectors_crosscheck.py`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use core::convert::Infallible;
use std::collections::VecDeque;

use rand_core::{TryCryptoRng, TryRng};
use x25519_dalek::StaticSecret;

use super::keys::{ChainKey, MessageKey, RootKey};
use super::{RatchetKeyPair, RatchetState};
use crate::identity::IdentityKeyPair;
use crate::prekey::PreKeyStore;
use crate::x3dh::{self, SetupPolicy};

/// An "RNG" that hands out a fixed list of 32-byte keys, one per request,
/// so that every key in a vector is spelled out below.
struct FixedKeys(VecDeque<[u8; 32]>);

impl TryRng for FixedKeys {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("only 32-byte keys are handed out")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("only 32-byte keys are handed out")
    }
    /// Each 32 bytes of a request take the next key; a shorter request
    /// (the 16-byte message salt) takes the next key's first bytes, and a
    /// 64-byte one (a KEM seed `d || z`) two keys.
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(32) {
            let key = self.0.pop_front().expect("a fixed key left");
            chunk.copy_from_slice(&key[..chunk.len()]);
        }
        Ok(())
    }
}
impl TryCryptoRng for FixedKeys {}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn root_of(state: &RatchetState) -> String {
    hex(&state.root.0)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

/// The keys a store and one PQXDH setup draw, in order: Bob's signed
/// prekey secret 0x03.., his last-resort KEM seed 0x08.. (d = z = 0x08..),
/// the one-time prekey's X25519 secret 0x04.. and KEM seed 0x09.., then
/// Alice's base key secret 0x05.. and encapsulation randomness 0x0a.. .
const SETUP_KEYS: [[u8; 32]; 8] =
    [[0x03; 32], [0x08; 32], [0x08; 32], [0x04; 32], [0x09; 32], [0x09; 32], [0x05; 32], [0x0a; 32]];

/// PQXDH from fixed keys: identity seeds 0x01.. (Alice) and 0x02.. (Bob),
/// and [`SETUP_KEYS`]; a second setup without the one-time prekey draws
/// base key 0x05.. and encapsulation randomness 0x0b.. . Both sides derive
/// the same first root key; the ML-KEM-1024 ciphertexts are pinned by
/// their SHA-256.
#[test]
fn pqxdh_shared_secret() {
    let alice = IdentityKeyPair::from_seed(&[0x01; 32]);
    let bob = IdentityKeyPair::from_seed(&[0x02; 32]);
    let mut keys = FixedKeys(SETUP_KEYS.iter().copied().chain([[0x05; 32], [0x0b; 32]]).collect());
    let mut store = PreKeyStore::new(&bob, 1_700_000_000_000, &mut keys);
    assert_eq!(store.generate_one_time(&bob, 1, &mut keys).unwrap(), vec![1]);
    let policy = SetupPolicy::RequirePostQuantum;

    // With the one-time prekey (four DH results and the KEM secret).
    let bundle = store.bundle(&bob, Some(1)).unwrap();
    assert_eq!(sha256_hex(&bundle.to_bytes()), BUNDLE_WITH_ONE_TIME_PREKEY_SHA256);
    let (initiator, setup) = x3dh::initiate(&alice, &bundle, policy, &mut keys).unwrap();
    let responder = x3dh::respond(&bob, &store, &setup, policy).unwrap();
    assert_eq!(root_of(&initiator), root_of(&responder));
    assert_eq!(root_of(&initiator), PQXDH_WITH_ONE_TIME_PREKEY);
    assert_eq!(hex(&setup.base_key), BASE_KEY_PUBLIC);
    assert_eq!(sha256_hex(&setup.kem_ciphertext.unwrap()[..]), KEM_CIPHERTEXT_ONE_TIME_SHA256);

    // Without it (three DH results, the last-resort KEM prekey).
    let bundle = store.bundle(&bob, None).unwrap();
    let (initiator, setup) = x3dh::initiate(&alice, &bundle, policy, &mut keys).unwrap();
    let responder = x3dh::respond(&bob, &store, &setup, policy).unwrap();
    assert_eq!(root_of(&initiator), root_of(&responder));
    assert_eq!(root_of(&initiator), PQXDH_WITHOUT_ONE_TIME_PREKEY);
    assert_eq!(sha256_hex(&setup.kem_ciphertext.unwrap()[..]), KEM_CIPHERTEXT_LAST_RESORT_SHA256);
    assert!(keys.0.is_empty());
}

/// The PQXDH key derivation alone: DH results 0x11.., 0x22.., 0x33..
/// (0x44..) and KEM secret 0x55.., and the classical X3DH derivation of
/// the same DH results.
#[test]
fn setup_kdf() {
    let dhs: [&[u8; 32]; 4] = [&[0x11; 32], &[0x22; 32], &[0x33; 32], &[0x44; 32]];
    assert_eq!(hex(&x3dh::derive(&dhs, Some(&[0x55; 32])).0), PQXDH_KDF_FOUR);
    assert_eq!(hex(&x3dh::derive(&dhs[..3], Some(&[0x55; 32])).0), PQXDH_KDF_THREE);
    assert_eq!(hex(&x3dh::derive(&dhs, None).0), X3DH_KDF_FOUR);
}

/// Classical X3DH (a bundle without a KEM prekey, accepted under
/// [`SetupPolicy::AllowClassical`]): the same keys as format version 2.
#[test]
fn x3dh_shared_secret() {
    let alice = IdentityKeyPair::from_seed(&[0x01; 32]);
    let bob = IdentityKeyPair::from_seed(&[0x02; 32]);
    let mut keys = FixedKeys(SETUP_KEYS[..6].iter().copied().chain([[0x05; 32], [0x05; 32]]).collect());
    let mut store = PreKeyStore::new(&bob, 1_700_000_000_000, &mut keys);
    store.generate_one_time(&bob, 1, &mut keys).unwrap();
    let policy = SetupPolicy::AllowClassical;
    for (one_time, expected) in [(Some(1), X3DH_WITH_ONE_TIME_PREKEY), (None, X3DH_WITHOUT_ONE_TIME_PREKEY)] {
        let bundle = store.classical_bundle(&bob, one_time).unwrap();
        let (initiator, setup) = x3dh::initiate(&alice, &bundle, policy, &mut keys).unwrap();
        assert!(setup.kem_ciphertext.is_none());
        let responder = x3dh::respond(&bob, &store, &setup, policy).unwrap();
        assert_eq!(root_of(&initiator), root_of(&responder));
        assert_eq!(root_of(&initiator), expected);
    }
    assert!(keys.0.is_empty());
}

/// `KDF_RK(root = 0x11.., dh = 0x22..)`.
#[test]
fn root_step() {
    let (root, chain) = RootKey([0x11; 32]).step(&[0x22; 32]);
    assert_eq!(hex(&root.0), ROOT_STEP_ROOT);
    assert_eq!(hex(&chain.0), ROOT_STEP_CHAIN);
}

/// `KDF_CK` four times from chain key 0x33..: message keys 0..3 and the
/// chain key after them.
#[test]
fn chain_steps() {
    let mut chain = ChainKey([0x33; 32]);
    for expected in CHAIN_MESSAGE_KEYS {
        let (mk, next) = chain.step();
        assert_eq!(hex(&mk.0), expected);
        chain = next;
    }
    assert_eq!(hex(&chain.0), CHAIN_KEY_AFTER_FOUR);
}

/// Message key 0x44.. with header salt 0x55.. expands to a
/// ChaCha20-Poly1305 key and nonce.
#[test]
fn message_key_expansion() {
    let aead = MessageKey([0x44; 32]).expand(&[0x55; 16]);
    assert_eq!(hex(&aead.key), EXPANDED_KEY);
    assert_eq!(hex(&aead.nonce), EXPANDED_NONCE);
}

/// One complete setup message from fixed keys: the initiator state of
/// `pqxdh_shared_secret` (with one-time prekey) draws its first braid KEM
/// seed 0x0c.. (the key of epoch 1), then encrypts "vector" with sending
/// ratchet key 0x06.. and header salt 0x07.. . The 1,568-byte KEM
/// ciphertext in the middle is pinned by its SHA-256, the rest byte by
/// byte.
#[test]
fn first_message_bytes() {
    let alice = IdentityKeyPair::from_seed(&[0x01; 32]);
    let bob = IdentityKeyPair::from_seed(&[0x02; 32]);
    let mut keys =
        FixedKeys(SETUP_KEYS.iter().copied().chain([[0x0c; 32], [0x0c; 32], [0x06; 32], [0x07; 32]]).collect());
    let mut store = PreKeyStore::new(&bob, 1_700_000_000_000, &mut keys);
    store.generate_one_time(&bob, 1, &mut keys).unwrap();
    let bundle = store.bundle(&bob, Some(1)).unwrap();
    let (mut initiator, setup) = x3dh::initiate(&alice, &bundle, SetupPolicy::RequirePostQuantum, &mut keys).unwrap();
    let mut message = Vec::new();
    initiator.encrypt(b"vector", &[0x00], Some(&setup), &mut keys, &mut message).unwrap();
    assert_eq!(
        initiator.our_ratchet_public().map(|k| hex(&k)),
        Some(hex(&RatchetKeyPair::from_secret(StaticSecret::from([0x06; 32])).public))
    );
    let before = FIRST_MESSAGE_BEFORE_KEM.concat();
    let (head, rest) = message.split_at(before.len() / 2);
    let (kem_ciphertext, tail) = rest.split_at(1568);
    assert_eq!(hex(head), before);
    assert_eq!(sha256_hex(kem_ciphertext), KEM_CIPHERTEXT_ONE_TIME_SHA256);
    // The header's braid chunk: point 0 of the encapsulation key, so its
    // first 128 bytes.
    let seed: [u8; 64] = [0x0c; 64];
    let braid_key = crate::kem::braid::public_key(&crate::kem::KemSeed::from_bytes(seed));
    let (fixed, tail) = tail.split_at(32 + 8 + 16 + 4 + 1 + 1);
    let (chunk, tail) = tail.split_at(128);
    assert_eq!(chunk, &braid_key[..128]);
    assert_eq!(sha256_hex(&braid_key[..]), BRAID_KEY_SHA256);
    assert_eq!(hex(fixed), FIRST_MESSAGE_HEADER.concat());
    assert_eq!(hex(tail), FIRST_MESSAGE_SEALED);
}

const PQXDH_WITH_ONE_TIME_PREKEY: &str = "53184f56c8c3e2875465d160824b9a3a86c252b4ba95471b89d187b9bf60f52d";
const PQXDH_WITHOUT_ONE_TIME_PREKEY: &str = "c51128ba2f994ec3e05b5e95df9e31ab6b608af9cfe2078644a36eb3ebfcd5d3";
const BUNDLE_WITH_ONE_TIME_PREKEY_SHA256: &str = "d2012fd4aede85c9c430cd1f0e3b18cb7b1e1ddec9b57f1a12d6275aa96099b5";
const KEM_CIPHERTEXT_ONE_TIME_SHA256: &str = "22bec26ea04300bd92b86a00b04206e404a1d6707f5a6296144a48bc065aabcb";
const KEM_CIPHERTEXT_LAST_RESORT_SHA256: &str = "9e03f2045969c4de6aa4ff499a610cd8e6ea92b5a49cce3819bcf386c30d0379";
const PQXDH_KDF_FOUR: &str = "0ff39d832018872b6eca9690419a2603b24aae54eaf702d61e0b48ae22faa536";
const PQXDH_KDF_THREE: &str = "3e5d0616d30e50301a057a26fbeca2a5e18a2b40864f782dacc13d2684e6f2f9";
const X3DH_KDF_FOUR: &str = "4a9b798235f26cff6d82fd48c3c5228df7e05c756067ce088f5e986c3798cd51";
const X3DH_WITH_ONE_TIME_PREKEY: &str = "689be644a5a6b885d5f0022cf5c26d0b1eaaa5631621fe27796abbdaaa558a15";
const X3DH_WITHOUT_ONE_TIME_PREKEY: &str = "64eb4c667d24a8b6514ceca64f2c0336f37b6341692ef80051411c0b2ddc6b6f";
const BASE_KEY_PUBLIC: &str = "50a61409b1ddd0325e9b16b700e719e9772c07000b1bd7786e907c653d20495d";
const ROOT_STEP_ROOT: &str = "fd06a369a2940e085432274b0f5e00ee43b3746161538aee379515e7f6419d26";
const ROOT_STEP_CHAIN: &str = "5147412f65d9dd8c2e7fbacc48073ce21e30e4900263e21b85164929672978b7";
const CHAIN_MESSAGE_KEYS: [&str; 4] = [
    "da9d2383815d52bf414c540d97e91d0facf9b98729f9a3f437ad4a9b571676a0",
    "2b97c6f1c43599db5cd4569a360c072d9bf84843e1a7ebe1dab3b1ff7952f7de",
    "6196591c69d863473936143fbaf86b383b88711495c2c879357bf3540dd02de7",
    "882c25565357d0a55c0ec151ed8fa67e7c369aabfe98f1a3e0b059acc8c535ad",
];
const CHAIN_KEY_AFTER_FOUR: &str = "ff04cc0d0a2f3d008ad6a3297e0c2838b7ed8794eb07a483631b33186eca3c33";
const EXPANDED_KEY: &str = "d260be87ff982e71ce17178163df0d444532aedcb3afd2672ddd252167053d9f";
const EXPANDED_NONCE: &str = "fd1d88d0a6adb76403661ce6";
/// The message of `first_message_bytes`, field by field, up to the KEM
/// ciphertext.
const FIRST_MESSAGE_BEFORE_KEM: [&str; 5] = [
    // version, type
    "0303",
    // initiator identity
    "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
    // base key
    "50a61409b1ddd0325e9b16b700e719e9772c07000b1bd7786e907c653d20495d",
    // signed prekey id, has one-time prekey, its id
    "000000010100000001",
    // KEM kind: ML-KEM-1024
    "01",
];
/// SHA-256 of the ML-KEM-768 key of seed 0x0c.. (`d = z = 0x0c..`).
const BRAID_KEY_SHA256: &str = "6beef27717a1f04d3534b8d7c1ee87751c497576eedf2128aa5f2bddff7d4bbb";
/// The header of `first_message_bytes`, after the KEM ciphertext and up to
/// the braid chunk's data.
const FIRST_MESSAGE_HEADER: [&str; 5] = [
    // ratchet key
    "f5b2d6e60f9477e310c2982daaa6c9136c108a1777c5947e448fa37d68174557",
    // previous chain length, message number
    "0000000000000000",
    // salt
    "07070707070707070707070707070707",
    // post-quantum epoch 0
    "00000000",
    // a chunk of the encapsulation key, at point 0
    "0100",
];
/// The ciphertext ("vector" || kind 0x00) and tag of `first_message_bytes`.
const FIRST_MESSAGE_SEALED: &str = "8b8c0fd8b3b49017c8ac78a5b76e9c5b8c03b703ab5a0d";
