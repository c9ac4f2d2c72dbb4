//! The ciphertext layout: header, key derivation, chunk geometry, and the
//! one chunk operation both directions share.

use aead_stream::{NewStream, StreamPrimitive};
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::KeyInit;
use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{AttachmentError, WireError};
use crate::limits::{MAX_ATTACHMENT_CHUNK, MAX_ATTACHMENT_LEN, MIN_ATTACHMENT_CHUNK};
use crate::wire::MessageType;
use crate::wire::codec::{Reader, writer_for};

/// Labels of the attachment key derivations (HKDF-SHA256 info strings,
/// each followed by the chunk size exponent byte).
mod label {
    pub(super) const PAYLOAD: &[u8] = b"sealpost v1 attachment payload key";
    pub(super) const CHECK: &[u8] = b"sealpost v1 attachment key check";
}

/// Length of the random file key in a pointer.
pub const FILE_KEY_LEN: usize = 32;

/// Length of the per-file salt in the header.
pub(crate) const SALT_LEN: usize = 16;

/// Length of the key check in the header.
pub(crate) const CHECK_LEN: usize = 32;

/// Length of the ciphertext header: version, type, chunk size exponent,
/// salt, key check.
pub const HEADER_LEN: usize = 2 + 1 + SALT_LEN + CHECK_LEN;

/// Per-chunk overhead (the Poly1305 tag).
pub const CHUNK_OVERHEAD: usize = 16;

/// Default chunk size: 64 KiB (as age).
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// The chunk size, as its base-2 exponent (14 to 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChunkSize(u8);

impl ChunkSize {
    /// A chunk size in bytes: a power of two between the limits.
    pub(crate) fn new(bytes: usize) -> Result<Self, WireError> {
        if !bytes.is_power_of_two() || !(MIN_ATTACHMENT_CHUNK..=MAX_ATTACHMENT_CHUNK).contains(&bytes) {
            return Err(WireError::InvalidField("attachment chunk size (a power of two, 16 KiB to 1 MiB)"));
        }
        Ok(Self(bytes.trailing_zeros() as u8))
    }

    pub(crate) fn from_exponent(exponent: u8) -> Result<Self, WireError> {
        Self::new(1usize.checked_shl(exponent.into()).unwrap_or(0))
    }

    pub(crate) fn exponent(self) -> u8 {
        self.0
    }

    pub(crate) fn bytes(self) -> usize {
        1 << self.0
    }

    pub(crate) fn bytes_u64(self) -> u64 {
        1 << self.0
    }

    /// How many chunks a plaintext of `len` bytes takes: at least one (an
    /// empty attachment is one empty final chunk); a plaintext of a
    /// multiple of the chunk size ends with a full final chunk.
    pub(crate) fn chunks(self, len: u64) -> u64 {
        len.div_ceil(self.bytes_u64()).max(1)
    }

    /// Plaintext length of chunk `index` of a `len`-byte attachment.
    pub(crate) fn chunk_len(self, len: u64, index: u64) -> usize {
        let start = index.saturating_mul(self.bytes_u64());
        // At most one chunk size: fits usize.
        len.saturating_sub(start).min(self.bytes_u64()) as usize
    }

    /// Offset of chunk `index` in the ciphertext.
    pub(crate) fn chunk_offset(self, index: u64) -> u64 {
        (HEADER_LEN as u64).saturating_add(index.saturating_mul(self.bytes_u64() + CHUNK_OVERHEAD as u64))
    }

    /// Ciphertext length of a `len`-byte attachment.
    pub(crate) fn ciphertext_len(self, len: u64) -> u64 {
        let chunks = self.chunks(len);
        (HEADER_LEN as u64).saturating_add(len).saturating_add(chunks.saturating_mul(CHUNK_OVERHEAD as u64))
    }
}

/// The keys of one attachment, derived from its file key, salt and chunk
/// size. Zeroized on drop (the STREAM primitive holds the expanded
/// ChaCha20 key, which `chacha20poly1305` zeroizes).
pub(crate) struct StreamKeys {
    stream: aead_stream::StreamBE32<ChaCha20Poly1305>,
    check: [u8; CHECK_LEN],
}

impl StreamKeys {
    /// `payload key = HKDF-SHA256(salt, file key, "…payload key" || exp)`,
    /// `key check = HKDF-SHA256(salt, file key, "…key check" || exp)`.
    pub(crate) fn derive(file_key: &FileKey, salt: &[u8; SALT_LEN], chunk: ChunkSize) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(salt), &file_key.0);
        let mut payload = Zeroizing::new([0u8; 32]);
        let mut check = [0u8; CHECK_LEN];
        // 32-byte outputs, far below HKDF's limit.
        let _ = hk.expand_multi_info(&[label::PAYLOAD, &[chunk.exponent()]], payload.as_mut());
        let _ = hk.expand_multi_info(&[label::CHECK, &[chunk.exponent()]], &mut check);
        let aead = ChaCha20Poly1305::new((&*payload).into());
        // The key is unique per file (random file key and salt): the STREAM
        // nonce prefix is fixed at zero, as in age.
        let stream = aead_stream::StreamBE32::from_aead(aead, &Default::default());
        Self { stream, check }
    }

    /// Encrypts one chunk in place (appending its tag).
    pub(crate) fn seal(&self, index: u64, last: bool, chunk: &mut Vec<u8>) -> Result<(), AttachmentError> {
        let position = u32::try_from(index).map_err(|_| AttachmentError::TooLarge { max: MAX_ATTACHMENT_LEN })?;
        // Fails only past the AEAD's message limit (256 GiB), far above a chunk.
        self.stream
            .encrypt_in_place(position, last, &[], chunk)
            .map_err(|_| AttachmentError::TooLarge { max: MAX_ATTACHMENT_LEN })
    }

    /// Authenticates and decrypts one chunk in place (removing its tag).
    /// On failure the buffer is cleared: nothing of it is released.
    pub(crate) fn open(&self, index: u64, last: bool, chunk: &mut Vec<u8>) -> Result<(), AttachmentError> {
        let fail = AttachmentError::ChunkAuthentication { chunk: index };
        let position = u32::try_from(index).map_err(|_| fail.clone())?;
        if self.stream.decrypt_in_place(position, last, &[], chunk).is_err() {
            chunk.zeroize();
            chunk.clear();
            return Err(fail);
        }
        Ok(())
    }
}

/// The random 32-byte key of one attachment. Zeroized on drop; `Debug`
/// redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct FileKey(pub(crate) [u8; FILE_KEY_LEN]);

/// Compared in constant time.
impl PartialEq for FileKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for FileKey {}

impl core::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FileKey(<redacted>)")
    }
}

/// The ciphertext header.
pub(crate) struct Header {
    pub(crate) chunk: ChunkSize,
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) check: [u8; CHECK_LEN],
}

impl Header {
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut w = writer_for(MessageType::AttachmentHeader, HEADER_LEN);
        w.u8(self.chunk.exponent()).bytes(&self.salt).bytes(&self.check);
        let mut out = [0u8; HEADER_LEN];
        out.copy_from_slice(w.as_slice());
        out
    }

    pub(crate) fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        r.header(MessageType::AttachmentHeader)?;
        let chunk = ChunkSize::from_exponent(r.u8()?)?;
        let salt = r.array()?;
        let check = r.array()?;
        r.finish()?;
        Ok(Self { chunk, salt, check })
    }

    /// The keys for this header under `file_key`, if its key check and
    /// chunk size match the pointer's.
    pub(crate) fn keys(&self, file_key: &FileKey, chunk: ChunkSize) -> Result<StreamKeys, AttachmentError> {
        if self.chunk != chunk {
            return Err(AttachmentError::KeyMismatch);
        }
        let keys = StreamKeys::derive(file_key, &self.salt, chunk);
        if !bool::from(keys.check.ct_eq(&self.check)) {
            return Err(AttachmentError::KeyMismatch);
        }
        Ok(keys)
    }
}

/// A fresh header and its keys.
pub(crate) fn new_header(file_key: &FileKey, chunk: ChunkSize, salt: [u8; SALT_LEN]) -> (Header, StreamKeys) {
    let keys = StreamKeys::derive(file_key, &salt, chunk);
    (Header { chunk, salt, check: keys.check }, keys)
}
