//! The outbox and the inbox: what a client sealed and the transport has not
//! taken yet, and what it received and the app has not stored yet. Both
//! survive a crash: they are written in the same transaction as the state
//! change that produced them.

use sealpost::group::GroupId;

use crate::error::ClientError;

/// Where the transport takes an [`Outgoing`] message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// One peer (a 1:1 message, or a sender-key distribution for a group).
    Peer(String),
    /// Every member of a group: one ciphertext for all of them (post it to
    /// the group's channel, or to each member).
    Group(GroupId),
    /// A Forkout bundle for the relay, which splits it
    /// ([`sealpost::forkout::split_all`]) into one delivery per recipient;
    /// these are the recipients, by the names the app gave them.
    Relay(Vec<String>),
    /// A Forkout bundle for the relay with one key slot per device of these
    /// users (by the names the app gave them; the sender's own name among
    /// them when the sender has other devices, which get the message too).
    /// The relay checks the slots against the users' current device lists
    /// ([`sealpost::device::check_recipients`]) before it splits the bundle;
    /// when it refuses it as out of date, accept the newer lists and
    /// [`resend_to_user`](crate::Client::resend_to_user).
    Users(Vec<String>),
    /// One device of a user (a 1:1 message to it, or a sender-key
    /// distribution for a group of people): deliver it to that device.
    Device {
        /// The user, by the name the app gave them.
        user: String,
        /// The device.
        device: Box<sealpost::IdentityKey>,
    },
}

/// A message sealed and committed to the outbox: hand
/// [`bytes`](Self::bytes) to the transport, then
/// [`acknowledge`](crate::Client::acknowledge) it once the transport has
/// taken it. Until then [`Client::outbox`](crate::Client::outbox) offers it
/// again (after a crash too).
#[derive(Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The outbox entry (increasing with every commit).
    pub id: u64,
    /// Where it goes.
    pub to: Destination,
    /// The wire bytes.
    pub bytes: Vec<u8>,
}

impl core::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outgoing").field("id", &self.id).field("to", &self.to).field("len", &self.bytes.len()).finish()
    }
}

/// How a [`Received`] message came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Via {
    /// A 1:1 message.
    Direct,
    /// A group message in this group.
    Group(GroupId),
    /// A Forkout delivery (one body the sender sealed for many).
    Forkout,
}

/// A received message not yet acknowledged
/// ([`Client::inbox`](crate::Client::inbox)): what an [`Event`](crate::Event)
/// handed out before a crash that the app may not have stored. Its content
/// is zeroized on drop; `Debug` shows no content.
#[derive(Clone, PartialEq, Eq)]
pub struct Received {
    /// The inbox entry:
    /// [`acknowledge_received`](crate::Client::acknowledge_received) it.
    pub id: u64,
    /// The sender, by the name the app gave it.
    pub from: String,
    /// How it came.
    pub via: Via,
    /// The content.
    pub plaintext: zeroize::Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for Received {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Received")
            .field("id", &self.id)
            .field("from", &self.from)
            .field("via", &self.via)
            .field("len", &self.plaintext.len())
            .finish()
    }
}

/// What a message to users keeps in its outbox entry so that it can be
/// sealed again for newer device lists: the content and the envelope.
pub(crate) struct Resend {
    pub(crate) plaintext: zeroize::Zeroizing<Vec<u8>>,
    pub(crate) envelope: Option<sealpost::burnout::Envelope>,
}

/// Stored form of an outbox entry: `id (u64) | tag (u8) | destination |
/// bytes`, the destination being a name (tag 0), a group id (tag 1), a
/// count and names (tag 2: relay; tag 3: users, followed by `envelope flag
/// (u8) | [envelope (18)] | len (u32) | plaintext`, kept to seal again); a
/// name is `len (u32) | UTF-8`.
pub(crate) fn encode_outgoing_with(id: u64, to: &Destination, resend: Option<&Resend>, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + bytes.len() + resend.map_or(0, |r| r.plaintext.len() + 24));
    out.extend_from_slice(&id.to_be_bytes());
    match to {
        Destination::Peer(peer) => {
            out.push(0);
            put_name(&mut out, peer);
        }
        Destination::Group(group) => {
            out.push(1);
            out.extend_from_slice(group.as_bytes());
        }
        Destination::Device { user, device } => {
            out.push(4);
            out.extend_from_slice(device.as_bytes());
            put_name(&mut out, user);
        }
        Destination::Relay(peers) | Destination::Users(peers) => {
            out.push(if matches!(to, Destination::Relay(_)) { 2 } else { 3 });
            out.extend_from_slice(&u32::try_from(peers.len()).unwrap_or(u32::MAX).to_be_bytes());
            for peer in peers {
                put_name(&mut out, peer);
            }
        }
    }
    if let Destination::Users(_) = to {
        match resend.and_then(|r| r.envelope) {
            Some(envelope) => {
                out.push(1);
                out.extend_from_slice(&envelope.to_bytes());
            }
            None => out.push(0),
        }
        let plaintext = resend.map_or(&[][..], |r| &r.plaintext[..]);
        out.extend_from_slice(&u32::try_from(plaintext.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(plaintext);
    }
    out.extend_from_slice(bytes);
    out
}

pub(crate) fn decode_outgoing(plain: &[u8]) -> Result<Outgoing, ClientError> {
    decode_outgoing_with(plain).map(|(out, _)| out)
}

pub(crate) fn decode_outgoing_with(plain: &[u8]) -> Result<(Outgoing, Option<Resend>), ClientError> {
    let corrupted = || ClientError::Corrupted { table: "outbox" };
    let mut r = Cursor(plain);
    let id = r.u64().ok_or_else(corrupted)?;
    let to = match r.u8().ok_or_else(corrupted)? {
        0 => Destination::Peer(r.name().ok_or_else(corrupted)?),
        1 => Destination::Group(GroupId::from_bytes(r.array().ok_or_else(corrupted)?)),
        4 => {
            let device =
                sealpost::IdentityKey::from_bytes(r.take(32).ok_or_else(corrupted)?).map_err(|_| corrupted())?;
            Destination::Device { device: Box::new(device), user: r.name().ok_or_else(corrupted)? }
        }
        tag @ (2 | 3) => {
            let count = r.u32().ok_or_else(corrupted)?;
            // Each name takes at least 4 bytes: a count past that is corrupt
            // (and never allocates beyond the record).
            if count as usize > r.0.len() / 4 {
                return Err(corrupted());
            }
            let peers = (0..count).map(|_| r.name()).collect::<Option<Vec<_>>>().ok_or_else(corrupted)?;
            if tag == 2 { Destination::Relay(peers) } else { Destination::Users(peers) }
        }
        _ => return Err(corrupted()),
    };
    let resend = match to {
        Destination::Users(_) => {
            let envelope = match r.u8().ok_or_else(corrupted)? {
                0 => None,
                1 => Some(
                    sealpost::burnout::Envelope::from_bytes(
                        r.take(sealpost::burnout::ENVELOPE_LEN).ok_or_else(corrupted)?,
                    )
                    .map_err(|_| corrupted())?,
                ),
                _ => return Err(corrupted()),
            };
            let len = r.u32().ok_or_else(corrupted)? as usize;
            let plaintext = zeroize::Zeroizing::new(r.take(len).ok_or_else(corrupted)?.to_vec());
            Some(Resend { plaintext, envelope })
        }
        _ => None,
    };
    Ok((Outgoing { id, to, bytes: r.0.to_vec() }, resend))
}

/// Stored form of an inbox entry: `id (u64) | name | tag (u8) | [group id]
/// | plaintext`, tag 0 direct, 1 group, 2 Forkout.
pub(crate) fn encode_received(id: u64, from: &str, via: Via, plaintext: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(64 + plaintext.len()));
    out.extend_from_slice(&id.to_be_bytes());
    put_name(&mut out, from);
    match via {
        Via::Direct => out.push(0),
        Via::Group(group) => {
            out.push(1);
            out.extend_from_slice(group.as_bytes());
        }
        Via::Forkout => out.push(2),
    }
    out.extend_from_slice(plaintext);
    out
}

pub(crate) fn decode_received(plain: &[u8]) -> Result<Received, ClientError> {
    let corrupted = || ClientError::Corrupted { table: "inbox" };
    let mut r = Cursor(plain);
    let id = r.u64().ok_or_else(corrupted)?;
    let from = r.name().ok_or_else(corrupted)?;
    let via = match r.u8().ok_or_else(corrupted)? {
        0 => Via::Direct,
        1 => Via::Group(GroupId::from_bytes(r.array().ok_or_else(corrupted)?)),
        2 => Via::Forkout,
        _ => return Err(corrupted()),
    };
    Ok(Received { id, from, via, plaintext: zeroize::Zeroizing::new(r.0.to_vec()) })
}

pub(crate) fn put_name(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(&u32::try_from(name.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
}

/// A reader over a stored record; every read is checked (`None` past the
/// end).
pub(crate) struct Cursor<'a>(pub(crate) &'a [u8]);

impl<'a> Cursor<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn name(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn entries_round_trip_and_truncations_are_refused() {
        let group = GroupId::from_bytes([7; 32]);
        for to in [
            Destination::Peer("bob".into()),
            Destination::Group(group),
            Destination::Relay(vec!["a".into(), "bé".into(), String::new()]),
            Destination::Device {
                user: "bob".into(),
                device: Box::new(*sealpost::IdentityKeyPair::from_seed(&[3; 32]).public()),
            },
        ] {
            let enc = encode_outgoing_with(9, &to, None, b"wire");
            assert_eq!(decode_outgoing(&enc).unwrap(), Outgoing { id: 9, to: to.clone(), bytes: b"wire".to_vec() });
            // Every strict prefix that cuts the header is refused.
            let header = enc.len() - 4;
            for cut in 0..header {
                assert!(decode_outgoing(&enc[..cut]).is_err(), "{to:?} cut at {cut}");
            }
        }
        for via in [Via::Direct, Via::Group(group), Via::Forkout] {
            let enc = encode_received(3, "alice", via, b"hi");
            let got = decode_received(&enc).unwrap();
            assert_eq!((got.id, got.from.as_str(), got.via, &got.plaintext[..]), (3, "alice", via, &b"hi"[..]));
            for cut in 0..enc.len() - 2 {
                assert!(decode_received(&enc[..cut]).is_err(), "{via:?} cut at {cut}");
            }
        }
        // A message to users keeps its content and envelope to seal again.
        let envelope = sealpost::burnout::Envelope::expiring_at(5, 10).burn_after_reading();
        for env in [None, Some(envelope)] {
            let to = Destination::Users(vec!["bob".into(), "me".into()]);
            let resend = Resend { plaintext: zeroize::Zeroizing::new(b"hello".to_vec()), envelope: env };
            let enc = encode_outgoing_with(4, &to, Some(&resend), b"bundle");
            let (out, got) = decode_outgoing_with(&enc).unwrap();
            assert_eq!(out, Outgoing { id: 4, to: to.clone(), bytes: b"bundle".to_vec() });
            let got = got.unwrap();
            assert_eq!((&got.plaintext[..], got.envelope), (&b"hello"[..], env));
            for cut in 0..enc.len() - 6 {
                assert!(decode_outgoing_with(&enc[..cut]).is_err(), "users entry cut at {cut}");
            }
        }
        assert!(decode_outgoing(&[0, 0, 0, 0, 0, 0, 0, 1, 9]).is_err(), "unknown tag");
        // A huge relay count is refused without allocating.
        let mut huge = 1u64.to_be_bytes().to_vec();
        huge.push(2);
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_outgoing(&huge).is_err());
    }
}
