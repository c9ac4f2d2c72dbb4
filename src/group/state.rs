//! Serialization of a [`Group`] (plaintext, secrets included; store it only
//! through [`Persist::export_encrypted`](crate::Persist::export_encrypted)).
//!
//! Type byte `0x32`: our own sender key (with its signing key seed), then
//! every member in ascending identity order with the receiving state of its
//! current and previous sender keys; the layout is specified in
//! [GROUP](crate::docs::group).
//!
//! The importer checks every count against [`crate::limits`] before
//! allocating and refuses anything the library could not have produced
//! (unsorted, overlapping or unaligned subtrees, entries at or after the
//! next iteration or older than the window, two siblings where their parent
//! would do, more stored entries than
//! [`MAX_GROUP_STORED_KEYS`](crate::limits::MAX_GROUP_STORED_KEYS)), so a
//! decoded state re-encodes to the same bytes.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use super::GroupId;
use super::chain::{MAX_ENCODED_LEN, Ratchet, Subtree, encoded_len};
use super::distribution::parse_signing_key;
use super::membership::{Group, Member};
use super::receiver::{MAX_SKIPPED, Receiver, window_start};
use super::sender::SenderKey;
use crate::error::{Error, Result, WireError};
use crate::identity::{IDENTITY_KEY_LEN, IdentityKey};
use crate::limits::{MAX_GROUP_MEMBERS, MAX_GROUP_STORED_KEYS, MAX_STATE};
use crate::persist::persist_via_inherent;
use crate::wire::MessageType;
use crate::wire::codec::state_reader;
use crate::wire::codec::{Reader, Writer, writer_for};

/// Encoded length of a group state, from the parts that vary: our
/// previous key id field (1 or 5 bytes), our ratchet and the members.
const fn state_len(previous_id_len: usize, own_ratchet_len: usize, members_len: usize) -> usize {
    2 + 32 + IDENTITY_KEY_LEN + 4 + 4 + previous_id_len + own_ratchet_len + 32 + 4 + members_len + 8
}

/// Encoded length of one receiver (see `encode_receiver`).
const fn receiver_len_of(ratchet_len: usize, skipped: usize) -> usize {
    4 + 4 + 32 + ratchet_len + 4 + skipped * SKIPPED_ENTRY_LEN
}

/// Encoded length of a group state with `others` other members, each with
/// a current and a previous sender key at the longest frontier, our own
/// key with a previous key id at the longest frontier, and `stored`
/// skipped-key entries in all: the longest state of that shape.
pub(crate) const fn longest_state_len(others: usize, stored: usize) -> usize {
    let member = IDENTITY_KEY_LEN + 1 + 2 * receiver_len_of(MAX_ENCODED_LEN, 0);
    state_len(5, MAX_ENCODED_LEN, others * member + stored * SKIPPED_ENTRY_LEN)
}

/// The largest group state the library can produce: every member with a
/// current and a previous key at their longest, and the whole stored-entry
/// budget. It must fit [`MAX_STATE`], so that every group can be exported
/// and imported again.
#[allow(dead_code, reason = "read only by the compile-time assertion below, which Rust 1.88 does not count as a use")]
const WORST_CASE_STATE: usize = longest_state_len(MAX_GROUP_MEMBERS - 1, MAX_GROUP_STORED_KEYS);
const _: () = assert!(WORST_CASE_STATE <= MAX_STATE, "a full group must fit MAX_STATE");

impl Group {
    /// Serializes the group, secrets included: store it only encrypted
    /// (see [`Persist`](crate::Persist)).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, Persist};
    /// use sealpost::group::{Group, GroupId};
    /// let mut rng = sealpost::default_rng();
    /// let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// group.encrypt(b"hello", &mut rng)?;
    /// let key = [9u8; 32];
    /// let saved = group.export_encrypted(&key, &mut rng);
    /// let restored = Group::import_encrypted(&key, &saved)?;
    /// assert_eq!(restored.to_bytes(), group.to_bytes());
    /// assert_eq!(restored.own_iteration(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        // Sized exactly: the state holds every chain's secrets, and a
        // reallocation would leave a copy behind in freed memory.
        let mut w = writer_for(MessageType::GroupState, self.encoded_len().saturating_sub(2));
        w.bytes(&self.id.0).bytes(self.own.as_bytes());
        w.u32(self.sender.key_id).u32(self.sender.generation);
        match self.sender.previous_key_id {
            Some(id) => w.u8(1).u32(id),
            None => w.u8(0),
        };
        self.sender.ratchet.encode(&mut w);
        w.bytes(Zeroizing::new(self.sender.signing.to_bytes()).as_ref());
        w.u32(u32::try_from(self.members.len()).unwrap_or(u32::MAX));
        for member in self.members.values() {
            w.bytes(member.identity.as_bytes());
            match (&member.current, &member.previous) {
                (Some(current), Some(previous)) => {
                    w.u8(3);
                    encode_receiver(&mut w, current);
                    encode_receiver(&mut w, previous);
                }
                (Some(current), None) => {
                    w.u8(1);
                    encode_receiver(&mut w, current);
                }
                // `previous` is only ever set together with `current`.
                (None, _) => {
                    w.u8(0);
                }
            }
        }
        w.u64(self.export_generation);
        Zeroizing::new(w.into_vec())
    }

    /// Restores a group from [`Self::to_bytes`].
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, group::{Group, GroupId}};
    /// let mut rng = sealpost::default_rng();
    /// let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let restored = Group::from_bytes(&group.to_bytes())?; // store it encrypted (Persist)
    /// assert_eq!(restored.id(), group.id());
    /// assert!(restored.needs_rotation()); // a loaded group rotates before it sends
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = state_reader(bytes, MessageType::GroupState)?;
        let id = GroupId(r.array()?);
        let own = IdentityKey::from_bytes(&r.array::<IDENTITY_KEY_LEN>()?)?;
        let key_id = r.u32()?;
        let generation = r.u32()?;
        let previous_key_id = if r.bool()? { Some(r.u32()?) } else { None };
        if previous_key_id == Some(key_id) || (generation == 0) != previous_key_id.is_none() {
            return Err(WireError::InvalidField("own sender key history").into());
        }
        let ratchet = Ratchet::decode(&mut r)?;
        let seed = Zeroizing::new(r.array::<32>()?);
        let sender = SenderKey { key_id, generation, previous_key_id, ratchet, signing: SigningKey::from_bytes(&seed) };

        let count = r.count("group members", MAX_GROUP_MEMBERS - 1)?;
        let mut members = BTreeMap::new();
        let mut last: Option<IdentityKey> = None;
        let mut stored = 0usize;
        for _ in 0..count {
            let identity = IdentityKey::from_bytes(&r.array::<IDENTITY_KEY_LEN>()?)?;
            if identity == own || last.is_some_and(|l| l >= identity) {
                return Err(WireError::InvalidField("group members must be ascending and exclude us").into());
            }
            last = Some(identity);
            let member = match r.u8()? {
                0 => Member::new(identity),
                1 => Member { identity, current: Some(decode_receiver(&mut r)?), previous: None },
                3 => {
                    let current = decode_receiver(&mut r)?;
                    let previous = decode_receiver(&mut r)?;
                    if current.key_id == previous.key_id || current.generation <= previous.generation {
                        return Err(WireError::InvalidField("sender keys: duplicate id or previous not older").into());
                    }
                    Member { identity, current: Some(current), previous: Some(previous) }
                }
                _ => return Err(WireError::InvalidField("member key slots").into()),
            };
            stored = stored.saturating_add(member.stored());
            if stored > MAX_GROUP_STORED_KEYS {
                return Err(Error::LimitReached { what: "stored group keys", max: MAX_GROUP_STORED_KEYS });
            }
            members.insert(identity.to_bytes(), member);
        }
        let export_generation = r.u64()?;
        r.finish()?;
        Ok(Self { id, own, sender, members, stored, export_generation, loaded: true })
    }
}

persist_via_inherent!(Group, MessageType::GroupState);

impl Group {
    /// Length of [`Group::to_bytes`].
    pub(crate) fn encoded_len(&self) -> usize {
        let previous_id_len = if self.sender.previous_key_id.is_some() { 5 } else { 1 };
        let members: usize = self
            .members
            .values()
            .map(|m| {
                let receivers = [&m.current, &m.previous].into_iter().flatten();
                IDENTITY_KEY_LEN
                    + 1
                    + receivers
                        .map(|r| receiver_len_of(encoded_len(r.ratchet.counter()), r.skipped.len()))
                        .sum::<usize>()
            })
            .sum();
        state_len(previous_id_len, encoded_len(self.sender.ratchet.counter()), members)
    }
}

/// Encoded bytes of one stored skipped-key entry: start, level, value.
const SKIPPED_ENTRY_LEN: usize = 4 + 1 + 32;

fn encode_receiver(w: &mut Writer, receiver: &Receiver) {
    w.u32(receiver.key_id).u32(receiver.generation).bytes(receiver.signing.as_bytes());
    receiver.ratchet.encode(w);
    w.u32(u32::try_from(receiver.skipped.len()).unwrap_or(u32::MAX));
    for node in receiver.skipped.values() {
        w.u32(node.start).u8(node.level).bytes(&node.value);
    }
}

fn decode_receiver(r: &mut Reader<'_>) -> core::result::Result<Receiver, WireError> {
    let key_id = r.u32()?;
    let generation = r.u32()?;
    let signing = parse_signing_key(&r.array()?)?;
    let ratchet = Ratchet::decode(r)?;
    let next = ratchet.counter();
    let mut receiver = Receiver::new(key_id, generation, signing, ratchet);
    // Everything older than the window of the newest message is deleted on
    // receipt (see `receiver.rs`): stored state never holds it.
    let oldest = window_start(next.saturating_sub(1));
    let count = r.count("group skipped keys", MAX_SKIPPED)?;
    let mut previous: Option<Subtree> = None;
    for _ in 0..count {
        let node = Subtree::new(r.u32()?, r.u8()?, r.array()?)?;
        if node.start < oldest {
            return Err(WireError::InvalidField("group key older than the out-of-order window"));
        }
        let in_order = previous.as_ref().is_none_or(|p| p.last() < node.start && !p.is_sibling_of(&node));
        if !in_order || node.last() >= next {
            return Err(WireError::InvalidField(
                "group skipped keys must be ascending, disjoint, canonical and before the next iteration",
            ));
        }
        previous = Some(node.clone());
        receiver.skipped.insert(node.start, node);
    }
    Ok(receiver)
}
