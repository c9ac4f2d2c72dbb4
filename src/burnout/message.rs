//! An opened Burnout message, and the result of opening any application
//! message (1:1, group, Forkout).

use core::fmt;

use zeroize::Zeroizing;

use super::envelope::Envelope;
use crate::error::Result;
use crate::identity::IdentityKey;

/// An opened Burnout message: plaintext (zeroized on drop), its
/// authenticated [`Envelope`] and its sender.
///
/// It is deliberately not `Clone` and its `Debug` output shows no content.
/// Store it in a [`Vault`](super::Vault), which enforces the envelope on
/// every read, or take the plaintext out once with
/// [`Self::into_plaintext`].
///
/// ```
/// use sealpost::burnout::{BurnoutMessage, Envelope};
/// use sealpost::IdentityKeyPair;
/// let me = IdentityKeyPair::generate(&mut sealpost::default_rng());
/// let now = 1_700_000_000_000;
/// // The sender's own copy of what it just sent, under the same rule.
/// let copy = BurnoutMessage::outgoing(b"door code 4711", Envelope::with_ttl(now, 60_000), *me.public());
/// assert!(copy.is_outgoing());
/// assert!(!format!("{copy:?}").contains("4711"));
/// assert_eq!(copy.into_plaintext(now + 1)?.as_slice(), b"door code 4711");
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct BurnoutMessage {
    plaintext: Zeroizing<Vec<u8>>,
    envelope: Envelope,
    sender: IdentityKey,
    outgoing: bool,
}

impl BurnoutMessage {
    /// A message received from `sender` (built by the opening functions of
    /// 1:1, group and Forkout after the envelope was checked).
    pub(crate) fn received(plaintext: Zeroizing<Vec<u8>>, envelope: Envelope, sender: IdentityKey) -> Self {
        Self { plaintext, envelope, sender, outgoing: false }
    }

    /// Restores an entry from a vault export.
    pub(crate) fn restored(
        plaintext: Zeroizing<Vec<u8>>,
        envelope: Envelope,
        sender: IdentityKey,
        outgoing: bool,
    ) -> Self {
        Self { plaintext, envelope, sender, outgoing }
    }

    /// The sender's own copy of a message it sent, to keep in its
    /// [`Vault`](super::Vault) under the same rule as the recipients'
    /// copies. `own_identity` is the local identity (the sender).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let copy = BurnoutMessage::outgoing(b"the code is 4711", Envelope::with_ttl(1_000, 60_000), me);
    /// assert!(copy.is_outgoing()); // our own copy, kept under the same rule
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn outgoing(plaintext: &[u8], envelope: Envelope, own_identity: IdentityKey) -> Self {
        Self { plaintext: Zeroizing::new(plaintext.to_vec()), envelope, sender: own_identity, outgoing: true }
    }

    /// The authenticated envelope.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let copy = BurnoutMessage::outgoing(b"the code is 4711", Envelope::with_ttl(1_000, 60_000), me);
    /// assert_eq!(copy.envelope().expires_at_ms(), Some(61_000));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// Who sent the message (our own identity for an
    /// [outgoing](Self::outgoing) copy).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let copy = BurnoutMessage::outgoing(b"the code is 4711", Envelope::with_ttl(1_000, 60_000), me);
    /// assert_eq!(copy.sender(), &me);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn sender(&self) -> &IdentityKey {
        &self.sender
    }

    /// Whether this is the sender's own copy.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let copy = BurnoutMessage::outgoing(b"the code is 4711", Envelope::with_ttl(1_000, 60_000), me);
    /// assert!(copy.is_outgoing());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_outgoing(&self) -> bool {
        self.outgoing
    }

    /// Length of the plaintext in bytes.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let copy = BurnoutMessage::outgoing(b"the code is 4711", Envelope::with_ttl(1_000, 60_000), me);
    /// assert_eq!(copy.plaintext_len(), 16); // without reading it
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn plaintext_len(&self) -> usize {
        self.plaintext.len()
    }

    /// Takes the plaintext out, once (the message is consumed, so a
    /// burn-after-reading message is read at most once this way too).
    /// Refused with [`BurnoutError::Expired`](crate::error::BurnoutError::Expired) at or after
    /// the expiry, in which case the plaintext is zeroized.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, burnout::{BurnoutMessage, Envelope}};
    /// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
    /// let copy = BurnoutMessage::outgoing(b"the code is 4711", Envelope::with_ttl(1_000, 60_000), me);
    /// assert_eq!(copy.into_plaintext(2_000)?.as_slice(), b"the code is 4711");
    /// let late = BurnoutMessage::outgoing(b"too late", Envelope::with_ttl(1_000, 60_000), me);
    /// assert!(late.into_plaintext(61_000).is_err()); // expired: refused, never returned
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn into_plaintext(self, now_ms: u64) -> Result<Zeroizing<Vec<u8>>> {
        self.envelope.check_expiry(now_ms)?;
        Ok(self.plaintext)
    }

    /// Borrows the plaintext (for the vault).
    pub(crate) fn plaintext(&self) -> &[u8] {
        &self.plaintext
    }

    /// Takes the plaintext buffer (for the vault's burn-after-reading read).
    pub(crate) fn take_plaintext(self) -> Zeroizing<Vec<u8>> {
        self.plaintext
    }
}

impl fmt::Debug for BurnoutMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BurnoutMessage")
            .field("plaintext_len", &self.plaintext.len())
            .field("envelope", &self.envelope)
            .field("sender", &self.sender)
            .field("outgoing", &self.outgoing)
            .finish()
    }
}

/// Any opened application message: a plain one or a Burnout one.
///
/// The kind of a message is inside its ciphertext, so a receiver learns it
/// only by opening; [`Session::open`](crate::Session::open) and
/// [`Account::open`](crate::Account::open) open both kinds in one call, and
/// group messages ([`GroupPlaintext`](crate::group::GroupPlaintext)) and
/// Forkouts ([`OpenedForkout`](crate::forkout::OpenedForkout)) hand their
/// content out as one. Burnout content is only ever handed out as
/// [`Opened::Burnout`]. `Debug` shows no content.
// Returned once and matched at once: boxing the larger variant would cost
// an allocation per message for no benefit.
#[allow(clippy::large_enum_variant)]
///
/// ```
/// use sealpost::{Account, burnout::{Envelope, Opened}};
/// let mut rng = sealpost::default_rng();
/// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
/// for m in [to_bob.encrypt(b"plain", &mut rng)?, to_bob.encrypt_burnout(b"brief", &Envelope::with_ttl(0, 60_000), &mut rng)?] {
///     match to_alice.open(&m, 1_000)? {
///         Opened::Message(text) => assert_eq!(text, b"plain"),
///         Opened::Burnout(message) => assert_eq!(message.plaintext_len(), 5), // into the vault
///     }
/// }
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum Opened {
    /// An ordinary message (as [`Session::decrypt`](crate::Session::decrypt)
    /// returns it).
    Message(Vec<u8>),
    /// A Burnout message whose envelope was checked.
    Burnout(BurnoutMessage),
}

impl Opened {
    /// The plaintext of an ordinary message, if this is one.
    ///
    /// ```
    /// use sealpost::{Account, burnout::Opened};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// let opened: Opened = to_alice.open(&to_bob.encrypt(b"plain", &mut rng)?, 0)?;
    /// assert_eq!(opened.into_message(), Some(b"plain".to_vec()));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn into_message(self) -> Option<Vec<u8>> {
        match self {
            Self::Message(m) => Some(m),
            Self::Burnout(_) => None,
        }
    }

    /// The Burnout message, if this is one.
    ///
    /// ```
    /// use sealpost::{Account, burnout::Envelope};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// let m = to_bob.encrypt_burnout(b"brief", &Envelope::with_ttl(0, 5_000), &mut rng)?;
    /// let burnout = to_alice.open(&m, 1_000)?.into_burnout().unwrap();
    /// assert_eq!(burnout.into_plaintext(1_000)?.as_slice(), b"brief");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn into_burnout(self) -> Option<BurnoutMessage> {
        match self {
            Self::Burnout(m) => Some(m),
            Self::Message(_) => None,
        }
    }
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(m) => f.debug_struct("Message").field("len", &m.len()).finish(),
            Self::Burnout(m) => f.debug_tuple("Burnout").field(m).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::identity::IdentityKeyPair;

    fn identity() -> IdentityKey {
        *IdentityKeyPair::generate(&mut StdRng::seed_from_u64(31)).public()
    }

    /// The accessors, the expiry rule of `into_plaintext` and the
    /// length-only `Debug` (mutation testing runs the unit tests only,
    /// where the doc examples showing the same do not run).
    #[test]
    fn a_burnout_message_says_what_it_holds_and_gives_its_text_only_before_expiry() {
        let sender = identity();
        let envelope = Envelope::with_ttl(1_000, 500);
        let received = BurnoutMessage::received(Zeroizing::new(b"secret words".to_vec()), envelope, sender);
        assert_eq!((received.envelope(), received.sender(), received.is_outgoing()), (&envelope, &sender, false));
        assert_eq!(received.plaintext_len(), 12);
        assert_eq!(received.plaintext(), b"secret words");
        let shown = format!("{received:?}");
        assert!(shown.starts_with("BurnoutMessage { plaintext_len: 12, envelope: "), "{shown}");
        assert!(shown.ends_with(&format!("sender: {sender:?}, outgoing: false }}")), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
        let opened = Opened::Burnout(received);
        assert_eq!(format!("{opened:?}"), format!("Burnout({shown})"));
        let received = opened.into_burnout().unwrap();
        assert_eq!(&*received.clone_for_test().into_plaintext(1_499).unwrap(), b"secret words");
        assert!(received.into_plaintext(1_500).is_err());

        let sent = BurnoutMessage::outgoing(b"mine", envelope, sender);
        assert!(sent.is_outgoing());
        assert_eq!(&*sent.take_plaintext(), b"mine");
        let restored = BurnoutMessage::restored(Zeroizing::new(b"x".to_vec()), envelope, sender, true);
        assert!(restored.is_outgoing());
        assert!(Opened::Burnout(restored).into_message().is_none());
    }

    #[test]
    fn an_opened_message_is_one_or_the_other() {
        let message = Opened::Message(b"plain".to_vec());
        assert_eq!(format!("{message:?}"), "Message { len: 5 }");
        assert!(Opened::Message(Vec::new()).into_burnout().is_none());
        assert_eq!(message.into_message().unwrap(), b"plain");
    }

    impl BurnoutMessage {
        fn clone_for_test(&self) -> Self {
            Self::restored(self.plaintext.clone(), self.envelope, self.sender, self.outgoing)
        }
    }
}
