//! Versioned, encrypted export and import of state.
//!
//! Every stateful type ([`Account`](crate::Account),
//! [`Session`](crate::Session), [`Group`](crate::group::Group),
//! [`Vault`](crate::burnout::Vault)) implements [`Persist`]: `to_bytes`
//! gives a versioned plaintext serialization (secrets included, returned in
//! a zeroizing buffer), and [`Persist::export_encrypted`] seals it under a
//! caller-supplied 32-byte key so state at rest is never plaintext.
//!
//! An export (type byte `0x3f`, format version 2) carries, authenticated
//! with the state:
//!
//! * the inner state's **type**;
//! * a **generation**: every object counts its own encrypted exports, and
//!   each export carries the new count. A later export of the same object
//!   has a higher generation, so an older one can be told apart: an app that
//!   keeps the last generation it wrote somewhere rollback-resistant (a
//!   hardware-backed counter, its server) refuses anything older with
//!   [`Persist::import_encrypted_for`]'s `min_generation`, and a restored
//!   backup cannot bring back a consumed one-time prekey, burned vault
//!   entries or read messages unnoticed;
//! * a **context** chosen by the app (which object, which peer): an export
//!   made for one context does not import for another
//!   ([`Error::ExportContextMismatch`](crate::Error::ExportContextMismatch)),
//!   so a session saved for peer P cannot be loaded as the session for Q.
//!
//! The layout is specified in [PROTOCOL](crate::docs::protocol). The nonce
//! is random (24 bytes, so random nonces are safe for any realistic number
//! of exports under one key). A wrong key, a corrupted byte, or an export of
//! another type is a typed error.
//!
//! ```
//! use sealpost::{Account, Error, Persist};
//! let mut rng = sealpost::default_rng();
//! let mut account = Account::new(&mut rng, 0);
//! let key = [7u8; 32];
//! let older = account.export_encrypted_for(&key, b"account", &mut rng);
//! let newer = account.export_encrypted_for(&key, b"account", &mut rng);
//! assert_eq!(account.export_generation(), 2);
//!
//! // The app remembered (somewhere a restore cannot roll back) that it
//! // wrote generation 2: the older export is refused.
//! assert_eq!(
//!     Account::import_encrypted_for(&key, &older, b"account", 2).err(),
//!     Some(Error::ExportRolledBack { generation: 1, minimum: 2 })
//! );
//! let restored = Account::import_encrypted_for(&key, &newer, b"account", 2)?;
//! assert_eq!(restored.identity(), account.identity());
//! assert!(Account::import_encrypted_for(&[8u8; 32], &newer, b"account", 0).is_err());
//! assert_eq!(Account::import_encrypted_for(&key, &newer, b"other", 0).err(), Some(Error::ExportContextMismatch));
//! # Ok::<(), sealpost::Error>(())
//! ```

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, TAG_LEN, label};
use crate::error::{Error, Result, WireError};
use crate::limits::MAX_STATE;
use crate::wire::MessageType;
use crate::wire::codec::Reader;

/// Length of the export header before the nonce: version, type, inner type,
/// generation, context digest.
const HEADER_LEN: usize = 3 + 8 + 32;

/// Largest encrypted export: a [`MAX_STATE`] serialization plus the export
/// header, nonce (24) and tag (16).
const MAX_EXPORT: usize = MAX_STATE + HEADER_LEN + 24 + TAG_LEN;

/// A fresh random 32-byte key for [`Persist::export_encrypted`], from the
/// operating system's randomness; zeroized on drop. Keep it in the
/// platform's keychain, apart from the exports it seals.
///
/// ```
/// use sealpost::{Account, Persist};
/// let key = sealpost::generate_export_key();
/// let mut account = Account::new(&mut sealpost::default_rng(), 0);
/// let export = account.export_encrypted(&key, &mut sealpost::default_rng());
/// assert_eq!(Account::import_encrypted(&key, &export)?.identity(), account.identity());
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn generate_export_key() -> zeroize::Zeroizing<[u8; 32]> {
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::Rng::fill_bytes(&mut crate::default_rng(), key.as_mut());
    key
}

/// State that can be saved and restored.
///
/// Implemented by [`Account`](crate::Account), [`Session`](crate::Session),
/// [`Group`](crate::group::Group) and [`Vault`](crate::burnout::Vault); it
/// cannot be implemented outside this crate.
///
/// ```
/// use sealpost::{Account, Persist, generate_export_key};
/// let mut rng = sealpost::default_rng();
/// let mut account = Account::new(&mut rng, 0);
/// let key = generate_export_key(); // keep it in the platform keystore
/// let saved = account.export_encrypted(&key, &mut rng);
/// let restored = Account::import_encrypted(&key, &saved)?;
/// assert_eq!(restored.identity(), account.identity());
/// assert!(Account::import_encrypted(&[0; 32], &saved).is_err()); // wrong key
/// # Ok::<(), sealpost::Error>(())
/// ```
pub trait Persist: Sized + sealed::Generation {
    /// The type byte of the plaintext serialization.
    const STATE_TYPE: MessageType;

    /// Versioned plaintext serialization, secrets included.
    fn to_bytes(&self) -> Zeroizing<Vec<u8>>;

    /// Restores from [`Self::to_bytes`].
    fn from_bytes(bytes: &[u8]) -> Result<Self>;

    /// How many encrypted exports of this state were made (0 if none): the
    /// generation the newest export carries. Restored with the state.
    fn export_generation(&self) -> u64 {
        self.generation()
    }

    /// [`Self::export_encrypted_for`] with the empty context.
    fn export_encrypted<R: CryptoRng + ?Sized>(&mut self, key: &[u8; 32], rng: &mut R) -> Vec<u8> {
        self.export_encrypted_for(key, &[], rng)
    }

    /// Serializes and seals under `key`, bound to `context` (any bytes the
    /// app chooses, for example which object and which peer), with the next
    /// generation: this object's [`Self::export_generation`] goes up by one
    /// and the export carries the new value.
    fn export_encrypted_for<R: CryptoRng + ?Sized>(&mut self, key: &[u8; 32], context: &[u8], rng: &mut R) -> Vec<u8> {
        let generation = self.generation().saturating_add(1);
        self.set_generation(generation);
        let header = ExportHeader { inner: Self::STATE_TYPE, generation, context: context_digest(context) };
        seal(key, &header, &self.to_bytes(), rng)
    }

    /// [`Self::import_encrypted_for`] with the empty context and no
    /// minimum generation.
    fn import_encrypted(key: &[u8; 32], export: &[u8]) -> Result<Self> {
        Self::import_encrypted_for(key, export, &[], 0)
    }

    /// Opens an export made by [`Self::export_encrypted_for`] with the same
    /// `context` and restores it.
    ///
    /// Errors: [`Error::ExportContextMismatch`] for an export made for
    /// another context; [`Error::ExportRolledBack`] when its generation is
    /// below `min_generation` (pass the last generation the app wrote, from
    /// storage a restore cannot roll back, or 0 to accept any);
    /// [`Error::ExportCorrupted`] for a wrong key or altered bytes (the
    /// generation and context are authenticated, so they cannot be
    /// relabelled); [`Error::Wire`] for malformed bytes or another type.
    fn import_encrypted_for(key: &[u8; 32], export: &[u8], context: &[u8], min_generation: u64) -> Result<Self> {
        let (header, plain) = open(key, Self::STATE_TYPE, export, &context_digest(context))?;
        if header.generation < min_generation {
            return Err(Error::ExportRolledBack { generation: header.generation, minimum: min_generation });
        }
        let state = Self::from_bytes(&plain)?;
        if state.generation() != header.generation {
            return Err(Error::InvalidState("export generation differs from the state's"));
        }
        Ok(state)
    }
}

pub(crate) mod sealed {
    /// The export counter every persisted type keeps in its state; private,
    /// so only [`Persist`](super::Persist)'s export moves it.
    #[allow(unreachable_pub, reason = "the sealed-trait pattern: public, but not nameable outside the crate")]
    pub trait Generation {
        /// The current export generation.
        fn generation(&self) -> u64;
        /// Sets it (only [`Persist::export_encrypted_for`](super::Persist::export_encrypted_for) does).
        fn set_generation(&mut self, generation: u64);
    }
}

/// What an export says about itself before it is opened (unauthenticated
/// until then).
pub(crate) struct ExportHeader {
    pub(crate) inner: MessageType,
    pub(crate) generation: u64,
    pub(crate) context: [u8; 32],
}

impl ExportHeader {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (prefix, rest) = out.split_at_mut(3);
        prefix.copy_from_slice(&[
            MessageType::EncryptedExport.version(),
            MessageType::EncryptedExport as u8,
            self.inner as u8,
        ]);
        let (generation, context) = rest.split_at_mut(8);
        generation.copy_from_slice(&self.generation.to_be_bytes());
        context.copy_from_slice(&self.context);
        out
    }
}

/// The context as it is bound into an export: its SHA-256, so a context of
/// any length fits and none is refused.
pub(crate) fn context_digest(context: &[u8]) -> [u8; 32] {
    crypto::sha256(&[label::EXPORT, b" context", context])
}

fn associated_data(header: &[u8; HEADER_LEN]) -> Vec<u8> {
    let mut ad = label::EXPORT.to_vec();
    ad.extend_from_slice(header);
    ad
}

/// Seals serialized state under `key` with `header`.
pub(crate) fn seal<R: CryptoRng + ?Sized>(
    key: &[u8; 32],
    header: &ExportHeader,
    plaintext: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    seal_with_nonce(key, header, plaintext, &nonce)
}

/// [`seal`] with a given nonce. Crate-internal: the fuzz targets use it to
/// check that an export is the canonical sealing of its plaintext.
pub(crate) fn seal_with_nonce(key: &[u8; 32], header: &ExportHeader, plaintext: &[u8], nonce: &[u8; 24]) -> Vec<u8> {
    let header = header.encode();
    let mut out = Vec::with_capacity(HEADER_LEN + 24 + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&header);
    out.extend_from_slice(nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    if let Some(body) = out.get_mut(start..) {
        let tag = crypto::xseal_in_place(key, nonce, &associated_data(&header), body);
        out.extend_from_slice(&tag);
    }
    out
}

/// Opens an export of type `inner` bound to `context` (its digest).
pub(crate) fn open(
    key: &[u8; 32],
    inner: MessageType,
    export: &[u8],
    context: &[u8; 32],
) -> Result<(ExportHeader, Zeroizing<Vec<u8>>)> {
    if export.len() > MAX_EXPORT {
        return Err(WireError::TooLarge { what: "state export", len: export.len(), max: MAX_EXPORT }.into());
    }
    let mut r = Reader::new(export);
    r.header(MessageType::EncryptedExport)?;
    let found = r.u8()?;
    if found != inner as u8 {
        return Err(WireError::UnexpectedType { found, expected: inner as u8 }.into());
    }
    let header = ExportHeader { inner, generation: r.u64()?, context: r.array()? };
    if &header.context != context {
        return Err(Error::ExportContextMismatch);
    }
    let nonce: [u8; 24] = r.array()?;
    let (body, tag) = crypto::split_tag(r.rest())?;
    let mut buf = Zeroizing::new(body.to_vec());
    crypto::xopen_in_place(key, &nonce, &associated_data(&header.encode()), &mut buf, &tag)
        .map_err(|_| Error::ExportCorrupted)?;
    Ok((header, buf))
}

/// Implements [`Persist`] for a type that has inherent `to_bytes` and
/// `from_bytes` (so callers need not import the trait for those two) and an
/// `export_generation: u64` field saved in its state: used beside each such
/// type.
macro_rules! persist_via_inherent {
    ($ty:ty, $state:expr) => {
        impl $crate::persist::Persist for $ty {
            const STATE_TYPE: $crate::wire::MessageType = $state;
            fn to_bytes(&self) -> ::zeroize::Zeroizing<Vec<u8>> {
                <$ty>::to_bytes(self)
            }
            fn from_bytes(bytes: &[u8]) -> $crate::error::Result<Self> {
                <$ty>::from_bytes(bytes)
            }
        }

        $crate::persist::generation_in_field!($ty);
    };
}
pub(crate) use persist_via_inherent;

/// Implements the sealed export counter for a type that keeps it in an
/// `export_generation: u64` field saved with its state.
macro_rules! generation_in_field {
    ($ty:ty) => {
        impl $crate::persist::sealed::Generation for $ty {
            fn generation(&self) -> u64 {
                self.export_generation
            }
            fn set_generation(&mut self, generation: u64) {
                self.export_generation = generation;
            }
        }
    };
}
pub(crate) use generation_in_field;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use crate::account::Account;

    #[test]
    fn an_older_export_is_detected_and_refused_on_request() {
        // The finding: restoring an older account export brings a consumed
        // one-time prekey back. With the generation, an app that remembers
        // what it last wrote refuses the old export.
        let mut rng = StdRng::seed_from_u64(1);
        let key = [3u8; 32];
        let alice = Account::new(&mut rng, 0);
        let mut bob = Account::new(&mut rng, 0);
        bob.generate_one_time_prekeys(1, &mut rng).unwrap();
        let before_setup = bob.export_encrypted(&key, &mut rng);
        let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng).unwrap()).unwrap();
        let after_setup = bob.export_encrypted(&key, &mut rng);
        assert_eq!(bob.export_generation(), 2);

        let old = Account::import_encrypted(&key, &before_setup).unwrap();
        assert_eq!((old.export_generation(), old.remaining_one_time_prekeys()), (1, 1), "the prekey is back");
        assert_eq!(
            Account::import_encrypted_for(&key, &before_setup, &[], 2).err(),
            Some(Error::ExportRolledBack { generation: 1, minimum: 2 })
        );
        let current = Account::import_encrypted_for(&key, &after_setup, &[], 2).unwrap();
        assert_eq!(current.remaining_one_time_prekeys(), 0);
        // The next export continues the count.
        let mut current = current;
        let _ = current.export_encrypted(&key, &mut rng);
        assert_eq!(current.export_generation(), 3);

        // The generation is authenticated: relabelling an old export fails.
        let mut relabelled = before_setup.clone();
        relabelled[3..11].copy_from_slice(&9u64.to_be_bytes());
        assert_eq!(Account::import_encrypted_for(&key, &relabelled, &[], 2).err(), Some(Error::ExportCorrupted));
    }

    #[test]
    fn an_export_for_one_context_does_not_import_for_another() {
        let mut rng = StdRng::seed_from_u64(2);
        let key = [4u8; 32];
        let mut account = Account::new(&mut rng, 0);
        let for_peer_p = account.export_encrypted_for(&key, b"session with P", &mut rng);
        assert_eq!(
            Account::import_encrypted_for(&key, &for_peer_p, b"session with Q", 0).err(),
            Some(Error::ExportContextMismatch)
        );
        assert_eq!(Account::import_encrypted(&key, &for_peer_p).err(), Some(Error::ExportContextMismatch));
        assert!(Account::import_encrypted_for(&key, &for_peer_p, b"session with P", 0).is_ok());
        // The context is authenticated too: swapping in another digest fails.
        let mut swapped = for_peer_p.clone();
        swapped[11..43].copy_from_slice(&context_digest(b"session with Q"));
        assert_eq!(
            Account::import_encrypted_for(&key, &swapped, b"session with Q", 0).err(),
            Some(Error::ExportCorrupted)
        );
    }

    #[test]
    fn the_export_limit_is_what_the_largest_state_seals_to() {
        // An export is its state plus a fixed overhead (header, nonce,
        // tag): measured on a real export, the limit must be exactly the
        // largest state plus that overhead, so that every state the
        // library can make can be restored, and nothing larger is read.
        let mut rng = StdRng::seed_from_u64(5);
        let mut account = Account::new(&mut rng, 0);
        let state_len = account.to_bytes().len();
        let overhead = account.export_encrypted(&[7; 32], &mut rng).len() - state_len;
        assert_eq!(overhead, HEADER_LEN + 24 + TAG_LEN);
        assert_eq!(MAX_EXPORT, MAX_STATE + overhead);
    }

    #[test]
    fn export_keys_are_fresh_random_keys() {
        let (a, b) = (generate_export_key(), generate_export_key());
        assert_ne!(*a, *b);
        for key in [a, b] {
            // Not a constant fill (a chance of 2^-248 per key to misfire).
            assert!(key.iter().any(|&byte| byte != key[0]));
        }
    }

    #[test]
    fn an_oversized_export_reports_the_real_limit() {
        let export = vec![0u8; MAX_EXPORT + 1];
        let err = open(&[0; 32], MessageType::AccountState, &export, &[0; 32]).err();
        let expected = WireError::TooLarge { what: "state export", len: MAX_EXPORT + 1, max: MAX_EXPORT };
        assert_eq!(err, Some(Error::Wire(expected)));
        // At the limit, the size check passes (and the bytes are refused for
        // what they are).
        let at_limit = vec![0u8; MAX_EXPORT];
        assert!(matches!(
            open(&[0; 32], MessageType::AccountState, &at_limit, &[0; 32]),
            Err(Error::Wire(WireError::UnexpectedType { found: 0, .. }))
        ));
    }
}
