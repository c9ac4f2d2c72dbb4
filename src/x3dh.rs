//! Offline session setup: X3DH as in Signal's specification.
//!
//! Three Diffie-Hellman results (four with a one-time prekey) between the
//! identity keys, Bob's signed prekey and Alice's base key go through
//! HKDF-SHA256 into the shared secret `SK`, and both identity keys form the
//! associated data `AD`; the derivation is specified in
//! [PROTOCOL](crate::docs::protocol).
//!
//! `SK` becomes the Double Ratchet's first root key and Bob's signed prekey
//! its first ratchet key, as the Double Ratchet specification suggests.
//! Every DH output is checked to be contributory (no low-order points).

use rand_core::CryptoRng;
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::Zeroizing;

use crate::crypto::{self, label};
use crate::error::Result;
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::prekey::{PreKeyBundle, PreKeyStore};
use crate::ratchet::keys::RootKey;
use crate::ratchet::{AD_LEN, RatchetKeyPair, RatchetState};
use crate::wire::session_message::SetupData;

/// The session associated data: initiator identity || responder identity.
pub(crate) fn associated_data(initiator: &IdentityKey, responder: &IdentityKey) -> [u8; AD_LEN] {
    let mut ad = [0u8; AD_LEN];
    let (a, b) = ad.split_at_mut(32);
    a.copy_from_slice(initiator.as_bytes());
    b.copy_from_slice(responder.as_bytes());
    ad
}

fn derive(dhs: &[&[u8; 32]]) -> RootKey {
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 * 5));
    ikm.extend_from_slice(&[0xFF; 32]);
    for dh in dhs {
        ikm.extend_from_slice(dh.as_slice());
    }
    let mut sk = [0u8; 32];
    crypto::hkdf_sha256(&[0u8; 32], &ikm, label::X3DH, &mut sk);
    RootKey(sk)
}

/// Alice's side: verifies the bundle, derives the shared secret, and returns
/// her initial ratchet state and the setup data her messages will carry.
pub(crate) fn initiate<R: CryptoRng + ?Sized>(
    identity: &IdentityKeyPair,
    bundle: &PreKeyBundle,
    rng: &mut R,
) -> Result<(RatchetState, SetupData)> {
    bundle.verify()?;
    let spk = X25519Public::from(*bundle.signed_prekey());
    let base = StaticSecret::random_from_rng(rng);
    let dh1 = crypto::dh(identity.agreement_secret(), &spk)?;
    let dh2 = crypto::dh(&base, bundle.identity().agreement_key())?;
    let dh3 = crypto::dh(&base, &spk)?;
    let root = match bundle.one_time_prekey() {
        Some((_, opk)) => {
            let dh4 = crypto::dh(&base, &X25519Public::from(opk))?;
            derive(&[&dh1, &dh2, &dh3, &dh4])
        }
        None => derive(&[&dh1, &dh2, &dh3]),
    };
    let ad = associated_data(identity.public(), bundle.identity());
    let setup = SetupData {
        initiator: *identity.public(),
        base_key: X25519Public::from(&base).to_bytes(),
        signed_prekey_id: bundle.signed_prekey_id(),
        one_time_prekey_id: bundle.one_time_prekey_id(),
    };
    Ok((RatchetState::new_initiator(ad, root, *bundle.signed_prekey()), setup))
}

/// Bob's side: derives the same secret from a setup message. Reads the
/// prekey store but does not change it: the caller consumes the one-time
/// prekey only once the first message has authenticated.
pub(crate) fn respond(identity: &IdentityKeyPair, store: &PreKeyStore, setup: &SetupData) -> Result<RatchetState> {
    let spk = store.signed_prekey(setup.signed_prekey_id)?;
    let base = X25519Public::from(setup.base_key);
    let dh1 = crypto::dh(&spk.secret, setup.initiator.agreement_key())?;
    let dh2 = crypto::dh(identity.agreement_secret(), &base)?;
    let dh3 = crypto::dh(&spk.secret, &base)?;
    let root = match setup.one_time_prekey_id {
        Some(id) => {
            let dh4 = crypto::dh(store.one_time_secret(id)?, &base)?;
            derive(&[&dh1, &dh2, &dh3, &dh4])
        }
        None => derive(&[&dh1, &dh2, &dh3]),
    };
    let ad = associated_data(&setup.initiator, identity.public());
    Ok(RatchetState::new_responder(ad, root, RatchetKeyPair::clone(spk)))
}
