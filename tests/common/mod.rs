//! Shared helpers for the integration tests: deterministic accounts, an
//! established conversation, tamper helpers and state snapshots.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::{Account, Error, PreKeyBundle, Session};

/// A fixed wall-clock time for every test (2023-11-14).
pub const NOW: u64 = 1_700_000_000_000;

/// A deterministic RNG.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Alice and Bob, where Bob has published `one_time` one-time prekeys.
pub fn accounts(rng: &mut StdRng, one_time: usize) -> (Account, Account) {
    let alice = Account::new(rng, NOW);
    let mut bob = Account::new(rng, NOW);
    if one_time > 0 {
        bob.generate_one_time_prekeys(one_time, rng).unwrap();
    }
    (alice, bob)
}

/// A bundle after a trip through its wire encoding (as a server delivers it).
pub fn fetch_bundle(owner: &Account) -> PreKeyBundle {
    PreKeyBundle::from_bytes(&owner.prekey_bundle().unwrap().to_bytes()).unwrap()
}

/// Both accounts and both sessions of one conversation.
pub struct Conversation {
    pub alice: Account,
    pub bob: Account,
    /// Alice's session with Bob.
    pub a: Session,
    /// Bob's session with Alice.
    pub b: Session,
}

impl Conversation {
    /// Alice has started a session from Bob's bundle and Bob accepted her
    /// first message; nobody has replied yet.
    pub fn started(rng: &mut StdRng) -> Self {
        let (alice, mut bob) = accounts(rng, 4);
        let mut a = alice.create_outbound_session(&fetch_bundle(&bob), rng).unwrap();
        let first = a.encrypt(b"hello Bob", rng).unwrap();
        let (b, text) = bob.create_inbound_session(&first).unwrap();
        assert_eq!(text, b"hello Bob");
        Self { alice, bob, a, b }
    }

    /// A conversation where both sides have sent and received (Alice's
    /// messages no longer carry setup data).
    pub fn established(rng: &mut StdRng) -> Self {
        let mut c = Self::started(rng);
        let reply = c.b.encrypt(b"hello Alice", rng).unwrap();
        assert_eq!(c.alice.decrypt(&mut c.a, &reply).unwrap(), b"hello Alice");
        assert!(c.a.is_confirmed() && c.b.is_confirmed());
        c
    }

    /// Alice -> Bob, delivered and checked.
    pub fn a_to_b(&mut self, text: &[u8], rng: &mut StdRng) {
        let m = self.a.encrypt(text, rng).unwrap();
        assert_eq!(self.bob.decrypt(&mut self.b, &m).unwrap(), text);
    }

    /// Bob -> Alice, delivered and checked.
    pub fn b_to_a(&mut self, text: &[u8], rng: &mut StdRng) {
        let m = self.b.encrypt(text, rng).unwrap();
        assert_eq!(self.alice.decrypt(&mut self.a, &m).unwrap(), text);
    }
}

/// Serialized account and session: the complete state one party keeps.
#[derive(PartialEq, Eq)]
pub struct Snapshot {
    account: Vec<u8>,
    session: Vec<u8>,
}

impl core::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Snapshot(account {} bytes, session {} bytes)", self.account.len(), self.session.len())
    }
}

pub fn snapshot(account: &Account, session: &Session) -> Snapshot {
    Snapshot { account: account.to_bytes().to_vec(), session: session.to_bytes().to_vec() }
}

/// Runs `account.decrypt(session, message)`, expects an error, asserts that
/// neither the account nor the session changed, and returns the error.
pub fn decrypt_fails(account: &mut Account, session: &mut Session, message: &[u8]) -> Error {
    let before = snapshot(account, session);
    let err = match account.decrypt(session, message) {
        Ok(pt) => panic!("decrypt unexpectedly succeeded ({} bytes of plaintext)", pt.len()),
        Err(e) => e,
    };
    assert_eq!(snapshot(account, session), before, "failed decrypt ({err:?}) changed the state");
    err
}

/// Like [`decrypt_fails`] but through `Session::decrypt` alone.
pub fn session_decrypt_fails(session: &mut Session, message: &[u8]) -> Error {
    let before = session.to_bytes().to_vec();
    let err = match session.decrypt(message) {
        Ok(pt) => panic!("decrypt unexpectedly succeeded ({} bytes of plaintext)", pt.len()),
        Err(e) => e,
    };
    assert_eq!(session.to_bytes().to_vec(), before, "failed decrypt ({err:?}) changed the session");
    err
}

/// Every single-bit-flip variant of `bytes`: for each byte, the lowest bit
/// and the highest bit (so both a small and a large change per byte).
pub fn bit_flips(bytes: &[u8]) -> impl Iterator<Item = (usize, Vec<u8>)> + '_ {
    (0..bytes.len()).flat_map(move |i| {
        [0x01u8, 0x80].into_iter().map(move |mask| {
            let mut v = bytes.to_vec();
            v[i] ^= mask;
            (i, v)
        })
    })
}

/// Every proper prefix of `bytes` and a few extensions.
pub fn truncations_and_extensions(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let prefixes = (0..bytes.len()).map(move |n| bytes[..n].to_vec());
    let extensions = [vec![0u8], vec![0xff], vec![0u8; 16], vec![0x5a; 33]].into_iter().map(move |tail| {
        let mut v = bytes.to_vec();
        v.extend_from_slice(&tail);
        v
    });
    prefixes.chain(extensions)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}
