//! Encoding of 1:1 session messages.
//!
//! A ratchet message (type `0x02`) is a header and a ciphertext; a setup
//! message (type `0x03`) puts the PQXDH setup data before them. The layouts
//! are specified in [PROTOCOL](crate::docs::protocol).
//!
//! Every byte before the ciphertext is authenticated as AEAD associated
//! data, after the session's own associated data (both identity keys). The
//! setup block's KEM byte says whether an ML-KEM-1024 ciphertext (PQXDH)
//! follows: `1` and 1,568 bytes, or `0` for a classical setup.

use super::MessageType;
use super::codec::{Reader, Writer};
use crate::crypto::TAG_LEN;
use crate::error::WireError;
use crate::identity::IdentityKey;
use crate::kem::setup as kem;
use crate::limits::MAX_MESSAGE;
use crate::prekey::KEM_ML_KEM_1024;
use crate::ratchet::braid::{Chunk, ChunkKind};
use crate::ratchet::erasure::CHUNK_LEN;

/// Length of an X25519 public key on the wire.
pub(crate) const KEY_LEN: usize = 32;

/// Length of the per-message salt in the header.
pub(crate) const SALT_LEN: usize = 16;

/// Length of the encoded header without a post-quantum ratchet chunk.
pub(crate) const HEADER_LEN: usize = KEY_LEN + 4 + 4 + SALT_LEN + 4 + 1;

/// Length of an encoded post-quantum ratchet chunk (point and data).
pub(crate) const CHUNK_ENCODED_LEN: usize = 1 + CHUNK_LEN;

/// The Double Ratchet header, with the post-quantum ratchet's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) ratchet_key: [u8; KEY_LEN],
    pub(crate) previous_chain_length: u32,
    pub(crate) index: u32,
    /// Fresh random bytes of the sender, mixed into the expansion of the
    /// message key: a state restored from an old export that encrypts at
    /// the same chain position again uses a different AEAD key and nonce.
    pub(crate) salt: [u8; SALT_LEN],
    /// The post-quantum epoch of the sending chain (the last one mixed
    /// into the root key when the chain was made).
    pub(crate) epoch: u32,
    /// A chunk of the next epoch's KEM key or ciphertext.
    pub(crate) chunk: Option<Chunk>,
}

impl Header {
    fn encoded_len(&self) -> usize {
        HEADER_LEN + self.chunk.map_or(0, |_| CHUNK_ENCODED_LEN)
    }
}

/// PQXDH data carried by an initiator's messages until the first reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SetupData {
    pub(crate) initiator: IdentityKey,
    pub(crate) base_key: [u8; KEY_LEN],
    pub(crate) signed_prekey_id: u32,
    pub(crate) one_time_prekey_id: Option<u32>,
    /// The ML-KEM-1024 ciphertext to the bundle's KEM prekey; `None` in a
    /// classical (X3DH-only) setup.
    pub(crate) kem_ciphertext: Option<KemCiphertext>,
}

/// An ML-KEM-1024 ciphertext of a setup message.
pub(crate) type KemCiphertext = Box<[u8; kem::CIPHERTEXT_LEN]>;

/// A parsed (not yet authenticated) 1:1 message.
///
/// Nothing in it is trustworthy until a session has decrypted it; it is
/// exposed so transports can route messages (for example, a setup message
/// names its sender's identity key).
///
/// ```
/// use sealpost::wire::SessionMessage;
/// assert!(SessionMessage::parse(&[1, 2, 3]).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct SessionMessage<'a> {
    /// The whole message.
    pub(crate) bytes: &'a [u8],
    /// Boxed: a setup message is rare, and the parsed message of every
    /// other one stays small as it moves between the layers.
    pub(crate) setup: Option<Box<SetupData>>,
    pub(crate) header: Header,
    pub(crate) authenticated: &'a [u8],
    pub(crate) ciphertext: &'a [u8],
}

impl<'a> SessionMessage<'a> {
    /// Parses a ratchet or setup message.
    ///
    /// ```
    /// use sealpost::{Account, wire::SessionMessage};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let bytes = to_bob.encrypt(b"hi", &mut rng)?;
    /// let m = SessionMessage::parse(&bytes)?;
    /// assert!(m.is_setup());
    /// assert!(SessionMessage::parse(&bytes[..40]).is_err()); // truncated
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WireError> {
        let Frame { setup, header, split } = frame(bytes)?;
        let setup = match setup {
            None => None,
            Some(raw) => Some(Box::new(SetupData {
                initiator: IdentityKey::from_bytes(&raw.initiator)
                    .map_err(|_| WireError::InvalidField("initiator identity"))?,
                base_key: raw.base_key,
                signed_prekey_id: raw.signed_prekey_id,
                one_time_prekey_id: raw.one_time_prekey_id,
                kem_ciphertext: raw.kem_ciphertext,
            })),
        };
        let (authenticated, ciphertext) = bytes.split_at(split);
        Ok(Self { bytes, setup, header, authenticated, ciphertext })
    }

    /// Checks that `bytes` is framed as a message (version, type, setup
    /// fields, header, a ciphertext with room for its tag) without decoding
    /// the setup's identity key: what a relay needs, which never
    /// authenticates a message. [`Self::parse`] adds the identity check.
    pub(crate) fn check_framing(bytes: &[u8]) -> Result<(), WireError> {
        frame(bytes).map(|_| ())
    }

    /// The bytes the message was parsed from.
    ///
    /// ```
    /// use sealpost::{Account, wire::SessionMessage};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let bytes = to_bob.encrypt(b"hi", &mut rng)?;
    /// let m = SessionMessage::parse(&bytes)?;
    /// assert_eq!(m.as_bytes(), &bytes[..]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether this message carries PQXDH setup data (the sender has not yet
    /// received a reply in this session).
    ///
    /// ```
    /// use sealpost::{Account, wire::SessionMessage};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let bytes = to_bob.encrypt(b"hi", &mut rng)?;
    /// let m = SessionMessage::parse(&bytes)?;
    /// assert!(m.is_setup()); // until Bob replies
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_setup(&self) -> bool {
        self.setup.is_some()
    }

    /// For a setup message, the identity key it claims to come from
    /// (unauthenticated until decrypted).
    ///
    /// ```
    /// use sealpost::{Account, wire::SessionMessage};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let bytes = to_bob.encrypt(b"hi", &mut rng)?;
    /// let m = SessionMessage::parse(&bytes)?;
    /// assert_eq!(m.claimed_sender(), Some(*alice.identity())); // route it to Alice's session
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn claimed_sender(&self) -> Option<IdentityKey> {
        self.setup.as_ref().map(|s| s.initiator)
    }

    /// For a setup message, whether it carries a KEM ciphertext (a
    /// post-quantum, PQXDH setup).
    ///
    /// ```
    /// use sealpost::{Account, wire::SessionMessage};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let first = to_bob.encrypt(b"hi", &mut rng)?;
    /// assert!(SessionMessage::parse(&first)?.is_post_quantum_setup());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_post_quantum_setup(&self) -> bool {
        self.setup.as_ref().is_some_and(|s| s.kem_ciphertext.is_some())
    }

    /// The message number within its sending chain.
    ///
    /// ```
    /// use sealpost::{Account, wire::SessionMessage};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let bytes = to_bob.encrypt(b"hi", &mut rng)?;
    /// let m = SessionMessage::parse(&bytes)?;
    /// assert_eq!(m.message_number(), 0);
    /// let next = to_bob.encrypt(b"again", &mut rng)?;
    /// assert_eq!(SessionMessage::parse(&next)?.message_number(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn message_number(&self) -> u32 {
        self.header.index
    }
}

/// The fields of a setup block, the identity key not yet decoded.
struct RawSetup {
    initiator: [u8; 32],
    base_key: [u8; 32],
    signed_prekey_id: u32,
    one_time_prekey_id: Option<u32>,
    kem_ciphertext: Option<KemCiphertext>,
}

/// A message's framing: setup fields, header, and where the ciphertext
/// starts.
struct Frame {
    setup: Option<RawSetup>,
    header: Header,
    split: usize,
}

fn frame(bytes: &[u8]) -> Result<Frame, WireError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(WireError::TooLarge { what: "message", len: bytes.len(), max: MAX_MESSAGE });
    }
    let mut r = Reader::new(bytes);
    let version = r.u8()?;
    // Ratchet and setup messages share one format version.
    if version != MessageType::Ratchet.version() {
        return Err(WireError::UnsupportedVersion(version));
    }
    let setup = match r.u8()? {
        t if t == MessageType::Ratchet as u8 => None,
        t if t == MessageType::Setup as u8 => Some(parse_setup(&mut r)?),
        found => return Err(WireError::UnexpectedType { found, expected: MessageType::Ratchet as u8 }),
    };
    let header = Header {
        ratchet_key: r.array()?,
        previous_chain_length: r.u32()?,
        index: r.u32()?,
        salt: r.array()?,
        epoch: r.u32()?,
        chunk: match r.u8()? {
            0 => None,
            kind => Some(Chunk {
                kind: ChunkKind::from_byte(kind).ok_or(WireError::InvalidField("post-quantum chunk kind"))?,
                point: r.u8()?,
                data: r.array()?,
            }),
        },
    };
    let ciphertext_len = r.remaining();
    if ciphertext_len < TAG_LEN + 1 {
        return Err(WireError::Truncated { needed: TAG_LEN + 1 - ciphertext_len });
    }
    Ok(Frame { setup, header, split: bytes.len() - ciphertext_len })
}

fn parse_setup(r: &mut Reader<'_>) -> Result<RawSetup, WireError> {
    let initiator = r.array()?;
    let base_key = r.array()?;
    let signed_prekey_id = r.u32()?;
    let one_time_prekey_id = if r.bool()? { Some(r.u32()?) } else { None };
    let kem_ciphertext = match r.u8()? {
        0 => None,
        KEM_ML_KEM_1024 => Some(Box::new(r.array()?)),
        _ => return Err(WireError::InvalidField("KEM ciphertext kind not defined in this version")),
    };
    Ok(RawSetup { initiator, base_key, signed_prekey_id, one_time_prekey_id, kem_ciphertext })
}

/// Writes everything up to the ciphertext; the caller appends the sealed
/// payload. `capacity` is the payload length to reserve.
#[cfg(any(fuzzing, feature = "test-hooks"))]
pub(crate) fn encode_prefix(setup: Option<&SetupData>, header: &Header, capacity: usize) -> Writer {
    let mut w = Writer::with_capacity(prefix_len(setup, header) + capacity + TAG_LEN);
    write_prefix(&mut w, setup, header);
    w
}

/// Length of the authenticated prefix (`version | type`, setup, header), at
/// most: a setup without a one-time prekey is 4 bytes shorter, a classical
/// one 1,568.
pub(crate) fn prefix_len(setup: Option<&SetupData>, header: &Header) -> usize {
    2 + setup.map_or(0, |_| SETUP_LEN) + header.encoded_len()
}

/// Longest encoded setup block.
pub(crate) const SETUP_LEN: usize = 32 + 32 + 4 + 1 + 4 + 1 + kem::CIPHERTEXT_LEN;

/// Writes the authenticated prefix of a message: `version | type`, the
/// setup block if any, and the header.
pub(crate) fn write_prefix(w: &mut Writer, setup: Option<&SetupData>, header: &Header) {
    let ty = if setup.is_some() { MessageType::Setup } else { MessageType::Ratchet };
    w.u8(ty.version()).u8(ty as u8);
    if let Some(s) = setup {
        w.bytes(s.initiator.as_bytes()).bytes(&s.base_key).u32(s.signed_prekey_id);
        match s.one_time_prekey_id {
            Some(id) => w.u8(1).u32(id),
            None => w.u8(0),
        };
        match &s.kem_ciphertext {
            Some(ct) => w.u8(KEM_ML_KEM_1024).bytes(&ct[..]),
            None => w.u8(0),
        };
    }
    w.bytes(&header.ratchet_key).u32(header.previous_chain_length).u32(header.index).bytes(&header.salt);
    w.u32(header.epoch);
    match &header.chunk {
        Some(c) => w.u8(c.kind as u8).u8(c.point).bytes(&c.data),
        None => w.u8(0),
    };
}
