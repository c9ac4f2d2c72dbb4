//! The vault: a zeroizing in-memory store for opened Burnout messages.
//!
//! Every method that takes the caller's clock first erases everything
//! expired at that clock (so a vault restored from an old export purges at
//! the first `now` it sees), then does its work. Erasing an entry drops its
//! plaintext buffer, which zeroizes it; dropping the vault erases
//! everything.
//!
//! The vault remembers a bounded number of erased ids
//! ([`MAX_VAULT_TOMBSTONES`]) and why they were erased, so a second read of
//! a burned message is [`VaultError::BurnedAfterReading`], a read of an expired
//! one [`BurnoutError::Expired`], and anything else [`VaultError::NotInVault`]. The
//! records hold no content.
//!
//! # Serialized form ([`Persist`])
//!
//! Type byte `0x33`: the vault's clock, its next id, its entries and its
//! tombstones; the layout is specified in [BURNOUT](crate::docs::burnout).
//!
//! Entries are in increasing id order, every id is below `next id`, and no
//! entry is expired at `clock`: serializing drops such entries (a burned
//! or expired message is never written out) and parsing refuses them. The
//! serialization contains plaintext: store it only with
//! [`Persist::export_encrypted`] (or [`Vault::export_encrypted_at`]).

use core::fmt;
use std::collections::{BTreeMap, VecDeque};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::envelope::{ENVELOPE_LEN, Envelope};
use super::message::BurnoutMessage;
use crate::error::{BurnoutError, VaultError};
use crate::error::{Error, Result, WireError};
use crate::identity::IdentityKey;
use crate::limits::{MAX_STATE, MAX_VAULT_BYTES, MAX_VAULT_ENTRIES, MAX_VAULT_TOMBSTONES};
use crate::persist::Persist;
use crate::wire::MessageType;
use crate::wire::codec::state_reader;
use crate::wire::codec::writer_for;

/// Serialized bytes of one entry besides its plaintext.
const ENTRY_OVERHEAD: usize = 8 + ENVELOPE_LEN + 32 + 1 + 4;
/// Serialized bytes of one tombstone.
const TOMBSTONE_LEN: usize = 8 + 1 + 8;
/// Serialized bytes of the fixed part.
const HEADER_LEN: usize = 2 + 8 + 8 + 8 + 4 + 4;

// A full vault must still fit the importers' state limit.
const _: () = assert!(
    HEADER_LEN + MAX_VAULT_ENTRIES * ENTRY_OVERHEAD + MAX_VAULT_BYTES + MAX_VAULT_TOMBSTONES * TOMBSTONE_LEN
        <= MAX_STATE
);

const REASON_BURNED: u8 = 1;
const REASON_EXPIRED: u8 = 2;
const REASON_REMOVED: u8 = 3;

/// Identifies a message in a [`Vault`]. Ids are never reused by a vault
/// (also across export and import).
///
/// ```
/// use sealpost::burnout::VaultId;
/// assert_eq!(VaultId::from_u64(7).to_u64(), 7);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VaultId(u64);

/// The number in decimal.
impl fmt::Display for VaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parses the [`Display`](fmt::Display) form only (no sign, no leading
/// zero, no spaces).
///
/// ```
/// use sealpost::burnout::VaultId;
/// assert_eq!("42".parse::<VaultId>()?, VaultId::from_u64(42));
/// assert!("042".parse::<VaultId>().is_err() && "+42".parse::<VaultId>().is_err());
/// # Ok::<(), sealpost::Error>(())
/// ```
impl core::str::FromStr for VaultId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let invalid = || Error::Wire(crate::error::WireError::InvalidField("vault id (a decimal number)"));
        let canonical =
            !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
        if !canonical {
            return Err(invalid());
        }
        text.parse().map(Self).map_err(|_| invalid())
    }
}

crate::text::serde_via_text!(VaultId);

impl VaultId {
    /// The number, for the application's own index.
    ///
    /// ```
    /// use sealpost::burnout::VaultId;
    /// assert_eq!(VaultId::from_u64(7).to_u64(), 7);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_u64(self) -> u64 {
        self.0
    }

    /// An id from [`Self::to_u64`].
    ///
    /// ```
    /// use sealpost::burnout::VaultId;
    /// let id = VaultId::from_u64(42); // as stored in the app's database
    /// assert_eq!(id.to_u64(), 42);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_u64(id: u64) -> Self {
        Self(id)
    }
}

/// What the vault knows about an entry, without its plaintext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
///
/// ```
/// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
/// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
/// let mut vault = Vault::new();
/// let id = vault.insert(BurnoutMessage::outgoing(b"hello", Envelope::with_ttl(0, 60_000), me), 0)?;
/// let info = vault.info(id).unwrap(); // for the list view, without burning
/// assert_eq!((info.sender, info.outgoing, info.len), (me, true, 5));
/// assert_eq!(info.envelope.expires_at_ms(), Some(60_000));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct EntryInfo {
    /// The entry's authenticated envelope.
    pub envelope: Envelope,
    /// Who sent it (our own identity for an outgoing copy).
    pub sender: IdentityKey,
    /// Whether it is the sender's own copy.
    pub outgoing: bool,
    /// Plaintext length in bytes.
    pub len: usize,
}

/// Plaintext returned by [`Vault::read`]. Dereferences to the bytes.
///
/// For a burn-after-reading entry it owns the only remaining copy, which is
/// zeroized when the guard is dropped; otherwise it borrows the entry from
/// the vault (so the vault cannot purge while it is held). Not `Clone`;
/// `Debug` shows the length only.
///
/// ```
/// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
/// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
/// let mut vault = Vault::new();
/// let id = vault.insert(BurnoutMessage::outgoing(b"hello", Envelope::new(0), me), 0)?;
/// let text = vault.read(id, 1)?;
/// assert_eq!(&*text, b"hello"); // derefs to the bytes
/// assert!(!text.was_burned());
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct Plaintext<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    Borrowed(&'a [u8]),
    Burned(Zeroizing<Vec<u8>>),
}

impl Plaintext<'_> {
    /// Whether this read burned the entry (it is no longer in the vault).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"once", Envelope::new(0).burn_after_reading(), me), 0)?;
    /// assert!(vault.read(id, 1)?.was_burned());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn was_burned(&self) -> bool {
        matches!(self.inner, Inner::Burned(_))
    }
}

impl core::ops::Deref for Plaintext<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.inner {
            Inner::Borrowed(b) => b,
            Inner::Burned(v) => v.as_slice(),
        }
    }
}

impl AsRef<[u8]> for Plaintext<'_> {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for Plaintext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plaintext").field("len", &self.len()).field("burned", &self.was_burned()).finish()
    }
}

/// Why an id is no longer in the vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Erased {
    Burned,
    Expired(u64),
    Removed,
}

impl Erased {
    fn error(self) -> Error {
        match self {
            Self::Burned => Error::Vault(VaultError::BurnedAfterReading),
            Self::Expired(at) => Error::Burnout(BurnoutError::Expired { expired_at_ms: at }),
            Self::Removed => Error::Vault(VaultError::NotInVault),
        }
    }
}

/// A zeroizing in-memory store for opened Burnout messages (received ones
/// and the sender's own copies), enforcing their envelopes on every read.
///
/// Bounded by [`MAX_VAULT_ENTRIES`] and [`MAX_VAULT_BYTES`]. Not `Clone`;
/// `Debug` shows counts only.
///
/// ```
/// # use sealpost::VaultError;
/// # use sealpost::BurnoutError;
/// use sealpost::burnout::{BurnoutMessage, Envelope, Vault};
/// use sealpost::{Error, IdentityKeyPair};
/// let me = *IdentityKeyPair::generate(&mut sealpost::default_rng()).public();
/// let now = 1_700_000_000_000;
/// let mut vault = Vault::new();
///
/// let otp = vault.insert(BurnoutMessage::outgoing(b"493817", Envelope::new(now).burn_after_reading(), me), now)?;
/// let note = vault.insert(BurnoutMessage::outgoing(b"gone in 1 min", Envelope::with_ttl(now, 60_000), me), now)?;
/// assert_eq!(vault.next_expiry(), Some(now + 60_000)); // set the app's timer
///
/// assert_eq!(&*vault.read(otp, now + 1)?, b"493817");
/// assert_eq!(vault.read(otp, now + 2).unwrap_err(), Error::Vault(VaultError::BurnedAfterReading));
///
/// assert_eq!(&*vault.read(note, now + 59_999)?, b"gone in 1 min"); // read as often as you like...
/// assert_eq!(vault.purge(now + 60_000), 1); // ...until it expires
/// assert_eq!(vault.read(note, now + 60_000).unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: now + 60_000 }));
/// assert!(vault.is_empty());
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Default)]
pub struct Vault {
    entries: BTreeMap<u64, BurnoutMessage>,
    tombstones: VecDeque<(u64, Erased)>,
    next_id: u64,
    bytes: usize,
    clock_ms: u64,
    /// Encrypted exports made so far (see [`Persist::export_generation`]).
    export_generation: u64,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("entries", &self.entries.len())
            .field("plaintext_bytes", &self.bytes)
            .field("next_expiry", &self.next_expiry())
            .field("clock_ms", &self.clock_ms)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// An empty vault.
    ///
    /// ```
    /// use sealpost::burnout::Vault;
    /// let vault = Vault::new();
    /// assert!(vault.is_empty());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an opened message (or the sender's own copy) and returns its
    /// id. Purges at `now_ms` first. Refuses a message already expired at
    /// `now_ms` ([`BurnoutError::Expired`]), one over [`MAX_VAULT_BYTES`] on its
    /// own ([`Error::TooLarge`]), and one that does not fit
    /// ([`Error::LimitReached`]). A refused message is dropped, which
    /// zeroizes it.
    ///
    /// ```
    /// use sealpost::burnout::{BurnoutMessage, Envelope, Vault};
    /// use sealpost::IdentityKeyPair;
    /// let me = *IdentityKeyPair::generate(&mut sealpost::default_rng()).public();
    /// let mut vault = Vault::new();
    /// let late = BurnoutMessage::outgoing(b"x", Envelope::with_ttl(0, 10), me);
    /// assert!(vault.insert(late, 10).is_err());
    /// assert_eq!(vault.len(), 0);
    /// ```
    pub fn insert(&mut self, message: BurnoutMessage, now_ms: u64) -> Result<VaultId> {
        self.purge(now_ms);
        message.envelope().check_expiry(self.clock_ms)?;
        let len = message.plaintext_len();
        if len > MAX_VAULT_BYTES {
            return Err(Error::TooLarge { what: "vault message", len, max: MAX_VAULT_BYTES });
        }
        if self.entries.len() >= MAX_VAULT_ENTRIES {
            return Err(Error::LimitReached { what: "vault entries", max: MAX_VAULT_ENTRIES });
        }
        let bytes = self.bytes.checked_add(len).filter(|&b| b <= MAX_VAULT_BYTES);
        let bytes = bytes.ok_or(Error::LimitReached { what: "vault bytes", max: MAX_VAULT_BYTES })?;
        let id = self.next_id;
        self.next_id = id.checked_add(1).ok_or(Error::LimitReached { what: "vault ids", max: usize::MAX })?;
        self.bytes = bytes;
        self.entries.insert(id, message);
        Ok(VaultId(id))
    }

    /// Reads an entry at `now_ms` (purging first). A burn-after-reading
    /// entry is removed by this read: the returned [`Plaintext`] holds the
    /// only copy and zeroizes it on drop. Errors:
    /// [`VaultError::BurnedAfterReading`] for a second read of such an entry,
    /// [`BurnoutError::Expired`] for an entry that expired, [`VaultError::NotInVault`]
    /// otherwise.
    ///
    /// ```
    /// use sealpost::burnout::{BurnoutMessage, Envelope, Vault};
    /// use sealpost::IdentityKeyPair;
    /// let me = *IdentityKeyPair::generate(&mut sealpost::default_rng()).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"once", Envelope::new(5).burn_after_reading(), me), 5)?;
    /// let text = vault.read(id, 6)?;
    /// assert!(text.was_burned());
    /// assert_eq!(&*text, b"once");
    /// drop(text); // zeroized here
    /// assert!(vault.read(id, 7).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn read(&mut self, id: VaultId, now_ms: u64) -> Result<Plaintext<'_>> {
        self.purge(now_ms);
        let burn = match self.entries.get(&id.0) {
            Some(entry) => entry.envelope().is_burn_after_reading(),
            None => return Err(self.erased(id.0).map_or(Error::Vault(VaultError::NotInVault), Erased::error)),
        };
        if burn {
            let entry = self.erase(id.0, Erased::Burned).ok_or(Error::Vault(VaultError::NotInVault))?;
            return Ok(Plaintext { inner: Inner::Burned(entry.take_plaintext()) });
        }
        let entry = self.entries.get(&id.0).ok_or(Error::Vault(VaultError::NotInVault))?;
        Ok(Plaintext { inner: Inner::Borrowed(entry.plaintext()) })
    }

    /// Envelope, sender, direction and length of an entry, without reading
    /// it (does not burn). `None` if the vault does not hold it. Entries
    /// expired since the last call that took a clock are still listed:
    /// call [`Self::purge`] first when the list is shown.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// let info = vault.info(id).unwrap();
    /// assert_eq!((info.len, info.outgoing), (11, true));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn info(&self, id: VaultId) -> Option<EntryInfo> {
        self.entries.get(&id.0).map(|m| EntryInfo {
            envelope: *m.envelope(),
            sender: *m.sender(),
            outgoing: m.is_outgoing(),
            len: m.plaintext_len(),
        })
    }

    /// Ids of the entries held, oldest first.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// assert_eq!(vault.ids().collect::<Vec<_>>(), [id]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn ids(&self) -> impl Iterator<Item = VaultId> + '_ {
        self.entries.keys().map(|&id| VaultId(id))
    }

    /// Erases an entry now (the user deleted it). Returns whether it was
    /// held.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// assert!(vault.remove(id));
    /// assert!(vault.read(id, 1).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn remove(&mut self, id: VaultId) -> bool {
        self.erase(id.0, Erased::Removed).is_some()
    }

    /// Erases every entry expired at `now_ms` (readable while
    /// `now_ms < expires_at`) and returns how many were erased. Also
    /// records `now_ms` as the vault's clock for serialization.
    ///
    /// The vault's clock never moves backwards: a clock earlier than the
    /// latest one the vault was given (a device clock set back, a restored
    /// export) counts as that latest one, so it extends nothing. This holds
    /// for every method that takes a clock.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// assert_eq!(vault.purge(3_599_999), 0);
    /// assert_eq!(vault.purge(3_600_000), 1);
    /// assert!(vault.is_empty());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn purge(&mut self, now_ms: u64) -> usize {
        let now_ms = self.clock_ms.max(now_ms);
        self.clock_ms = now_ms;
        let expired: Vec<(u64, u64)> = self
            .entries
            .iter()
            .filter_map(|(&id, m)| m.envelope().expires_at_ms().filter(|&at| now_ms >= at).map(|at| (id, at)))
            .collect();
        for &(id, at) in &expired {
            self.erase(id, Erased::Expired(at));
        }
        expired.len()
    }

    /// The earliest expiry among the entries: when the application should
    /// next call [`Self::purge`]. `None` if no entry expires.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// assert_eq!(vault.next_expiry(), Some(3_600_000)); // schedule the next purge
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn next_expiry(&self) -> Option<u64> {
        self.entries.values().filter_map(|m| m.envelope().expires_at_ms()).min()
    }

    /// Number of entries held.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// assert_eq!(vault.len(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the vault holds no entry.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// assert!(!vault.is_empty());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total plaintext bytes held (at most [`MAX_VAULT_BYTES`]).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// assert_eq!(vault.plaintext_bytes(), 11);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn plaintext_bytes(&self) -> usize {
        self.bytes
    }

    /// The latest clock the vault was given (by [`Self::insert`],
    /// [`Self::read`], [`Self::purge`] or [`Self::export_encrypted_at`]; it
    /// never moves backwards). Serialization drops entries expired at this
    /// time.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// vault.purge(5_000);
    /// vault.purge(1_000); // a clock set back does not move it
    /// assert_eq!(vault.clock_ms(), 5_000);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn clock_ms(&self) -> u64 {
        self.clock_ms
    }

    /// Erases every entry.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope, Vault}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let mut vault = Vault::new();
    /// let id = vault.insert(BurnoutMessage::outgoing(b"for an hour", Envelope::with_ttl(0, 3_600_000), me), 0)?;
    /// vault.clear();
    /// assert!(vault.is_empty());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn clear(&mut self) {
        let ids: Vec<u64> = self.entries.keys().copied().collect();
        for id in ids {
            self.erase(id, Erased::Removed);
        }
    }

    /// Purges at `now_ms`, then serializes and seals under `key` (see
    /// [`Persist::export_encrypted`]). The export holds no entry expired at
    /// `now_ms` and no burned entry.
    ///
    /// ```
    /// use sealpost::burnout::{BurnoutMessage, Envelope, Vault};
    /// use sealpost::{IdentityKeyPair, Persist};
    /// let me = *IdentityKeyPair::generate(&mut sealpost::default_rng()).public();
    /// let key = [9u8; 32];
    /// let mut vault = Vault::new();
    /// vault.insert(BurnoutMessage::outgoing(b"short", Envelope::with_ttl(0, 10), me), 0)?;
    /// vault.insert(BurnoutMessage::outgoing(b"long", Envelope::with_ttl(0, 1_000), me), 0)?;
    /// let export = vault.export_encrypted_at(10, &key, &mut sealpost::default_rng());
    /// assert_eq!(Vault::import_encrypted(&key, &export)?.len(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn export_encrypted_at<R: CryptoRng + ?Sized>(&mut self, now_ms: u64, key: &[u8; 32], rng: &mut R) -> Vec<u8> {
        self.purge(now_ms);
        self.export_encrypted(key, rng)
    }

    /// Removes an entry, adjusts the byte count and records why.
    fn erase(&mut self, id: u64, why: Erased) -> Option<BurnoutMessage> {
        let entry = self.entries.remove(&id)?;
        self.bytes = self.bytes.saturating_sub(entry.plaintext_len());
        if self.tombstones.len() >= MAX_VAULT_TOMBSTONES {
            let _ = self.tombstones.pop_front();
        }
        self.tombstones.push_back((id, why));
        Some(entry)
    }

    fn erased(&self, id: u64) -> Option<Erased> {
        self.tombstones.iter().find(|(t, _)| *t == id).map(|&(_, why)| why)
    }

    fn live_entries(&self) -> impl Iterator<Item = (&u64, &BurnoutMessage)> {
        self.entries.iter().filter(|(_, m)| !m.envelope().is_expired(self.clock_ms))
    }
}

impl Persist for Vault {
    const STATE_TYPE: MessageType = MessageType::VaultState;

    /// Serializes the entries not expired at [`Vault::clock_ms`], plaintext
    /// included, into a buffer sized exactly (no reallocation leaves copies
    /// behind) that is zeroized on drop.
    fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let body: usize = self.live_entries().map(|(_, m)| ENTRY_OVERHEAD.saturating_add(m.plaintext_len())).sum();
        let capacity = HEADER_LEN
            .saturating_add(body)
            .saturating_add(self.tombstones.len().saturating_mul(TOMBSTONE_LEN))
            .saturating_sub(2);
        let mut w = writer_for(MessageType::VaultState, capacity);
        w.u64(self.clock_ms).u64(self.next_id).u64(self.export_generation);
        w.u32(self.live_entries().count() as u32);
        for (&id, m) in self.live_entries() {
            w.u64(id).bytes(&m.envelope().to_bytes()).bytes(m.sender().as_bytes());
            w.u8(u8::from(m.is_outgoing())).var_bytes(m.plaintext());
        }
        w.u32(self.tombstones.len() as u32);
        for &(id, why) in &self.tombstones {
            let (reason, at) = match why {
                Erased::Burned => (REASON_BURNED, 0),
                Erased::Expired(at) => (REASON_EXPIRED, at),
                Erased::Removed => (REASON_REMOVED, 0),
            };
            w.u64(id).u8(reason).u64(at);
        }
        Zeroizing::new(w.into_vec())
    }

    /// Restores a vault. The result still purges at the next `now` it is
    /// given.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = state_reader(bytes, MessageType::VaultState)?;
        let clock_ms = r.u64()?;
        let next_id = r.u64()?;
        let export_generation = r.u64()?;
        let count = r.count("vault entries", MAX_VAULT_ENTRIES)?;
        let mut entries = BTreeMap::new();
        let mut total: usize = 0;
        let mut previous: Option<u64> = None;
        for _ in 0..count {
            let id = r.u64()?;
            if previous.is_some_and(|p| id <= p) || id >= next_id {
                return Err(WireError::InvalidField("vault entry ids out of order").into());
            }
            previous = Some(id);
            let envelope = Envelope::from_bytes(r.take(ENVELOPE_LEN)?)?;
            if envelope.is_expired(clock_ms) {
                return Err(WireError::InvalidField("vault entry expired at the vault's clock").into());
            }
            let sender = IdentityKey::from_bytes(&r.array::<32>()?)?;
            let outgoing = r.bool()?;
            let plaintext = r.var_bytes("vault entry", MAX_VAULT_BYTES)?;
            total = total
                .checked_add(plaintext.len())
                .filter(|&t| t <= MAX_VAULT_BYTES)
                .ok_or(WireError::TooLarge { what: "vault plaintext", len: usize::MAX, max: MAX_VAULT_BYTES })?;
            let plaintext = Zeroizing::new(plaintext.to_vec());
            entries.insert(id, BurnoutMessage::restored(plaintext, envelope, sender, outgoing));
        }
        let count = r.count("vault tombstones", MAX_VAULT_TOMBSTONES)?;
        let mut tombstones: VecDeque<(u64, Erased)> = VecDeque::with_capacity(count);
        for _ in 0..count {
            let id = r.u64()?;
            let reason = r.u8()?;
            let at = r.u64()?;
            let why = match (reason, at) {
                (REASON_BURNED, 0) => Erased::Burned,
                (REASON_EXPIRED, at) => Erased::Expired(at),
                (REASON_REMOVED, 0) => Erased::Removed,
                _ => return Err(WireError::InvalidField("vault tombstone reason").into()),
            };
            if id >= next_id || entries.contains_key(&id) || tombstones.iter().any(|(t, _)| *t == id) {
                return Err(WireError::InvalidField("vault tombstone id").into());
            }
            tombstones.push_back((id, why));
        }
        r.finish()?;
        Ok(Self { entries, tombstones, next_id, bytes: total, clock_ms, export_generation })
    }
}

crate::persist::generation_in_field!(Vault);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::error::BurnoutError;
    use crate::identity::IdentityKeyPair;

    #[test]
    fn a_clock_set_back_extends_nothing() {
        let me = *IdentityKeyPair::from_seed(&[2; 32]).public();
        let mut vault = Vault::new();
        let id = vault.insert(BurnoutMessage::outgoing(b"a", Envelope::expiring_at(0, 1_000), me), 0).unwrap();
        assert!(vault.read(id, 500).is_ok());
        // The vault has seen 2_000: a message that expired at 1_500 is refused
        // even when the caller's clock says 100.
        vault.purge(2_000);
        let late = BurnoutMessage::outgoing(b"b", Envelope::expiring_at(0, 1_500), me);
        assert_eq!(vault.insert(late, 100), Err(Error::Burnout(BurnoutError::Expired { expired_at_ms: 1_500 })));
        assert_eq!(vault.clock_ms(), 2_000);
        let kept = vault.insert(BurnoutMessage::outgoing(b"c", Envelope::expiring_at(0, 3_000), me), 100).unwrap();
        assert!(vault.read(kept, 100).is_ok());
        assert_eq!(vault.read(id, 100).unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: 1_000 }));
    }

    #[test]
    fn serialization_buffer_is_sized_exactly() {
        // No reallocation while writing, so no stray plaintext copies.
        let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
        let mut vault = Vault::new();
        for len in [0usize, 1, 100, 5000] {
            let text = vec![0xAB; len];
            vault.insert(BurnoutMessage::outgoing(&text, Envelope::with_ttl(0, 10 + len as u64), me), 0).unwrap();
        }
        let id = vault.insert(BurnoutMessage::outgoing(b"x", Envelope::new(0).burn_after_reading(), me), 0).unwrap();
        let _ = vault.read(id, 1).unwrap();
        let bytes = vault.to_bytes();
        assert_eq!(bytes.len(), bytes.capacity());
        // Also when entries expired at the clock are dropped.
        vault.clock_ms = 11;
        let bytes = vault.to_bytes();
        assert_eq!(bytes.len(), bytes.capacity());
        assert_eq!(Vault::from_bytes(&bytes).unwrap().len(), 2, "the entries expiring at 10 and 11 are dropped");
    }
}
