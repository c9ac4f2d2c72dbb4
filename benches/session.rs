//! 1:1 session benchmarks: the library next to the raw primitives it is
//! built from, measured in the same run.
//!
//! Groups (criterion writes `target/criterion/<group>/<name>/`):
//!
//! * `session_raw`: single primitives with the crates and parameters the
//!   library uses (ChaCha20-Poly1305, the HMAC chain step, the HKDF
//!   message-key expansion and root step, X25519, Ed25519, identity-key
//!   decoding).
//! * `session_floor`: for each library operation, exactly the primitive
//!   calls it cannot avoid, executed back to back. This is the baseline of
//!   the ratio targets; measuring it as one benchmark (rather than summing
//!   `session_raw` entries) keeps it next to the library measurement in
//!   time, which matters on a shared, noisy machine.
//! * `session_lib`: the library operations, including a run of
//!   alternating round trips one post-quantum epoch long, with the
//!   post-quantum ratchet and without it (turned off through the test
//!   hooks), whose difference is the ratchet's amortized cost.
//!
//! Times are **thread CPU time** by default (the testkit's
//! [`BenchClock`](sealpost_testkit::bench::BenchClock)): on the shared
//! development machine wall-clock time mostly measures how long the
//! scheduler kept the benchmark waiting. `SEALPOST_BENCH_CLOCK=wall`
//! switches to criterion's wall clock.
//!
//! `python3 benches/ratios.py` prints the ratio table (library / floor)
//! from `target/criterion`; BENCHMARKS.md explains the method. Run with
//! short times:
//!
//! ```text
//! cargo bench --bench session -- --warm-up-time 1 --measurement-time 3
//! ```

// Benchmark set-up unwraps and indexes: a failure is a bug to stop at.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use criterion::{BatchSize, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use ml_kem::kem::{Decapsulate, Encapsulate, KeyExport};
use ml_kem::{MlKem768, MlKem1024};
use rand::rngs::StdRng;
use rand_core::Rng as _;
use sealpost::PreKeyBundle;
use sealpost_testkit::bench::{self, BenchCriterion as C, cpu_timed, paired};
use sealpost_testkit::{Conversation, accounts, rng};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

/// The library's labels (src/crypto.rs `label`), so HKDF inputs have the
/// same lengths.
const ROOT_LABEL: &[u8] = b"sealpost v1 root ratchet";
const MESSAGE_KEY_LABEL: &[u8] = b"sealpost v1 message key";
const SIGNED_PREKEY_LABEL: &[u8] = b"sealpost v1 signed prekey";

const SMALL: usize = 100;
const LARGE: usize = 1 << 20;
/// Session AD (two identity keys) + ratchet-message prefix (2 + 32 + 8 +
/// 16-byte salt).
const AD_LEN: usize = 64 + 58;

// ---------------------------------------------------------------------------
// Raw primitives, written the way the library calls them.

/// ChaCha20-Poly1305 seal then open in place, detached tag, cipher built
/// per call (as `crypto::seal_in_place` / `open_in_place` do).
fn aead_seal_open(key: &[u8; 32], nonce: &[u8; 12], ad: &[u8], buf: &mut [u8]) {
    let tag = ChaCha20Poly1305::new(key.into()).encrypt_inout_detached(nonce.into(), ad, buf.into()).unwrap();
    ChaCha20Poly1305::new(key.into()).decrypt_inout_detached(nonce.into(), ad, buf.into(), &tag).unwrap();
}

/// The floor of one in-chain message: the sender draws the per-message
/// salt from its RNG; a chain step and a key expansion on each side, seal
/// on one, open on the other (in place).
fn in_chain_floor(rng: &mut StdRng, ad: &[u8], buf: &mut [u8]) {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let (mk, _next) = chain_step(black_box(&[4u8; 32]));
    let (key, nonce) = expand_message_key(&mk, &salt);
    let tag = ChaCha20Poly1305::new((&key).into()).encrypt_inout_detached((&nonce).into(), ad, buf.into()).unwrap();
    let (mk, _next) = chain_step(black_box(&[4u8; 32]));
    let (key, nonce) = expand_message_key(&mk, &salt);
    ChaCha20Poly1305::new((&key).into()).decrypt_inout_detached((&nonce).into(), ad, buf.into(), &tag).unwrap();
}

/// [`in_chain_floor`] with the AEAD computed as the library computes it
/// (src/ratchet/aead.rs): ChaCha20 block 0 and the payload in one
/// four-block keystream call, Poly1305 over the associated data in place.
/// The same primitive work the library does, with no framing, state or
/// zeroization: the library's own overhead is its ratio to this.
fn in_chain_floor_composed(rng: &mut StdRng, ad: &[u8], buf: &mut [u8]) {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let (mk, _next) = chain_step(black_box(&[4u8; 32]));
    let (key, nonce) = expand_message_key(&mk, &salt);
    let tag = composed_aead(&key, &nonce, ad, buf, None);
    let (mk, _next) = chain_step(black_box(&[4u8; 32]));
    let (key, nonce) = expand_message_key(&mk, &salt);
    composed_aead(&key, &nonce, ad, buf, Some(&tag));
}

/// One keystream call over block 0 and a payload of at most 192 bytes;
/// seals (`expected` none) or checks the tag and opens.
fn composed_aead(key: &[u8; 32], nonce: &[u8; 12], ad: &[u8], buf: &mut [u8], expected: Option<&[u8; 16]>) -> [u8; 16] {
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    use poly1305::universal_hash::{KeyInit as _, UniversalHash};
    let n = buf.len();
    let mut ks = [0u8; 256];
    ks[64..64 + n].copy_from_slice(buf);
    chacha20::ChaCha20::new(key.into(), nonce.into()).apply_keystream(&mut ks);
    let mut mac = poly1305::Poly1305::new(ks[..32].try_into().unwrap());
    mac.update_padded(ad);
    mac.update_padded(if expected.is_some() { &buf[..] } else { &ks[64..64 + n] });
    let mut lengths = poly1305::Block::default();
    lengths[..8].copy_from_slice(&(ad.len() as u64).to_le_bytes());
    lengths[8..].copy_from_slice(&(n as u64).to_le_bytes());
    mac.update(&[lengths]);
    let tag: [u8; 16] = mac.finalize().into();
    if let Some(expected) = expected {
        assert_eq!(&tag, expected);
    }
    buf.copy_from_slice(&ks[64..64 + n]);
    tag
}

/// `KDF_CK`: HMAC-SHA256 keyed once, cloned, over 0x01 and 0x02.
fn chain_step(ck: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let keyed = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(ck).unwrap();
    let mut m = keyed.clone();
    m.update(&[0x01]);
    let mut n = keyed;
    n.update(&[0x02]);
    (m.finalize().into_bytes().into(), n.finalize().into_bytes().into())
}

/// Message key and the message's 16-byte header salt -> 32-byte AEAD key ||
/// 12-byte nonce (HKDF-SHA256, 44 bytes).
fn expand_message_key(mk: &[u8; 32], salt: &[u8; 16]) -> ([u8; 32], [u8; 12]) {
    let mut okm = [0u8; 44];
    Hkdf::<Sha256>::new(Some(salt), mk).expand(MESSAGE_KEY_LABEL, &mut okm).unwrap();
    let (k, n) = okm.split_at(32);
    (k.try_into().unwrap(), n.try_into().unwrap())
}

/// `KDF_RK`: HKDF-SHA256(salt = root key, ikm = DH output) -> 64 bytes.
fn root_step(rk: &[u8; 32], dh: &[u8; 32]) -> [u8; 64] {
    let mut okm = [0u8; 64];
    Hkdf::<Sha256>::new(Some(rk), dh).expand(ROOT_LABEL, &mut okm).unwrap();
    okm
}

/// A fresh X25519 key pair (one fixed-base scalar multiplication).
fn x25519_keygen(rng: &mut StdRng) -> (StaticSecret, PublicKey) {
    let secret = StaticSecret::random_from_rng(rng);
    let public = PublicKey::from(&secret);
    (secret, public)
}

/// X25519 with the contributory check the library applies.
fn x25519_dh(secret: &StaticSecret, public: &PublicKey) -> [u8; 32] {
    let shared = secret.diffie_hellman(public);
    assert!(shared.was_contributory());
    shared.to_bytes()
}

/// What `IdentityKey::from_bytes` must do: Edwards decompression, the
/// small-order check, the prime-order-subgroup check (one key per identity:
/// [ℓ]A is the identity, a variable-time multiplication as the library
/// does it, A being public), and the Montgomery conversion for the X25519
/// key.
fn identity_decode(bytes: &[u8; 32]) -> (VerifyingKey, PublicKey) {
    use curve25519_dalek::{EdwardsPoint, Scalar, traits::IsIdentity};
    let key = VerifyingKey::from_bytes(bytes).unwrap();
    assert!(!key.is_weak());
    let point = key.to_edwards();
    let l_point = EdwardsPoint::vartime_double_scalar_mul_basepoint(&-Scalar::ONE, &point, &Scalar::ZERO) + point;
    assert!(l_point.is_identity());
    let agreement = PublicKey::from(key.to_montgomery().to_bytes());
    (key, agreement)
}

type Dk<P> = ml_kem::DecapsulationKey<P>;
type Ek<P> = ml_kem::EncapsulationKey<P>;

/// ML-KEM key generation from a 64-byte seed (how the library expands a
/// stored KEM secret).
fn mlkem1024_expand(seed: &[u8; 64]) -> Dk<MlKem1024> {
    Dk::<MlKem1024>::from_seed((*seed).into())
}

fn mlkem768_expand(seed: &[u8; 64]) -> Dk<MlKem768> {
    Dk::<MlKem768>::from_seed((*seed).into())
}

/// Parses an encapsulation key from bytes (the FIPS 203 check).
fn mlkem1024_parse(bytes: &ml_kem::Key<Ek<MlKem1024>>) -> Ek<MlKem1024> {
    Ek::<MlKem1024>::new(bytes).unwrap()
}

fn mlkem768_parse(bytes: &ml_kem::Key<Ek<MlKem768>>) -> Ek<MlKem768> {
    Ek::<MlKem768>::new(bytes).unwrap()
}

/// The signed-prekey signature input: label || id || created at || key.
fn signed_prekey_message() -> Vec<u8> {
    let mut m = SIGNED_PREKEY_LABEL.to_vec();
    m.extend_from_slice(&[7u8; 4 + 8 + 32]);
    m
}

struct RawKeys {
    rng: StdRng,
    secret: StaticSecret,
    public: PublicKey,
    signing: SigningKey,
    verifying: VerifyingKey,
    message: Vec<u8>,
    signature: Signature,
    identity_bytes: [u8; 32],
}

fn raw_keys() -> RawKeys {
    let mut rng = rng(7);
    let (secret, _) = x25519_keygen(&mut rng);
    let (_, public) = x25519_keygen(&mut rng);
    let signing = SigningKey::from_bytes(&[9u8; 32]);
    let verifying = signing.verifying_key();
    let message = signed_prekey_message();
    let signature = signing.sign(&message);
    let identity_bytes = verifying.to_bytes();
    RawKeys { rng, secret, public, signing, verifying, message, signature, identity_bytes }
}

/// The floors of session setup: what `bench_floor` and `setup_paired`
/// time for each side.
struct SetupFloor {
    seed: [u8; 64],
    ek1024: ml_kem::Key<Ek<MlKem1024>>,
    ct1024: ml_kem::Ciphertext<MlKem1024>,
}

impl SetupFloor {
    fn new(k: &mut RawKeys) -> Self {
        let seed = [5u8; 64];
        let ek1024 = mlkem1024_expand(&seed).encapsulation_key().to_bytes();
        let (ct1024, _) = mlkem1024_parse(&ek1024).encapsulate_with_rng(&mut k.rng);
        Self { seed, ek1024, ct1024 }
    }

    /// Initiator: decode the bundle's identity, verify the signed prekey
    /// and the KEM prekey, parse the KEM prekey and encapsulate to it, base
    /// key, DH1-DH4, then the first ratchet key and its DH, and the post-
    /// quantum ratchet's first key pair (its encoded key goes out in
    /// chunks).
    fn initiator(&self, k: &mut RawKeys) {
        black_box(identity_decode(black_box(&k.identity_bytes)));
        k.verifying.verify_strict(&k.message, &k.signature).unwrap();
        k.verifying.verify_strict(&k.message, &k.signature).unwrap();
        black_box(mlkem1024_parse(black_box(&self.ek1024)).encapsulate_with_rng(&mut k.rng));
        for _ in 0..2 {
            black_box(x25519_keygen(&mut k.rng));
        }
        for _ in 0..5 {
            black_box(x25519_dh(&k.secret, black_box(&k.public)));
        }
        black_box(mlkem768_expand(black_box(&self.seed)).encapsulation_key().to_bytes());
    }

    /// Responder: decode the initiator's identity, DH1-DH4, the DH of the
    /// first message's ratchet key, and the KEM prekey expanded from its
    /// seed and decapsulated.
    fn responder(&self, k: &RawKeys) {
        black_box(identity_decode(black_box(&k.identity_bytes)));
        for _ in 0..5 {
            black_box(x25519_dh(&k.secret, black_box(&k.public)));
        }
        black_box(mlkem1024_expand(black_box(&self.seed)).decapsulate(black_box(&self.ct1024)));
    }
}

fn bench_raw(c: &mut C) {
    let mut k = raw_keys();
    let mut g = c.benchmark_group("session_raw");
    let (key, nonce, ad) = ([1u8; 32], [2u8; 12], [3u8; AD_LEN]);

    // Payload = message + the payload-kind byte the library appends.
    let mut small = vec![0u8; SMALL + 1];
    g.bench_function("aead_seal_open_100B", |b| b.iter(|| aead_seal_open(&key, &nonce, &ad, black_box(&mut small))));
    let mut large = vec![0u8; LARGE + 1];
    g.throughput(Throughput::Bytes(LARGE as u64));
    g.bench_function("aead_seal_open_1MiB", |b| b.iter(|| aead_seal_open(&key, &nonce, &ad, black_box(&mut large))));
    g.throughput(Throughput::Elements(1));

    g.bench_function("chain_step", |b| b.iter(|| chain_step(black_box(&[4u8; 32]))));
    g.bench_function("message_key_expand", |b| {
        b.iter(|| expand_message_key(black_box(&[5u8; 32]), black_box(&[6u8; 16])))
    });
    g.bench_function("root_step", |b| b.iter(|| root_step(black_box(&[6u8; 32]), black_box(&[7u8; 32]))));
    g.bench_function("x25519_keygen", |b| b.iter(|| x25519_keygen(&mut k.rng)));
    // The per-message header salt (the cost of the restore-safety fix, on
    // top of 16 more authenticated bytes).
    g.bench_function("salt_16B", |b| {
        b.iter(|| {
            let mut salt = [0u8; 16];
            k.rng.fill_bytes(&mut salt);
            black_box(salt)
        })
    });
    g.bench_function("x25519_dh", |b| b.iter(|| x25519_dh(black_box(&k.secret), black_box(&k.public))));
    g.bench_function("ed25519_sign", |b| b.iter(|| k.signing.sign(black_box(&k.message))));
    g.bench_function("ed25519_verify_strict", |b| {
        b.iter(|| k.verifying.verify_strict(black_box(&k.message), black_box(&k.signature)).unwrap())
    });
    g.bench_function("identity_decode", |b| b.iter(|| identity_decode(black_box(&k.identity_bytes))));

    // ML-KEM-1024 (PQXDH) and ML-KEM-768 (the post-quantum ratchet).
    let seed = [5u8; 64];
    let dk1024 = mlkem1024_expand(&seed);
    let ek1024 = dk1024.encapsulation_key().to_bytes();
    let (ct1024, _) = mlkem1024_parse(&ek1024).encapsulate_with_rng(&mut k.rng);
    g.bench_function("mlkem1024_keygen_from_seed", |b| {
        b.iter(|| mlkem1024_expand(black_box(&seed)).encapsulation_key().to_bytes())
    });
    g.bench_function("mlkem1024_parse_key", |b| b.iter(|| mlkem1024_parse(black_box(&ek1024))));
    let parsed1024 = mlkem1024_parse(&ek1024);
    g.bench_function("mlkem1024_encaps", |b| b.iter(|| black_box(&parsed1024).encapsulate_with_rng(&mut k.rng)));
    g.bench_function("mlkem1024_decaps", |b| b.iter(|| black_box(&dk1024).decapsulate(black_box(&ct1024))));
    let dk768 = mlkem768_expand(&seed);
    let ek768 = dk768.encapsulation_key().to_bytes();
    let parsed768 = mlkem768_parse(&ek768);
    let (ct768, _) = parsed768.encapsulate_with_rng(&mut k.rng);
    g.bench_function("mlkem768_keygen_from_seed", |b| {
        b.iter(|| mlkem768_expand(black_box(&seed)).encapsulation_key().to_bytes())
    });
    g.bench_function("mlkem768_parse_key", |b| b.iter(|| mlkem768_parse(black_box(&ek768))));
    g.bench_function("mlkem768_encaps", |b| b.iter(|| black_box(&parsed768).encapsulate_with_rng(&mut k.rng)));
    g.bench_function("mlkem768_decaps", |b| b.iter(|| black_box(&dk768).decapsulate(black_box(&ct768))));
    g.finish();
}

// ---------------------------------------------------------------------------
// Floors: the primitive work each library operation must do.

fn bench_floor(c: &mut C) {
    let mut k = raw_keys();
    let mut g = c.benchmark_group("session_floor");
    let ad = [3u8; AD_LEN];

    // One in-chain message: a salt from the RNG, a chain step and a key
    // expansion on each side, seal on one, open on the other.
    let mut small = vec![0u8; SMALL + 1];
    g.bench_function("in_chain_100B", |b| b.iter(|| in_chain_floor(&mut k.rng, &ad, &mut small)));

    let mut large = vec![0u8; LARGE + 1];
    g.throughput(Throughput::Bytes(LARGE as u64));
    g.bench_function("in_chain_1MiB", |b| b.iter(|| aead_seal_open(&[1; 32], &[2; 12], &ad, black_box(&mut large))));
    g.throughput(Throughput::Elements(1));

    // DH-ratchet round trip: each sender generates a ratchet key and does a
    // DH; each receiver does the matching DH.
    g.bench_function("dh_ratchet_round_trip", |b| {
        b.iter(|| {
            for _ in 0..2 {
                let (s, p) = x25519_keygen(&mut k.rng);
                black_box(x25519_dh(&s, &k.public));
                black_box(x25519_dh(&k.secret, &p));
            }
        })
    });

    let setup = SetupFloor::new(&mut k);
    g.bench_function("setup_initiator", |b| b.iter(|| setup.initiator(&mut k)));
    g.bench_function("setup_responder", |b| b.iter(|| setup.responder(&k)));
    g.finish();
}

// ---------------------------------------------------------------------------
// The library.

/// Alice and Bob after a full exchange: Alice's next message opens a new
/// chain, so one warm-up message puts both in steady state.
fn pair() -> (StdRng, Conversation) {
    let mut rng = rng(11);
    let mut c = Conversation::established(&mut rng);
    c.a_to_b(b"warm", &mut rng);
    (rng, c)
}

/// A new session, confirmed both ways, with the post-quantum ratchet on or
/// off (off before either side sends in it).
fn fresh_pair(braid: bool) -> (StdRng, Conversation) {
    let mut rng = rng(14);
    let (alice, mut bob) = accounts(&mut rng, 1);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    if !braid {
        sealpost::test_hooks::disable_post_quantum_ratchet(&mut a);
    }
    let first = a.encrypt(b"hi", &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&first).unwrap();
    a.decrypt(&b.encrypt(b"hello", &mut rng).unwrap()).unwrap();
    (rng, Conversation { alice, bob, a, b })
}

/// Alternating round trips per post-quantum epoch, counted over 20 epochs.
fn round_trips_per_epoch() -> usize {
    let (mut rng, mut p) = fresh_pair(true);
    let mut trips = 0;
    while p.a.post_quantum_epoch() < 20 {
        p.b.decrypt(&p.a.encrypt(b"x", &mut rng).unwrap()).unwrap();
        p.a.decrypt(&p.b.encrypt(b"y", &mut rng).unwrap()).unwrap();
        trips += 1;
    }
    trips / 20
}

fn bench_lib(c: &mut C) {
    let mut g = c.benchmark_group("session_lib");

    // Steady state inside one chain: Alice encrypts, Bob decrypts (through
    // Account::decrypt, the entry point that handles every message).
    let (mut rng, mut p) = pair();
    let small = vec![0x61u8; SMALL];
    g.bench_function("in_chain_100B", |b| {
        b.iter(|| {
            let m = p.a.encrypt(black_box(&small), &mut rng).unwrap();
            let text = p.bob.decrypt(&mut p.b, &m).unwrap();
            assert_eq!(text.len(), SMALL);
        })
    });

    let (mut wire, mut text) = (Vec::with_capacity(SMALL + 256), Vec::with_capacity(SMALL));
    g.bench_function("in_chain_100B_into", |b| {
        b.iter(|| {
            wire.clear();
            p.a.encrypt_into(black_box(&small), &mut wire, &mut rng).unwrap();
            p.b.decrypt_into(&wire, &mut text).unwrap();
            assert_eq!(text.len(), SMALL);
        })
    });

    let (mut rng, mut p) = pair();
    let large = vec![0x62u8; LARGE];
    g.throughput(Throughput::Bytes(LARGE as u64));
    g.bench_function("in_chain_1MiB", |b| {
        b.iter(|| {
            let m = p.a.encrypt(black_box(&large), &mut rng).unwrap();
            let text = p.bob.decrypt(&mut p.b, &m).unwrap();
            assert_eq!(text.len(), LARGE);
        })
    });
    // The same through caller-owned buffers, reused from message to
    // message: no allocation, so no page faults whatever the allocator.
    let (mut wire, mut text) = (Vec::with_capacity(LARGE + 256), Vec::with_capacity(LARGE));
    g.bench_function("in_chain_1MiB_into", |b| {
        b.iter(|| {
            wire.clear();
            p.a.encrypt_into(black_box(&large), &mut wire, &mut rng).unwrap();
            p.b.decrypt_into(&wire, &mut text).unwrap();
            assert_eq!(text.len(), LARGE);
        })
    });
    g.throughput(Throughput::Elements(1));

    // A -> B and B -> A, each opening a new chain with a new ratchet key.
    let (mut rng, mut p) = pair();
    g.bench_function("dh_ratchet_round_trip", |b| {
        b.iter(|| {
            let m = p.a.encrypt(black_box(&small), &mut rng).unwrap();
            p.bob.decrypt(&mut p.b, &m).unwrap();
            let r = p.b.encrypt(black_box(&small), &mut rng).unwrap();
            p.alice.decrypt(&mut p.a, &r).unwrap();
        })
    });

    // A run of alternating round trips one post-quantum epoch long (the
    // braid's KEM work happens once in it), with the post-quantum ratchet
    // and without it.
    let per_epoch = round_trips_per_epoch();
    println!("post-quantum epoch: {per_epoch} alternating round trips (strict alternation)");
    for (name, braid) in [("epoch_of_round_trips", true), ("epoch_of_round_trips_classical", false)] {
        let (mut rng, mut p) = fresh_pair(braid);
        g.bench_function(name, |b| {
            b.iter(|| {
                for _ in 0..per_epoch {
                    let m = p.a.encrypt(black_box(&small), &mut rng).unwrap();
                    p.b.decrypt(&m).unwrap();
                    let r = p.b.encrypt(black_box(&small), &mut rng).unwrap();
                    p.a.decrypt(&r).unwrap();
                }
            })
        });
        if !braid {
            assert_eq!(p.a.post_quantum_epoch() + p.b.post_quantum_epoch(), 0, "the braid stayed off");
        }
    }

    // Session setup. Initiator: parse the fetched bundle, start the session,
    // encrypt the first message. Responder: accept that message (each
    // iteration on a fresh copy of Bob's account, so the one-time prekey is
    // there to consume; the copy is not timed).
    let mut rng = sealpost_testkit::rng(12);
    let (alice, bob) = accounts(&mut rng, 1);
    let bundle = bob.prekey_bundle().unwrap().to_bytes();
    // Making a bundle for upload: the public keys are computed once per
    // prekey (at generation, or at the first bundle after a restore) and
    // kept; this is the cost of every later bundle.
    g.bench_function("prekey_bundle", |b| b.iter(|| black_box(&bob).prekey_bundle().unwrap()));
    g.bench_function("setup_initiator", |b| {
        b.iter(|| {
            let parsed = PreKeyBundle::from_bytes(black_box(&bundle)).unwrap();
            let mut session = alice.create_outbound_session(&parsed, &mut rng).unwrap();
            session.encrypt(black_box(&small), &mut rng).unwrap()
        })
    });
    let first = alice
        .create_outbound_session(&PreKeyBundle::from_bytes(&bundle).unwrap(), &mut rng)
        .unwrap()
        .encrypt(&small, &mut rng)
        .unwrap();
    g.bench_function("setup_responder", |b| {
        b.iter_batched_ref(
            || bob.clone(),
            |bob| bob.create_inbound_session(black_box(&first)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// The most work one forged message can cause: Bob's session to Alice
/// holds `MAX_PREVIOUS_STATES` previous states (Alice re-initiated that
/// often) and the forgery names a fresh ratchet key with the largest
/// previous-chain length and message number, so every state tries it.
fn bench_forgery(c: &mut C) {
    use sealpost::limits::{MAX_FORWARD_JUMP, MAX_PREVIOUS_STATES};
    let mut rng = rng(13);
    let (alice, mut bob) = accounts(&mut rng, 0);
    let mut b = None;
    for _ in 0..=MAX_PREVIOUS_STATES {
        let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let m = a.encrypt(b"again", &mut rng).unwrap();
        match b.as_mut() {
            None => b = Some(bob.create_inbound_session(&m).unwrap().0),
            Some(b) => {
                bob.decrypt(b, &m).unwrap();
            }
        }
    }
    let mut b = b.unwrap();
    assert_eq!(b.previous_state_count(), MAX_PREVIOUS_STATES);
    let (_, fresh) = x25519_keygen(&mut rng);
    let mut forged = vec![sealpost::wire::MessageType::Ratchet.version(), sealpost::wire::MessageType::Ratchet as u8];
    forged.extend_from_slice(fresh.as_bytes());
    forged.extend_from_slice(&MAX_FORWARD_JUMP.to_be_bytes());
    forged.extend_from_slice(&MAX_FORWARD_JUMP.to_be_bytes());
    forged.extend_from_slice(&[0x55; 16 + 40]);
    let mut g = c.benchmark_group("session_lib");
    g.sample_size(20);
    g.bench_function("forgery_worst_case", |bench| {
        bench.iter(|| assert!(bob.decrypt(&mut b, black_box(&forged)).is_err()))
    });
    g.finish();
}

/// The post-quantum ratchet's amortized cost, paired: rounds of one
/// epoch's worth of alternating round trips with the ratchet (A) and
/// without it (B), interleaved, plus the ML-KEM-768 work of one epoch
/// (key generation, key check, encapsulation, decapsulation) timed in the
/// same rounds. Sums over all rounds (thread CPU time), not medians: the
/// KEM work lands on some rounds only, and the sums are what amortizes.
fn braid_paired(_: &mut C) {
    const ROUNDS: usize = 300;
    let per_epoch = round_trips_per_epoch();
    let small = [0x61u8; SMALL];
    let (mut ra, mut with) = fresh_pair(true);
    let (mut rb, mut without) = fresh_pair(false);
    let mut kem_rng = rng(15);
    let run = |rng: &mut StdRng, p: &mut Conversation| {
        cpu_timed(|| {
            for _ in 0..per_epoch {
                let m = p.a.encrypt(&small, rng).unwrap();
                p.b.decrypt(&m).unwrap();
                let r = p.b.encrypt(&small, rng).unwrap();
                p.a.decrypt(&r).unwrap();
            }
        })
        .1
    };
    let (mut a, mut b, mut kem) = (0f64, 0f64, 0f64);
    for round in 0..ROUNDS + 10 {
        let (ta, tb) = if round % 2 == 0 {
            let ta = run(&mut ra, &mut with);
            (ta, run(&mut rb, &mut without))
        } else {
            let tb = run(&mut rb, &mut without);
            (run(&mut ra, &mut with), tb)
        };
        let seed: [u8; 64] = core::array::from_fn(|i| (i + round) as u8);
        let ((), tk) = cpu_timed(|| {
            let dk = mlkem768_expand(black_box(&seed));
            let ek = dk.encapsulation_key().to_bytes();
            let (ct, _) = mlkem768_parse(&ek).encapsulate_with_rng(&mut kem_rng);
            black_box(dk.decapsulate(&ct));
        });
        if round >= 10 {
            a += ta.as_secs_f64();
            b += tb.as_secs_f64();
            kem += tk.as_secs_f64();
        }
    }
    let epochs = f64::from(with.a.post_quantum_epoch());
    let rounds = ROUNDS as f64;
    let extra = (a - b) / rounds * 1e6;
    let kem = kem / rounds * 1e6;
    println!(
        "
session/braid_paired, {ROUNDS} rounds of {per_epoch} alternating 100 B round trips (thread CPU time, sums):"
    );
    println!(
        "  with the post-quantum ratchet {:.0} µs per round, without {:.0} µs; {:.2} epochs per round",
        a / rounds * 1e6,
        b / rounds * 1e6,
        epochs / (rounds + 10.0)
    );
    println!(
        "  extra {extra:.1} µs per round ({:.2} µs per message); ML-KEM-768 work of one epoch {kem:.1} µs; ratio {:.2} (target <= 1.3)",
        extra / (2.0 * per_epoch as f64),
        extra / kem
    );
}

/// One message in one chain (encrypt into a reused buffer, decrypt into a
/// reused buffer) against its floor, paired and interleaved (thread CPU
/// time, medians over 31 rounds): the figure BENCHMARKS.md gives for the
/// 1.03x (100 B) and 1.1x (1 MiB) targets. The separate criterion medians
/// above drift apart on a shared machine; these do not.
fn in_chain_paired(_: &mut C) {
    let mut floor_rng = rng(16);
    let (mut rng, mut p) = pair();
    let ad = [0u8; AD_LEN];
    type Floor = fn(&mut StdRng, &[u8], &mut [u8]);
    // The floor as the issue sets it (the AEAD crate's calls), and, for a
    // short message, the same primitive calls composed as the library
    // makes them: the library's own overhead is its ratio to the second.
    let floors: [(&str, Floor, usize); 2] = [
        ("encrypt_into + decrypt_into", in_chain_floor, usize::MAX),
        ("against the composed floor ", in_chain_floor_composed, 192),
    ];
    println!();
    for (size, name, n) in [(SMALL, "100B", 2000usize), (LARGE, "1MiB", 4)] {
        let msg = vec![0x61u8; size];
        let mut inplace = vec![0u8; size + 1];
        let (mut wire, mut text) = (Vec::with_capacity(size + 256), Vec::with_capacity(size + 1));
        let per_op = |d: std::time::Duration| [d / u32::try_from(n).unwrap()];
        for (label, floor, up_to) in floors {
            if size > up_to {
                continue;
            }
            let [m] = paired(
                2,
                31,
                || {
                    per_op(
                        cpu_timed(|| {
                            for _ in 0..n {
                                wire.clear();
                                p.a.encrypt_into(black_box(&msg), &mut wire, &mut rng).unwrap();
                                p.b.decrypt_into(&wire, &mut text).unwrap();
                            }
                        })
                        .1,
                    )
                },
                || {
                    per_op(
                        cpu_timed(|| {
                            for _ in 0..n {
                                floor(&mut floor_rng, &ad, &mut inplace);
                            }
                        })
                        .1,
                    )
                },
            );
            println!(
                "session/in_chain_paired/{name:<5} {label} {:>10.3} µs   floor {:>10.3} µs   ratio {:.3}",
                m.a_ns() / 1e3,
                m.b_ns() / 1e3,
                m.ratio
            );
        }
    }
}

/// Session setup against its floors, paired: each round times `SETUPS`
/// initiator setups (parse the bundle, start the session, first encrypt)
/// and `SETUPS` responder setups (`create_inbound_session`, each on a copy
/// of Bob's account made before the timer starts; the results are dropped
/// after it stops), then the same count of each floor, alternating which
/// goes first; thread CPU time, medians of the per-round ratios.
fn setup_paired(_: &mut C) {
    const SETUPS: u32 = 8;
    let mut k = raw_keys();
    let floor = SetupFloor::new(&mut k);
    let mut rng = rng(17);
    let (alice, bob) = accounts(&mut rng, 1);
    let bundle = bob.prekey_bundle().unwrap().to_bytes();
    let small = vec![0x61u8; SMALL];
    let first = alice
        .create_outbound_session(&PreKeyBundle::from_bytes(&bundle).unwrap(), &mut rng)
        .unwrap()
        .encrypt(&small, &mut rng)
        .unwrap();
    let n = SETUPS as usize;
    let [initiator, responder, both] = paired(
        2,
        41,
        || {
            let mut sessions = Vec::with_capacity(2 * n);
            let (_, ti) = cpu_timed(|| {
                for _ in 0..n {
                    let parsed = PreKeyBundle::from_bytes(black_box(&bundle)).unwrap();
                    let mut session = alice.create_outbound_session(&parsed, &mut rng).unwrap();
                    black_box(session.encrypt(black_box(&small), &mut rng).unwrap());
                    sessions.push(session);
                }
            });
            let mut bobs: Vec<_> = (0..n).map(|_| bob.clone()).collect();
            let (_, tr) = cpu_timed(|| {
                for bob in &mut bobs {
                    sessions.push(bob.create_inbound_session(black_box(&first)).unwrap().0);
                }
            });
            [ti / SETUPS, tr / SETUPS, (ti + tr) / SETUPS]
        },
        || {
            let (_, ti) = cpu_timed(|| (0..n).for_each(|_| floor.initiator(&mut k)));
            let (_, tr) = cpu_timed(|| (0..n).for_each(|_| floor.responder(&k)));
            [ti / SETUPS, tr / SETUPS, (ti + tr) / SETUPS]
        },
    );
    println!();
    for (name, m) in [("initiator", initiator), ("responder", responder), ("both", both)] {
        println!(
            "session/setup_paired/{name:<9} library {:>9.1} µs   floor {:>9.1} µs   ratio {:.3}",
            m.a_ns() / 1e3,
            m.b_ns() / 1e3,
            m.ratio
        );
    }
}

criterion_group! {
    name = benches;
    config = bench::criterion();
    targets = bench_raw, bench_floor, bench_lib, bench_forgery, braid_paired, in_chain_paired, setup_paired
}
criterion_main!(benches);
