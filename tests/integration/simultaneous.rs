//! Sessions that do not start neatly: both sides initiate at once, setup
//! messages arrive late or not at all, and a peer re-initiates while old
//! messages are still in flight.

use std::collections::HashSet;

use rand::RngExt;
use rand::rngs::StdRng;
use sealpost::limits::MAX_PREVIOUS_STATES;
use sealpost::{Account, Error, Session};
use sealpost_testkit::*;

/// Base key of a setup message (bytes 34..66), `None` for a ratchet message.
fn setup_base_key(message: &[u8]) -> Option<[u8; 32]> {
    (message[1] == 0x03).then(|| message[34..66].try_into().unwrap())
}

struct Side {
    name: &'static str,
    account: Account,
    session: Session,
    /// Base keys of the states this side holds (its own initiation, and
    /// every setup message it has accepted).
    known: HashSet<[u8; 32]>,
    /// Messages addressed to this side, not yet delivered.
    inbox: Vec<(Vec<u8>, Vec<u8>)>,
    sent: usize,
    /// Base key of the state this side initiated.
    initiated: [u8; 32],
}

impl Side {
    fn new(name: &'static str, account: Account, session: Session) -> Self {
        let known = HashSet::from([session.session_id()]);
        let initiated = session.session_id();
        Self { name, account, session, known, inbox: Vec::new(), sent: 0, initiated }
    }
}

/// Both sides start a session from the other's bundle before either has
/// received anything.
fn simultaneous_start(rng: &mut StdRng) -> (Side, Side) {
    let (mut alice, bob) = accounts(rng, 4);
    alice.generate_one_time_prekeys(4, rng).unwrap();
    let a = alice.create_outbound_session(&fetch_bundle(&bob), rng).unwrap();
    let b = bob.create_outbound_session(&fetch_bundle(&alice), rng).unwrap();
    assert_ne!(a.session_id(), b.session_id());
    (Side::new("alice", alice, a), Side::new("bob", bob, b))
}

fn send(from: &mut Side, to: &mut Side, rng: &mut StdRng) {
    let text = format!("{} #{}", from.name, from.sent).into_bytes();
    from.sent += 1;
    let m = from.session.encrypt(&text, rng).unwrap();
    to.inbox.push((m, text));
}

/// Delivers `to.inbox[pick]`; returns whether it was a setup message for a
/// state the receiver did not hold, arriving after the receiver's current
/// state was confirmed. The library must treat that as the peer
/// re-initiating (it cannot tell it apart from one), and adopt it.
fn deliver(to: &mut Side, pick: usize) -> bool {
    let (m, text) = to.inbox.remove(pick);
    let late_new_state = setup_base_key(&m).is_some_and(|k| !to.known.contains(&k)) && to.session.is_confirmed();
    assert_eq!(to.account.decrypt(&mut to.session, &m).unwrap(), text, "{} reading {:?}", to.name, text);
    // Every message opens exactly once.
    assert_eq!(decrypt_fails(&mut to.account, &mut to.session, &m), Error::DuplicateMessage);
    if let Some(k) = setup_base_key(&m) {
        to.known.insert(k);
    }
    if late_new_state {
        assert_eq!(to.session.session_id(), setup_base_key(&m).unwrap(), "late setup message adopted");
    }
    late_new_state
}

/// Both directions keep working.
fn exchange(alice: &mut Side, bob: &mut Side, rounds: usize, rng: &mut StdRng) {
    for _ in 0..rounds {
        send(alice, bob, rng);
        assert!(!deliver(bob, 0));
        send(bob, alice, rng);
        assert!(!deliver(alice, 0));
    }
}

#[derive(Clone, Copy, Debug)]
enum Order {
    AliceFirst,
    BobFirst,
    Interleaved,
    ReversedInterleaved,
    Crossing,
}

#[test]
fn both_initiate_then_deliveries_interleave() {
    for seed in 0..6u64 {
        for order in
            [Order::AliceFirst, Order::BobFirst, Order::Interleaved, Order::ReversedInterleaved, Order::Crossing]
        {
            let mut rng = rng(100 + seed);
            let (mut alice, mut bob) = simultaneous_start(&mut rng);
            for _ in 0..3 {
                send(&mut alice, &mut bob, &mut rng);
                send(&mut bob, &mut alice, &mut rng);
            }
            match order {
                Order::AliceFirst => {
                    (0..3).for_each(|_| assert!(!deliver(&mut bob, 0)));
                    (0..3).for_each(|_| assert!(!deliver(&mut alice, 0)));
                }
                Order::BobFirst => {
                    (0..3).for_each(|_| assert!(!deliver(&mut alice, 0)));
                    (0..3).for_each(|_| assert!(!deliver(&mut bob, 0)));
                }
                Order::Interleaved => {
                    for _ in 0..3 {
                        assert!(!deliver(&mut bob, 0));
                        assert!(!deliver(&mut alice, 0));
                    }
                }
                Order::ReversedInterleaved => {
                    for i in (0..3).rev() {
                        assert!(!deliver(&mut alice, i));
                        assert!(!deliver(&mut bob, i));
                    }
                }
                Order::Crossing => {
                    // Each reads one message, then both answer at once
                    // before reading the rest.
                    assert!(!deliver(&mut alice, 1));
                    assert!(!deliver(&mut bob, 2));
                    send(&mut alice, &mut bob, &mut rng);
                    send(&mut bob, &mut alice, &mut rng);
                    while !bob.inbox.is_empty() {
                        let last = bob.inbox.len() - 1;
                        assert!(!deliver(&mut bob, last));
                    }
                    while !alice.inbox.is_empty() {
                        assert!(!deliver(&mut alice, 0));
                    }
                }
            }
            // Converged on the state started by the lower identity key.
            assert_eq!(alice.session.session_id(), bob.session.session_id(), "{order:?}, seed {seed}");
            let alice_lower = alice.account.identity() < bob.account.identity();
            let winner = if alice_lower { &alice } else { &bob };
            assert_eq!(alice.session.session_id(), winner.initiated, "{order:?}, seed {seed}");
            assert_eq!(alice.session.previous_state_count(), 1);
            assert_eq!(bob.session.previous_state_count(), 1);
            let id = alice.session.session_id();
            exchange(&mut alice, &mut bob, 3, &mut rng);
            exchange(&mut bob, &mut alice, 3, &mut rng);
            assert_eq!(alice.session.session_id(), id);
            assert_eq!(bob.session.session_id(), id);
            assert!(alice.session.is_confirmed() && bob.session.is_confirmed());
        }
    }
}

/// Random schedules of sends and deliveries (in any order) after a
/// simultaneous start. Every message opens exactly once. When no setup
/// message for an unknown state arrived after its receiver had confirmed
/// its current state, both sides end on the same state; otherwise the
/// receiver took the late setup message as a re-initiation (by design:
/// the two cases are indistinguishable on the wire) and the sides may
/// stay on different states, but traffic keeps working both ways.
#[test]
fn random_schedules_after_simultaneous_start() {
    let (mut converged, mut adopted_late) = (0, 0);
    for seed in 0..60u64 {
        let mut rng = rng(1000 + seed);
        let mut schedule = sealpost_testkit::rng(5000 + seed);
        let (mut alice, mut bob) = simultaneous_start(&mut rng);
        let mut late = false;
        let sends = 4;
        while alice.sent < sends || bob.sent < sends || !alice.inbox.is_empty() || !bob.inbox.is_empty() {
            match schedule.random_range(0..4u8) {
                0 if alice.sent < sends => send(&mut alice, &mut bob, &mut rng),
                1 if bob.sent < sends => send(&mut bob, &mut alice, &mut rng),
                2 if !bob.inbox.is_empty() => {
                    let pick = schedule.random_range(0..bob.inbox.len());
                    late |= deliver(&mut bob, pick);
                }
                3 if !alice.inbox.is_empty() => {
                    let pick = schedule.random_range(0..alice.inbox.len());
                    late |= deliver(&mut alice, pick);
                }
                _ => {}
            }
        }
        if late {
            adopted_late += 1;
        } else {
            converged += 1;
            assert_eq!(alice.session.session_id(), bob.session.session_id(), "seed {seed}");
        }
        let (a_id, b_id) = (alice.session.session_id(), bob.session.session_id());
        exchange(&mut alice, &mut bob, 2, &mut rng);
        exchange(&mut bob, &mut alice, 2, &mut rng);
        assert_eq!((alice.session.session_id(), bob.session.session_id()), (a_id, b_id), "seed {seed}");
    }
    // Both branches were exercised.
    assert!(converged > 10 && adopted_late > 0, "converged {converged}, adopted late {adopted_late}");
}

/// The ambiguous case spelled out: the state of the side with the lower
/// identity key ("low") wins the tie-break, the other side ("high") answers
/// in it, and only then does high's own first setup message reach low. On
/// the wire that is indistinguishable from high re-initiating, so low adopts
/// it (as documented in `session.rs` and docs/PROTOCOL.md). The two sides
/// then send on different states, each reading the other's in a previous
/// state: nothing is lost, but they do not converge.
#[test]
fn late_setup_after_winner_confirmed_is_taken_as_reinitiation() {
    let mut rng = rng(7);
    for _ in 0..8 {
        let (mut alice, mut bob) = simultaneous_start(&mut rng);
        // Name the sides so that `low` has the lower identity key.
        let (low, high) = if alice.account.identity() < bob.account.identity() {
            (&mut alice, &mut bob)
        } else {
            (&mut bob, &mut alice)
        };
        send(high, low, &mut rng); // high's own setup message, delayed
        send(low, high, &mut rng); // low's setup message
        assert!(!deliver(high, 0)); // high adopts low's state (tie-break)
        assert_eq!(high.session.session_id(), low.session.session_id());
        send(high, low, &mut rng); // high answers in low's state
        assert!(!deliver(low, 1)); // low's state is now confirmed
        assert!(low.session.is_confirmed());
        let agreed = low.session.session_id();
        assert!(deliver(low, 0)); // the late setup message: adopted
        assert_ne!(low.session.session_id(), agreed);
        // Traffic still flows both ways, on the two states.
        exchange(low, high, 3, &mut rng);
        exchange(high, low, 3, &mut rng);
    }
}

/// Not simultaneous: Alice's setup messages reach Bob after he replied and
/// after Alice's later (non-setup) messages. They open in the same state.
#[test]
fn setup_messages_delivered_after_replies() {
    let mut rng = rng(20);
    let OfflineStart { alice, mut bob, mut a, .. } = OfflineStart::new(&mut rng, 2);
    let setups: Vec<_> = (0..4).map(|i| a.encrypt(format!("setup {i}").as_bytes(), &mut rng).unwrap()).collect();
    assert!(setups.iter().all(|m| setup_base_key(m) == Some(a.session_id())));

    let (mut b, text) = bob.create_inbound_session(&setups[1]).unwrap();
    assert_eq!(text, b"setup 1");
    let reply = b.encrypt(b"reply", &mut rng).unwrap();
    let mut alice = alice;
    assert_eq!(alice.decrypt(&mut a, &reply).unwrap(), b"reply");
    let after = a.encrypt(b"after reply", &mut rng).unwrap();
    assert_eq!(setup_base_key(&after), None, "confirmed: no more setup data");
    assert_eq!(bob.decrypt(&mut b, &after).unwrap(), b"after reply");

    for i in [3usize, 0, 2] {
        assert_eq!(bob.decrypt(&mut b, &setups[i]).unwrap(), format!("setup {i}").as_bytes());
    }
    assert_eq!(b.session_id(), a.session_id());
    assert_eq!(b.previous_state_count(), 0);
    assert_eq!(bob.remaining_one_time_prekeys(), 1);
    for m in &setups {
        assert_eq!(decrypt_fails(&mut bob, &mut b, m), Error::DuplicateMessage);
    }
    let m = b.encrypt(b"still fine", &mut rng).unwrap();
    assert_eq!(alice.decrypt(&mut a, &m).unwrap(), b"still fine");
}

/// The first message is lost for a while: Bob builds the session from the
/// second one; the first, arriving late, still opens.
#[test]
fn lost_first_message_arrives_late() {
    let mut rng = rng(21);
    let OfflineStart { mut alice, mut bob, mut a, .. } = OfflineStart::new(&mut rng, 2);
    let first = a.encrypt(b"first", &mut rng).unwrap();
    let second = a.encrypt(b"second", &mut rng).unwrap();

    let (mut b, text) = bob.create_inbound_session(&second).unwrap();
    assert_eq!(text, b"second");
    assert_eq!(b.skipped_key_count(), 1);
    let reply = b.encrypt(b"got your second", &mut rng).unwrap();
    assert_eq!(alice.decrypt(&mut a, &reply).unwrap(), b"got your second");
    let mut b_before_first = b.clone();

    assert_eq!(bob.decrypt(&mut b, &first).unwrap(), b"first");
    assert_eq!(b.skipped_key_count(), 0);
    assert_eq!(bob.remaining_one_time_prekeys(), 1);
    assert_eq!(decrypt_fails(&mut bob, &mut b, &first), Error::DuplicateMessage);
    // Session::decrypt alone handles it too (the state already exists).
    assert_eq!(b_before_first.decrypt(&first).unwrap(), b"first");
    let m = a.encrypt(b"onwards", &mut rng).unwrap();
    assert_eq!(bob.decrypt(&mut b, &m).unwrap(), b"onwards");
}

/// Alice re-initiates (a new outbound session from a fresh bundle) while
/// messages of the old session are still in flight: the new state becomes
/// current on Bob's side and the old messages open in the previous state.
/// Only MAX_PREVIOUS_STATES previous states are kept.
#[test]
fn peer_reinitiates_and_old_messages_still_open() {
    let mut rng = rng(22);
    let mut c = Conversation::established(&mut rng);
    c.bob.generate_one_time_prekeys(10, &mut rng).unwrap();
    c.a_to_b(b"old state", &mut rng);

    // In flight from each of Alice's successive sessions.
    let mut in_flight: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut alice_session = c.a;
    let states = MAX_PREVIOUS_STATES + 2;
    for generation in 0..states {
        let text = format!("in flight from generation {generation}").into_bytes();
        in_flight.push((alice_session.encrypt(&text, &mut rng).unwrap(), text));
        // Alice loses or discards her session and starts over.
        alice_session = c.alice.create_outbound_session(&fetch_bundle(&c.bob), &mut rng).unwrap();
        let hello = alice_session.encrypt(b"starting over", &mut rng).unwrap();
        assert_eq!(c.bob.decrypt(&mut c.b, &hello).unwrap(), b"starting over");
        assert_eq!(c.b.session_id(), alice_session.session_id(), "re-initiation becomes current");
        assert_eq!(c.b.previous_state_count(), (generation + 1).min(MAX_PREVIOUS_STATES));
        // Bob's answers reach the new session.
        let answer = c.b.encrypt(b"welcome back", &mut rng).unwrap();
        assert_eq!(alice_session.decrypt(&answer).unwrap(), b"welcome back");
    }

    // The newest MAX_PREVIOUS_STATES generations' messages still open; the
    // older ones' states were dropped: a typed error, nothing changes.
    for (generation, (m, text)) in in_flight.iter().enumerate().rev() {
        if generation + MAX_PREVIOUS_STATES >= states {
            assert_eq!(c.bob.decrypt(&mut c.b, m).unwrap(), *text, "generation {generation}");
            assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, m), Error::DuplicateMessage);
        } else {
            let e = decrypt_fails(&mut c.bob, &mut c.b, m);
            assert_eq!(e, Error::AuthenticationFailed, "generation {generation}");
        }
    }
    // Reading old messages did not move Bob off the newest state.
    assert_eq!(c.b.session_id(), alice_session.session_id());
    let m = alice_session.encrypt(b"on the new state", &mut rng).unwrap();
    assert_eq!(c.bob.decrypt(&mut c.b, &m).unwrap(), b"on the new state");
    let m = c.b.encrypt(b"and back", &mut rng).unwrap();
    assert_eq!(alice_session.decrypt(&m).unwrap(), b"and back");
}
