//! Prekey bundles (what a server hands out) and the owner's prekey store.
//!
//! A bundle holds the owner's identity key, a **signed prekey** (an X25519
//! key with an id and creation time, signed by the identity), at most one
//! **one-time prekey**, and a signed **KEM prekey** (ML-KEM-1024) for the
//! hybrid setup of PQXDH. The owner publishes many one-time prekeys; a server
//! gives each to one initiator. Each is consumed exactly once, and only
//! after the setup message that names it authenticates.
//!
//! Every one-time prekey is a pair under one id: an X25519 key and an
//! ML-KEM-1024 key, the latter signed by the identity. A bundle with a
//! one-time prekey carries both; a bundle without one carries the
//! **last-resort KEM prekey** that belongs to the signed prekey (made,
//! rotated and retired with it). The signed prekey's signature covers the
//! bundle's KEM kind byte, so a server cannot strip the KEM prekey; each KEM
//! prekey's own signature covers its role (one-time or last-resort) and id,
//! so a server cannot swap in another key or another prekey's KEM key.
//!
//! The bundle layout (type byte `0x01`) and the labelled message the
//! identity signs are specified in [PROTOCOL](crate::docs::protocol).
//!
//! Both X25519 keys must be canonical (bit 255 clear); see
//! `canonical_x25519`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use rand_core::CryptoRng;
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};

use crate::crypto::label;
use crate::error::{Error, Result, SessionError, WireError};
use crate::identity::{IdentityKey, IdentityKeyPair, is_below_p};
use crate::kem::{KemSeed, setup as kem};
use crate::limits::{
    MAX_ONE_TIME_PREKEYS, MAX_PREVIOUS_SIGNED_PREKEYS, MAX_SETUPS_PER_SIGNED_PREKEY, SIGNED_PREKEY_GRACE_MS,
};
use crate::ratchet::RatchetKeyPair;
use crate::wire::MessageType;
use crate::wire::codec::{Reader, Writer, writer_for};

/// A public prekey bundle: everything an initiator needs to start a session
/// with its owner while the owner is offline.
///
/// ```
/// use sealpost::{Account, PreKeyBundle};
/// let mut rng = sealpost::default_rng();
/// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
/// bob.generate_one_time_prekeys(10, &mut rng)?;
/// let bundle = bob.prekey_bundle()?;
/// let bytes = bundle.to_bytes();
/// assert_eq!(PreKeyBundle::from_bytes(&bytes)?, bundle);
/// bundle.verify()?;
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyBundle {
    identity: IdentityKey,
    signed_prekey_id: u32,
    signed_prekey_created_at: u64,
    signed_prekey: [u8; 32],
    signature: [u8; 64],
    one_time_prekey: Option<(u32, [u8; 32])>,
    /// `None` only in a classical bundle (no KEM prekey), which sealpost
    /// makes only in its test kit: see [`SetupPolicy`](crate::SetupPolicy).
    kem_prekey: Option<KemPreKey>,
}

/// A bundle's signed ML-KEM-1024 prekey (boxed whole: 1,632 bytes).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KemPreKey(Box<KemPreKeyParts>);

#[derive(Clone, PartialEq, Eq)]
struct KemPreKeyParts {
    key: [u8; kem::PUBLIC_LEN],
    signature: [u8; 64],
    /// `key` parsed and checked (once, when the bundle was parsed or made).
    parsed: kem::Parsed,
}

impl KemPreKey {
    fn new(key: &[u8; kem::PUBLIC_LEN], signature: [u8; 64]) -> core::result::Result<Self, WireError> {
        let parsed = kem::parse(key, "KEM prekey")?;
        Ok(Self(Box::new(KemPreKeyParts { key: *key, signature, parsed })))
    }

    pub(crate) fn key(&self) -> &[u8; kem::PUBLIC_LEN] {
        &self.0.key
    }

    pub(crate) fn parsed(&self) -> &kem::Parsed {
        &self.0.parsed
    }

    fn signature(&self) -> &[u8; 64] {
        &self.0.signature
    }
}

impl core::fmt::Debug for KemPreKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // 1568 key bytes say nothing to a reader; the first few identify it.
        write!(f, "KemPreKey(ML-KEM-1024, {:02x?}..)", self.key().get(..4).unwrap_or_default())
    }
}

impl PreKeyBundle {
    /// The owner's identity key.
    ///
    /// ```
    /// use sealpost::{Account, PreKeyBundle};
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let bundle = bob.prekey_bundle()?;
    /// assert_eq!(bundle.identity(), bob.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn identity(&self) -> &IdentityKey {
        &self.identity
    }

    /// Id of the signed prekey.
    ///
    /// ```
    /// use sealpost::{Account, PreKeyBundle};
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let bundle = bob.prekey_bundle()?;
    /// assert_eq!(bundle.signed_prekey_id(), 1);
    /// bob.rotate_signed_prekey(&mut rng, 1_700_000_001_000)?;
    /// assert_eq!(bob.prekey_bundle()?.signed_prekey_id(), 2);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn signed_prekey_id(&self) -> u32 {
        self.signed_prekey_id
    }

    /// When the signed prekey was made (ms since the Unix epoch, as its
    /// owner's clock said; covered by the signature).
    ///
    /// ```
    /// use sealpost::{Account, PreKeyBundle};
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let bundle = bob.prekey_bundle()?;
    /// assert_eq!(bundle.signed_prekey_created_at(), 1_700_000_000_000);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn signed_prekey_created_at(&self) -> u64 {
        self.signed_prekey_created_at
    }

    /// Id of the one-time prekey, if the bundle carries one.
    ///
    /// ```
    /// use sealpost::{Account, PreKeyBundle};
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let bundle = bob.prekey_bundle()?;
    /// assert_eq!(bundle.one_time_prekey_id(), Some(1));
    /// assert_eq!(bob.prekey_bundle_with(None)?.one_time_prekey_id(), None);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn one_time_prekey_id(&self) -> Option<u32> {
        self.one_time_prekey.map(|(id, _)| id)
    }

    /// Whether the bundle carries a KEM prekey, so that a session started
    /// from it is post-quantum (PQXDH). Every bundle an [`Account`](crate::Account)
    /// makes does.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let bob = Account::new(&mut rng, 1_700_000_000_000);
    /// let bundle = bob.prekey_bundle()?;
    /// assert!(bundle.is_post_quantum());
    /// assert_eq!(bundle.to_bytes().len(), 1776); // no one-time prekey left
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_post_quantum(&self) -> bool {
        self.kem_prekey.is_some()
    }

    /// Checks the bundle's signatures by its identity: the signed prekey's
    /// (which also covers whether a KEM prekey is present) and the KEM
    /// prekey's (which covers its role and id: the one-time prekey's id in
    /// a bundle with one, else the signed prekey's).
    ///
    /// ```
    /// use sealpost::{Account, PreKeyBundle};
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let bundle = bob.prekey_bundle()?;
    /// bundle.verify()?;
    /// let mut forged = bundle.to_bytes();
    /// let last = forged.len() - 1;
    /// forged[last] ^= 1; // in the KEM prekey's signature
    /// assert!(PreKeyBundle::from_bytes(&forged)?.verify().is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn verify(&self) -> Result<()> {
        let kind = if self.kem_prekey.is_some() { KEM_ML_KEM_1024 } else { KEM_NONE };
        let msg =
            signed_prekey_message(self.signed_prekey_id, self.signed_prekey_created_at, &self.signed_prekey, kind);
        self.identity.verify_raw(&msg, &self.signature, "signed prekey")?;
        if let Some(k) = &self.kem_prekey {
            let (role, id) = self.kem_role();
            self.identity.verify_raw(&kem_prekey_message(role, id, k.key()), k.signature(), "KEM prekey")?;
        }
        Ok(())
    }

    /// The role and id a KEM prekey in this bundle must be signed for.
    fn kem_role(&self) -> (KemRole, u32) {
        match self.one_time_prekey {
            Some((id, _)) => (KemRole::OneTime, id),
            None => (KemRole::LastResort, self.signed_prekey_id),
        }
    }

    pub(crate) fn kem_prekey(&self) -> Option<&KemPreKey> {
        self.kem_prekey.as_ref()
    }

    pub(crate) fn signed_prekey(&self) -> &[u8; 32] {
        &self.signed_prekey
    }

    pub(crate) fn one_time_prekey(&self) -> Option<(u32, [u8; 32])> {
        self.one_time_prekey
    }

    /// Encodes the bundle (1,812 bytes with a one-time prekey, 1,776
    /// without).
    ///
    /// ```
    /// use sealpost::{Account, PreKeyBundle};
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let bundle = bob.prekey_bundle()?;
    /// assert_eq!(bundle.to_bytes().len(), 1812);
    /// assert_eq!(PreKeyBundle::from_bytes(&bundle.to_bytes())?, bundle);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = writer_for(MessageType::PreKeyBundle, BUNDLE_LEN);
        w.bytes(self.identity.as_bytes())
            .u32(self.signed_prekey_id)
            .u64(self.signed_prekey_created_at)
            .bytes(&self.signed_prekey)
            .bytes(&self.signature);
        match self.one_time_prekey {
            Some((id, key)) => w.u8(1).u32(id).bytes(&key),
            None => w.u8(0),
        };
        match &self.kem_prekey {
            Some(k) => w.u8(KEM_ML_KEM_1024).bytes(k.key()).bytes(k.signature()),
            None => w.u8(KEM_NONE),
        };
        w.into_vec()
    }

    /// Parses a bundle. This does not verify the signature; session setup
    /// does, and [`Self::verify`] can be called directly.
    ///
    /// ```
    /// use sealpost::{Account, PreKeyBundle};
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let bundle = bob.prekey_bundle()?;
    /// let bytes = bundle.to_bytes();
    /// assert_eq!(PreKeyBundle::from_bytes(&bytes)?, bundle);
    /// assert!(PreKeyBundle::from_bytes(&bytes[..100]).is_err()); // truncated
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        r.header(MessageType::PreKeyBundle)?;
        let identity = IdentityKey::from_bytes(&r.array::<32>()?)?;
        let signed_prekey_id = r.u32()?;
        let signed_prekey_created_at = r.u64()?;
        let signed_prekey = canonical_x25519(r.array()?, "signed prekey")?;
        let signature = r.array()?;
        let one_time_prekey =
            if r.bool()? { Some((r.u32()?, canonical_x25519(r.array()?, "one-time prekey")?)) } else { None };
        let kem_prekey = match r.u8()? {
            KEM_NONE => None,
            KEM_ML_KEM_1024 => {
                let key = r.array::<{ kem::PUBLIC_LEN }>()?;
                Some(KemPreKey::new(&key, r.array()?)?)
            }
            _ => return Err(WireError::InvalidField("KEM prekey kind not defined in this version").into()),
        };
        r.finish()?;
        Ok(Self {
            identity,
            signed_prekey_id,
            signed_prekey_created_at,
            signed_prekey,
            signature,
            one_time_prekey,
            kem_prekey,
        })
    }
}

/// Longest encoded bundle.
const BUNDLE_LEN: usize = 2 + 32 + 4 + 8 + 32 + 64 + 1 + 4 + 32 + 1 + kem::PUBLIC_LEN + 64;

/// Accepts only the canonical encoding of an X25519 public key.
///
/// X25519 ignores bit 255 of a public key (RFC 7748 masks it when decoding),
/// so a key with that bit set is a second encoding of the same key, and so is
/// a u of p or above (u and u - p are the same field element). Keys we
/// generate never have either. Refusing it gives every bundle exactly one
/// encoding; in particular the one-time prekey, which the signature does not
/// cover, cannot be re-encoded in transit without the change being refused.
fn canonical_x25519(key: [u8; 32], what: &'static str) -> core::result::Result<[u8; 32], WireError> {
    if key.last().is_some_and(|b| b & 0x80 != 0) || !is_below_p(&key) {
        return Err(WireError::InvalidField(what));
    }
    Ok(key)
}

/// What a signed-prekey signature covers. The KEM kind byte of the bundle
/// (0: no KEM prekey, 1: ML-KEM-1024) is signed too, so a server cannot
/// strip the KEM prekey from a bundle.
fn signed_prekey_message(id: u32, created_at: u64, key: &[u8; 32], kem_kind: u8) -> Vec<u8> {
    let mut w = Writer::with_capacity(label::SIGNED_PREKEY.len() + 45);
    w.bytes(label::SIGNED_PREKEY).u32(id).u64(created_at).bytes(key).u8(kem_kind);
    w.into_vec()
}

/// What a KEM prekey's signature covers: `label || kind || role || id || key`.
fn kem_prekey_message(role: KemRole, id: u32, key: &[u8; kem::PUBLIC_LEN]) -> Vec<u8> {
    let mut w = Writer::with_capacity(label::KEM_PREKEY.len() + 6 + kem::PUBLIC_LEN);
    w.bytes(label::KEM_PREKEY).u8(KEM_ML_KEM_1024).u8(role as u8).u32(id).bytes(&key[..]);
    w.into_vec()
}

/// The bundle's KEM kind byte: no KEM prekey (a classical bundle).
const KEM_NONE: u8 = 0;
/// The bundle's KEM kind byte: an ML-KEM-1024 prekey follows.
pub(crate) const KEM_ML_KEM_1024: u8 = 1;

/// Which of the owner's KEM prekeys a signature is for.
#[derive(Clone, Copy)]
enum KemRole {
    /// The signed prekey's (id: the signed prekey's id).
    LastResort = 0,
    /// A one-time prekey's (id: the one-time prekey's id).
    OneTime = 1,
}

/// A KEM secret key with its signature, as the owner keeps it.
#[derive(Clone)]
struct KemSecret {
    seed: KemSeed,
    signature: [u8; 64],
    /// Its public key, computed once (expanding the seed costs about
    /// 80 µs): at generation, or at the first bundle after a restore. Not
    /// stored: it follows from the seed.
    public_key: OnceLock<Box<[u8; kem::PUBLIC_LEN]>>,
}

impl KemSecret {
    fn generate<R: CryptoRng + ?Sized>(identity: &IdentityKeyPair, role: KemRole, id: u32, rng: &mut R) -> Self {
        let seed = KemSeed::generate(rng);
        let public = kem::public_key(&seed);
        let signature = identity.sign_raw(&kem_prekey_message(role, id, &public));
        Self { seed, signature, public_key: OnceLock::from(public) }
    }

    fn public(&self) -> core::result::Result<KemPreKey, WireError> {
        KemPreKey::new(self.public_key.get_or_init(|| kem::public_key(&self.seed)), self.signature)
    }

    fn encode(&self, w: &mut Writer) {
        w.bytes(self.seed.as_bytes()).bytes(&self.signature);
    }

    fn decode(r: &mut Reader<'_>) -> core::result::Result<Self, WireError> {
        Ok(Self { seed: KemSeed::from_bytes(r.array()?), signature: r.array()?, public_key: OnceLock::new() })
    }
}

/// A one-time prekey as its owner keeps it: the X25519 key and the KEM key
/// published with it under the same id.
#[derive(Clone)]
struct OneTimePreKey {
    x25519: StaticSecret,
    kem: KemSecret,
    /// The X25519 public key, computed once (a fixed-base multiplication):
    /// not stored, it follows from the secret.
    x25519_public: OnceLock<[u8; 32]>,
}

impl OneTimePreKey {
    fn new(x25519: StaticSecret, kem: KemSecret) -> Self {
        Self { x25519, kem, x25519_public: OnceLock::new() }
    }

    fn x25519_public(&self) -> [u8; 32] {
        *self.x25519_public.get_or_init(|| X25519Public::from(&self.x25519).to_bytes())
    }
}

/// A signed prekey held by its owner.
#[derive(Clone)]
struct SignedPreKey {
    id: u32,
    created_at: u64,
    key: RatchetKeyPair,
    signature: [u8; 64],
    /// The last-resort KEM prekey, used by setups that name no one-time
    /// prekey.
    kem: KemSecret,
    /// Base keys of the authenticated setup messages that named this signed
    /// prekey and no one-time prekey: such a message consumes nothing, so
    /// without this record it could be accepted again (a replay). Kept as
    /// long as the signed prekey, at most [`MAX_SETUPS_PER_SIGNED_PREKEY`].
    setups_without_one_time: BTreeSet<[u8; 32]>,
}

impl SignedPreKey {
    fn generate<R: CryptoRng + ?Sized>(identity: &IdentityKeyPair, id: u32, now_ms: u64, rng: &mut R) -> Self {
        let key = RatchetKeyPair::generate(rng);
        let signature = identity.sign_raw(&signed_prekey_message(id, now_ms, &key.public, KEM_ML_KEM_1024));
        let kem = KemSecret::generate(identity, KemRole::LastResort, id, rng);
        Self { id, created_at: now_ms, key, signature, kem, setups_without_one_time: BTreeSet::new() }
    }
}

/// The private half of the owner's prekeys: the current and recently
/// rotated signed prekeys and the unused one-time prekeys.
///
/// One-time prekey ids increase from 1 and are never reused, so the store
/// can tell a consumed id ([`SessionError::OneTimePreKeyReused`]) from one it never
/// issued ([`SessionError::UnknownOneTimePreKey`]) without remembering every
/// consumed id.
#[derive(Clone)]
///
/// ```
/// use sealpost::Account;
/// let mut rng = sealpost::default_rng();
/// let mut account = Account::new(&mut rng, 0);
/// account.generate_one_time_prekeys(5, &mut rng)?;
/// // Read-only; Debug shows counts and ids, never a key.
/// let shown = format!("{:?}", account.prekey_store());
/// assert!(shown.contains("one_time_prekeys: 5"));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct PreKeyStore {
    current: SignedPreKey,
    previous: Vec<(SignedPreKey, u64)>,
    /// Boxed: a `BTreeMap` moves its values between nodes as it grows and
    /// frees the old nodes without zeroizing them, so each secret lives in
    /// its own allocation (zeroized when the key is dropped) and only the
    /// pointers move.
    one_time: BTreeMap<u32, Box<OneTimePreKey>>,
    next_one_time_id: u32,
}

impl core::fmt::Debug for PreKeyStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreKeyStore")
            .field("signed_prekey_id", &self.current.id)
            .field("previous_signed_prekeys", &self.previous.len())
            .field("one_time_prekeys", &self.one_time.len())
            .finish_non_exhaustive()
    }
}

impl PreKeyStore {
    /// A store with a first signed prekey (id 1) and no one-time prekeys.
    pub(crate) fn new<R: CryptoRng + ?Sized>(identity: &IdentityKeyPair, now_ms: u64, rng: &mut R) -> Self {
        Self {
            current: SignedPreKey::generate(identity, 1, now_ms, rng),
            previous: Vec::new(),
            one_time: BTreeMap::new(),
            next_one_time_id: 1,
        }
    }

    /// Adds `count` one-time prekeys (each an X25519 and a signed KEM key);
    /// returns their ids.
    pub(crate) fn generate_one_time<R: CryptoRng + ?Sized>(
        &mut self,
        identity: &IdentityKeyPair,
        count: usize,
        rng: &mut R,
    ) -> Result<Vec<u32>> {
        if self.one_time.len().saturating_add(count) > MAX_ONE_TIME_PREKEYS {
            return Err(Error::LimitReached { what: "one-time prekeys held", max: MAX_ONE_TIME_PREKEYS });
        }
        let last = self
            .next_one_time_id
            .checked_add(u32::try_from(count).unwrap_or(u32::MAX))
            .ok_or(Error::LimitReached { what: "one-time prekey ids", max: u32::MAX as usize })?;
        let ids: Vec<u32> = (self.next_one_time_id..last).collect();
        for id in &ids {
            let x25519 = StaticSecret::random_from_rng(rng);
            let kem = KemSecret::generate(identity, KemRole::OneTime, *id, rng);
            self.one_time.insert(*id, Box::new(OneTimePreKey::new(x25519, kem)));
        }
        self.next_one_time_id = last;
        Ok(ids)
    }

    /// Unused one-time prekeys.
    pub(crate) fn remaining_one_time(&self) -> usize {
        self.one_time.len()
    }

    /// Replaces the signed prekey; the old one keeps opening setup messages
    /// for [`SIGNED_PREKEY_GRACE_MS`] after `now_ms`.
    pub(crate) fn rotate<R: CryptoRng + ?Sized>(
        &mut self,
        identity: &IdentityKeyPair,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<u32> {
        let id = self
            .current
            .id
            .checked_add(1)
            .ok_or(Error::LimitReached { what: "signed prekey ids", max: u32::MAX as usize })?;
        let old = core::mem::replace(&mut self.current, SignedPreKey::generate(identity, id, now_ms, rng));
        self.previous.push((old, now_ms));
        self.expire(now_ms);
        while self.previous.len() > MAX_PREVIOUS_SIGNED_PREKEYS {
            self.previous.remove(0);
        }
        Ok(id)
    }

    /// Drops rotated-out signed prekeys whose grace period ended.
    pub(crate) fn expire(&mut self, now_ms: u64) {
        self.previous.retain(|(_, retired)| now_ms < retired.saturating_add(SIGNED_PREKEY_GRACE_MS));
    }

    /// The bundle for one one-time prekey, or for none.
    pub(crate) fn bundle(&self, identity: &IdentityKeyPair, one_time_id: Option<u32>) -> Result<PreKeyBundle> {
        let (one_time_prekey, kem_prekey) = match one_time_id {
            None => (None, self.current.kem.public()?),
            Some(id) => {
                let one_time = self.one_time_prekey(id)?;
                (Some((id, one_time.x25519_public())), one_time.kem.public()?)
            }
        };
        Ok(PreKeyBundle {
            identity: *identity.public(),
            signed_prekey_id: self.current.id,
            signed_prekey_created_at: self.current.created_at,
            signed_prekey: self.current.key.public,
            signature: self.current.signature,
            one_time_prekey,
            kem_prekey: Some(kem_prekey),
        })
    }

    /// A classical bundle (no KEM prekey; its signed prekey signed for
    /// that), as a peer without post-quantum support would publish: for
    /// tests of [`SetupPolicy`](crate::SetupPolicy) and of downgrades.
    #[cfg(any(fuzzing, feature = "test-hooks", test))]
    pub(crate) fn classical_bundle(
        &self,
        identity: &IdentityKeyPair,
        one_time_id: Option<u32>,
    ) -> Result<PreKeyBundle> {
        let mut bundle = self.bundle(identity, one_time_id)?;
        bundle.kem_prekey = None;
        bundle.signature = identity.sign_raw(&signed_prekey_message(
            bundle.signed_prekey_id,
            bundle.signed_prekey_created_at,
            &bundle.signed_prekey,
            KEM_NONE,
        ));
        Ok(bundle)
    }

    /// Ids of the unused one-time prekeys, lowest first.
    pub(crate) fn one_time_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.one_time.keys().copied()
    }

    pub(crate) fn signed_prekey(&self, id: u32) -> Result<&RatchetKeyPair> {
        self.signed(id).map(|k| &k.key)
    }

    fn signed(&self, id: u32) -> Result<&SignedPreKey> {
        if self.current.id == id {
            return Ok(&self.current);
        }
        self.previous
            .iter()
            .find(|(k, _)| k.id == id)
            .map(|(k, _)| k)
            .ok_or(SessionError::UnknownSignedPreKey(id).into())
    }

    fn signed_mut(&mut self, id: u32) -> Option<&mut SignedPreKey> {
        if self.current.id == id {
            return Some(&mut self.current);
        }
        self.previous.iter_mut().find(|(k, _)| k.id == id).map(|(k, _)| k)
    }

    /// Refuses a setup message without a one-time prekey that this store
    /// already accepted ([`SessionError::SetupReplayed`]), or when the
    /// signed prekey's record is full ([`Error::LimitReached`]: rotate the
    /// signed prekey). Changes nothing.
    pub(crate) fn check_setup_without_one_time(&self, signed_prekey_id: u32, base_key: &[u8; 32]) -> Result<()> {
        let spk = self.signed(signed_prekey_id)?;
        if spk.setups_without_one_time.contains(base_key) {
            return Err(SessionError::SetupReplayed.into());
        }
        if spk.setups_without_one_time.len() >= MAX_SETUPS_PER_SIGNED_PREKEY {
            return Err(Error::LimitReached {
                what: "setups without a one-time prekey for this signed prekey (rotate the signed prekey)",
                max: MAX_SETUPS_PER_SIGNED_PREKEY,
            });
        }
        Ok(())
    }

    /// Records an authenticated setup message without a one-time prekey
    /// (after [`Self::check_setup_without_one_time`]).
    pub(crate) fn record_setup_without_one_time(&mut self, signed_prekey_id: u32, base_key: [u8; 32]) {
        if let Some(spk) = self.signed_mut(signed_prekey_id) {
            spk.setups_without_one_time.insert(base_key);
        }
    }

    pub(crate) fn one_time_secret(&self, id: u32) -> Result<&StaticSecret> {
        self.one_time_prekey(id).map(|k| &k.x25519)
    }

    /// The KEM secret a setup message's ciphertext was made for: the
    /// one-time prekey's if it names one, else the signed prekey's
    /// last-resort one.
    pub(crate) fn kem_secret(&self, signed_prekey_id: u32, one_time_id: Option<u32>) -> Result<&KemSeed> {
        match one_time_id {
            Some(id) => self.one_time_prekey(id).map(|k| &k.kem.seed),
            None => self.signed(signed_prekey_id).map(|k| &k.kem.seed),
        }
    }

    fn one_time_prekey(&self, id: u32) -> Result<&OneTimePreKey> {
        match self.one_time.get(&id) {
            Some(s) => Ok(&**s),
            None if id != 0 && id < self.next_one_time_id => Err(Error::Session(SessionError::OneTimePreKeyReused(id))),
            None => Err(Error::Session(SessionError::UnknownOneTimePreKey(id))),
        }
    }

    /// Deletes a one-time prekey after the setup message naming it
    /// authenticated.
    pub(crate) fn consume_one_time(&mut self, id: u32) {
        // Dropping the StaticSecret and the KEM seed zeroizes them.
        let _ = self.one_time.remove(&id);
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        let put = |w: &mut Writer, k: &SignedPreKey| {
            w.u32(k.id).u64(k.created_at).bytes(k.key.secret.as_bytes()).bytes(&k.signature);
            k.kem.encode(w);
            w.u32(k.setups_without_one_time.len() as u32);
            for base_key in &k.setups_without_one_time {
                w.bytes(base_key);
            }
        };
        put(w, &self.current);
        w.u32(self.previous.len() as u32);
        for (k, retired) in &self.previous {
            put(w, k);
            w.u64(*retired);
        }
        w.u32(self.next_one_time_id).u32(self.one_time.len() as u32);
        for (id, k) in &self.one_time {
            w.u32(*id).bytes(k.x25519.as_bytes());
            k.kem.encode(w);
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> core::result::Result<Self, WireError> {
        let get = |r: &mut Reader<'_>| -> core::result::Result<SignedPreKey, WireError> {
            let id = r.u32()?;
            let created_at = r.u64()?;
            let key = RatchetKeyPair::from_secret(StaticSecret::from(r.array::<32>()?));
            let signature = r.array()?;
            let kem = KemSecret::decode(r)?;
            let n = r.count("setups without a one-time prekey", MAX_SETUPS_PER_SIGNED_PREKEY)?;
            let mut setups_without_one_time = BTreeSet::new();
            let mut last: Option<[u8; 32]> = None;
            for _ in 0..n {
                let base_key: [u8; 32] = r.array()?;
                // Strictly ascending, as `encode` writes them: one encoding.
                if last.is_some_and(|l| l >= base_key) {
                    return Err(WireError::InvalidField("setup record must be strictly ascending"));
                }
                last = Some(base_key);
                setups_without_one_time.insert(base_key);
            }
            Ok(SignedPreKey { id, created_at, key, signature, kem, setups_without_one_time })
        };
        let current = get(r)?;
        let n = r.count("previous signed prekeys", MAX_PREVIOUS_SIGNED_PREKEYS)?;
        let mut previous = Vec::with_capacity(n);
        for _ in 0..n {
            let k = get(r)?;
            previous.push((k, r.u64()?));
        }
        let next_one_time_id = r.u32()?;
        let m = r.count("one-time prekeys", MAX_ONE_TIME_PREKEYS)?;
        let mut one_time = BTreeMap::new();
        // `encode` writes the ids in increasing order; requiring exactly
        // that keeps the encoding canonical. A repeated id would otherwise
        // be silently merged (the restored store holding fewer keys than
        // the bytes list) and an out-of-order list would re-encode
        // differently.
        let mut previous_id = 0;
        for _ in 0..m {
            let id = r.u32()?;
            if id <= previous_id || id >= next_one_time_id {
                return Err(WireError::InvalidField("one-time prekey ids must increase and stay below the next id"));
            }
            previous_id = id;
            let x25519 = StaticSecret::from(r.array::<32>()?);
            one_time.insert(id, Box::new(OneTimePreKey::new(x25519, KemSecret::decode(r)?)));
        }
        Ok(Self { current, previous, one_time, next_one_time_id })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::account::Account;

    /// Offsets in an encoded bundle with a one-time prekey.
    const SIGNED_PREKEY_AT: usize = 2 + 32 + 4 + 8;
    const ONE_TIME_KEY_AT: usize = SIGNED_PREKEY_AT + 32 + 64 + 1 + 4;

    /// An identity and its prekey store (signed prekey 1, made at 5).
    fn store(rng: &mut StdRng) -> (IdentityKeyPair, PreKeyStore) {
        let identity = IdentityKeyPair::generate(rng);
        let store = PreKeyStore::new(&identity, 5, rng);
        (identity, store)
    }

    fn bundle_bytes() -> Vec<u8> {
        let mut rng = StdRng::seed_from_u64(11);
        let mut bob = Account::new(&mut rng, 0);
        bob.generate_one_time_prekeys(1, &mut rng).unwrap();
        bob.prekey_bundle().unwrap().to_bytes()
    }

    #[test]
    fn bundles_are_the_same_before_and_after_a_restore_and_the_kept_public_keys_are_not_stored() {
        let mut rng = StdRng::seed_from_u64(12);
        let mut bob = Account::new(&mut rng, 0);
        bob.generate_one_time_prekeys(3, &mut rng).unwrap();
        let state = bob.to_bytes();
        let before: Vec<Vec<u8>> = bob.prekey_bundles().unwrap().iter().map(PreKeyBundle::to_bytes).collect();
        let last_resort = bob.prekey_bundle_with(None).unwrap().to_bytes();
        // Making bundles fills the caches; the stored state does not change.
        assert_eq!(*bob.to_bytes(), *state);
        let restored = Account::from_bytes(&state).unwrap();
        let after: Vec<Vec<u8>> = restored.prekey_bundles().unwrap().iter().map(PreKeyBundle::to_bytes).collect();
        assert_eq!(before, after);
        assert_eq!(restored.prekey_bundle_with(None).unwrap().to_bytes(), last_resort);
        for bytes in &after {
            PreKeyBundle::from_bytes(bytes).unwrap().verify().unwrap();
        }
    }

    #[test]
    fn x25519_keys_at_or_above_p_are_refused() {
        let good = bundle_bytes();
        assert_eq!(PreKeyBundle::from_bytes(&good).unwrap().to_bytes(), good);
        for at in [SIGNED_PREKEY_AT, ONE_TIME_KEY_AT] {
            for low in [0xed, 0xee, 0xff] {
                // u = p, p + 1, 2^255 - 1: second encodings of 0, 1, 18.
                let mut bad = good.clone();
                bad[at] = low;
                bad[at + 1..at + 31].fill(0xff);
                bad[at + 31] = 0x7f;
                assert!(PreKeyBundle::from_bytes(&bad).is_err(), "u >= p accepted at {at}");
            }
        }
    }

    /// Every signature check of `verify` is needed: a changed signed field,
    /// a flipped signature, a stripped or moved KEM prekey are each refused.
    #[test]
    fn verify_refuses_every_forgery_and_accepts_the_genuine_bundles() {
        let mut rng = StdRng::seed_from_u64(13);
        let (id, mut store) = store(&mut rng);
        store.generate_one_time(&id, 2, &mut rng).unwrap();
        let with = store.bundle(&id, Some(1)).unwrap();
        let without = store.bundle(&id, None).unwrap();
        let classical = store.classical_bundle(&id, Some(1)).unwrap();
        for genuine in [&with, &without, &classical] {
            genuine.verify().unwrap();
        }
        assert!(with.is_post_quantum() && without.is_post_quantum());
        assert!(!classical.is_post_quantum());
        let forged = |edit: &dyn Fn(&mut PreKeyBundle), from: &PreKeyBundle| {
            let mut bundle = from.clone();
            edit(&mut bundle);
            assert!(bundle.verify().is_err());
        };
        for from in [&with, &without] {
            forged(&|b| b.signed_prekey_id ^= 1, from);
            forged(&|b| b.signed_prekey_created_at ^= 1, from);
            forged(&|b| b.signed_prekey[0] ^= 2, from);
            forged(&|b| b.signature[0] ^= 1, from);
            // The server strips the KEM prekey: the signed kind byte differs.
            forged(&|b| b.kem_prekey = None, from);
        }
        // A KEM prekey signed for another role or id.
        forged(&|b| b.kem_prekey = without.kem_prekey.clone(), &with);
        forged(&|b| b.kem_prekey = with.kem_prekey.clone(), &without);
        forged(&|b| b.one_time_prekey = Some((2, b.one_time_prekey.unwrap().1)), &with);
        // The classical bundle's signature covers "no KEM prekey".
        forged(&|b| b.kem_prekey = with.kem_prekey.clone(), &classical);
    }

    #[test]
    fn bundles_of_every_shape_round_trip_and_the_longest_is_bundle_len() {
        let mut rng = StdRng::seed_from_u64(14);
        let (id, mut store) = store(&mut rng);
        store.generate_one_time(&id, 1, &mut rng).unwrap();
        let longest = store.bundle(&id, Some(1)).unwrap();
        assert_eq!(longest.to_bytes().len(), BUNDLE_LEN);
        for bundle in [
            longest,
            store.bundle(&id, None).unwrap(),
            store.classical_bundle(&id, Some(1)).unwrap(),
            store.classical_bundle(&id, None).unwrap(),
        ] {
            let bytes = bundle.to_bytes();
            let parsed = PreKeyBundle::from_bytes(&bytes).unwrap();
            assert_eq!(parsed, bundle);
            assert_eq!(parsed.to_bytes(), bytes);
            assert_eq!(parsed.is_post_quantum(), bytes.len() > 200);
        }
        // An undefined KEM kind byte is refused.
        let mut bytes = store.classical_bundle(&id, None).unwrap().to_bytes();
        *bytes.last_mut().unwrap() = 2;
        assert!(PreKeyBundle::from_bytes(&bytes).is_err());
    }

    #[test]
    fn the_kem_prekeys_debug_names_it_and_shows_only_its_first_bytes() {
        let mut rng = StdRng::seed_from_u64(15);
        let (id, store) = store(&mut rng);
        let bundle = store.bundle(&id, None).unwrap();
        let kem = bundle.kem_prekey().unwrap();
        let shown = format!("{kem:?}");
        assert!(shown.starts_with("KemPreKey(ML-KEM-1024, ["), "{shown}");
        assert!(shown.contains(&format!("{:02x}", kem.key()[0])), "{shown}");
        assert!(shown.len() < 60, "{shown}");
    }

    #[test]
    fn one_time_prekeys_stop_at_their_bound_and_a_consumed_id_is_told_from_an_unknown_one() {
        let mut rng = StdRng::seed_from_u64(16);
        let (id, mut store) = store(&mut rng);
        assert_eq!(store.generate_one_time(&id, 3, &mut rng).unwrap(), vec![1, 2, 3]);
        assert_eq!(store.remaining_one_time(), 3);
        assert_eq!(store.generate_one_time(&id, 2, &mut rng).unwrap(), vec![4, 5]);
        store.consume_one_time(2);
        assert_eq!(store.one_time_ids().collect::<Vec<_>>(), vec![1, 3, 4, 5]);
        assert_eq!(store.remaining_one_time(), 4);
        assert!(store.one_time_secret(1).is_ok());
        assert!(store.kem_secret(1, Some(3)).is_ok());
        let reused = Err(Error::Session(SessionError::OneTimePreKeyReused(2)));
        assert_eq!(store.one_time_secret(2).map(|_| ()), reused);
        for unknown in [0, 6, u32::MAX] {
            assert_eq!(
                store.one_time_secret(unknown).map(|_| ()),
                Err(Error::Session(SessionError::UnknownOneTimePreKey(unknown)))
            );
            assert!(store.bundle(&id, Some(unknown)).is_err());
        }
        // Exactly up to the bound, not one more.
        let room = MAX_ONE_TIME_PREKEYS - store.remaining_one_time();
        let before = store.next_one_time_id;
        assert!(matches!(store.generate_one_time(&id, room + 1, &mut rng), Err(Error::LimitReached { .. })));
        assert_eq!((store.remaining_one_time(), store.next_one_time_id), (4, before));
        assert_eq!(store.generate_one_time(&id, room, &mut rng).unwrap().len(), room);
        assert_eq!(store.remaining_one_time(), MAX_ONE_TIME_PREKEYS);
        assert!(matches!(store.generate_one_time(&id, 1, &mut rng), Err(Error::LimitReached { .. })));
        // The ids run out at u32::MAX rather than wrap.
        let (_, mut near_end) = self::store(&mut rng);
        near_end.next_one_time_id = u32::MAX - 2;
        let ids = near_end.generate_one_time(&id, 2, &mut rng).unwrap();
        assert_eq!(ids, vec![u32::MAX - 2, u32::MAX - 1]);
        assert!(matches!(near_end.generate_one_time(&id, 1, &mut rng), Err(Error::LimitReached { .. })));
    }

    #[test]
    fn rotation_keeps_the_bounded_previous_prekeys_through_their_grace_period() {
        let mut rng = StdRng::seed_from_u64(17);
        let (id, mut store) = store(&mut rng);
        let first = store.signed_prekey(1).unwrap().public;
        assert_eq!(store.rotate(&id, 10, &mut rng).unwrap(), 2);
        assert_eq!(store.bundle(&id, None).unwrap().signed_prekey_id(), 2);
        assert_eq!(store.bundle(&id, None).unwrap().signed_prekey_created_at(), 10);
        // The old one still opens setups, and is the same key.
        assert_eq!(store.signed_prekey(1).unwrap().public, first);
        assert!(store.kem_secret(1, None).is_ok());
        store.expire(10 + SIGNED_PREKEY_GRACE_MS - 1);
        assert!(store.signed_prekey(1).is_ok());
        store.expire(10 + SIGNED_PREKEY_GRACE_MS);
        assert_eq!(store.signed_prekey(1).map(|_| ()), Err(Error::Session(SessionError::UnknownSignedPreKey(1))));
        // Rotations within one grace period keep the last
        // MAX_PREVIOUS_SIGNED_PREKEYS, oldest dropped first.
        let now = 20 + SIGNED_PREKEY_GRACE_MS;
        for n in 3..=8 {
            assert_eq!(store.rotate(&id, now, &mut rng).unwrap(), n);
        }
        assert_eq!(store.previous.len(), MAX_PREVIOUS_SIGNED_PREKEYS);
        let kept: Vec<u32> = store.previous.iter().map(|(k, _)| k.id).collect();
        assert_eq!(kept, (8 - MAX_PREVIOUS_SIGNED_PREKEYS as u32..8).collect::<Vec<_>>());
        assert!(store.signed_prekey(8 - MAX_PREVIOUS_SIGNED_PREKEYS as u32 - 1).is_err());
        // A rotation also expires: one past the grace period leaves only the new one.
        store.rotate(&id, now + SIGNED_PREKEY_GRACE_MS, &mut rng).unwrap();
        assert_eq!(store.previous.len(), 1);
        // The ids run out at u32::MAX rather than wrap.
        store.current.id = u32::MAX;
        assert!(matches!(store.rotate(&id, now, &mut rng), Err(Error::LimitReached { .. })));
        assert_eq!(store.current.id, u32::MAX);
    }

    #[test]
    fn the_setup_record_refuses_replays_and_stops_at_its_bound_per_signed_prekey() {
        let mut rng = StdRng::seed_from_u64(18);
        let (id, mut store) = store(&mut rng);
        let key = |i: u32| {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&i.to_be_bytes());
            k
        };
        store.check_setup_without_one_time(1, &key(0)).unwrap();
        store.record_setup_without_one_time(1, key(0));
        assert_eq!(store.check_setup_without_one_time(1, &key(0)), Err(Error::Session(SessionError::SetupReplayed)));
        assert!(store.check_setup_without_one_time(1, &key(1)).is_ok());
        assert!(store.check_setup_without_one_time(7, &key(1)).is_err());
        // Recording on the previous signed prekey after a rotation.
        store.rotate(&id, 0, &mut rng).unwrap();
        store.record_setup_without_one_time(1, key(1));
        assert_eq!(store.check_setup_without_one_time(1, &key(1)), Err(Error::Session(SessionError::SetupReplayed)));
        assert!(store.check_setup_without_one_time(2, &key(1)).is_ok());
        for i in 2..MAX_SETUPS_PER_SIGNED_PREKEY as u32 {
            store.record_setup_without_one_time(1, key(i));
        }
        assert!(matches!(store.check_setup_without_one_time(1, &key(u32::MAX)), Err(Error::LimitReached { .. })));
        assert!(store.check_setup_without_one_time(2, &key(u32::MAX)).is_ok());
    }

    /// The store's encoding is canonical: repeated, unordered or
    /// out-of-range entries are refused, counts past their bounds too.
    #[test]
    fn the_store_decoding_refuses_every_non_canonical_list() {
        let mut rng = StdRng::seed_from_u64(19);
        let (id, mut store) = store(&mut rng);
        store.generate_one_time(&id, 2, &mut rng).unwrap();
        store.record_setup_without_one_time(1, [1; 32]);
        store.record_setup_without_one_time(1, [2; 32]);
        store.rotate(&id, 3, &mut rng).unwrap();
        let encode = |store: &PreKeyStore| {
            let mut w = Writer::with_capacity(0);
            store.encode(&mut w);
            w.into_vec()
        };
        let decode = |bytes: &[u8]| {
            let mut r = Reader::new(bytes);
            let store = PreKeyStore::decode(&mut r)?;
            r.finish().map(|()| store)
        };
        let good = encode(&store);
        let shown = format!("{store:?}");
        assert_eq!(shown, "PreKeyStore { signed_prekey_id: 2, previous_signed_prekeys: 1, one_time_prekeys: 2, .. }");
        let restored = decode(&good).unwrap();
        assert_eq!(encode(&restored), good);
        assert_eq!(restored.previous.len(), 1);
        assert_eq!(restored.previous[0].1, 3);
        assert_eq!(restored.previous[0].0.setups_without_one_time.len(), 2);
        assert_eq!(restored.one_time_ids().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(restored.next_one_time_id, 3);

        // Offsets: the current signed prekey (no setups), then the count of
        // previous ones; the previous one's record is two keys long.
        let signed_len = 4 + 8 + 32 + 64 + 64 + 64;
        let previous_count_at = signed_len + 4;
        let first_setup_at = previous_count_at + 4 + signed_len + 4;
        let one_time_at = first_setup_at + 64 + 8;
        let edit = |at: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            decode(&b)
        };
        // Setups: equal or descending.
        assert!(edit(first_setup_at + 32, &[1; 32]).is_err());
        assert!(edit(first_setup_at, &[3; 32]).is_err());
        // Too many previous signed prekeys.
        assert!(edit(previous_count_at, &(MAX_PREVIOUS_SIGNED_PREKEYS as u32 + 1).to_be_bytes()).is_err());
        // One-time ids: the next id at or below the last held one, a
        // repeated or descending id, id zero.
        assert_eq!(good[one_time_at..one_time_at + 8], [0, 0, 0, 3, 0, 0, 0, 2]);
        assert!(edit(one_time_at, &2u32.to_be_bytes()).is_err());
        let second_id_at = one_time_at + 8 + 4 + 32 + 64 + 64;
        assert!(decode(&good).is_ok());
        assert!(edit(second_id_at, &1u32.to_be_bytes()).is_err());
        assert!(edit(one_time_at + 8, &0u32.to_be_bytes()).is_err());
        assert!(edit(one_time_at + 8, &2u32.to_be_bytes()).is_err());
        assert!(edit(one_time_at + 4, &(MAX_ONE_TIME_PREKEYS as u32 + 1).to_be_bytes()).is_err());
    }

    proptest::proptest! {
        /// Decode then encode gives the input back, whatever bytes replace a
        /// key field.
        #[test]
        fn bundles_round_trip_canonically(
            field in 0usize..3,
            key in proptest::array::uniform32(proptest::num::u8::ANY),
        ) {
            let mut bytes = bundle_bytes();
            let at = [2, SIGNED_PREKEY_AT, ONE_TIME_KEY_AT][field];
            bytes[at..at + 32].copy_from_slice(&key);
            if let Ok(bundle) = PreKeyBundle::from_bytes(&bytes) {
                proptest::prop_assert_eq!(bundle.to_bytes(), bytes);
            }
        }
    }
}
