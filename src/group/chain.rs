//! The sender-key ratchet: a Megolm-style hierarchical HMAC-SHA256 ratchet.
//!
//! The state is four 32-byte parts `R0..R3` and a 32-bit counter (the
//! *iteration*). Each part belongs to one byte of the counter, `R0` to the
//! most significant. Advancing the counter by one re-derives the part of the
//! highest byte that changed and every part below it from that part's old
//! value (the step, the skip and the message key are specified in
//! [GROUP](crate::docs::group)), so most steps rehash only `R3`, every
//! 256th step `R2` and `R3`, and so on.
//! Moving from iteration `a` to `b` re-derives each part at most 255 times
//! plus the reseeds below it: at most about a thousand HMACs for any
//! distance, instead of `b - a`. Every part only moves forward through
//! one-way functions, so a state at iteration `i` cannot derive anything
//! before `i`.
//!
//! The message key of iteration `i` is
//! `HMAC-SHA256(R3, GROUP_MESSAGE_KEY || i)`: `R3` is itself derived from
//! every part above it, and deriving the key and the next `R3` share one
//! keyed HMAC. Within one 256-iteration *block* the ratchet only moves `R3`,
//! so a [`Run`] (an `R3` value and its iteration) can derive the keys of the
//! rest of its block and nothing else: receivers store skipped iterations as
//! runs, which keeps skipping a large gap cheap.

use hmac::Mac;
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::{self, label};
use crate::error::{Error, Result};

/// Number of ratchet parts.
pub(crate) const PARTS: usize = 4;

/// Encoded length of a ratchet state's parts.
pub(crate) const RATCHET_LEN: usize = PARTS * 32;

/// Iterations in one block (the range of the lowest counter byte).
pub(crate) const BLOCK: u32 = 256;

/// The sender-key ratchet at one iteration. Secret: zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Ratchet {
    parts: [[u8; 32]; PARTS],
    counter: u32,
}

/// A single-use message key (the ChaCha20-Poly1305 key of one iteration).
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub(crate) struct MessageKey(pub(crate) [u8; 32]);

/// What one group message key expands to with the message's salt.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct MessageKeys {
    pub(crate) key: [u8; 32],
    pub(crate) nonce: [u8; 12],
    /// Public: sent in the signed header, checked before decrypting.
    pub(crate) commitment: [u8; 32],
}

impl MessageKey {
    /// `HKDF-SHA256(salt = message salt, ikm = mk, info = label, L = 76)`
    /// -> AEAD key (32) || nonce (12) || key commitment (32).
    ///
    /// The salt is fresh per message, so a sender key restored from an old
    /// export never encrypts twice under one key and nonce. The commitment,
    /// under the sender's signature, makes the message key-committing: a
    /// member holding a different chain (a sender that handed out two)
    /// derives a different commitment and refuses the message instead of
    /// reading another plaintext from the same bytes.
    pub(crate) fn expand(&self, salt: &[u8; SALT_LEN]) -> MessageKeys {
        let mut okm = Zeroizing::new([0u8; 76]);
        crypto::hkdf_sha256(salt, &self.0, label::GROUP_MESSAGE_EXPAND, okm.as_mut());
        let mut keys = MessageKeys { key: [0; 32], nonce: [0; 12], commitment: [0; 32] };
        let (key, rest) = okm.split_at(32);
        let (nonce, commitment) = rest.split_at(12);
        keys.key.copy_from_slice(key);
        keys.nonce.copy_from_slice(nonce);
        keys.commitment.copy_from_slice(commitment);
        keys
    }
}

/// Length of a group message's salt.
pub(crate) const SALT_LEN: usize = 16;

/// Skipped iterations `start..=start | 0xff` (to the end of `start`'s
/// block), stored as `R3` at `start`. It derives the keys of those
/// iterations only.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) start: u32,
    pub(crate) part3: [u8; 32],
}

impl Run {
    /// The last iteration the run covers (end of its block).
    pub(crate) fn last(&self) -> u32 {
        self.start | (BLOCK - 1)
    }

    pub(crate) fn contains(&self, iteration: u32) -> bool {
        self.start <= iteration && iteration <= self.last()
    }
}

/// Which part changes when the counter becomes `next`.
fn level_of(next: u32) -> usize {
    if next & 0x00ff_ffff == 0 {
        0
    } else if next & 0xffff == 0 {
        1
    } else if next & 0xff == 0 {
        2
    } else {
        3
    }
}

/// The message key of `iteration` from `R3` at that iteration.
pub(crate) fn message_key(part3: &[u8; 32], iteration: u32) -> MessageKey {
    let mut mac = crypto::keyed_hmac(part3);
    mac.update(label::GROUP_MESSAGE_KEY);
    mac.update(&iteration.to_be_bytes());
    MessageKey(mac.finalize().into_bytes().into())
}

/// The message key of `iteration` and `R3` at `iteration + 1`, valid when
/// both iterations are in the same block (one keyed HMAC, two inputs).
pub(crate) fn step_part3(part3: &[u8; 32], iteration: u32) -> (MessageKey, [u8; 32]) {
    let keyed = crypto::keyed_hmac(part3);
    let mut m = keyed.clone();
    m.update(label::GROUP_MESSAGE_KEY);
    m.update(&iteration.to_be_bytes());
    let mut n = keyed;
    n.update(&[label::GROUP_RATCHET_PART[3]]);
    (MessageKey(m.finalize().into_bytes().into()), n.finalize().into_bytes().into())
}

impl Ratchet {
    /// A fresh random ratchet at iteration 0.
    pub(crate) fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut parts = [[0u8; 32]; PARTS];
        for part in &mut parts {
            rng.fill_bytes(part);
        }
        Self { parts, counter: 0 }
    }

    pub(crate) fn from_parts(parts: [[u8; 32]; PARTS], counter: u32) -> Self {
        Self { parts, counter }
    }

    /// The iteration whose key this state derives next.
    pub(crate) fn counter(&self) -> u32 {
        self.counter
    }

    /// `R3` at the current iteration.
    pub(crate) fn part3(&self) -> &[u8; 32] {
        let [_, _, _, p3] = &self.parts;
        p3
    }

    /// `R_k = HMAC(R_from, k)` for every `k >= from`, all from the old
    /// value of `R_from`.
    fn reseed_from(&mut self, from: usize) {
        let Some(source) = self.parts.get(from) else { return };
        let keyed = crypto::keyed_hmac(source);
        for (part, data) in self.parts.iter_mut().zip(label::GROUP_RATCHET_PART).skip(from) {
            let mut mac = keyed.clone();
            mac.update(&[data]);
            *part = mac.finalize().into_bytes().into();
        }
    }

    /// `R_k = HMAC(R_k, k)` alone (an intermediate step of [`Self::advance_to`]).
    fn rehash_alone(&mut self, k: usize) {
        let (Some(part), Some(data)) = (self.parts.get_mut(k), label::GROUP_RATCHET_PART.get(k)) else { return };
        let mut mac = crypto::keyed_hmac(part);
        mac.update(&[*data]);
        *part = mac.finalize().into_bytes().into();
    }

    /// Moves to the next iteration.
    pub(crate) fn advance(&mut self) -> Result<()> {
        let next = self.counter.checked_add(1).ok_or(Error::LimitReached {
            what: "iterations per group sender key (rotate it)",
            max: u32::MAX as usize,
        })?;
        self.reseed_from(level_of(next));
        self.counter = next;
        Ok(())
    }

    /// Moves forward to `target` (no-op if `target` is not ahead). Each part
    /// is rehashed at most 255 times; lower parts are reseeded once per
    /// level, giving the same state as `target - counter` single steps.
    pub(crate) fn advance_to(&mut self, target: u32) {
        if target <= self.counter {
            return;
        }
        for level in 0..PARTS {
            let shift = 8 * (PARTS - 1 - level) as u32;
            let steps = (target >> shift).wrapping_sub(self.counter >> shift) & 0xff;
            if steps == 0 {
                continue;
            }
            for _ in 1..steps {
                self.rehash_alone(level);
            }
            self.reseed_from(level);
            self.counter = target & (u32::MAX << shift);
        }
    }

    /// The key of the current iteration, then advances past it. The key is
    /// derived and the state moved with one keyed HMAC in the common case.
    pub(crate) fn next_key(&mut self) -> Result<MessageKey> {
        let next = self.counter.checked_add(1).ok_or(Error::LimitReached {
            what: "iterations per group sender key (rotate it)",
            max: u32::MAX as usize,
        })?;
        if level_of(next) == PARTS - 1 {
            let (key, part3) = step_part3(self.part3(), self.counter);
            let [_, _, _, p3] = &mut self.parts;
            *p3 = part3;
            self.counter = next;
            Ok(key)
        } else {
            let key = message_key(self.part3(), self.counter);
            self.advance()?;
            Ok(key)
        }
    }

    /// The state's parts as one zeroizing buffer, for a distribution.
    pub(crate) fn to_secret_bytes(&self) -> Zeroizing<[u8; RATCHET_LEN]> {
        let mut out = Zeroizing::new([0u8; RATCHET_LEN]);
        for (chunk, part) in out.chunks_exact_mut(32).zip(&self.parts) {
            chunk.copy_from_slice(part);
        }
        out
    }
}

impl core::fmt::Debug for Ratchet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ratchet").field("iteration", &self.counter).finish_non_exhaustive()
    }
}

impl core::fmt::Debug for MessageKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MessageKey(<redacted>)")
    }
}

impl core::fmt::Debug for Run {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Run").field("start", &self.start).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;

    fn at(counter: u32, seed: u64) -> Ratchet {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut r = Ratchet::random(&mut rng);
        r.counter = counter;
        r
    }

    fn stepwise(mut r: Ratchet, target: u32) -> Ratchet {
        while r.counter < target {
            r.advance().unwrap();
        }
        r
    }

    #[test]
    fn advance_to_equals_single_steps_across_every_level_boundary() {
        let starts = [0u32, 1, 250, 255, 0xfff0, 0xffff, 0x00ff_fff0, 0x01ff_ff00, 0xfeff_fffe];
        let mut rng = StdRng::seed_from_u64(7);
        for (i, &start) in starts.iter().enumerate() {
            for _ in 0..4 {
                let gap: u32 = rng.random_range(0..1200);
                let Some(target) = start.checked_add(gap) else { continue };
                let mut fast = at(start, i as u64);
                fast.advance_to(target);
                let slow = stepwise(at(start, i as u64), target);
                assert_eq!(fast.counter, target);
                assert_eq!(fast.parts, slow.parts, "start {start:#x} target {target:#x}");
            }
        }
    }

    #[test]
    fn advance_to_matches_a_two_stage_walk_over_huge_gaps() {
        // 0 -> b via advance_to equals 0 -> a -> b for any a in between.
        let mut rng = StdRng::seed_from_u64(9);
        for _ in 0..50 {
            let b: u32 = rng.random_range(1..u32::MAX);
            let a: u32 = rng.random_range(0..b);
            let mut direct = at(0, 1);
            direct.advance_to(b);
            let mut staged = at(0, 1);
            staged.advance_to(a);
            staged.advance_to(b);
            assert_eq!(direct.parts, staged.parts);
        }
    }

    #[test]
    fn next_key_equals_message_key_then_advance() {
        for start in [0u32, 254, 255, 0xffff, 0x00ff_ffff] {
            let mut a = at(start, 3);
            let b = at(start, 3);
            let k = a.next_key().unwrap();
            assert!(k == message_key(b.part3(), start));
            let mut b = b;
            b.advance().unwrap();
            assert_eq!(a.parts, b.parts);
            assert_eq!(a.counter, start + 1);
        }
    }

    #[test]
    fn runs_derive_the_keys_of_their_block_only() {
        let mut r = at(0x300, 5);
        let run = Run { start: r.counter, part3: *r.part3() };
        let mut p3 = run.part3;
        for i in run.start..=run.last() {
            let (k, next) = step_part3(&p3, i);
            assert!(k == r.next_key().unwrap());
            p3 = next;
        }
        // The next block's key is not the run's continuation.
        assert!(step_part3(&p3, run.last() + 1).0 != r.next_key().unwrap());
    }

    #[test]
    fn every_iteration_has_a_distinct_key_and_the_counter_is_bound() {
        let mut r = at(0, 11);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..600 {
            assert!(seen.insert(r.next_key().unwrap().0));
        }
        let r = at(5, 11);
        assert!(message_key(r.part3(), 5) != message_key(r.part3(), 6));
        let mut last = at(u32::MAX, 1);
        assert!(last.next_key().is_err());
        assert!(last.advance().is_err());
    }
}
