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

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
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
/// let alice = IdentityKeyPair::generate(&mut sealpost::default_rng());
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
    /// Parses a 32-byte Ed25519 public key, refusing second encodings (y at
    /// or above p), small-order points and points with a small-order
    /// component (`A + T`, `T` of small order): every identity has exactly
    /// one encoding, and two DH-equivalent keys cannot pass for two
    /// identities.
    ///
    /// ```
    /// use sealpost::{IdentityKey, IdentityKeyPair};
    /// let mut rng = sealpost::default_rng();
    /// let key = *IdentityKeyPair::generate(&mut rng).public();
    /// assert_eq!(IdentityKey::from_bytes(key.as_bytes())?, key);
    /// assert!(IdentityKey::from_bytes(&[0u8; 32]).is_err()); // a small-order point
    /// assert!(IdentityKey::from_bytes(&[1u8; 31]).is_err()); // wrong length
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; IDENTITY_KEY_LEN] =
            bytes.try_into().map_err(|_| WireError::InvalidField("identity key length"))?;
        let signing = ed25519_public_key(&arr, "identity key")?;
        Ok(Self { agreement: X25519Public::from(signing.to_montgomery().to_bytes()), signing })
    }

    /// The 32-byte encoding (the Ed25519 public key).
    ///
    /// ```
    /// use sealpost::{IdentityKey, IdentityKeyPair};
    /// let mut rng = sealpost::default_rng();
    /// let key = *IdentityKeyPair::generate(&mut rng).public();
    /// let stored: [u8; 32] = key.to_bytes();
    /// assert_eq!(IdentityKey::from_bytes(&stored)?, key);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> [u8; IDENTITY_KEY_LEN] {
        self.signing.to_bytes()
    }

    /// Borrows the 32-byte encoding.
    ///
    /// ```
    /// use sealpost::IdentityKeyPair;
    /// let pair = IdentityKeyPair::from_seed(&[7; 32]);
    /// assert_eq!(pair.public().as_bytes(), &pair.public().to_bytes());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8; IDENTITY_KEY_LEN] {
        self.signing.as_bytes()
    }

    /// Verifies a signature made by [`IdentityKeyPair::sign`] over
    /// `message` under `context` (strict Ed25519 verification: no malleable
    /// or small-order signatures). Fails with [`Error::InvalidSignature`]
    /// naming `what`.
    ///
    /// ```
    /// use sealpost::{Error, IdentityKeyPair};
    /// let mut rng = sealpost::default_rng();
    /// let pair = IdentityKeyPair::generate(&mut rng);
    /// let signature = pair.sign("my app: invite", b"join #design");
    /// pair.public().verify("my app: invite", b"join #design", &signature, "invite")?;
    /// // Another context (or message) is refused, naming what was checked.
    /// let wrong = pair.public().verify("my app: status", b"join #design", &signature, "invite");
    /// assert_eq!(wrong, Err(Error::InvalidSignature("invite")));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn verify(&self, context: &str, message: &[u8], signature: &[u8; 64], what: &'static str) -> Result<()> {
        self.verify_raw(&app_signed(context, message), signature, what)
    }

    /// Verifies an Ed25519 signature over exactly `signed` (the library's own
    /// labelled messages, such as the signed-prekey statement).
    pub(crate) fn verify_raw(&self, signed: &[u8], signature: &[u8; 64], what: &'static str) -> Result<()> {
        let sig = Signature::from_bytes(signature);
        self.signing.verify_strict(signed, &sig).map_err(|_| Error::InvalidSignature(what))
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

/// Parses an Ed25519 public key that is canonical (y < p), not of small
/// order, and torsion-free (in the prime-order subgroup). A key `A + T` with
/// a small-order `T` verifies signatures differently but gives the same
/// X25519 results as `A` (the clamped scalar kills `T`): refusing it keeps
/// one key per identity. Used for identity keys and group signing keys.
pub(crate) fn ed25519_public_key(
    bytes: &[u8; 32],
    what: &'static str,
) -> core::result::Result<VerifyingKey, WireError> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| WireError::InvalidField(what))?;
    if key.is_weak() || !is_below_p(bytes) || !is_torsion_free(&key.to_edwards()) {
        return Err(WireError::InvalidField(what));
    }
    Ok(key)
}

/// Whether `point` is in the prime-order subgroup: [ℓ]P is the identity.
///
/// `curve25519-dalek`'s `EdwardsPoint::is_torsion_free` computes the same
/// in constant time; the point here is a public key, so the variable-time
/// multiplication (about a fifth cheaper) leaks nothing. ℓ itself is not
/// a `Scalar` (scalars are reduced mod ℓ), hence [ℓ - 1]P + P.
fn is_torsion_free(point: &EdwardsPoint) -> bool {
    let l_minus_one = -Scalar::ONE;
    (EdwardsPoint::vartime_double_scalar_mul_basepoint(&l_minus_one, point, &Scalar::ZERO) + point).is_identity()
}

/// Whether the low 255 bits of a little-endian field encoding are below
/// p = 2^255 - 19 (the y of a compressed Edwards point, the u of an X25519
/// key). (A non-canonical x sign only occurs for x = 0, whose two
/// points are of small order and refused separately.)
pub(crate) fn is_below_p(bytes: &[u8; 32]) -> bool {
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
/// let id = IdentityKeyPair::generate(&mut sealpost::default_rng());
/// let sig = id.sign("com.example.status", b"hello");
/// id.public().verify("com.example.status", b"hello", &sig, "status")?;
/// assert!(id.public().verify("com.example.status", b"hullo", &sig, "status").is_err());
/// // The context is part of what is signed.
/// assert!(id.public().verify("com.example.other", b"hello", &sig, "status").is_err());
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
    ///
    /// ```
    /// use sealpost::IdentityKeyPair;
    /// let mut rng = sealpost::default_rng();
    /// let (a, b) = (IdentityKeyPair::generate(&mut rng), IdentityKeyPair::generate(&mut rng));
    /// assert_ne!(a.public(), b.public());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// Rebuilds an identity from its 32-byte secret seed (see
    /// [`Self::to_seed`]).
    ///
    /// ```
    /// use sealpost::IdentityKeyPair;
    /// let mut rng = sealpost::default_rng();
    /// let pair = IdentityKeyPair::generate(&mut rng);
    /// let again = IdentityKeyPair::from_seed(&pair.to_seed());
    /// assert_eq!(again.public(), pair.public());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let agreement = StaticSecret::from(signing.to_scalar_bytes());
        let verifying = signing.verifying_key();
        let public =
            IdentityKey { agreement: X25519Public::from(verifying.to_montgomery().to_bytes()), signing: verifying };
        Self { signing, agreement, public }
    }

    /// The secret 32-byte seed. Handle as a secret.
    ///
    /// ```
    /// use sealpost::IdentityKeyPair;
    /// let pair = IdentityKeyPair::from_seed(&[3; 32]);
    /// assert_eq!(*pair.to_seed(), [3; 32]); // zeroized when dropped
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public half.
    ///
    /// ```
    /// use sealpost::IdentityKeyPair;
    /// let pair = IdentityKeyPair::from_seed(&[3; 32]);
    /// assert_eq!(pair.public(), IdentityKeyPair::from_seed(&[3; 32]).public());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn public(&self) -> &IdentityKey {
        &self.public
    }

    /// Signs an application `message` under an application-chosen
    /// `context` (for example `"com.example.profile v1"`), with the
    /// identity's Ed25519 key.
    ///
    /// What is signed is `"sealpost v1 application signature" | 0x00 |
    /// len(context) (u64) | context | message`. The library's own signatures
    /// (signed prekeys) sign messages that start with a different label, so
    /// no application message can ever be made to read as one of them, and
    /// two contexts can never produce the same signed bytes. Verify with
    /// [`IdentityKey::verify`] and the same context.
    ///
    /// ```
    /// use sealpost::IdentityKeyPair;
    /// let pair = IdentityKeyPair::from_seed(&[3; 32]);
    /// let signature = pair.sign("my app: profile", b"name=Ann");
    /// pair.public().verify("my app: profile", b"name=Ann", &signature, "profile")?;
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn sign(&self, context: &str, message: &[u8]) -> [u8; 64] {
        self.sign_raw(&app_signed(context, message))
    }

    /// Signs exactly `signed`: only for the library's own labelled messages.
    pub(crate) fn sign_raw(&self, signed: &[u8]) -> [u8; 64] {
        self.signing.sign(signed).to_bytes()
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
/// The bytes an application signature covers (see [`IdentityKeyPair::sign`]).
fn app_signed(context: &str, message: &[u8]) -> Vec<u8> {
    let label = crate::crypto::label::APP_SIGNATURE;
    let mut signed = Vec::with_capacity(label.len() + 1 + 8 + context.len() + message.len());
    signed.extend_from_slice(label);
    signed.push(0);
    signed.extend_from_slice(&(context.len() as u64).to_be_bytes());
    signed.extend_from_slice(context.as_bytes());
    signed.extend_from_slice(message);
    signed
}

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
/// let mut rng = sealpost::default_rng();
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
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, SafetyNumber};
    /// let (a, b) = (IdentityKeyPair::from_seed(&[1; 32]), IdentityKeyPair::from_seed(&[2; 32]));
    /// let ours = SafetyNumber::new(a.public(), b.public());
    /// assert!(ours.ct_eq(&SafetyNumber::new(b.public(), a.public())));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn new(a: &IdentityKey, b: &IdentityKey) -> Self {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        let mut digits = [0u8; 60];
        let (left, right) = digits.split_at_mut(30);
        fingerprint_digits(first, left);
        fingerprint_digits(second, right);
        Self { digits }
    }

    /// The 60 digits as ASCII without separators.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, SafetyNumber};
    /// let (a, b) = (IdentityKeyPair::from_seed(&[1; 32]), IdentityKeyPair::from_seed(&[2; 32]));
    /// let digits = SafetyNumber::new(a.public(), b.public()).digits();
    /// assert_eq!(digits.len(), 60);
    /// assert!(digits.bytes().all(|d| d.is_ascii_digit()));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn digits(&self) -> String {
        self.digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// Compares in constant time.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, SafetyNumber};
    /// let keys: Vec<_> = (1..=3u8).map(|i| *IdentityKeyPair::from_seed(&[i; 32]).public()).collect();
    /// let shown = SafetyNumber::new(&keys[0], &keys[1]);
    /// assert!(shown.ct_eq(&SafetyNumber::new(&keys[1], &keys[0])));
    /// assert!(!shown.ct_eq(&SafetyNumber::new(&keys[0], &keys[2])));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
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

crate::text::hex_text!(
    IdentityKey,
    IDENTITY_KEY_LEN,
    "identity key (64 lower-case hex digits of a valid key)",
    |k| k.to_bytes(),
    |bytes| IdentityKey::from_bytes(&bytes)
);

/// Parses the [`Display`](fmt::Display) form only: 12 groups of 5 digits
/// separated by single spaces.
///
/// ```
/// use sealpost::{IdentityKeyPair, SafetyNumber};
/// let mut rng = sealpost::default_rng();
/// let (a, b) = (IdentityKeyPair::generate(&mut rng), IdentityKeyPair::generate(&mut rng));
/// let number = SafetyNumber::new(a.public(), b.public());
/// let text = number.to_string();
/// assert!(text.parse::<SafetyNumber>()?.ct_eq(&number));
/// assert!(text.replace(' ', "").parse::<SafetyNumber>().is_err());
/// # Ok::<(), sealpost::Error>(())
/// ```
impl core::str::FromStr for SafetyNumber {
    type Err = crate::Error;

    fn from_str(text: &str) -> Result<Self> {
        let invalid = || crate::Error::Wire(WireError::InvalidField("safety number (12 groups of 5 digits)"));
        let mut digits = [0u8; 60];
        let mut groups = text.split(' ');
        for group in digits.chunks_exact_mut(5) {
            let part = groups.next().ok_or_else(invalid)?.as_bytes();
            if part.len() != 5 || !part.iter().all(u8::is_ascii_digit) {
                return Err(invalid());
            }
            for (d, c) in group.iter_mut().zip(part) {
                *d = c - b'0';
            }
        }
        if groups.next().is_some() {
            return Err(invalid());
        }
        Ok(Self { digits })
    }
}

crate::text::serde_via_text!(SafetyNumber);

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
    use curve25519_dalek::edwards::CompressedEdwardsY;

    #[test]
    fn keys_with_a_small_order_component_are_refused() {
        // A + T (T of order 8) is a different Ed25519 key but gives the same
        // X25519 results as A: it must not pass for a second identity.
        use curve25519_dalek::constants::EIGHT_TORSION;
        let id = IdentityKeyPair::from_seed(&[3; 32]);
        let a = CompressedEdwardsY(id.public().to_bytes()).decompress().unwrap();
        assert!(IdentityKey::from_bytes(&a.compress().to_bytes()).is_ok());
        for t in EIGHT_TORSION.iter().skip(1) {
            let shifted = (a + t).compress().to_bytes();
            assert!(IdentityKey::from_bytes(&shifted).is_err(), "A + T accepted");
            assert!(ed25519_public_key(&shifted, "k").is_err());
        }
    }

    #[test]
    fn the_variable_time_torsion_check_agrees_with_dalek_on_every_coset() {
        // P + T for P of prime order (or the identity) and each T of the
        // 8-torsion: torsion-free exactly when T is the identity.
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        let points =
            [EdwardsPoint::default(), ED25519_BASEPOINT_POINT, ED25519_BASEPOINT_POINT * Scalar::from(0x1234_5678u64)];
        for p in points {
            for (i, t) in EIGHT_TORSION.iter().enumerate() {
                let q = p + t;
                assert_eq!(is_torsion_free(&q), q.is_torsion_free());
                assert_eq!(is_torsion_free(&q), i == 0, "coset {i}");
            }
        }
    }

    #[test]
    fn a_second_encoding_with_y_at_or_above_p_is_refused() {
        // y + p encodes the same point as y when y < 19: find such a point
        // not of small order and check the identity and group-key parsers.
        let mut found = 0;
        for y in 0u8..19 {
            let mut alias = [0xffu8; 32];
            alias[0] = 0xed + y; // p + y, little-endian
            alias[31] = 0x7f;
            let mut canonical = [0u8; 32];
            canonical[0] = y;
            let Some(point) = CompressedEdwardsY(canonical).decompress() else { continue };
            if point.is_small_order() {
                continue;
            }
            found += 1;
            // ed25519-dalek alone accepts the alias (and keeps its bytes):
            // the check the group parser used before could never fail.
            let dalek = VerifyingKey::from_bytes(&alias).unwrap();
            assert!(!dalek.is_weak() && dalek.as_bytes() == &alias);
            assert!(!is_below_p(&alias));
            assert!(ed25519_public_key(&alias, "k").is_err(), "y = p + {y} accepted");
            assert!(IdentityKey::from_bytes(&alias).is_err());
        }
        assert!(found > 0, "no test point found");
    }

    proptest::proptest! {
        /// Decode then encode gives the input back: one encoding per key.
        #[test]
        fn identity_keys_round_trip_canonically(bytes in proptest::array::uniform32(proptest::num::u8::ANY)) {
            if let Ok(key) = IdentityKey::from_bytes(&bytes) {
                proptest::prop_assert_eq!(key.to_bytes(), bytes);
            }
        }
    }

    #[test]
    fn application_signatures_never_verify_as_the_librarys_own() {
        // An app that signs attacker-chosen bytes must not hand out a valid
        // signed-prekey statement (the signing-oracle finding).
        let id = IdentityKeyPair::from_seed(&[9; 32]);
        let mut statement = crate::crypto::label::SIGNED_PREKEY.to_vec();
        statement.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        statement.extend_from_slice(&[4; 32]);
        for context in ["", "x", "sealpost v1 signed prekey"] {
            let sig = id.sign(context, &statement);
            assert!(id.public().verify_raw(&statement, &sig, "signed prekey").is_err());
            assert!(id.public().verify(context, &statement, &sig, "app").is_ok());
        }
        // Context and message boundaries cannot be shifted.
        let sig = id.sign("ab", b"c");
        assert!(id.public().verify("a", b"bc", &sig, "app").is_err());
    }

    fn field_element(low: u8, top: u8) -> [u8; 32] {
        let mut b = [0xffu8; 32];
        b[0] = low;
        b[31] = top;
        b
    }

    #[test]
    fn y_coordinates_at_or_above_p_are_not_canonical() {
        assert!(!is_below_p(&field_element(0xed, 0x7f)), "p itself");
        assert!(!is_below_p(&field_element(0xee, 0x7f)), "p + 1");
        assert!(!is_below_p(&field_element(0xed, 0xff)), "p with the sign bit");
        assert!(is_below_p(&field_element(0xec, 0x7f)), "p - 1");
        assert!(is_below_p(&field_element(0xff, 0x7e)));
        let real = IdentityKeyPair::from_seed(&[3u8; 32]);
        assert!(is_below_p(real.public().as_bytes()));
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
