//! Attachments and voice notes: streaming, seekable, constant-memory
//! encryption of files of any size (up to
//! [`MAX_ATTACHMENT_LEN`](crate::limits::MAX_ATTACHMENT_LEN)), sent through
//! any carrier as a small [`Pointer`].
//!
//! The sender encrypts the file once ([`Encryptor`], [`encrypt_stream`],
//! [`encrypt`]) and uploads the ciphertext wherever the app keeps blobs
//! (the library does no I/O of its own). The [`Pointer`] (the file key,
//! length, chunk size and the app's [`Metadata`]: content type, file name,
//! voice-note duration and waveform, thumbnail) goes to the recipients
//! inside any message: 1:1, group, or a Forkout (upload once, any number of
//! recipients). A recipient fetches the upload and reads it with a
//! [`Decryptor`] (front to back, or seeking), [`decrypt_stream`] or
//! [`decrypt`].
//!
//! ```
//! use std::io::{Read, Seek, SeekFrom};
//! use sealpost::attachment::{self, Decryptor, Metadata, Pointer};
//! let mut rng = sealpost::default_rng();
//! let recording = vec![42u8; 1_000_000];
//! let (pointer, upload) = attachment::encrypt(&recording, Metadata::new("video/webm").with_file_name("demo.webm"), &mut rng)?;
//! let message = pointer.to_bytes(); // send this in any sealpost message
//!
//! let received = Pointer::parse(&message)?;
//! assert_eq!(received.metadata().file_name(), Some("demo.webm"));
//! let mut video = Decryptor::new(std::io::Cursor::new(&upload), &received)?;
//! video.seek(SeekFrom::End(-4))?;
//! let mut tail = Vec::new();
//! video.read_to_end(&mut tail)?;
//! assert_eq!(tail, [42; 4]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Format
//!
//! STREAM (Hoang, Reyhanitabar, Rogaway, Vizár), as in age: the
//! `aead-stream` crate's `StreamBE32` over ChaCha20-Poly1305. A random
//! 32-byte **file key** (in the pointer) and a random 16-byte **salt** (in
//! the header) give, with HKDF-SHA256 (salt = the salt, input = the file
//! key), two values, each info string followed by the chunk size exponent
//! byte:
//!
//! | info | output |
//! |---|---|
//! | `sealpost v1 attachment payload key` | the ChaCha20-Poly1305 key of every chunk |
//! | `sealpost v1 attachment key check` | 32 bytes in the header (key commitment) |
//!
//! The upload is `header || chunk 0 || chunk 1 || ...`:
//!
//! * header (51 bytes): `version (1) | type 0x40 | chunk size exponent
//!   (u8, 14 to 20: 16 KiB to 1 MiB, default 16 = 64 KiB) | salt (16) |
//!   key check (32)`;
//! * each chunk: the next chunk-size bytes of plaintext (the last may be
//!   shorter, or empty for an empty file; it is full if the length is a
//!   multiple of the chunk size) sealed with ChaCha20-Poly1305 under the
//!   payload key, nonce `0 (7 bytes) | chunk index (u32, big-endian) | last
//!   flag (1 on the last chunk, else 0)`, no associated data, tag appended
//!   (16 bytes).
//!
//! What this gives:
//!
//! * each chunk is authenticated before any byte of it is released, and
//!   its position is in its nonce: reordered, duplicated or moved chunks
//!   fail ([`AttachmentError::ChunkAuthentication`](crate::AttachmentError::ChunkAuthentication));
//! * truncation is detected at any point: a missing tail is
//!   [`AttachmentError::Truncated`](crate::AttachmentError::Truncated), and a chunk presented as the last that
//!   was not sealed as the last fails authentication; bytes after the last
//!   chunk are [`AttachmentError::TrailingData`](crate::AttachmentError::TrailingData);
//! * the header's key check commits the upload to the pointer's file key
//!   (ChaCha20-Poly1305 alone is not key-committing): a pointer moved to
//!   another attachment, or a changed salt, key check or chunk size, is
//!   [`AttachmentError::KeyMismatch`](crate::AttachmentError::KeyMismatch)
//!   before any chunk is read (a changed version or type byte is a
//!   [`WireError`](crate::WireError)); the salt and chunk size are bound by
//!   the key derivation;
//! * the payload key is unique per file, so the fixed nonce prefix never
//!   repeats a key and nonce; 2^32 chunks of at least 16 KiB cover
//!   [`MAX_ATTACHMENT_LEN`](crate::limits::MAX_ATTACHMENT_LEN) (16 TiB).
//!
//! Deviation from age: no header MAC and no recipient stanzas (the pointer
//! travels inside an already authenticated, encrypted message); the key
//! check plays the header MAC's key-commitment role.
//!
//! The pointer's layout is in [`Pointer::to_bytes`].
//!
//! # What the upload and the pointer reveal
//!
//! The upload shows its length (so the plaintext length, to within the
//! chunk overheads) and its chunk size, nothing else: no name, no type, no
//! sender or recipient. The pointer shows everything about the file to
//! whoever reads it, so it is only ever sent inside a sealpost message.
//!
//! # Memory and progress
//!
//! Encrypting and decrypting hold one chunk (plus its tag) at a time,
//! whatever the file size; reading at an offset loads only the chunks that
//! hold the range. [`encrypt_stream`] and [`decrypt_stream`] call a
//! progress callback after each chunk; it returns
//! [`ControlFlow::Break`](core::ops::ControlFlow::Break) to cancel
//! ([`AttachmentError::Cancelled`](crate::AttachmentError::Cancelled)). [`Encryptor`] and [`Decryptor`] are
//! driven by the app's own writes and reads, chunk by chunk.
//!
//! # Expiry (Burnout)
//!
//! A pointer sent with a Burnout envelope is its message's content: the
//! [`Vault`](crate::burnout::Vault) holds it, and erases it (and with it
//! the file key) when the message expires or is burned after reading. The
//! app must delete, at the same time, the downloaded upload and any
//! decrypted copy it made (a cache, a player's buffer): the library cannot
//! reach those. The server's copy of the upload is unreadable without the
//! key, but the app should ask the server to delete it too.

mod decrypt;
mod encrypt;
mod format;
mod pointer;

pub use decrypt::{Decryptor, decrypt, decrypt_stream};
pub use encrypt::{Encryptor, encrypt, encrypt_stream};
pub use format::{CHUNK_OVERHEAD, DEFAULT_CHUNK_SIZE, FILE_KEY_LEN, HEADER_LEN};
pub use pointer::{Metadata, Pointer};

/// How far a long operation is: plaintext bytes done, and the total when
/// known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
///
/// ```
/// use std::ops::ControlFlow;
/// use sealpost::attachment::{self, Metadata};
/// let mut rng = sealpost::default_rng();
/// let (pointer, upload) = attachment::encrypt(&[1u8; 150_000], Metadata::new("image/png"), &mut rng)?;
/// let mut seen = Vec::new();
/// attachment::decrypt_stream(&upload[..], std::io::sink(), &pointer, |p| {
///     seen.push((p.done, p.total));
///     ControlFlow::Continue(()) // Break cancels
/// })?;
/// assert_eq!(seen.last(), Some(&(150_000, Some(150_000))));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct Progress {
    /// Plaintext bytes encrypted or decrypted so far.
    pub done: u64,
    /// The plaintext length, if known.
    pub total: Option<u64>,
}
