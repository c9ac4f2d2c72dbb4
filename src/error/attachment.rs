//! Errors of attachments (streamed, chunked encryption).

use thiserror::Error;

/// Why an attachment could not be encrypted, opened or read.
///
/// Every error about the ciphertext is raised before a single plaintext
/// byte of the chunk concerned is released. The `chunk` numbers count from
/// 0.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{AttachmentError, Error, attachment::{self, Metadata}};
/// let mut rng = sealpost::default_rng();
/// let (pointer, upload) = attachment::encrypt(b"file", Metadata::new("text/plain"), &mut rng)?;
/// let (other, _) = attachment::encrypt(b"file", Metadata::new("text/plain"), &mut rng)?;
/// assert_eq!(attachment::decrypt(&other, &upload).err(), Some(Error::Attachment(AttachmentError::KeyMismatch)));
/// assert!(attachment::decrypt(&pointer, &upload[..upload.len() - 1]).is_err()); // truncated
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum AttachmentError {
    /// The ciphertext's header does not match the pointer's key (its key
    /// check differs): another attachment's upload, or a tampered header.
    /// Fetch the upload the pointer names again.
    #[error("the attachment does not belong to this pointer (key check failed): fetch the right upload")]
    KeyMismatch,

    /// A chunk failed authentication: tampered, reordered, duplicated,
    /// moved from another attachment, or the final chunk dropped and an
    /// earlier one presented as the last. Nothing of it was released.
    #[error("chunk {chunk} of the attachment failed authentication (tampered, reordered or truncated): fetch it again")]
    ChunkAuthentication {
        /// The chunk.
        chunk: u64,
    },

    /// The ciphertext ends before the chunk its pointer says is the last.
    #[error("the attachment ends inside chunk {chunk}, before its last chunk: the upload is incomplete")]
    Truncated {
        /// The chunk that is missing or incomplete.
        chunk: u64,
    },

    /// Bytes follow the last chunk.
    #[error("bytes follow the attachment's last chunk: not a well-formed upload")]
    TrailingData,

    /// An attachment over [`MAX_ATTACHMENT_LEN`](crate::limits::MAX_ATTACHMENT_LEN).
    #[error("the attachment is over the limit of {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },

    /// An earlier write to this encryptor failed: it seals nothing more
    /// (a retried chunk would reuse its nonce). Encrypt again from the
    /// start with a new encryptor.
    #[error("an earlier write to this attachment encryptor failed: encrypt again from the start")]
    EncryptorFailed,

    /// The progress callback asked to stop. Nothing written so far is a
    /// complete attachment (encrypting) or a complete plaintext
    /// (decrypting): discard it.
    #[error("cancelled by the caller")]
    Cancelled,

    /// Reading the input or writing the output failed.
    #[error("I/O error ({kind:?}): {message}")]
    Io {
        /// The I/O error's kind.
        kind: std::io::ErrorKind,
        /// Its message.
        message: String,
    },
}

impl From<std::io::Error> for AttachmentError {
    fn from(e: std::io::Error) -> Self {
        // An error raised by this module and passed through an io::Read /
        // io::Write adapter comes back as itself.
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<AttachmentError>()) {
            return inner.clone();
        }
        Self::Io { kind: e.kind(), message: e.to_string() }
    }
}

impl From<AttachmentError> for std::io::Error {
    fn from(e: AttachmentError) -> Self {
        match e {
            AttachmentError::Io { kind, message } => std::io::Error::new(kind, message),
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
        }
    }
}
