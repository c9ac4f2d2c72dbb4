//! Encrypting an attachment as a stream: [`Encryptor`] (an `io::Write`),
//! [`encrypt_stream`] (reader to writer, with progress) and [`encrypt`]
//! (in memory).

use std::io::{self, Read, Write};
use std::ops::ControlFlow;

use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use super::format::{self, CHUNK_OVERHEAD, ChunkSize, FILE_KEY_LEN, FileKey, SALT_LEN, StreamKeys};
use super::pointer::{Metadata, Pointer};
use super::{DEFAULT_CHUNK_SIZE, Progress};
use crate::error::{AttachmentError, Error, Result};
use crate::limits::MAX_ATTACHMENT_LEN;

/// Encrypts an attachment written into it, chunk by chunk, into `W` (a
/// file, an upload): the header first, then each chunk once it is full and
/// more follows. Holds one chunk at a time, whatever the attachment's size.
/// [`finish`](Self::finish) seals the last chunk and returns the
/// [`Pointer`] to send.
///
/// Dropping an encryptor without `finish` leaves an incomplete upload that
/// no recipient can open (its last chunk is missing). After any error (a
/// failed write to `W`, a length over the limit) the encryptor refuses
/// every further call with [`AttachmentError::EncryptorFailed`]: what `W`
/// holds is no valid upload; encrypt again from the start (a new
/// encryptor, a new key). Retrying in place could seal a chunk twice under
/// one nonce.
///
/// ```
/// use std::io::Write;
/// use sealpost::attachment::{Encryptor, Metadata};
/// let mut upload = Vec::new();
/// let mut enc = Encryptor::new(&mut upload, Metadata::new("text/plain"), &mut sealpost::default_rng())?;
/// enc.write_all(b"meeting notes, part 1. ")?;
/// enc.write_all(b"part 2.")?;
/// let pointer = enc.finish()?;
/// assert_eq!(pointer.len(), 30);
/// assert_eq!(upload.len() as u64, pointer.ciphertext_len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Encryptor<W: Write> {
    out: W,
    keys: StreamKeys,
    key: FileKey,
    chunk: ChunkSize,
    metadata: Metadata,
    /// The chunk being filled (capacity: one chunk and its tag); zeroized
    /// on drop.
    buf: Zeroizing<Vec<u8>>,
    /// Chunks sealed and written so far.
    index: u64,
    /// Plaintext bytes taken so far.
    len: u64,
    /// An earlier call failed: nothing more is sealed (a retried chunk
    /// would be sealed again under its used nonce).
    failed: bool,
}

impl<W: Write> core::fmt::Debug for Encryptor<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encryptor").field("len", &self.len).field("chunks", &self.index).finish_non_exhaustive()
    }
}

impl<W: Write> Encryptor<W> {
    /// An encryptor with the default chunk size
    /// ([`DEFAULT_CHUNK_SIZE`]); writes the header to `out` at once. The
    /// file key and salt come from `rng`.
    ///
    /// ```
    /// use sealpost::attachment::{self, Encryptor, Metadata};
    /// use std::io::Write;
    /// let mut rng = sealpost::default_rng();
    /// let mut enc = Encryptor::new(Vec::new(), Metadata::new("text/plain"), &mut rng)?;
    /// enc.write_all(b"written in pieces, ")?;
    /// enc.write_all(b"as they come")?;
    /// let (pointer, upload) = enc.finish_into()?;
    /// assert_eq!(attachment::decrypt(&pointer, &upload)?.as_slice(), b"written in pieces, as they come");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new<R: CryptoRng + ?Sized>(out: W, metadata: Metadata, rng: &mut R) -> Result<Self> {
        Self::with_chunk_size(out, metadata, DEFAULT_CHUNK_SIZE, rng)
    }

    /// An encryptor with chunks of `chunk_size` bytes (a power of two from
    /// [`MIN_ATTACHMENT_CHUNK`](crate::limits::MIN_ATTACHMENT_CHUNK) to
    /// [`MAX_ATTACHMENT_CHUNK`](crate::limits::MAX_ATTACHMENT_CHUNK)).
    /// Larger chunks cost less per byte; smaller ones make a seek read less.
    ///
    /// ```
    /// use sealpost::attachment::{self, Encryptor, Metadata};
    /// use std::io::Write;
    /// let mut rng = sealpost::default_rng();
    /// let mut enc = Encryptor::with_chunk_size(Vec::new(), Metadata::new("audio/ogg"), 16 * 1024, &mut rng)?;
    /// enc.write_all(&[1u8; 40_000])?;
    /// let (pointer, _upload) = enc.finish_into()?;
    /// assert_eq!(pointer.chunk_size(), 16 * 1024);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_chunk_size<R: CryptoRng + ?Sized>(
        mut out: W,
        metadata: Metadata,
        chunk_size: usize,
        rng: &mut R,
    ) -> Result<Self> {
        metadata.check()?;
        let chunk = ChunkSize::new(chunk_size)?;
        let mut key = FileKey([0; FILE_KEY_LEN]);
        rng.fill_bytes(&mut key.0);
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let (header, keys) = format::new_header(&key, chunk, salt);
        out.write_all(&header.encode()).map_err(AttachmentError::from)?;
        let buf = Zeroizing::new(Vec::with_capacity(chunk.bytes() + CHUNK_OVERHEAD));
        Ok(Self { out, keys, key, chunk, metadata, buf, index: 0, len: 0, failed: false })
    }

    /// Plaintext bytes taken so far.
    ///
    /// ```
    /// use sealpost::attachment::{self, Encryptor, Metadata};
    /// use std::io::Write;
    /// let mut rng = sealpost::default_rng();
    /// let mut enc = Encryptor::new(Vec::new(), Metadata::new("text/plain"), &mut rng)?;
    /// enc.write_all(&[0u8; 1234])?;
    /// assert_eq!(enc.bytes_written(), 1234);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bytes_written(&self) -> u64 {
        self.len
    }

    /// Seals the buffered chunk and writes it. A chunk index is used once:
    /// after any failure the encryptor refuses everything
    /// ([`AttachmentError::EncryptorFailed`]).
    fn flush_chunk(&mut self, last: bool) -> core::result::Result<(), AttachmentError> {
        self.failed = true;
        self.keys.seal(self.index, last, &mut self.buf)?;
        self.index += 1;
        self.out.write_all(&self.buf)?;
        // The buffer now holds ciphertext only: no need to wipe it.
        self.buf.clear();
        self.failed = false;
        Ok(())
    }

    fn take(&mut self, data: &[u8]) -> core::result::Result<usize, AttachmentError> {
        if self.failed {
            return Err(AttachmentError::EncryptorFailed);
        }
        self.failed = true;
        let taken = self.take_inner(data)?;
        self.failed = false;
        Ok(taken)
    }

    fn take_inner(&mut self, mut data: &[u8]) -> core::result::Result<usize, AttachmentError> {
        let taken = data.len();
        let total = self.len.checked_add(taken as u64).filter(|&l| l <= MAX_ATTACHMENT_LEN);
        let total = total.ok_or(AttachmentError::TooLarge { max: MAX_ATTACHMENT_LEN })?;
        let size = self.chunk.bytes();
        while !data.is_empty() {
            // A full chunk is sealed only once more data follows: the last
            // chunk may be a full one.
            if self.buf.len() == size {
                self.flush_chunk(false)?;
            }
            let n = (size - self.buf.len()).min(data.len());
            let (head, rest) = data.split_at(n);
            self.buf.extend_from_slice(head);
            data = rest;
        }
        self.len = total;
        Ok(taken)
    }

    /// Seals the last chunk, flushes `W` and returns the pointer (and
    /// nothing else: the upload is complete in `W`).
    ///
    /// ```
    /// use sealpost::attachment::{self, Encryptor, Metadata};
    /// use std::io::Write;
    /// let mut rng = sealpost::default_rng();
    /// let file = std::io::Cursor::new(Vec::new()); // a File in an app
    /// let mut enc = Encryptor::new(file, Metadata::new("text/plain"), &mut rng)?;
    /// enc.write_all(b"done")?;
    /// let pointer = enc.finish()?; // the last chunk is sealed and flushed
    /// assert_eq!(pointer.len(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(self) -> Result<Pointer> {
        Ok(self.finish_into()?.0)
    }

    /// [`finish`](Self::finish), also handing `W` back.
    ///
    /// ```
    /// use sealpost::attachment::{self, Encryptor, Metadata};
    /// use std::io::Write;
    /// let mut rng = sealpost::default_rng();
    /// let mut enc = Encryptor::new(Vec::new(), Metadata::new("text/plain"), &mut rng)?;
    /// enc.write_all(b"done")?;
    /// let (pointer, upload) = enc.finish_into()?;
    /// assert_eq!(pointer.ciphertext_len(), upload.len() as u64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish_into(mut self) -> Result<(Pointer, W)> {
        if self.failed {
            return Err(AttachmentError::EncryptorFailed.into());
        }
        self.flush_chunk(true)?;
        self.out.flush().map_err(AttachmentError::from)?;
        let Self { out, key, chunk, len, metadata, .. } = self;
        Ok((Pointer { key, chunk, len, metadata }, out))
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        Ok(self.take(data)?)
    }

    /// Flushes `W`; the partial chunk stays buffered (it is sealed when
    /// full and more follows, or by [`finish`](Encryptor::finish)).
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Encrypts everything `input` yields into `output`, one chunk at a time,
/// and returns the pointer. `progress` is called after each chunk with the
/// bytes done (and `total`, if the caller knows the input's length);
/// returning [`ControlFlow::Break`] stops with
/// [`AttachmentError::Cancelled`].
///
/// ```
/// use std::ops::ControlFlow;
/// use sealpost::attachment::{self, Metadata};
/// let recording = vec![7u8; 300_000];
/// let mut upload = Vec::new();
/// let mut calls = 0;
/// let pointer = attachment::encrypt_stream(&recording[..], &mut upload, Metadata::new("video/webm"),
///     Some(recording.len() as u64), &mut sealpost::default_rng(), |p| {
///         calls += 1;
///         assert_eq!(p.total, Some(300_000));
///         ControlFlow::Continue(())
///     })?;
/// assert_eq!(pointer.len(), 300_000);
/// assert_eq!(calls, 5); // 64 KiB chunks
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn encrypt_stream<Rd: Read, W: Write, R: CryptoRng + ?Sized>(
    mut input: Rd,
    output: W,
    metadata: Metadata,
    total: Option<u64>,
    rng: &mut R,
    mut progress: impl FnMut(Progress) -> ControlFlow<()>,
) -> Result<Pointer> {
    let mut enc = Encryptor::new(output, metadata, rng)?;
    let mut chunk = vec![0u8; enc.chunk.bytes()];
    let result = (|| {
        loop {
            let n = read_full(&mut input, &mut chunk)?;
            if n == 0 && enc.len > 0 {
                // The input ended on a chunk boundary: reported already.
                return Ok(());
            }
            enc.take(chunk.get(..n).unwrap_or_default())?;
            if progress(Progress { done: enc.len, total }).is_break() {
                return Err(AttachmentError::Cancelled);
            }
            if n < chunk.len() {
                return Ok(());
            }
        }
    })();
    chunk.zeroize();
    result?;
    enc.finish()
}

/// Fills `buf` from `input` unless it ends first; returns the bytes read.
pub(crate) fn read_full<Rd: Read>(input: &mut Rd, buf: &mut [u8]) -> core::result::Result<usize, AttachmentError> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}

/// Encrypts an attachment held in memory: the pointer and the upload.
///
/// ```
/// use sealpost::attachment::{self, Metadata};
/// let (pointer, upload) = attachment::encrypt(b"a small file", Metadata::new("text/plain"), &mut sealpost::default_rng())?;
/// assert_eq!(&*attachment::decrypt(&pointer, &upload)?, b"a small file");
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn encrypt<R: CryptoRng + ?Sized>(plaintext: &[u8], metadata: Metadata, rng: &mut R) -> Result<(Pointer, Vec<u8>)> {
    let chunk = ChunkSize::new(DEFAULT_CHUNK_SIZE)?;
    let mut upload = Vec::with_capacity(usize::try_from(chunk.ciphertext_len(plaintext.len() as u64)).unwrap_or(0));
    let mut enc = Encryptor::new(&mut upload, metadata, rng)?;
    enc.take(plaintext).map_err(Error::from)?;
    let pointer = enc.finish()?;
    Ok((pointer, upload))
}
