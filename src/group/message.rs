//! The group message wire format.
//!
//! A header (group id, sender identity, sender key id, iteration, salt, key
//! commitment), the ChaCha20 ciphertext of the payload, and an Ed25519
//! signature over the header and the BLAKE3 digest of the ciphertext; the layout
//! is specified in [GROUP](crate::docs::group).
//!
//! The signature covers the whole message (the ciphertext through its
//! digest), and a receiver checks it (with the signing key from the
//! sender's distribution) before it derives any key or decrypts a byte.
//! That check is what authenticates the message: a Poly1305 tag keyed by
//! the chain, which every member holds, would add nothing a member could
//! not forge, so format version 3 has none (GROUP.md, "Group message").
//! Signing a 32-byte digest rather than the whole message keeps Ed25519's
//! two SHA-512 passes off large messages. Iteration `0xffff_ffff` is
//! reserved and refused by the parser.
//! The parser does not decompress the sender's identity key (members are
//! looked up by its bytes), so parsing costs no curve arithmetic.

use crate::crypto::{self, label};
use crate::error::WireError;
use crate::identity::{IDENTITY_KEY_LEN, IdentityKey};
use crate::limits::MAX_GROUP_MESSAGE;
use crate::wire::MessageType;
use crate::wire::codec::{Reader, Writer, writer_for};

use super::GroupId;
use super::chain::SALT_LEN;

/// Length of the authenticated header, version and type bytes included.
pub(crate) const HEADER_LEN: usize = 2 + 32 + IDENTITY_KEY_LEN + 4 + 4 + SALT_LEN + COMMITMENT_LEN;

/// Length of the key commitment in the header.
pub(crate) const COMMITMENT_LEN: usize = 32;

/// Length of what the signature covers: label, header, payload digest.
const SIGNED_LEN: usize = label::GROUP_SIGNATURE.len() + HEADER_LEN + 32;

/// Length of an Ed25519 signature.
pub(crate) const SIGNATURE_LEN: usize = 64;

/// Payload flag: no envelope.
pub(crate) const FLAG_PLAIN: u8 = 0x00;
/// Payload flag: a Burnout envelope precedes the flag byte.
pub(crate) const FLAG_ENVELOPE: u8 = 0x01;

/// A parsed, not yet authenticated group message.
///
/// Nothing in it is trustworthy until [`Group::decrypt`](super::Group::decrypt)
/// has checked its signature; it is exposed so that a transport or the app
/// can route the message to the right [`Group`](super::Group) and see which
/// sender key it needs.
///
/// ```
/// use sealpost::group::GroupMessage;
/// assert!(GroupMessage::parse(&[1, 0x10, 0, 0]).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct GroupMessage<'a> {
    pub(crate) group_id: GroupId,
    /// The claimed sender's identity key bytes; parsed into a point only
    /// on demand (members are looked up by these bytes, so decryption does
    /// not pay for a point decompression).
    pub(crate) sender: [u8; IDENTITY_KEY_LEN],
    pub(crate) key_id: u32,
    pub(crate) iteration: u32,
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) commitment: [u8; COMMITMENT_LEN],
    /// Everything before the ciphertext (signed with its digest).
    pub(crate) header: &'a [u8],
    /// The ChaCha20 ciphertext of the payload.
    pub(crate) sealed: &'a [u8],
    pub(crate) signature: [u8; SIGNATURE_LEN],
}

impl<'a> GroupMessage<'a> {
    /// Parses a group message (structure only: no signature or key check).
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId, GroupMessage}};
    /// # let mut rng = sealpost::default_rng();
    /// let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let bytes = group.encrypt(b"hi", &mut rng)?;
    /// let m = GroupMessage::parse(&bytes)?;
    /// assert_eq!(m.group_id(), group.id()); // routing data, unauthenticated until decrypted
    /// assert!(GroupMessage::parse(&bytes[..10]).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WireError> {
        if bytes.len() > MAX_GROUP_MESSAGE {
            return Err(WireError::TooLarge { what: "group message", len: bytes.len(), max: MAX_GROUP_MESSAGE });
        }
        let mut r = Reader::new(bytes);
        r.header(MessageType::Group)?;
        let group_id = GroupId(r.array()?);
        let sender = r.array::<IDENTITY_KEY_LEN>()?;
        let key_id = r.u32()?;
        let iteration = r.u32()?;
        if iteration == u32::MAX {
            return Err(WireError::InvalidField("group message iteration 0xffffffff is reserved"));
        }
        let salt = r.array()?;
        let commitment = r.array()?;
        let minimum = 1 + SIGNATURE_LEN;
        let rest = r.remaining();
        if rest < minimum {
            return Err(WireError::Truncated { needed: minimum - rest });
        }
        let (signed, signature) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
        let (header, sealed) = signed.split_at(HEADER_LEN);
        let mut sig = [0u8; SIGNATURE_LEN];
        sig.copy_from_slice(signature);
        Ok(Self { group_id, sender, key_id, iteration, salt, commitment, header, sealed, signature: sig })
    }

    /// What the sender's signature covers.
    pub(crate) fn signed_bytes(&self) -> [u8; SIGNED_LEN] {
        signed_bytes(self.header, self.sealed)
    }

    /// The group the message claims to belong to.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId, GroupMessage}};
    /// # let mut rng = sealpost::default_rng();
    /// let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let bytes = group.encrypt(b"hi", &mut rng)?;
    /// let m = GroupMessage::parse(&bytes)?;
    /// assert_eq!(m.group_id(), group.id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn group_id(&self) -> &GroupId {
        &self.group_id
    }

    /// The identity key of the member who claims to have sent it. Fails if
    /// the bytes are not a valid identity key (such a message can never
    /// decrypt).
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId, GroupMessage}};
    /// # let mut rng = sealpost::default_rng();
    /// let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let bytes = group.encrypt(b"hi", &mut rng)?;
    /// let m = GroupMessage::parse(&bytes)?;
    /// assert_eq!(m.sender()?, me);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn sender(&self) -> crate::error::Result<IdentityKey> {
        IdentityKey::from_bytes(&self.sender)
    }

    /// The claimed sender's identity key bytes, unparsed.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId, GroupMessage}};
    /// # let mut rng = sealpost::default_rng();
    /// let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let bytes = group.encrypt(b"hi", &mut rng)?;
    /// let m = GroupMessage::parse(&bytes)?;
    /// assert_eq!(m.sender_bytes(), me.as_bytes());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn sender_bytes(&self) -> &[u8; IDENTITY_KEY_LEN] {
        &self.sender
    }

    /// The sender key id it was encrypted under.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId, GroupMessage}};
    /// # let mut rng = sealpost::default_rng();
    /// let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let bytes = group.encrypt(b"hi", &mut rng)?;
    /// let m = GroupMessage::parse(&bytes)?;
    /// assert_eq!(m.key_id(), group.own_key_id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Its iteration in the sender key's chain.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId, GroupMessage}};
    /// # let mut rng = sealpost::default_rng();
    /// let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let bytes = group.encrypt(b"hi", &mut rng)?;
    /// let m = GroupMessage::parse(&bytes)?;
    /// assert_eq!(m.iteration(), 0);
    /// assert_eq!(GroupMessage::parse(&group.encrypt(b"again", &mut rng)?)?.iteration(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn iteration(&self) -> u32 {
        self.iteration
    }
}

/// The fields of a group message header.
pub(crate) struct HeaderFields<'h> {
    pub(crate) group_id: &'h GroupId,
    pub(crate) sender: &'h IdentityKey,
    pub(crate) key_id: u32,
    pub(crate) iteration: u32,
    pub(crate) salt: &'h [u8; SALT_LEN],
    pub(crate) commitment: &'h [u8; COMMITMENT_LEN],
}

/// Starts a group message: version, type and header; `capacity` is the
/// payload length to reserve.
pub(crate) fn encode_header(h: &HeaderFields<'_>, capacity: usize) -> Writer {
    let mut w = writer_for(MessageType::Group, HEADER_LEN + capacity + SIGNATURE_LEN);
    w.bytes(&h.group_id.0).bytes(h.sender.as_bytes()).u32(h.key_id).u32(h.iteration);
    w.bytes(h.salt).bytes(h.commitment);
    w
}

/// `label | header | BLAKE3(ciphertext)`: what a group message's signature
/// covers.
pub(crate) fn signed_bytes(header: &[u8], sealed: &[u8]) -> [u8; SIGNED_LEN] {
    let mut out = [0u8; SIGNED_LEN];
    let digest = crypto::bulk_digest(label::GROUP_CIPHERTEXT_DIGEST, &[sealed]);
    let (l, rest) = out.split_at_mut(label::GROUP_SIGNATURE.len());
    l.copy_from_slice(label::GROUP_SIGNATURE);
    let (h, d) = rest.split_at_mut(HEADER_LEN);
    // `header` is exactly HEADER_LEN bytes (the parser and the encoder
    // guarantee it); a shorter one leaves zeros and fails verification.
    for (dst, src) in h.iter_mut().zip(header) {
        *dst = *src;
    }
    d.copy_from_slice(&digest);
    out
}
