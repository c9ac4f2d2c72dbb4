//! Every bound sealpost enforces, in one place.
//!
//! A value past any of these bounds is refused with a typed
//! [`Error`](crate::error::Error) or [`WireError`](crate::error::WireError); no input makes
//! the library allocate without bound or panic. The numbers are part of the
//! documented protocol (see [`crate::docs`]): changing one is a
//! compatibility decision.

/// Largest plaintext accepted by [`Session::encrypt`](crate::Session::encrypt)
/// (16 MiB). Larger payloads belong in a Forkout body or should be chunked by
/// the application.
pub const MAX_PLAINTEXT: usize = 16 * 1024 * 1024;

/// Largest encoded message any parser accepts: the plaintext limit plus room
/// for headers and tags.
pub const MAX_MESSAGE: usize = MAX_PLAINTEXT + 4096;

/// How many message keys a single incoming message may skip over in one
/// receiving chain. Matches [`MAX_SKIPPED_PER_CHAIN`] so a jump never evicts
/// the keys it just stored.
pub const MAX_FORWARD_JUMP: u32 = 1000;

/// How many message keys a message may skip in a **previous** session state
/// (kept for messages still in flight after a re-initiation or a
/// simultaneous start), counted per chain like [`MAX_FORWARD_JUMP`]. Smaller
/// than the current state's bound because a message with an unknown ratchet
/// key is tried in every state: this bounds what one forged message can
/// cost (one DH per state and at most `2 * MAX_FORWARD_JUMP +
/// 2 * MAX_PREVIOUS_STATES * MAX_PREVIOUS_STATE_JUMP` chain steps in all).
/// Past it, a late message for a previous state is refused like any forward
/// jump too large.
pub const MAX_PREVIOUS_STATE_JUMP: u32 = 64;

/// Skipped message keys kept for one receiving chain; the oldest are evicted
/// first when a chain holds more.
pub const MAX_SKIPPED_PER_CHAIN: usize = 1000;

/// Skipped message keys kept by one session state across all its chains;
/// the oldest are evicted first.
pub const MAX_SKIPPED_TOTAL: usize = 2000;

/// Old receiving ratchet keys remembered per session state so that a replay
/// on an old chain is reported as [`Error::DuplicateMessage`](crate::error::Error::DuplicateMessage).
pub const MAX_REMEMBERED_CHAINS: usize = 8;

/// Previous session states kept per peer (for messages still in flight after
/// a simultaneous start or a re-initiation). The oldest is dropped first.
pub const MAX_PREVIOUS_STATES: usize = 5;

/// One-time prekeys a [`PreKeyStore`](crate::PreKeyStore) holds at most.
pub const MAX_ONE_TIME_PREKEYS: usize = 2000;

/// Authenticated setup messages without a one-time prekey remembered per
/// signed prekey (their base keys), so that none is accepted twice. They are
/// kept as long as the signed prekey. Past the bound, further such setups
/// for that signed prekey are refused with
/// [`Error::LimitReached`](crate::Error::LimitReached) until it is rotated:
/// refusing is safe, forgetting a record would not be. 2000 x 32 bytes per
/// signed prekey.
pub const MAX_SETUPS_PER_SIGNED_PREKEY: usize = 2000;

/// How old a prekey bundle's signed prekey may be for
/// [`Account::create_outbound_session_at`](crate::Account::create_outbound_session_at)
/// to start a session from it: 60 days. An owner that rotates its signed
/// prekey at least every 30 days (see
/// [`Account::rotate_signed_prekey`](crate::Account::rotate_signed_prekey))
/// keeps accepting an old one for [`SIGNED_PREKEY_GRACE_MS`] more, so an
/// older bundle may already be refused by its owner and everything sent
/// from it lost. Past it:
/// [`SessionError::StaleBundle`](crate::SessionError::StaleBundle), fetch a
/// new bundle.
pub const MAX_BUNDLE_AGE_MS: u64 = 60 * 24 * 60 * 60 * 1000;

/// How long an outbound state may stay unanswered (our messages still carry
/// setup data) before [`Session::encrypt_at`](crate::Session::encrypt_at)
/// refuses it with [`SessionError::StaleSetup`](crate::SessionError::StaleSetup):
/// 30 days, as libsignal. Counted from the session's start (with a clock) or
/// from the bundle's signed-prekey creation (without one).
pub const MAX_UNANSWERED_SETUP_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// Previous signed prekeys kept after rotations (besides the grace period).
pub const MAX_PREVIOUS_SIGNED_PREKEYS: usize = 4;

/// How long a rotated-out signed prekey still opens setup messages: 30 days
/// in milliseconds.
pub const SIGNED_PREKEY_GRACE_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// Largest serialized state (account, session, group, vault) accepted by
/// the importers (16 MiB). The largest group the limits allow (10,000
/// members, two sender keys each, the full stored-key budget) serializes to
/// about 9.1 MB; a compile-time check keeps it under this bound.
pub const MAX_STATE: usize = 16 * 1024 * 1024;

/// How far in the future a Burnout message's authenticated sent-at time may
/// be, relative to the opener's clock, before it is refused with
/// [`BurnoutError::ClockSkew`](crate::error::BurnoutError::ClockSkew): 5 minutes. See the
/// [`burnout`](crate::burnout) module documentation for why a refused
/// message is left unopened (retryable) rather than consumed.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// Messages a Burnout [`Vault`](crate::burnout::Vault) holds at most.
pub const MAX_VAULT_ENTRIES: usize = 10_000;

/// Total plaintext bytes a Burnout [`Vault`](crate::burnout::Vault) holds
/// at most (6 MiB). Together with the per-entry overhead this keeps a
/// serialized vault under [`MAX_STATE`], so every vault can be exported and
/// imported again. Larger sensitive content belongs in a Forkout body.
pub const MAX_VAULT_BYTES: usize = 6 * 1024 * 1024;

/// Erased-entry records ("burned after reading", "expired", "removed") a
/// Burnout [`Vault`](crate::burnout::Vault) remembers so that a second read
/// gets a precise error. The oldest record is forgotten first; a forgotten
/// id reads as [`VaultError::NotInVault`](crate::error::VaultError::NotInVault).
pub const MAX_VAULT_TOMBSTONES: usize = 1024;
/// Members of one group, ourselves included. Adding past it is
/// [`Error::LimitReached`](crate::error::Error::LimitReached).
pub const MAX_GROUP_MEMBERS: usize = 10_000;

/// Largest plaintext one group message carries (16 MiB, as for 1:1).
pub const MAX_GROUP_PLAINTEXT: usize = MAX_PLAINTEXT;

/// Largest encoded group message any parser accepts: the plaintext limit
/// plus header, Burnout envelope, flag, tag and signature.
pub const MAX_GROUP_MESSAGE: usize = MAX_GROUP_PLAINTEXT + 256;

/// The out-of-order window of a group sender key, in iterations (a multiple
/// of 256). A message can still be read late if its iteration is at or after
/// `(newest & !0xff) - GROUP_OUT_OF_ORDER_WINDOW`, where `newest` is the
/// highest iteration received under that key: between 2048 and 2303
/// iterations back. Older keys are deleted and such a message is reported as
/// [`Error::DuplicateMessage`](crate::error::Error::DuplicateMessage). There is no
/// maximum forward jump: the hierarchical ratchet skips any distance in at
/// most about 800 HMACs, and at most 8 more inside the target block.
pub const GROUP_OUT_OF_ORDER_WINDOW: u32 = 2048;

/// Stored out-of-order entries (subtrees of a block's key tree, from a single
/// message key to a whole 256-iteration block) across all sender keys of one
/// group. Past it, the sender key
/// holding the most entries loses its oldest one, so one noisy or hostile
/// sender cannot push out everyone else's keys.
pub const MAX_GROUP_STORED_KEYS: usize = 20_000;

/// Largest Forkout body (64 MiB): the plaintext sealed once for every
/// recipient. Bodies this large should be streamed by the transport; the
/// body is held once in memory by the sender and once by each recipient.
pub const MAX_FORKOUT_BODY: usize = 64 * 1024 * 1024;

/// Most recipients one Forkout can have (slots in a bundle).
pub const MAX_FORKOUT_RECIPIENTS: usize = 5000;

/// Largest encoded key-slot message accepted in a Forkout bundle or
/// delivery. A slot is one 1:1 message carrying about 120 bytes of payload:
/// about 200 bytes in an established session, under 1,900 with PQXDH setup
/// data (its ML-KEM-1024 ciphertext is 1,568 bytes) and a Burnout envelope,
/// plus at most one post-quantum ratchet chunk.
pub const MAX_FORKOUT_SLOT_MESSAGE: usize = 2048;

/// Distinct post-quantum ratchet chunks that rebuild an ML-KEM-768
/// encapsulation key (1,184 bytes in chunks of 128). Each 1:1 message
/// carries at most one chunk (129 bytes) and always the 5-byte epoch field.
pub const BRAID_KEY_CHUNKS: usize = crate::ratchet::braid::KEY_CHUNKS;

/// Distinct post-quantum ratchet chunks that rebuild an ML-KEM-768
/// ciphertext (1,088 bytes in chunks of 128).
pub const BRAID_CIPHERTEXT_CHUNKS: usize = crate::ratchet::braid::CIPHERTEXT_CHUNKS;

/// Largest attachment plaintext (16 TiB). Attachments are streamed chunk by
/// chunk, so the limit is the STREAM counter's (2^32 chunks of the smallest
/// chunk size), not memory.
pub const MAX_ATTACHMENT_LEN: u64 = 1 << 44;

/// Smallest and largest attachment chunk sizes (16 KiB and 1 MiB, powers of
/// two); the default is 64 KiB
/// ([`DEFAULT_CHUNK_SIZE`](crate::attachment::DEFAULT_CHUNK_SIZE)).
pub const MIN_ATTACHMENT_CHUNK: usize = 16 * 1024;

/// See [`MIN_ATTACHMENT_CHUNK`].
pub const MAX_ATTACHMENT_CHUNK: usize = 1024 * 1024;

/// Longest attachment content type (a MIME type) in a pointer, in bytes.
pub const MAX_ATTACHMENT_CONTENT_TYPE: usize = 255;

/// Longest attachment file name in a pointer, in bytes of UTF-8.
pub const MAX_ATTACHMENT_FILE_NAME: usize = 1024;

/// Longest voice-note waveform in a pointer (one byte per sample).
pub const MAX_ATTACHMENT_WAVEFORM: usize = 1024;

/// Largest thumbnail in a pointer (256 KiB): the pointer travels inside a
/// message, under [`MAX_PLAINTEXT`].
pub const MAX_ATTACHMENT_THUMBNAIL: usize = 256 * 1024;

/// Most devices one user's [`DeviceList`](crate::device::DeviceList) holds
/// (a phone, a tablet, desktops, browsers, ...).
pub const MAX_DEVICES: usize = 32;

/// How long a device-linking code stays valid after the new device made it
/// (10 minutes, in ms): an older code is refused by both devices.
pub const LINK_CODE_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// Largest application data a device link transfers to the new device
/// (1 MiB): group memberships, contacts, settings, as the app encodes them.
pub const MAX_LINK_APP_DATA: usize = 1024 * 1024;
