//! Forkout: one body to many people, sealed once, each reached 1:1.
//!
//! A manager sends the same update, file or voice note to 200 people who
//! are not a group and must not become one. Nobody learns who else received
//! it, replies go back through the ordinary 1:1 sessions, and a 20 MB file
//! is encrypted once, not 200 times.
//!
//! # How it works
//!
//! 1. **Seal once.** The body is encrypted once (ChaCha20) under a fresh
//!    random 32-byte *body key*, in place in the caller's buffer, and
//!    committed to with BLAKE3.
//! 2. **Wrap per recipient.** Each recipient gets a *key slot*: a ~120-byte
//!    payload (Forkout id, body key, commitment to the encrypted body, body
//!    length, optional Burnout [`Envelope`]) sent as one ordinary 1:1
//!    message through that recipient's Double Ratchet session
//!    (payload kind `0x03`). A recipient without a session is reached
//!    through its [`PreKeyBundle`](crate::PreKeyBundle): the slot is then a
//!    setup message and the new session is handed back to the sender.
//! 3. **Relay split.** The sender uploads one [`ForkoutBundle`]. A relay,
//!    holding no key, cuts out of it the [`ForkoutDelivery`] for each
//!    recipient ([`split`], [`split_all`]): that recipient's slot plus the
//!    shared sealed body, and nothing about anyone else, not even how many
//!    others there are.
//! 4. **Open.** The recipient opens the slot through its session, checks
//!    the body against the commitment, and decrypts the body ([`open`],
//!    [`open_new`] on first contact). Any mismatch is a typed error and
//!    leaves the session and account exactly as they were.
//!
//! ```
//! use sealpost::Account;
//! use sealpost::forkout::{self, Recipient, SealPolicy};
//!
//! let mut rng = sealpost::default_rng();
//! let now = 1_700_000_000_000;
//! let manager = Account::new(&mut rng, now);
//! let mut ann = Account::new(&mut rng, now);
//! let mut bob = Account::new(&mut rng, now);
//! ann.generate_one_time_prekeys(1, &mut rng)?;
//! bob.generate_one_time_prekeys(1, &mut rng)?;
//!
//! // The manager already talks to Ann; Bob is only known by his bundle.
//! let mut to_ann = manager.create_outbound_session(&ann.prekey_bundle()?, &mut rng)?;
//! let hello = to_ann.encrypt(b"hi Ann", &mut rng)?;
//! let (mut ann_session, _) = ann.create_inbound_session(&hello)?;
//!
//! let recipients = vec![Recipient::Session(&mut to_ann), Recipient::Bundle(bob.prekey_bundle()?)];
//! let (sealed, report) = forkout::seal(
//!     &manager, b"Q3 plan attached".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
//! assert!(report.unreachable.is_empty());
//! let mut to_bob = report.new_sessions.into_iter().next().expect("Bob's new session");
//!
//! // The relay splits the bundle without any key.
//! let bundle = sealed.to_bytes();
//! let for_ann = forkout::split(&bundle, ann.identity())?;
//! let for_bob = forkout::split(&bundle, bob.identity())?;
//!
//! let opened = forkout::open(&mut ann, &mut ann_session, &for_ann, now)?;
//! assert_eq!(opened.body(), Some(&b"Q3 plan attached"[..]));
//! let (mut bob_session, opened) = forkout::open_new(&mut bob, &for_bob, now)?;
//! assert_eq!(opened?.body(), Some(&b"Q3 plan attached"[..]));
//!
//! // Bob replies 1:1; Ann never learns he received it.
//! let reply = bob_session.encrypt(b"thanks!", &mut rng)?;
//! assert_eq!(to_bob.decrypt(&reply)?, b"thanks!");
//! # Ok::<(), sealpost::Error>(())
//! ```
//!
//! # Cryptography
//!
//! HKDF-SHA256 turns a fresh random body key `K` and the random Forkout id
//! into a ChaCha20 key and a public *key check*; the body is encrypted once
//! under that key and committed to with BLAKE3 over the id, the key check
//! and the ciphertext. The exact derivations and labels are specified in
//! [FORKOUT](crate::docs::forkout).
//!
//! * **Integrity comes from the commitment**, which every recipient receives
//!   authenticated inside its 1:1 slot and checks (constant time) before
//!   decrypting anything: changing one ciphertext byte means finding a
//!   BLAKE3 second preimage. The body therefore needs no MAC of its own,
//!   and has none: a Poly1305 tag over the body would add a pass and
//!   nothing else (the first design used ChaCha20-Poly1305 plus the
//!   commitment; dropping the tag took sealing 1 MiB to 1000 people from
//!   1.22x to 1.09x of the raw floor, and format version 2's BLAKE3
//!   commitment, several times SHA-256's speed, takes the body below the cost of
//!   one ChaCha20-Poly1305 seal).
//! * The nonce is fixed because the encryption key is used exactly once
//!   (a fresh `K` per Forkout).
//! * **Key commitment.** Neither ChaCha20 nor ChaCha20-Poly1305 is
//!   key-committing: a malicious sender could hand two recipients different
//!   keys for the same ciphertext, and they would read different plaintexts
//!   from identical bytes. The public 32-byte *key check* travels with the
//!   ciphertext, and a recipient accepts a body key only if it derives
//!   exactly that check. HKDF being collision resistant, the body bytes
//!   (which every recipient receives identically) determine the key, and so
//!   the plaintext.
//! * **Same commitment, same body.** Two recipients whose slots carry the
//!   same commitment received byte-identical bodies (BLAKE3 collision
//!   resistance); a swapped, tampered or truncated body is refused with a
//!   typed error before any decryption.
//! * The slot, inside the 1:1 AEAD, binds the Forkout id: a slot moved into
//!   another Forkout's delivery is refused ([`ForkoutError::ForkoutIdMismatch`](crate::error::ForkoutError::ForkoutIdMismatch)).
//! * Authentication of the sender comes from the 1:1 session, as for any
//!   1:1 message: a recipient knows the body comes from its session peer.
//!   There is no sender signature on the body, so a recipient can tell the
//!   relay nothing provable about it (deniability as in 1:1).
//!
//! # Wire formats
//!
//! A bundle holds the sealed body once and one key slot per recipient; a
//! delivery, one slot and the body. The bundle, delivery and slot layouts
//! are specified in [FORKOUT](crate::docs::forkout).
//!
//! * The **recipient id** is the recipient's 32-byte [`IdentityKey`]
//!   encoding: the relay must route each delivery anyway, and needs no other
//!   directory. Entries are sorted by id, strictly ascending (so an id
//!   appears once and the order tells nothing about the sender's list).
//! * A **slot message** is a complete 1:1 message (a ratchet message, or a
//!   setup message on first contact: see [PROTOCOL](crate::docs::protocol))
//!   of at most [`MAX_FORKOUT_SLOT_MESSAGE`](crate::limits::MAX_FORKOUT_SLOT_MESSAGE)
//!   bytes. Its payload, inside the 1:1 AEAD, carries the Forkout id, `K`,
//!   the commitment, the body length and an optional Burnout envelope, under
//!   payload kind `0x03`.
//! * A delivery carries no count, no other id, no other slot: its bytes
//!   depend only on the body and this recipient's slot.
//! * The body sits last in a delivery so a recipient's transport can read
//!   and check the small slot before streaming a large body.
//!
//! # Memory
//!
//! [`seal`] takes the body as an owned buffer and encrypts it in place; a
//! [`SealedForkout`] holds it once plus one small slot per recipient (about
//! 250 bytes). Bundles and deliveries are written on demand
//! ([`SealedForkout::write_to`], [`DeliveryRef::write_to`]) or built one at
//! a time, never one body copy per recipient. Sealing a 1 MiB body to 1000
//! recipients allocates about 0.5 MiB besides the body (see
//! `tests/forkout_memory.rs`).
//!
//! # Burnout
//!
//! An optional [`Envelope`] rides in every slot after the fixed fields,
//! announced by the slot's authenticated flag bit (the `content | envelope`
//! convention of [`crate::burnout`]): authenticated per recipient, the same
//! for all. Sealing refuses an envelope already expired when sent. At open
//! the Burnout rule applies before the body is touched: an expired or
//! malformed envelope is [`BurnoutError::Expired`](crate::error::BurnoutError::Expired) / [`BurnoutError::MalformedEnvelope`](crate::error::BurnoutError::MalformedEnvelope)
//! and uses up the slot's 1:1 message key (the body can never be read; on
//! first contact the new session is still returned, see [`open_new`]); a
//! slot sent too far in the future is [`BurnoutError::ClockSkew`](crate::error::BurnoutError::ClockSkew) and changes
//! nothing. A body under an envelope is handed out only as a zeroizing
//! [`BurnoutMessage`](crate::burnout::BurnoutMessage)
//! ([`OpenedForkout::into_opened`]), which the
//! [`Vault`](crate::burnout::Vault) keeps under its rule (burn-after-reading
//! included).
//!
//! [`ForkoutError::ForkoutIdMismatch`]: crate::error::ForkoutError::ForkoutIdMismatch
//! [`BurnoutError::Expired`]: crate::error::BurnoutError::Expired
//! [`BurnoutError::MalformedEnvelope`]: crate::error::BurnoutError::MalformedEnvelope
//! [`BurnoutError::ClockSkew`]: crate::error::BurnoutError::ClockSkew

mod body;
mod bundle;
mod open;
mod seal;

use core::fmt;

use rand_core::CryptoRng;

pub use crate::error::{Unreachable, UnreachableReason};
pub use bundle::{DeliveryRef, ForkoutBundle, ForkoutDelivery, split, split_all};
pub use open::{OpenedForkout, open, open_new};
pub use seal::{ForkoutPlan, Recipient, SealPolicy, SealReport, SealedForkout, seal};

#[cfg(doc)]
use crate::{burnout::Envelope, identity::IdentityKey};

/// Length of a [`ForkoutId`].
pub const FORKOUT_ID_LEN: usize = 32;

/// A Forkout's random identifier, the same for every recipient.
///
/// Not secret: it appears in clear in bundles and deliveries. Apps can use
/// it to recognise the same update arriving twice.
///
/// ```
/// use sealpost::forkout::ForkoutId;
/// let id = ForkoutId::from_bytes([7; 32]);
/// assert_eq!(id.to_bytes(), [7; 32]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ForkoutId([u8; FORKOUT_ID_LEN]);

crate::text::hex_text!(ForkoutId, FORKOUT_ID_LEN, "Forkout id (64 lower-case hex digits)", |f| f.0, |bytes| Ok(
    ForkoutId(bytes)
));

impl ForkoutId {
    /// Wraps 32 bytes.
    ///
    /// ```
    /// use sealpost::forkout::ForkoutId;
    /// let id = ForkoutId::from_bytes([9; 32]);
    /// assert_eq!(id.to_string().parse::<ForkoutId>()?, id); // hex text form
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_bytes(bytes: [u8; FORKOUT_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    ///
    /// ```
    /// use sealpost::forkout::ForkoutId;
    /// assert_eq!(ForkoutId::from_bytes([9; 32]).to_bytes(), [9; 32]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> [u8; FORKOUT_ID_LEN] {
        self.0
    }

    /// Borrows the 32 bytes.
    ///
    /// ```
    /// use sealpost::forkout::ForkoutId;
    /// assert_eq!(ForkoutId::from_bytes([9; 32]).as_bytes(), &[9; 32]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8; FORKOUT_ID_LEN] {
        &self.0
    }

    pub(crate) fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut id = [0u8; FORKOUT_ID_LEN];
        rng.fill_bytes(&mut id);
        Self(id)
    }
}

impl fmt::Debug for ForkoutId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ForkoutId(")?;
        for b in self.0.iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

#[cfg(test)]
mod tests;
