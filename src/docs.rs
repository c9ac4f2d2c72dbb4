//! The protocol documents: every wire format, key derivation,
//! domain-separation label and bound, and every deviation from the
//! specifications sealpost follows.
//!
//! These modules contain no code. Each one renders a file from the
//! repository's `docs/` directory, so the documents read the same on GitHub
//! and here; the Markdown file is the single place each format is written
//! down, and the code's module documentation links to it.
//!
//! | module | document | covers |
//! |---|---|---|
//! | [`protocol`] | `docs/PROTOCOL.md` | conventions, type bytes, identity keys, prekey bundles, PQXDH, the Double Ratchet and the post-quantum ratchet, 1:1 messages and payloads, state export, labels, limits |
//! | [`group`] | `docs/GROUP.md` | group messaging with sender keys: the ratchet, group messages, distributions, membership, group state |
//! | [`forkout`] | `docs/FORKOUT.md` | one body to many 1:1 recipients: body encryption and commitment, key slots, bundles and deliveries |
//! | [`burnout`] | `docs/BURNOUT.md` | self-destructing messages: the envelope, the opening rule, the vault and its state |
//! | [`devices`] | `docs/DEVICES.md` | users with several devices: user keys, signed device lists, linking and removing a device |
//!
//! Start with [`protocol`]: the others build on its conventions and on
//! the 1:1 sessions it specifies.

#[doc = include_str!("../docs/PROTOCOL.md")]
pub mod protocol {}

#[doc = include_str!("../docs/GROUP.md")]
pub mod group {}

#[doc = include_str!("../docs/FORKOUT.md")]
pub mod forkout {}

#[doc = include_str!("../docs/BURNOUT.md")]
pub mod burnout {}

#[doc = include_str!("../docs/DEVICES.md")]
pub mod devices {}
