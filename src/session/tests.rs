//! Burnout cases only a (buggy or malicious) sender can produce, built with the
//! crate-internal `encrypt_payload`: a relay cannot, since the payload
//! kind and the envelope are inside the AEAD.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::account::Account;
use crate::error::WireError;
use crate::error::{BurnoutError, SessionError};
use crate::wire::PayloadKind;

const NOW: u64 = 1_700_000_000_000;

fn pair() -> (StdRng, Session, Account, Session) {
    let mut rng = StdRng::seed_from_u64(7);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(1, &mut rng).unwrap();
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    (rng, a, bob, b)
}

#[test]
fn malformed_envelopes_are_consumed_and_never_returned() {
    let mut bad_flags = Envelope::with_ttl(NOW, 1000).to_bytes();
    bad_flags[17] |= 0x04;
    let mut bad_version = Envelope::with_ttl(NOW, 1000).to_bytes();
    bad_version[0] = 2;
    let cases: [(&[u8], Error); 4] = [
        (b"", Error::Burnout(BurnoutError::MalformedEnvelope(WireError::Truncated { needed: 18 }))),
        (b"seventeen bytes!!", Error::Burnout(BurnoutError::MalformedEnvelope(WireError::Truncated { needed: 1 }))),
        (
            &bad_flags,
            Error::Burnout(BurnoutError::MalformedEnvelope(WireError::InvalidField("unknown envelope flags"))),
        ),
        (&bad_version, Error::Burnout(BurnoutError::MalformedEnvelope(WireError::UnsupportedVersion(2)))),
    ];
    for (content, expected) in cases {
        let (mut rng, mut a, mut bob, mut b) = pair();
        let m = a.encrypt_payload(content, &[], PayloadKind::BurnoutApp, &mut rng).unwrap();
        let before = b.to_bytes();
        assert_eq!(bob.open_burnout(&mut b, &m, NOW).unwrap_err(), expected);
        assert_ne!(b.to_bytes(), before, "the key is used up");
        assert_eq!(b.open_burnout(&m, NOW).unwrap_err(), Error::DuplicateMessage);
    }
}

#[test]
fn an_envelope_under_the_plain_kind_is_not_burnout() {
    // A sender that "strips" the Burnout kind: the result is a plain
    // message, which the Burnout API refuses without consuming.
    let (mut rng, mut a, _bob, mut b) = pair();
    let env = Envelope::with_ttl(NOW, 1000).to_bytes();
    let m = a.encrypt_payload(b"body", &env, PayloadKind::App, &mut rng).unwrap();
    let before = b.to_bytes();
    assert_eq!(b.open_burnout(&m, NOW).unwrap_err(), Error::UnexpectedPayload(0));
    assert_eq!(b.to_bytes(), before);
}

#[test]
fn other_kinds_are_refused_by_open_without_consuming() {
    let (mut rng, mut a, mut bob, mut b) = pair();
    let m = a.encrypt_payload(b"key material", &[], PayloadKind::GroupDistribution, &mut rng).unwrap();
    let before = b.to_bytes();
    assert_eq!(bob.open(&mut b, &m, NOW).unwrap_err(), Error::UnexpectedPayload(2));
    assert_eq!(b.to_bytes(), before);
}

#[test]
fn a_forgery_on_the_signed_prekey_is_an_authentication_failure_not_a_state_error() {
    // Before Bob's first reply, Alice's state knows Bob's signed prekey as
    // his ratchet key but has no receiving chain. A forged message naming
    // that key must fail authentication (an app that resets sessions on
    // state errors must not be pushed into doing so), and change nothing.
    use rand_core::Rng;
    let mut rng = StdRng::seed_from_u64(8);
    let alice = Account::new(&mut rng, NOW);
    let bob = Account::new(&mut rng, NOW);
    let bundle = bob.prekey_bundle().unwrap();
    let mut a = alice.create_outbound_session(&bundle, &mut rng).unwrap();
    let _ = a.encrypt(b"hi", &mut rng).unwrap();
    let before = a.to_bytes();
    for index in [0u32, 1, 999] {
        let mut forged = vec![MessageType::Ratchet.version(), MessageType::Ratchet as u8];
        forged.extend_from_slice(bundle.signed_prekey());
        forged.extend_from_slice(&0u32.to_be_bytes());
        forged.extend_from_slice(&index.to_be_bytes());
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        forged.extend_from_slice(&salt);
        forged.extend_from_slice(&[0; 4 + 1]); // post-quantum epoch 0, no chunk
        let mut junk = [0u8; 40]; // ciphertext and tag
        rng.fill_bytes(&mut junk);
        forged.extend_from_slice(&junk);
        assert_eq!(a.decrypt(&forged), Err(Error::AuthenticationFailed));
        assert_eq!(a.to_bytes(), before);
    }
}

#[test]
fn previous_states_have_a_smaller_jump_bound() {
    use crate::limits::MAX_PREVIOUS_STATE_JUMP;
    let mut rng = StdRng::seed_from_u64(9);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(2, &mut rng).unwrap();
    let mut old = alice.create_outbound_session(&bob.prekey_bundle_with(Some(1)).unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&old.encrypt(b"first", &mut rng).unwrap()).unwrap();
    // Alice re-initiates: Bob's old state becomes a previous state.
    let mut new = alice.create_outbound_session(&bob.prekey_bundle_with(Some(2)).unwrap(), &mut rng).unwrap();
    assert_eq!(bob.decrypt(&mut b, &new.encrypt(b"again", &mut rng).unwrap()).unwrap(), b"again");
    assert_eq!(b.previous_state_count(), 1);
    // Messages still in flight on the old state.
    let late: Vec<Vec<u8>> = (0..100).map(|_| old.encrypt(b"late", &mut rng).unwrap()).collect();
    let before = b.to_bytes();
    let too_far = MAX_PREVIOUS_STATE_JUMP as usize + 1;
    assert_eq!(
        bob.decrypt(&mut b, &late[too_far]),
        Err(Error::Session(SessionError::ForwardJumpTooLarge {
            jump: too_far as u64,
            max: u64::from(MAX_PREVIOUS_STATE_JUMP)
        }))
    );
    assert_eq!(b.to_bytes(), before, "refused, nothing changed");
    assert_eq!(bob.decrypt(&mut b, &late[too_far - 1]).unwrap(), b"late");
}

#[test]
fn a_restored_state_never_reuses_a_key_and_nonce() {
    // The app sends c1, crashes before saving, restores its last save and
    // sends c2 from the same chain position.
    let (mut rng, mut a, mut bob, mut b) = pair();
    let saved = a.to_bytes();
    let (p1, p2) = (b"attack at dawn!!", b"retreat at noon!");
    let c1 = a.encrypt(p1, &mut rng).unwrap();
    let mut restored = Session::from_bytes(&saved).unwrap();
    let c2 = restored.encrypt(p2, &mut rng).unwrap();
    let (m1, m2) = (SessionMessage::parse(&c1).unwrap(), SessionMessage::parse(&c2).unwrap());
    assert_eq!(m1.header.ratchet_key, m2.header.ratchet_key);
    assert_eq!(m1.header.index, m2.header.index, "same chain position, same message key");
    assert_ne!(m1.header.salt, m2.header.salt);
    // Under one key and nonce, c1 ^ c2 would equal p1 ^ p2 (and the reused
    // Poly1305 key would allow forgeries).
    let xor = |x: &[u8], y: &[u8]| x.iter().zip(y).map(|(a, b)| a ^ b).collect::<Vec<u8>>();
    assert_ne!(xor(&m1.ciphertext[..p1.len()], &m2.ciphertext[..p2.len()]), xor(p1, p2));
    // The peer reads whichever arrives first; the other is that position's replay.
    assert_eq!(bob.decrypt(&mut b, &c1).unwrap(), p1);
    assert_eq!(bob.decrypt(&mut b, &c2), Err(Error::DuplicateMessage));
}

#[test]
fn an_unanswered_setup_goes_stale_and_an_answered_one_does_not() {
    use crate::limits::{MAX_BUNDLE_AGE_MS, MAX_UNANSWERED_SETUP_MS};
    let mut rng = StdRng::seed_from_u64(10);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    // A bundle past its age is refused before anything is derived.
    let bundle = bob.prekey_bundle().unwrap();
    assert_eq!(
        alice.create_outbound_session_at(&bundle, NOW + MAX_BUNDLE_AGE_MS, &mut rng).err(),
        Some(Error::Session(SessionError::StaleBundle))
    );
    let start = NOW + 1_000;
    let mut a = alice.create_outbound_session_at(&bundle, start, &mut rng).unwrap();
    assert_eq!(a.setup_stale_at_ms(), Some(start + MAX_UNANSWERED_SETUP_MS));
    let first = a.encrypt_at(b"hi", start, &mut rng).unwrap();
    // The deadline is saved with the session.
    let mut restored = Session::from_bytes(&a.to_bytes()).unwrap();
    assert_eq!(restored.setup_stale_at_ms(), a.setup_stale_at_ms());
    let before = restored.to_bytes();
    let stale = start + MAX_UNANSWERED_SETUP_MS;
    assert_eq!(restored.encrypt_at(b"late", stale, &mut rng).err(), Some(Error::Session(SessionError::StaleSetup)));
    assert_eq!(restored.to_bytes(), before, "nothing was encrypted");
    // Once Bob answers, the session no longer ages.
    let (mut b, _) = bob.create_inbound_session(&first).unwrap();
    let reply = b.encrypt(b"here", &mut rng).unwrap();
    a.decrypt(&reply).unwrap();
    assert_eq!(a.setup_stale_at_ms(), None);
    assert!(a.encrypt_at(b"much later", stale + 1, &mut rng).is_ok());
}

/// What the accessors and the encrypt variants return, checked with the
/// unit tests alone (mutation testing of this module runs `--lib`: the doc
/// examples, which check the same, do not run there).
#[test]
fn accessors_and_encrypt_variants_say_what_they_do() {
    let (mut rng, mut a, mut bob, mut b) = pair();
    assert!(format!("{a:?}").starts_with("Session"));
    // Both sides name the session alike, and no two sessions share an id.
    assert_eq!(a.session_id(), b.session_id());
    let other = {
        let mut rng = StdRng::seed_from_u64(8);
        let (alice, bob) = (Account::new(&mut rng, NOW), Account::new(&mut rng, NOW));
        alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap()
    };
    assert_ne!(a.session_id(), other.session_id());
    // Post-quantum by default (the default policy refuses anything else);
    // classical only where both allow it.
    assert!(a.is_post_quantum() && b.is_post_quantum());
    {
        let mut rng = StdRng::seed_from_u64(9);
        let (mut carol, mut dave) = (Account::new(&mut rng, NOW), Account::new(&mut rng, NOW));
        carol.set_setup_policy(crate::SetupPolicy::AllowClassical);
        dave.set_setup_policy(crate::SetupPolicy::AllowClassical);
        let bundle = dave.prekey_store().classical_bundle(dave.identity_keypair(), None).unwrap();
        let mut c = carol.create_outbound_session(&bundle, &mut rng).unwrap();
        let (d, _) = dave.create_inbound_session(&c.encrypt(b"classical", &mut rng).unwrap()).unwrap();
        assert!(!c.is_post_quantum() && !d.is_post_quantum());
    }
    // Alice's session carries setup data until Bob answers; Bob's is
    // confirmed by the setup message itself.
    assert!(!a.is_confirmed() && b.is_confirmed());
    let m = b.encrypt(b"answer", &mut rng).unwrap();
    assert_eq!(a.decrypt(&m).unwrap(), b"answer");
    assert!(a.is_confirmed());
    assert_eq!((a.previous_state_count(), b.previous_state_count()), (0, 0));

    // Two of three lost: two skipped keys kept, then forgotten.
    let lost: Vec<Vec<u8>> = (0..2).map(|i| a.encrypt(&[i], &mut rng).unwrap()).collect();
    let third = a.encrypt(b"third", &mut rng).unwrap();
    assert_eq!(bob.decrypt(&mut b, &third).unwrap(), b"third");
    assert_eq!(b.skipped_key_count(), 2);
    let mut forgetful = b.clone();
    assert_eq!(forgetful.forget_skipped_keys(), 2);
    assert_eq!(forgetful.skipped_key_count(), 0);
    assert_eq!(b.decrypt(&lost[1]).unwrap(), [1]);
    assert_eq!(b.skipped_key_count(), 1);

    // encrypt_into appends a message the peer reads.
    let mut wire = b"kept".to_vec();
    a.encrypt_into(b"into", &mut wire, &mut rng).unwrap();
    assert_eq!(&wire[..4], b"kept");
    let mut plain = b"old".to_vec();
    b.decrypt_into(&wire[4..], &mut plain).unwrap();
    assert_eq!(plain, b"into");
    // encrypt_burnout seals an envelope the peer opens, with its content.
    let envelope = Envelope::with_ttl(NOW, 60_000);
    let m = a.encrypt_burnout(b"for a minute", &envelope, &mut rng).unwrap();
    let opened = b.open_burnout(&m, NOW).unwrap();
    assert_eq!(opened.envelope(), &envelope);
    assert_eq!(&opened.into_plaintext(NOW).unwrap()[..], b"for a minute");
}

/// Both start at once: each side's setup reaches the other, and both end
/// on the same state (the lower identity's initiation), whichever side
/// that is.
#[test]
fn a_simultaneous_start_converges_on_one_state() {
    for seed in 0..4 {
        let mut rng = StdRng::seed_from_u64(100 + seed);
        let mut alice = Account::new(&mut rng, NOW);
        let mut bob = Account::new(&mut rng, NOW);
        let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let mut b = bob.create_outbound_session(&alice.prekey_bundle().unwrap(), &mut rng).unwrap();
        let (from_a, from_b) = (a.encrypt(b"from a", &mut rng).unwrap(), b.encrypt(b"from b", &mut rng).unwrap());
        let lower_started = if alice.identity() < bob.identity() { a.session_id() } else { b.session_id() };
        assert_eq!(alice.decrypt(&mut a, &from_b).unwrap(), b"from b");
        assert_eq!(bob.decrypt(&mut b, &from_a).unwrap(), b"from a");
        assert_eq!(a.session_id(), b.session_id(), "seed {seed}");
        assert_eq!(a.session_id(), lower_started, "the lower identity's initiation wins (seed {seed})");
        let m = a.encrypt(b"after", &mut rng).unwrap();
        assert_eq!(b.decrypt(&m).unwrap(), b"after");
    }
}

/// A confirmed conversation, then the peer starts over (a new device
/// state, a restored backup): its new state becomes current on our side,
/// whichever identity is lower (the tie-break is for simultaneous starts
/// only).
#[test]
fn a_peer_that_starts_over_is_followed() {
    for seed in 0..4 {
        let mut rng = StdRng::seed_from_u64(200 + seed);
        let mut alice = Account::new(&mut rng, NOW);
        let mut bob = Account::new(&mut rng, NOW);
        let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
        assert_eq!(a.decrypt(&b.encrypt(b"hello", &mut rng).unwrap()).unwrap(), b"hello");
        assert!(a.is_confirmed());
        let mut again = bob.create_outbound_session(&alice.prekey_bundle().unwrap(), &mut rng).unwrap();
        assert_eq!(alice.decrypt(&mut a, &again.encrypt(b"new start", &mut rng).unwrap()).unwrap(), b"new start");
        assert_eq!(a.session_id(), again.session_id(), "seed {seed}");
        assert_eq!(a.previous_state_count(), 1);
        assert_eq!(again.decrypt(&a.encrypt(b"followed", &mut rng).unwrap()).unwrap(), b"followed");
    }
}

/// The state count of a saved session: 1 (no previous state) up to
/// `MAX_PREVIOUS_STATES + 1`; anything else is refused before decoding.
#[test]
fn a_saved_session_holds_one_to_max_plus_one_states() {
    use crate::limits::MAX_PREVIOUS_STATES;
    // The count byte: after version, type, both identities and the export
    // generation.
    const COUNT_AT: usize = 2 + 32 + 32 + 8;
    let mut rng = StdRng::seed_from_u64(300);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    let mut first = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&first.encrypt(b"0", &mut rng).unwrap()).unwrap();
    let one = b.to_bytes();
    assert_eq!(one[COUNT_AT], 1);
    for count in [0u8, (MAX_PREVIOUS_STATES + 2) as u8] {
        let mut bad = one.to_vec();
        bad[COUNT_AT] = count;
        assert_eq!(Session::from_bytes(&bad).err(), Some(WireError::InvalidField("session state count").into()));
    }
    // Alice starts over until Bob keeps the most previous states: saved
    // with MAX + 1 states, it restores to the same bytes.
    for i in 0..=MAX_PREVIOUS_STATES {
        let mut again = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        bob.decrypt(&mut b, &again.encrypt(&[i as u8], &mut rng).unwrap()).unwrap();
    }
    assert_eq!(b.previous_state_count(), MAX_PREVIOUS_STATES);
    let full = b.to_bytes();
    assert_eq!(usize::from(full[COUNT_AT]), MAX_PREVIOUS_STATES + 1);
    assert_eq!(Session::from_bytes(&full).unwrap().to_bytes(), full);
}

/// A classical session saved before the peer's first reply still carries
/// its setup data (no KEM ciphertext) after a restore, and the peer
/// accepts what the restored session sends.
#[test]
fn a_classical_session_restored_before_the_reply_still_sets_up() {
    use crate::x3dh::SetupPolicy;
    let mut rng = StdRng::seed_from_u64(8);
    let mut alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    alice.set_setup_policy(SetupPolicy::AllowClassical);
    bob.set_setup_policy(SetupPolicy::AllowClassical);
    let bundle = bob.prekey_store().classical_bundle(bob.identity_keypair(), None).unwrap();
    let to_bob = alice.create_outbound_session(&bundle, &mut rng).unwrap();
    assert!(!to_bob.is_post_quantum());
    let mut restored = Session::from_bytes(&to_bob.to_bytes()).unwrap();
    assert_eq!(restored.to_bytes(), to_bob.to_bytes());
    let first = restored.encrypt(b"after a restart", &mut rng).unwrap();
    let (mut to_alice, text) = bob.create_inbound_session(&first).unwrap();
    assert_eq!(text, b"after a restart");
    assert!(!to_alice.is_post_quantum());
    let reply = to_alice.encrypt(b"hi", &mut rng).unwrap();
    assert_eq!(restored.decrypt(&reply).unwrap(), b"hi");
}
