//! The sender-key ratchet: Megolm's hierarchical HMAC-SHA256 ratchet for
//! the upper three bytes of the iteration, and a binary key tree inside each
//! 256-iteration block.
//!
//! **Blocks.** Three 32-byte parts `R0..R2` belong to the three upper bytes
//! of the 32-bit iteration counter (`R0` to the most significant). Entering
//! a new block re-derives the part of the highest byte that changed, every
//! part below it, and the new block's **root**, all from that part's old
//! value (as Megolm does with its fourth part). Skipping any number of
//! blocks costs at most 3 · 255 rehashes plus reseeds.
//!
//! **Inside a block.** The root is the top of a binary tree of depth 8 whose
//! 256 leaves are the block's message keys: a node of level `l >= 2` has two
//! children of level `l - 1`, `HMAC(node, GROUP_TREE_NODE || l-1 || bit)`, and
//! a node of level 1 has the two message keys
//! `HMAC(node, GROUP_MESSAGE_KEY || iteration)`. A [`Subtree`] (a node, its
//! level and its first iteration) derives exactly the keys under it, and
//! nothing before or after. So:
//!
//! * the ratchet at iteration `i` is `R0..R2` plus the **frontier**: the at
//!   most 8 subtrees covering `i..=` the end of the block (one per set bit of
//!   `256 - (i mod 256)`), nothing that derives a key before `i`;
//! * a receiver keeps skipped iterations as the subtrees covering them: a
//!   catch-up to iteration `j` costs at most 8 node expansions inside the
//!   target block (Megolm: up to 255 sequential hashes) and stores at most 8
//!   entries for that block, one per skipped block before it;
//! * a late message inside a stored subtree splits it into the siblings along
//!   its path (at most 8), so no stored value derives the key of a message
//!   already read.
//!
//! Every value only moves forward or down through one-way functions, so a
//! state at iteration `i` cannot derive anything before `i`. The layout is
//! specified in [GROUP](crate::docs::group).

use hmac::Mac;
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::{self, label};
use crate::error::{Error, Result, WireError};
use crate::wire::codec::{Reader, Writer};

/// Number of block-level ratchet parts (`R0..R2`).
pub(crate) const PARTS: usize = 3;

/// Iterations in one block (the range of the lowest counter byte).
pub(crate) const BLOCK: u32 = 256;

/// Level of a block's root (its tree has `2^ROOT_LEVEL` leaves).
pub(crate) const ROOT_LEVEL: u8 = 8;

/// Encoded length of a ratchet at iteration `counter`: the counter, `R0..R2`
/// and its frontier.
pub(crate) fn encoded_len(counter: u32) -> usize {
    4 + PARTS * 32 + 32 * frontier_mask(counter).count_ones() as usize
}

/// The longest [`encoded_len`] (a frontier of 8 subtrees, one iteration
/// into a block).
#[allow(dead_code, reason = "read only by a compile-time assertion, which Rust 1.88 does not count as a use")]
pub(crate) const MAX_ENCODED_LEN: usize = 4 + PARTS * 32 + 8 * 32;

/// Bit `l` set: the frontier at `counter` holds a subtree of level `l`.
fn frontier_mask(counter: u32) -> u32 {
    BLOCK - (counter & (BLOCK - 1))
}

fn iteration_limit() -> Error {
    Error::LimitReached { what: "iterations per group sender key (rotate it)", max: u32::MAX as usize }
}

/// A single-use message key (expanded into the ChaCha20 key of one iteration).
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
    /// -> ChaCha20 key (32) || nonce (12) || key commitment (32).
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

/// One node of a block's key tree: it derives the keys of iterations
/// `start..=last()` and nothing else. Level 0 is a message key itself.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub(crate) struct Subtree {
    /// The first iteration under the node (a multiple of `2^level`).
    pub(crate) start: u32,
    /// `0..=ROOT_LEVEL`: the node covers `2^level` iterations.
    pub(crate) level: u8,
    pub(crate) value: [u8; 32],
}

impl Subtree {
    /// A node as read from storage: aligned and at most a block.
    pub(crate) fn new(start: u32, level: u8, value: [u8; 32]) -> core::result::Result<Self, WireError> {
        if level > ROOT_LEVEL || start & ((1u32 << level) - 1) != 0 {
            return Err(WireError::InvalidField("group key subtree level or alignment"));
        }
        Ok(Self { start, level, value })
    }

    /// The last iteration under the node.
    pub(crate) fn last(&self) -> u32 {
        self.start | ((1u32 << self.level) - 1)
    }

    pub(crate) fn contains(&self, iteration: u32) -> bool {
        self.start <= iteration && iteration <= self.last()
    }

    /// Whether `other` is this node's sibling (the two halves of one parent).
    pub(crate) fn is_sibling_of(&self, other: &Subtree) -> bool {
        self.level == other.level && self.level < ROOT_LEVEL && (self.start ^ other.start) == 1u32 << self.level
    }

    /// The two children (one keyed HMAC, two inputs). Level 0 has none.
    fn children(&self) -> Option<(Subtree, Subtree)> {
        let level = self.level.checked_sub(1)?;
        let right_start = self.start | (1u32 << level);
        let keyed = crypto::keyed_hmac(&self.value);
        let mut left = keyed.clone();
        let mut right = keyed;
        if level == 0 {
            left.update(label::GROUP_MESSAGE_KEY);
            left.update(&self.start.to_be_bytes());
            right.update(label::GROUP_MESSAGE_KEY);
            right.update(&right_start.to_be_bytes());
        } else {
            left.update(label::GROUP_TREE_NODE);
            left.update(&[level, 0]);
            right.update(label::GROUP_TREE_NODE);
            right.update(&[level, 1]);
        }
        Some((
            Subtree { start: self.start, level, value: left.finalize().into_bytes().into() },
            Subtree { start: right_start, level, value: right.finalize().into_bytes().into() },
        ))
    }

    /// Splits the node around `iteration` (inside it): the key of
    /// `iteration`, and every sibling along the path handed to `sibling`
    /// (those before `iteration` and those after it).
    pub(crate) fn split_at(self, iteration: u32, mut sibling: impl FnMut(Subtree)) -> MessageKey {
        let mut node = self;
        while let Some((left, right)) = node.children() {
            if iteration > left.last() {
                sibling(left);
                node = right;
            } else {
                sibling(right);
                node = left;
            }
        }
        MessageKey(node.value)
    }
}

/// The sender-key ratchet at one iteration. Secret: zeroized on drop. Fixed
/// size (no heap), so copies are plain and never left behind in freed
/// memory.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Ratchet {
    /// `R0..R2` of the block of `counter`.
    parts: [[u8; 32]; PARTS],
    /// The iteration whose key this state derives next.
    counter: u32,
    /// `frontier[l]`: the subtree of level `l` covering part of
    /// `counter..=` the end of the block, when bit `l` of
    /// [`frontier_mask`] is set; zero otherwise.
    frontier: [[u8; 32]; ROOT_LEVEL as usize + 1],
}

/// Which part changes when the counter enters the block starting at `next`.
fn level_of(next: u32) -> usize {
    if next & 0x00ff_ffff == 0 {
        0
    } else if next & 0xffff == 0 {
        1
    } else {
        2
    }
}

impl Ratchet {
    /// A fresh random ratchet at iteration 0.
    pub(crate) fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut ratchet = Self { parts: [[0u8; 32]; PARTS], counter: 0, frontier: Default::default() };
        for part in &mut ratchet.parts {
            rng.fill_bytes(part);
        }
        if let Some(root) = ratchet.frontier.get_mut(usize::from(ROOT_LEVEL)) {
            rng.fill_bytes(root);
        }
        ratchet
    }

    /// The iteration whose key this state derives next.
    pub(crate) fn counter(&self) -> u32 {
        self.counter
    }

    /// The frontier as subtrees, in iteration order.
    fn frontier_subtrees(&self) -> impl Iterator<Item = Subtree> + '_ {
        let mask = frontier_mask(self.counter);
        self.frontier.iter().enumerate().filter(move |(l, _)| mask & (1 << l) != 0).map(move |(l, value)| {
            let level = l as u8;
            let start = self.counter + (mask & ((1u32 << level) - 1));
            Subtree { start, level, value: *value }
        })
    }

    /// `R_k = HMAC(R_from, k)` for `k = from..PARTS`, and the new block's
    /// root `HMAC(R_from, 3)`, all from the old value of `R_from`.
    fn reseed_from(&mut self, from: usize) {
        let Some(source) = self.parts.get(from) else { return };
        let keyed = crypto::keyed_hmac(source);
        let mut root = keyed.clone();
        root.update(&[label::GROUP_RATCHET_PART[PARTS]]);
        for (part, data) in self.parts.iter_mut().zip(label::GROUP_RATCHET_PART).skip(from) {
            let mut mac = keyed.clone();
            mac.update(&[data]);
            *part = mac.finalize().into_bytes().into();
        }
        self.frontier.zeroize();
        if let Some(slot) = self.frontier.get_mut(usize::from(ROOT_LEVEL)) {
            *slot = root.finalize().into_bytes().into();
        }
    }

    /// `R_k = HMAC(R_k, k)` alone (an intermediate step of a block skip).
    fn rehash_alone(&mut self, k: usize) {
        let (Some(part), Some(data)) = (self.parts.get_mut(k), label::GROUP_RATCHET_PART.get(k)) else { return };
        let mut mac = crypto::keyed_hmac(part);
        mac.update(&[*data]);
        *part = mac.finalize().into_bytes().into();
    }

    /// Enters the block starting at `target` (block-aligned, after the
    /// current block), dropping everything before it. Each part is rehashed
    /// at most 255 times; the result equals entering every block in turn.
    fn skip_to_block(&mut self, target: u32) {
        for level in 0..PARTS {
            let shift = 8 * (PARTS - level) as u32;
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

    /// Hands every subtree of the rest of the block to `skipped` and enters
    /// the next block. Fails only in the last block, which has no next.
    pub(crate) fn finish_block(&mut self, mut skipped: impl FnMut(Subtree)) -> Result<()> {
        let next = (self.counter | (BLOCK - 1)).checked_add(1).ok_or_else(iteration_limit)?;
        self.frontier_subtrees().for_each(&mut skipped);
        self.reseed_from(level_of(next));
        self.counter = next;
        Ok(())
    }

    /// Moves to `target` inside the current block (no-op if it is not
    /// ahead), handing every subtree before it to `skipped`.
    pub(crate) fn seek_in_block(&mut self, target: u32, mut skipped: impl FnMut(Subtree)) {
        if target <= self.counter || target > self.counter | (BLOCK - 1) {
            return;
        }
        let mut frontier: [[u8; 32]; ROOT_LEVEL as usize + 1] = Default::default();
        let mut keep = |node: Subtree| {
            if let Some(slot) = frontier.get_mut(usize::from(node.level)) {
                *slot = node.value;
            }
        };
        for node in self.frontier_subtrees() {
            if node.last() < target {
                skipped(node);
            } else if node.start >= target {
                keep(node);
            } else {
                let mut node = node;
                while node.start < target {
                    let Some((left, right)) = node.children() else { break };
                    if target > left.last() {
                        skipped(left);
                        node = right;
                    } else {
                        keep(right);
                        node = left;
                    }
                }
                keep(node);
            }
        }
        self.frontier.zeroize();
        self.frontier = frontier;
        frontier.zeroize();
        self.counter = target;
    }

    /// Moves forward to `target` (no-op if it is not ahead), dropping every
    /// key before it; the same state as `target - counter` single steps.
    pub(crate) fn advance_to(&mut self, target: u32) {
        if target <= self.counter {
            return;
        }
        if target & !(BLOCK - 1) != self.counter & !(BLOCK - 1) {
            self.skip_to_block(target & !(BLOCK - 1));
        }
        self.seek_in_block(target, drop);
    }

    /// The key of the current iteration, then advances past it: the
    /// frontier's first subtree is split down to its first leaf (one keyed
    /// HMAC per level, about one per message on average).
    pub(crate) fn next_key(&mut self) -> Result<MessageKey> {
        let next = self.counter.checked_add(1).ok_or_else(iteration_limit)?;
        let level = frontier_mask(self.counter).trailing_zeros() as u8;
        let slot = self.frontier.get_mut(usize::from(level)).ok_or_else(iteration_limit)?;
        let mut node = Subtree { start: self.counter, level, value: *slot };
        slot.zeroize();
        while let Some((left, right)) = node.children() {
            if let Some(slot) = self.frontier.get_mut(usize::from(right.level)) {
                *slot = right.value;
            }
            node = left;
        }
        if next & (BLOCK - 1) == 0 {
            self.reseed_from(level_of(next));
        }
        self.counter = next;
        Ok(MessageKey(node.value))
    }

    /// Writes the counter, `R0..R2` and the frontier (its length follows
    /// from the counter): [`encoded_len`] bytes.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(self.counter);
        for part in &self.parts {
            w.bytes(part);
        }
        for node in self.frontier_subtrees() {
            w.bytes(&node.value);
        }
    }

    /// Reads what [`Self::encode`] wrote.
    pub(crate) fn decode(r: &mut Reader<'_>) -> core::result::Result<Self, WireError> {
        let mut ratchet = Self { parts: [[0u8; 32]; PARTS], counter: r.u32()?, frontier: Default::default() };
        for part in &mut ratchet.parts {
            *part = r.array()?;
        }
        let mask = frontier_mask(ratchet.counter);
        for (l, slot) in ratchet.frontier.iter_mut().enumerate() {
            if mask & (1 << l) != 0 {
                *slot = r.array()?;
            }
        }
        Ok(ratchet)
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

impl core::fmt::Debug for Subtree {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Subtree").field("start", &self.start).field("level", &self.level).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;

    fn fresh(seed: u64) -> Ratchet {
        Ratchet::random(&mut StdRng::seed_from_u64(seed))
    }

    fn stepwise(mut r: Ratchet, target: u32) -> Ratchet {
        while r.counter < target {
            r.next_key().unwrap();
        }
        r
    }

    #[test]
    fn the_longest_encoding_is_max_encoded_len() {
        let longest = (0..2 * BLOCK).map(encoded_len).max().unwrap();
        assert_eq!(MAX_ENCODED_LEN, longest);
        assert_eq!(encoded_len(1), MAX_ENCODED_LEN, "one iteration into a block");
    }

    #[test]
    fn siblings_are_exactly_the_two_halves_of_one_parent() {
        let node = |start, level| Subtree::new(start, level, [0; 32]).unwrap();
        for (a, b) in
            [(node(0, 0), node(1, 0)), (node(2, 0), node(3, 0)), (node(4, 2), node(0, 2)), (node(8, 3), node(0, 3))]
        {
            assert!(a.is_sibling_of(&b) && b.is_sibling_of(&a), "{}/{} and {}/{}", a.start, a.level, b.start, b.level);
        }
        let not = [
            (node(1, 0), node(2, 0)), // adjacent, different parents
            (node(0, 1), node(4, 1)),
            (node(0, 1), node(2, 0)),                       // different levels
            (node(0, 1), node(0, 1)),                       // itself
            (node(0, ROOT_LEVEL), node(BLOCK, ROOT_LEVEL)), // roots of two blocks: no common parent
        ];
        for (a, b) in not {
            assert!(
                !a.is_sibling_of(&b) && !b.is_sibling_of(&a),
                "{}/{} and {}/{}",
                a.start,
                a.level,
                b.start,
                b.level
            );
        }
    }

    /// Known answers: the message key of each iteration from a fixed
    /// state, across the block, part 2, part 1 and part 0 boundaries
    /// (fixes every label, input layout and which part changes where;
    /// the other tests only check that the paths agree with each other).
    #[test]
    fn message_keys_match_known_answers() {
        let mut root = Ratchet { parts: [[1; 32], [2; 32], [3; 32]], counter: 0, frontier: Default::default() };
        root.frontier[usize::from(ROOT_LEVEL)] = [4; 32];
        let expected = [
            (0, "6ae662a105ba2b0f60a20c1de6401249fa007c111f2f4e0bc57e48d1946adac8"),
            (1, "2b8c40eb6f4c0720b408c46cf9c0573c814538b7b444b3d23d3dae4a18f34bc8"),
            (255, "7e271f525200abdef0f08a03bea915f03cb6bd61c8f26824c7243e22ec30a163"),
            (256, "229df095d47a92de0267052d8d848d9e5984f50ada05ed07d22d38a8a8e4c556"),
            (0xffff, "48300f197637d3bd6ad8452f8473fe67b325fcfcbfb90a562e0a9eef8790c4ea"),
            (0x1_0000, "c7ee5986d20b46a6496195cac581dad55ff4607d3d8afdd68ea8b4fc2b24f376"),
            (0x100_0000, "1d133cd61a577003c36eb565050f81d6e831eacc2198b51ecab42e8f061dd493"),
            (0x100_0001, "93087a30045c887d2003fcc14f77e0acee8091c3c81fc800cb2b55b7d22a7c38"),
            (u32::MAX - 1, "d53c423569b973e2a7a662faf05ce53cbb858ed0caf4eca82db5e53b9beb2701"),
        ];
        for (iteration, hex) in expected {
            let mut r = root.clone();
            r.advance_to(iteration);
            let key = r.next_key().unwrap();
            let got: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex, "iteration {iteration:#x}");
        }
    }

    #[test]
    fn seeking_backwards_or_past_the_block_changes_nothing() {
        let at_10 = stepwise(fresh(3), 10);
        for target in [0, 9, 10, BLOCK, BLOCK + 5] {
            let mut r = at_10.clone();
            let mut handed = 0;
            r.seek_in_block(target, |_| handed += 1);
            assert!(same(&r, &at_10), "target {target}");
            assert_eq!(handed, 0, "target {target}");
        }
        let mut r = at_10.clone();
        let mut handed = Vec::new();
        r.seek_in_block(BLOCK - 1, |node| handed.push((node.start, node.level)));
        assert_eq!(r.counter(), BLOCK - 1, "the last iteration of the block is inside it");
        assert_eq!(handed.iter().map(|&(_, level)| 1u32 << level).sum::<u32>(), BLOCK - 1 - 10);
    }

    #[test]
    fn debug_shows_positions_and_never_a_key() {
        let r = stepwise(fresh(4), 5);
        assert_eq!(format!("{r:?}"), "Ratchet { iteration: 5, .. }");
        let key = r.clone().next_key().unwrap();
        assert_eq!(format!("{key:?}"), "MessageKey(<redacted>)");
        let node = Subtree::new(8, 3, [0xAB; 32]).unwrap();
        assert_eq!(format!("{node:?}"), "Subtree { start: 8, level: 3, .. }");
    }

    /// Stepping into a block one key at a time (which reseeds the part
    /// `level_of` names) reaches the same keys as jumping there.
    #[test]
    fn stepping_across_each_part_boundary_matches_jumping() {
        for boundary in [BLOCK, 0x1_0000, 0x100_0000] {
            let mut stepped = fresh(5);
            stepped.advance_to(boundary - 1);
            stepped.next_key().unwrap();
            let mut jumped = fresh(5);
            jumped.advance_to(boundary);
            assert!(same(&stepped, &jumped), "boundary {boundary:#x}");
            assert_eq!(stepped.next_key().unwrap(), jumped.next_key().unwrap());
        }
    }

    fn same(a: &Ratchet, b: &Ratchet) -> bool {
        a.counter == b.counter && a.parts == b.parts && a.frontier == b.frontier
    }

    /// The key of `iteration` straight from its block's root.
    fn from_root(root: &Subtree, iteration: u32) -> MessageKey {
        root.clone().split_at(iteration, drop)
    }

    #[test]
    fn advance_to_equals_single_steps_across_every_level_boundary() {
        let mut rng = StdRng::seed_from_u64(7);
        for (i, start) in [0u32, 1, 250, 255, 0x1ff0, 0xffff, 0x01_00f0].into_iter().enumerate() {
            let base = stepwise(fresh(i as u64), start);
            for _ in 0..4 {
                let target = start + rng.random_range(0..1200);
                let mut fast = base.clone();
                fast.advance_to(target);
                assert!(same(&fast, &stepwise(base.clone(), target)), "start {start:#x} target {target:#x}");
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
            let mut direct = fresh(1);
            direct.advance_to(b);
            let mut staged = fresh(1);
            staged.advance_to(a);
            staged.advance_to(b);
            assert!(same(&direct, &staged), "0 -> {a:#x} -> {b:#x}");
        }
    }

    #[test]
    fn every_key_of_a_block_comes_from_its_root_and_the_frontier_is_canonical() {
        let mut r = fresh(3);
        r.advance_to(0x500);
        let root = r.frontier_subtrees().next().unwrap();
        assert_eq!((root.start, root.level), (0x500, ROOT_LEVEL));
        for i in 0x500..0x600 {
            // The frontier covers exactly i..=end of block, in order.
            let mut next = i;
            for node in r.frontier_subtrees() {
                assert_eq!(node.start, next);
                assert_eq!(node.start & ((1 << node.level) - 1), 0, "aligned");
                next = node.last() + 1;
            }
            assert_eq!(next, 0x600);
            assert_eq!(encoded_len(i), 100 + 32 * r.frontier_subtrees().count());
            assert!(r.next_key().unwrap() == from_root(&root, i), "iteration {i:#x}");
        }
        assert_eq!(r.counter, 0x600);
        assert_eq!(r.frontier_subtrees().count(), 1, "a new block starts at its root");
    }

    #[test]
    fn a_split_covers_everything_but_its_iteration() {
        let mut r = fresh(4);
        r.advance_to(0x300);
        let root = r.frontier_subtrees().next().unwrap();
        for target in [0x300, 0x301, 0x37f, 0x380, 0x3fe, 0x3ff] {
            let mut siblings = Vec::new();
            let key = root.clone().split_at(target, |s| siblings.push(s));
            assert!(key == from_root(&root, target));
            assert_eq!(siblings.len(), usize::from(ROOT_LEVEL));
            for i in 0x300..0x400u32 {
                let holders: Vec<_> = siblings.iter().filter(|s| s.contains(i)).collect();
                if i == target {
                    assert!(holders.is_empty(), "no sibling derives the used key");
                } else {
                    assert_eq!(holders.len(), 1);
                    assert!(holders[0].clone().split_at(i, drop) == from_root(&root, i));
                }
            }
        }
    }

    #[test]
    fn a_state_derives_nothing_before_its_iteration() {
        let mut r = fresh(5);
        r.advance_to(0x1234);
        let keys: Vec<_> = (0..0x40).map(|_| r.next_key().unwrap()).collect();
        let later = r.clone();
        for node in later.frontier_subtrees() {
            assert!(node.start >= 0x1234 + 0x40);
        }
        let mut probe = later;
        for _ in 0..0x400 {
            let k = probe.next_key().unwrap();
            assert!(keys.iter().all(|old| old != &k));
        }
    }

    #[test]
    fn encoding_round_trips_at_every_frontier_shape() {
        let mut r = fresh(6);
        for _ in 0..300 {
            let mut w = Writer::with_capacity(encoded_len(r.counter));
            r.encode(&mut w);
            let bytes = w.into_vec();
            assert_eq!(bytes.len(), encoded_len(r.counter));
            let mut reader = Reader::new(&bytes);
            assert!(same(&Ratchet::decode(&mut reader).unwrap(), &r));
            reader.finish().unwrap();
            r.next_key().unwrap();
        }
    }

    #[test]
    fn every_iteration_has_a_distinct_key_and_the_counter_is_bound() {
        let mut r = fresh(11);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..600 {
            assert!(seen.insert(r.next_key().unwrap().0));
        }
        let mut last = fresh(1);
        last.advance_to(u32::MAX - 1);
        last.next_key().unwrap();
        assert_eq!(last.counter, u32::MAX);
        assert!(last.next_key().is_err());
        assert!(last.clone().finish_block(drop).is_err());
    }
}
