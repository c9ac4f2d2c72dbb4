//! The post-quantum ratchet: fresh ML-KEM-768 secrets mixed into the root
//! chain during the conversation, their keys and ciphertexts spread over
//! ordinary messages in erasure-coded chunks.
//!
//! The design follows the idea of Signal's Sparse Post-Quantum Ratchet
//! (SPQR, the ML-KEM Braid) in a simpler form; [PROTOCOL](crate::docs::protocol)
//! has the specification and the security argument. In short:
//!
//! * The conversation moves through **epochs** `1, 2, ...` (epoch 0 is the
//!   PQXDH setup). For each epoch one side is the **holder**: it makes an
//!   ML-KEM-768 key pair and sends the encapsulation key (1,184 bytes) in
//!   chunks; the other side, the **encapsulator**, rebuilds the key from any
//!   [`KEY_CHUNKS`] distinct chunks, encapsulates, and sends the ciphertext
//!   (1,088 bytes) back the same way. Roles alternate: the encapsulator of
//!   one epoch holds the key of the next.
//! * Every message header names the epoch of its sending chain and carries
//!   at most one chunk, for the next epoch. Chunks are coded
//!   ([`erasure`](super::erasure)): each message carries a new point, so
//!   lost or reordered messages cost only the time to send a few more.
//! * The holder, once it has decapsulated, mixes the epoch's secret into
//!   the root key at its next sending DH-ratchet step (`KDF_RK(rk, dh ||
//!   ss)`) and names the new epoch in that chain's headers; the
//!   encapsulator mixes the same secret at the matching receiving step.
//!   From there every chain and message key depends on it.

use rand_core::CryptoRng;

use super::erasure::{self, CHUNK_LEN};
use crate::error::{Error, Result, WireError};
use crate::kem::{KemSeed, SharedSecret, braid as kem};
use crate::wire::codec::{Reader, Writer};

/// Distinct chunks that rebuild an encapsulation key (10).
pub(crate) const KEY_CHUNKS: usize = erasure::chunks_for(kem::PUBLIC_LEN);
/// Distinct chunks that rebuild a ciphertext (9).
pub(crate) const CIPHERTEXT_CHUNKS: usize = erasure::chunks_for(kem::CIPHERTEXT_LEN);

/// Chunks a side sends in a row without hearing from its peer: one and a
/// half times what rebuilds the value, so a third of them may be lost.
/// Any message from the peer (which still needs chunks, or it would have
/// moved on) allows as many again. A one-way stream of messages so stops
/// carrying chunks after a few, instead of 129 bytes each for ever.
const fn chunk_budget(chunks: usize) -> u8 {
    (chunks + chunks.div_ceil(2)) as u8
}

/// What a chunk is a piece of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkKind {
    /// The holder's encapsulation key.
    Key = 1,
    /// The encapsulator's ciphertext.
    Ciphertext = 2,
}

impl ChunkKind {
    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Key),
            2 => Some(Self::Ciphertext),
            _ => None,
        }
    }
}

/// One erasure-coded chunk, as a message header carries it. It is for the
/// epoch after the one the header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub(crate) kind: ChunkKind,
    /// The evaluation point (see [`erasure`](super::erasure)).
    pub(crate) point: u8,
    pub(crate) data: [u8; CHUNK_LEN],
}

/// Chunks received so far, at distinct points.
type Received = Vec<(u8, [u8; CHUNK_LEN])>;

/// The post-quantum ratchet state of one session state.
#[derive(Clone)]
pub(crate) struct Braid {
    /// The last epoch mixed into the root chain.
    epoch: u32,
    role: Role,
}

/// Our part in establishing epoch `epoch + 1`.
#[derive(Clone)]
enum Role {
    Holder {
        /// Made at our next encryption (which has randomness).
        key: Option<HolderKey>,
        /// Ciphertext chunks; the first one tells us the peer has our key,
        /// and we stop sending it.
        received: Received,
        /// Decapsulated: mixed at our next sending step.
        secret: Option<SharedSecret>,
    },
    Encapsulator {
        received: Received,
        /// The rebuilt key: we encapsulate to it at our next encryption.
        key: Option<RebuiltKey>,
        sent: Option<Encapsulated>,
    },
}

#[derive(Clone)]
struct HolderKey {
    seed: KemSeed,
    /// The key expanded from `seed` when this process made it (not
    /// stored: a restored state expands the seed when it decapsulates).
    expanded: Option<kem::Expanded>,
    public: Box<[u8; kem::PUBLIC_LEN]>,
    sending: Sending,
}

/// The holder's key as the encapsulator rebuilt it: its bytes (stored)
/// and the key parsed and checked when it was rebuilt.
#[derive(Clone)]
struct RebuiltKey {
    bytes: Box<[u8; kem::PUBLIC_LEN]>,
    parsed: kem::Parsed,
}

#[derive(Clone)]
struct Encapsulated {
    ciphertext: Box<[u8; kem::CIPHERTEXT_LEN]>,
    secret: SharedSecret,
    sending: Sending,
}

/// Where a side is in sending its value's chunks.
#[derive(Clone, Copy, Default)]
struct Sending {
    /// Chunks sent so far: the next point is `sent mod 256`.
    sent: u32,
    /// Chunks sent since the last message from the peer.
    unheard: u8,
}

impl Sending {
    /// The next point, if the budget allows a chunk now.
    fn next_point(&mut self, budget: u8) -> Option<u8> {
        if self.unheard >= budget {
            return None;
        }
        let point = (self.sent % 256) as u8;
        self.sent = self.sent.wrapping_add(1);
        self.unheard += 1;
        Some(point)
    }

    fn encode(&self, w: &mut Writer) {
        w.u32(self.sent).u8(self.unheard);
    }

    fn decode(r: &mut Reader<'_>, budget: u8) -> core::result::Result<Self, WireError> {
        let sent = r.u32()?;
        let unheard = r.u8()?;
        if unheard > budget {
            return Err(WireError::InvalidField("braid chunks sent past the budget"));
        }
        Ok(Self { sent, unheard })
    }
}

const KEY_BUDGET: u8 = chunk_budget(KEY_CHUNKS);
const CIPHERTEXT_BUDGET: u8 = chunk_budget(CIPHERTEXT_CHUNKS);

/// What accepting a message changes in the braid; see [`Braid::apply`].
/// The chunk stays in the parsed message until the commit is applied.
pub(crate) struct BraidCommit<'m> {
    /// The message's chain mixed epoch `epoch + 1` (we were its
    /// encapsulator): we become the holder of the next one.
    mixed: bool,
    /// The epoch the header named, and its chunk.
    header_epoch: u32,
    chunk: Option<&'m Chunk>,
}

impl Braid {
    /// After setup: the initiator holds the key of epoch 1, so chunks flow
    /// from the first message on.
    pub(crate) fn new(initiator: bool) -> Self {
        let role = if initiator {
            Role::Holder { key: None, received: Vec::new(), secret: None }
        } else {
            Role::Encapsulator { received: Vec::new(), key: None, sent: None }
        };
        Self { epoch: 0, role }
    }

    /// For the initiator of a session, a braid under which neither side
    /// ever sends, draws or mixes anything: for benchmarks that measure a
    /// session without the post-quantum ratchet
    /// (`test_hooks::disable_post_quantum_ratchet`). It is an ordinary
    /// state, not a mode: both sides then wait, as encapsulators, for a
    /// key that never comes.
    #[cfg(any(fuzzing, feature = "test-hooks"))]
    pub(crate) fn inert() -> Self {
        Self::new(false)
    }

    /// The last epoch mixed into the root chain.
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Whether the next [`Self::prepare`] draws ML-KEM randomness: 64
    /// bytes for a key pair, or 32 for an encapsulation (for the adversary
    /// tests, which must tell those draws from the X25519 ones).
    #[cfg(test)]
    pub(crate) fn kem_draw_due(&self) -> bool {
        matches!(self.role, Role::Holder { key: None, .. } | Role::Encapsulator { key: Some(_), sent: None, .. })
    }

    /// Whether we hold a decapsulation key (for the epoch after
    /// [`Self::epoch`]).
    #[cfg(test)]
    pub(crate) fn holds_key(&self) -> bool {
        matches!(self.role, Role::Holder { key: Some(_), .. })
    }

    /// Before an encryption: draws the KEM key pair or encapsulates, if
    /// that is due.
    pub(crate) fn prepare<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<()> {
        match &mut self.role {
            Role::Holder { key: key @ None, .. } => {
                let seed = KemSeed::generate(rng);
                let expanded = kem::expand_seed(&seed);
                let public = kem::expanded_public_key(&expanded);
                *key = Some(HolderKey { seed, expanded: Some(expanded), public, sending: Sending::default() });
            }
            Role::Encapsulator { key: Some(rebuilt), sent: sent @ None, .. } => {
                let (ciphertext, secret) = kem::encapsulate(&rebuilt.parsed, rng);
                *sent = Some(Encapsulated { ciphertext, secret, sending: Sending::default() });
            }
            _ => {}
        }
        Ok(())
    }

    /// At our sending DH-ratchet step: the secret to mix, if we hold a
    /// decapsulated one. Mixing it moves us to the next epoch, as its
    /// encapsulator.
    pub(crate) fn take_secret_for_send_step(&mut self) -> Option<SharedSecret> {
        let Role::Holder { secret, .. } = &mut self.role else { return None };
        let secret = secret.take()?;
        self.epoch = self.epoch.saturating_add(1);
        self.role = Role::Encapsulator { received: Vec::new(), key: None, sent: None };
        Some(secret)
    }

    /// The chunk for our next message, if we have one to send and the
    /// budget allows it.
    pub(crate) fn next_chunk(&mut self) -> Option<Chunk> {
        let (kind, value, point) = match &mut self.role {
            Role::Holder { key: Some(k), received, secret: None } if received.is_empty() => {
                (ChunkKind::Key, &k.public[..], k.sending.next_point(KEY_BUDGET)?)
            }
            Role::Encapsulator { sent: Some(e), .. } => {
                (ChunkKind::Ciphertext, &e.ciphertext[..], e.sending.next_point(CIPHERTEXT_BUDGET)?)
            }
            _ => return None,
        };
        // Points 0..=255 in turn: the data chunks first (no coding work
        // when nothing is lost), then parity.
        Some(Chunk { kind, point, data: erasure::encode(value, point) })
    }

    /// For a message that starts a new receiving chain: the secret its
    /// root step mixes, if its header names the next epoch. Refuses an
    /// epoch the peer cannot be in. Changes nothing.
    pub(crate) fn secret_for_receive_step(&self, header_epoch: u32) -> Result<Option<&SharedSecret>> {
        if header_epoch == self.epoch {
            return Ok(None);
        }
        match &self.role {
            Role::Encapsulator { sent: Some(e), .. } if Some(header_epoch) == self.epoch.checked_add(1) => {
                Ok(Some(&e.secret))
            }
            _ => Err(Error::AuthenticationFailed),
        }
    }

    /// The braid part of accepting a message (after it authenticated).
    pub(crate) fn commit<'m>(&self, header_epoch: u32, new_chain: bool, chunk: Option<&'m Chunk>) -> BraidCommit<'m> {
        let mixed = new_chain && Some(header_epoch) == self.epoch.checked_add(1);
        BraidCommit { mixed, header_epoch, chunk }
    }

    /// Applies an accepted message: we heard from the peer (a new chunk
    /// budget), a mixed epoch, then its chunk.
    pub(crate) fn apply(&mut self, commit: BraidCommit<'_>) {
        match &mut self.role {
            Role::Holder { key: Some(k), .. } => k.sending.unheard = 0,
            Role::Encapsulator { sent: Some(e), .. } => e.sending.unheard = 0,
            _ => {}
        }
        if commit.mixed && matches!(self.role, Role::Encapsulator { sent: Some(_), .. }) {
            self.epoch = self.epoch.saturating_add(1);
            self.role = Role::Holder { key: None, received: Vec::new(), secret: None };
        }
        if let Some(chunk) = commit.chunk
            && commit.header_epoch == self.epoch
        {
            self.absorb(*chunk);
        }
    }

    /// Adds a chunk for epoch `epoch + 1`; rebuilds and uses the value once
    /// enough distinct chunks are in.
    fn absorb(&mut self, chunk: Chunk) {
        match (&mut self.role, chunk.kind) {
            (Role::Holder { key: Some(k), received, secret: secret @ None }, ChunkKind::Ciphertext) => {
                if let Some(value) = add(received, &chunk, kem::CIPHERTEXT_LEN) {
                    if let Ok(ciphertext) = <[u8; kem::CIPHERTEXT_LEN]>::try_from(value.as_slice()) {
                        *secret = Some(match &k.expanded {
                            Some(expanded) => kem::decapsulate_expanded(expanded, &ciphertext),
                            None => kem::decapsulate(&k.seed, &ciphertext),
                        });
                    }
                    // Keep one chunk: a non-empty list also says "stop
                    // sending the key".
                    received.truncate(1);
                }
            }
            (Role::Encapsulator { received, key: key @ None, .. }, ChunkKind::Key) => {
                if let Some(value) = add(received, &chunk, kem::PUBLIC_LEN) {
                    let parsed = <[u8; kem::PUBLIC_LEN]>::try_from(value.as_slice())
                        .ok()
                        .and_then(|bytes| Some((kem::parse(&bytes, "braid key").ok()?, bytes)));
                    // Not a valid key (only a misbehaving peer sends one):
                    // start over.
                    if let Some((parsed, bytes)) = parsed {
                        *key = Some(RebuiltKey { bytes: Box::new(bytes), parsed });
                    }
                    received.clear();
                }
            }
            _ => {}
        }
    }

    /// `epoch | role ...`, see [PROTOCOL](crate::docs::protocol).
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(self.epoch);
        let put_received = |w: &mut Writer, received: &Received| {
            w.u8(received.len() as u8);
            for (point, data) in received {
                w.u8(*point).bytes(data);
            }
        };
        match &self.role {
            Role::Holder { key, received, secret } => {
                w.u8(0);
                match key {
                    Some(k) => {
                        w.u8(1).bytes(k.seed.as_bytes()).bytes(&k.public[..]);
                        k.sending.encode(w);
                    }
                    None => {
                        w.u8(0);
                    }
                }
                put_received(w, received);
                match secret {
                    Some(s) => w.u8(1).bytes(&s[..]),
                    None => w.u8(0),
                };
            }
            Role::Encapsulator { received, key, sent } => {
                w.u8(1);
                put_received(w, received);
                match key {
                    Some(k) => w.u8(1).bytes(&k.bytes[..]),
                    None => w.u8(0),
                };
                match sent {
                    Some(e) => {
                        w.u8(1).bytes(&e.ciphertext[..]).bytes(&e.secret[..]);
                        e.sending.encode(w);
                    }
                    None => {
                        w.u8(0);
                    }
                }
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> core::result::Result<Self, WireError> {
        let epoch = r.u32()?;
        let get_received = |r: &mut Reader<'_>, max: usize| -> core::result::Result<Received, WireError> {
            let n = usize::from(r.u8()?);
            if n >= max {
                return Err(WireError::InvalidField("braid chunks"));
            }
            let mut received: Received = Vec::with_capacity(n);
            for _ in 0..n {
                let point = r.u8()?;
                // Strictly ascending is not how they arrive; distinct is
                // what matters, and what `add` keeps.
                if received.iter().any(|(p, _)| *p == point) {
                    return Err(WireError::InvalidField("braid chunk points must be distinct"));
                }
                received.push((point, r.array()?));
            }
            Ok(received)
        };
        let role = match r.u8()? {
            0 => {
                let key = if r.bool()? {
                    let seed = KemSeed::from_bytes(r.array()?);
                    let public = Box::new(r.array()?);
                    Some(HolderKey { seed, expanded: None, public, sending: Sending::decode(r, KEY_BUDGET)? })
                } else {
                    None
                };
                let received = get_received(r, CIPHERTEXT_CHUNKS)?;
                let secret = if r.bool()? { Some(SharedSecret::new(r.array()?)) } else { None };
                Role::Holder { key, received, secret }
            }
            1 => {
                let received = get_received(r, KEY_CHUNKS)?;
                let key = if r.bool()? {
                    let bytes: [u8; kem::PUBLIC_LEN] = r.array()?;
                    Some(RebuiltKey { parsed: kem::parse(&bytes, "braid key")?, bytes: Box::new(bytes) })
                } else {
                    None
                };
                let sent = if r.bool()? {
                    let ciphertext = Box::new(r.array()?);
                    let secret = SharedSecret::new(r.array()?);
                    Some(Encapsulated { ciphertext, secret, sending: Sending::decode(r, CIPHERTEXT_BUDGET)? })
                } else {
                    None
                };
                Role::Encapsulator { received, key, sent }
            }
            _ => return Err(WireError::InvalidField("braid role")),
        };
        Ok(Self { epoch, role })
    }
}

/// Adds `chunk` to `received` unless its point is there already; returns
/// the rebuilt value once `chunks_for(len)` distinct chunks are in.
fn add(received: &mut Received, chunk: &Chunk, len: usize) -> Option<Vec<u8>> {
    if received.iter().any(|(p, _)| *p == chunk.point) {
        return None;
    }
    received.push((chunk.point, chunk.data));
    if received.len() < erasure::chunks_for(len) {
        return None;
    }
    let value = erasure::decode(len, received);
    if value.is_none() {
        // Chunks that do not fit together: start over.
        received.clear();
    }
    value
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// A holder (the initiator) and an encapsulator at epoch 0, the holder
    /// with its key drawn.
    fn pair(rng: &mut StdRng) -> (Braid, Braid) {
        let mut holder = Braid::new(true);
        holder.prepare(rng).unwrap();
        (holder, Braid::new(false))
    }

    /// Delivers `from`'s next chunk (if any) to `to` on an existing chain.
    fn deliver(from: &mut Braid, to: &mut Braid) -> Option<ChunkKind> {
        let chunk = from.next_chunk();
        let kind = chunk.as_ref().map(|c| c.kind);
        let commit = to.commit(from.epoch(), false, chunk.as_ref());
        to.apply(commit);
        kind
    }

    #[test]
    fn hearing_from_the_peer_renews_the_budget_on_both_sides() {
        let mut rng = StdRng::seed_from_u64(1);
        let (mut holder, mut encapsulator) = pair(&mut rng);
        let sent = (0..20).filter(|_| holder.next_chunk().is_some()).count();
        assert_eq!(sent, usize::from(KEY_BUDGET), "a one-way stream stops at the budget");
        let commit = holder.commit(0, false, None);
        holder.apply(commit);
        assert!(holder.next_chunk().is_some(), "a message from the peer allows more");

        // The encapsulator likewise, once it has a ciphertext to send.
        while encapsulator.next_chunk().is_none() {
            assert_eq!(deliver(&mut holder, &mut encapsulator), Some(ChunkKind::Key));
            encapsulator.prepare(&mut rng).unwrap();
        }
        let sent = 1 + (0..20).filter(|_| encapsulator.next_chunk().is_some()).count();
        assert_eq!(sent, usize::from(CIPHERTEXT_BUDGET));
        let commit = encapsulator.commit(0, false, None);
        encapsulator.apply(commit);
        assert!(encapsulator.next_chunk().is_some());
    }

    #[test]
    fn the_holder_stops_sending_its_key_once_ciphertext_chunks_arrive() {
        let mut rng = StdRng::seed_from_u64(2);
        let (mut holder, mut encapsulator) = pair(&mut rng);
        for _ in 0..KEY_CHUNKS {
            assert_eq!(deliver(&mut holder, &mut encapsulator), Some(ChunkKind::Key));
        }
        encapsulator.prepare(&mut rng).unwrap();
        assert_eq!(deliver(&mut encapsulator, &mut holder), Some(ChunkKind::Ciphertext));
        assert_eq!(holder.next_chunk().map(|c| c.kind), None, "the peer has the key: no more key chunks");
    }

    #[test]
    fn a_new_chain_may_name_only_the_current_or_the_next_epoch() {
        let mut rng = StdRng::seed_from_u64(3);
        let (mut holder, mut encapsulator) = pair(&mut rng);
        assert!(matches!(encapsulator.secret_for_receive_step(0), Ok(None)));
        assert_eq!(
            encapsulator.secret_for_receive_step(1).err(),
            Some(Error::AuthenticationFailed),
            "nothing sent yet"
        );
        for _ in 0..KEY_CHUNKS {
            deliver(&mut holder, &mut encapsulator);
        }
        encapsulator.prepare(&mut rng).unwrap();
        assert!(matches!(encapsulator.secret_for_receive_step(1), Ok(Some(_))));
        for epoch in [2, 3, u32::MAX] {
            assert_eq!(encapsulator.secret_for_receive_step(epoch).err(), Some(Error::AuthenticationFailed), "{epoch}");
        }
    }

    #[test]
    fn a_stored_braid_keeps_distinct_chunks_and_refuses_a_repeated_point() {
        let mut rng = StdRng::seed_from_u64(4);
        let (mut holder, mut encapsulator) = pair(&mut rng);
        deliver(&mut holder, &mut encapsulator);
        deliver(&mut holder, &mut encapsulator);
        let mut w = Writer::with_capacity(512);
        encapsulator.encode(&mut w);
        let bytes = w.into_vec();
        let restored = Braid::decode(&mut Reader::new(&bytes)).unwrap();
        let mut again = Writer::with_capacity(512);
        restored.encode(&mut again);
        assert_eq!(again.into_vec(), bytes);

        // Epoch (4), role (1), count (1), then (point, 128 bytes) per chunk.
        assert_eq!((bytes[5], bytes[6], bytes[6 + 1 + CHUNK_LEN]), (2, 0, 1));
        let mut repeated = bytes.clone();
        repeated[6 + 1 + CHUNK_LEN] = 0;
        assert_eq!(
            Braid::decode(&mut Reader::new(&repeated)).err(),
            Some(WireError::InvalidField("braid chunk points must be distinct"))
        );
    }

    #[test]
    fn the_chunk_budgets_are_one_and_a_half_times_what_rebuilds_the_value() {
        assert_eq!((KEY_CHUNKS, CIPHERTEXT_CHUNKS), (10, 9));
        assert_eq!((KEY_BUDGET, CIPHERTEXT_BUDGET), (15, 14));
        assert_eq!(chunk_budget(1), 2);
    }

    #[test]
    fn a_sender_stops_at_its_budget_and_numbers_points_modulo_256() {
        let mut s = Sending::default();
        assert_eq!((0..4).map(|_| s.next_point(3)).collect::<Vec<_>>(), [Some(0), Some(1), Some(2), None]);
        assert_eq!((s.sent, s.unheard), (3, 3), "a refused point counts nothing");

        let mut s = Sending { sent: 255, unheard: 0 };
        assert_eq!((s.next_point(15), s.next_point(15)), (Some(255), Some(0)));
        assert_eq!((s.sent, s.unheard), (257, 2));
    }

    #[test]
    fn a_stored_sender_may_be_at_its_budget_but_not_past_it() {
        let decode = |unheard: u8| {
            let mut w = Writer::with_capacity(5);
            Sending { sent: 40, unheard }.encode(&mut w);
            let bytes = w.into_vec();
            Sending::decode(&mut Reader::new(&bytes), KEY_BUDGET).map(|s| (s.sent, s.unheard))
        };
        assert_eq!(decode(KEY_BUDGET), Ok((40, KEY_BUDGET)));
        assert_eq!(decode(KEY_BUDGET + 1), Err(WireError::InvalidField("braid chunks sent past the budget")));
    }
}
