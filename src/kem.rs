//! ML-KEM (FIPS 203) as sealpost uses it: fixed-size byte arrays in and
//! out, secret keys kept as their 64-byte seeds.
//!
//! Two parameter sets, each in its own module with the same functions:
//! [`setup`] is ML-KEM-1024, the KEM of the hybrid session setup (PQXDH
//! uses it for the prekeys in bundles); [`braid`] is ML-KEM-768, the KEM of
//! the post-quantum ratchet, whose keys and ciphertexts travel in chunks
//! inside ordinary messages (smaller keys, fewer chunks; the same category
//! 3 choice as Signal's SPQR).
//!
//! A secret key is stored as its seed `d || z` (FIPS 203, section 7.1:
//! `ML-KEM.KeyGen_internal(d, z)`), 64 bytes whatever the parameter set,
//! and expanded when it is used. The seed is the canonical form: every
//! seed is a valid key, and the expanded key is a function of it.
//!
//! Public keys are checked when parsed (the FIPS 203 modulus check, which
//! also makes their encoding canonical). Decapsulation never fails: a
//! ciphertext that was not made for the key gives a pseudorandom secret
//! (implicit rejection), so a tampered ciphertext shows up as a failed
//! AEAD check of the message that carries it.

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A KEM secret key as its FIPS 203 seed `d || z`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct KemSeed([u8; 64]);

impl KemSeed {
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; 64];
        rng.fill_bytes(&mut seed);
        Self(seed)
    }

    pub(crate) fn from_bytes(seed: [u8; 64]) -> Self {
        Self(seed)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

/// Generates `mod $name` for one parameter set.
macro_rules! kem_parameter_set {
    ($(#[$doc:meta])* $name:ident, $kem:ident, public $public_len:literal, ciphertext $ciphertext_len:literal) => {
        $(#[$doc])*
        pub(crate) mod $name {
            use ml_kem::kem::{Decapsulate, Encapsulate, KeyExport};
            use ml_kem::$kem;
            use rand_core::CryptoRng;
            use zeroize::Zeroize;

            use super::{KemSeed, SharedSecret, take_secret};
            use crate::error::WireError;

            /// Length of an encapsulation (public) key.
            pub(crate) const PUBLIC_LEN: usize = $public_len;
            /// Length of a ciphertext.
            pub(crate) const CIPHERTEXT_LEN: usize = $ciphertext_len;

            type DecapsulationKey = ml_kem::DecapsulationKey<$kem>;
            type EncapsulationKey = ml_kem::EncapsulationKey<$kem>;

            fn expand(seed: &KemSeed) -> DecapsulationKey {
                let mut bytes = ml_kem::Seed::from(*seed.as_bytes());
                let key = DecapsulationKey::from_seed(bytes);
                bytes.zeroize();
                key
            }

            /// The encapsulation key of `seed`.
            #[allow(dead_code, reason = "generated for both parameter sets; each uses what it needs")]
            pub(crate) fn public_key(seed: &KemSeed) -> Box<[u8; PUBLIC_LEN]> {
                expanded_public_key(&expand_seed(seed))
            }

            /// A decapsulation key expanded from its seed, kept in memory
            /// so that a key made in this process decapsulates without a
            /// second expansion (states store the seed only).
            #[derive(Clone)]
            pub(crate) struct Expanded(Box<DecapsulationKey>);

            /// An encapsulation key parsed and checked once.
            #[derive(Clone, PartialEq, Eq)]
            pub(crate) struct Parsed(Box<EncapsulationKey>);

            /// Expands `seed` (key generation from the seed).
            pub(crate) fn expand_seed(seed: &KemSeed) -> Expanded {
                Expanded(Box::new(expand(seed)))
            }

            /// The encapsulation key of an expanded key.
            pub(crate) fn expanded_public_key(key: &Expanded) -> Box<[u8; PUBLIC_LEN]> {
                Box::new(key.0.encapsulation_key().to_bytes().into())
            }

            /// Parses `key`, accepting it only if it is a valid (and so
            /// canonically encoded) encapsulation key, for encapsulating to
            /// it without a second parse.
            pub(crate) fn parse(key: &[u8; PUBLIC_LEN], what: &'static str) -> Result<Parsed, WireError> {
                EncapsulationKey::new(&(*key).into()).map(|k| Parsed(Box::new(k))).map_err(|_| WireError::InvalidField(what))
            }

            /// Encapsulates a fresh secret to `key`: the ciphertext and the
            /// shared secret.
            pub(crate) fn encapsulate<R: CryptoRng + ?Sized>(
                key: &Parsed,
                rng: &mut R,
            ) -> (Box<[u8; CIPHERTEXT_LEN]>, SharedSecret) {
                let (ciphertext, shared) = key.0.encapsulate_with_rng(rng);
                (Box::new(ciphertext.into()), take_secret(shared))
            }

            /// The shared secret of `ciphertext` under an expanded key
            /// (pseudorandom if the ciphertext was not made for it).
            pub(crate) fn decapsulate_expanded(key: &Expanded, ciphertext: &[u8; CIPHERTEXT_LEN]) -> SharedSecret {
                take_secret(key.0.decapsulate(&(*ciphertext).into()))
            }

            /// [`decapsulate_expanded`] with the key expanded from `seed`.
            pub(crate) fn decapsulate(seed: &KemSeed, ciphertext: &[u8; CIPHERTEXT_LEN]) -> SharedSecret {
                decapsulate_expanded(&expand_seed(seed), ciphertext)
            }
        }
    };
}

kem_parameter_set!(
    /// ML-KEM-1024: the KEM prekeys of the hybrid session setup.
    setup, MlKem1024, public 1568, ciphertext 1568
);

kem_parameter_set!(
    /// ML-KEM-768: the post-quantum ratchet.
    braid, MlKem768, public 1184, ciphertext 1088
);

/// Zeroizing 32-byte secret, as the KEM functions return it.
pub(crate) type SharedSecret = Zeroizing<[u8; 32]>;

/// Moves ML-KEM's shared key into a [`SharedSecret`] and wipes the original.
fn take_secret(mut shared: ml_kem::array::Array<u8, ml_kem::array::sizes::U32>) -> SharedSecret {
    let secret = Zeroizing::new(shared.into());
    shared.zeroize();
    secret
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn encapsulated_secrets_match_and_tampering_changes_them() {
        let mut rng = StdRng::seed_from_u64(7);
        let seed = KemSeed::generate(&mut rng);
        let public = setup::parse(&setup::public_key(&seed), "key").unwrap();
        let (mut ciphertext, sent) = setup::encapsulate(&public, &mut rng);
        assert_eq!(*setup::decapsulate(&seed, &ciphertext), *sent);
        ciphertext[0] ^= 1;
        assert_ne!(*setup::decapsulate(&seed, &ciphertext), *sent);

        let seed = KemSeed::generate(&mut rng);
        let (ciphertext, sent) = braid::encapsulate(&braid::parse(&braid::public_key(&seed), "key").unwrap(), &mut rng);
        assert_eq!(*braid::decapsulate(&seed, &ciphertext), *sent);
    }

    #[test]
    fn public_keys_out_of_range_are_refused() {
        // Coefficients are 12-bit values below q = 3329; 0xfff is not.
        assert!(setup::parse(&[0xff; setup::PUBLIC_LEN], "key").is_err());
        assert!(braid::parse(&[0xff; braid::PUBLIC_LEN], "key").is_err());
    }
}
