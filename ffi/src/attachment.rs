//! Attachments: a file encrypted to a file (to upload), decrypted from a
//! file, or read at any range, in constant memory, with progress and
//! cancellation; the pointer is bytes, sent as the body of any message.
//!
//! The pointer holds the file key: keep it only inside messages (and the
//! vault), never in logs.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::ops::ControlFlow;
use std::sync::Arc;

use sealpost::attachment::{self, Decryptor, Metadata, Pointer};

use crate::error::Result;

/// Receives progress reports from a long attachment operation.
#[uniffi::export(with_foreign)]
pub trait AttachmentProgress: Send + Sync {
    /// `done` of `total` plaintext bytes processed (after each chunk).
    /// Return `false` to cancel: the call then throws `Cancelled`.
    fn on_progress(&self, done: u64, total: u64) -> bool;
}

/// What the app says about an attachment (it travels inside the pointer).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentMetadata {
    /// A MIME type such as `audio/ogg` (may be empty).
    pub content_type: String,
    /// The file name, if any.
    pub file_name: Option<String>,
    /// A duration in milliseconds (voice notes, video).
    pub duration_ms: Option<u64>,
    /// A voice note's waveform, one byte per sample.
    pub waveform: Option<Vec<u8>>,
    /// A thumbnail, in any image format.
    pub thumbnail: Option<Vec<u8>>,
}

impl From<AttachmentMetadata> for Metadata {
    fn from(m: AttachmentMetadata) -> Self {
        let mut out = Metadata::new(m.content_type);
        if let Some(name) = m.file_name {
            out = out.with_file_name(name);
        }
        if let Some(d) = m.duration_ms {
            out = out.with_duration_ms(d);
        }
        if let Some(w) = m.waveform {
            out = out.with_waveform(w);
        }
        if let Some(t) = m.thumbnail {
            out = out.with_thumbnail(t);
        }
        out
    }
}

/// What a pointer says, without its key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentInfo {
    /// The plaintext length.
    pub len: u64,
    /// The upload's length (what to expect from the server).
    pub ciphertext_len: u64,
    /// The chunk size.
    pub chunk_size: u64,
    /// The app's metadata.
    pub metadata: AttachmentMetadata,
}

/// An attachment encrypted in memory.
#[derive(uniffi::Record)]
pub struct EncryptedAttachment {
    /// The pointer: send it in a message.
    pub pointer: Vec<u8>,
    /// The upload.
    pub upload: Vec<u8>,
}

fn open(path: &str) -> Result<File> {
    File::open(path).map_err(|e| sealpost::Error::from(sealpost::AttachmentError::from(e)).into())
}

fn create(path: &str) -> Result<File> {
    File::create(path).map_err(|e| sealpost::Error::from(sealpost::AttachmentError::from(e)).into())
}

fn reporter(progress: Option<Arc<dyn AttachmentProgress>>) -> impl FnMut(attachment::Progress) -> ControlFlow<()> {
    move |p| match &progress {
        Some(listener) if !listener.on_progress(p.done, p.total.unwrap_or(0)) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    }
}

/// Encrypts the file at `input_path` into a new file at `output_path` (the
/// upload) in constant memory, reporting progress after each chunk, and
/// returns the pointer to send. Throws `Io`, `Cancelled`, `TooLarge` (file
/// or metadata over its limit).
#[uniffi::export]
pub fn attachment_encrypt_file(
    input_path: String,
    output_path: String,
    metadata: AttachmentMetadata,
    progress: Option<Arc<dyn AttachmentProgress>>,
) -> Result<Vec<u8>> {
    let input = open(&input_path)?;
    let total = input.metadata().ok().map(|m| m.len());
    let output = BufWriter::new(create(&output_path)?);
    let pointer = attachment::encrypt_stream(
        BufReader::new(input),
        output,
        metadata.into(),
        total,
        &mut sealpost::default_rng(),
        reporter(progress),
    )?;
    Ok(pointer.to_bytes().to_vec())
}

/// Decrypts the upload at `input_path` into a new file at `output_path`:
/// every chunk is authenticated before it is written. On any error the
/// output is incomplete: delete it. Throws `AttachmentKeyMismatch`,
/// `ChunkAuthentication`, `AttachmentTruncated`, `AttachmentTrailingData`,
/// `Cancelled`, `Io`, `Malformed` (a bad pointer).
#[uniffi::export]
pub fn attachment_decrypt_file(
    pointer: Vec<u8>,
    input_path: String,
    output_path: String,
    progress: Option<Arc<dyn AttachmentProgress>>,
) -> Result<()> {
    let pointer = Pointer::parse(&pointer).map_err(sealpost::Error::from)?;
    let input = BufReader::new(open(&input_path)?);
    let output = BufWriter::new(create(&output_path)?);
    Ok(attachment::decrypt_stream(input, output, &pointer, reporter(progress))?)
}

/// Reads `len` plaintext bytes at `offset` of the upload at `input_path`
/// (a player seeking), authenticating only the chunks that hold them.
/// Past the end it returns fewer bytes.
#[uniffi::export]
pub fn attachment_read_range(pointer: Vec<u8>, input_path: String, offset: u64, len: u64) -> Result<Vec<u8>> {
    let pointer = Pointer::parse(&pointer).map_err(sealpost::Error::from)?;
    let end = offset.saturating_add(len).min(pointer.len());
    let mut out = vec![0u8; usize::try_from(end.saturating_sub(offset)).unwrap_or(0)];
    let mut dec = Decryptor::new(open(&input_path)?, &pointer)?;
    dec.read_at(offset, &mut out)?;
    Ok(out)
}

/// Encrypts an attachment held in memory.
#[uniffi::export]
pub fn attachment_encrypt(plaintext: Vec<u8>, metadata: AttachmentMetadata) -> Result<EncryptedAttachment> {
    let (pointer, upload) = attachment::encrypt(&plaintext, metadata.into(), &mut sealpost::default_rng())?;
    Ok(EncryptedAttachment { pointer: pointer.to_bytes().to_vec(), upload })
}

/// Decrypts an upload held in memory.
#[uniffi::export]
pub fn attachment_decrypt(pointer: Vec<u8>, upload: Vec<u8>) -> Result<Vec<u8>> {
    let pointer = Pointer::parse(&pointer).map_err(sealpost::Error::from)?;
    Ok(attachment::decrypt(&pointer, &upload)?.to_vec())
}

/// What a pointer says (length, sizes, metadata), without its key. Throws
/// `Malformed` for bytes that are not a pointer.
#[uniffi::export]
pub fn attachment_info(pointer: Vec<u8>) -> Result<AttachmentInfo> {
    let p = Pointer::parse(&pointer).map_err(sealpost::Error::from)?;
    let m = p.metadata();
    Ok(AttachmentInfo {
        len: p.len(),
        ciphertext_len: p.ciphertext_len(),
        chunk_size: crate::len(p.chunk_size()),
        metadata: AttachmentMetadata {
            content_type: m.content_type().into(),
            file_name: m.file_name().map(str::to_owned),
            duration_ms: m.duration_ms(),
            waveform: m.waveform().map(<[u8]>::to_vec),
            thumbnail: m.thumbnail().map(<[u8]>::to_vec),
        },
    })
}
