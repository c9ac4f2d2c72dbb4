//! Forkout fuzz-target bodies and their seed generator, re-exported by
//! [`crate::fuzz_targets`]. Not part of the public API.
//!
//! Each body must not panic on any input, and asserts the properties that
//! are cheap to check: parsed structures re-encode to the same bytes, a
//! split yields deliveries that parse and carry the bundle's body, and a
//! failed open leaves the session and the account byte-for-byte unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::bundle::{ForkoutBundle, ForkoutDelivery, split, split_all};
use super::{Recipient, SealPolicy, open, open_new, seal};
use crate::account::Account;
use crate::burnout::Envelope;
use crate::error::BurnoutError;
use crate::error::Error;
use crate::session::Session;

/// The clock of the fixture (ms since the epoch).
pub const FIXTURE_NOW: u64 = 1_700_000_000_000;

/// A manager who talks to Bob, and Carol, whom the manager only knows by
/// her bundle. Built once from a fixed seed.
pub struct ForkoutWorld {
    pub manager: Account,
    pub manager_to_bob: Session,
    pub bob: Account,
    pub bob_session: Session,
    pub carol: Account,
}

pub fn forkout_world() -> &'static ForkoutWorld {
    static WORLD: OnceLock<ForkoutWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(0xf0_4c_00_07);
        let manager = Account::new(&mut rng, FIXTURE_NOW);
        let mut bob = Account::new(&mut rng, FIXTURE_NOW);
        let mut carol = Account::new(&mut rng, FIXTURE_NOW);
        bob.generate_one_time_prekeys(2, &mut rng).unwrap();
        carol.generate_one_time_prekeys(2, &mut rng).unwrap();
        let mut manager_to_bob = manager.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let hello = manager_to_bob.encrypt(b"hello Bob", &mut rng).unwrap();
        let (mut bob_session, _) = bob.create_inbound_session(&hello).unwrap();
        let reply = bob_session.encrypt(b"hello", &mut rng).unwrap();
        manager_to_bob.decrypt(&reply).unwrap();
        ForkoutWorld { manager, manager_to_bob, bob, bob_session, carol }
    })
}

/// Parses a bundle: a parsed bundle re-encodes to the same bytes, and each
/// of its deliveries parses back to the same parts.
pub fn forkout_bundle(data: &[u8]) {
    let Ok(bundle) = ForkoutBundle::parse(data) else { return };
    assert_eq!(bundle.reencode(), data, "bundle is not canonical");
    assert_eq!(bundle.recipients().count(), bundle.recipient_count());
    for (recipient, delivery) in bundle.deliveries() {
        let bytes = delivery.to_vec();
        assert_eq!(bytes.len(), delivery.encoded_len());
        let parsed = ForkoutDelivery::parse(&bytes).expect("a split delivery parses");
        assert_eq!(parsed.id(), bundle.id());
        assert_eq!(parsed.body_len(), bundle.body_len());
        assert_eq!(bundle.delivery_for_id(recipient).unwrap().to_vec(), bytes);
    }
}

/// Parses a delivery: a parsed delivery re-encodes to the same bytes.
pub fn forkout_delivery(data: &[u8]) {
    let Ok(delivery) = ForkoutDelivery::parse(data) else { return };
    assert_eq!(delivery.inner.to_vec(), data, "delivery is not canonical");
    let _ = (delivery.is_first_contact(), delivery.claimed_sender(), delivery.slot_message(), format!("{delivery:?}"));
}

/// Splits a bundle: `split_all` and `split` agree with the parser, and
/// every delivery parses.
pub fn forkout_split(data: &[u8]) {
    let all = split_all(data);
    let parsed = ForkoutBundle::parse(data);
    assert_eq!(all.is_ok(), parsed.is_ok());
    let (Ok(all), Ok(parsed)) = (all, parsed) else { return };
    assert_eq!(all.len(), parsed.recipient_count());
    for (recipient, delivery) in all {
        let d = ForkoutDelivery::parse(&delivery).expect("split delivery parses");
        assert_eq!(d.id(), parsed.id());
        if let Ok(identity) = crate::identity::IdentityKey::from_bytes(&recipient) {
            assert_eq!(split(data, &identity).unwrap(), delivery);
        }
    }
    let world = forkout_world();
    assert_eq!(split(data, world.bob.identity()).is_ok(), parsed.delivery(world.bob.identity()).is_ok());
}

/// Opens arbitrary bytes as a delivery, for Bob (existing session) and
/// Carol (first contact): a failure leaves all state unchanged, except an
/// expired or malformed Burnout envelope, which uses up the slot's key.
pub fn forkout_open(data: &[u8]) {
    let world = forkout_world();
    let mut bob = world.bob.clone();
    let mut session = world.bob_session.clone();
    match open(&mut bob, &mut session, data, FIXTURE_NOW) {
        Ok(opened) => assert_eq!(opened.sender(), world.manager.identity()),
        Err(Error::Burnout(BurnoutError::Expired { .. }) | Error::Burnout(BurnoutError::MalformedEnvelope(_))) => {}
        Err(_) => {
            assert_eq!(bob.to_bytes(), world.bob.to_bytes(), "failed open changed the account");
            assert_eq!(session.to_bytes(), world.bob_session.to_bytes(), "failed open changed the session");
        }
    }
    let mut carol = world.carol.clone();
    match open_new(&mut carol, data, FIXTURE_NOW) {
        Ok((session, Ok(opened))) => assert_eq!(opened.sender(), session.peer_identity()),
        // The slot authenticated but its envelope used the key up.
        Ok((_, Err(e))) => assert!(
            matches!(
                e,
                Error::Burnout(BurnoutError::Expired { .. }) | Error::Burnout(BurnoutError::MalformedEnvelope(_))
            ),
            "{e:?}"
        ),
        Err(_) => {
            assert_eq!(carol.to_bytes(), world.carol.to_bytes(), "failed first-contact open changed the account");
        }
    }
}

/// Valid and near-valid seeds for every Forkout target, built from the
/// fixture: `(target name, file name, bytes)`.
pub fn forkout_seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let world = forkout_world();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut out = Vec::new();
    let cases: [(&str, Vec<u8>, Option<Envelope>); 4] = [
        ("short", b"standup moved to 10:30".to_vec(), None),
        ("empty", Vec::new(), None),
        ("kib", (0..1024u32).map(|i| (i % 251) as u8).collect(), None),
        ("burnout", b"door code 4711".to_vec(), Some(Envelope::with_ttl(FIXTURE_NOW, 60_000))),
    ];
    for (name, body, envelope) in cases {
        let mut to_bob = world.manager_to_bob.clone();
        let recipients =
            [Recipient::Session(&mut to_bob), Recipient::Bundle(world.carol.prekey_bundle_with(Some(1)).unwrap())];
        let (sealed, _) = seal(&world.manager, body, recipients, SealPolicy::AllOrNothing, envelope, &mut rng).unwrap();
        let bundle = sealed.to_bytes();
        let to_bob = sealed.delivery(world.bob.identity()).unwrap().to_vec();
        let to_carol = sealed.delivery(world.carol.identity()).unwrap().to_vec();
        out.push(("forkout_bundle", format!("{name}-bundle"), bundle.clone()));
        out.push(("forkout_split", format!("{name}-bundle"), bundle.clone()));
        out.push(("forkout_delivery", format!("{name}-bob"), to_bob.clone()));
        out.push(("forkout_delivery", format!("{name}-carol"), to_carol.clone()));
        out.push(("forkout_open", format!("{name}-bob"), to_bob.clone()));
        out.push(("forkout_open", format!("{name}-carol"), to_carol));
        // Near-valid: a flipped body byte, a truncated bundle.
        let mut flipped = to_bob;
        if let Some(last) = flipped.last_mut() {
            *last ^= 0x01;
        }
        out.push(("forkout_open", format!("{name}-bob-flipped"), flipped));
        out.push(("forkout_bundle", format!("{name}-bundle-truncated"), bundle[..bundle.len() - 1].to_vec()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_exercise_the_happy_paths() {
        let world = forkout_world();
        let seeds = forkout_seeds();
        let mut opened = 0;
        for (target, name, bytes) in &seeds {
            if *target == "forkout_open" && !name.ends_with("flipped") {
                if name.ends_with("bob") {
                    let (mut bob, mut s) = (world.bob.clone(), world.bob_session.clone());
                    open(&mut bob, &mut s, bytes, FIXTURE_NOW).unwrap();
                } else {
                    let mut carol = world.carol.clone();
                    open_new(&mut carol, bytes, FIXTURE_NOW).unwrap().1.unwrap();
                }
                opened += 1;
            }
            if *target == "forkout_bundle" && !name.ends_with("truncated") {
                ForkoutBundle::parse(bytes).unwrap();
            }
            for (t, f) in crate::fuzz_targets::TARGETS {
                if t == target {
                    f(bytes);
                }
            }
        }
        assert_eq!(opened, 8);
    }
}
