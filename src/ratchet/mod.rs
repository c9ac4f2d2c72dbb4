//! The Double Ratchet (Signal's specification, revision 4).
//!
//! [`RatchetState`] holds one session state: the root key, the sending and
//! receiving chains, our current ratchet key pair and the peer's, and the
//! skipped message keys.
//!
//! Two implementation choices, both documented in
//! [PROTOCOL](crate::docs::protocol):
//!
//! * **Decryption plans, then commits.** [`RatchetState::decrypt`] never
//!   mutates: it derives every key it needs on the side, authenticates the
//!   message and returns a [`Commit`] describing the state change, which the
//!   caller applies only when it accepts the message. A forged, replayed or
//!   out-of-bounds message therefore leaves the state untouched, without
//!   copying the whole state for every message.
//! * **Lazy sending step.** The specification's `DHRatchet` performs the
//!   receiving half (new receiving chain) and the sending half (fresh key
//!   pair, new sending chain) together. Here the sending half runs at the
//!   next [`RatchetState::encrypt`]. The keys and messages are identical to
//!   performing both at once (the peer cannot advance its ratchet until it
//!   sees our new key), decryption needs no randomness, and a side that only
//!   reads does no Diffie-Hellman work for chains it never uses.

pub(crate) mod aead;
pub(crate) mod braid;
pub(crate) mod erasure;
pub(crate) mod keys;
pub(crate) mod skipped;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

use std::collections::VecDeque;

use rand_core::CryptoRng;
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::crypto;
use crate::error::SessionError;
use crate::error::{Error, Result, WireError};
use crate::limits::{MAX_PLAINTEXT, MAX_REMEMBERED_CHAINS, MAX_SKIPPED_TOTAL};
use crate::wire::SessionMessage;
use crate::wire::codec::{Reader, Writer};
use crate::wire::session_message::{Header, SALT_LEN, SetupData, prefix_len, write_prefix};
use aead::Ad;
use braid::{Braid, BraidCommit};
use keys::{ChainKey, MessageKey, ReceivingChain, RootKey, SendingChain};
use skipped::{SkippedKey, SkippedKeys};

/// Length of the session associated data: initiator identity || responder
/// identity.
pub(crate) const AD_LEN: usize = 64;

/// An X25519 ratchet key pair.
#[derive(Clone)]
pub(crate) struct RatchetKeyPair {
    pub(crate) secret: StaticSecret,
    pub(crate) public: [u8; 32],
}

impl RatchetKeyPair {
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(StaticSecret::random_from_rng(rng))
    }

    pub(crate) fn from_secret(secret: StaticSecret) -> Self {
        let public = X25519Public::from(&secret).to_bytes();
        Self { secret, public }
    }
}

/// Our side of the ratchet.
#[derive(Clone)]
enum Own {
    /// An initiator before its first message: the first encryption
    /// generates our first ratchet key pair.
    Unkeyed,
    /// Our current ratchet key pair and, once we have sent on it, the
    /// sending chain.
    Keyed { pair: RatchetKeyPair, sending: Option<SendingChain> },
}

/// The peer's side of the ratchet.
#[derive(Clone)]
enum Peer {
    /// A responder before the first message has been applied.
    Unknown,
    /// The peer's ratchet key is known but nothing was received on it yet:
    /// an initiator's view of the responder's signed prekey.
    Known([u8; 32]),
    /// The peer's current ratchet key and its receiving chain.
    Receiving { key: [u8; 32], chain: ReceivingChain },
}

impl Own {
    fn pair(&self) -> Option<&RatchetKeyPair> {
        match self {
            Own::Unkeyed => None,
            Own::Keyed { pair, .. } => Some(pair),
        }
    }

    fn sending(&self) -> Option<&SendingChain> {
        match self {
            Own::Keyed { sending, .. } => sending.as_ref(),
            Own::Unkeyed => None,
        }
    }
}

impl Peer {
    fn key(&self) -> Option<&[u8; 32]> {
        match self {
            Peer::Unknown => None,
            Peer::Known(key) | Peer::Receiving { key, .. } => Some(key),
        }
    }
}

/// One Double Ratchet session state.
#[derive(Clone)]
pub(crate) struct RatchetState {
    ad: [u8; AD_LEN],
    root: RootKey,
    own: Own,
    peer: Peer,
    /// Set when the peer's ratchet key changed since we last sent: the next
    /// encryption performs the sending half of the DH-ratchet step.
    send_step_pending: bool,
    previous_sending_length: u32,
    skipped: SkippedKeys,
    old_chains: VecDeque<[u8; 32]>,
    /// The post-quantum ratchet.
    braid: Braid,
}

/// A decrypted payload and the state change that accepting it requires
/// (borrowing from the parsed message `'m`).
pub(crate) struct Decrypted<'m> {
    pub(crate) payload: Zeroizing<Vec<u8>>,
    pub(crate) commit: Commit<'m>,
}

/// The state change of one accepted message; see [`RatchetState::apply`].
pub(crate) struct Commit<'m> {
    step: Step,
    braid: BraidCommit<'m>,
}

/// The Double Ratchet part of a [`Commit`].
enum Step {
    /// A stored skipped key was used: delete it.
    UsedSkipped { ratchet: [u8; 32], index: u32 },
    /// The current receiving chain advanced.
    Advance { chain: ReceivingChain, skipped: Vec<SkippedKey> },
    /// A DH-ratchet step to a new peer ratchet key.
    Ratchet { theirs: [u8; 32], root: RootKey, chain: ReceivingChain, skipped: Vec<SkippedKey> },
}

impl RatchetState {
    /// The initiator's state right after PQXDH: the peer's signed prekey is
    /// its first ratchet key; the sending step runs at the first encrypt.
    pub(crate) fn new_initiator(ad: [u8; AD_LEN], shared_secret: RootKey, their_signed_prekey: [u8; 32]) -> Self {
        Self::blank(ad, shared_secret, Own::Unkeyed, Peer::Known(their_signed_prekey), true, Braid::new(true))
    }

    /// The responder's state right after PQXDH: our signed prekey is our
    /// first ratchet key pair.
    pub(crate) fn new_responder(ad: [u8; AD_LEN], shared_secret: RootKey, our_signed_prekey: RatchetKeyPair) -> Self {
        let own = Own::Keyed { pair: our_signed_prekey, sending: None };
        Self::blank(ad, shared_secret, own, Peer::Unknown, false, Braid::new(false))
    }

    fn blank(ad: [u8; AD_LEN], root: RootKey, own: Own, peer: Peer, pending: bool, braid: Braid) -> Self {
        Self {
            ad,
            root,
            own,
            peer,
            send_step_pending: pending,
            previous_sending_length: 0,
            skipped: SkippedKeys::default(),
            old_chains: VecDeque::new(),
            braid,
        }
    }

    /// Encrypts the payload `content || trailer` (the trailer carries the
    /// payload kind and any envelope) into a complete wire message,
    /// optionally carrying setup data.
    pub(crate) fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        content: &[u8],
        trailer: &[u8],
        setup: Option<&SetupData>,
        rng: &mut R,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if content.len() > MAX_PLAINTEXT {
            return Err(Error::TooLarge { what: "plaintext", len: content.len(), max: MAX_PLAINTEXT });
        }
        self.braid.prepare(rng)?;
        if self.send_step_pending || self.own.sending().is_none() {
            let theirs = *self.peer.key().ok_or(Error::InvalidState("no peer ratchet key to send to"))?;
            let pair = RatchetKeyPair::generate(rng);
            let dh = crypto::dh(&pair.secret, &X25519Public::from(theirs))?;
            let (root, chain) = match self.braid.take_secret_for_send_step() {
                Some(secret) => self.root.step_hybrid(&dh, &secret),
                None => self.root.step(&dh),
            };
            self.previous_sending_length = self.own.sending().map_or(0, |c| c.index);
            self.root = root;
            self.own = Own::Keyed { pair, sending: Some(SendingChain { key: chain, index: 0 }) };
            self.send_step_pending = false;
        }
        let Own::Keyed { pair: ours, sending: Some(chain) } = &mut self.own else {
            return Err(Error::InvalidState("sending chain missing"));
        };
        let next_index = chain
            .index
            .checked_add(1)
            .ok_or(Error::LimitReached { what: "messages per chain", max: u32::MAX as usize })?;
        let (message_key, next_key) = chain.key.step();
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let header = Header {
            ratchet_key: ours.public,
            previous_chain_length: self.previous_sending_length,
            index: chain.index,
            salt,
            epoch: self.braid.epoch(),
            chunk: self.braid.next_chunk(),
        };
        let aead = message_key.expand(&salt);

        // One pass in the caller's buffer: the prefix, then the content and
        // trailer sealed in place, then the tag. Reserved exactly first, so
        // the buffer never grows (and frees a copy) midway.
        let start = out.len();
        out.reserve_exact(prefix_len(setup, &header) + content.len() + trailer.len() + crypto::TAG_LEN);
        let mut w = Writer::appending(core::mem::take(out));
        write_prefix(&mut w, setup, &header);
        *out = w.into_vec();
        let body_start = out.len();
        out.extend_from_slice(content);
        out.extend_from_slice(trailer);
        let sealed = match out.get_mut(start..).and_then(|m| m.split_at_mut_checked(body_start.saturating_sub(start))) {
            Some((prefix, body)) => aead::seal_in_place(&aead.key, &aead.nonce, Ad { session: &self.ad, prefix }, body),
            None => Err(Error::InvalidState("output buffer")),
        };
        let tag = match sealed {
            Ok(tag) => tag,
            Err(e) => {
                out.truncate(start);
                return Err(e);
            }
        };
        out.extend_from_slice(&tag);

        chain.key = next_key;
        chain.index = next_index;
        Ok(())
    }

    /// Authenticates and decrypts `message` without changing any state,
    /// deriving at most `max_jump` keys past each chain's position (see
    /// [`MAX_FORWARD_JUMP`](crate::limits::MAX_FORWARD_JUMP) and
    /// [`MAX_PREVIOUS_STATE_JUMP`](crate::limits::MAX_PREVIOUS_STATE_JUMP)).
    ///
    /// The plaintext is decrypted in `buf` (cleared first; a caller's buffer
    /// whose capacity is reused, or an empty one).
    pub(crate) fn decrypt<'m>(
        &self,
        message: &'m SessionMessage<'_>,
        max_jump: u32,
        buf: Vec<u8>,
    ) -> Result<Decrypted<'m>> {
        let header = &message.header;
        let ad = Ad { session: &self.ad, prefix: message.authenticated };

        if let Peer::Receiving { key, chain } = &self.peer
            && key == &header.ratchet_key
        {
            if header.index < chain.index {
                return self.decrypt_skipped(message, ad, buf);
            }
            let (skipped, key, chain) = skip_to(&header.ratchet_key, chain, header.index, max_jump)?;
            let payload = open(&key, &message.header.salt, ad, message.ciphertext, buf)?;
            return Ok(self.decrypted(payload, Step::Advance { chain, skipped }, header, false));
        }
        if self.skipped.find(&header.ratchet_key, header.index).is_some() {
            return self.decrypt_skipped(message, ad, buf);
        }
        if self.old_chains.contains(&header.ratchet_key) || self.skipped.has_chain(&header.ratchet_key) {
            return Err(Error::DuplicateMessage);
        }

        // A new peer ratchet key: finish the current receiving chain up to
        // the sender's previous-chain length, then step the root.
        let mut skipped = Vec::new();
        if let Peer::Receiving { key: theirs, chain } = &self.peer
            && header.previous_chain_length > chain.index
        {
            let (mut old, _, _) = skip_to(theirs, chain, header.previous_chain_length, max_jump)?;
            // The key *at* previous_chain_length was never sent.
            skipped.append(&mut old);
        }
        let ours = self.own.pair().ok_or(Error::AuthenticationFailed)?;
        let dh = crypto::dh(&ours.secret, &X25519Public::from(header.ratchet_key))?;
        let (root, chain_key) = match self.braid.secret_for_receive_step(header.epoch)? {
            Some(secret) => self.root.step_hybrid(&dh, secret),
            None => self.root.step(&dh),
        };
        let fresh = ReceivingChain { key: chain_key, index: 0 };
        let (mut new_skipped, key, chain) = skip_to(&header.ratchet_key, &fresh, header.index, max_jump)?;
        skipped.append(&mut new_skipped);
        if skipped.len() > MAX_SKIPPED_TOTAL {
            return Err(Error::Session(SessionError::ForwardJumpTooLarge {
                jump: skipped.len() as u64,
                max: MAX_SKIPPED_TOTAL as u64,
            }));
        }
        let payload = open(&key, &message.header.salt, ad, message.ciphertext, buf)?;
        Ok(self.decrypted(payload, Step::Ratchet { theirs: header.ratchet_key, root, chain, skipped }, header, true))
    }

    fn decrypted<'m>(
        &self,
        payload: Zeroizing<Vec<u8>>,
        step: Step,
        header: &'m Header,
        new_chain: bool,
    ) -> Decrypted<'m> {
        let braid = self.braid.commit(header.epoch, new_chain, header.chunk.as_ref());
        Decrypted { payload, commit: Commit { step, braid } }
    }

    fn decrypt_skipped<'m>(&self, message: &'m SessionMessage<'_>, ad: Ad<'_>, buf: Vec<u8>) -> Result<Decrypted<'m>> {
        let header = &message.header;
        let key = self
            .skipped
            .find(&header.ratchet_key, header.index)
            .and_then(|pos| self.skipped.get(pos))
            .ok_or(Error::DuplicateMessage)?;
        let payload = open(key, &message.header.salt, ad, message.ciphertext, buf)?;
        Ok(self.decrypted(
            payload,
            Step::UsedSkipped { ratchet: header.ratchet_key, index: header.index },
            header,
            false,
        ))
    }

    /// Applies the state change of an accepted message.
    pub(crate) fn apply(&mut self, commit: Commit<'_>) {
        self.braid.apply(commit.braid);
        match commit.step {
            Step::UsedSkipped { ratchet, index } => {
                if let Some(pos) = self.skipped.find(&ratchet, index) {
                    self.skipped.remove(pos);
                }
            }
            Step::Advance { chain, skipped } => {
                self.skipped.extend(skipped);
                if let Peer::Receiving { chain: current, .. } = &mut self.peer {
                    *current = chain;
                }
            }
            Step::Ratchet { theirs, root, chain, skipped } => {
                self.skipped.extend(skipped);
                let old = core::mem::replace(&mut self.peer, Peer::Receiving { key: theirs, chain });
                if let Some(old) = old.key() {
                    if self.old_chains.len() >= MAX_REMEMBERED_CHAINS {
                        let _ = self.old_chains.pop_front();
                    }
                    self.old_chains.push_back(*old);
                }
                self.root = root;
                self.send_step_pending = true;
            }
        }
    }

    /// Whether `ratchet_key` is a peer ratchet key this state has received
    /// on: the current one, one with stored skipped keys, or a remembered
    /// old one. An error from a state that knows the key is about this
    /// message; one from another state only says "not this state".
    pub(crate) fn knows_chain(&self, ratchet_key: &[u8; 32]) -> bool {
        self.peer.key() == Some(ratchet_key)
            || self.skipped.has_chain(ratchet_key)
            || self.old_chains.contains(ratchet_key)
    }

    /// The post-quantum ratchet's epoch.
    pub(crate) fn braid_epoch(&self) -> u32 {
        self.braid.epoch()
    }

    #[cfg(test)]
    pub(crate) fn braid(&self) -> &Braid {
        &self.braid
    }

    #[cfg(any(fuzzing, feature = "test-hooks"))]
    pub(crate) fn disable_braid(&mut self) {
        self.braid = Braid::inert();
    }

    /// Puts the current sending chain at its last index, so the next
    /// encryption fails with [`Error::LimitReached`] (as it would after
    /// 2^32 - 1 messages). Only once a chain exists and no DH step is due
    /// (otherwise the next encryption starts a fresh chain); returns
    /// whether it applied.
    #[cfg(test)]
    pub(crate) fn exhaust_sending_chain(&mut self) -> bool {
        match &mut self.own {
            Own::Keyed { sending: Some(chain), .. } if !self.send_step_pending => {
                chain.index = u32::MAX;
                true
            }
            _ => false,
        }
    }

    /// Deletes every skipped message key; returns how many.
    pub(crate) fn forget_skipped(&mut self) -> usize {
        self.skipped.clear()
    }

    /// Number of skipped message keys currently stored.
    pub(crate) fn skipped_len(&self) -> usize {
        self.skipped.len()
    }

    /// Our current ratchet public key, if one has been generated.
    #[cfg(test)]
    pub(crate) fn our_ratchet_public(&self) -> Option<[u8; 32]> {
        self.own.pair().map(|o| o.public)
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.bytes(&self.ad).bytes(&self.root.0);
        // The layout predates the typed `Own` / `Peer` states: four optional
        // fields, our key pair, the peer's key, the sending and the
        // receiving chain.
        match self.own.pair() {
            Some(o) => w.u8(1).bytes(o.secret.as_bytes()),
            None => w.u8(0),
        };
        match self.peer.key() {
            Some(t) => w.u8(1).bytes(t),
            None => w.u8(0),
        };
        match self.own.sending() {
            Some(c) => w.u8(1).bytes(&c.key.0).u32(c.index),
            None => w.u8(0),
        };
        match &self.peer {
            Peer::Receiving { chain: c, .. } => w.u8(1).bytes(&c.key.0).u32(c.index),
            Peer::Unknown | Peer::Known(_) => w.u8(0),
        };
        w.u8(u8::from(self.send_step_pending)).u32(self.previous_sending_length);
        w.u32(self.skipped.len() as u32);
        for s in self.skipped.iter() {
            w.bytes(&s.ratchet).u32(s.index).bytes(&s.key.0);
        }
        w.u32(self.old_chains.len() as u32);
        for c in &self.old_chains {
            w.bytes(c);
        }
        self.braid.encode(w);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> core::result::Result<Self, WireError> {
        let ad = r.array()?;
        let root = RootKey(r.array()?);
        let ours =
            if r.bool()? { Some(RatchetKeyPair::from_secret(StaticSecret::from(r.array::<32>()?))) } else { None };
        let theirs = if r.bool()? { Some(r.array()?) } else { None };
        let sending = if r.bool()? { Some(SendingChain { key: ChainKey(r.array()?), index: r.u32()? }) } else { None };
        let receiving =
            if r.bool()? { Some(ReceivingChain { key: ChainKey(r.array()?), index: r.u32()? }) } else { None };
        let send_step_pending = r.bool()?;
        let previous_sending_length = r.u32()?;
        let n = r.count("skipped keys", MAX_SKIPPED_TOTAL)?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            entries.push(SkippedKey { ratchet: r.array()?, index: r.u32()?, key: MessageKey(r.array()?) });
        }
        let m = r.count("remembered chains", MAX_REMEMBERED_CHAINS)?;
        let mut old_chains = VecDeque::with_capacity(m);
        for _ in 0..m {
            old_chains.push_back(r.array()?);
        }
        let braid = Braid::decode(r)?;
        // A receiving chain needs the peer ratchet key it belongs to, and a
        // sending chain our key pair. The converse does not hold: an
        // initiator knows the peer's key (the signed prekey) before any
        // receiving chain exists, both before and after its first send.
        let own = match (ours, sending) {
            (Some(pair), sending) => Own::Keyed { pair, sending },
            (None, None) => Own::Unkeyed,
            (None, Some(_)) => return Err(WireError::InvalidField("ratchet chains inconsistent")),
        };
        let peer = match (theirs, receiving) {
            (Some(key), Some(chain)) => Peer::Receiving { key, chain },
            (Some(key), None) => Peer::Known(key),
            (None, None) => Peer::Unknown,
            (None, Some(_)) => return Err(WireError::InvalidField("ratchet chains inconsistent")),
        };
        let skipped = SkippedKeys::from_entries(entries)?;
        // A skipped key of the current receiving chain lies behind it.
        if let Peer::Receiving { key, chain } = &peer
            && skipped.iter().any(|e| &e.ratchet == key && e.index >= chain.index)
        {
            return Err(WireError::InvalidField("skipped key ahead of its chain"));
        }
        Ok(Self { ad, root, own, peer, send_step_pending, previous_sending_length, skipped, old_chains, braid })
    }
}

/// Steps `chain` from its current index to `target`, returning the keys
/// skipped on the way, the key for `target`, and the chain after `target`.
fn skip_to(
    ratchet: &[u8; 32],
    chain: &ReceivingChain,
    target: u32,
    max_jump: u32,
) -> Result<(Vec<SkippedKey>, MessageKey, ReceivingChain)> {
    let jump = target.checked_sub(chain.index).ok_or(Error::DuplicateMessage)?;
    if jump > max_jump {
        return Err(Error::Session(SessionError::ForwardJumpTooLarge {
            jump: u64::from(jump),
            max: u64::from(max_jump),
        }));
    }
    let mut skipped = Vec::with_capacity(jump as usize);
    let mut key = chain.key.clone();
    for index in chain.index..target {
        let (mk, next) = key.step();
        skipped.push(SkippedKey { ratchet: *ratchet, index, key: mk });
        key = next;
    }
    let (mk, next) = key.step();
    let index =
        target.checked_add(1).ok_or(Error::LimitReached { what: "messages per chain", max: u32::MAX as usize })?;
    Ok((skipped, mk, ReceivingChain { key: next, index }))
}

/// Opens a sealed payload (`ciphertext || tag`) with a message key.
fn open(
    key: &MessageKey,
    salt: &[u8; SALT_LEN],
    ad: Ad<'_>,
    sealed: &[u8],
    buf: Vec<u8>,
) -> Result<Zeroizing<Vec<u8>>> {
    let (body, tag) = crypto::split_tag(sealed)?;
    let aead = key.expand(salt);
    let mut buf = Zeroizing::new(buf);
    if buf.capacity() < body.len() {
        // Replaced exactly once, before any byte is written; the old block
        // (the caller's previous plaintext, perhaps) is wiped, not freed
        // as it is.
        buf.zeroize();
        *buf = Vec::with_capacity(body.len());
    }
    // Only the bytes past the buffer's current length are initialized (a
    // buffer reused for messages of one size writes nothing here); then
    // one pass decrypts from the message into it, after the tag checks.
    buf.resize(body.len(), 0);
    aead::open_to(&aead.key, &aead.nonce, ad, body, &mut buf, &tag)?;
    Ok(buf)
}
