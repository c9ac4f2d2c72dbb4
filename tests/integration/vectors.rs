//! A complete deterministic transcript through the public API, pinned
//! byte for byte.
//!
//! The expected values were computed once by this implementation and are
//! hard-coded. They are not from an external specification: they pin
//! sealpost's own derivation and encodings (X3DH, root/chain/message keys,
//! AEAD, wire formats, signed-prekey signatures), so that any change in
//! them, intended or not, fails here. An intended change needs a new
//! protocol version and deliberately regenerated vectors. The individual
//! KDF steps are pinned (and were cross-checked against an independent
//! reimplementation) in `src/ratchet/vectors.rs`.
//!
//! The randomness comes from `TranscriptRng` below (SHA-256 in counter
//! mode) rather than `StdRng`, whose algorithm `rand` may change between
//! releases: these vectors must only change when sealpost changes.

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use sealpost::{Account, PreKeyBundle, Session};
use sealpost_testkit::{NOW, hex, sha256_hex};
use sha2::{Digest, Sha256};

/// Deterministic, portable byte stream: block i is SHA-256(seed || i).
/// For test vectors only.
struct TranscriptRng {
    seed: u64,
    counter: u64,
    buffer: Vec<u8>,
}

impl TranscriptRng {
    fn new(seed: u64) -> Self {
        Self { seed, counter: 0, buffer: Vec::new() }
    }
}

impl TryRng for TranscriptRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            if self.buffer.is_empty() {
                let block =
                    Sha256::new().chain_update(self.seed.to_be_bytes()).chain_update(self.counter.to_be_bytes());
                self.buffer = block.finalize().to_vec();
                self.counter += 1;
            }
            *byte = self.buffer.remove(0);
        }
        Ok(())
    }
}
impl TryCryptoRng for TranscriptRng {}

struct Transcript {
    alice_identity: String,
    bob_identity: String,
    bundle: Vec<u8>,
    messages: Vec<Vec<u8>>,
    alice_session: Vec<u8>,
    bob_session: Vec<u8>,
}

/// A short conversation with every kind of event: setup messages, one read
/// out of order, a reply, a second DH-ratchet step, a skipped message.
fn transcript() -> Transcript {
    let mut rng = TranscriptRng::new(0x5ea1_0057);
    let mut alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(2, &mut rng).unwrap();
    let bundle = bob.prekey_bundle().unwrap().to_bytes();

    let mut messages = Vec::new();
    let mut a = alice.create_outbound_session(&PreKeyBundle::from_bytes(&bundle).unwrap(), &mut rng).unwrap();
    let mut send = |s: &mut Session, text: &str, rng: &mut TranscriptRng| {
        let m = s.encrypt(text.as_bytes(), rng).unwrap();
        messages.push(m.clone());
        m
    };
    let a1 = send(&mut a, "hello bob", &mut rng);
    let a2 = send(&mut a, "are you there?", &mut rng);
    let (mut b, text) = bob.create_inbound_session(&a2).unwrap();
    assert_eq!(text, b"are you there?");
    assert_eq!(bob.decrypt(&mut b, &a1).unwrap(), b"hello bob");
    let b1 = send(&mut b, "yes, hi alice", &mut rng);
    assert_eq!(alice.decrypt(&mut a, &b1).unwrap(), b"yes, hi alice");
    let a3 = send(&mut a, "great", &mut rng);
    let a4 = send(&mut a, "(skipped for now)", &mut rng);
    let a5 = send(&mut a, "see you", &mut rng);
    assert_eq!(bob.decrypt(&mut b, &a3).unwrap(), b"great");
    assert_eq!(bob.decrypt(&mut b, &a5).unwrap(), b"see you");
    let b2 = send(&mut b, "bye", &mut rng);
    assert_eq!(alice.decrypt(&mut a, &b2).unwrap(), b"bye");
    drop(a4);

    Transcript {
        alice_identity: hex(alice.identity().as_bytes()),
        bob_identity: hex(bob.identity().as_bytes()),
        bundle,
        messages,
        alice_session: a.to_bytes().to_vec(),
        bob_session: b.to_bytes().to_vec(),
    }
}

const ALICE_IDENTITY: &str = "7a17f10dcee9dbd111420f9d5b1ded14069b18c00dee0024d60a7644cf45a8d7";
const BOB_IDENTITY: &str = "76719d59253f593b625a9f46a427785002d23d47d520e4e10d31179b2e5bff61";
const BUNDLE: [&str; 6] = [
    "010176719d59253f593b625a9f46a427785002d23d47d520e4e10d31179b2e5b",
    "ff61000000010000018bcfe56800b8ecfb1012c5b50654cade0822fd9a3c6ab6",
    "dd061999c4d953d4960bbcd70622a0bcf8b4ba9e3530a5fb427798dd4e2a3525",
    "8d1131d2eb17f21d943b8d2cd686caea63ed6866baebe341c46e684598ad8a86",
    "0e3480eabc6869f2211764670e0b0100000001fdf3cb0134ac447fe80cfbca0e",
    "da7d1f5a27412b4aa6dabea1f026734d23df4300",
];
/// The first message (a setup message), in full.
const FIRST_MESSAGE: [&str; 5] = [
    "01037a17f10dcee9dbd111420f9d5b1ded14069b18c00dee0024d60a7644cf45",
    "a8d70afc65142208de75702a038f4a28cb95ea14db405322c152db97e2bb7310",
    "1248000000010100000001001969a23c1bd31549312f29963f64611a8480fb51",
    "5c123857102c5e04cb24c33e000000000000000001765acdb2c12a946adfe760",
    "19fcbc6579778fa89f501106036c",
];
/// SHA-256 of each message, in the order they were sent.
const MESSAGE_HASHES: [&str; 7] = [
    "bd6b4eef0d74b7293fd32ba2de5db00c78401287882da0dc85c3c74d3ac02e87",
    "2cd77a448faca8be683a161a4bddc371c40d2c53d757a9d4fed8c452b3bdea8d",
    "11c4f3c3fb3d90505b4e2a93417fff9ec98648be14ac95696363710996b5f058",
    "dbb310907fa9b5f54dee2a92715ec292f5fe31f53e130d6068fa514e14550288",
    "fc44777546f250097ce4cbe87a3479d7e83e334812df1ab2682a2f58b5233e85",
    "e1e3d874925bbf4b889a882e4d9109a21294c90c12eb7c4b5f7ffed5a7ab2d80",
    "5b7a2589d258ce25b87c6c421d5f7508ed5ca3d305bef4d03c736d7b1154b44b",
];
/// SHA-256 of the concatenation of all messages.
const TRANSCRIPT_HASH: &str = "56ef72c0e22528a430874d1f4e4d09d09f8979666bf781b77fc784157188612d";
/// SHA-256 of both final session serializations (pins the state format,
/// which stored sessions depend on).
const ALICE_SESSION_HASH: &str = "1c54a5842a2d682d552f55727773e64b51c5d7b839d11979741cbbc2e9db11e2";
const BOB_SESSION_HASH: &str = "724020483f57ff4c3c009d4e18e0c252fcee031a0541abf5c307ccb4989414e0";

#[test]
fn transcript_is_deterministic() {
    let (one, two) = (transcript(), transcript());
    assert_eq!(one.messages, two.messages);
    assert_eq!(one.alice_session, two.alice_session);
}

#[test]
fn transcript_vectors() {
    let t = transcript();
    assert_eq!(t.alice_identity, ALICE_IDENTITY);
    assert_eq!(t.bob_identity, BOB_IDENTITY);
    assert_eq!(hex(&t.bundle), BUNDLE.concat());
    assert_eq!(hex(&t.messages[0]), FIRST_MESSAGE.concat());
    let hashes: Vec<String> = t.messages.iter().map(|m| sha256_hex(m)).collect();
    assert_eq!(hashes, MESSAGE_HASHES);
    assert_eq!(sha256_hex(&t.messages.concat()), TRANSCRIPT_HASH);
    assert_eq!(sha256_hex(&t.alice_session), ALICE_SESSION_HASH);
    assert_eq!(sha256_hex(&t.bob_session), BOB_SESSION_HASH);
}
