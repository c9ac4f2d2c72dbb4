//! Offline session setup: PQXDH (X3DH with an ML-KEM-1024 encapsulation),
//! as in Signal's PQXDH specification, revision 3.
//!
//! Three Diffie-Hellman results (four with a one-time prekey) between the
//! identity keys, Bob's signed prekey and Alice's base key, then the shared
//! secret of Alice's encapsulation to Bob's KEM prekey, go through
//! HKDF-SHA256 into the shared secret `SK`; both identity keys form the
//! associated data `AD`. The derivation is specified in
//! [PROTOCOL](crate::docs::protocol). A classical setup (no KEM prekey in
//! the bundle, no ciphertext in the message) is plain X3DH under its own
//! label, accepted only where the [`SetupPolicy`] allows it.
//!
//! `SK` becomes the Double Ratchet's first root key and Bob's signed prekey
//! its first ratchet key, as the Double Ratchet specification suggests.
//! Every DH output is checked to be contributory (no low-order points).

use rand_core::CryptoRng;
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::Zeroizing;

use crate::crypto::{self, label};
use crate::error::{Result, SessionError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::kem::{SharedSecret, setup as kem};
use crate::prekey::{PreKeyBundle, PreKeyStore};
use crate::ratchet::keys::RootKey;
use crate::ratchet::{AD_LEN, RatchetKeyPair, RatchetState};
use crate::wire::session_message::SetupData;

/// Whether an account still accepts session setup without post-quantum
/// protection (plain X3DH, no ML-KEM).
///
/// Every bundle an [`Account`](crate::Account) publishes carries a KEM
/// prekey, and every session it starts from such a bundle is hybrid
/// (PQXDH). A classical setup can only come from a peer without
/// post-quantum support, or from an attacker who can break X25519 and
/// forges one. The default refuses both, so a downgrade is a typed error
/// ([`SessionError::PostQuantumRequired`]) and never a silent fallback.
///
/// ```
/// use sealpost::{Account, SetupPolicy};
/// let mut rng = sealpost::default_rng();
/// let mut alice = Account::new(&mut rng, 1_700_000_000_000);
/// assert_eq!(alice.setup_policy(), SetupPolicy::RequirePostQuantum);
/// alice.set_setup_policy(SetupPolicy::AllowClassical); // talk to older peers
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SetupPolicy {
    /// Refuse classical bundles (when starting a session) and classical
    /// setup messages (when accepting one). The default.
    #[default]
    RequirePostQuantum,
    /// Accept them too. Sessions with peers that do support post-quantum
    /// setup stay hybrid: a bundle's signature covers the presence of its
    /// KEM prekey, so a server cannot strip it.
    AllowClassical,
}

impl SetupPolicy {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Self::RequirePostQuantum => 0,
            Self::AllowClassical => 1,
        }
    }

    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::RequirePostQuantum),
            1 => Some(Self::AllowClassical),
            _ => None,
        }
    }

    fn allows_classical(self) -> bool {
        self == Self::AllowClassical
    }
}

/// The session associated data: initiator identity || responder identity.
pub(crate) fn associated_data(initiator: &IdentityKey, responder: &IdentityKey) -> [u8; AD_LEN] {
    let mut ad = [0u8; AD_LEN];
    let (a, b) = ad.split_at_mut(32);
    a.copy_from_slice(initiator.as_bytes());
    b.copy_from_slice(responder.as_bytes());
    ad
}

/// `SK = HKDF(0^32, 0xFF^32 || DH1 || DH2 || DH3 [|| DH4] [|| SS], info)`:
/// the PQXDH label with a KEM secret, the X3DH one without.
pub(crate) fn derive(dhs: &[&[u8; 32]], kem_secret: Option<&[u8; 32]>) -> RootKey {
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 * 6));
    ikm.extend_from_slice(&[0xFF; 32]);
    for dh in dhs {
        ikm.extend_from_slice(dh.as_slice());
    }
    let info = match kem_secret {
        Some(ss) => {
            ikm.extend_from_slice(ss);
            label::PQXDH
        }
        None => label::X3DH,
    };
    let mut sk = [0u8; 32];
    crypto::hkdf_sha256(&[0u8; 32], &ikm, info, &mut sk);
    RootKey(sk)
}

/// Alice's side: verifies the bundle, derives the shared secret, and returns
/// her initial ratchet state and the setup data her messages will carry.
pub(crate) fn initiate<R: CryptoRng + ?Sized>(
    identity: &IdentityKeyPair,
    bundle: &PreKeyBundle,
    policy: SetupPolicy,
    rng: &mut R,
) -> Result<(RatchetState, SetupData)> {
    if !bundle.is_post_quantum() && !policy.allows_classical() {
        return Err(SessionError::PostQuantumRequired.into());
    }
    bundle.verify()?;
    let spk = X25519Public::from(*bundle.signed_prekey());
    let base = StaticSecret::random_from_rng(rng);
    let dh1 = crypto::dh(identity.agreement_secret(), &spk)?;
    let dh2 = crypto::dh(&base, bundle.identity().agreement_key())?;
    let dh3 = crypto::dh(&base, &spk)?;
    let dh4 = bundle.one_time_prekey().map(|(_, opk)| crypto::dh(&base, &X25519Public::from(opk))).transpose()?;
    let (kem_ciphertext, kem_secret): (_, Option<SharedSecret>) = match bundle.kem_prekey() {
        Some(k) => {
            let (ct, ss) = kem::encapsulate(k.parsed(), rng);
            (Some(ct), Some(ss))
        }
        None => (None, None),
    };
    let root = derive_all(&dh1, &dh2, &dh3, dh4.as_ref(), kem_secret.as_deref());
    let ad = associated_data(identity.public(), bundle.identity());
    let setup = SetupData {
        initiator: *identity.public(),
        base_key: X25519Public::from(&base).to_bytes(),
        signed_prekey_id: bundle.signed_prekey_id(),
        one_time_prekey_id: bundle.one_time_prekey_id(),
        kem_ciphertext,
    };
    Ok((RatchetState::new_initiator(ad, root, *bundle.signed_prekey()), setup))
}

fn derive_all(
    dh1: &[u8; 32],
    dh2: &[u8; 32],
    dh3: &[u8; 32],
    dh4: Option<&Zeroizing<[u8; 32]>>,
    kem_secret: Option<&[u8; 32]>,
) -> RootKey {
    match dh4 {
        Some(dh4) => derive(&[dh1, dh2, dh3, dh4], kem_secret),
        None => derive(&[dh1, dh2, dh3], kem_secret),
    }
}

/// Bob's side: derives the same secret from a setup message. Reads the
/// prekey store but does not change it: the caller consumes the one-time
/// prekey only once the first message has authenticated.
pub(crate) fn respond(
    identity: &IdentityKeyPair,
    store: &PreKeyStore,
    setup: &SetupData,
    policy: SetupPolicy,
) -> Result<RatchetState> {
    if setup.kem_ciphertext.is_none() && !policy.allows_classical() {
        return Err(SessionError::PostQuantumRequired.into());
    }
    let spk = store.signed_prekey(setup.signed_prekey_id)?;
    let base = X25519Public::from(setup.base_key);
    let dh1 = crypto::dh(&spk.secret, setup.initiator.agreement_key())?;
    let dh2 = crypto::dh(identity.agreement_secret(), &base)?;
    let dh3 = crypto::dh(&spk.secret, &base)?;
    let dh4 = setup.one_time_prekey_id.map(|id| crypto::dh(store.one_time_secret(id)?, &base)).transpose()?;
    let kem_secret = match &setup.kem_ciphertext {
        Some(ct) => Some(kem::decapsulate(store.kem_secret(setup.signed_prekey_id, setup.one_time_prekey_id)?, ct)),
        None => None,
    };
    let root = derive_all(&dh1, &dh2, &dh3, dh4.as_ref(), kem_secret.as_deref());
    let ad = associated_data(&setup.initiator, identity.public());
    Ok(RatchetState::new_responder(ad, root, RatchetKeyPair::clone(spk)))
}
