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
//! (last: format version 2 of 1:1 messages, the per-message header salt).
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
use crate::x3dh;

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
    /// A 32-byte request takes the next key; a shorter one (the 16-byte
    /// message salt) takes the next key's first bytes.
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let key = self.0.pop_front().expect("a fixed key left");
        dst.copy_from_slice(&key[..dst.len()]);
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

/// X3DH from fixed keys: identity seeds 0x01.. (Alice) and 0x02.. (Bob),
/// Bob's signed prekey secret 0x03.., one-time prekey secret 0x04.., Alice's
/// base key secret 0x05.. . Both sides derive the same first root key.
#[test]
fn x3dh_shared_secret() {
    let alice = IdentityKeyPair::from_seed(&[0x01; 32]);
    let bob = IdentityKeyPair::from_seed(&[0x02; 32]);
    let mut keys = FixedKeys([[0x03; 32], [0x04; 32], [0x05; 32], [0x05; 32]].into());
    let mut store = PreKeyStore::new(&bob, 1_700_000_000_000, &mut keys);
    assert_eq!(store.generate_one_time(1, &mut keys).unwrap(), vec![1]);

    // With the one-time prekey (four DH results).
    let bundle = store.bundle(&bob, Some(1)).unwrap();
    let (initiator, setup) = x3dh::initiate(&alice, &bundle, &mut keys).unwrap();
    let responder = x3dh::respond(&bob, &store, &setup).unwrap();
    assert_eq!(root_of(&initiator), root_of(&responder));
    assert_eq!(root_of(&initiator), X3DH_WITH_ONE_TIME_PREKEY);
    assert_eq!(hex(&setup.base_key), BASE_KEY_PUBLIC);

    // Without it (three DH results), same base key.
    let bundle = store.bundle(&bob, None).unwrap();
    let (initiator, setup) = x3dh::initiate(&alice, &bundle, &mut keys).unwrap();
    let responder = x3dh::respond(&bob, &store, &setup).unwrap();
    assert_eq!(root_of(&initiator), root_of(&responder));
    assert_eq!(root_of(&initiator), X3DH_WITHOUT_ONE_TIME_PREKEY);
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

/// One complete ratchet message from fixed keys: the initiator state of
/// `x3dh_shared_secret` (with one-time prekey) encrypts "vector" with
/// sending ratchet key 0x06.. and header salt 0x07.. .
#[test]
fn first_message_bytes() {
    let alice = IdentityKeyPair::from_seed(&[0x01; 32]);
    let bob = IdentityKeyPair::from_seed(&[0x02; 32]);
    let mut keys = FixedKeys([[0x03; 32], [0x04; 32], [0x05; 32], [0x06; 32], [0x07; 32]].into());
    let mut store = PreKeyStore::new(&bob, 1_700_000_000_000, &mut keys);
    store.generate_one_time(1, &mut keys).unwrap();
    let bundle = store.bundle(&bob, Some(1)).unwrap();
    let (mut initiator, setup) = x3dh::initiate(&alice, &bundle, &mut keys).unwrap();
    let mut message = Vec::new();
    initiator.encrypt(b"vector", &[0x00], Some(&setup), &mut keys, &mut message).unwrap();
    assert_eq!(
        initiator.our_ratchet_public().map(|k| hex(&k)),
        Some(hex(&RatchetKeyPair::from_secret(StaticSecret::from([0x06; 32])).public))
    );
    assert_eq!(hex(&message), FIRST_MESSAGE.concat());
}

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
/// The message of `first_message_bytes`, field by field.
const FIRST_MESSAGE: [&str; 8] = [
    // version, type
    "0203",
    // initiator identity
    "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
    // base key
    "50a61409b1ddd0325e9b16b700e719e9772c07000b1bd7786e907c653d20495d",
    // signed prekey id, has one-time prekey, its id, KEM kind
    "00000001010000000100",
    // ratchet key
    "f5b2d6e60f9477e310c2982daaa6c9136c108a1777c5947e448fa37d68174557",
    // previous chain length, message number
    "0000000000000000",
    // salt
    "07070707070707070707070707070707",
    // ciphertext ("vector" || kind 0x00) and tag
    "f6a69e1d7df0b43ab0f5592658ce572176bf7047415f29",
];
