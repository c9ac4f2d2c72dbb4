//! What the client records of each peer's identity.

use sealpost::IdentityKey;

use crate::error::ClientError;

/// A peer's recorded identity, as [`Client::peer_trust`](crate::Client::peer_trust) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerTrust {
    /// The identity recorded for the peer (on first use, or verified).
    pub identity: IdentityKey,
    /// Whether the user verified it (compared safety numbers).
    pub verified: bool,
    /// Another identity seen for the peer and not yet accepted (an
    /// [`Event::IdentityChanged`](crate::Event::IdentityChanged) or
    /// [`Event::Blocked`](crate::Event::Blocked)).
    pub pending: Option<IdentityKey>,
    /// Whether the peer is blocked: verified, with a pending change.
    pub blocked: bool,
}

/// The stored form: `identity (32) | verified (u8) | pending flag (u8) |
/// [pending identity (32)]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TrustRecord {
    pub(crate) identity: IdentityKey,
    pub(crate) verified: bool,
    pub(crate) pending: Option<IdentityKey>,
}

impl TrustRecord {
    /// Trust on first use.
    pub(crate) fn first_use(identity: IdentityKey) -> Self {
        Self { identity, verified: false, pending: None }
    }

    /// A verified peer whose identity changed: nothing goes to or comes
    /// from it until the user verifies again.
    pub(crate) fn is_blocked(&self) -> bool {
        self.verified && self.pending.is_some()
    }

    pub(crate) fn public(&self) -> PeerTrust {
        PeerTrust {
            identity: self.identity,
            verified: self.verified,
            pending: self.pending,
            blocked: self.is_blocked(),
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(66);
        out.extend_from_slice(self.identity.as_bytes());
        out.push(u8::from(self.verified));
        match &self.pending {
            Some(p) => {
                out.push(1);
                out.extend_from_slice(p.as_bytes());
            }
            None => out.push(0),
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, ClientError> {
        let corrupted = || ClientError::Corrupted { table: "trust" };
        let identity = |b: &[u8]| IdentityKey::from_bytes(b).map_err(|_| corrupted());
        let (id, rest) = bytes.split_at_checked(32).ok_or_else(corrupted)?;
        match rest {
            [v @ (0 | 1), 0] => Ok(Self { identity: identity(id)?, verified: *v == 1, pending: None }),
            [v @ (0 | 1), 1, pending @ ..] if pending.len() == 32 => {
                Ok(Self { identity: identity(id)?, verified: *v == 1, pending: Some(identity(pending)?) })
            }
            _ => Err(corrupted()),
        }
    }
}
