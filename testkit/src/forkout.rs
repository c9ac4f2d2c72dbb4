//! A Forkout world: one sender and the people it writes to, in the three
//! states a recipient can be in: a confirmed 1:1 session ([`Peer`]), a
//! session the sender has started but the recipient has not read from yet
//! ([`Pending`]), or only a published bundle (a stranger).
//!
//! ```
//! use sealpost::forkout;
//! use sealpost_testkit::{ForkoutWorld, NOW};
//!
//! let mut w = ForkoutWorld::new(1).with_peers(2).with_pending(1).with_strangers(1, 1);
//! let (sealed, report) = w.seal_to_all(b"release at 5".to_vec(), None);
//! assert_eq!(sealed.recipient_count(), 4);
//! assert_eq!(report.new_sessions.len(), 1);
//! let peer = &mut w.peers[0];
//! let delivery = sealed.delivery(peer.account.identity()).unwrap().to_vec();
//! let opened = forkout::open(&mut peer.account, &mut peer.session, &delivery, NOW).unwrap();
//! assert_eq!(opened.body(), Some(&b"release at 5"[..]));
//! ```

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use rand::rngs::StdRng;
use sealpost::burnout::Envelope;
use sealpost::forkout::{self, Recipient, SealPolicy, SealReport, SealedForkout};
use sealpost::{Account, Session};

use crate::{NOW, rng};

/// A recipient with a session confirmed in both directions.
pub struct Peer {
    /// The recipient's account (two one-time prekeys published, one used by
    /// the sender's session).
    pub account: Account,
    /// The recipient's session with the sender.
    pub session: Session,
    /// The sender's session with the recipient.
    pub to_peer: Session,
}

/// A recipient the sender has started a session with (from a bundle
/// without a one-time prekey) and sent one message on, which the recipient
/// has not received: the sender's messages still carry setup data, so the
/// recipient opens them as a first contact.
pub struct Pending {
    /// The recipient's account.
    pub account: Account,
    /// The sender's session with the recipient (sending chain warmed up).
    pub to_peer: Session,
}

/// The sender, its recipients, and the random number generator the world
/// was built with (tests and benchmarks continue with it).
pub struct ForkoutWorld {
    /// Continues the world's deterministic randomness.
    pub rng: StdRng,
    /// The sender.
    pub sender: Account,
    /// Recipients with confirmed sessions, in creation order.
    pub peers: Vec<Peer>,
    /// Recipients with started sessions, in creation order.
    pub pending: Vec<Pending>,
    /// People the sender has no session with; each has published one-time
    /// prekeys, so their bundles are ready for a first contact.
    pub strangers: Vec<Account>,
}

impl ForkoutWorld {
    /// A sender created at [`NOW`] from [`rng`]`(seed)`, with no recipients
    /// yet.
    pub fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let sender = Account::new(&mut rng, NOW);
        Self { rng, sender, peers: Vec::new(), pending: Vec::new(), strangers: Vec::new() }
    }

    /// Adds `n` recipients with confirmed sessions: each publishes two
    /// one-time prekeys, the sender starts from its bundle and says hello,
    /// the recipient answers and the sender reads the answer.
    pub fn with_peers(mut self, n: usize) -> Self {
        for _ in 0..n {
            let rng = &mut self.rng;
            let mut account = Account::new(rng, NOW);
            account.generate_one_time_prekeys(2, rng).unwrap();
            let mut to_peer = self.sender.create_outbound_session(&account.prekey_bundle().unwrap(), rng).unwrap();
            let hello = to_peer.encrypt(b"hello", rng).unwrap();
            let (mut session, _) = account.create_inbound_session(&hello).unwrap();
            let ack = session.encrypt(b"hi", rng).unwrap();
            to_peer.decrypt(&ack).unwrap();
            self.peers.push(Peer { account, session, to_peer });
        }
        self
    }

    /// Adds `n` recipients with started sessions (see [`Pending`]).
    pub fn with_pending(mut self, n: usize) -> Self {
        for _ in 0..n {
            let rng = &mut self.rng;
            let account = Account::new(rng, NOW);
            let mut to_peer = self.sender.create_outbound_session(&account.prekey_bundle().unwrap(), rng).unwrap();
            // Warm the sending chain: later messages measure the steady state.
            to_peer.encrypt(b"hello", rng).unwrap();
            self.pending.push(Pending { account, to_peer });
        }
        self
    }

    /// Adds `n` strangers, each with `one_time_prekeys` one-time prekeys.
    pub fn with_strangers(mut self, n: usize, one_time_prekeys: usize) -> Self {
        for _ in 0..n {
            let mut account = Account::new(&mut self.rng, NOW);
            account.generate_one_time_prekeys(one_time_prekeys, &mut self.rng).unwrap();
            self.strangers.push(account);
        }
        self
    }

    /// Seals `body` (with `envelope`, if any) to every recipient, all or
    /// nothing: the peers' and the pending recipients' sessions, then the
    /// strangers' bundles (their new sessions are in the report).
    pub fn seal_to_all(&mut self, body: impl Into<Vec<u8>>, envelope: Option<Envelope>) -> (SealedForkout, SealReport) {
        let peers = self.peers.iter_mut().map(|p| Recipient::Session(&mut p.to_peer));
        let pending = self.pending.iter_mut().map(|p| Recipient::Session(&mut p.to_peer));
        let strangers = self.strangers.iter().map(|s| Recipient::Bundle(s.prekey_bundle().unwrap()));
        let recipients = peers.chain(pending).chain(strangers);
        forkout::seal(&self.sender, body, recipients, SealPolicy::AllOrNothing, envelope, &mut self.rng).unwrap()
    }
}

/// ChaCha20-Poly1305 seal of `buf` in place under `key` with a fixed nonce
/// and `ad`: the body seal of a Forkout, without the Forkout.
pub fn aead_seal(key: &[u8; 32], ad: &[u8], buf: &mut [u8]) -> [u8; 16] {
    ChaCha20Poly1305::new(key.into()).encrypt_inout_detached(&[0u8; 12].into(), ad, buf.into()).unwrap().into()
}

/// The floor a Forkout seal is measured against: one [`aead_seal`] of
/// `body` and one 1:1 encryption of `slot` (a slot-sized plaintext) per
/// session in `pending`, which no way of sending one body to many can do
/// without. Returns the tag and the slots.
pub fn floor_seal(
    key: &[u8; 32],
    ad: &[u8],
    body: &mut [u8],
    pending: &mut [Pending],
    slot: &[u8],
    rng: &mut StdRng,
) -> ([u8; 16], Vec<Vec<u8>>) {
    let tag = aead_seal(key, ad, body);
    (tag, pending.iter_mut().map(|p| p.to_peer.encrypt(slot, rng).unwrap()).collect())
}
