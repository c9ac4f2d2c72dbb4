//! Replays, the forward-jump bound, skipped-key eviction, size limits and
//! garbage input. Every refusal is a typed error and leaves the state
//! byte-for-byte unchanged (checked by `decrypt_fails`).

use rand::RngExt;
use rand::rngs::StdRng;
use sealpost::SessionError;
use sealpost::limits::{
    MAX_FORWARD_JUMP, MAX_MESSAGE, MAX_PLAINTEXT, MAX_REMEMBERED_CHAINS, MAX_SKIPPED_PER_CHAIN, MAX_SKIPPED_TOTAL,
};
use sealpost::{Account, Error, Persist, PreKeyBundle, Session, WireError};
use sealpost_testkit::*;

const JUMP: u32 = MAX_FORWARD_JUMP;

/// `n` messages from Alice in her current sending chain; message `i` reads
/// "a<i>".
fn burst(c: &mut Conversation, n: usize, rng: &mut StdRng) -> Vec<Vec<u8>> {
    (0..n).map(|i| c.a.encrypt(format!("a{i}").as_bytes(), rng).unwrap()).collect()
}

fn opens(c: &mut Conversation, message: &[u8], i: usize) {
    assert_eq!(c.bob.decrypt(&mut c.b, message).unwrap(), format!("a{i}").as_bytes(), "message {i}");
}

/// Bob answers so that Alice's next message starts a new chain.
fn turn(c: &mut Conversation, rng: &mut StdRng) {
    c.b_to_a(b"turn", rng);
}

#[test]
fn in_chain_replay() {
    let mut rng = rng(30);
    let mut c = Conversation::established(&mut rng);
    let m = burst(&mut c, 3, &mut rng);
    for (i, x) in m.iter().enumerate() {
        opens(&mut c, x, i);
    }
    for x in &m {
        assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, x), Error::DuplicateMessage);
        assert_eq!(session_decrypt_fails(&mut c.b, x), Error::DuplicateMessage);
    }
    c.a_to_b(b"still in sync", &mut rng);
}

#[test]
fn skipped_key_replay() {
    let mut rng = rng(31);
    let mut c = Conversation::established(&mut rng);
    let m = burst(&mut c, 4, &mut rng);
    opens(&mut c, &m[3], 3);
    assert_eq!(c.b.skipped_key_count(), 3);
    opens(&mut c, &m[1], 1);
    assert_eq!(c.b.skipped_key_count(), 2);
    // The used skipped key is gone; the others remain.
    assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &m[1]), Error::DuplicateMessage);
    assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &m[3]), Error::DuplicateMessage);
    opens(&mut c, &m[0], 0);
    opens(&mut c, &m[2], 2);
    assert_eq!(c.b.skipped_key_count(), 0);
    for x in &m {
        assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, x), Error::DuplicateMessage);
    }
}

#[test]
fn old_chain_replay() {
    let mut rng = rng(32);
    let OfflineStart { alice, mut bob, mut a, .. } = OfflineStart::new(&mut rng, 2);
    let setup = a.encrypt(b"setup", &mut rng).unwrap();
    let (b, _) = bob.create_inbound_session(&setup).unwrap();
    let mut c = Conversation { alice, bob, a, b };

    // One message per Alice chain; chain k is Alice's (k+1)-th ratchet key.
    let mut chains = vec![setup];
    for k in 1..=MAX_REMEMBERED_CHAINS + 1 {
        turn(&mut c, &mut rng);
        let m = c.a.encrypt(format!("a{k}").as_bytes(), &mut rng).unwrap();
        opens(&mut c, &m, k);
        chains.push(m);
        // Every old chain is still remembered while at most
        // MAX_REMEMBERED_CHAINS of them are old.
        if k <= MAX_REMEMBERED_CHAINS {
            for old in &chains {
                assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, old), Error::DuplicateMessage, "after {k} steps");
            }
        }
    }
    // The replayed setup message can not start a second session either.
    assert_eq!(
        c.bob.clone().create_inbound_session(&chains[0]).map(|_| ()).unwrap_err(),
        Error::Session(SessionError::OneTimePreKeyReused(1))
    );

    // Now the first chain is one too many ago: its replay is still refused
    // and changes nothing, but no longer recognised as a duplicate (it is
    // tried as a new chain and fails authentication).
    assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &chains[0]), Error::AuthenticationFailed);
    for old in &chains[1..] {
        assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, old), Error::DuplicateMessage);
    }
    c.a_to_b(b"still in sync", &mut rng);
}

#[test]
fn replay_on_a_previous_state() {
    let mut rng = rng(33);
    let mut c = Conversation::established(&mut rng);
    let old = burst(&mut c, 2, &mut rng);
    opens(&mut c, &old[0], 0);
    // Alice re-initiates; Bob's old state becomes a previous state.
    let mut a2 = c.alice.create_outbound_session(&fetch_bundle(&c.bob), &mut rng).unwrap();
    let hello = a2.encrypt(b"again", &mut rng).unwrap();
    assert_eq!(c.bob.decrypt(&mut c.b, &hello).unwrap(), b"again");
    assert_eq!(c.b.previous_state_count(), 1);
    opens(&mut c, &old[1], 1);
    for m in [&old[0], &old[1], &hello] {
        assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, m), Error::DuplicateMessage);
        assert_eq!(session_decrypt_fails(&mut c.b, m), Error::DuplicateMessage);
    }
}

#[test]
fn forward_jump_in_a_new_chain() {
    let mut rng = rng(34);
    let mut c = Conversation::established(&mut rng);
    let m = burst(&mut c, JUMP as usize + 2, &mut rng);
    let too_far = JUMP as usize + 1;
    assert_eq!(
        decrypt_fails(&mut c.bob, &mut c.b, &m[too_far]),
        Error::Session(SessionError::ForwardJumpTooLarge { jump: u64::from(JUMP) + 1, max: u64::from(JUMP) })
    );
    // Exactly at the bound works and stores every skipped key.
    opens(&mut c, &m[JUMP as usize], JUMP as usize);
    assert_eq!(c.b.skipped_key_count(), JUMP as usize);
    opens(&mut c, &m[too_far], too_far);
    opens(&mut c, &m[0], 0);
    opens(&mut c, &m[JUMP as usize - 1], JUMP as usize - 1);
    assert_eq!(c.b.skipped_key_count(), JUMP as usize - 2);
}

#[test]
fn forward_jump_within_a_chain() {
    let mut rng = rng(35);
    let mut c = Conversation::established(&mut rng);
    let m = burst(&mut c, JUMP as usize + 3, &mut rng);
    opens(&mut c, &m[0], 0);
    // The chain now expects message 1: message 1 + JUMP + 1 is too far.
    let too_far = JUMP as usize + 2;
    assert_eq!(
        decrypt_fails(&mut c.bob, &mut c.b, &m[too_far]),
        Error::Session(SessionError::ForwardJumpTooLarge { jump: u64::from(JUMP) + 1, max: u64::from(JUMP) })
    );
    opens(&mut c, &m[too_far - 1], too_far - 1);
    opens(&mut c, &m[too_far], too_far);
    assert_eq!(c.b.skipped_key_count(), JUMP as usize);
}

/// A new chain also closes the previous one up to its announced length:
/// that gap counts against the bound too.
#[test]
fn forward_jump_when_closing_the_previous_chain() {
    let mut rng = rng(36);
    let mut c = Conversation::established(&mut rng);
    let m = burst(&mut c, JUMP as usize + 2, &mut rng);
    opens(&mut c, &m[0], 0);
    turn(&mut c, &mut rng);
    // Announces a previous chain of JUMP + 2 messages; Bob has read 1.
    let next = c.a.encrypt(b"next chain", &mut rng).unwrap();
    assert_eq!(
        decrypt_fails(&mut c.bob, &mut c.b, &next),
        Error::Session(SessionError::ForwardJumpTooLarge { jump: u64::from(JUMP) + 1, max: u64::from(JUMP) })
    );
    // After one more message of the old chain the gap is exactly the bound.
    opens(&mut c, &m[1], 1);
    assert_eq!(c.bob.decrypt(&mut c.b, &next).unwrap(), b"next chain");
    assert_eq!(c.b.skipped_key_count(), JUMP as usize);
    opens(&mut c, &m[JUMP as usize + 1], JUMP as usize + 1);
}

#[test]
fn skipped_keys_evicted_per_chain_oldest_first() {
    let mut rng = rng(37);
    let mut c = Conversation::established(&mut rng);
    let per_chain = MAX_SKIPPED_PER_CHAIN;
    let m = burst(&mut c, 2 * per_chain + 1, &mut rng);
    opens(&mut c, &m[per_chain], per_chain); // stores 0..per_chain
    assert_eq!(c.b.skipped_key_count(), per_chain);
    opens(&mut c, &m[2 * per_chain], 2 * per_chain); // stores per_chain+1..2*per_chain
    // per_chain - 1 more keys were stored, so as many of the oldest went.
    let evicted = per_chain - 1;
    assert_eq!(c.b.skipped_key_count(), per_chain);
    for i in [0, evicted / 2, evicted - 1] {
        assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &m[i]), Error::DuplicateMessage, "evicted {i}");
    }
    opens(&mut c, &m[evicted], evicted);
    opens(&mut c, &m[2 * per_chain - 1], 2 * per_chain - 1);
    opens(&mut c, &m[per_chain + 1], per_chain + 1);
}

#[test]
fn skipped_keys_evicted_in_total_oldest_first() {
    let mut rng = rng(38);
    let mut c = Conversation::established(&mut rng);
    let per_chain = MAX_FORWARD_JUMP as usize;
    assert_eq!(MAX_SKIPPED_TOTAL, 2 * per_chain, "the test fills the total with two full chains");
    // Two chains with a full jump each fill the total bound.
    let c1 = burst(&mut c, per_chain + 1, &mut rng);
    opens(&mut c, &c1[per_chain], per_chain);
    turn(&mut c, &mut rng);
    let c2 = burst(&mut c, per_chain + 1, &mut rng);
    opens(&mut c, &c2[per_chain], per_chain);
    assert_eq!(c.b.skipped_key_count(), MAX_SKIPPED_TOTAL);
    // A third chain skipping `extra` keys evicts the oldest `extra`: the
    // start of the first chain.
    turn(&mut c, &mut rng);
    let extra = 500;
    let c3 = burst(&mut c, extra + 1, &mut rng);
    opens(&mut c, &c3[extra], extra);
    assert_eq!(c.b.skipped_key_count(), MAX_SKIPPED_TOTAL);
    for i in [0, extra - 1] {
        assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &c1[i]), Error::DuplicateMessage, "first chain, {i}");
    }
    opens(&mut c, &c1[extra], extra);
    opens(&mut c, &c1[per_chain - 1], per_chain - 1);
    opens(&mut c, &c2[0], 0);
    opens(&mut c, &c3[extra - 1], extra - 1);
    opens(&mut c, &c3[0], 0);
    assert_eq!(c.b.skipped_key_count(), MAX_SKIPPED_TOTAL - 5);
}

#[test]
fn plaintext_size_limit() {
    let mut rng = rng(39);
    let mut c = Conversation::established(&mut rng);
    let before = c.a.to_bytes().to_vec();
    let too_big = vec![0x61u8; MAX_PLAINTEXT + 1];
    assert_eq!(
        c.a.encrypt(&too_big, &mut rng).unwrap_err(),
        Error::TooLarge { what: "plaintext", len: MAX_PLAINTEXT + 1, max: MAX_PLAINTEXT }
    );
    assert_eq!(*c.a.to_bytes(), before, "a refused encrypt changed the session");
    // Exactly at the limit is fine.
    let largest = &too_big[..MAX_PLAINTEXT];
    let m = c.a.encrypt(largest, &mut rng).unwrap();
    assert!(m.len() <= MAX_MESSAGE);
    assert_eq!(c.bob.decrypt(&mut c.b, &m).unwrap(), largest);
    drop(m);
    // A message over the message limit is refused before any work.
    let mut huge = c.a.encrypt(b"x", &mut rng).unwrap();
    huge.resize(MAX_MESSAGE + 1, 0);
    assert_eq!(
        decrypt_fails(&mut c.bob, &mut c.b, &huge),
        WireError::TooLarge { what: "message", len: MAX_MESSAGE + 1, max: MAX_MESSAGE }.into()
    );
    c.a_to_b(b"still in sync", &mut rng);
}

fn garbage(rng: &mut StdRng) -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![1], vec![1, 2], vec![1, 3], vec![0; 200], vec![0xff; 200]];
    for _ in 0..300 {
        let len = rng.random_range(0..300usize);
        let mut v: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        // Give most inputs a valid version and a plausible type byte.
        if len >= 2 && rng.random_bool(0.8) {
            v[0] = 1;
            v[1] = *[0x01u8, 0x02, 0x03, 0x30, 0x31, 0x3f].get(rng.random_range(0..6usize)).unwrap();
        }
        inputs.push(v);
    }
    inputs
}

#[test]
fn garbage_and_empty_input() {
    let mut rng = rng(40);
    let mut c = Conversation::established(&mut rng);
    let mut input_rng = sealpost_testkit::rng(41);
    assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &[]), WireError::Truncated { needed: 1 }.into());
    assert_eq!(session_decrypt_fails(&mut c.b, &[]), WireError::Truncated { needed: 1 }.into());
    assert_eq!(c.bob.create_inbound_session(&[]).map(|_| ()).unwrap_err(), WireError::Truncated { needed: 1 }.into());
    assert_eq!(PreKeyBundle::from_bytes(&[]).unwrap_err(), WireError::Truncated { needed: 1 }.into());
    assert_eq!(Session::from_bytes(&[]).unwrap_err(), WireError::Truncated { needed: 1 }.into());
    assert_eq!(Account::from_bytes(&[]).unwrap_err(), WireError::Truncated { needed: 1 }.into());
    assert_eq!(Session::import_encrypted(&[0; 32], &[]).unwrap_err(), WireError::Truncated { needed: 1 }.into());

    let account_before = c.bob.to_bytes().to_vec();
    for input in garbage(&mut input_rng) {
        decrypt_fails(&mut c.bob, &mut c.b, &input);
        decrypt_fails(&mut c.alice, &mut c.a, &input);
        session_decrypt_fails(&mut c.b, &input);
        assert!(c.bob.create_inbound_session(&input).is_err());
        assert_eq!(*c.bob.to_bytes(), account_before);
        assert!(PreKeyBundle::from_bytes(&input).is_err());
        assert!(Session::from_bytes(&input).is_err());
        assert!(Account::from_bytes(&input).is_err());
        assert!(Session::import_encrypted(&[0; 32], &input).is_err());
        assert!(Account::import_encrypted(&[0; 32], &input).is_err());
    }
    c.a_to_b(b"still in sync", &mut rng);
    c.b_to_a(b"both ways", &mut rng);
}
