//! Long-term identity keys and safety numbers.
//!
//! An identity is a single Ed25519 key pair. Its X25519 agreement key is
//! **derived** from it by the standard birational map (the same conversion
//! as libsodium's `crypto_sign_ed25519_sk_to_curve25519`): the X25519
//! secret is the clamped lower half of `SHA-512(seed)` (the Ed25519 signing
//! scalar), and the X25519 public key is the Montgomery form of the Ed25519
//! public point. The two keys are therefore bound by construction: whoever
//! holds the 32-byte [`IdentityKey`] knows both, and nobody can pair an
//! Ed25519 key with a foreign X25519 key. Signal reaches the same goal the
//! other way round (an X25519 key that also signs, via XEdDSA).

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::Zeroizing;

use crate::error::{Error, Result, WireError};

/// Length of an encoded [`IdentityKey`].
pub(crate) const IDENTITY_KEY_LEN: usize = 32;

/// A public identity: what peers pin, compare and address.
///
/// ```
/// use sealpost::IdentityKeyPair;
/// let alice = IdentityKeyPair::generate(&mut rand::rng());
/// let bytes = alice.public().to_bytes();
/// let parsed = sealpost::IdentityKey::from_bytes(&bytes)?;
/// assert_eq!(parsed, *alice.public());
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct IdentityKey {
    signing: VerifyingKey,
    agreement: X25519Public,
}

impl IdentityKey {
    /// Parses a 32-byte Ed25519 public key, refusing non-canonical and
    /// small-order points.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; IDENTITY_KEY_LEN] =
            bytes.try_into().map_err(|_| WireError::InvalidField("identity key length"))?;
        let signing = VerifyingKey::from_bytes(&arr).map_err(|_| WireError::InvalidField("identity key"))?;
        // Refuse small-order points and non-canonical encodings.
        if signing.is_weak() || !is_canonical_y(&arr) {
            return Err(WireError::InvalidField("identity key").into());
        }
        Ok(Self { agreement: X25519Public::from(signing.to_montgomery().to_bytes()), signing })
    }

    /// The 32-byte encoding (the Ed25519 public key).
    pub fn to_bytes(&self) -> [u8; IDENTITY_KEY_LEN] {
        self.signing.to_bytes()
    }

    /// Borrows the 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; IDENTITY_KEY_LEN] {
        self.signing.as_bytes()
    }

    /// Verifies an Ed25519 signature made by this identity (strict
    /// verification: no malleable or small-order signatures).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64], what: &'static str) -> Result<()> {
        let sig = Signature::from_bytes(signature);
        self.signing.verify_strict(message, &sig).map_err(|_| Error::InvalidSignature(what))
    }

    pub(crate) fn agreement_key(&self) -> &X25519Public {
        &self.agreement
    }
}

impl PartialEq for IdentityKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for IdentityKey {}

impl core::hash::Hash for IdentityKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for IdentityKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IdentityKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityKey(")?;
        for b in self.as_bytes().iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// Whether the y coordinate of a compressed Edwards point is below
/// p = 2^255 - 19. (A non-canonical x sign only occurs for x = 0, whose two
/// points are of small order and refused separately.)
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    let (first, rest) = bytes.split_at(1);
    let (middle, last) = rest.split_at(30);
    // y >= p exactly when the low 255 bits are 0x7fff...ffed or above.
    let low_byte_high = first.iter().all(|b| *b >= 0xed);
    let middle_all_ones = middle.iter().all(|b| *b == 0xff);
    let top_all_ones = last.iter().all(|b| *b & 0x7f == 0x7f);
    !(low_byte_high && middle_all_ones && top_all_ones)
}

/// A long-term identity key pair. Secret: zeroized on drop, never printed.
///
/// ```
/// use sealpost::IdentityKeyPair;
/// let id = IdentityKeyPair::generate(&mut rand::rng());
/// let sig = id.sign(b"hello");
/// id.public().verify(b"hello", &sig, "test")?;
/// assert!(id.public().verify(b"hullo", &sig, "test").is_err());
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone)]
pub struct IdentityKeyPair {
    signing: SigningKey,
    agreement: StaticSecret,
    public: IdentityKey,
}

impl IdentityKeyPair {
    /// Generates a fresh identity.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// Rebuilds an identity from its 32-byte secret seed (see
    /// [`Self::to_seed`]).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let agreement = StaticSecret::from(signing.to_scalar_bytes());
        let verifying = signing.verifying_key();
        let public =
            IdentityKey { agreement: X25519Public::from(verifying.to_montgomery().to_bytes()), signing: verifying };
        Self { signing, agreement, public }
    }

    /// The secret 32-byte seed. Handle as a secret.
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> &IdentityKey {
        &self.public
    }

    /// Signs `message` with the identity's Ed25519 key.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    pub(crate) fn agreement_secret(&self) -> &StaticSecret {
        &self.agreement
    }
}

impl fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKeyPair").field("public", &self.public).finish_non_exhaustive()
    }
}

/// Number of SHA-512 iterations in the safety-number derivation (as in
/// Signal's numeric fingerprints; it makes a brute-force search for a
/// colliding key cost thousands of hashes per guess).
pub(crate) const SAFETY_NUMBER_ITERATIONS: usize = 5200;

/// Domain-separation label of the safety-number derivation.
const SAFETY_NUMBER_LABEL: &[u8] = b"sealpost v1 safety number";

/// A number two people compare out of band to check that no one sits
/// between them: 60 decimal digits, shown as 12 groups of 5.
///
/// Each party contributes 30 digits derived from its identity key alone; the
/// two halves are ordered by key bytes, so both sides compute the same
/// number.
///
/// ```
/// use sealpost::{IdentityKeyPair, SafetyNumber};
/// let mut rng = rand::rng();
/// let (alice, bob) = (IdentityKeyPair::generate(&mut rng), IdentityKeyPair::generate(&mut rng));
/// let on_alices_phone = SafetyNumber::new(alice.public(), bob.public());
/// let on_bobs_phone = SafetyNumber::new(bob.public(), alice.public());
/// assert_eq!(on_alices_phone, on_bobs_phone);
/// assert_eq!(on_alices_phone.to_string().len(), 12 * 5 + 11);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SafetyNumber {
    digits: [u8; 60],
}

impl SafetyNumber {
    /// Computes the safety number of the pair (order does not matter).
    pub fn new(a: &IdentityKey, b: &IdentityKey) -> Self {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        let mut digits = [0u8; 60];
        let (left, right) = digits.split_at_mut(30);
        fingerprint_digits(first, left);
        fingerprint_digits(second, right);
        Self { digits }
    }

    /// The 60 digits as ASCII without separators.
    pub fn digits(&self) -> String {
        self.digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// Compares in constant time.
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.digits.ct_eq(&other.digits).into()
    }
}

/// Writes 30 digits for one identity: iterate SHA-512 over
/// `label || key`, then read six 5-byte big-endian chunks, each mod 100000.
fn fingerprint_digits(key: &IdentityKey, out: &mut [u8]) {
    let mut hash = Sha512::new_with_prefix(SAFETY_NUMBER_LABEL).chain_update(key.as_bytes()).finalize();
    for _ in 1..SAFETY_NUMBER_ITERATIONS {
        hash = Sha512::new().chain_update(hash).chain_update(key.as_bytes()).finalize();
    }
    for (chunk, group) in hash.chunks_exact(5).zip(out.chunks_exact_mut(5)) {
        let mut v = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)) % 100_000;
        for slot in group.iter_mut().rev() {
            // `v % 10` is below 10, so the cast cannot truncate.
            *slot = (v % 10) as u8;
            v /= 10;
        }
    }
}

impl fmt::Display for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.digits.chunks(5).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for d in group {
                write!(f, "{d}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafetyNumber({self})")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn field_element(low: u8, top: u8) -> [u8; 32] {
        let mut b = [0xffu8; 32];
        b[0] = low;
        b[31] = top;
        b
    }

    #[test]
    fn y_coordinates_at_or_above_p_are_not_canonical() {
        assert!(!is_canonical_y(&field_element(0xed, 0x7f)), "p itself");
        assert!(!is_canonical_y(&field_element(0xee, 0x7f)), "p + 1");
        assert!(!is_canonical_y(&field_element(0xed, 0xff)), "p with the sign bit");
        assert!(is_canonical_y(&field_element(0xec, 0x7f)), "p - 1");
        assert!(is_canonical_y(&field_element(0xff, 0x7e)));
        let real = IdentityKeyPair::from_seed(&[3u8; 32]);
        assert!(is_canonical_y(real.public().as_bytes()));
    }

    #[test]
    fn small_order_and_malformed_identity_keys_are_refused() {
        // The identity point (y = 1) has small order.
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        assert!(IdentityKey::from_bytes(&identity_point).is_err());
        assert!(IdentityKey::from_bytes(&[0u8; 31]).is_err());
        assert!(IdentityKey::from_bytes(&field_element(0xed, 0x7f)).is_err());
    }

    #[test]
    fn derived_agreement_key_matches_the_secret() {
        let pair = IdentityKeyPair::from_seed(&[9u8; 32]);
        let from_secret = X25519Public::from(pair.agreement_secret());
        assert_eq!(from_secret.as_bytes(), pair.public().agreement_key().as_bytes());
        let parsed = IdentityKey::from_bytes(pair.public().as_bytes()).unwrap();
        assert_eq!(parsed.agreement_key().as_bytes(), from_secret.as_bytes());
    }

    #[test]
    fn debug_never_prints_the_seed() {
        let pair = IdentityKeyPair::from_seed(&[0xabu8; 32]);
        let shown = format!("{pair:?}");
        assert!(!shown.contains("abab"), "{shown}");
    }
}
