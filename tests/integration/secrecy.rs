//! What an attacker who steals a party's complete serialized state can and
//! cannot read.
//!
//! * Forward secrecy: a state stolen after a message was read does not
//!   open that message or any earlier one (their keys are deleted, chain
//!   keys only move forward).
//! * Post-compromise security: a stolen state keeps opening messages only
//!   until both sides have completed a DH-ratchet step with fresh
//!   randomness; after that it opens nothing new, in either direction.

use sealpost::{Error, Session};
use sealpost_testkit::*;

/// The attacker's copy: the victim's session, exported and imported.
fn steal(session: &Session) -> Session {
    Session::from_bytes(&session.to_bytes()).unwrap()
}

#[test]
fn forward_secrecy_stolen_state_cannot_open_read_messages() {
    let mut rng = rng(50);
    let mut c = Conversation::established(&mut rng);
    // An earlier chain, read completely.
    let earlier: Vec<_> = (0..3).map(|i| c.a.encrypt(format!("earlier {i}").as_bytes(), &mut rng).unwrap()).collect();
    for (i, m) in earlier.iter().enumerate() {
        assert_eq!(c.bob.decrypt(&mut c.b, m).unwrap(), format!("earlier {i}").as_bytes());
    }
    c.b_to_a(b"new ratchet step", &mut rng);
    // The current chain: Bob reads messages 0..=k, then his state is stolen.
    let k = 3;
    let current: Vec<_> = (0..6).map(|i| c.a.encrypt(format!("current {i}").as_bytes(), &mut rng).unwrap()).collect();
    for (i, m) in current.iter().enumerate().take(k + 1) {
        assert_eq!(c.bob.decrypt(&mut c.b, m).unwrap(), format!("current {i}").as_bytes());
    }
    let stolen = c.b.to_bytes();

    // Nothing already read opens with the stolen state: not message k, not
    // an earlier message of its chain, not a message of an earlier chain.
    for m in current[..=k].iter().chain(&earlier) {
        let mut attacker = Session::from_bytes(&stolen).unwrap();
        assert_eq!(attacker.decrypt(m).unwrap_err(), Error::DuplicateMessage);
    }
    // No skipped key is kept, and the key material that is kept (root and
    // chain keys) only derives later keys.
    assert_eq!(Session::from_bytes(&stolen).unwrap().skipped_key_count(), 0);

    // What the stolen state does open: later messages of the current chain
    // (forward secrecy protects the past, not the future; see the
    // post-compromise tests for how the future heals).
    let mut attacker = Session::from_bytes(&stolen).unwrap();
    assert_eq!(attacker.decrypt(&current[k + 1]).unwrap(), format!("current {}", k + 1).as_bytes());
}

/// The documented cost of out-of-order delivery: a message not yet read when
/// the state was stolen still has its key stored, so the thief can read it.
/// Once read, it cannot.
#[test]
fn forward_secrecy_covers_unread_messages_only_once_read() {
    let mut rng = rng(51);
    let mut c = Conversation::established(&mut rng);
    let m: Vec<_> = (0..3).map(|i| c.a.encrypt(format!("m{i}").as_bytes(), &mut rng).unwrap()).collect();
    assert_eq!(c.bob.decrypt(&mut c.b, &m[2]).unwrap(), b"m2");
    let stolen_while_unread = steal(&c.b);
    assert_eq!(c.bob.decrypt(&mut c.b, &m[0]).unwrap(), b"m0");
    let stolen_after = steal(&c.b);

    assert_eq!(steal(&stolen_while_unread).decrypt(&m[0]).unwrap(), b"m0");
    assert_eq!(steal(&stolen_after).decrypt(&m[0]).unwrap_err(), Error::DuplicateMessage);
    assert_eq!(steal(&stolen_after).decrypt(&m[1]).unwrap(), b"m1");
    assert_eq!(steal(&stolen_after).decrypt(&m[2]).unwrap_err(), Error::DuplicateMessage);
}

/// A passive attacker holding a stolen copy of a session tries every later
/// message in order, updating the copy whenever it succeeds.
struct Eavesdropper {
    copy: Session,
}

impl Eavesdropper {
    fn try_read(&mut self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.copy.decrypt(message)
    }
}

/// Both sides' complete states are stolen at time t (the worst case; it
/// includes stealing either one). The copies read what follows until both
/// parties have sent and received after t with fresh ratchet keys, then
/// nothing, in either direction.
#[test]
fn post_compromise_security_both_directions() {
    let mut rng = rng(52);
    let mut c = Conversation::established(&mut rng);
    c.a_to_b(b"before the compromise", &mut rng);

    // Time t: Bob has just read a message, Alice has just sent it.
    let mut eve_as_bob = Eavesdropper { copy: steal(&c.b) };
    let mut eve_as_alice = Eavesdropper { copy: steal(&c.a) };

    // Alice continues her chain: the copy of Bob reads it.
    let m1 = c.a.encrypt(b"m1: same chain", &mut rng).unwrap();
    assert_eq!(eve_as_bob.try_read(&m1).unwrap(), b"m1: same chain");
    assert_eq!(c.bob.decrypt(&mut c.b, &m1).unwrap(), b"m1: same chain");

    // Bob answers with a fresh ratchet key. The new chain mixes
    // DH(Bob's fresh key, Alice's key at t), and the copy of Alice holds
    // Alice's key at t: it reads the answer.
    let r1 = c.b.encrypt(b"r1: bob ratchets", &mut rng).unwrap();
    assert_eq!(eve_as_alice.try_read(&r1).unwrap(), b"r1: bob ratchets");
    assert_eq!(c.alice.decrypt(&mut c.a, &r1).unwrap(), b"r1: bob ratchets");

    // Alice answers with her own fresh key: DH(Alice's fresh key, Bob's
    // fresh key) involves no secret from time t. From now on the copies
    // read nothing, in either direction, however long they keep trying.
    for round in 0..4 {
        let to_bob = c.a.encrypt(format!("to bob {round}").as_bytes(), &mut rng).unwrap();
        let to_bob_2 = c.a.encrypt(format!("to bob {round}b").as_bytes(), &mut rng).unwrap();
        for m in [&to_bob, &to_bob_2] {
            let before = eve_as_bob.copy.to_bytes();
            assert_eq!(eve_as_bob.try_read(m).unwrap_err(), Error::AuthenticationFailed, "round {round}");
            assert_eq!(eve_as_bob.copy.to_bytes(), before);
        }
        assert_eq!(c.bob.decrypt(&mut c.b, &to_bob).unwrap(), format!("to bob {round}").as_bytes());
        assert_eq!(c.bob.decrypt(&mut c.b, &to_bob_2).unwrap(), format!("to bob {round}b").as_bytes());

        let to_alice = c.b.encrypt(format!("to alice {round}").as_bytes(), &mut rng).unwrap();
        assert_eq!(eve_as_alice.try_read(&to_alice).unwrap_err(), Error::AuthenticationFailed, "round {round}");
        assert_eq!(c.alice.decrypt(&mut c.a, &to_alice).unwrap(), format!("to alice {round}").as_bytes());
    }
}

/// Only one side's state is stolen, at a moment when that side has a
/// pending ratchet step: the copy reads the peer's messages until the
/// victim's fresh key has been answered.
#[test]
fn post_compromise_security_one_side() {
    let mut rng = rng(53);
    let mut c = Conversation::established(&mut rng);
    for i in 0..3 {
        c.a_to_b(format!("warm-up {i}").as_bytes(), &mut rng);
        c.b_to_a(format!("warm-up reply {i}").as_bytes(), &mut rng);
    }
    c.a_to_b(b"last before t", &mut rng);
    let mut eve = Eavesdropper { copy: steal(&c.b) };

    // Alice keeps sending in her chain: readable by the copy.
    let alice_chain: Vec<_> = (0..3).map(|i| c.a.encrypt(format!("a{i}").as_bytes(), &mut rng).unwrap()).collect();
    for (i, m) in alice_chain.iter().enumerate() {
        assert_eq!(eve.try_read(m).unwrap(), format!("a{i}").as_bytes());
        assert_eq!(c.bob.decrypt(&mut c.b, m).unwrap(), format!("a{i}").as_bytes());
    }
    // Bob (the victim) sends with a fresh key and Alice answers it: the
    // copy, which lacks Bob's fresh secret, is locked out.
    c.b_to_a(b"fresh key", &mut rng);
    let healed: Vec<_> = (0..3).map(|i| c.a.encrypt(format!("h{i}").as_bytes(), &mut rng).unwrap()).collect();
    for (i, m) in healed.iter().enumerate() {
        assert_eq!(eve.try_read(m).unwrap_err(), Error::AuthenticationFailed);
        assert_eq!(c.bob.decrypt(&mut c.b, m).unwrap(), format!("h{i}").as_bytes());
    }
    // Also after the copy "catches up" with messages in between it missed.
    c.b_to_a(b"another step", &mut rng);
    let later = c.a.encrypt(b"later", &mut rng).unwrap();
    assert_eq!(eve.try_read(&later).unwrap_err(), Error::AuthenticationFailed);
    assert_eq!(c.bob.decrypt(&mut c.b, &later).unwrap(), b"later");
}

/// The victim's next ratchet key comes from fresh randomness, not from the
/// stolen state: a copy encrypting from the same state picks a different
/// key, and the peer's answer to the victim's key is unreadable for it.
#[test]
fn stolen_state_does_not_predict_the_victims_next_ratchet_key() {
    let mut rng = rng(54);
    let mut c = Conversation::established(&mut rng);
    c.a_to_b(b"bob has a pending ratchet step", &mut rng);
    let mut copy = steal(&c.b);
    let mut attacker_rng = sealpost_testkit::rng(999);
    let by_victim = c.b.encrypt(b"same text", &mut rng).unwrap();
    let by_copy = copy.encrypt(b"same text", &mut attacker_rng).unwrap();
    // Same framing, different ratchet key (bytes 2..34) and ciphertext.
    assert_eq!(by_victim.len(), by_copy.len());
    assert_ne!(by_victim[2..34], by_copy[2..34]);
    assert_ne!(by_victim[42..], by_copy[42..]);
    // Alice answers the victim's key: unreadable for the copy.
    assert_eq!(c.alice.decrypt(&mut c.a, &by_victim).unwrap(), b"same text");
    let answer = c.a.encrypt(b"answer", &mut rng).unwrap();
    assert_eq!(copy.decrypt(&answer).unwrap_err(), Error::AuthenticationFailed);
    assert_eq!(c.bob.decrypt(&mut c.b, &answer).unwrap(), b"answer");
}
