//! Forkout wire formats: the bundle a sender uploads, the delivery one
//! recipient receives, and the keyless split between them.
//!
//! A bundle (type `0x20`) holds the sealed body once and one slot per
//! recipient, sorted by recipient id; a delivery (type `0x21`) holds one
//! slot and the body. The layouts are specified in
//! [FORKOUT](crate::docs::forkout).
//!
//! Parsing borrows from the input and allocates only a bounded index of
//! the bundle's entries (at most [`MAX_FORKOUT_RECIPIENTS`]); each slot
//! message is checked to be a well-formed 1:1 message of at most
//! [`MAX_FORKOUT_SLOT_MESSAGE`] bytes. Nothing here needs or learns a key.

use core::convert::Infallible;
use std::io::{self, Write};

use super::body::KEY_CHECK_LEN;
use super::{FORKOUT_ID_LEN, ForkoutId};
use crate::error::ForkoutError;
use crate::error::{Error, Result, WireError};
use crate::identity::IdentityKey;
use crate::limits::{MAX_FORKOUT_BODY, MAX_FORKOUT_RECIPIENTS, MAX_FORKOUT_SLOT_MESSAGE};
use crate::wire::MessageType;
use crate::wire::SessionMessage;
use crate::wire::codec::Reader;

/// Smallest encoded bundle entry: id, length prefix, and the smallest slot
/// message the 1:1 parser accepts.
const MIN_ENTRY: usize = 32 + 4 + 2 + 40 + 16 + 1;

/// The shared encrypted body, borrowed.
#[derive(Clone, Copy)]
pub(crate) struct BodyRef<'a> {
    pub(crate) key_check: &'a [u8; KEY_CHECK_LEN],
    pub(crate) ciphertext: &'a [u8],
}

impl<'a> BodyRef<'a> {
    fn parse(r: &mut Reader<'a>) -> core::result::Result<Self, WireError> {
        let key_check = as_array(r.take(KEY_CHECK_LEN)?)?;
        let ciphertext = r.var_bytes("Forkout body", MAX_FORKOUT_BODY)?;
        Ok(Self { key_check, ciphertext })
    }

    /// Encoded length of the body section.
    pub(crate) fn encoded_len(&self) -> usize {
        KEY_CHECK_LEN + 4 + self.ciphertext.len()
    }

    fn emit<E>(&self, out: &mut impl FnMut(&[u8]) -> core::result::Result<(), E>) -> core::result::Result<(), E> {
        out(self.key_check)?;
        out(&len_u32(self.ciphertext.len()))?;
        out(self.ciphertext)
    }
}

/// The bytes one recipient needs, borrowed from a [`SealedForkout`] or a
/// parsed [`ForkoutBundle`]: built on demand, so handing out a thousand
/// deliveries never holds a thousand body copies.
///
/// ```
/// # use sealpost::Account;
/// # use sealpost::forkout::{self, Recipient, SealPolicy};
/// # let mut rng = sealpost::default_rng();
/// # let sender = Account::new(&mut rng, 0);
/// # let mut bob = Account::new(&mut rng, 0);
/// # let (sealed, _) = forkout::seal(&sender, b"hi".to_vec(),
/// #     [Recipient::Bundle(bob.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// let delivery = sealed.delivery(bob.identity())?;
/// let mut socket = Vec::new(); // any `std::io::Write`
/// delivery.write_to(&mut socket).expect("write");
/// assert_eq!(socket, delivery.to_vec());
/// assert_eq!(socket.len(), delivery.encoded_len());
/// # Ok::<(), sealpost::Error>(())
/// ```
///
/// [`SealedForkout`]: super::SealedForkout
#[derive(Clone, Copy)]
pub struct DeliveryRef<'a> {
    pub(crate) id: &'a [u8; FORKOUT_ID_LEN],
    pub(crate) slot: &'a [u8],
    pub(crate) body: BodyRef<'a>,
}

impl DeliveryRef<'_> {
    /// Length of the encoded delivery.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let delivery = bundle.delivery(bob.identity())?;
    /// assert_eq!(delivery.encoded_len(), delivery.to_vec().len());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn encoded_len(&self) -> usize {
        2 + FORKOUT_ID_LEN + 4 + self.slot.len() + self.body.encoded_len()
    }

    /// Encodes the delivery into a new buffer.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let delivery = bundle.delivery(bob.identity())?.to_vec();
    /// assert!(ForkoutDelivery::parse(&delivery).is_ok());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        collect(self.encoded_len(), |mut out| self.emit(&mut out))
    }

    /// Streams the encoded delivery into `w` without building it in memory.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let mut out = Vec::new(); // a socket or a file in a relay
    /// bundle.delivery(bob.identity())?.write_to(&mut out).expect("writing to a Vec");
    /// assert_eq!(out, bundle.delivery(bob.identity())?.to_vec());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn write_to<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        self.emit(&mut |b: &[u8]| w.write_all(b))
    }

    fn emit<E>(&self, out: &mut impl FnMut(&[u8]) -> core::result::Result<(), E>) -> core::result::Result<(), E> {
        out(&[MessageType::ForkoutDelivery.version(), MessageType::ForkoutDelivery as u8])?;
        out(self.id)?;
        out(&len_u32(self.slot.len()))?;
        out(self.slot)?;
        self.body.emit(out)
    }
}

impl core::fmt::Debug for DeliveryRef<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeliveryRef")
            .field("id", &ForkoutId::from_bytes(*self.id))
            .field("slot_len", &self.slot.len())
            .field("body_len", &self.body.ciphertext.len())
            .finish()
    }
}

/// A parsed Forkout bundle (what the sender uploads), borrowing its input.
///
/// A relay uses it to cut out each recipient's [`DeliveryRef`] without any
/// key. Parsing checks every length against [`crate::limits`], that the
/// recipient ids are strictly ascending (no duplicates), and that every slot
/// is a well-formed 1:1 message.
///
/// ```
/// # use sealpost::Account;
/// # use sealpost::forkout::{self, ForkoutBundle, Recipient, SealPolicy};
/// # let mut rng = sealpost::default_rng();
/// # let sender = Account::new(&mut rng, 0);
/// # let mut bob = Account::new(&mut rng, 0);
/// # let (sealed, _) = forkout::seal(&sender, b"hi".to_vec(),
/// #     [Recipient::Bundle(bob.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// let uploaded = sealed.to_bytes();
/// let bundle = ForkoutBundle::parse(&uploaded)?;
/// assert_eq!(bundle.recipient_count(), 1);
/// for (recipient, delivery) in bundle.deliveries() {
///     assert_eq!(recipient, bob.identity().as_bytes());
///     let bytes = delivery.to_vec(); // send to `recipient`
///     # assert_eq!(bytes, forkout::split(&uploaded, bob.identity())?);
/// }
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone)]
pub struct ForkoutBundle<'a> {
    id: &'a [u8; FORKOUT_ID_LEN],
    body: BodyRef<'a>,
    entries: Vec<(&'a [u8; 32], &'a [u8])>,
}

impl<'a> ForkoutBundle<'a> {
    /// Parses a bundle. Each key slot is checked for its framing only (a
    /// relay authenticates nothing): a setup slot's identity key is decoded,
    /// and refused if invalid, when the recipient parses its delivery
    /// ([`ForkoutDelivery::parse`]). That keeps a relay's split at O(slot)
    /// per recipient: decoding an identity key is about 40 µs.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// assert_eq!(bundle.id(), sealed.id());
    /// assert!(ForkoutBundle::parse(&bytes[..40]).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn parse(bytes: &'a [u8]) -> core::result::Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        r.header(MessageType::ForkoutBundle)?;
        let id = as_array(r.take(FORKOUT_ID_LEN)?)?;
        let body = BodyRef::parse(&mut r)?;
        let count = r.count("Forkout recipients", MAX_FORKOUT_RECIPIENTS)?;
        if count == 0 {
            return Err(WireError::InvalidField("Forkout bundle without recipients"));
        }
        // The index is bounded by the count limit and by what the input can
        // actually hold.
        let mut entries = Vec::with_capacity(count.min(r.remaining() / MIN_ENTRY));
        let mut previous: Option<&[u8; 32]> = None;
        for _ in 0..count {
            let recipient = as_array(r.take(32)?)?;
            if previous.is_some_and(|p| p >= recipient) {
                return Err(WireError::InvalidField("Forkout recipient ids not strictly ascending"));
            }
            previous = Some(recipient);
            // Framing only: a relay never authenticates a slot, so the
            // setup's identity key is decoded by the recipient's `open`.
            let slot = r.var_bytes("Forkout slot message", MAX_FORKOUT_SLOT_MESSAGE)?;
            SessionMessage::check_framing(slot)?;
            entries.push((recipient, slot));
        }
        r.finish()?;
        Ok(Self { id, body, entries })
    }

    /// The Forkout's id.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// assert_eq!(bundle.id(), sealed.id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn id(&self) -> ForkoutId {
        ForkoutId::from_bytes(*self.id)
    }

    /// How many recipients the bundle addresses.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// assert_eq!(bundle.recipient_count(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn recipient_count(&self) -> usize {
        self.entries.len()
    }

    /// The recipient ids (identity-key bytes, not validated as keys: a relay
    /// only routes by them), ascending.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// assert_eq!(bundle.recipients().collect::<Vec<_>>(), [bob.identity().as_bytes()]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn recipients(&self) -> impl ExactSizeIterator<Item = &'a [u8; 32]> + '_ {
        self.entries.iter().map(|(id, _)| *id)
    }

    /// Length of the (encrypted) body.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// assert_eq!(bundle.body_len(), 4);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn body_len(&self) -> usize {
        self.body.ciphertext.len()
    }

    /// The delivery for one recipient, or [`ForkoutError::NotARecipient`].
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// assert!(bundle.delivery(bob.identity()).is_ok());
    /// assert!(bundle.delivery(manager.identity()).is_err()); // not a recipient
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn delivery(&self, recipient: &IdentityKey) -> Result<DeliveryRef<'a>> {
        self.delivery_for_id(recipient.as_bytes())
    }

    /// The delivery for a raw recipient id, or [`ForkoutError::NotARecipient`].
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// // A relay that routes by raw id bytes need not parse an identity key.
    /// let id: [u8; 32] = bob.identity().to_bytes();
    /// assert!(bundle.delivery_for_id(&id).is_ok());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn delivery_for_id(&self, recipient: &[u8; 32]) -> Result<DeliveryRef<'a>> {
        let at = self
            .entries
            .binary_search_by(|(id, _)| (*id).cmp(recipient))
            .map_err(|_| Error::Forkout(ForkoutError::NotARecipient))?;
        let (_, slot) = self.entries.get(at).ok_or(Error::Forkout(ForkoutError::NotARecipient))?;
        Ok(DeliveryRef { id: self.id, slot, body: self.body })
    }

    /// Re-encodes the bundle (for the fuzzers' canonical-encoding check).
    #[cfg(any(fuzzing, feature = "test-hooks"))]
    pub(crate) fn reencode(&self) -> Vec<u8> {
        collect(0, |mut out| emit_bundle(self.id, self.body, self.entries.iter().copied(), &mut out))
    }

    /// Every recipient's id and delivery, ascending by id, built lazily.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// for (recipient, delivery) in bundle.deliveries() {
    ///     assert_eq!(recipient, bob.identity().as_bytes());
    ///     assert!(!delivery.to_vec().is_empty());
    /// }
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn deliveries(&self) -> impl ExactSizeIterator<Item = (&'a [u8; 32], DeliveryRef<'a>)> + '_ {
        self.entries.iter().map(|(recipient, slot)| (*recipient, DeliveryRef { id: self.id, slot, body: self.body }))
    }
}

impl core::fmt::Debug for ForkoutBundle<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ForkoutBundle")
            .field("id", &self.id())
            .field("recipients", &self.entries.len())
            .field("body_len", &self.body.ciphertext.len())
            .finish()
    }
}

/// A parsed Forkout delivery (what one recipient receives), borrowing its
/// input. Nothing in it is trustworthy until [`open`](super::open) has
/// authenticated the slot through the recipient's session.
///
/// ```
/// use sealpost::forkout::ForkoutDelivery;
/// assert!(ForkoutDelivery::parse(&[1, 0x21, 0]).is_err());
/// ```
#[derive(Clone)]
pub struct ForkoutDelivery<'a> {
    pub(crate) inner: DeliveryRef<'a>,
    pub(crate) slot: SessionMessage<'a>,
}

impl<'a> ForkoutDelivery<'a> {
    /// Parses a delivery.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let delivery = bundle.delivery(bob.identity())?.to_vec();
    /// let parsed = ForkoutDelivery::parse(&delivery)?;
    /// assert_eq!(parsed.id(), sealed.id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn parse(bytes: &'a [u8]) -> core::result::Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        r.header(MessageType::ForkoutDelivery)?;
        let id = as_array(r.take(FORKOUT_ID_LEN)?)?;
        let slot = parse_slot(&mut r)?;
        let body = BodyRef::parse(&mut r)?;
        r.finish()?;
        Ok(Self { inner: DeliveryRef { id, slot: slot.as_bytes(), body }, slot })
    }

    /// The Forkout id the delivery claims (checked against the slot at
    /// open).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let delivery = bundle.delivery(bob.identity())?.to_vec();
    /// let parsed = ForkoutDelivery::parse(&delivery)?;
    /// assert_eq!(parsed.id(), sealed.id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn id(&self) -> ForkoutId {
        ForkoutId::from_bytes(*self.inner.id)
    }

    /// The key-slot 1:1 message.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let delivery = bundle.delivery(bob.identity())?.to_vec();
    /// let parsed = ForkoutDelivery::parse(&delivery)?;
    /// assert!(sealpost::wire::SessionMessage::parse(parsed.slot_message())?.is_setup());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn slot_message(&self) -> &'a [u8] {
        self.inner.slot
    }

    /// Whether the slot is a session-setup message: if the recipient has no
    /// session with [`Self::claimed_sender`], open with
    /// [`open_new`](super::open_new).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let delivery = bundle.delivery(bob.identity())?.to_vec();
    /// let parsed = ForkoutDelivery::parse(&delivery)?;
    /// assert!(parsed.is_first_contact()); // Bob was reached through his bundle
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_first_contact(&self) -> bool {
        self.slot.is_setup()
    }

    /// For a first-contact slot, the identity it claims to come from
    /// (authenticated only once opened).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let delivery = bundle.delivery(bob.identity())?.to_vec();
    /// let parsed = ForkoutDelivery::parse(&delivery)?;
    /// assert_eq!(parsed.claimed_sender(), Some(*manager.identity())); // unauthenticated until opened
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn claimed_sender(&self) -> Option<IdentityKey> {
        self.slot.claimed_sender()
    }

    /// Length of the (encrypted) body.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let bytes = sealed.to_bytes();
    /// let bundle = ForkoutBundle::parse(&bytes)?;
    /// let delivery = bundle.delivery(bob.identity())?.to_vec();
    /// let parsed = ForkoutDelivery::parse(&delivery)?;
    /// assert_eq!(parsed.body_len(), 4);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn body_len(&self) -> usize {
        self.inner.body.ciphertext.len()
    }
}

impl core::fmt::Debug for ForkoutDelivery<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ForkoutDelivery")
            .field("id", &self.id())
            .field("first_contact", &self.is_first_contact())
            .field("body_len", &self.body_len())
            .finish()
    }
}

/// Cuts one recipient's delivery out of an uploaded bundle, without any
/// key: what a relay runs per recipient. [`ForkoutError::NotARecipient`] if the
/// bundle has no slot for `recipient`.
///
/// ```
/// # use sealpost::Account;
/// # use sealpost::forkout::{self, Recipient, SealPolicy};
/// # let mut rng = sealpost::default_rng();
/// # let sender = Account::new(&mut rng, 0);
/// # let mut bob = Account::new(&mut rng, 0);
/// # let eve = Account::new(&mut rng, 0);
/// # let (sealed, _) = forkout::seal(&sender, b"hi".to_vec(),
/// #     [Recipient::Bundle(bob.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// let uploaded = sealed.to_bytes();
/// let for_bob = forkout::split(&uploaded, bob.identity())?;
/// assert!(forkout::split(&uploaded, eve.identity()).is_err());
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn split(bundle: &[u8], recipient: &IdentityKey) -> Result<Vec<u8>> {
    Ok(ForkoutBundle::parse(bundle)?.delivery(recipient)?.to_vec())
}

/// Cuts every recipient's delivery out of an uploaded bundle: yields
/// `(recipient id, delivery bytes)` ascending by id, building each delivery
/// only when the iterator reaches it.
///
/// ```
/// # use sealpost::Account;
/// # use sealpost::forkout::{self, Recipient, SealPolicy};
/// # let mut rng = sealpost::default_rng();
/// # let sender = Account::new(&mut rng, 0);
/// # let mut bob = Account::new(&mut rng, 0);
/// # let (sealed, _) = forkout::seal(&sender, b"hi".to_vec(),
/// #     [Recipient::Bundle(bob.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// for (recipient, delivery) in forkout::split_all(&sealed.to_bytes())? {
///     // mailbox[recipient].push(delivery)
///     # assert_eq!(&recipient, bob.identity().as_bytes());
///     # assert!(!delivery.is_empty());
/// }
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn split_all(bundle: &[u8]) -> Result<impl ExactSizeIterator<Item = ([u8; 32], Vec<u8>)> + '_> {
    let ForkoutBundle { id, body, entries } = ForkoutBundle::parse(bundle)?;
    Ok(entries.into_iter().map(move |(recipient, slot)| (*recipient, DeliveryRef { id, slot, body }.to_vec())))
}

/// Reads a length-prefixed slot message and parses it as a 1:1 message.
fn parse_slot<'a>(r: &mut Reader<'a>) -> core::result::Result<SessionMessage<'a>, WireError> {
    SessionMessage::parse(r.var_bytes("Forkout slot message", MAX_FORKOUT_SLOT_MESSAGE)?)
}

fn as_array<const N: usize>(bytes: &[u8]) -> core::result::Result<&[u8; N], WireError> {
    bytes.try_into().map_err(|_| WireError::Truncated { needed: N.saturating_sub(bytes.len()) })
}

/// A length as the `u32` prefix (every caller is bounded far below 4 GiB;
/// saturate rather than truncate).
pub(crate) fn len_u32(len: usize) -> [u8; 4] {
    u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes()
}

/// Runs an `emit` function (the one encoder behind each `to_vec` and
/// `write_to`) into one buffer of the given capacity.
pub(crate) fn collect(
    capacity: usize,
    emit: impl FnOnce(&mut dyn FnMut(&[u8]) -> core::result::Result<(), Infallible>) -> core::result::Result<(), Infallible>,
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(capacity);
    let Ok(()) = emit(&mut |piece: &[u8]| {
        buf.extend_from_slice(piece);
        Ok(())
    });
    buf
}

/// Writes a bundle from its parts (used by [`super::SealedForkout`]).
pub(crate) fn emit_bundle<'s, E>(
    id: &[u8; FORKOUT_ID_LEN],
    body: BodyRef<'_>,
    entries: impl ExactSizeIterator<Item = (&'s [u8; 32], &'s [u8])>,
    out: &mut impl FnMut(&[u8]) -> core::result::Result<(), E>,
) -> core::result::Result<(), E> {
    out(&[MessageType::ForkoutBundle.version(), MessageType::ForkoutBundle as u8])?;
    out(id)?;
    body.emit(out)?;
    out(&len_u32(entries.len()))?;
    for (recipient, slot) in entries {
        out(recipient)?;
        out(&len_u32(slot.len()))?;
        out(slot)?;
    }
    Ok(())
}
