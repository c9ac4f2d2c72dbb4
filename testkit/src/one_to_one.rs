//! 1:1 worlds: deterministic accounts, a started or established
//! conversation, and the checks that a refused message changed nothing.

use rand::rngs::StdRng;
use sealpost::{Account, Error, PreKeyBundle, Session};

use crate::NOW;

/// Alice and Bob, created at [`NOW`], where Bob has published `one_time`
/// one-time prekeys.
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

/// Alice has started a session from Bob's bundle (fetched through its wire
/// encoding) while Bob is offline; nothing is sent yet.
pub struct OfflineStart {
    /// Alice's account.
    pub alice: Account,
    /// Bob's account.
    pub bob: Account,
    /// The bundle Alice started from (naming a one-time prekey if Bob
    /// published any).
    pub bundle: PreKeyBundle,
    /// Alice's session with Bob.
    pub a: Session,
}

impl OfflineStart {
    /// [`accounts`]`(rng, one_time)`, then Alice starts from
    /// [`fetch_bundle`]`(&bob)`.
    pub fn new(rng: &mut StdRng, one_time: usize) -> Self {
        let (alice, bob) = accounts(rng, one_time);
        let bundle = fetch_bundle(&bob);
        let a = alice.create_outbound_session(&bundle, rng).unwrap();
        Self { alice, bob, bundle, a }
    }
}

/// Both accounts and both sessions of one conversation.
pub struct Conversation {
    /// Alice's account (the initiator).
    pub alice: Account,
    /// Bob's account (he published the bundle; 4 one-time prekeys, one of
    /// them used by Alice's session).
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
        let OfflineStart { alice, mut bob, mut a, .. } = OfflineStart::new(rng, 4);
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

/// The complete state of one party, to compare before and after.
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
