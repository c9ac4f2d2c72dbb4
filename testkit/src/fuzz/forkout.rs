//! Forkout targets: the bundle and delivery parsers, the relay split,
//! opening arbitrary deliveries, the seal/split/open program (mixed
//! sessions and peer-supplied bundles, partial reachability) and
//! authenticated malicious slot content.

use std::sync::OnceLock;

use sealpost::WireError;
use sealpost::burnout::Envelope;
use sealpost::forkout::{
    ForkoutBundle, ForkoutDelivery, Recipient, SealPolicy, open, open_new, seal, split, split_all,
};
use sealpost::test_hooks;
use sealpost::{Account, IdentityKey, PreKeyBundle, Session};

use super::{NOW_MS, Program, flip, stats};
use crate::rng;

/// A manager who talks to Bob, and Carol, whom the manager only knows by
/// her bundle. Built once from a fixed seed.
pub struct ForkoutFixture {
    pub manager: Account,
    pub manager_to_bob: Session,
    pub bob: Account,
    pub bob_session: Session,
    pub carol: Account,
}

pub fn forkout_world() -> &'static ForkoutFixture {
    static WORLD: OnceLock<ForkoutFixture> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut rng = rng(0xf0_4c_00_07);
        let manager = Account::new(&mut rng, NOW_MS);
        let mut bob = Account::new(&mut rng, NOW_MS);
        let mut carol = Account::new(&mut rng, NOW_MS);
        bob.generate_one_time_prekeys(2, &mut rng).unwrap();
        carol.generate_one_time_prekeys(2, &mut rng).unwrap();
        let mut manager_to_bob = manager.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let hello = manager_to_bob.encrypt(b"hello Bob", &mut rng).unwrap();
        let (mut bob_session, _) = bob.create_inbound_session(&hello).unwrap();
        let reply = bob_session.encrypt(b"hello", &mut rng).unwrap();
        manager_to_bob.decrypt(&reply).unwrap();
        ForkoutFixture { manager, manager_to_bob, bob, bob_session, carol }
    })
}

/// Parses a bundle: a parsed bundle re-encodes to the same bytes, and each
/// of its deliveries parses back to the same parts.
pub fn forkout_bundle(data: &[u8]) {
    let Ok(bundle) = ForkoutBundle::parse(data) else { return };
    assert_eq!(test_hooks::forkout_bundle_reencode(data).as_deref(), Ok(data), "bundle is not canonical");
    assert_eq!(bundle.recipients().count(), bundle.recipient_count());
    for (recipient, delivery) in bundle.deliveries() {
        let bytes = delivery.to_vec();
        assert_eq!(bytes.len(), delivery.encoded_len());
        assert_eq!(bundle.delivery_for_id(recipient).unwrap().to_vec(), bytes);
        let Some(parsed) = recipient_parse(&bytes) else { continue };
        assert_eq!(parsed.id(), bundle.id());
        assert_eq!(parsed.body_len(), bundle.body_len());
    }
}

/// What a recipient's parser makes of a delivery a relay split: the relay
/// checks the slot's framing only, so the one refusal allowed is the slot's
/// setup naming an identity key that does not decode.
fn recipient_parse(delivery: &[u8]) -> Option<ForkoutDelivery<'_>> {
    match ForkoutDelivery::parse(delivery) {
        Ok(parsed) => Some(parsed),
        Err(WireError::InvalidField("initiator identity")) => None,
        Err(e) => panic!("a split delivery does not parse: {e}"),
    }
}

/// Parses a delivery: a parsed delivery re-encodes to the same bytes.
pub fn forkout_delivery(data: &[u8]) {
    let Ok(delivery) = ForkoutDelivery::parse(data) else { return };
    assert_eq!(test_hooks::forkout_delivery_reencode(data).as_deref(), Ok(data), "delivery is not canonical");
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
        if let Some(d) = recipient_parse(&delivery) {
            assert_eq!(d.id(), parsed.id());
        }
        if let Ok(identity) = IdentityKey::from_bytes(&recipient) {
            assert_eq!(split(data, &identity).unwrap(), delivery);
        }
    }
    let world = forkout_world();
    assert_eq!(split(data, world.bob.identity()).is_ok(), parsed.delivery(world.bob.identity()).is_ok());
}

/// Opens `delivery` for Bob (existing session) and Carol (first contact):
/// a failure leaves all state unchanged, except an expired or malformed
/// Burnout envelope, which uses up the slot's key. Returns whether either
/// accepted it.
fn open_both(delivery: &[u8]) -> bool {
    let world = forkout_world();
    let mut accepted = false;
    let mut bob = world.bob.clone();
    let mut session = world.bob_session.clone();
    match open(&mut bob, &mut session, delivery, NOW_MS) {
        Ok(opened) => {
            stats::record("forkout/reached/slot_opened_in_session");
            if opened.envelope().is_some() {
                stats::record("forkout/reached/burnout_envelope_accepted");
            }
            assert_eq!(opened.sender(), world.manager.identity());
            assert!(open(&mut bob, &mut session, delivery, NOW_MS).is_err(), "a delivery opened twice");
            accepted = true;
        }
        Err(e) if test_hooks::consumes_key(&e) => {}
        Err(_) => {
            assert!(bob.to_bytes() == world.bob.to_bytes(), "failed open changed the account");
            assert!(session.to_bytes() == world.bob_session.to_bytes(), "failed open changed the session");
        }
    }
    let mut carol = world.carol.clone();
    match open_new(&mut carol, delivery, NOW_MS) {
        Ok((session, Ok(opened))) => {
            stats::record("forkout/reached/slot_opened_first_contact");
            assert_eq!(opened.sender(), session.peer_identity());
            assert!(open_new(&mut carol, delivery, NOW_MS).is_err(), "a first-contact delivery opened twice");
            accepted = true;
        }
        Ok((_, Err(e))) => assert!(test_hooks::consumes_key(&e), "{e:?}"),
        Err(_) => assert!(carol.to_bytes() == world.carol.to_bytes(), "failed first-contact open changed the account"),
    }
    accepted
}

/// Opens arbitrary bytes as a delivery, for Bob (existing session) and
/// Carol (first contact): see `open_both`.
pub fn forkout_open(data: &[u8]) {
    if open_both(data) {
        stats::record("forkout_open/accepted");
    }
}

/// Seal, split and open, run by a program; the harness is the manager.
///
/// Operations (one byte, then arguments):
///
/// ```text
/// bits 0-1 = 0  seal: recipients from bits 2-4 (Bob by session, Carol by
///               her bundle, and a bundle supplied by the peer: the next
///               length-prefixed bytes, parsed, possibly invalid), policy
///               bit 5 (skip unreachable), envelope bit 6, body bytes
/// bits 0-1 = 1  split sealed #index at the relay and open Bob's share
/// bits 0-1 = 2  open Carol's share of #index (first contact, or with the
///               session she got from an earlier one)
/// bits 0-1 = 3  tamper with Bob's share of #index (u16 bit) and open it
/// ```
///
/// Invariants: a seal either reaches every recipient it reports reachable
/// or fails; the relay's split equals the sealed delivery; each share
/// opens exactly once, to the body and envelope sealed; a tampered share
/// and a failed open change no state byte.
pub fn forkout_program(data: &[u8]) {
    let world = forkout_world();
    let mut rng = rng(0xf0_9209);
    let mut manager_to_bob = world.manager_to_bob.clone();
    let (mut bob, mut bob_session) = (world.bob.clone(), world.bob_session.clone());
    let mut carol = world.carol.clone();
    let mut carol_session: Option<Session> = None;
    // (bundle bytes, body, envelope, opened by Bob, opened by Carol)
    let mut sealed: Vec<(Vec<u8>, Vec<u8>, Option<Envelope>, bool, bool)> = Vec::new();
    let mut p = Program::new(data);
    for _ in 0..16 {
        let Some(op) = p.op() else { break };
        match op & 3 {
            0 => {
                let peer_bundle = if op & 16 != 0 { PreKeyBundle::from_bytes(&p.long_bytes(4096)).ok() } else { None };
                let body = p.bytes(255);
                let envelope = (op & 64 != 0).then(|| Envelope::with_ttl(NOW_MS, 60_000));
                let policy = if op & 32 != 0 { SealPolicy::SkipUnreachable } else { SealPolicy::AllOrNothing };
                let mut recipients = Vec::new();
                let mut to_bob = manager_to_bob.clone();
                if op & 4 != 0 {
                    recipients.push(Recipient::Session(&mut to_bob));
                }
                if op & 8 != 0 {
                    recipients.push(Recipient::Bundle(carol.prekey_bundle_with(None).unwrap()));
                }
                if let Some(b) = peer_bundle {
                    stats::record("forkout_program/peer_bundle");
                    recipients.push(Recipient::Bundle(b));
                }
                let Ok((out, report)) = seal(&world.manager, body.clone(), recipients, policy, envelope, &mut rng)
                else {
                    continue;
                };
                stats::record("forkout_program/sealed");
                let bytes = out.to_bytes();
                for identity in out.recipients() {
                    assert!(report.unreachable.iter().all(|u| u.identity != *identity));
                    assert_eq!(split(&bytes, identity).unwrap(), out.delivery(identity).unwrap().to_vec());
                }
                if out.delivery(world.bob.identity()).is_ok() {
                    manager_to_bob = to_bob;
                }
                sealed.push((bytes, body, envelope, false, false));
            }
            1 | 3 => {
                if sealed.is_empty() {
                    continue;
                }
                let i = p.index(sealed.len());
                let Ok(mut share) = split(&sealed[i].0, world.bob.identity()) else { continue };
                let tampered = op & 3 == 3;
                if tampered {
                    flip(&mut share, p.u16());
                }
                let before = (bob.to_bytes(), bob_session.to_bytes());
                match open(&mut bob, &mut bob_session, &share, NOW_MS) {
                    Ok(opened) => {
                        assert!(!tampered, "a tampered share opened");
                        assert!(!sealed[i].3, "a share opened twice");
                        sealed[i].3 = true;
                        assert_eq!(opened.envelope(), sealed[i].2.as_ref());
                        assert_eq!(content_of(opened.into_opened()), sealed[i].1);
                        stats::record("forkout_program/opened");
                    }
                    Err(e) => {
                        assert!(
                            (bob.to_bytes(), bob_session.to_bytes()) == before,
                            "failed open ({e:?}) changed state"
                        );
                        assert!(tampered || sealed[i].3, "Bob's fresh share refused: {e:?}");
                    }
                }
            }
            _ => {
                if sealed.is_empty() {
                    continue;
                }
                let i = p.index(sealed.len());
                let Ok(share) = split(&sealed[i].0, carol.identity()) else { continue };
                let before = carol.to_bytes();
                let result = match carol_session.as_mut() {
                    Some(s) => open(&mut carol, s, &share, NOW_MS),
                    None => match open_new(&mut carol, &share, NOW_MS) {
                        Ok((s, r)) => {
                            carol_session = Some(s);
                            r
                        }
                        Err(e) => Err(e),
                    },
                };
                match result {
                    Ok(opened) => {
                        assert!(!sealed[i].4, "Carol's share opened twice");
                        sealed[i].4 = true;
                        assert_eq!(content_of(opened.into_opened()), sealed[i].1);
                    }
                    Err(e) if carol_session.is_none() => assert!(carol.to_bytes() == before, "{e:?} changed Carol"),
                    Err(_) => {}
                }
            }
        }
    }
}

/// Authenticated malicious slot content: the manager seals the input as
/// the slot payload (kind byte included: its last byte) inside his real
/// 1:1 session with Bob, in a real delivery's place; Bob opens it.
///
/// The manager knows the id of the delivery he puts the slot into, so
/// bytes 1..33 of the slot content (the id field after the flags byte)
/// are replaced by the real delivery's id: without that, no input got
/// past the id check in a campaign (the fields behind it, the envelope
/// and the body length, were never reached). The body key and commitment
/// stay the input's (a slot matching the body would need the body key).
///
/// Properties: no panic; a refusal changes no state byte unless the
/// envelope rule uses the key up; an accepted slot never opens twice.
pub fn forkout_malicious(data: &[u8]) {
    let world = forkout_world();
    let Some((&kind_byte, slot_content)) = data.split_last() else { return };
    let base = base_delivery();
    let mut rng = rng(10);
    let mut to_bob = world.manager_to_bob.clone();
    let trailer_len = usize::from(slot_content.first().copied().unwrap_or(0) % 20);
    let split_at = slot_content.len().saturating_sub(trailer_len);
    let (content, env) = slot_content.split_at(split_at);
    let mut content = content.to_vec();
    if let Some(id) = content.get_mut(1..33) {
        id.copy_from_slice(ForkoutDelivery::parse(base).unwrap().id().as_bytes());
    }
    let trailer = [env, &[kind_byte]].concat();
    let Ok(slot) = test_hooks::session_seal_raw(&mut to_bob, &content, &trailer, &mut rng) else { return };
    let Ok(delivery) = test_hooks::forkout_delivery_with_slot(base, &slot) else { return };
    let (mut bob, mut session) = (world.bob.clone(), world.bob_session.clone());
    let before = (bob.to_bytes(), session.to_bytes());
    match open(&mut bob, &mut session, &delivery, NOW_MS) {
        Ok(opened) => {
            stats::record("forkout_malicious/accepted");
            if opened.envelope().is_some() {
                stats::record("forkout/reached/burnout_envelope_accepted");
            }
            assert!(open(&mut bob, &mut session, &delivery, NOW_MS).is_err());
        }
        Err(e) if test_hooks::consumes_key(&e) => stats::record("forkout_malicious/consumed"),
        Err(e) => {
            stats::record("forkout_malicious/refused");
            assert!((bob.to_bytes(), session.to_bytes()) == before, "refused slot ({e:?}) changed state");
        }
    }
}

/// A real delivery to Bob (its id and body are reused by
/// [`forkout_malicious`]).
pub fn base_delivery() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let world = forkout_world();
        let mut to_bob = world.manager_to_bob.clone();
        let (out, _) = seal(
            &world.manager,
            b"body".to_vec(),
            [Recipient::Session(&mut to_bob)],
            SealPolicy::AllOrNothing,
            None,
            &mut rng(11),
        )
        .unwrap();
        out.delivery(world.bob.identity()).unwrap().to_vec()
    })
}

/// The content of an opened message, plain or Burnout (read at once).
fn content_of(opened: sealpost::burnout::Opened) -> Vec<u8> {
    match opened {
        sealpost::burnout::Opened::Message(text) => text,
        sealpost::burnout::Opened::Burnout(m) => m.into_plaintext(NOW_MS).unwrap().to_vec(),
    }
}
