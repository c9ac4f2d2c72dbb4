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
    pub fn outgoing(plaintext: &[u8], envelope: Envelope, own_identity: IdentityKey) -> Self {
        Self { plaintext: Zeroizing::new(plaintext.to_vec()), envelope, sender: own_identity, outgoing: true }
    }

    /// The authenticated envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// Who sent the message (our own identity for an
    /// [outgoing](Self::outgoing) copy).
    pub fn sender(&self) -> &IdentityKey {
        &self.sender
    }

    /// Whether this is the sender's own copy.
    pub fn is_outgoing(&self) -> bool {
        self.outgoing
    }

    /// Length of the plaintext in bytes.
    pub fn plaintext_len(&self) -> usize {
        self.plaintext.len()
    }

    /// Takes the plaintext out, once (the message is consumed, so a
    /// burn-after-reading message is read at most once this way too).
    /// Refused with [`BurnoutError::Expired`](crate::error::BurnoutError::Expired) at or after
    /// the expiry, in which case the plaintext is zeroized.
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
pub enum Opened {
    /// An ordinary message (as [`Session::decrypt`](crate::Session::decrypt)
    /// returns it).
    Message(Vec<u8>),
    /// A Burnout message whose envelope was checked.
    Burnout(BurnoutMessage),
}

impl Opened {
    /// The plaintext of an ordinary message, if this is one.
    pub fn into_message(self) -> Option<Vec<u8>> {
        match self {
            Self::Message(m) => Some(m),
            Self::Burnout(_) => None,
        }
    }

    /// The Burnout message, if this is one.
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
