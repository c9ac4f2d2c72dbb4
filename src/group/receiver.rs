//! One installed sender key of another member: what we decrypt with.
//!
//! A receiver keeps the sender's ratchet at the **next iteration it has not
//! seen** and, for the iterations it skipped inside the window, the
//! [`Subtree`]s of the key tree that cover them exactly (whole blocks as
//! their root, parts of a block as at most 8 aligned subtrees; see
//! `chain.rs`).
//!
//! A late message inside a stored subtree *splits* it: the siblings along
//! the path to the message (at most 8) replace it and the message's key is
//! used. No stored value can derive the key of a message that was already
//! read, so a delivered message keeps its forward secrecy; and a catch-up
//! over any distance costs at most 3 · 255 block-level rehashes plus 8 node
//! expansions, storing one entry per skipped block of the window and at
//! most 8 for the newest block.
//!
//! Everything older than the window of the newest iteration is deleted.
//! Decryption only *plans* ([`Receiver::plan`]); the caller applies the
//! returned [`Commit`] once the message has authenticated and been accepted.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, VerifyingKey};

use super::chain::{BLOCK, MessageKey, Ratchet, Subtree};
use crate::error::{Error, Result};
use crate::limits::GROUP_OUT_OF_ORDER_WINDOW;

const _: () = assert!(GROUP_OUT_OF_ORDER_WINDOW.is_multiple_of(BLOCK), "the window must be whole blocks");

/// Most skipped entries one receiver can hold: the window's blocks plus the
/// newest one, each covered by at most 128 subtrees (every other iteration
/// read).
pub(crate) const MAX_SKIPPED: usize = ((GROUP_OUT_OF_ORDER_WINDOW / BLOCK + 1) * (BLOCK / 2)) as usize;

/// An installed sender key of another member.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) key_id: u32,
    /// The sender's generation of this key (higher is newer).
    pub(crate) generation: u32,
    pub(crate) signing: VerifyingKey,
    /// The ratchet at the next iteration not yet received.
    pub(crate) ratchet: Ratchet,
    /// Skipped iterations inside the window, as the subtrees covering them,
    /// by first iteration (disjoint, all before the ratchet).
    pub(crate) skipped: BTreeMap<u32, Subtree>,
}

/// The state change of one accepted message; see [`Receiver::apply`].
// `Advance` carries the new ratchet inline (about 400 bytes, no heap): a
// box would cost an allocation per message for a value that lives only
// between planning and applying.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Commit {
    /// A late message inside the stored subtree starting at `start`: replace
    /// it by the siblings along the message's path.
    Split { start: u32, siblings: Vec<Subtree> },
    /// A message at or after the next iteration: new ratchet, the newly
    /// skipped subtrees, and everything before `window_start` deleted.
    Advance { ratchet: Ratchet, window_start: u32, skipped: Vec<Subtree> },
}

/// The oldest iteration still kept once `newest` has been received.
pub(crate) fn window_start(newest: u32) -> u32 {
    (newest & !(BLOCK - 1)).saturating_sub(GROUP_OUT_OF_ORDER_WINDOW)
}

impl Receiver {
    pub(crate) fn new(key_id: u32, generation: u32, signing: VerifyingKey, ratchet: Ratchet) -> Self {
        Self { key_id, generation, signing, ratchet, skipped: BTreeMap::new() }
    }

    /// Checks the sender's signature over `signed`: RFC 8032's cofactorless
    /// equation with a canonical `S`, against a signing key that was checked
    /// canonical, not of small order and torsion-free when it was installed
    /// (`parse_signing_key`). That is what `verify_strict` adds for the key;
    /// its remaining check, a small-order `R`, cannot matter here: with a
    /// torsion-free key and base point, `R = [S]B - [k]A` lies in the
    /// prime-order subgroup, so only the identity could pass, and only the
    /// key's owner could make it. Skipping the check saves decompressing `R`
    /// (a field inversion, about 5% of a 100-byte group decrypt).
    pub(crate) fn verify(&self, signed: &[u8], signature: &[u8; 64]) -> Result<()> {
        use ed25519_dalek::Verifier;
        self.signing
            .verify(signed, &Signature::from_bytes(signature))
            .map_err(|_| Error::InvalidSignature("group message"))
    }

    /// Stored skipped entries.
    pub(crate) fn stored(&self) -> usize {
        self.skipped.len()
    }

    /// The key for `iteration` and the state change that using it requires;
    /// changes nothing.
    pub(crate) fn plan(&self, iteration: u32) -> Result<(MessageKey, Commit)> {
        if iteration >= self.ratchet.counter() {
            return self.plan_advance(iteration);
        }
        let (_, node) = self.skipped.range(..=iteration).next_back().ok_or(Error::DuplicateMessage)?;
        if !node.contains(iteration) {
            return Err(Error::DuplicateMessage);
        }
        let mut siblings = Vec::with_capacity(usize::from(node.level));
        let key = node.clone().split_at(iteration, |s| siblings.push(s));
        Ok((key, Commit::Split { start: node.start, siblings }))
    }

    /// A message at or after the next iteration: skip to it, keeping the
    /// skipped subtrees that stay inside the window.
    fn plan_advance(&self, iteration: u32) -> Result<(MessageKey, Commit)> {
        let window_start = window_start(iteration);
        let block_start = iteration & !(BLOCK - 1);
        let mut walk = self.ratchet.clone();
        let mut skipped = Vec::new();
        let mut keep = |node: Subtree| {
            if node.start >= window_start {
                skipped.push(node);
            }
        };
        if walk.counter() < block_start {
            walk.finish_block(&mut keep)?;
            if walk.counter() < window_start {
                walk.advance_to(window_start);
            }
            while walk.counter() < block_start {
                walk.finish_block(&mut keep)?;
            }
        }
        walk.seek_in_block(iteration, &mut keep);
        let key = walk.next_key()?;
        Ok((key, Commit::Advance { ratchet: walk, window_start, skipped }))
    }

    /// Applies an accepted message's state change.
    pub(crate) fn apply(&mut self, commit: Commit) {
        match commit {
            Commit::Split { start, siblings } => {
                let _ = self.skipped.remove(&start);
                self.skipped.extend(siblings.into_iter().map(|s| (s.start, s)));
            }
            Commit::Advance { ratchet, window_start, skipped } => {
                self.skipped = self.skipped.split_off(&window_start);
                self.skipped.extend(skipped.into_iter().map(|s| (s.start, s)));
                self.ratchet = ratchet;
            }
        }
    }

    /// Deletes the entry of the lowest iteration; false if none is stored.
    pub(crate) fn evict_oldest(&mut self) -> bool {
        self.skipped.pop_first().is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn pair(seed: u64) -> (Ratchet, Receiver) {
        let mut rng = StdRng::seed_from_u64(seed);
        let sender = Ratchet::random(&mut rng);
        let signing = ed25519_dalek::SigningKey::from_bytes(&[seed as u8; 32]).verifying_key();
        let receiver = Receiver::new(1, 0, signing, sender.clone());
        (sender, receiver)
    }

    fn keys_until(sender: &mut Ratchet, n: u32) -> Vec<MessageKey> {
        (0..n).map(|_| sender.next_key().unwrap()).collect()
    }

    fn key_at(sender: &Ratchet, i: u32) -> MessageKey {
        let mut s = sender.clone();
        s.advance_to(i);
        s.next_key().unwrap()
    }

    fn receive(r: &mut Receiver, i: u32, expected: &MessageKey) -> Result<()> {
        let (key, commit) = r.plan(i)?;
        assert!(&key == expected, "wrong key for iteration {i}");
        r.apply(commit);
        Ok(())
    }

    /// Every stored subtree: aligned, disjoint, before the ratchet, and not
    /// mergeable with its sibling (the cover is the canonical one).
    fn assert_canonical(r: &Receiver) {
        let mut previous: Option<&Subtree> = None;
        for (start, node) in &r.skipped {
            assert_eq!(*start, node.start);
            assert_eq!(node.start & ((1 << node.level) - 1), 0);
            assert!(node.last() < r.ratchet.counter());
            if let Some(p) = previous {
                assert!(p.last() < node.start);
                assert!(!p.is_sibling_of(node));
            }
            previous = Some(node);
        }
        assert!(r.stored() <= MAX_SKIPPED);
    }

    #[test]
    fn every_order_within_the_window_decrypts_once() {
        let (mut sender, mut r) = pair(1);
        let keys = keys_until(&mut sender, 1500);
        let mut order: Vec<u32> = (0..1500).collect();
        use rand::seq::SliceRandom;
        order.shuffle(&mut StdRng::seed_from_u64(2));
        for &i in &order {
            receive(&mut r, i, &keys[i as usize]).unwrap();
            assert_eq!(r.plan(i).err(), Some(Error::DuplicateMessage));
            assert_canonical(&r);
        }
        assert_eq!(r.stored(), 0);
    }

    #[test]
    fn catching_up_a_billion_iterations_stores_a_bounded_amount() {
        let (sender, mut r) = pair(3);
        let target = 1_000_000_123;
        receive(&mut r, target, &key_at(&sender, target)).unwrap();
        // One root per block of the window, and the subtrees covering the
        // 123 skipped iterations of the newest block (123 = 0b1111011).
        let blocks = (GROUP_OUT_OF_ORDER_WINDOW / BLOCK) as usize;
        assert_eq!(r.skipped.values().filter(|s| s.level == 8).count(), blocks);
        assert_eq!(r.stored(), blocks + 123u32.count_ones() as usize);
        assert_canonical(&r);
        // A late message in the oldest block and one in the newest block.
        let oldest = window_start(target);
        receive(&mut r, oldest + 7, &key_at(&sender, oldest + 7)).unwrap();
        receive(&mut r, target - 1, &key_at(&sender, target - 1)).unwrap();
        assert_canonical(&r);
        // Out of the window: gone.
        assert_eq!(r.plan(oldest - 1).err(), Some(Error::DuplicateMessage));
        receive(&mut r, target + 1, &key_at(&sender, target + 1)).unwrap();
    }

    #[test]
    fn no_stored_value_derives_a_delivered_key() {
        let (mut sender, mut r) = pair(4);
        let keys = keys_until(&mut sender, 3 * 256);
        receive(&mut r, 700, &keys[700]).unwrap(); // roots of blocks 0 and 1, subtrees of 512..700
        receive(&mut r, 300, &keys[300]).unwrap(); // splits block 1's root
        receive(&mut r, 600, &keys[600]).unwrap(); // splits a subtree of block 2
        for i in [300usize, 600, 700] {
            for node in r.skipped.values() {
                for j in node.start..=node.last() {
                    assert!(node.clone().split_at(j, drop) != keys[i]);
                }
            }
        }
        assert_canonical(&r);
        for i in [511u32, 301, 299, 256, 0, 599, 601, 512, 699] {
            receive(&mut r, i, &keys[i as usize]).unwrap();
        }
    }

    #[test]
    fn reading_every_other_iteration_reaches_the_bound_and_no_more() {
        let (mut sender, mut r) = pair(7);
        let n = GROUP_OUT_OF_ORDER_WINDOW + BLOCK;
        let keys = keys_until(&mut sender, n);
        receive(&mut r, n - 1, &keys[(n - 1) as usize]).unwrap();
        for i in (1..n - 1).step_by(2) {
            receive(&mut r, i, &keys[i as usize]).unwrap();
        }
        assert_eq!(r.stored(), MAX_SKIPPED);
        assert_canonical(&r);
    }

    #[test]
    fn the_window_deletes_old_entries() {
        let (mut sender, mut r) = pair(5);
        let keys = keys_until(&mut sender, 4000);
        receive(&mut r, 10, &keys[10]).unwrap();
        receive(&mut r, 3999, &keys[3999]).unwrap();
        let start = window_start(3999);
        assert!(r.skipped.values().all(|s| s.start >= start));
        assert_eq!(r.plan(5).err(), Some(Error::DuplicateMessage));
        assert_eq!(r.plan(start - 1).err(), Some(Error::DuplicateMessage));
        receive(&mut r, start, &keys[start as usize]).unwrap();
    }

    #[test]
    fn eviction_removes_the_lowest_iteration_first() {
        let (mut sender, mut r) = pair(6);
        let keys = keys_until(&mut sender, 600);
        receive(&mut r, 599, &keys[599]).unwrap(); // roots 0 and 256; subtrees of 512..599
        receive(&mut r, 260, &keys[260]).unwrap(); // splits root 256
        assert!(r.evict_oldest()); // block 0
        assert_eq!(r.plan(0).err(), Some(Error::DuplicateMessage));
        assert!(r.evict_oldest()); // 256..=259
        assert_eq!(r.plan(256).err(), Some(Error::DuplicateMessage));
        receive(&mut r, 261, &keys[261]).unwrap();
    }
}
