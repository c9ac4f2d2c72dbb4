//! Sealing: one body encryption, one 1:1 key slot per recipient.

use std::io::{self, Write};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::ForkoutId;
use super::body::{self, BodyKeys, KEY_CHECK_LEN};
use super::bundle::{BodyRef, DeliveryRef, collect, emit_bundle};
use crate::account::Account;
use crate::burnout::Envelope;
use crate::burnout::payload::{self, Trailer};
use crate::error::{Error, Result, Unreachable, UnreachableReason};
use crate::error::{ForkoutError, SessionError};
use crate::identity::IdentityKey;
use crate::limits::{MAX_FORKOUT_BODY, MAX_FORKOUT_RECIPIENTS, MAX_FORKOUT_SLOT_MESSAGE};
use crate::prekey::PreKeyBundle;
use crate::session::Session;
use crate::wire::PayloadKind;

/// One intended recipient of a Forkout, as the sender can reach them.
///
/// The recipient's routing id is its identity key: the session's
/// [`peer_identity`](Session::peer_identity), the bundle's
/// [`identity`](PreKeyBundle::identity), or the key given.
#[derive(Debug)]
///
/// ```
/// use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
/// let mut rng = sealpost::default_rng();
/// let (manager, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let carol = Account::new(&mut rng, 0);
/// let mut to_bob = manager.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let recipients = [
///     Recipient::Session(&mut to_bob),               // an existing 1:1 session
///     Recipient::Bundle(carol.prekey_bundle()?),     // first contact
/// ];
/// let (sealed, _) = forkout::seal(&manager, b"memo".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
/// assert_eq!(sealed.recipient_count(), 2);
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum Recipient<'s> {
    /// An existing 1:1 session: the slot is the session's next message.
    Session(&'s mut Session),
    /// No session yet, but a prekey bundle from the server: a new outbound
    /// session is created, the slot is its first (setup) message, and the
    /// session is returned in [`SealReport::new_sessions`] so later messages
    /// continue in it.
    Bundle(PreKeyBundle),
    /// Someone the sender wants to reach but holds neither a session nor a
    /// bundle for: reported as [`UnreachableReason::NoSessionOrBundle`].
    Unreachable(IdentityKey),
}

/// What to do when some recipients cannot be reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
///
/// ```
/// use sealpost::forkout::SealPolicy;
/// assert_eq!(SealPolicy::default(), SealPolicy::AllOrNothing);
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum SealPolicy {
    /// Refuse with [`ForkoutError::RecipientsUnreachable`] and seal nothing (no
    /// session is touched).
    #[default]
    AllOrNothing,
    /// Seal to everyone reachable and list the others in
    /// [`SealReport::unreachable`].
    SkipUnreachable,
}

/// What [`seal`] reports besides the sealed Forkout.
#[derive(Debug)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
/// let mut rng = sealpost::default_rng();
/// let (manager, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let (_, report) = forkout::seal(&manager, b"memo".to_vec(), [Recipient::Bundle(bob.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// assert!(report.unreachable.is_empty());
/// assert_eq!(report.new_sessions[0].peer_identity(), bob.identity()); // store it
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct SealReport {
    /// Recipients that got no slot (always empty under
    /// [`SealPolicy::AllOrNothing`]), ascending by identity.
    pub unreachable: Vec<Unreachable>,
    /// Sessions created from [`Recipient::Bundle`]s, ascending by peer
    /// identity: store them; the peer's reply and every later message
    /// continue in them.
    pub new_sessions: Vec<Session>,
}

enum Target<'s> {
    Existing(&'s mut Session),
    New(Box<Session>),
}

/// The first 8 bytes of a recipient id as a big-endian integer (orders like
/// the bytes).
fn prefix(id: &[u8; 32]) -> u64 {
    id.first_chunk::<8>().map_or(0, |c| u64::from_be_bytes(*c))
}

impl Target<'_> {
    fn session(&mut self) -> &mut Session {
        match self {
            Self::Existing(s) => s,
            Self::New(s) => s,
        }
    }

    fn peer(&self) -> &IdentityKey {
        match self {
            Self::Existing(s) => s.peer_identity(),
            Self::New(s) => s.peer_identity(),
        }
    }
}

/// The recipients resolved, before any body is sealed: lets the caller see
/// who is unreachable and then choose to seal to the rest or not, without
/// giving up the body.
///
/// ```
/// use sealpost::Account;
/// use sealpost::forkout::{ForkoutPlan, Recipient, SealPolicy};
/// let mut rng = sealpost::default_rng();
/// let sender = Account::new(&mut rng, 0);
/// let mut bob = Account::new(&mut rng, 0);
/// let carol = Account::new(&mut rng, 0);
///
/// let recipients = [Recipient::Bundle(bob.prekey_bundle()?), Recipient::Unreachable(*carol.identity())];
/// let plan = ForkoutPlan::new(&sender, recipients, &mut rng)?;
/// assert_eq!(plan.unreachable().len(), 1);
/// assert_eq!(plan.reachable().count(), 1);
/// // The caller decides: send to Bob now, Carol later.
/// let (sealed, report) = plan.seal(b"minutes".to_vec(), None, SealPolicy::SkipUnreachable, &mut rng)?;
/// assert_eq!(sealed.recipient_count(), 1);
/// assert_eq!(report.unreachable[0].identity, *carol.identity());
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct ForkoutPlan<'s> {
    /// Sorted by the recipient id (the peer's identity-key bytes), kept
    /// inline so sorting and duplicate checks touch no session.
    targets: Vec<([u8; 32], Target<'s>)>,
    unreachable: Vec<Unreachable>,
}

impl core::fmt::Debug for ForkoutPlan<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ForkoutPlan")
            .field("reachable", &self.targets.len())
            .field("unreachable", &self.unreachable)
            .finish()
    }
}

impl<'s> ForkoutPlan<'s> {
    /// Resolves the recipients: verifies bundles and starts their outbound
    /// sessions (nothing is encrypted yet, and no existing session is
    /// touched).
    ///
    /// Errors: [`ForkoutError::NoRecipients`] for an empty list,
    /// [`ForkoutError::DuplicateRecipient`] when an identity is listed twice (in
    /// any form), [`Error::LimitReached`] past
    /// [`MAX_FORKOUT_RECIPIENTS`], [`SessionError::PeerMismatch`] for a session that
    /// belongs to another account.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// use sealpost::forkout::ForkoutPlan;
    /// let carol = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?), Recipient::Unreachable(*carol.identity())];
    /// let plan = ForkoutPlan::new(&manager, recipients, &mut rng)?;
    /// assert_eq!(plan.reachable().count(), 1);
    /// assert_eq!(plan.unreachable()[0].identity, *carol.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn new<R: CryptoRng + ?Sized>(
        account: &Account,
        recipients: impl IntoIterator<Item = Recipient<'s>>,
        rng: &mut R,
    ) -> Result<Self> {
        let mut targets: Vec<([u8; 32], Target<'s>)> = Vec::new();
        let mut unreachable = Vec::new();
        let mut total = 0usize;
        for recipient in recipients {
            if total >= MAX_FORKOUT_RECIPIENTS {
                return Err(Error::LimitReached { what: "Forkout recipients", max: MAX_FORKOUT_RECIPIENTS });
            }
            total += 1;
            match recipient {
                Recipient::Session(session) => {
                    if session.local_identity() != account.identity() {
                        return Err(Error::Session(SessionError::PeerMismatch));
                    }
                    targets.push((session.peer_identity().to_bytes(), Target::Existing(session)));
                }
                Recipient::Bundle(bundle) => match account.create_outbound_session(&bundle, rng) {
                    Ok(session) => targets.push((bundle.identity().to_bytes(), Target::New(Box::new(session)))),
                    Err(e) => unreachable.push(Unreachable {
                        identity: *bundle.identity(),
                        reason: UnreachableReason::InvalidBundle(e),
                    }),
                },
                Recipient::Unreachable(identity) => {
                    unreachable.push(Unreachable { identity, reason: UnreachableReason::NoSessionOrBundle });
                }
            }
        }
        if total == 0 {
            return Err(Error::Forkout(ForkoutError::NoRecipients));
        }
        // Sort compact (8-byte prefix, index) pairs with integer compares,
        // then a stable sort by the full id, which only has work to do on a
        // prefix tie and is linear on sorted input: byte order, cheaply.
        targets.sort_by_cached_key(|t| prefix(&t.0));
        targets.sort_by_key(|t| t.0);
        unreachable.sort_by_key(|a| a.identity);
        let adjacent = targets.iter().zip(targets.iter().skip(1)).map(|(a, b)| (a.0, b.0));
        let adjacent_unreachable = unreachable
            .iter()
            .zip(unreachable.iter().skip(1))
            .map(|(a, b)| (a.identity.to_bytes(), b.identity.to_bytes()));
        if let Some((dup, _)) = adjacent.chain(adjacent_unreachable).find(|(a, b)| a == b) {
            return Err(Error::Forkout(ForkoutError::DuplicateRecipient(dup)));
        }
        if let Some(u) =
            unreachable.iter().find(|u| targets.binary_search_by(|t| t.0.cmp(u.identity.as_bytes())).is_ok())
        {
            return Err(Error::Forkout(ForkoutError::DuplicateRecipient(u.identity.to_bytes())));
        }
        Ok(Self { targets, unreachable })
    }

    /// The recipients that will get a slot, ascending.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// use sealpost::forkout::ForkoutPlan;
    /// let carol = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?), Recipient::Unreachable(*carol.identity())];
    /// let plan = ForkoutPlan::new(&manager, recipients, &mut rng)?;
    /// assert_eq!(plan.reachable().collect::<Vec<_>>(), [bob.identity()]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn reachable(&self) -> impl ExactSizeIterator<Item = &IdentityKey> + '_ {
        self.targets.iter().map(|(_, t)| t.peer())
    }

    /// The recipients that cannot be reached, ascending.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// use sealpost::forkout::ForkoutPlan;
    /// let carol = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?), Recipient::Unreachable(*carol.identity())];
    /// let plan = ForkoutPlan::new(&manager, recipients, &mut rng)?;
    /// assert_eq!(plan.unreachable().len(), 1); // ask the user before sealing without Carol
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn unreachable(&self) -> &[Unreachable] {
        &self.unreachable
    }

    /// Seals `body` once and one key slot per reachable recipient.
    ///
    /// The body buffer is encrypted in place and kept by the returned
    /// [`SealedForkout`]: pass a `Vec<u8>` to avoid any copy (a slice is
    /// copied once). With [`SealPolicy::AllOrNothing`] and anyone
    /// unreachable, fails with [`ForkoutError::RecipientsUnreachable`] before
    /// touching any session; so it does under any policy when nobody is
    /// reachable. A body over [`MAX_FORKOUT_BODY`] is [`Error::TooLarge`];
    /// an envelope already expired at its own sent-at time is
    /// [`BurnoutError::Expired`](crate::error::BurnoutError::Expired) (nobody could ever read it).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// use sealpost::forkout::ForkoutPlan;
    /// let carol = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?), Recipient::Unreachable(*carol.identity())];
    /// let plan = ForkoutPlan::new(&manager, recipients, &mut rng)?;
    /// let (sealed, report) = plan.seal(b"plan".to_vec(), None, SealPolicy::SkipUnreachable, &mut rng)?;
    /// assert_eq!(sealed.recipient_count(), 1);
    /// assert_eq!(report.unreachable.len(), 1);
    /// assert_eq!(report.new_sessions.len(), 1); // keep Bob's new session
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn seal<R: CryptoRng + ?Sized>(
        self,
        body: impl Into<Vec<u8>>,
        envelope: Option<Envelope>,
        policy: SealPolicy,
        rng: &mut R,
    ) -> Result<(SealedForkout, SealReport)> {
        // Refuses an envelope already expired when sent: nobody could read it.
        self.seal_with(body, || payload::seal_trailer(envelope.as_ref()), policy, rng)
    }

    /// [`Self::seal`] with the envelope encoded by `trailer` (called after
    /// the recipient and size checks; the test hooks put other bytes there).
    pub(crate) fn seal_with<R: CryptoRng + ?Sized>(
        self,
        body: impl Into<Vec<u8>>,
        trailer: impl FnOnce() -> Result<Trailer>,
        policy: SealPolicy,
        rng: &mut R,
    ) -> Result<(SealedForkout, SealReport)> {
        let Self { targets, mut unreachable } = self;
        let mut ciphertext: Vec<u8> = body.into();
        if ciphertext.len() > MAX_FORKOUT_BODY {
            return Err(Error::TooLarge { what: "Forkout body", len: ciphertext.len(), max: MAX_FORKOUT_BODY });
        }
        if targets.is_empty() || (policy == SealPolicy::AllOrNothing && !unreachable.is_empty()) {
            return Err(Error::Forkout(ForkoutError::RecipientsUnreachable(unreachable)));
        }
        let trailer = trailer()?;

        let id = ForkoutId::random(rng);
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(key.as_mut());
        let keys = BodyKeys::derive(*key, &id);
        keys.encrypt(&mut ciphertext);
        let commitment = body::commitment(&id, &keys.check, &ciphertext);
        let body_len = ciphertext.len() as u64;
        let slot = body::encode_slot(&id, &keys.key, &commitment, body_len, trailer.is_present());

        let mut slots = Vec::with_capacity(targets.len());
        let mut new_sessions = Vec::new();
        for (_, mut target) in targets {
            let identity = *target.peer();
            match target.session().encrypt_payload(slot.as_ref(), trailer.as_bytes(), PayloadKind::ForkoutSlot, rng) {
                Ok(message) if message.len() <= MAX_FORKOUT_SLOT_MESSAGE => {
                    slots.push((identity, message));
                    if let Target::New(session) = target {
                        new_sessions.push(*session);
                    }
                }
                Ok(_) => return Err(Error::InvalidState("Forkout slot message over its limit")),
                Err(e) if policy == SealPolicy::SkipUnreachable => {
                    unreachable.push(Unreachable { identity, reason: UnreachableReason::SlotEncryptionFailed(e) });
                }
                Err(e) => return Err(e),
            }
        }
        if slots.is_empty() {
            return Err(Error::Forkout(ForkoutError::RecipientsUnreachable(unreachable)));
        }
        unreachable.sort_by_key(|a| a.identity);
        let sealed = SealedForkout { id, key_check: keys.check, commitment, ciphertext, slots };
        Ok((sealed, SealReport { unreachable, new_sessions }))
    }
}

/// Seals `body` once for many recipients, each reached through their own
/// 1:1 session (or a new one from their prekey bundle).
///
/// Shorthand for [`ForkoutPlan::new`] then [`ForkoutPlan::seal`]; use the
/// plan to look at unreachable recipients before giving up the body. See
/// the [module documentation](super) for an example.
///
/// Errors: those of [`ForkoutPlan::new`] and [`ForkoutPlan::seal`].
///
/// ```
/// use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
/// let mut rng = sealpost::default_rng();
/// let (manager, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
/// let (sealed, report) = forkout::seal(&manager, b"all hands at 3".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
/// assert_eq!(sealed.recipient_count(), 1);
/// assert_eq!(report.new_sessions.len(), 1);
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn seal<'s, R: CryptoRng + ?Sized>(
    account: &Account,
    body: impl Into<Vec<u8>>,
    recipients: impl IntoIterator<Item = Recipient<'s>>,
    policy: SealPolicy,
    envelope: Option<Envelope>,
    rng: &mut R,
) -> Result<(SealedForkout, SealReport)> {
    ForkoutPlan::new(account, recipients, rng)?.seal(body, envelope, policy, rng)
}

/// A sealed Forkout: the body encrypted once, plus one key slot per
/// recipient. Holds no secret (the body key exists only inside the slots).
///
/// Upload it as one bundle ([`Self::to_bytes`] / [`Self::write_to`]) for a
/// relay to [`split`](super::split), or hand out deliveries directly
/// ([`Self::delivery`], [`Self::deliveries`]).
///
/// ```
/// # use sealpost::Account;
/// # use sealpost::forkout::{self, Recipient, SealPolicy};
/// # let mut rng = sealpost::default_rng();
/// # let sender = Account::new(&mut rng, 0);
/// # let mut bob = Account::new(&mut rng, 0);
/// let (sealed, _) = forkout::seal(&sender, vec![0u8; 4096],
///     [Recipient::Bundle(bob.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// assert_eq!(sealed.body_len(), 4096);
/// let mut upload = Vec::new();
/// sealed.write_to(&mut upload).expect("write");
/// assert_eq!(upload, sealed.to_bytes());
/// assert_eq!(upload.len(), sealed.encoded_len());
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct SealedForkout {
    id: ForkoutId,
    key_check: [u8; KEY_CHECK_LEN],
    commitment: [u8; 32],
    ciphertext: Vec<u8>,
    /// (recipient, slot message), ascending by identity.
    slots: Vec<(IdentityKey, Vec<u8>)>,
}

impl core::fmt::Debug for SealedForkout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SealedForkout")
            .field("id", &self.id)
            .field("body_len", &self.ciphertext.len())
            .field("recipients", &self.slots.len())
            .finish()
    }
}

impl SealedForkout {
    /// The Forkout's id.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// assert_eq!(forkout::ForkoutDelivery::parse(&delivery)?.id(), sealed.id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn id(&self) -> ForkoutId {
        self.id
    }

    /// The commitment to the sealed body, as every recipient sees it in
    /// [`OpenedForkout::commitment`](super::OpenedForkout::commitment).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// let (_, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
    /// assert_eq!(opened?.commitment(), sealed.commitment());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn commitment(&self) -> [u8; 32] {
        self.commitment
    }

    /// How many recipients got a slot.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// assert_eq!(sealed.recipient_count(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn recipient_count(&self) -> usize {
        self.slots.len()
    }

    /// The recipients, ascending by identity.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// assert_eq!(sealed.recipients().collect::<Vec<_>>(), [bob.identity()]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn recipients(&self) -> impl ExactSizeIterator<Item = &IdentityKey> + '_ {
        self.slots.iter().map(|(id, _)| id)
    }

    /// The body's length (its ciphertext has the same length).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// assert_eq!(sealed.body_len(), 4);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn body_len(&self) -> usize {
        self.ciphertext.len()
    }

    /// Length of the encoded bundle.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// assert_eq!(sealed.encoded_len(), sealed.to_bytes().len());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn encoded_len(&self) -> usize {
        let entries: usize = self.slots.iter().map(|(_, s)| 32 + 4 + s.len()).sum();
        2 + self.id.as_bytes().len() + self.body().encoded_len() + 4 + entries
    }

    /// Encodes the bundle (one copy of the sealed body).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bundle = sealed.to_bytes(); // for the relay
    /// assert!(!forkout::split(&bundle, bob.identity())?.is_empty());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        collect(self.encoded_len(), |mut out| self.emit(&mut out))
    }

    /// Streams the encoded bundle into `w` without building it in memory.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let mut upload = Vec::new(); // or a socket
    /// sealed.write_to(&mut upload).expect("writing to a Vec");
    /// assert_eq!(upload, sealed.to_bytes());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn write_to<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        self.emit(&mut |b: &[u8]| w.write_all(b))
    }

    /// The delivery for one recipient, or [`ForkoutError::NotARecipient`].
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// assert!(sealed.delivery(bob.identity()).is_ok());
    /// assert!(sealed.delivery(manager.identity()).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn delivery(&self, recipient: &IdentityKey) -> Result<DeliveryRef<'_>> {
        let at = self
            .slots
            .binary_search_by(|(id, _)| id.cmp(recipient))
            .map_err(|_| Error::Forkout(ForkoutError::NotARecipient))?;
        let (_, slot) = self.slots.get(at).ok_or(Error::Forkout(ForkoutError::NotARecipient))?;
        Ok(DeliveryRef { id: self.id.as_bytes(), slot, body: self.body() })
    }

    /// Every recipient and their delivery, ascending, built on demand.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// for (recipient, delivery) in sealed.deliveries() {
    ///     assert_eq!(recipient, bob.identity()); // hand delivery.to_vec() to their inbox
    ///     assert!(delivery.encoded_len() > 4);
    /// }
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn deliveries(&self) -> impl ExactSizeIterator<Item = (&IdentityKey, DeliveryRef<'_>)> + '_ {
        let body = self.body();
        self.slots.iter().map(move |(id, slot)| (id, DeliveryRef { id: self.id.as_bytes(), slot, body }))
    }

    fn body(&self) -> BodyRef<'_> {
        BodyRef { key_check: &self.key_check, ciphertext: &self.ciphertext }
    }

    fn emit<E>(&self, out: &mut impl FnMut(&[u8]) -> core::result::Result<(), E>) -> core::result::Result<(), E> {
        let entries = self.slots.iter().map(|(id, slot)| (id.as_bytes(), slot.as_slice()));
        emit_bundle(self.id.as_bytes(), self.body(), entries, out)
    }
}
