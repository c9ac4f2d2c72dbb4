//! One Double Ratchet state of a session, what the session knows about its
//! origin, and which of a session's states a message belongs to.

use crate::error::WireError;
use crate::identity::IdentityKey;
use crate::prekey::KEM_ML_KEM_1024;
use crate::ratchet::RatchetState;
use crate::wire::codec::{Reader, Writer};
use crate::wire::session_message::SetupData;

/// Who started a state, and what that side still owes the other.
#[derive(Clone)]
#[allow(clippy::large_enum_variant, reason = "80 bytes inline beat a heap allocation per session state")]
pub(crate) enum Origin {
    /// We initiated (PQXDH from the peer's bundle). Until the peer's first
    /// reply, our messages carry this setup data. `started_at_ms` is when
    /// the state was started (or, without a clock, when the bundle's signed
    /// prekey was made): an unanswered setup goes stale from there.
    Ours { pending_setup: Option<SetupData>, started_at_ms: u64 },
    /// The peer initiated; we accepted its setup message.
    Theirs,
}

/// One Double Ratchet state and what the session knows about its origin.
#[derive(Clone)]
pub(crate) struct SessionState {
    pub(crate) ratchet: RatchetState,
    /// The initiator's PQXDH base key: identifies the state on both sides.
    pub(crate) base_key: [u8; 32],
    pub(crate) origin: Origin,
    /// Whether we have received at least one message in this state.
    pub(crate) confirmed: bool,
    /// Whether the state was set up with PQXDH (a KEM ciphertext), not
    /// classical X3DH.
    pub(crate) post_quantum_setup: bool,
}

/// Where a state sits in its session: the current one, or the `n`-th
/// previous one (0 = most recent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Current,
    Previous(usize),
}

impl SessionState {
    /// A state we initiated, carrying `setup` until the first reply.
    pub(crate) fn initiated(ratchet: RatchetState, setup: SetupData, started_at_ms: u64) -> Self {
        Self {
            ratchet,
            base_key: setup.base_key,
            post_quantum_setup: setup.kem_ciphertext.is_some(),
            origin: Origin::Ours { pending_setup: Some(setup), started_at_ms },
            confirmed: false,
        }
    }

    /// When an unanswered setup of ours goes stale, if this state is one.
    pub(crate) fn stale_at_ms(&self) -> Option<u64> {
        match &self.origin {
            Origin::Ours { pending_setup: Some(_), started_at_ms } => {
                Some(started_at_ms.saturating_add(crate::limits::MAX_UNANSWERED_SETUP_MS))
            }
            _ => None,
        }
    }

    /// A state the peer initiated, created by its (authenticated) setup
    /// message.
    pub(crate) fn accepted(ratchet: RatchetState, base_key: [u8; 32], post_quantum_setup: bool) -> Self {
        Self { ratchet, base_key, origin: Origin::Theirs, confirmed: true, post_quantum_setup }
    }

    pub(crate) fn initiated_by_us(&self) -> bool {
        matches!(self.origin, Origin::Ours { .. })
    }

    /// The setup data our messages in this state must carry, if any.
    pub(crate) fn pending_setup(&self) -> Option<&SetupData> {
        match &self.origin {
            Origin::Ours { pending_setup, .. } => pending_setup.as_ref(),
            Origin::Theirs => None,
        }
    }

    /// Records that a message from the peer was accepted in this state: the
    /// peer has our setup, so we stop sending it.
    pub(crate) fn mark_received(&mut self) {
        self.confirmed = true;
        if let Origin::Ours { pending_setup, .. } = &mut self.origin {
            *pending_setup = None;
        }
    }

    /// `base key | initiated by us | confirmed | post-quantum setup | has setup [| spk id | has otk [| otk id] | KEM kind [| KEM ciphertext]]
    /// [| started at (u64), iff initiated by us] | ratchet`
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.bytes(&self.base_key).u8(u8::from(self.initiated_by_us())).u8(u8::from(self.confirmed));
        w.u8(u8::from(self.post_quantum_setup));
        match self.pending_setup() {
            Some(s) => {
                w.u8(1).u32(s.signed_prekey_id);
                match s.one_time_prekey_id {
                    Some(id) => w.u8(1).u32(id),
                    None => w.u8(0),
                };
                match &s.kem_ciphertext {
                    Some(ct) => w.u8(KEM_ML_KEM_1024).bytes(&ct[..]),
                    None => w.u8(0),
                };
            }
            None => {
                w.u8(0);
            }
        }
        if let Origin::Ours { started_at_ms, .. } = &self.origin {
            w.u64(*started_at_ms);
        }
        self.ratchet.encode(w);
    }

    /// Decodes a state of a session whose local identity is `local`.
    pub(crate) fn decode(r: &mut Reader<'_>, local: IdentityKey) -> Result<Self, WireError> {
        let base_key = r.array()?;
        let initiated_by_us = r.bool()?;
        let confirmed = r.bool()?;
        let post_quantum_setup = r.bool()?;
        let pending_setup = if r.bool()? {
            let signed_prekey_id = r.u32()?;
            let one_time_prekey_id = if r.bool()? { Some(r.u32()?) } else { None };
            let kem_ciphertext = match r.u8()? {
                0 => None,
                KEM_ML_KEM_1024 => Some(Box::new(r.array()?)),
                _ => return Err(WireError::InvalidField("KEM ciphertext kind")),
            };
            Some(SetupData { initiator: local, base_key, signed_prekey_id, one_time_prekey_id, kem_ciphertext })
        } else {
            None
        };
        let origin = match (initiated_by_us, pending_setup) {
            (true, pending_setup) => Origin::Ours { pending_setup, started_at_ms: r.u64()? },
            (false, None) => Origin::Theirs,
            (false, Some(_)) => return Err(WireError::InvalidField("setup data on a state the peer initiated")),
        };
        if let Origin::Ours { pending_setup: Some(s), .. } = &origin
            && s.kem_ciphertext.is_some() != post_quantum_setup
        {
            return Err(WireError::InvalidField("post-quantum setup flag and setup data disagree"));
        }
        let ratchet = RatchetState::decode(r)?;
        Ok(Self { ratchet, base_key, origin, confirmed, post_quantum_setup })
    }
}
