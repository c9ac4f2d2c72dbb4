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
//! (unsorted or duplicate entries, entries at or after the next iteration,
//! keys inside a run, more stored entries than
//! [`MAX_GROUP_STORED_KEYS`](crate::limits::MAX_GROUP_STORED_KEYS)), so a
//! decoded state re-encodes to the same bytes.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use super::GroupId;
use super::chain::{BLOCK, MessageKey, PARTS, Ratchet, Run};
use super::distribution::parse_signing_key;
use super::membership::{Group, Member};
use super::receiver::{Receiver, window_start};
use super::sender::SenderKey;
use crate::error::{Error, Result, WireError};
use crate::identity::{IDENTITY_KEY_LEN, IdentityKey};
use crate::limits::{GROUP_OUT_OF_ORDER_WINDOW, MAX_GROUP_MEMBERS, MAX_GROUP_STORED_KEYS};
use crate::persist::persist_via_inherent;
use crate::wire::MessageType;
use crate::wire::codec::state_reader;
use crate::wire::codec::{Reader, Writer, writer_for};

/// Runs one receiver can hold: one per block of the window.
const MAX_RUNS: usize = (GROUP_OUT_OF_ORDER_WINDOW / BLOCK) as usize;

/// Single keys one receiver can hold: the window plus the newest block.
const MAX_KEYS: usize = (GROUP_OUT_OF_ORDER_WINDOW + BLOCK) as usize;

impl Group {
    /// Serializes the group, secrets included: store it only encrypted
    /// (see [`Persist`](crate::Persist)).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, Persist};
    /// use sealpost::group::{Group, GroupId};
    /// let mut rng = rand::rng();
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
        let mut w = writer_for(MessageType::GroupState, 300 + self.members.len() * 400);
        w.bytes(&self.id.0).bytes(self.own.as_bytes());
        w.u32(self.sender.key_id).u32(self.sender.generation);
        match self.sender.previous_key_id {
            Some(id) => w.u8(1).u32(id),
            None => w.u8(0),
        };
        w.u32(self.sender.ratchet.counter());
        w.bytes(self.sender.ratchet.to_secret_bytes().as_ref());
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
        let ratchet = decode_ratchet(&mut r)?;
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

fn decode_ratchet(r: &mut Reader<'_>) -> core::result::Result<Ratchet, WireError> {
    let counter = r.u32()?;
    let mut parts = Zeroizing::new([[0u8; 32]; PARTS]);
    for part in parts.iter_mut() {
        *part = r.array()?;
    }
    Ok(Ratchet::from_parts(*parts, counter))
}

fn encode_receiver(w: &mut Writer, receiver: &Receiver) {
    w.u32(receiver.key_id).u32(receiver.generation).bytes(receiver.signing.as_bytes());
    w.u32(receiver.ratchet.counter()).bytes(receiver.ratchet.to_secret_bytes().as_ref());
    w.u32(u32::try_from(receiver.runs.len()).unwrap_or(u32::MAX));
    for run in &receiver.runs {
        w.u32(run.start).bytes(&run.part3);
    }
    w.u32(u32::try_from(receiver.keys.len()).unwrap_or(u32::MAX));
    for (iteration, key) in &receiver.keys {
        w.u32(*iteration).bytes(&key.0);
    }
}

fn decode_receiver(r: &mut Reader<'_>) -> core::result::Result<Receiver, WireError> {
    let key_id = r.u32()?;
    let generation = r.u32()?;
    let signing = parse_signing_key(&r.array()?)?;
    let ratchet = decode_ratchet(r)?;
    let next = ratchet.counter();
    let mut receiver = Receiver::new(key_id, generation, signing, ratchet);

    let runs = r.count("group key runs", MAX_RUNS)?;
    // Sized up front: a growing Vec would free copies of the run keys.
    receiver.runs.reserve_exact(runs);
    for _ in 0..runs {
        let run = Run { start: r.u32()?, part3: r.array()? };
        let after_previous = receiver.runs.last().is_none_or(|p| p.last() < run.start);
        if !after_previous || run.last() >= next {
            return Err(WireError::InvalidField("group key runs must be ascending, one per block, before next"));
        }
        receiver.runs.push(run);
    }
    let keys = r.count("group skipped keys", MAX_KEYS)?;
    for _ in 0..keys {
        let iteration = r.u32()?;
        let key = MessageKey(r.array()?);
        let ascending = receiver.keys.last_key_value().is_none_or(|(last, _)| *last < iteration);
        if !ascending || iteration >= next || receiver.runs.iter().any(|run| run.contains(iteration)) {
            return Err(WireError::InvalidField("group skipped keys must be ascending, before next, outside runs"));
        }
        receiver.keys.insert(iteration, key);
    }
    // Everything older than the window of the newest message is deleted on
    // receipt (see `receiver.rs`): stored state never holds it.
    let oldest = window_start(next.saturating_sub(1));
    let first_run = receiver.runs.first().map(|run| run.start);
    let first_key = receiver.keys.first_key_value().map(|(i, _)| *i);
    if first_run.into_iter().chain(first_key).any(|i| i < oldest) {
        return Err(WireError::InvalidField("group key older than the out-of-order window"));
    }
    Ok(receiver)
}
