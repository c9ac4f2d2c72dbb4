//! A complete deterministic transcript through the public API, pinned
//! byte for byte.
//!
//! The expected values were computed once by this implementation and are
//! hard-coded. They are not from an external specification: they pin
//! sealpost's own derivation and encodings (X3DH, root/chain/message keys,
//! AEAD, wire formats, signed-prekey signatures), so that any change in
//! them, intended or not, fails here. An intended change needs a new
//! protocol version and deliberately regenerated vectors (last: 1:1 messages
//! of format version 2, with the per-message header salt; bundles of format
//! version 2, whose signature covers the KEM kind byte). The individual
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
    "020176719d59253f593b625a9f46a427785002d23d47d520e4e10d31179b2e5b",
    "ff61000000010000018bcfe56800b8ecfb1012c5b50654cade0822fd9a3c6ab6",
    "dd061999c4d953d4960bbcd70622aa8a7a82b98ceb1004fc29de33d08c21a54a",
    "88dc9d1261526bf685807db9844114acf431d14f87778c3a0a91f8d5b4b73b1a",
    "3c7cddd3ddc5a448d3e12de57e040100000001fdf3cb0134ac447fe80cfbca0e",
    "da7d1f5a27412b4aa6dabea1f026734d23df4300",
];
/// The first message (a setup message), in full.
const FIRST_MESSAGE: [&str; 5] = [
    "02037a17f10dcee9dbd111420f9d5b1ded14069b18c00dee0024d60a7644cf45",
    "a8d70afc65142208de75702a038f4a28cb95ea14db405322c152db97e2bb7310",
    "1248000000010100000001001969a23c1bd31549312f29963f64611a8480fb51",
    "5c123857102c5e04cb24c33e000000000000000040277ea53e28c24ca32e45e3",
    "ffe100faec87ca1eaac7f235c98241603bd6fe56f67127dedc77d13770a9",
];
/// SHA-256 of each message, in the order they were sent.
const MESSAGE_HASHES: [&str; 7] = [
    "55eba612dec8cca1dc44424d3d25075815d0c5cc2831a46978eff87d136ec8b0",
    "2e7a466ca74feddfce735201e68004f20305f1545b9ec17c077d28f4b9a1593d",
    "b37293a086270843813e1aec1223a4b51e4413cd8c2c9357c4810199d75ad522",
    "e3ec9fa1a2bccdb958a4063756b67fddd1af761ab44c63b5a52b586acc354ada",
    "250077c5c66ed56e8d1b3d0083b610f3dd2731b2a165753838198bfe97664156",
    "faf466500d4bede31243b1ff3a13b4281da3799d11f925b11dc1a4c71afb526d",
    "5798885467332a63b2aeb053188d592f9154602df65431db33bbf171b43cc682",
];
/// SHA-256 of the concatenation of all messages.
const TRANSCRIPT_HASH: &str = "c9c4b8415389c92a94cd36117a21afd9facfe6cfa9ffe567826fd9cb35f70e23";
/// SHA-256 of both final session serializations (pins the state format,
/// which stored sessions depend on).
const ALICE_SESSION_HASH: &str = "24bab406144cca73686af986fa776c32aa451bdeb07441de1c2db861854056bc";
const BOB_SESSION_HASH: &str = "f619bbba97eb22892e329bf9439d8b5950d293ac4d9f36a39fd8a48a556d09f5";

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
