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
//! Every value here is also recomputed independently from the description
//! in [PROTOCOL](crate::docs::protocol) with Python's `cryptography`
//! package (HKDF-SHA256, HMAC-SHA256, X25519 with the Ed25519-to-X25519
//! identity conversion, Ed25519, and OpenSSL's ML-KEM-768 and
//! ML-KEM-1024, so the `ml-kem` crate is checked against a second
//! implementation) and a small GF(2^8) of its own for the erasure code:
//! `tests/vectors_crosscheck.py`, which CI runs.

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
    let ciphertext = setup.kem_ciphertext.unwrap();
    assert_eq!(sha256_hex(&ciphertext[..]), KEM_CIPHERTEXT_ONE_TIME_SHA256);
    assert_eq!(hex(&ciphertext[..]), KEM_CIPHERTEXT_ONE_TIME.concat());

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

/// `KDF_RK(root = 0x11.., dh = 0x22..)`, and the step that mixes a
/// post-quantum epoch secret 0x33.. .
#[test]
fn root_step() {
    let (root, chain) = RootKey([0x11; 32]).step(&[0x22; 32]);
    assert_eq!(hex(&root.0), ROOT_STEP_ROOT);
    assert_eq!(hex(&chain.0), ROOT_STEP_CHAIN);
    let (root, chain) = RootKey([0x11; 32]).step_hybrid(&[0x22; 32], &[0x33; 32]);
    assert_eq!(hex(&root.0), ROOT_STEP_BRAID_ROOT);
    assert_eq!(hex(&chain.0), ROOT_STEP_BRAID_CHAIN);
}

/// The post-quantum ratchet's erasure code: chunks of the 1,184-byte value
/// `i mod 251` at a data point (3) and a parity point (200).
#[test]
fn erasure_chunks() {
    let value: Vec<u8> = (0..1184).map(|i| (i % 251) as u8).collect();
    assert_eq!(hex(&super::erasure::encode(&value, 3)), hex(&value[384..512]));
    assert_eq!(hex(&super::erasure::encode(&value, 200)), ERASURE_PARITY_200);
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
const KEM_CIPHERTEXT_ONE_TIME: [&str; 49] = [
    "2503930749d508beab6bd021796918bec56334495e48bba23d9880685fcdf522",
    "ab4968c0ac3a61bbfa8c6ef5ba840ddaf90643ff0d17c8777360bb768f46142f",
    "3c4bbd7781fa22d92c922d63e3bd91251ae30ae2b122ea56eff0976e6d5636c0",
    "d605e93660387c665fe3dbffea962246250cb267762f9e67fe1d7b68a28d18c8",
    "4be14432d6d0125f07685ec632c6dd0f1aa10819d0b123d16c4497a543e7860a",
    "4b6550a544126b7e56b9c9b9b83478d7e44040b830ad729b2ff821e46950fa51",
    "29142f3e05cce815077ca85587ac9026d813352a9779f373a742222dca593844",
    "11e75b5da87a721a49f8a9b84e4121d83d0f048938e4389f6b11055579019f70",
    "18b1a2ab3a82a9a57d350f693096313fcf4a242306039ab90d481fb769b71cc4",
    "d3ec7043053469115f2bab8091ce1d11e8d16957bf7312c4eef773391207c1ab",
    "fc654abb68436e0337d96296def564966ad3a9f2dda94fc253dec4fd7c6a9fab",
    "19a04ccf429d8fbbb03db89e7b899bf551fd65d3fef1033bfa9554d6d8a42509",
    "393457dcc4f7ac994d5739deda7524670882763e16b63b23dd2a985733964d72",
    "844650bec84a57e21c5c9a9a127618dc959ca2450d2a8f323307ad91276bcfcd",
    "76cd278541596c4be1e266c9de439281922c9eafeece7411afc746abb98677e4",
    "3cbfbd4feaf88be3987b013109a41a1beedabc6c80b0ef159b703b13d0b92de6",
    "e5ee4eae908a002aebc036cf653670981c46d7b9a710b803ac1199c59f58d867",
    "47724191bf6a4bf3c21623ea7b0245b89f57d289171641eaba61f2ff92d09978",
    "76fd75a4150e13f6388d0c3e1b6b0d760d3e753b71fd4e314f3e030a15310ab3",
    "a771beceeb993fd87dc27f367c30690560f5fbd005ed40938cbe2d8c7a1aa1ce",
    "c0762bf988f240cd971175a59f6f3ce71191bd4623e6c60ea7bcdac621106ebc",
    "347953e2467cb661d98268c72496aa1ee7b05cdbd55f4f2f8a2b836b921f28b4",
    "5024911c72677d3ab711539ba5ba6c74b751504980d2136fcc58d561409836a8",
    "6544880c07f66b81c6f8874e9ccdcbb0ce6d68239ff30703b8c459637a3a225d",
    "854fa63e2d3a11e7cfeb94d9118c05a316bc5ad6c3181456fcafbcafa2853acb",
    "9cb78537e00c448f5f3759d966bcb110513d32df6f83b4490f1c982cf53e1784",
    "a5b7b68505d890c40350275052da86293c858e81b782dd662760f41dda20fd9a",
    "f1c14ef5ca671774d5b44df87ab0dcf6c55bc0b998b0f0ac3321a80398bbc77e",
    "085d0cd03cba4a54989a5a8953e60465da60f481770bb6da3ad509b3c593b6b9",
    "57fbdf3fd835ce14e487879b6814ee3ac0754d032c4bfe5eaf1838d6b4b392de",
    "4970d79ad1259e830ec4972498d4b4f77f39107fd338850ac494478b11a72c18",
    "34e411d8275124e4a403ec517f6c33d89455f39a4b0c070489eb9fdda22321f5",
    "e0435008f432c38afdfaf4c2ed6fe9323b0699cba70927944351f10db8de844d",
    "fc796fe1f6ae94674ac8e9dfce3d1ee77bef59f44f5f478949aa2ff4a63610ff",
    "ecf5d0dfd204803fbe3136f8cb380ea61e62b216fdea5c4cf9367be6460b75d5",
    "713530ddd951ff6b003a43ac1b4240207cd16692bbdcadfd20cbf8b8c846e84a",
    "8248007b8f5c1d9c36c06570c2c6c8fbfb925fba181f60cf52ab4f5c26d9032d",
    "eafeed7eacc50d90725c9f4e2aa84b0007aaf5aac46bedd8c350bf8ea28f54a6",
    "816917c86f740f3179a3bc18391c84604bb396383d8db6c008d1ad411fbda432",
    "e1d9642326abe2433006142a36e242ded712086835e02b1b6a4bd212e1bc950a",
    "bd927a932487654aab6769075705add4912d48ce14ba8108e8b4b3c498eda734",
    "9b5a5b5acff35810560ca8444d629da71bbf9217fb8c9a3000750f329e23464f",
    "1908aeb5d6b4e2767ea803a6f7c8fb2a9339654bf8bfd49e8f07d3e7650c98ff",
    "fd88c9c8af28e957e4fbfd93cf4d6d9c6c6d0bd6b067c75970f9f222ed40b779",
    "550118affe2f4a471528dc26f883c408b29691a59f21584ae568b32a2e269ba1",
    "0943d758752c82fee0626d3fbd56d017714daf2edf87d472c9c3cf5067a9b204",
    "01210ebdf176b6b7fca3da65c3d8e39a5bb04644014da5640a20e09dd08fdcdf",
    "af843294d3a901f53db6219742f4519b017fd25c0b2bbf712c83ad03dbc5136d",
    "86b477cb4b978135ea16d81bbb1f69f84bfc0b8ce05153bdc1e52549cc65f196",
];
const ROOT_STEP_BRAID_ROOT: &str = "dcf3665aa15336d46055c86236458ef766b025187a35f5bea9c288a439a5748b";
const ROOT_STEP_BRAID_CHAIN: &str = "43947da54390fab659bc474eda21387c8218d0dd07de870d891f92874c2f9594";
const ERASURE_PARITY_200: &str = "88ccbfea6040ac19d92e5dd5321214a1251a693cb696b306c631426d371711a4da37a25e8d040e12aaf461404ac3233fc3a336ca1990dcc07826b36627ae4e522bc653af7cf5ffe35b0590b1c940a0bc40d643bf6ce5263a82dc49cf8e07e7fb8f62f70bd8515b47ffa13415fffa950676be17fe3d8b15f206692e51e86e1148";
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
