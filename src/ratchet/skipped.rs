//! Message keys kept for messages that have not arrived yet.
//!
//! Keys are kept in arrival order so that eviction is oldest-first, with two
//! bounds: [`MAX_SKIPPED_PER_CHAIN`] per receiving ratchet key and
//! [`MAX_SKIPPED_TOTAL`] across the whole session state.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::keys::MessageKey;
use crate::error::WireError;
use crate::limits::{MAX_SKIPPED_PER_CHAIN, MAX_SKIPPED_TOTAL};

/// One stored key: the peer ratchet key of its chain, its message number,
/// and the key itself.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
pub(crate) struct SkippedKey {
    pub(crate) ratchet: [u8; 32],
    pub(crate) index: u32,
    pub(crate) key: MessageKey,
}

/// The bounded store of skipped message keys.
#[derive(Clone, Debug, Default)]
pub(crate) struct SkippedKeys {
    entries: VecDeque<SkippedKey>,
}

impl SkippedKeys {
    /// Deletes every stored key (each zeroized on drop); returns how many.
    pub(crate) fn clear(&mut self) -> usize {
        let n = self.entries.len();
        self.entries.clear();
        n
    }

    /// Position of the key for `(ratchet, index)`, if stored.
    pub(crate) fn find(&self, ratchet: &[u8; 32], index: u32) -> Option<usize> {
        self.entries.iter().position(|e| e.index == index && &e.ratchet == ratchet)
    }

    /// The key at `pos` (from [`Self::find`]).
    pub(crate) fn get(&self, pos: usize) -> Option<&MessageKey> {
        self.entries.get(pos).map(|e| &e.key)
    }

    /// Deletes the key at `pos` once it has been used.
    pub(crate) fn remove(&mut self, pos: usize) {
        // Dropping the entry zeroizes its key.
        let _ = self.entries.remove(pos);
    }

    /// Whether any key for this chain is stored.
    pub(crate) fn has_chain(&self, ratchet: &[u8; 32]) -> bool {
        self.entries.iter().any(|e| &e.ratchet == ratchet)
    }

    /// Stores keys in order, evicting the oldest past either bound.
    pub(crate) fn extend(&mut self, keys: Vec<SkippedKey>) {
        // Keys arrive grouped by chain; count a chain's entries once per group.
        let mut chain: Option<([u8; 32], usize)> = None;
        for key in keys {
            let mut in_chain = match chain {
                Some((ratchet, n)) if ratchet == key.ratchet => n,
                _ => self.entries.iter().filter(|e| e.ratchet == key.ratchet).count(),
            };
            if in_chain >= MAX_SKIPPED_PER_CHAIN
                && let Some(oldest) = self.entries.iter().position(|e| e.ratchet == key.ratchet)
            {
                self.remove(oldest);
                in_chain -= 1;
            }
            if self.entries.len() >= MAX_SKIPPED_TOTAL
                && let Some(evicted) = self.entries.pop_front()
                && evicted.ratchet == key.ratchet
            {
                in_chain = in_chain.saturating_sub(1);
            }
            chain = Some((key.ratchet, in_chain + 1));
            self.entries.push_back(key);
        }
    }

    /// Number of stored keys.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Iterates in storage (oldest-first) order, for serialization.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &SkippedKey> {
        self.entries.iter()
    }

    /// Rebuilds from serialized entries (their total already bounded by the
    /// parser), refusing what [`Self::extend`] could never have stored: a
    /// `(ratchet key, index)` twice, or more than [`MAX_SKIPPED_PER_CHAIN`]
    /// keys of one chain.
    pub(crate) fn from_entries(entries: Vec<SkippedKey>) -> Result<Self, WireError> {
        let mut seen = BTreeSet::new();
        let mut per_chain: BTreeMap<[u8; 32], usize> = BTreeMap::new();
        for e in &entries {
            if !seen.insert((e.ratchet, e.index)) {
                return Err(WireError::InvalidField("skipped key stored twice"));
            }
            let n = per_chain.entry(e.ratchet).or_default();
            *n += 1;
            if *n > MAX_SKIPPED_PER_CHAIN {
                return Err(WireError::InvalidField("too many skipped keys for one chain"));
            }
        }
        Ok(Self { entries: entries.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ratchet: u8, index: u32) -> SkippedKey {
        SkippedKey { ratchet: [ratchet; 32], index, key: MessageKey([index as u8; 32]) }
    }

    fn chain(ratchet: u8, indices: core::ops::Range<u32>) -> Vec<SkippedKey> {
        indices.map(|i| key(ratchet, i)).collect()
    }

    /// What is stored, as (first byte of the ratchet key, index), oldest
    /// first.
    fn contents(store: &SkippedKeys) -> Vec<(u8, u32)> {
        store.iter().map(|e| (e.ratchet[0], e.index)).collect()
    }

    /// The eviction rule written the plain way, one key at a time with a
    /// full recount: past the per-chain bound the chain's oldest key goes,
    /// past the total bound the oldest key of all goes.
    fn model_extend(model: &mut VecDeque<(u8, u32)>, keys: &[(u8, u32)]) {
        for &(ratchet, index) in keys {
            if model.iter().filter(|e| e.0 == ratchet).count() >= MAX_SKIPPED_PER_CHAIN {
                let oldest = model.iter().position(|e| e.0 == ratchet).unwrap_or(0);
                model.remove(oldest);
            }
            if model.len() >= MAX_SKIPPED_TOTAL {
                model.pop_front();
            }
            model.push_back((ratchet, index));
        }
    }

    /// Extends both the store and the model; they must agree.
    fn extend_both(store: &mut SkippedKeys, model: &mut VecDeque<(u8, u32)>, keys: Vec<SkippedKey>) {
        let plain: Vec<(u8, u32)> = keys.iter().map(|k| (k.ratchet[0], k.index)).collect();
        store.extend(keys);
        model_extend(model, &plain);
        assert_eq!(contents(store), model.iter().copied().collect::<Vec<_>>());
        assert_eq!(store.len(), model.len());
        assert!(store.len() <= MAX_SKIPPED_TOTAL);
    }

    #[test]
    fn keys_are_found_by_chain_and_index_and_removed_once_used() {
        let mut store = SkippedKeys::default();
        store.extend(vec![key(1, 0), key(1, 1), key(2, 5)]);
        assert_eq!(store.len(), 3);
        assert_eq!(contents(&store), [(1, 0), (1, 1), (2, 5)]);
        let pos = store.find(&[1; 32], 1);
        assert_eq!(pos, Some(1));
        assert_eq!(pos.and_then(|p| store.get(p)).map(|k| k.0), Some([1; 32]));
        // Both the chain and the index must match.
        assert_eq!(store.find(&[2; 32], 1), None);
        assert_eq!(store.find(&[1; 32], 5), None);
        assert_eq!(store.find(&[3; 32], 0), None);
        assert!(store.get(3).is_none());
        assert!(store.has_chain(&[2; 32]));
        assert!(!store.has_chain(&[3; 32]));

        store.remove(1);
        assert_eq!(store.find(&[1; 32], 1), None);
        assert_eq!(contents(&store), [(1, 0), (2, 5)]);
        store.remove(1);
        assert!(!store.has_chain(&[2; 32]));
        assert_eq!(store.clear(), 1);
        assert_eq!(store.len(), 0);
        assert_eq!(store.clear(), 0);
    }

    #[test]
    fn a_chain_keeps_its_newest_keys_up_to_its_bound() {
        let max = MAX_SKIPPED_PER_CHAIN as u32;
        let (mut store, mut model) = (SkippedKeys::default(), VecDeque::new());
        // One jump past the bound: the oldest five go.
        extend_both(&mut store, &mut model, chain(1, 0..max + 5));
        assert_eq!(store.len(), MAX_SKIPPED_PER_CHAIN);
        assert_eq!(store.find(&[1; 32], 4), None);
        assert!(store.find(&[1; 32], 5).is_some());
        assert!(store.find(&[1; 32], max + 4).is_some());
        // Another chain is not touched by the first one's bound, and the
        // first one's count is taken from what is stored across calls.
        extend_both(&mut store, &mut model, chain(2, 0..10));
        extend_both(&mut store, &mut model, chain(1, max + 5..max + 8));
        assert_eq!(store.find(&[1; 32], 7), None);
        assert!(store.find(&[1; 32], 8).is_some());
        assert!((0..10).all(|i| store.find(&[2; 32], i).is_some()));
    }

    #[test]
    fn the_total_bound_evicts_the_oldest_key_of_any_chain() {
        let max = MAX_SKIPPED_PER_CHAIN as u32;
        let (mut store, mut model) = (SkippedKeys::default(), VecDeque::new());
        extend_both(&mut store, &mut model, chain(1, 0..max));
        extend_both(&mut store, &mut model, chain(2, 0..max));
        assert_eq!(store.len(), MAX_SKIPPED_TOTAL);
        extend_both(&mut store, &mut model, chain(3, 0..10));
        assert_eq!(store.len(), MAX_SKIPPED_TOTAL);
        assert_eq!(store.find(&[1; 32], 9), None);
        assert!(store.find(&[1; 32], 10).is_some());
        assert!(store.find(&[2; 32], 0).is_some());
    }

    #[test]
    fn a_chain_evicted_by_the_total_bound_counts_right_within_one_call() {
        // The store is full and its oldest keys are of chain 1; one call
        // then adds more of chain 1 than its own bound allows, so the
        // total bound evicts chain 1's keys first and the chain bound
        // takes over later in the same call.
        let (mut store, mut model) = (SkippedKeys::default(), VecDeque::new());
        extend_both(&mut store, &mut model, chain(1, 0..600));
        extend_both(&mut store, &mut model, chain(2, 0..1000));
        extend_both(&mut store, &mut model, chain(3, 0..400));
        extend_both(&mut store, &mut model, chain(1, 600..1700));
        assert_eq!(store.iter().filter(|e| e.ratchet == [1; 32]).count(), MAX_SKIPPED_PER_CHAIN);
    }

    #[test]
    fn one_call_with_keys_of_several_chains_counts_each_chain_apart() {
        // A DH ratchet step stores the rest of the old chain and the start
        // of the new one in one call: the count of the second chain must
        // not continue from the first.
        let max = MAX_SKIPPED_PER_CHAIN as u32;
        let (mut store, mut model) = (SkippedKeys::default(), VecDeque::new());
        extend_both(&mut store, &mut model, chain(2, 0..max - 2));
        let mut step = chain(1, 0..max - 1);
        step.extend(chain(2, max - 2..max + 3));
        extend_both(&mut store, &mut model, step);
        assert_eq!(store.iter().filter(|e| e.ratchet == [1; 32]).count(), MAX_SKIPPED_PER_CHAIN - 1);
        assert_eq!(store.iter().filter(|e| e.ratchet == [2; 32]).count(), MAX_SKIPPED_PER_CHAIN);
        // 998 + 5 keys of chain 2: its three oldest went.
        assert_eq!(store.find(&[2; 32], 2), None);
        assert!(store.find(&[2; 32], 3).is_some());
        assert!(store.find(&[1; 32], 0).is_some());
    }

    #[test]
    fn random_traffic_matches_the_plain_rule() {
        let (mut store, mut model) = (SkippedKeys::default(), VecDeque::new());
        let mut next: BTreeMap<u8, u32> = BTreeMap::new();
        let mut seed: u64 = 0x5ea1_9057;
        for _ in 0..60 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let ratchet = ((seed >> 60) % 4) as u8;
            let len = ((seed >> 20) % 700) as u32;
            let start = next.get(&ratchet).copied().unwrap_or(0);
            next.insert(ratchet, start + len);
            let mut keys = chain(ratchet, start..start + len);
            // Often a second chain in the same call (a ratchet step).
            if seed & 1 == 1 {
                let other = (ratchet + 1) % 4;
                let (from, more) = (next.get(&other).copied().unwrap_or(0), ((seed >> 8) % 400) as u32);
                next.insert(other, from + more);
                keys.extend(chain(other, from..from + more));
            }
            extend_both(&mut store, &mut model, keys);
            // Some keys get used.
            if seed.is_multiple_of(3)
                && let Some(pos) = store.find(&[ratchet; 32], start)
            {
                store.remove(pos);
                let at = model.iter().position(|e| *e == (ratchet, start)).unwrap_or(0);
                model.remove(at);
            }
        }
    }

    #[test]
    fn stored_state_the_library_could_never_produce_is_refused() {
        assert!(SkippedKeys::from_entries(vec![key(1, 0), key(1, 1), key(2, 0)]).is_ok());
        let duplicate = SkippedKeys::from_entries(vec![key(1, 0), key(2, 0), key(1, 0)]);
        assert_eq!(duplicate.err(), Some(WireError::InvalidField("skipped key stored twice")));
        let per_chain = (0..=MAX_SKIPPED_PER_CHAIN as u32).map(|i| key(3, i)).collect();
        assert_eq!(
            SkippedKeys::from_entries(per_chain).err(),
            Some(WireError::InvalidField("too many skipped keys for one chain"))
        );
        let at_bound = (0..MAX_SKIPPED_PER_CHAIN as u32).map(|i| key(3, i)).collect();
        assert!(SkippedKeys::from_entries(at_bound).is_ok());
    }
}
