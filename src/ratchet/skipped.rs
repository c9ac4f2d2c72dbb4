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
