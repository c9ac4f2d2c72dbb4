//! Forkout: one body to many people, sealed once, each reached 1:1.
//!
//! The sender seals a body once for a list of recipients, each reached
//! through an existing [`Session`] or, on first contact, through their
//! prekey bundle (`Account.seal_forkout`). The result is one bundle to
//! upload. A relay, holding no key, cuts out each recipient's delivery
//! (`forkout_split`, `forkout_split_all`): that recipient's key slot plus
//! the shared sealed body, nothing about the other recipients. The
//! recipient opens it with `Account.open_forkout` (existing session) or
//! `Account.open_forkout_new` (first contact, returns the new session), and
//! replies 1:1 with `Session.encrypt`: nobody learns who else received it.
//!
//! Lock order: `Account` → the recipients' `Session`s (address order).

use std::sync::Arc;

use sealpost::IdentityKey;

use crate::account::Account;
use crate::burnout::{Envelope, Refusal};
use crate::error::{Result, SealpostError};
use crate::keys::{Key32, debug_redacted};
use crate::locked::Locked;
use crate::session::Session;

/// One intended recipient, as the sender can reach them.
#[derive(uniffi::Enum)]
pub enum ForkoutRecipient {
    /// An existing 1:1 session: the slot is its next message.
    Session {
        /// Our session with the recipient.
        session: Arc<Session>,
    },
    /// No session yet, but the recipient's prekey bundle from the server:
    /// a new session is started and returned in `SealedForkout.new_sessions`.
    Bundle {
        /// The encoded prekey bundle.
        bundle: Vec<u8>,
    },
    /// Someone we hold neither a session nor a bundle for (reported as
    /// unreachable).
    Unreachable {
        /// Their 32-byte identity key.
        identity_key: IdentityKey,
    },
}

/// What to do when some recipients cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SealPolicy {
    /// Seal nothing and throw `RecipientsUnreachable` (no session touched).
    AllOrNothing,
    /// Seal to everyone reachable; list the others in the result.
    SkipUnreachable,
}

/// Why a recipient got no slot.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum UnreachableReason {
    /// We have neither a session nor a bundle for them.
    NoSessionOrBundle,
    /// Their prekey bundle was refused (signature, weak key, our own).
    InvalidBundle {
        /// The error, as text.
        reason: String,
    },
    /// Their session could not encrypt (a chain at its message limit).
    SlotEncryptionFailed {
        /// The error, as text.
        reason: String,
    },
    /// A reason this version of the bindings does not name yet.
    Other {
        /// The reason, as text.
        reason: String,
    },
}

/// A recipient that got no slot, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UnreachableRecipient {
    /// The recipient's 32-byte identity key.
    pub identity_key: IdentityKey,
    /// Why.
    pub reason: UnreachableReason,
}

impl From<&sealpost::forkout::Unreachable> for UnreachableRecipient {
    fn from(u: &sealpost::forkout::Unreachable) -> Self {
        use sealpost::forkout::UnreachableReason as R;
        let reason = match &u.reason {
            R::NoSessionOrBundle => UnreachableReason::NoSessionOrBundle,
            R::InvalidBundle(e) => UnreachableReason::InvalidBundle { reason: e.to_string() },
            R::SlotEncryptionFailed(e) => UnreachableReason::SlotEncryptionFailed { reason: e.to_string() },
            other => UnreachableReason::Other { reason: format!("{other:?}") },
        };
        Self { identity_key: u.identity, reason }
    }
}

/// A sealed Forkout, ready to upload.
#[derive(uniffi::Record)]
pub struct SealedForkout {
    /// The Forkout's 32-byte id (the same for every recipient; not secret).
    pub forkout_id: Key32,
    /// The bundle to upload: the sealed body once, one slot per recipient.
    /// A relay splits it with `forkout_split` / `forkout_split_all`.
    pub bundle: Vec<u8>,
    /// The recipients that got a slot (32-byte identity keys, ascending).
    pub recipients: Vec<IdentityKey>,
    /// The recipients that got none (only with `SkipUnreachable`).
    pub unreachable: Vec<UnreachableRecipient>,
    /// Sessions started from bundles: store them, replies continue in them.
    pub new_sessions: Vec<Arc<Session>>,
}

/// One recipient's delivery, cut out of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ForkoutDelivery {
    /// The recipient's 32-byte identity key (where to route it), as the
    /// bundle names it: the relay does not check it is a valid key.
    pub recipient_identity_key: Key32,
    /// The delivery: this recipient's slot and the sealed body.
    pub delivery: Vec<u8>,
}

/// What a delivery says before it is opened (nothing here is
/// authenticated yet).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ForkoutDeliveryInfo {
    /// The Forkout's id.
    pub forkout_id: Key32,
    /// Whether the slot starts a new session: open it with
    /// `Account.open_forkout_new`.
    pub is_first_contact: bool,
    /// The sender a first-contact slot claims (to find or create the chat),
    /// proven only by opening.
    pub claimed_sender_identity_key: Option<IdentityKey>,
    /// Length of the body in bytes.
    pub body_len: u64,
}

/// An opened Forkout. `Debug` shows the body's length only.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenedForkout {
    /// The Forkout's id.
    pub forkout_id: Key32,
    /// The sender (the session's peer, authenticated by the slot).
    pub sender_identity_key: IdentityKey,
    /// The body.
    pub body: Vec<u8>,
    /// The Burnout envelope, if the sender set one (already checked; the app
    /// enforces burn-after-reading).
    pub envelope: Option<Envelope>,
}

impl OpenedForkout {
    /// The record for a Forkout opened at `now_ms`. A body under a Burnout
    /// envelope is copied out of the library's zeroizing buffer only here,
    /// at the boundary (its expiry was checked at this clock already).
    fn new(o: sealpost::forkout::OpenedForkout, now_ms: u64) -> sealpost::Result<Self> {
        let forkout_id = o.id().to_bytes().into();
        let sender_identity_key = *o.sender();
        let (body, envelope) = match o.into_opened() {
            sealpost::burnout::Opened::Message(body) => (body, None),
            sealpost::burnout::Opened::Burnout(m) => {
                let envelope = Envelope::from(*m.envelope());
                (m.into_plaintext(now_ms)?.to_vec(), Some(envelope))
            }
        };
        Ok(Self { forkout_id, sender_identity_key, body, envelope })
    }
}

debug_redacted!(OpenedForkout { forkout_id, sender_identity_key, envelope; body });

/// A first-contact Forkout: the new session, and the Forkout or why its
/// content was refused. Exactly one of `opened` and `refused` is set.
#[derive(uniffi::Record)]
pub struct OpenedForkoutNew {
    /// The new session with the sender: keep it in every case.
    pub session: Arc<Session>,
    /// The Forkout.
    pub opened: Option<OpenedForkout>,
    /// Why its content was refused (expired or malformed Burnout envelope):
    /// it is gone.
    pub refused: Option<Refusal>,
}

/// Cuts one recipient's delivery out of a bundle (what a relay does; it
/// needs no key). Throws `NotARecipient` if the bundle has no slot for it.
#[uniffi::export]
pub fn forkout_split(bundle: Vec<u8>, recipient_identity_key: IdentityKey) -> Result<Vec<u8>> {
    Ok(sealpost::forkout::split(&bundle, &recipient_identity_key)?)
}

/// Cuts every recipient's delivery out of a bundle.
#[uniffi::export]
pub fn forkout_split_all(bundle: Vec<u8>) -> Result<Vec<ForkoutDelivery>> {
    Ok(sealpost::forkout::split_all(&bundle)?
        .map(|(recipient, delivery)| ForkoutDelivery { recipient_identity_key: recipient.into(), delivery })
        .collect())
}

/// Reads a delivery's header without opening it: which call opens it and
/// which chat it belongs to.
#[uniffi::export]
pub fn inspect_forkout_delivery(delivery: Vec<u8>) -> Result<ForkoutDeliveryInfo> {
    let parsed = sealpost::forkout::ForkoutDelivery::parse(&delivery).map_err(sealpost::Error::from)?;
    Ok(ForkoutDeliveryInfo {
        forkout_id: parsed.id().to_bytes().into(),
        is_first_contact: parsed.is_first_contact(),
        claimed_sender_identity_key: parsed.claimed_sender(),
        body_len: crate::len(parsed.body_len()),
    })
}

/// A recipient with its session's position in the locked list.
enum Resolved {
    Session(usize),
    Bundle(sealpost::PreKeyBundle),
    Unreachable(IdentityKey),
}

#[uniffi::export]
impl Account {
    /// Seals `body` once for `recipients` (sessions, bundles, or known
    /// unreachable people), with an optional Burnout envelope.
    ///
    /// Throws `NoRecipients`, `DuplicateRecipient` (one person listed twice,
    /// in any form), `InvalidArgument` (the same session object twice),
    /// `PeerMismatch` (a session of another account), `Malformed` (bundle
    /// bytes that do not parse), `LimitReached`, `TooLarge`, `Expired` (an
    /// envelope expired when sent), and `RecipientsUnreachable` under
    /// `AllOrNothing` when anyone is unreachable, or under any policy when
    /// nobody is reachable; then nothing was sealed and no session moved.
    pub fn seal_forkout(
        &self,
        body: Vec<u8>,
        recipients: Vec<ForkoutRecipient>,
        policy: SealPolicy,
        envelope: Option<Envelope>,
    ) -> Result<SealedForkout> {
        let mut sessions: Vec<Arc<Session>> = Vec::new();
        let mut resolved = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            resolved.push(match recipient {
                ForkoutRecipient::Session { session } => {
                    sessions.push(session);
                    Resolved::Session(sessions.len().saturating_sub(1))
                }
                ForkoutRecipient::Bundle { bundle } => Resolved::Bundle(sealpost::PreKeyBundle::from_bytes(&bundle)?),
                ForkoutRecipient::Unreachable { identity_key } => Resolved::Unreachable(identity_key),
            });
        }
        let policy = match policy {
            SealPolicy::AllOrNothing => sealpost::forkout::SealPolicy::AllOrNothing,
            SealPolicy::SkipUnreachable => sealpost::forkout::SealPolicy::SkipUnreachable,
        };
        let envelope = envelope.map(sealpost::burnout::Envelope::from);
        let (sealed, report) = self.with(|account| {
            let mut guards = Session::lock_all(&sessions)?;
            // Hand out one `&mut` per locked session, in list order.
            let mut slots: Vec<Option<&mut sealpost::Session>> = guards.iter_mut().map(|g| Some(&mut **g)).collect();
            let mut list = Vec::with_capacity(resolved.len());
            for r in resolved {
                list.push(match r {
                    Resolved::Session(i) => {
                        let session = slots.get_mut(i).and_then(Option::take).ok_or_else(|| {
                            SealpostError::InvalidArgument("the same Session is listed twice".to_owned())
                        })?;
                        sealpost::forkout::Recipient::Session(session)
                    }
                    Resolved::Bundle(b) => sealpost::forkout::Recipient::Bundle(b),
                    Resolved::Unreachable(k) => sealpost::forkout::Recipient::Unreachable(k),
                });
            }
            Ok(sealpost::forkout::seal(account, body, list, policy, envelope, &mut rand::rng())?)
        })?;
        Ok(SealedForkout {
            forkout_id: sealed.id().to_bytes().into(),
            bundle: sealed.to_bytes(),
            recipients: sealed.recipients().copied().collect(),
            unreachable: report.unreachable.iter().map(UnreachableRecipient::from).collect(),
            new_sessions: report.new_sessions.into_iter().map(Session::wrap).collect(),
        })
    }

    /// Opens a delivery from `session`'s peer. Errors leave the account and
    /// the session unchanged (`AuthenticationFailed`, `DuplicateMessage`,
    /// `ForkoutIdMismatch`, `BodyLengthMismatch`, `BodyCommitmentMismatch`,
    /// `ClockSkew`, ...), except `Expired` and `MalformedEnvelope`, which
    /// use up the slot: the body can never be read.
    pub fn open_forkout(&self, session: Arc<Session>, delivery: Vec<u8>, now_ms: u64) -> Result<OpenedForkout> {
        let opened = self.with(|a| session.with(|s| Ok(sealpost::forkout::open(a, s, &delivery, now_ms)?)))?;
        Ok(OpenedForkout::new(opened, now_ms)?)
    }

    /// Opens a first-contact delivery (the sender started the session from
    /// our prekey bundle). If it throws, nothing changed; otherwise keep the
    /// returned session, also when the content was refused.
    pub fn open_forkout_new(&self, delivery: Vec<u8>, now_ms: u64) -> Result<OpenedForkoutNew> {
        let (session, content) = self.with(|a| Ok(sealpost::forkout::open_new(a, &delivery, now_ms)?))?;
        let (opened, refused) = Refusal::split::<_, OpenedForkout>(content.and_then(|o| OpenedForkout::new(o, now_ms)));
        Ok(OpenedForkoutNew { session: Session::wrap(session), opened, refused })
    }
}
