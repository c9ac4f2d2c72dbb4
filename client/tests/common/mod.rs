//! What the client tests share: reading a message's key position from its
//! header, to show that no two different messages ever used one.

#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use sealpost::wire::{MessageType, peek_type};

/// Where a message sits in its sender's key schedule: a 1:1 message by its
/// sender's name, ratchet key and message number; a group message by its
/// sender key (sender identity, key id) and iteration. Two different
/// messages at one position would mean one message key used twice.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Position {
    Direct { from: usize, ratchet_key: [u8; 32], number: u32 },
    Group { sender: [u8; 32], key_id: u32, iteration: u32 },
}

/// Reads the position from the header (layout in docs/PROTOCOL.md and
/// GROUP.md: version, type, the setup block for a setup message, then the
/// ratchet key and counters).
pub(crate) fn position(from: usize, bytes: &[u8]) -> Position {
    match peek_type(bytes).unwrap() {
        MessageType::Group => {
            let m = sealpost::group::GroupMessage::parse(bytes).unwrap();
            Position::Group { sender: *m.sender_bytes(), key_id: m.key_id(), iteration: m.iteration() }
        }
        kind => {
            // initiator, base key, signed prekey id, [one-time id], KEM
            // kind [| ML-KEM-1024 ciphertext].
            let setup = match kind {
                MessageType::Setup => {
                    let kem_at = 2 + 32 + 32 + 4 + 1 + if bytes[2 + 68] == 1 { 4 } else { 0 };
                    kem_at - 2 + 1 + if bytes[kem_at] == 1 { 1568 } else { 0 }
                }
                _ => 0,
            };
            let at = 2 + setup;
            let ratchet_key: [u8; 32] = bytes[at..at + 32].try_into().unwrap();
            let number = u32::from_be_bytes(bytes[at + 36..at + 40].try_into().unwrap());
            Position::Direct { from, ratchet_key, number }
        }
    }
}

/// Every message the network carried, once each, checked as it arrives.
#[derive(Default)]
pub(crate) struct Wire {
    pub(crate) messages: Vec<(usize, Vec<u8>)>,
    positions: BTreeMap<Position, Vec<u8>>,
}

impl Wire {
    /// Records a message `from` put on the wire (again, after a crash: kept
    /// once). Panics if another message sat at its position.
    pub(crate) fn carry(&mut self, from: usize, bytes: Vec<u8>) {
        if self.messages.iter().any(|(_, b)| *b == bytes) {
            return;
        }
        if let Some(other) = self.positions.insert(position(from, &bytes), bytes.clone()) {
            assert_eq!(other, bytes, "two different messages at one key position");
        }
        self.messages.push((from, bytes));
    }
}
