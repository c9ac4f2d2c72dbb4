//! Decrypting an attachment: [`Decryptor`] (an `io::Read`, and an
//! `io::Seek` over a seekable upload), [`decrypt_stream`] (with progress)
//! and [`decrypt`] (in memory).

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;

use zeroize::Zeroizing;

use super::Progress;
use super::encrypt::read_full;
use super::format::{CHUNK_OVERHEAD, HEADER_LEN, Header, StreamKeys};
use super::pointer::Pointer;
use crate::error::{AttachmentError, Result};

/// Reads an attachment's plaintext out of its upload `R`, authenticating
/// each chunk before releasing a byte of it. Holds one chunk at a time.
///
/// Over any `R: Read` it reads front to back. Over `R: Read + Seek` it is
/// also an [`io::Seek`]: a seek moves the position without reading; the
/// next read loads and authenticates only the chunk that holds it (a media
/// player seeking in a voice note reads one or two chunks, not the file).
///
/// Every problem with the upload is an `io::Error` of kind `InvalidData`
/// wrapping an [`AttachmentError`] (convert it back with
/// `AttachmentError::from`): [`KeyMismatch`](AttachmentError::KeyMismatch)
/// at [`new`](Self::new) for an upload that is not the pointer's,
/// [`ChunkAuthentication`](AttachmentError::ChunkAuthentication) for a
/// tampered, reordered, duplicated or wrongly final chunk,
/// [`Truncated`](AttachmentError::Truncated) and
/// [`TrailingData`](AttachmentError::TrailingData). End of file is
/// reported only once the last chunk (marked last) has been authenticated
/// and nothing follows it.
///
/// ```
/// use std::io::{Read, Seek, SeekFrom};
/// use sealpost::attachment::{self, Decryptor, Metadata};
/// let note: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
/// let (pointer, upload) = attachment::encrypt(&note, Metadata::new("audio/ogg"), &mut sealpost::default_rng())?;
///
/// let mut player = Decryptor::new(std::io::Cursor::new(&upload), &pointer)?;
/// player.seek(SeekFrom::Start(150_000))?; // the middle of the note
/// let mut ten = [0u8; 10];
/// player.read_exact(&mut ten)?;
/// assert_eq!(&ten[..], &note[150_000..150_010]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Decryptor<R> {
    input: R,
    keys: StreamKeys,
    pointer: Pointer,
    /// The plaintext of the chunk `loaded` (zeroized on drop).
    buf: Zeroizing<Vec<u8>>,
    loaded: Option<u64>,
    /// The chunk the input is positioned at the start of.
    input_at: u64,
    /// The plaintext position of the next read.
    pos: u64,
    /// The last chunk was authenticated and nothing follows it.
    end_checked: bool,
    /// A chunk was refused: every read reports it again until a seek.
    error: Option<AttachmentError>,
}

impl<R> core::fmt::Debug for Decryptor<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decryptor").field("len", &self.pointer.len).field("position", &self.pos).finish_non_exhaustive()
    }
}

impl<R: Read> Decryptor<R> {
    /// Reads the header of the upload `input` (positioned at its start) and
    /// checks it against `pointer`: [`AttachmentError::KeyMismatch`] if the
    /// upload is another attachment's (or its header was tampered with).
    ///
    /// ```
    /// use sealpost::attachment::{self, Decryptor, Metadata};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[5u8; 70_000], Metadata::new("image/png"), &mut rng)?;
    /// let mut image = Decryptor::new(&upload[..], &pointer)?; // checks the header and key
    /// let mut out = Vec::new();
    /// std::io::Read::read_to_end(&mut image, &mut out)?;
    /// assert_eq!(out, [5u8; 70_000]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(mut input: R, pointer: &Pointer) -> Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        if read_full(&mut input, &mut header)? < HEADER_LEN {
            return Err(AttachmentError::Truncated { chunk: 0 }.into());
        }
        let keys = Header::parse(&header)?.keys(&pointer.key, pointer.chunk)?;
        let buf = Zeroizing::new(Vec::with_capacity(pointer.chunk.bytes() + CHUNK_OVERHEAD));
        Ok(Self {
            input,
            keys,
            pointer: pointer.clone(),
            buf,
            loaded: None,
            input_at: 0,
            pos: 0,
            end_checked: false,
            error: None,
        })
    }

    /// The plaintext length.
    ///
    /// ```
    /// use sealpost::attachment::{self, Decryptor, Metadata};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[5u8; 70_000], Metadata::new("image/png"), &mut rng)?;
    /// assert_eq!(Decryptor::new(&upload[..], &pointer)?.len(), 70_000);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn len(&self) -> u64 {
        self.pointer.len
    }

    /// Whether the attachment is empty.
    ///
    /// ```
    /// use sealpost::attachment::{self, Decryptor, Metadata};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[5u8; 70_000], Metadata::new("image/png"), &mut rng)?;
    /// assert!(!Decryptor::new(&upload[..], &pointer)?.is_empty());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.pointer.len == 0
    }

    /// The upload reader, handed back.
    ///
    /// ```
    /// use sealpost::attachment::{self, Decryptor, Metadata};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[5u8; 70_000], Metadata::new("image/png"), &mut rng)?;
    /// let reader = Decryptor::new(std::io::Cursor::new(upload.clone()), &pointer)?;
    /// let cursor = reader.into_inner(); // the source back, e.g. to close a file
    /// assert_eq!(cursor.get_ref().len(), upload.len());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn into_inner(self) -> R {
        self.input
    }

    fn last_chunk(&self) -> u64 {
        self.pointer.chunk.chunks(self.pointer.len) - 1
    }

    /// Reads chunk `index` from where the input is and authenticates it.
    fn load_here(&mut self, index: u64) -> core::result::Result<(), AttachmentError> {
        let chunk = self.pointer.chunk;
        let len = chunk.chunk_len(self.pointer.len, index) + CHUNK_OVERHEAD;
        self.loaded = None;
        self.buf.clear();
        self.buf.resize(len, 0);
        // Unknown until the read completes: an I/O error mid-chunk leaves
        // the input anywhere, and a seek must then move it again.
        self.input_at = u64::MAX;
        let got = read_full(&mut self.input, &mut self.buf)?;
        if got < len {
            self.buf.clear();
            return Err(AttachmentError::Truncated { chunk: index });
        }
        self.input_at = index + 1;
        let last = index == self.last_chunk();
        self.keys.open(index, last, &mut self.buf)?;
        if last {
            let mut probe = [0u8; 1];
            if read_full(&mut self.input, &mut probe)? != 0 {
                self.buf.clear();
                return Err(AttachmentError::TrailingData);
            }
            self.end_checked = true;
        }
        self.loaded = Some(index);
        Ok(())
    }

    /// Copies out of the loaded chunk at the current position.
    fn serve(&mut self, out: &mut [u8]) -> usize {
        let start = self.loaded.unwrap_or(0).saturating_mul(self.pointer.chunk.bytes_u64());
        let offset = usize::try_from(self.pos.saturating_sub(start)).unwrap_or(usize::MAX);
        let available = self.buf.get(offset..).unwrap_or_default();
        let n = available.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), available.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n as u64;
        n
    }

    fn read_sequential(&mut self, out: &mut [u8]) -> core::result::Result<usize, AttachmentError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.read_unchecked(out);
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    fn read_unchecked(&mut self, out: &mut [u8]) -> core::result::Result<usize, AttachmentError> {
        let chunk = self.pointer.chunk;
        if self.pos >= self.pointer.len {
            // End of file only after the last chunk was authenticated.
            if !self.end_checked {
                let last = self.last_chunk();
                if self.input_at != last {
                    return Err(AttachmentError::Truncated { chunk: last });
                }
                self.load_here(last)?;
            }
            return Ok(0);
        }
        let index = self.pos / chunk.bytes_u64();
        if self.loaded != Some(index) {
            if self.input_at != index {
                // Only a seekable reader moves; see `Seek` below.
                return Err(AttachmentError::Io {
                    kind: io::ErrorKind::Unsupported,
                    message: "this attachment reader cannot seek".into(),
                });
            }
            self.load_here(index)?;
        }
        Ok(self.serve(out))
    }
}

impl<R: Read> Read for Decryptor<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        Ok(self.read_sequential(out)?)
    }
}

impl<R: Read + Seek> Decryptor<R> {
    /// Reads exactly `out.len()` plaintext bytes from `offset`, loading and
    /// authenticating only the chunks that hold them.
    ///
    /// ```
    /// use sealpost::attachment::{self, Decryptor, Metadata};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[5u8; 70_000], Metadata::new("image/png"), &mut rng)?;
    /// let mut image = Decryptor::new(std::io::Cursor::new(&upload), &pointer)?;
    /// let mut tail = [0u8; 10];
    /// image.read_at(69_990, &mut tail)?; // reads and authenticates only the last chunk
    /// assert_eq!(tail, [5u8; 10]);
    /// assert!(image.read_at(69_995, &mut tail).is_err()); // past the end
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn read_at(&mut self, offset: u64, out: &mut [u8]) -> Result<()> {
        self.seek(SeekFrom::Start(offset)).map_err(AttachmentError::from)?;
        self.read_exact(out).map_err(AttachmentError::from)?;
        Ok(())
    }

    /// Moves the input to the start of chunk `index` if it is not there.
    fn position_input(&mut self, index: u64) -> io::Result<()> {
        if self.input_at != index {
            self.input.seek(SeekFrom::Start(self.pointer.chunk.chunk_offset(index)))?;
            self.input_at = index;
        }
        Ok(())
    }
}

impl<R: Read + Seek> Seek for Decryptor<R> {
    /// Moves the plaintext position (past the end is allowed: reads there
    /// return 0 once the last chunk is authenticated). Reads nothing.
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.pointer.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        // A refused chunk is reported again if read again; elsewhere the
        // attachment may still be read.
        self.error = None;
        self.pos = target;
        let chunk = self.pointer.chunk;
        let last = self.last_chunk();
        let index = (target / chunk.bytes_u64()).min(last);
        if self.loaded == Some(index) {
            // Served from the buffer; the next chunk read follows it.
            if index < last {
                self.position_input(index + 1)?;
            }
        } else if !(target >= self.pointer.len && self.end_checked) {
            self.position_input(index)?;
        }
        Ok(target)
    }
}

/// Decrypts the whole upload `input` into `output`, one chunk at a time,
/// calling `progress` after each chunk ([`ControlFlow::Break`] stops with
/// [`AttachmentError::Cancelled`]). Nothing of a chunk reaches `output`
/// before it is authenticated; on an error, what `output` holds is an
/// incomplete plaintext: discard it.
///
/// ```
/// use std::ops::ControlFlow;
/// use sealpost::attachment::{self, Metadata};
/// let mut rng = sealpost::default_rng();
/// let (pointer, upload) = attachment::encrypt(&[3u8; 200_000], Metadata::new("video/webm"), &mut rng)?;
/// let mut file = Vec::new(); // a File in an app
/// let mut chunks = 0;
/// attachment::decrypt_stream(&upload[..], &mut file, &pointer, |_progress| {
///     chunks += 1;
///     ControlFlow::Continue(())
/// })?;
/// assert_eq!((file.len(), chunks), (200_000, 4));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn decrypt_stream<Rd: Read, W: Write>(
    input: Rd,
    mut output: W,
    pointer: &Pointer,
    mut progress: impl FnMut(Progress) -> ControlFlow<()>,
) -> Result<()> {
    let mut dec = Decryptor::new(input, pointer)?;
    let total = Some(pointer.len);
    loop {
        if dec.pos >= pointer.len {
            dec.read_sequential(&mut [0u8; 1])?; // authenticates the end
            break;
        }
        let index = dec.pos / pointer.chunk.bytes_u64();
        dec.load_here(index)?;
        output.write_all(&dec.buf).map_err(AttachmentError::from)?;
        dec.pos += dec.buf.len() as u64;
        if progress(Progress { done: dec.pos, total }).is_break() {
            return Err(AttachmentError::Cancelled.into());
        }
    }
    output.flush().map_err(AttachmentError::from)?;
    Ok(())
}

/// Decrypts an upload held in memory (zeroized on drop).
///
/// ```
/// use sealpost::attachment::{self, Metadata};
/// let mut rng = sealpost::default_rng();
/// let (pointer, mut upload) = attachment::encrypt(b"small file", Metadata::new("text/plain"), &mut rng)?;
/// assert_eq!(attachment::decrypt(&pointer, &upload)?.as_slice(), b"small file");
/// let last = upload.len() - 1;
/// upload[last] ^= 1;
/// assert!(attachment::decrypt(&pointer, &upload).is_err()); // tampered: refused
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn decrypt(pointer: &Pointer, upload: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    // The upload bounds the plaintext, whatever the pointer claims.
    let mut out = Zeroizing::new(Vec::with_capacity(usize::try_from(pointer.len).unwrap_or(0).min(upload.len())));
    decrypt_stream(upload, &mut *out, pointer, |_| ControlFlow::Continue(()))?;
    Ok(out)
}
