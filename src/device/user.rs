//! The user key: one per person, above the identity keys of their devices.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::Result;
use crate::identity::{IdentityKey, IdentityKeyPair, SafetyNumber};

/// A user's long-term key pair: it signs the user's
/// [`DeviceList`](super::DeviceList), and its public half is what safety
/// numbers between people are computed from.
///
/// Every device of the user holds it (device linking hands it over, see
/// [`Linker`](super::Linker)), so any of them can add or remove a device.
/// It is a distinct type from a device's [`IdentityKeyPair`] so that one
/// cannot be passed for the other; it is never used for sessions.
///
/// ```
/// use sealpost::device::UserKeyPair;
/// let mut rng = sealpost::default_rng();
/// let alice = UserKeyPair::generate(&mut rng);
/// let again = UserKeyPair::from_seed(&alice.to_seed());
/// assert_eq!(again.public(), alice.public());
/// ```
#[derive(Clone)]
pub struct UserKeyPair {
    pair: IdentityKeyPair,
    public: UserKey,
}

impl UserKeyPair {
    /// Generates a fresh user key (once per person, on their first device).
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// let mut rng = sealpost::default_rng();
    /// assert_ne!(UserKeyPair::generate(&mut rng).public(), UserKeyPair::generate(&mut rng).public());
    /// ```
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_pair(IdentityKeyPair::generate(rng))
    }

    /// Rebuilds a user key from its 32-byte secret seed.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// assert_eq!(UserKeyPair::from_seed(&[7; 32]).public(), UserKeyPair::from_seed(&[7; 32]).public());
    /// ```
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_pair(IdentityKeyPair::from_seed(seed))
    }

    /// The secret 32-byte seed, for the app's encrypted storage. Handle as a
    /// secret.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// assert_eq!(*UserKeyPair::from_seed(&[7; 32]).to_seed(), [7; 32]);
    /// ```
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        self.pair.to_seed()
    }

    /// The public user key.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// let user = UserKeyPair::from_seed(&[7; 32]);
    /// assert_eq!(user.public().to_bytes().len(), 32);
    /// ```
    pub fn public(&self) -> &UserKey {
        &self.public
    }

    fn from_pair(pair: IdentityKeyPair) -> Self {
        let public = UserKey(*pair.public());
        Self { pair, public }
    }

    /// Signs exactly `signed` (the library's own labelled statements).
    pub(crate) fn sign_raw(&self, signed: &[u8]) -> [u8; 64] {
        self.pair.sign_raw(signed)
    }
}

impl fmt::Debug for UserKeyPair {
    /// Shows the public key only.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// let user = UserKeyPair::from_seed(&[7; 32]);
    /// assert!(format!("{user:?}").starts_with("UserKeyPair"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserKeyPair").field("public", &self.public).finish_non_exhaustive()
    }
}

/// A user's public key: the identity of a person, whatever their devices.
///
/// ```
/// use sealpost::device::{UserKey, UserKeyPair};
/// let user = UserKeyPair::from_seed(&[7; 32]);
/// let bytes = user.public().to_bytes(); // published with the device list
/// assert_eq!(&UserKey::from_bytes(&bytes)?, user.public());
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKey(IdentityKey);

impl UserKey {
    /// Parses a 32-byte user key (validated like [`IdentityKey::from_bytes`]).
    ///
    /// ```
    /// use sealpost::device::UserKey;
    /// assert!(UserKey::from_bytes(&[0; 31]).is_err());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        IdentityKey::from_bytes(bytes).map(Self)
    }

    /// The 32-byte encoding.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// let user = UserKeyPair::from_seed(&[7; 32]);
    /// assert_eq!(&user.public().to_bytes(), user.public().as_bytes());
    /// ```
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The 32-byte encoding, borrowed.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// assert_eq!(UserKeyPair::from_seed(&[7; 32]).public().as_bytes().len(), 32);
    /// ```
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The safety number of two people: computed from their user keys only,
    /// so it stays the same when either adds or removes a device. Order does
    /// not matter.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (UserKeyPair::generate(&mut rng), UserKeyPair::generate(&mut rng));
    /// assert!(alice.public().safety_number(bob.public()).ct_eq(&bob.public().safety_number(alice.public())));
    /// ```
    pub fn safety_number(&self, other: &UserKey) -> SafetyNumber {
        SafetyNumber::new(&self.0, &other.0)
    }

    pub(crate) fn identity(&self) -> &IdentityKey {
        &self.0
    }
}

impl fmt::Debug for UserKey {
    /// `UserKey(` and the key's first 8 bytes in hex `)`.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// assert!(format!("{:?}", UserKeyPair::from_seed(&[7; 32]).public()).starts_with("UserKey("));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserKey(")?;
        for b in self.0.as_bytes().iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl fmt::Display for UserKey {
    /// 64 lower-case hex digits, as [`IdentityKey`]'s text form.
    ///
    /// ```
    /// use sealpost::device::UserKeyPair;
    /// assert_eq!(UserKeyPair::from_seed(&[7; 32]).public().to_string().len(), 64);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
