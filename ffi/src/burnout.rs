//! Burnout: self-destructing messages (envelope, 1:1 sealing and opening,
//! the opened message, and the vault).
//!
//! * [`Envelope`] is a record: sent-at time, optional absolute expiry and
//!   the burn-after-reading flag. It travels inside the ciphertext.
//! * `Session.encrypt_burnout`, `Session.open_burnout`, `Session.open`,
//!   `Account.open_burnout`, `Account.open` and
//!   `Account.create_inbound_session_at` are methods of the 1:1 objects,
//!   exported from this file.
//! * [`BurnoutMessage`] is an object, not a record, so that an opened
//!   message's plaintext stays in the library's zeroizing memory until the
//!   app either moves it into a [`Vault`] (`Vault.insert`) or takes it out
//!   once (`BurnoutMessage.take_plaintext`, which checks the expiry again).
//!   Either way the object is used up; later calls throw `AlreadyConsumed`.
//! * [`Vault`] enforces the envelope on every read and tells the app when
//!   to wake up next.
//!
//! Opening an expired message throws `Expired` and **uses up its key**
//! (the session moves on; the same bytes later throw `DuplicateMessage`).
//! `ClockSkew` changes nothing. Plain `Session.decrypt` refuses a Burnout
//! message with `UnexpectedPayload`, so no call returns Burnout content
//! without the check.

use std::sync::{Arc, Mutex};

use sealpost::{BurnoutError, IdentityKey};

use crate::account::Account;
use crate::error::{Result, SealpostError};
use crate::keys::Key32;
use crate::locked::{Locked, locked};
use crate::session::Session;

/// When a Burnout message was sent, when it expires, and whether it is
/// erased after its first read. Readable while `now < expires_at_ms`
/// (expired at exactly `expires_at_ms`). `expires_at_ms` and
/// `burn_after_reading` have defaults (none, false) in the bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Envelope {
    /// When the sender sent it (ms since the Unix epoch).
    pub sent_at_ms: u64,
    /// When it expires (ms since the Unix epoch), if ever.
    #[uniffi(default)]
    pub expires_at_ms: Option<u64>,
    /// Whether it is erased after its first read (in a `Vault`).
    #[uniffi(default)]
    pub burn_after_reading: bool,
}

impl From<sealpost::burnout::Envelope> for Envelope {
    fn from(e: sealpost::burnout::Envelope) -> Self {
        Self {
            sent_at_ms: e.sent_at_ms(),
            expires_at_ms: e.expires_at_ms(),
            burn_after_reading: e.is_burn_after_reading(),
        }
    }
}

impl From<Envelope> for sealpost::burnout::Envelope {
    fn from(e: Envelope) -> Self {
        let core = match e.expires_at_ms {
            Some(at) => Self::expiring_at(e.sent_at_ms, at),
            None => Self::new(e.sent_at_ms),
        };
        if e.burn_after_reading { core.burn_after_reading() } else { core }
    }
}

/// An envelope that expires `ttl_ms` after `sent_at_ms` (saturating).
#[uniffi::export]
pub fn envelope_with_ttl(sent_at_ms: u64, ttl_ms: u64, burn_after_reading: bool) -> Envelope {
    let core = sealpost::burnout::Envelope::with_ttl(sent_at_ms, ttl_ms);
    Envelope::from(if burn_after_reading { core.burn_after_reading() } else { core })
}

/// An opened Burnout message (or the sender's own copy of one it sent).
///
/// Its plaintext stays inside the library until it is moved into a
/// [`Vault`] or taken out once with `take_plaintext`; after either, the
/// object is used up and those calls throw `AlreadyConsumed`. The envelope,
/// sender and length stay readable.
#[derive(uniffi::Object)]
pub struct BurnoutMessage {
    envelope: sealpost::burnout::Envelope,
    sender: IdentityKey,
    outgoing: bool,
    len: u64,
    /// `None` once used up.
    inner: Mutex<Option<sealpost::burnout::BurnoutMessage>>,
}

locked!(BurnoutMessage, Option<sealpost::burnout::BurnoutMessage>);

impl BurnoutMessage {
    pub(crate) fn wrap(message: sealpost::burnout::BurnoutMessage) -> Arc<Self> {
        Arc::new(Self {
            envelope: *message.envelope(),
            sender: *message.sender(),
            outgoing: message.is_outgoing(),
            len: crate::len(message.plaintext_len()),
            inner: Mutex::new(Some(message)),
        })
    }

    /// Takes the core message out (the object is used up from then on).
    /// Locks only this object, and releases it before returning.
    pub(crate) fn take(&self) -> Result<sealpost::burnout::BurnoutMessage> {
        self.with(|message| {
            message.take().ok_or_else(|| {
                SealpostError::AlreadyConsumed(
                    "this BurnoutMessage was already read or put into a vault; its plaintext is gone".to_owned(),
                )
            })
        })
    }
}

#[uniffi::export]
impl BurnoutMessage {
    /// The sender's own copy of a message it sent, to keep in its vault
    /// under the same rule as the recipients' copies.
    #[uniffi::constructor]
    pub fn outgoing(plaintext: Vec<u8>, envelope: Envelope, own_identity_key: IdentityKey) -> Result<Arc<Self>> {
        let plaintext = zeroize::Zeroizing::new(plaintext);
        Ok(Self::wrap(sealpost::burnout::BurnoutMessage::outgoing(&plaintext, envelope.into(), own_identity_key)))
    }

    /// The authenticated envelope.
    pub fn envelope(&self) -> Envelope {
        self.envelope.into()
    }

    /// The sender's 32-byte identity key (our own for an outgoing copy).
    pub fn sender_identity_key(&self) -> IdentityKey {
        self.sender
    }

    /// Whether this is the sender's own copy.
    pub fn is_outgoing(&self) -> bool {
        self.outgoing
    }

    /// Length of the plaintext in bytes.
    pub fn plaintext_len(&self) -> u64 {
        self.len
    }

    /// Whether the plaintext was already taken or moved into a vault.
    pub fn is_consumed(&self) -> Result<bool> {
        self.with(|message| Ok(message.is_none()))
    }

    /// Takes the plaintext out, once. Throws `Expired` at or after the
    /// expiry (the plaintext is then erased, and the object used up too).
    /// Prefer `Vault.insert`, which keeps enforcing the envelope.
    pub fn take_plaintext(&self, now_ms: u64) -> Result<Vec<u8>> {
        Ok(self.take()?.into_plaintext(now_ms)?.to_vec())
    }
}

/// An opened 1:1 application message: the kind is only known after
/// decryption.
#[derive(uniffi::Enum)]
pub enum Opened {
    /// An ordinary message.
    Plain {
        /// Its plaintext.
        plaintext: Vec<u8>,
    },
    /// A Burnout message whose envelope was checked.
    Burnout {
        /// The message (move it into a `Vault`).
        message: Arc<BurnoutMessage>,
    },
}

impl From<sealpost::burnout::Opened> for Opened {
    fn from(o: sealpost::burnout::Opened) -> Self {
        match o {
            sealpost::burnout::Opened::Message(plaintext) => Self::Plain { plaintext },
            sealpost::burnout::Opened::Burnout(m) => Self::Burnout { message: BurnoutMessage::wrap(m) },
        }
    }
}

/// Why the content of an authentic first message was refused (see
/// `Account.create_inbound_session_at`): it is gone for good.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Refusal {
    /// The Burnout message had expired when it was opened.
    Expired {
        /// When it expired (ms since the Unix epoch).
        expired_at_ms: u64,
    },
    /// The Burnout envelope could not be parsed (a newer client?): its rule
    /// cannot be enforced, so the content was erased.
    MalformedEnvelope {
        /// What was wrong with it.
        reason: String,
    },
    /// A refusal this version of the bindings does not name yet.
    Other {
        /// The error kind and message.
        reason: String,
    },
}

impl From<sealpost::Error> for Refusal {
    fn from(e: sealpost::Error) -> Self {
        match e {
            sealpost::Error::Burnout(BurnoutError::Expired { expired_at_ms }) => Self::Expired { expired_at_ms },
            e @ sealpost::Error::Burnout(BurnoutError::MalformedEnvelope(_)) => {
                Self::MalformedEnvelope { reason: e.to_string() }
            }
            e => Self::Other { reason: e.to_string() },
        }
    }
}

impl Refusal {
    /// The content of an authentic first message as the records holding
    /// it say it: `(opened, refused)`, exactly one of them set.
    pub(crate) fn split<T, U: From<T>>(content: sealpost::Result<T>) -> (Option<U>, Option<Self>) {
        match content {
            Ok(opened) => (Some(opened.into()), None),
            Err(e) => (None, Some(e.into())),
        }
    }
}

/// A session accepted from a peer's first message, opened at a clock.
/// Exactly one of `opened` and `refused` is set.
#[derive(uniffi::Record)]
pub struct InboundOpened {
    /// The new session with the sender: keep it in every case.
    pub session: Arc<Session>,
    /// The first message, plain or Burnout.
    pub opened: Option<Opened>,
    /// Why the first message's content was refused (and erased).
    pub refused: Option<Refusal>,
}

#[uniffi::export]
impl Session {
    /// Encrypts a Burnout message: `plaintext` under the authenticated
    /// `envelope`. Throws `Expired` for an envelope already expired at its
    /// own sent-at time.
    pub fn encrypt_burnout(&self, plaintext: Vec<u8>, envelope: Envelope) -> Result<Vec<u8>> {
        let envelope = sealpost::burnout::Envelope::from(envelope);
        self.with(|s| Ok(s.encrypt_burnout(&plaintext, &envelope, &mut rand::rng())?))
    }

    /// Opens a Burnout message at `now_ms`. `Expired` (and
    /// `MalformedEnvelope`) use up the message key and return nothing;
    /// `ClockSkew` and every other error change nothing. A plain message
    /// throws `UnexpectedPayload` (use `open` for either kind).
    pub fn open_burnout(&self, message: Vec<u8>, now_ms: u64) -> Result<Arc<BurnoutMessage>> {
        let opened = self.with(|s| Ok(s.open_burnout(&message, now_ms)?))?;
        Ok(BurnoutMessage::wrap(opened))
    }

    /// Opens any application message, plain or Burnout, at `now_ms`.
    pub fn open(&self, message: Vec<u8>, now_ms: u64) -> Result<Opened> {
        Ok(self.with(|s| Ok(s.open(&message, now_ms)?))?.into())
    }
}

#[uniffi::export]
impl Account {
    /// `Session.open_burnout` for any message from `session`'s peer,
    /// including setup messages that start a new state.
    pub fn open_burnout(&self, session: Arc<Session>, message: Vec<u8>, now_ms: u64) -> Result<Arc<BurnoutMessage>> {
        let opened = self.with(|a| session.with(|s| Ok(a.open_burnout(s, &message, now_ms)?)))?;
        Ok(BurnoutMessage::wrap(opened))
    }

    /// `Session.open` for any message from `session`'s peer, including
    /// setup messages that start a new state. Prefer it to `decrypt` when
    /// the peer may send Burnout messages.
    pub fn open(&self, session: Arc<Session>, message: Vec<u8>, now_ms: u64) -> Result<Opened> {
        Ok(self.with(|a| session.with(|s| Ok(a.open(s, &message, now_ms)?)))?.into())
    }

    /// Accepts a peer's first message, plain or Burnout, opened at
    /// `now_ms`. If it throws, nothing changed. Otherwise the session
    /// exists and the one-time prekey is consumed, even when the content
    /// was refused (an expired Burnout message): keep the session, the
    /// peer's next messages open with it.
    pub fn create_inbound_session_at(&self, message: Vec<u8>, now_ms: u64) -> Result<InboundOpened> {
        let (session, content) = self.with(|a| Ok(a.create_inbound_session_at(&message, now_ms)?))?;
        let (opened, refused) = Refusal::split(content);
        Ok(InboundOpened { session: Session::wrap(session), opened, refused })
    }
}

/// What a vault knows about an entry, without its plaintext.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VaultEntryInfo {
    /// The entry's id.
    pub id: u64,
    /// The authenticated envelope.
    pub envelope: Envelope,
    /// Who sent it (our own identity for an outgoing copy).
    pub sender_identity_key: IdentityKey,
    /// Whether it is our own copy of a message we sent.
    pub outgoing: bool,
    /// Plaintext length in bytes.
    pub len: u64,
}

/// A zeroizing in-memory store for opened Burnout messages, enforcing
/// their envelopes on every read: expired entries are erased at every call
/// that takes a clock, burn-after-reading entries by their first read.
/// Bounded (entries and bytes); thread-safe.
#[derive(uniffi::Object)]
pub struct Vault {
    inner: Mutex<sealpost::burnout::Vault>,
}

locked!(Vault, sealpost::burnout::Vault);

impl Vault {
    fn wrap(vault: sealpost::burnout::Vault) -> Arc<Self> {
        Arc::new(Self { inner: Mutex::new(vault) })
    }
}

#[uniffi::export]
impl Vault {
    /// An empty vault.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Self::wrap(sealpost::burnout::Vault::new())
    }

    /// Restores a vault from `export_encrypted` with the same 32-byte key.
    /// It purges at the first clock it is given.
    #[uniffi::constructor]
    pub fn import_encrypted(key: Key32, export: Vec<u8>) -> Result<Arc<Self>> {
        Ok(Self::wrap(sealpost::Persist::import_encrypted(key.as_bytes(), &export)?))
    }

    /// Purges at `now_ms`, then seals the vault under a 32-byte key. The
    /// export holds no expired and no burned entry; overwrite the previous
    /// export with it (an older one would bring burned entries back).
    pub fn export_encrypted(&self, key: Key32, now_ms: u64) -> Result<Vec<u8>> {
        self.with(|v| Ok(v.export_encrypted_at(now_ms, key.as_bytes(), &mut rand::rng())))
    }

    /// Moves an opened message (or our own copy) into the vault and returns
    /// its id. The message object is used up, also when the vault refuses
    /// it (`Expired` at `now_ms`, `TooLarge`, `LimitReached`): its
    /// plaintext is then erased.
    pub fn insert(&self, message: Arc<BurnoutMessage>, now_ms: u64) -> Result<u64> {
        // The message lock is released before the vault is locked.
        let message = message.take()?;
        self.with(|v| Ok(v.insert(message, now_ms)?.to_u64()))
    }

    /// Reads an entry at `now_ms`. A burn-after-reading entry is erased by
    /// this read. Throws `BurnedAfterReading` for a second read of such an
    /// entry, `Expired` for an expired one, `NotInVault` otherwise.
    pub fn read(&self, id: u64, now_ms: u64) -> Result<Vec<u8>> {
        self.with(|v| Ok(v.read(sealpost::burnout::VaultId::from_u64(id), now_ms)?.to_vec()))
    }

    /// An entry's envelope, sender, direction and length, without reading
    /// it (does not burn); `None` if the vault does not hold it.
    pub fn info(&self, id: u64) -> Result<Option<VaultEntryInfo>> {
        self.with(|v| {
            Ok(v.info(sealpost::burnout::VaultId::from_u64(id)).map(|i| VaultEntryInfo {
                id,
                envelope: i.envelope.into(),
                sender_identity_key: i.sender,
                outgoing: i.outgoing,
                len: crate::len(i.len),
            }))
        })
    }

    /// Ids of the entries held, oldest first (call `purge` first when the
    /// list is shown).
    pub fn ids(&self) -> Result<Vec<u64>> {
        self.with(|v| Ok(v.ids().map(sealpost::burnout::VaultId::to_u64).collect()))
    }

    /// Erases an entry now (the user deleted it); whether it was held.
    pub fn remove(&self, id: u64) -> Result<bool> {
        self.with(|v| Ok(v.remove(sealpost::burnout::VaultId::from_u64(id))))
    }

    /// Erases every entry expired at `now_ms`; how many were erased.
    pub fn purge(&self, now_ms: u64) -> Result<u32> {
        self.with(|v| Ok(crate::count(v.purge(now_ms))))
    }

    /// The earliest expiry among the entries: when to call `purge` next.
    pub fn next_expiry(&self) -> Result<Option<u64>> {
        self.with(|v| Ok(v.next_expiry()))
    }

    /// Number of entries held.
    pub fn len(&self) -> Result<u32> {
        self.with(|v| Ok(crate::count(v.len())))
    }

    /// Whether the vault holds no entry.
    pub fn is_empty(&self) -> Result<bool> {
        self.with(|v| Ok(v.is_empty()))
    }

    /// Total plaintext bytes held.
    pub fn plaintext_bytes(&self) -> Result<u64> {
        self.with(|v| Ok(crate::len(v.plaintext_bytes())))
    }

    /// The last clock the vault was given.
    pub fn clock_ms(&self) -> Result<u64> {
        self.with(|v| Ok(v.clock_ms()))
    }

    /// Erases every entry.
    pub fn clear(&self) -> Result<()> {
        self.with(|v| {
            v.clear();
            Ok(())
        })
    }
}
