//! The attachment pointer: what a message carries so its recipient can
//! fetch, check and decrypt an attachment.

use zeroize::Zeroizing;

use super::format::{ChunkSize, FILE_KEY_LEN, FileKey};
use crate::error::WireError;
use crate::limits::{
    MAX_ATTACHMENT_CONTENT_TYPE, MAX_ATTACHMENT_FILE_NAME, MAX_ATTACHMENT_LEN, MAX_ATTACHMENT_THUMBNAIL,
    MAX_ATTACHMENT_WAVEFORM,
};
use crate::wire::MessageType;
use crate::wire::codec::{Reader, writer_for};

const HAS_FILE_NAME: u8 = 1;
const HAS_DURATION: u8 = 2;
const HAS_WAVEFORM: u8 = 4;
const HAS_THUMBNAIL: u8 = 8;
const KNOWN_FLAGS: u8 = HAS_FILE_NAME | HAS_DURATION | HAS_WAVEFORM | HAS_THUMBNAIL;

/// What the app says about an attachment. It travels inside the pointer,
/// so only the pointer's recipients see it (the upload shows none of it).
///
/// ```
/// use sealpost::attachment::Metadata;
/// let voice = Metadata::new("audio/ogg").with_duration_ms(42_000).with_waveform(vec![0, 40, 90, 30]);
/// assert_eq!(voice.content_type(), "audio/ogg");
/// assert_eq!(voice.duration_ms(), Some(42_000));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    content_type: String,
    file_name: Option<String>,
    duration_ms: Option<u64>,
    waveform: Option<Vec<u8>>,
    thumbnail: Option<Vec<u8>>,
}

impl Metadata {
    /// Metadata with a content type (a MIME type such as `image/png`; may be
    /// empty), and nothing else.
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// let metadata = Metadata::new("image/png");
    /// assert_eq!(metadata.content_type(), "image/png");
    /// assert_eq!(metadata.file_name(), None);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn new(content_type: impl Into<String>) -> Self {
        Self { content_type: content_type.into(), ..Self::default() }
    }

    /// With a file name.
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// let metadata = Metadata::new("application/pdf").with_file_name("q3.pdf");
    /// assert_eq!(metadata.file_name(), Some("q3.pdf"));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn with_file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// With a duration (voice notes, video), in milliseconds.
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// let note = Metadata::new("audio/ogg").with_duration_ms(12_500);
    /// assert_eq!(note.duration_ms(), Some(12_500));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn with_duration_ms(mut self, duration_ms: u64) -> Self {
        self.duration_ms = Some(duration_ms);
        self
    }

    /// With a waveform (a voice note's amplitude, one byte per sample).
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// let note = Metadata::new("audio/ogg").with_waveform(vec![0, 40, 255, 40]);
    /// assert_eq!(note.waveform(), Some(&[0, 40, 255, 40][..]));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn with_waveform(mut self, waveform: Vec<u8>) -> Self {
        self.waveform = Some(waveform);
        self
    }

    /// With a thumbnail (an image's preview bytes, in any format).
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// let photo = Metadata::new("image/jpeg").with_thumbnail(vec![0xff, 0xd8]);
    /// assert_eq!(photo.thumbnail(), Some(&[0xff, 0xd8][..]));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn with_thumbnail(mut self, thumbnail: Vec<u8>) -> Self {
        self.thumbnail = Some(thumbnail);
        self
    }

    /// The content type.
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// assert_eq!(Metadata::new("video/webm").content_type(), "video/webm");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The file name, if given.
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// assert_eq!(Metadata::new("text/plain").with_file_name("notes.txt").file_name(), Some("notes.txt"));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The duration in milliseconds, if given.
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// assert_eq!(Metadata::new("audio/ogg").duration_ms(), None);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn duration_ms(&self) -> Option<u64> {
        self.duration_ms
    }

    /// The waveform, if given.
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// assert_eq!(Metadata::new("audio/ogg").waveform(), None);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn waveform(&self) -> Option<&[u8]> {
        self.waveform.as_deref()
    }

    /// The thumbnail, if given.
    ///
    /// ```
    /// use sealpost::attachment::Metadata;
    /// assert_eq!(Metadata::new("image/png").thumbnail(), None);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn thumbnail(&self) -> Option<&[u8]> {
        self.thumbnail.as_deref()
    }

    /// Checks the bounds ([`crate::limits`]): what [`Pointer::to_bytes`]
    /// can encode and [`Pointer::parse`] accepts.
    pub(crate) fn check(&self) -> Result<(), WireError> {
        let over = |what, len, max| if len > max { Err(WireError::TooLarge { what, len, max }) } else { Ok(()) };
        over("attachment content type", self.content_type.len(), MAX_ATTACHMENT_CONTENT_TYPE)?;
        over("attachment file name", self.file_name.as_ref().map_or(0, String::len), MAX_ATTACHMENT_FILE_NAME)?;
        over("attachment waveform", self.waveform.as_ref().map_or(0, Vec::len), MAX_ATTACHMENT_WAVEFORM)?;
        over("attachment thumbnail", self.thumbnail.as_ref().map_or(0, Vec::len), MAX_ATTACHMENT_THUMBNAIL)
    }
}

/// Everything a recipient needs to fetch, check and decrypt one
/// attachment: its file key, length and chunk size, and the app's
/// [`Metadata`]. Send its [bytes](Self::to_bytes) as (part of) a message of
/// any kind; the recipient [parses](Self::parse) them and opens the upload
/// with [`Decryptor`](super::Decryptor).
///
/// The pointer is a secret (it holds the key): its key is zeroized on drop
/// (the metadata is not), and
/// `Debug` shows the length and metadata only. Its bytes leave memory only
/// inside a message's encryption.
#[derive(Clone, PartialEq, Eq)]
///
/// ```
/// use sealpost::attachment::{self, Metadata, Pointer};
/// let mut rng = sealpost::default_rng();
/// let (pointer, upload) = attachment::encrypt(b"minutes", Metadata::new("text/plain").with_file_name("m.txt"), &mut rng)?;
/// // Upload `upload` anywhere; send the pointer inside a sealpost message.
/// let received = Pointer::parse(&pointer.to_bytes())?;
/// assert_eq!(attachment::decrypt(&received, &upload)?.as_slice(), b"minutes");
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct Pointer {
    pub(crate) key: FileKey,
    pub(crate) chunk: ChunkSize,
    pub(crate) len: u64,
    pub(crate) metadata: Metadata,
}

impl core::fmt::Debug for Pointer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pointer")
            .field("len", &self.len)
            .field("chunk_size", &self.chunk.bytes())
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl Pointer {
    /// The plaintext length in bytes.
    ///
    /// ```
    /// use sealpost::attachment::{self, Metadata, Pointer};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[7u8; 100_000], Metadata::new("image/png"), &mut rng)?;
    /// assert_eq!(pointer.len(), 100_000); // plaintext bytes
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the attachment is empty.
    ///
    /// ```
    /// use sealpost::attachment::{self, Metadata, Pointer};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[7u8; 100_000], Metadata::new("image/png"), &mut rng)?;
    /// assert!(!pointer.is_empty());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk size in bytes.
    ///
    /// ```
    /// use sealpost::attachment::{self, Metadata, Pointer};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[7u8; 100_000], Metadata::new("image/png"), &mut rng)?;
    /// assert_eq!(pointer.chunk_size(), attachment::DEFAULT_CHUNK_SIZE);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn chunk_size(&self) -> usize {
        self.chunk.bytes()
    }

    /// The length of the upload (the ciphertext) in bytes: what to expect
    /// from the server.
    ///
    /// ```
    /// use sealpost::attachment::{self, Metadata, Pointer};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[7u8; 100_000], Metadata::new("image/png"), &mut rng)?;
    /// assert_eq!(pointer.ciphertext_len(), upload.len() as u64); // what to expect from the server
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn ciphertext_len(&self) -> u64 {
        self.chunk.ciphertext_len(self.len)
    }

    /// The app's metadata.
    ///
    /// ```
    /// use sealpost::attachment::{self, Metadata, Pointer};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[7u8; 100_000], Metadata::new("image/png"), &mut rng)?;
    /// assert_eq!(pointer.metadata().content_type(), "image/png");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Encodes the pointer (zeroized on drop):
    ///
    /// `version | 0x41 | file key (32) | chunk exponent (u8) | length (u64)
    /// | content type (u32 length + UTF-8) | flags (u8) | [file name (u32
    /// length + UTF-8)] | [duration (u64)] | [waveform (u32 length +
    /// bytes)] | [thumbnail (u32 length + bytes)]`, the optional fields in
    /// that order, present as the flags say (bits 0 to 3).
    ///
    /// ```
    /// use sealpost::attachment::{self, Metadata, Pointer};
    /// let mut rng = sealpost::default_rng();
    /// let (pointer, upload) = attachment::encrypt(&[7u8; 100_000], Metadata::new("image/png"), &mut rng)?;
    /// let sent = pointer.to_bytes(); // holds the file key: send it end-to-end encrypted
    /// assert_eq!(Pointer::parse(&sent)?.len(), pointer.len());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let m = &self.metadata;
        let extra = m.file_name.as_ref().map_or(0, String::len)
            + m.waveform.as_ref().map_or(0, Vec::len)
            + m.thumbnail.as_ref().map_or(0, Vec::len);
        let mut w = writer_for(MessageType::AttachmentPointer, 80 + m.content_type.len() + extra);
        w.bytes(&self.key.0).u8(self.chunk.exponent()).u64(self.len);
        w.var_bytes(m.content_type.as_bytes());
        let flags = [
            (m.file_name.is_some(), HAS_FILE_NAME),
            (m.duration_ms.is_some(), HAS_DURATION),
            (m.waveform.is_some(), HAS_WAVEFORM),
            (m.thumbnail.is_some(), HAS_THUMBNAIL),
        ]
        .iter()
        .filter(|(present, _)| *present)
        .fold(0, |acc, (_, bit)| acc | bit);
        w.u8(flags);
        if let Some(name) = &m.file_name {
            w.var_bytes(name.as_bytes());
        }
        if let Some(duration) = m.duration_ms {
            w.u64(duration);
        }
        if let Some(waveform) = &m.waveform {
            w.var_bytes(waveform);
        }
        if let Some(thumbnail) = &m.thumbnail {
            w.var_bytes(thumbnail);
        }
        Zeroizing::new(w.into_vec())
    }

    /// Parses what [`Self::to_bytes`] made. Total and canonical: every
    /// field within its bound ([`crate::limits`]), UTF-8 where text, no
    /// unknown flag, no trailing byte.
    ///
    /// ```
    /// use sealpost::attachment::{self, Metadata, Pointer};
    /// let (pointer, _upload) = attachment::encrypt(b"hello", Metadata::new("text/plain"), &mut sealpost::default_rng())?;
    /// let sent = pointer.to_bytes(); // inside a message
    /// assert_eq!(Pointer::parse(&sent)?, pointer);
    /// assert!(Pointer::parse(&sent[..sent.len() - 1]).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        r.header(MessageType::AttachmentPointer)?;
        let key = FileKey(r.array::<FILE_KEY_LEN>()?);
        let chunk = ChunkSize::from_exponent(r.u8()?)?;
        let len = r.u64()?;
        if len > MAX_ATTACHMENT_LEN {
            return Err(WireError::InvalidField("attachment length over the limit"));
        }
        let text = |b: &[u8], what| String::from_utf8(b.to_vec()).map_err(|_| WireError::InvalidField(what));
        let content_type =
            text(r.var_bytes("attachment content type", MAX_ATTACHMENT_CONTENT_TYPE)?, "attachment content type")?;
        let flags = r.u8()?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(WireError::InvalidField("attachment pointer flags"));
        }
        let mut metadata = Metadata::new(content_type);
        if flags & HAS_FILE_NAME != 0 {
            let name = r.var_bytes("attachment file name", MAX_ATTACHMENT_FILE_NAME)?;
            metadata.file_name = Some(text(name, "attachment file name")?);
        }
        if flags & HAS_DURATION != 0 {
            metadata.duration_ms = Some(r.u64()?);
        }
        if flags & HAS_WAVEFORM != 0 {
            metadata.waveform = Some(r.var_bytes("attachment waveform", MAX_ATTACHMENT_WAVEFORM)?.to_vec());
        }
        if flags & HAS_THUMBNAIL != 0 {
            metadata.thumbnail = Some(r.var_bytes("attachment thumbnail", MAX_ATTACHMENT_THUMBNAIL)?.to_vec());
        }
        r.finish()?;
        Ok(Self { key, chunk, len, metadata })
    }
}
