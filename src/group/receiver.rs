//! One installed sender key of another member: what we decrypt with.
//!
//! A receiver keeps the sender's ratchet at the **next iteration it has not
//! seen** and, for iterations it skipped, bounded storage:
//!
//! * skipped iterations in the block of the newest message, and iterations
//!   of older blocks that a late message forced open, as single
//!   [`MessageKey`]s;
//! * skipped iterations of older blocks as [`Run`]s: `R3` at the first
//!   skipped iteration, which derives that block's remaining keys only.
//!
//! A late message inside a run *splits* it: the keys before the message are
//! materialized as single keys, the message's key is used, and the run
//! restarts after it. No stored value can derive the key of a message that
//! was already read, so a delivered message keeps its forward secrecy; and
//! a catch-up over a million iterations stores at most
//! `GROUP_OUT_OF_ORDER_WINDOW / 256` runs plus the keys of one block.
//!
//! Everything older than the window of the newest iteration is deleted.
//! Decryption only *plans* ([`Receiver::plan`]); the caller applies the
//! returned [`Commit`] once the message has authenticated and been accepted.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, VerifyingKey};

use super::chain::{BLOCK, MessageKey, Ratchet, Run, step_part3};
use crate::error::{Error, Result};
use crate::limits::GROUP_OUT_OF_ORDER_WINDOW;

const _: () = assert!(GROUP_OUT_OF_ORDER_WINDOW.is_multiple_of(BLOCK), "the window must be whole blocks");

/// An installed sender key of another member.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) key_id: u32,
    /// The sender's generation of this key (higher is newer).
    pub(crate) generation: u32,
    pub(crate) signing: VerifyingKey,
    /// The ratchet at the next iteration not yet received.
    pub(crate) ratchet: Ratchet,
    /// Skipped iterations of older blocks, ascending, one per block.
    pub(crate) runs: Vec<Run>,
    /// Single skipped message keys by iteration.
    pub(crate) keys: BTreeMap<u32, MessageKey>,
}

/// The state change of one accepted message; see [`Receiver::apply`].
pub(crate) enum Commit {
    /// A stored single key was used: delete it.
    UsedKey(u32),
    /// A late message inside the run starting at `start`: replace the run by
    /// the keys before the message and the rest of the run after it.
    SplitRun { start: u32, materialized: Vec<(u32, MessageKey)>, rest: Option<Run> },
    /// A message at or after the next iteration: new ratchet, new skipped
    /// storage, and everything before `window_start` deleted.
    Advance { ratchet: Ratchet, window_start: u32, runs: Vec<Run>, keys: Vec<(u32, MessageKey)> },
}

/// The oldest iteration still kept once `newest` has been received.
pub(crate) fn window_start(newest: u32) -> u32 {
    (newest & !(BLOCK - 1)).saturating_sub(GROUP_OUT_OF_ORDER_WINDOW)
}

impl Receiver {
    pub(crate) fn new(key_id: u32, generation: u32, signing: VerifyingKey, ratchet: Ratchet) -> Self {
        Self { key_id, generation, signing, ratchet, runs: Vec::new(), keys: BTreeMap::new() }
    }

    /// Checks the sender's signature over `signed` (strict Ed25519).
    pub(crate) fn verify(&self, signed: &[u8], signature: &[u8; 64]) -> Result<()> {
        self.signing
            .verify_strict(signed, &Signature::from_bytes(signature))
            .map_err(|_| Error::InvalidSignature("group message"))
    }

    /// Stored entries (single keys and runs).
    pub(crate) fn stored(&self) -> usize {
        self.keys.len() + self.runs.len()
    }

    /// The key for `iteration` and the state change that using it requires;
    /// changes nothing.
    pub(crate) fn plan(&self, iteration: u32) -> Result<(MessageKey, Commit)> {
        let next = self.ratchet.counter();
        if iteration >= next {
            return self.plan_advance(iteration);
        }
        if let Some(key) = self.keys.get(&iteration) {
            return Ok((key.clone(), Commit::UsedKey(iteration)));
        }
        let run = self.runs.iter().find(|r| r.contains(iteration)).ok_or(Error::DuplicateMessage)?;
        let mut part3 = run.part3;
        let mut materialized = Vec::with_capacity((iteration - run.start) as usize);
        for i in run.start..iteration {
            let (key, next) = step_part3(&part3, i);
            materialized.push((i, key));
            part3 = next;
        }
        let (key, after) = step_part3(&part3, iteration);
        let rest = (iteration < run.last()).then(|| Run { start: iteration + 1, part3: after });
        Ok((key, Commit::SplitRun { start: run.start, materialized, rest }))
    }

    /// A message at or after the next iteration: skip to it, storing the
    /// skipped iterations that stay inside the window.
    fn plan_advance(&self, iteration: u32) -> Result<(MessageKey, Commit)> {
        let window_start = window_start(iteration);
        let mut walk = self.ratchet.clone();
        walk.advance_to(window_start);
        let block_start = iteration & !(BLOCK - 1);
        let mut runs = Vec::new();
        while walk.counter() < block_start {
            let run = Run { start: walk.counter(), part3: *walk.part3() };
            walk.advance_to(run.last() + 1);
            runs.push(run);
        }
        let mut keys = Vec::with_capacity((iteration - walk.counter()) as usize);
        while walk.counter() < iteration {
            let i = walk.counter();
            keys.push((i, walk.next_key()?));
        }
        let key = walk.next_key()?;
        Ok((key, Commit::Advance { ratchet: walk, window_start, runs, keys }))
    }

    /// Applies an accepted message's state change.
    pub(crate) fn apply(&mut self, commit: Commit) {
        match commit {
            Commit::UsedKey(iteration) => {
                let _ = self.keys.remove(&iteration);
            }
            Commit::SplitRun { start, materialized, rest } => {
                if let Some(pos) = self.runs.iter().position(|r| r.start == start) {
                    match rest {
                        Some(run) => {
                            if let Some(slot) = self.runs.get_mut(pos) {
                                *slot = run;
                            }
                        }
                        None => {
                            let _ = self.runs.remove(pos);
                        }
                    }
                }
                self.keys.extend(materialized);
            }
            Commit::Advance { ratchet, window_start, runs, keys } => {
                self.runs.retain(|r| r.start >= window_start);
                self.keys = self.keys.split_off(&window_start);
                self.runs.extend(runs);
                self.keys.extend(keys);
                self.ratchet = ratchet;
            }
        }
    }

    /// Deletes the entry of the lowest iteration; false if none is stored.
    pub(crate) fn evict_oldest(&mut self) -> bool {
        let oldest_key = self.keys.first_key_value().map(|(i, _)| *i);
        let oldest_run = self.runs.first().map(|r| r.start);
        match (oldest_key, oldest_run) {
            (Some(k), Some(r)) if r < k => {
                let _ = self.runs.remove(0);
            }
            (Some(_), _) => {
                let _ = self.keys.pop_first();
            }
            (None, Some(_)) => {
                let _ = self.runs.remove(0);
            }
            (None, None) => return false,
        }
        true
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

    fn receive(r: &mut Receiver, i: u32, expected: &MessageKey) -> Result<()> {
        let (key, commit) = r.plan(i)?;
        assert!(&key == expected, "wrong key for iteration {i}");
        r.apply(commit);
        Ok(())
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
        }
        assert_eq!(r.stored(), 0);
    }

    #[test]
    fn catching_up_a_billion_iterations_stores_a_bounded_amount() {
        let (sender, mut r) = pair(3);
        let target = 1_000_000_123;
        let mut s = sender.clone();
        s.advance_to(target);
        let expected = s.next_key().unwrap();
        receive(&mut r, target, &expected).unwrap();
        // 8 runs before the newest block, 123 single keys inside it.
        assert_eq!(r.runs.len(), (GROUP_OUT_OF_ORDER_WINDOW / BLOCK) as usize);
        assert_eq!(r.keys.len(), 123);
        // A late message in the oldest run and one in the newest block.
        let oldest = window_start(target);
        let mut s = sender.clone();
        s.advance_to(oldest + 7);
        receive(&mut r, oldest + 7, &s.next_key().unwrap()).unwrap();
        let mut s = sender.clone();
        s.advance_to(target - 1);
        receive(&mut r, target - 1, &s.next_key().unwrap()).unwrap();
        // Out of the window: gone.
        assert_eq!(r.plan(oldest - 1).err(), Some(Error::DuplicateMessage));
    }

    #[test]
    fn no_stored_value_derives_a_delivered_key() {
        let (mut sender, mut r) = pair(4);
        let keys = keys_until(&mut sender, 3 * 256);
        receive(&mut r, 700, &keys[700]).unwrap(); // runs for blocks 0 and 1
        receive(&mut r, 300, &keys[300]).unwrap(); // splits block 1's run
        for i in [300usize, 700] {
            assert!(r.keys.values().all(|k| k != &keys[i]));
            for run in &r.runs {
                let mut p3 = run.part3;
                for j in run.start..=run.last() {
                    let (k, next) = step_part3(&p3, j);
                    assert!(k != keys[i]);
                    p3 = next;
                }
            }
        }
        // The run restarted after 300 and still opens 301..=511.
        receive(&mut r, 511, &keys[511]).unwrap();
        receive(&mut r, 301, &keys[301]).unwrap();
    }

    #[test]
    fn the_window_deletes_old_entries() {
        let (mut sender, mut r) = pair(5);
        let keys = keys_until(&mut sender, 4000);
        receive(&mut r, 10, &keys[10]).unwrap();
        receive(&mut r, 3999, &keys[3999]).unwrap();
        let start = window_start(3999);
        assert!(r.keys.keys().all(|&i| i >= start));
        assert!(r.runs.iter().all(|run| run.start >= start));
        assert_eq!(r.plan(5).err(), Some(Error::DuplicateMessage));
        assert_eq!(r.plan(start - 1).err(), Some(Error::DuplicateMessage));
        receive(&mut r, start, &keys[start as usize]).unwrap();
    }

    #[test]
    fn eviction_removes_the_lowest_iteration_first() {
        let (mut sender, mut r) = pair(6);
        let keys = keys_until(&mut sender, 600);
        receive(&mut r, 599, &keys[599]).unwrap(); // runs [0..], [256..]; keys 512..599
        receive(&mut r, 260, &keys[260]).unwrap(); // keys 256..259 and run 261..
        assert!(r.evict_oldest()); // run at 0
        assert_eq!(r.plan(0).err(), Some(Error::DuplicateMessage));
        assert!(r.evict_oldest()); // key 256
        assert_eq!(r.plan(256).err(), Some(Error::DuplicateMessage));
        receive(&mut r, 257, &keys[257]).unwrap();
    }
}
