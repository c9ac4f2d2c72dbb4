//! Post-quantum protection: the hybrid setup (PQXDH), the setup policy and
//! its downgrade refusals, the post-quantum ratchet under loss, and the
//! carriers that ride on 1:1 sessions.
//!
//! The adversary of the setup tests **breaks X25519 but not ML-KEM**: it
//! holds every X25519 secret of the responder (identity, signed prekey,
//! one-time prekeys), from which it can compute every Diffie-Hellman result
//! of the setup, but none of its ML-KEM secrets. It is modelled as the
//! responder's account with its KEM seeds replaced by seeds of the
//! attacker's own. The same attacker against a classical (X3DH-only) setup
//! reads everything: the control that shows the test can fail. The
//! ratchet's adversary (one that also steals both session states) is in
//! `src/session/adversary_tests.rs`, which needs the crate's internals.

use rand::RngExt;
use rand::seq::SliceRandom;
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost::group::{Group, GroupId};
use sealpost::limits::{BRAID_CIPHERTEXT_CHUNKS, BRAID_KEY_CHUNKS};
use sealpost::test_hooks::classical_prekey_bundle;
use sealpost::wire::SessionMessage;
use sealpost::{Account, Error, PreKeyBundle, Session, SessionError, SetupPolicy};
use sealpost_testkit::{NOW, rng};

/// Offsets in an account state with no previous signed prekeys (see
/// `PreKeyStore::encode` and PROTOCOL): the last-resort KEM seed, the
/// count of recorded setups (32 bytes each), and where the one-time
/// prekeys' count is when no setup is recorded.
const LAST_RESORT_KEM_SEED: core::ops::Range<usize> = 142..206;
const SETUPS_AT: usize = 270;
const ONE_TIME_COUNT_AT: usize = 282;
/// Per one-time prekey: id (4), X25519 secret (32), KEM seed (64), KEM
/// signature (64).
const ONE_TIME_LEN: usize = 164;

/// The attacker's copy of `account`: every X25519 secret, and KEM seeds of
/// its own in place of the real ones.
fn x25519_breaker(account: &Account) -> Account {
    let mut bytes = account.to_bytes().to_vec();
    bytes[LAST_RESORT_KEM_SEED].fill(0xa5);
    let u32_at = |bytes: &[u8], at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let count_at = ONE_TIME_COUNT_AT + 32 * u32_at(&bytes, SETUPS_AT);
    for i in 0..u32_at(&bytes, count_at) {
        let at = count_at + 4 + i * ONE_TIME_LEN + 36;
        bytes[at..at + 64].fill(0x5a);
    }
    let attacker = Account::from_bytes(&bytes).unwrap();
    // The copy keeps every X25519 secret: same identity, same bundles'
    // X25519 keys.
    assert_eq!(attacker.identity(), account.identity());
    attacker
}

/// Sender and receiver for `turn` (0: first to second, 1: back).
fn pair(s: &mut [Session; 2], turn: usize) -> (&mut Session, &mut Session) {
    let [x, y] = s;
    if turn == 0 { (x, y) } else { (y, x) }
}

#[test]
fn an_x25519_breaker_cannot_open_a_pqxdh_setup_but_opens_a_classical_one() {
    let mut rng = rng(61);
    let mut alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(2, &mut rng).unwrap();
    let mut attacker = x25519_breaker(&bob);

    // Post-quantum: with and without a one-time prekey.
    for one_time in [Some(1), None] {
        let bundle = bob.prekey_bundle_with(one_time).unwrap();
        assert!(bundle.is_post_quantum());
        let mut a = alice.create_outbound_session(&bundle, &mut rng).unwrap();
        let first = a.encrypt(b"harvest me", &mut rng).unwrap();
        assert!(SessionMessage::parse(&first).unwrap().is_post_quantum_setup());
        assert_eq!(attacker.create_inbound_session(&first).map(|_| ()), Err(Error::AuthenticationFailed));
        let (b, text) = bob.create_inbound_session(&first).unwrap();
        assert_eq!(text, b"harvest me");
        assert!(b.is_post_quantum() && a.is_post_quantum());
    }

    // The control: a classical setup falls to the same attacker.
    alice.set_setup_policy(SetupPolicy::AllowClassical);
    bob.set_setup_policy(SetupPolicy::AllowClassical);
    let mut attacker = x25519_breaker(&bob);
    let bundle = classical_prekey_bundle(&bob, Some(2)).unwrap();
    let mut a = alice.create_outbound_session(&bundle, &mut rng).unwrap();
    let first = a.encrypt(b"harvest me", &mut rng).unwrap();
    let (_, read) = attacker.create_inbound_session(&first).unwrap();
    assert_eq!(read, b"harvest me");
    let (b, _) = bob.create_inbound_session(&first).unwrap();
    assert!(!b.is_post_quantum() && !a.is_post_quantum());
}

#[test]
fn a_stripped_or_swapped_kem_prekey_is_refused_by_the_initiator() {
    let mut rng = rng(62);
    let mut alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    let mallory = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(2, &mut rng).unwrap();
    let with_one_time = bob.prekey_bundle_with(Some(1)).unwrap().to_bytes();
    let other_one_time = bob.prekey_bundle_with(Some(2)).unwrap().to_bytes();
    let last_resort = bob.prekey_bundle_with(None).unwrap().to_bytes();
    let kem = |b: &[u8]| b[b.len() - 1632..].to_vec(); // key (1568) and signature (64)
    let with_kem = |b: &[u8], k: &[u8]| [&b[..b.len() - 1632], k].concat();

    // Stripped: KEM kind 0, key and signature gone. The signed prekey's
    // signature covers the kind byte, so even a policy that allows
    // classical setup refuses it.
    let mut stripped = with_one_time[..with_one_time.len() - 1633].to_vec();
    stripped.push(0);
    let stripped = PreKeyBundle::from_bytes(&stripped).unwrap();
    assert!(!stripped.is_post_quantum());
    let refused = |alice: &Account, bundle: &PreKeyBundle, rng: &mut _| {
        alice.create_outbound_session(bundle, rng).map(|_| ()).unwrap_err()
    };
    assert_eq!(refused(&alice, &stripped, &mut rng), Error::Session(SessionError::PostQuantumRequired));
    alice.set_setup_policy(SetupPolicy::AllowClassical);
    assert_eq!(refused(&alice, &stripped, &mut rng), Error::InvalidSignature("signed prekey"));
    alice.set_setup_policy(SetupPolicy::RequirePostQuantum);

    // Swapped: Mallory's KEM prekey (signed by Mallory), Bob's KEM prekey
    // of another one-time id, and Bob's last-resort KEM prekey beside a
    // one-time X25519 key: each signature names its owner, role and id.
    let mallorys = kem(&mallory.prekey_bundle().unwrap().to_bytes());
    for swapped in [&mallorys, &kem(&other_one_time), &kem(&last_resort)] {
        let bundle = PreKeyBundle::from_bytes(&with_kem(&with_one_time, swapped)).unwrap();
        assert_eq!(refused(&alice, &bundle, &mut rng), Error::InvalidSignature("KEM prekey"));
    }
    // And a one-time KEM prekey in the last-resort position.
    let bundle = PreKeyBundle::from_bytes(&with_kem(&last_resort, &kem(&with_one_time))).unwrap();
    assert_eq!(refused(&alice, &bundle, &mut rng), Error::InvalidSignature("KEM prekey"));

    // A classical bundle (a peer without KEM prekeys) needs the policy.
    let classical = classical_prekey_bundle(&bob, Some(1)).unwrap();
    assert_eq!(refused(&alice, &classical, &mut rng), Error::Session(SessionError::PostQuantumRequired));
    alice.set_setup_policy(SetupPolicy::AllowClassical);
    assert!(alice.create_outbound_session(&classical, &mut rng).is_ok());
}

#[test]
fn a_classical_setup_to_a_pq_requiring_responder_changes_nothing() {
    let mut rng = rng(63);
    let mut alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(1, &mut rng).unwrap();
    alice.set_setup_policy(SetupPolicy::AllowClassical);

    for one_time in [Some(1), None] {
        let mut a = alice.create_outbound_session(&classical_prekey_bundle(&bob, one_time).unwrap(), &mut rng).unwrap();
        let first = a.encrypt(b"downgraded", &mut rng).unwrap();
        assert!(!SessionMessage::parse(&first).unwrap().is_post_quantum_setup());
        let before = bob.to_bytes();
        let e = bob.create_inbound_session(&first).map(|_| ()).unwrap_err();
        assert_eq!(e, Error::Session(SessionError::PostQuantumRequired));
        assert_eq!(bob.to_bytes(), before, "a refused setup changed the account");
        assert_eq!(bob.remaining_one_time_prekeys(), 1);
        // With an existing session too (Account::decrypt takes new states).
        let mut to_alice = {
            let mut fresh = alice.create_outbound_session(&bob.prekey_bundle_with(None).unwrap(), &mut rng).unwrap();
            bob.create_inbound_session(&fresh.encrypt(b"pq", &mut rng).unwrap()).unwrap().0
        };
        let session_before = to_alice.to_bytes();
        assert_eq!(bob.decrypt(&mut to_alice, &first), Err(Error::Session(SessionError::PostQuantumRequired)));
        assert_eq!(to_alice.to_bytes(), session_before);
    }

    // Bob allows classical setup: the same kind of message opens.
    bob.set_setup_policy(SetupPolicy::AllowClassical);
    let restored = Account::from_bytes(&bob.to_bytes()).unwrap();
    assert_eq!(restored.setup_policy(), SetupPolicy::AllowClassical, "the policy is kept in the state");
    let mut a = alice.create_outbound_session(&classical_prekey_bundle(&bob, Some(1)).unwrap(), &mut rng).unwrap();
    let (b, text) = bob.create_inbound_session(&a.encrypt(b"classical", &mut rng).unwrap()).unwrap();
    assert_eq!(text, b"classical");
    assert!(!b.is_post_quantum());
    assert_eq!(bob.remaining_one_time_prekeys(), 0);
}

/// Sizes of the post-quantum ratchet over a long alternating conversation
/// (runs of 1 to 3 messages per side): how often the epoch advances and
/// what it adds per message. The numbers are in PROTOCOL.
#[test]
fn the_epoch_advances_in_an_alternating_conversation_and_bytes_stay_bounded() {
    let mut rng = rng(64);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    a.decrypt(&b.encrypt(b"hello", &mut rng).unwrap()).unwrap();
    let mut s = [a, b];

    let plaintext = [0x42u8; 100];
    // A message without setup data or a chunk: 2 + 56 header + 5 braid
    // fields + 100 + 1 kind + 16 tag.
    let bare = 2 + 56 + 5 + plaintext.len() + 1 + 16;
    let (mut messages, mut extra, mut worst) = (0usize, 0usize, 0usize);
    let mut epochs = vec![];
    let mut conversation = sealpost_testkit::rng(1);
    for _ in 0..200 {
        for turn in 0..2 {
            let (from, to) = pair(&mut s, turn);
            for _ in 0..conversation.random_range(1..=3) {
                let m = from.encrypt(&plaintext, &mut rng).unwrap();
                assert_eq!(to.decrypt(&m).unwrap(), plaintext);
                let added = m.len() - bare + 5;
                extra += added;
                worst = worst.max(added);
                messages += 1;
            }
        }
        epochs.push(s[0].post_quantum_epoch());
        assert!(s[0].post_quantum_epoch().abs_diff(s[1].post_quantum_epoch()) <= 1);
    }
    let epoch = s[0].post_quantum_epoch();
    println!(
        "{messages} messages: epoch {epoch} (one per {:.1} messages), braid bytes per message: average {:.1}, worst {worst}",
        messages as f64 / f64::from(epoch),
        extra as f64 / messages as f64
    );
    // One epoch needs at least KEY_CHUNKS + CIPHERTEXT_CHUNKS messages
    // (19); with runs of 1 to 3 it takes about twice that.
    assert!(epoch >= (messages / (4 * (BRAID_KEY_CHUNKS + BRAID_CIPHERTEXT_CHUNKS))) as u32, "epoch {epoch}");
    assert!(epochs.windows(2).all(|w| w[0] <= w[1]));
    // Epoch fields (5 bytes) always; one chunk (129 bytes) at most.
    assert_eq!(worst, 5 + 129);
    assert!(extra / messages < 134);
}

/// 20% of the messages are lost and the rest arrive shuffled within
/// windows of 4: the epoch still advances, and every delivered message
/// opens.
#[test]
fn the_epoch_advances_under_loss_and_reordering() {
    let mut rng = rng(65);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    let mut s = [b, a];
    let mut net = sealpost_testkit::rng(2);
    let (mut sent, mut lost) = (0usize, 0usize);
    for _ in 0..150 {
        for turn in 0..2 {
            let (from, to) = pair(&mut s, turn);
            let mut batch: Vec<Vec<u8>> = (0..4).map(|i| from.encrypt(&[i; 20], &mut rng).unwrap()).collect();
            sent += batch.len();
            batch.retain(|_| {
                let keep = net.random_bool(0.8);
                lost += usize::from(!keep);
                keep
            });
            batch.shuffle(&mut net);
            for m in &batch {
                assert_eq!(to.decrypt(m).unwrap().len(), 20);
            }
        }
    }
    let (ea, eb) = (s[1].post_quantum_epoch(), s[0].post_quantum_epoch());
    println!("{sent} messages, {lost} lost: epochs {ea} / {eb}");
    assert!(lost * 100 / sent >= 15, "the loss is real");
    assert!(ea.min(eb) >= 5, "epochs {ea} / {eb} after {sent} messages");
}

/// The carriers on top of 1:1 sessions: a group sender key and a Forkout
/// key slot, each to a first contact through a bundle, are out of the
/// X25519 breaker's reach; the real recipient opens them.
#[test]
fn group_distributions_and_forkout_slots_to_first_contacts_are_post_quantum() {
    let mut rng = rng(66);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(2, &mut rng).unwrap();
    let mut attacker = x25519_breaker(&bob);

    let group_id = GroupId::random(&mut rng);
    let group = Group::new(group_id, *alice.identity(), [*alice.identity(), *bob.identity()], &mut rng).unwrap();
    let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (_, distribution) = group.distribute([&mut to_bob], &mut rng).unwrap().remove(0);
    assert!(SessionMessage::parse(&distribution).unwrap().is_post_quantum_setup());
    let mut attackers_group =
        Group::new(group_id, *bob.identity(), [*alice.identity(), *bob.identity()], &mut rng).unwrap();
    assert!(attackers_group.install_distribution_from_new_session(&mut attacker, &distribution).is_err());
    let mut bobs_group = Group::new(group_id, *bob.identity(), [*alice.identity(), *bob.identity()], &mut rng).unwrap();
    let (session, _) = bobs_group.install_distribution_from_new_session(&mut bob, &distribution).unwrap();
    assert!(session.is_post_quantum());

    let (sealed, report) = forkout::seal(
        &alice,
        b"the plan".to_vec(),
        [Recipient::Bundle(bob.prekey_bundle().unwrap())],
        SealPolicy::AllOrNothing,
        None,
        &mut rng,
    )
    .unwrap();
    assert!(report.new_sessions.iter().all(|s| s.is_post_quantum()));
    let (_, delivery) = sealed.deliveries().next().unwrap();
    let delivery = delivery.to_vec();
    assert!(forkout::open_new(&mut attacker, &delivery, NOW).is_err());
    let (session, opened) = forkout::open_new(&mut bob, &delivery, NOW).unwrap();
    assert_eq!(opened.unwrap().body(), Some(&b"the plan"[..]));
    assert!(session.is_post_quantum());
}
