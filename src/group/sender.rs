//! Our own sender key: the ratchet we encrypt with and the Ed25519 key we
//! sign with.

use ed25519_dalek::{Signer, SigningKey};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::GroupId;
use super::chain::{MessageKey, Ratchet, SALT_LEN};
use super::message::{FLAG_ENVELOPE, FLAG_PLAIN, HEADER_LEN, HeaderFields, encode_header, signed_bytes};
use crate::burnout::Envelope;
use crate::burnout::payload::{self, Trailer};
use crate::crypto;
use crate::error::{Error, Result};
use crate::identity::IdentityKey;
use crate::limits::MAX_GROUP_PLAINTEXT;

/// Our sender key in one group. Secret: the ratchet and the signing key
/// zeroize on drop.
#[derive(Clone)]
pub(crate) struct SenderKey {
    pub(crate) key_id: u32,
    /// Counts our rotations in this group; carried in distributions so a
    /// receiver never lets an older key replace a newer one.
    pub(crate) generation: u32,
    /// The id of the key this one replaced, which receivers may still hold.
    pub(crate) previous_key_id: Option<u32>,
    pub(crate) ratchet: Ratchet,
    pub(crate) signing: SigningKey,
}

impl SenderKey {
    /// A fresh sender key at iteration 0, of `generation`, whose id is none
    /// of `avoid` (the ids receivers may still hold for us).
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R, generation: u32, avoid: &[u32]) -> Self {
        let mut id = [0u8; 4];
        let key_id = loop {
            rng.fill_bytes(&mut id);
            let candidate = u32::from_be_bytes(id);
            if !avoid.contains(&candidate) {
                break candidate;
            }
        };
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self {
            key_id,
            generation,
            previous_key_id: None,
            ratchet: Ratchet::random(rng),
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The key that replaces this one: the next generation, an id that is
    /// neither this key's nor the one before it (receivers hold both until
    /// they install the new one).
    pub(crate) fn next<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Self {
        let avoid: Vec<u32> = core::iter::once(self.key_id).chain(self.previous_key_id).collect();
        let mut next = Self::generate(rng, self.generation.saturating_add(1), &avoid);
        next.previous_key_id = Some(self.key_id);
        next
    }

    /// Encrypts and signs one group message; the ratchet moves only on
    /// success.
    pub(crate) fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        group_id: &GroupId,
        sender: &IdentityKey,
        content: &[u8],
        envelope: Option<&Envelope>,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        // The shared Burnout rule: an envelope already expired at its own
        // sent-at time is refused, as for 1:1 and Forkout.
        let trailer = payload::seal_trailer(envelope)?;
        self.encrypt_trailer(group_id, sender, content, trailer, rng)
    }

    /// [`Self::encrypt`] with the envelope already encoded (or, for the
    /// test hooks, replaced by other bytes).
    pub(crate) fn encrypt_trailer<R: CryptoRng + ?Sized>(
        &mut self,
        group_id: &GroupId,
        sender: &IdentityKey,
        content: &[u8],
        trailer: Trailer,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        if content.len() > MAX_GROUP_PLAINTEXT {
            return Err(Error::TooLarge { what: "group plaintext", len: content.len(), max: MAX_GROUP_PLAINTEXT });
        }
        let iteration = self.ratchet.counter();
        if iteration == u32::MAX {
            return Err(Error::LimitReached {
                what: "iterations per group sender key (rotate it)",
                max: u32::MAX as usize,
            });
        }
        let mut next = self.ratchet.clone();
        let key: MessageKey = next.next_key()?;
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let keys = key.expand(&salt);

        let env = trailer.as_bytes();
        let env_len = env.len();
        let header = HeaderFields {
            group_id,
            sender,
            key_id: self.key_id,
            iteration,
            salt: &salt,
            commitment: &keys.commitment,
        };
        let mut out = encode_header(&header, content.len() + env_len + 1).into_vec();
        let header_len = out.len();
        debug_assert_eq!(header_len, HEADER_LEN);
        let mut tail = [0u8; crate::burnout::ENVELOPE_LEN + 1];
        let tail = tail.get_mut(..env_len + 1).ok_or(Error::InvalidState("group payload trailer"))?;
        let (env_part, flag) = tail.split_at_mut(env_len);
        env_part.copy_from_slice(env);
        flag.fill(if trailer.is_present() { FLAG_ENVELOPE } else { FLAG_PLAIN });
        // ChaCha20 only: the signature below, checked before any key is
        // derived, authenticates the ciphertext (GROUP.md). The content is
        // encrypted from where it is into the message, not copied first.
        out.resize(header_len + content.len() + tail.len(), 0);
        if let Some(body) = out.get_mut(header_len..) {
            crypto::chacha20_to(&keys.key, &keys.nonce, content, tail, body)?;
        }
        let (header, sealed) = out.split_at(header_len);
        let signature = self.signing.sign(&signed_bytes(header, sealed)).to_bytes();
        out.extend_from_slice(&signature);

        self.ratchet = next;
        Ok(out)
    }
}

impl core::fmt::Debug for SenderKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SenderKey")
            .field("key_id", &self.key_id)
            .field("iteration", &self.ratchet.counter())
            .finish_non_exhaustive()
    }
}
