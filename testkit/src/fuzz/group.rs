//! Group targets: the message, distribution and state parsers, decryption
//! in a live group, the action program and authenticated malicious
//! content (group content and flags, distributions through every install
//! entry point).

use std::sync::OnceLock;

use rand::rngs::StdRng;
use sealpost::burnout::Envelope;
use sealpost::group::{Group, GroupId, GroupMessage, receive_distribution, receive_distribution_new_session};
use sealpost::limits::{GROUP_OUT_OF_ORDER_WINDOW, MAX_GROUP_STORED_KEYS};
use sealpost::test_hooks;
use sealpost::{Account, Error, IdentityKeyPair, Session};

use super::session::{malicious_pair, reload_account, reload_session};
use super::{NOW_MS, Program, flip, stats};
use crate::rng;

/// Parses a group message; accessors agree with the bytes.
pub fn group_message(data: &[u8]) {
    if let Ok(m) = GroupMessage::parse(data) {
        assert_eq!(data.get(2..34), Some(m.group_id().as_bytes().as_slice()));
        assert_eq!(data.get(34..66), Some(m.sender_bytes().as_slice()));
        let _ = m.sender();
        assert_ne!(m.iteration(), u32::MAX);
    }
    let _ = sealpost::wire::peek_type(data);
}

/// Parses a sender-key distribution: a parsed one re-encodes to the same
/// bytes; installing it into Bob's live group (no 1:1 layer) either
/// succeeds or changes nothing.
pub fn group_distribution(data: &[u8]) {
    let Ok(encoded) = test_hooks::distribution_reencode(data) else { return };
    assert_eq!(encoded.as_slice(), data, "distribution is not canonical");
    let mut bob = live_group().bob.clone();
    let before = bob.to_bytes();
    match test_hooks::group_install_plain(&mut bob, data) {
        Ok(_) => stats::record("group_distribution/installed"),
        Err(_) => assert!(bob.to_bytes() == before, "refused distribution changed the group"),
    }
}

/// A live group conversation, built once from a fixed seed: Bob's view after
/// reading some of Alice's messages out of order (so it holds single skipped
/// keys and a run), Alice's view (to make more valid messages), messages
/// Bob has not read yet, and one he has.
pub struct LiveGroup {
    pub alice: Group,
    pub bob: Group,
    pub unread: Vec<Vec<u8>>,
    pub read: Vec<u8>,
}

pub fn live_group() -> &'static LiveGroup {
    static LIVE: OnceLock<LiveGroup> = OnceLock::new();
    LIVE.get_or_init(|| {
        let mut rng = rng(0x6a0_0b5e);
        let alice_id = *IdentityKeyPair::generate(&mut rng).public();
        let bob_id = *IdentityKeyPair::generate(&mut rng).public();
        let carol_id = *IdentityKeyPair::generate(&mut rng).public();
        let group_id = GroupId::random(&mut rng);
        let mut alice = Group::new(group_id, alice_id, [bob_id, carol_id], &mut rng).unwrap();
        let mut bob = Group::new(group_id, bob_id, [alice_id, carol_id], &mut rng).unwrap();
        test_hooks::group_install_plain(&mut bob, &test_hooks::group_own_distribution(&alice)).unwrap();
        let sent: Vec<Vec<u8>> = (0..=300u32)
            .map(|i| {
                let text = format!("message {i}");
                if i % 7 == 0 {
                    let envelope = Envelope::with_ttl(NOW_MS, 60_000);
                    alice.encrypt_with_envelope(text.as_bytes(), &envelope, &mut rng).unwrap()
                } else {
                    alice.encrypt(text.as_bytes(), &mut rng).unwrap()
                }
            })
            .collect();
        for i in [0usize, 2, 300] {
            bob.decrypt(&sent[i], NOW_MS).unwrap();
        }
        let unread = [1usize, 100, 255, 299].iter().map(|&i| sent[i].clone()).collect();
        LiveGroup { alice, bob, unread, read: sent[2].clone() }
    })
}

/// Decrypts `data` in `group` at `now`: a failure leaves the group
/// byte-for-byte unchanged unless the error uses the key up (an expired or
/// malformed Burnout envelope); whatever was accepted or used up is a
/// duplicate the second time. Returns the plaintext content.
fn group_receive(group: &mut Group, data: &[u8], now: u64) -> Result<Vec<u8>, Error> {
    let before = group.to_bytes();
    let (next_before, stored_before) = (test_hooks::group_receiver_next(group, data), group.stored_key_count());
    match group.decrypt(data, now) {
        Ok(plain) => {
            stats::record("group/accepted");
            record_reached(group, data, next_before, stored_before);
            assert_eq!(group.decrypt(data, now).err(), Some(Error::DuplicateMessage), "group message accepted twice");
            let content = match plain.into_opened() {
                sealpost::burnout::Opened::Message(text) => text,
                sealpost::burnout::Opened::Burnout(m) => {
                    stats::record("group/reached/burnout_envelope_accepted");
                    m.into_plaintext(now).unwrap().to_vec()
                }
            };
            Ok(content)
        }
        Err(e) if test_hooks::consumes_key(&e) => {
            stats::record("group/consumed");
            assert_eq!(group.decrypt(data, now).err(), Some(Error::DuplicateMessage));
            Err(e)
        }
        Err(e) => {
            assert!(group.to_bytes() == before, "failed group decrypt ({e:?}) changed the state");
            Err(e)
        }
    }
}

/// Counts which path of the sender key's receiver an accepted group
/// message took past signature verification (see `fuzz/README.md`, "Share
/// accepted past authentication"): `Receiver::plan` splitting a stored
/// subtree (an iteration below the ratchet), `plan_advance` for the next
/// iteration or past it (storing skipped subtrees), and whether `apply`
/// changed the stored count or the group bound evicted entries.
fn record_reached(group: &Group, data: &[u8], next_before: Option<u32>, stored_before: usize) {
    let (Some(next), Ok(message)) = (next_before, GroupMessage::parse(data)) else { return };
    let iteration = message.iteration();
    stats::record(match iteration.cmp(&next) {
        core::cmp::Ordering::Less => "group/reached/plan_split_stored_subtree",
        core::cmp::Ordering::Equal => "group/reached/plan_advance_next",
        core::cmp::Ordering::Greater => "group/reached/plan_advance_skipping",
    });
    let stored = group.stored_key_count();
    if stored > stored_before {
        stats::record("group/reached/apply_stored_more");
    } else if stored < stored_before {
        stats::record("group/reached/apply_stored_fewer");
    }
    if stored == MAX_GROUP_STORED_KEYS {
        stats::record("group/reached/stored_bound");
    }
    if iteration > next && iteration - next > GROUP_OUT_OF_ORDER_WINDOW {
        stats::record("group/reached/jump_past_window");
    }
}

/// Decrypts arbitrary bytes in a live group: must not panic; a failure
/// leaves the group byte-for-byte unchanged (an expired or malformed
/// Burnout envelope, whose key is consumed by design, excepted).
pub fn group_decrypt(data: &[u8]) {
    let _ = group_receive(&mut live_group().bob.clone(), data, NOW_MS);
}

/// Restores group state; a restored group re-encodes to the same bytes,
/// and is then used for real: it reads the live group's unread messages,
/// rotates and sends, and survives another save and restore unchanged.
pub fn group_state(data: &[u8]) {
    let Ok(mut group) = Group::from_bytes(data) else { return };
    stats::record("group_state/restored");
    assert!(group.to_bytes().as_slice() == data, "group state did not re-encode");
    assert!(group.needs_rotation(), "a loaded group must rotate before it sends");
    let live = live_group();
    for message in live.unread.iter().take(2) {
        let _ = group_receive(&mut group, message, NOW_MS);
    }
    let mut rng = rng(4);
    assert!(group.encrypt(b"before rotating", &mut rng).is_err(), "a loaded group sent without rotating");
    let _ = group.rotate(&mut rng);
    if let Ok(message) = group.encrypt(b"after rotating", &mut rng) {
        GroupMessage::parse(&message).unwrap();
    }
    let bytes = group.to_bytes();
    let again = Group::from_bytes(&bytes).unwrap();
    assert!(again.to_bytes() == bytes, "group changed across a save and restore");
    assert!(group.stored_key_count() <= MAX_GROUP_STORED_KEYS);
}

/// A group of Alice, Bob and Carol whose members have 1:1 sessions with
/// each other (Alice's and Bob's accounts are those of the live 1:1
/// conversation, so Alice can seal distributions to Bob): the fixture of
/// [`group_program`] and [`group_malicious`].
pub struct SessionGroup {
    pub alice: Account,
    pub alice_to_bob: Session,
    pub alice_group: Group,
    pub bob: Account,
    pub bob_from_alice: Session,
    pub bob_group: Group,
}

pub fn session_group() -> &'static SessionGroup {
    static WORLD: OnceLock<SessionGroup> = OnceLock::new();
    WORLD.get_or_init(|| {
        let (alice, alice_to_bob, bob, bob_from_alice) = malicious_pair();
        let mut rng = rng(0x6e0_0b5e);
        let carol = *IdentityKeyPair::generate(&mut rng).public();
        let id = GroupId::random(&mut rng);
        let alice_group = Group::new(id, *alice.identity(), [*bob.identity(), carol], &mut rng).unwrap();
        let mut bob_group = Group::new(id, *bob.identity(), [*alice.identity(), carol], &mut rng).unwrap();
        test_hooks::group_install_plain(&mut bob_group, &test_hooks::group_own_distribution(&alice_group)).unwrap();
        SessionGroup {
            alice: alice.clone(),
            alice_to_bob: alice_to_bob.clone(),
            alice_group,
            bob: bob.clone(),
            bob_from_alice: bob_from_alice.clone(),
            bob_group,
        }
    })
}

/// Iteration jumps a group program can make: around every 256-run and the
/// out-of-order window.
pub const GROUP_JUMPS: [u32; 9] = [1, 255, 256, 257, 2047, 2048, 2303, 2304, 2560];

struct GroupInFlight {
    bytes: Vec<u8>,
    text: Vec<u8>,
    key_id: u32,
    iteration: u32,
    accepted: bool,
}

/// Alice's group as run by a program, Bob receiving; the harness is Alice.
///
/// Operations (one byte, low 3 bits the action, then arguments):
///
/// ```text
/// 0 send       Alice sends (length byte, capped at 64)
/// 1 deliver    message #index (u16) to Bob
/// 2 tamper     deliver #index with one bit flipped (u16 position)
/// 3 jump       Alice sends GROUP_JUMPS[byte % 9] messages that are lost,
///              then one that is queued
/// 4 rotate     Alice rotates and distributes the new key to Bob (queued)
/// 5 distribute deliver distribution #index (u16) to Bob: any order,
///              replays; bit 3 through receive_distribution instead
/// 6 remove     Alice removes Bob (a rotation Bob gets no key for); with
///              bit 3 she adds him back and distributes to him
/// 7 reload     save and restore Bob's group, account and session (bit 3:
///              Alice's group, resumed as the newest save)
/// ```
///
/// Invariants after every action: a message is accepted at most once and
/// only to its text; a tampered one is refused; a refused message or
/// distribution changes no state byte (group, account, session); a
/// restored state encodes as the original; Bob's stored keys stay within
/// `MAX_GROUP_STORED_KEYS`. Liveness: a message under the key Bob holds
/// as Alice's current one is accepted while it is inside the documented
/// out-of-order window (at or after `(newest & !0xff) -
/// GROUP_OUT_OF_ORDER_WINDOW`).
pub fn group_program(data: &[u8]) {
    let world = session_group();
    let mut alice = world.alice_group.clone();
    let mut to_bob = world.alice_to_bob.clone();
    let (mut bob, mut bob_session, mut bob_group) =
        (world.bob.clone(), world.bob_from_alice.clone(), world.bob_group.clone());
    let bob_id = *world.bob.identity();
    let alice_id = *world.alice.identity();
    let mut rng = rng(0x6709);
    let mut flight: Vec<GroupInFlight> = Vec::new();
    let mut distributions: Vec<(Vec<u8>, bool)> = Vec::new();
    let mut newest: Vec<(u32, u32)> = Vec::new();
    let mut p = Program::new(data);
    for _ in 0..48 {
        let Some(op) = p.op() else { break };
        match op & 7 {
            0 => {
                let text = p.bytes(64);
                group_send(&mut alice, &text, &mut flight, &mut rng);
            }
            1 | 2 => {
                if flight.is_empty() {
                    continue;
                }
                let i = p.index(flight.len());
                let mut bytes = flight[i].bytes.clone();
                let tampered = op & 7 == 2;
                if tampered {
                    flip(&mut bytes, p.u16());
                }
                let current = bob_group.member_key_id(&alice_id);
                let m = &mut flight[i];
                match group_receive(&mut bob_group, &bytes, NOW_MS) {
                    Ok(text) => {
                        assert!(!tampered, "tampered group message accepted");
                        assert!(!m.accepted, "group message accepted twice");
                        assert_eq!(text, m.text);
                        m.accepted = true;
                        match newest.iter_mut().find(|(k, _)| *k == m.key_id) {
                            Some(e) => e.1 = e.1.max(m.iteration),
                            None => newest.push((m.key_id, m.iteration)),
                        }
                    }
                    Err(e) => {
                        let top = newest.iter().find(|(k, _)| *k == m.key_id).map_or(0, |e| e.1);
                        let floor = (top & !0xff).saturating_sub(GROUP_OUT_OF_ORDER_WINDOW);
                        if !tampered && !m.accepted && current == Some(m.key_id) && m.iteration >= floor {
                            panic!("group message {} under the current key refused: {e:?}", m.iteration);
                        }
                    }
                }
            }
            3 => {
                let k = GROUP_JUMPS[usize::from(p.byte()) % GROUP_JUMPS.len()];
                for _ in 0..k {
                    if alice.encrypt(b"lost", &mut rng).is_err() {
                        break;
                    }
                }
                group_send(&mut alice, b"after the jump", &mut flight, &mut rng);
                stats::record("group_program/jump");
            }
            4 => {
                let _ = alice.rotate(&mut rng);
                if let Ok(out) = alice.distribute([&mut to_bob], &mut rng) {
                    distributions.extend(out.into_iter().map(|(_, m)| (m, false)));
                }
            }
            5 => {
                if distributions.is_empty() {
                    continue;
                }
                let i = p.index(distributions.len());
                let before = (bob.to_bytes(), bob_session.to_bytes(), bob_group.to_bytes());
                let result = if op & 8 != 0 {
                    receive_distribution(&mut bob, &mut bob_session, &distributions[i].0, |_| Some(&mut bob_group))
                } else {
                    bob_group.install_distribution(&mut bob, &mut bob_session, &distributions[i].0)
                };
                match result {
                    Ok(installed) => {
                        assert!(!distributions[i].1, "distribution accepted twice");
                        distributions[i].1 = true;
                        assert_eq!(installed.sender, alice_id);
                        stats::record("group_program/distribution");
                    }
                    Err(e) => {
                        let after = (bob.to_bytes(), bob_session.to_bytes(), bob_group.to_bytes());
                        assert!(after == before, "refused distribution ({e:?}) changed state");
                    }
                }
            }
            6 => {
                if op & 8 != 0 {
                    if alice.add_member(bob_id).is_ok() {
                        let _ = alice.rotate(&mut rng);
                        if let Ok(out) = alice.distribute([&mut to_bob], &mut rng) {
                            distributions.extend(out.into_iter().map(|(_, m)| (m, false)));
                        }
                    }
                } else if alice.remove_member(&bob_id, &mut rng).is_ok() {
                    stats::record("group_program/removed");
                }
            }
            _ => {
                if op & 8 != 0 {
                    let bytes = alice.to_bytes();
                    alice = Group::from_bytes(&bytes).unwrap();
                    assert!(alice.to_bytes() == bytes, "group changed across a reload");
                    alice.resume_without_rotation();
                } else {
                    let bytes = bob_group.to_bytes();
                    bob_group = Group::from_bytes(&bytes).unwrap();
                    assert!(bob_group.to_bytes() == bytes, "group changed across a reload");
                    reload_account(&mut bob);
                    reload_session(&mut bob_session);
                }
            }
        }
        assert!(bob_group.stored_key_count() <= MAX_GROUP_STORED_KEYS, "group stores too many keys");
        if flight.len() > 32 {
            flight.remove(0);
        }
    }
}

fn group_send(alice: &mut Group, text: &[u8], flight: &mut Vec<GroupInFlight>, rng: &mut StdRng) {
    let Ok(bytes) = alice.encrypt(text, rng) else { return };
    let parsed = GroupMessage::parse(&bytes).unwrap();
    let (key_id, iteration) = (parsed.key_id(), parsed.iteration());
    flight.push(GroupInFlight { bytes, text: text.to_vec(), key_id, iteration, accepted: false });
}

/// Authenticated malicious group content: Alice signs and seals arbitrary
/// bytes with her real sender key, or seals arbitrary bytes as a
/// distribution inside her real 1:1 session with Bob.
///
/// Input: `mode | rest`. Mode bits 0-2:
///
/// ```text
/// 0 group message, envelope flag clear, content = rest
/// 1 group message, envelope flag set, content = rest minus its last
///   (mode >> 3) % 19 bytes, which take the envelope's place; opened at
///   NOW_MS + (first rest byte as i8) minutes
/// 2 distribution payload = rest, through Group::install_distribution
/// 3 ... through group::receive_distribution (group looked up by id)
/// 4 ... through Group::install_distribution_from_new_session (a setup)
/// 5 ... through group::receive_distribution_new_session
/// 6 a 1:1 payload of another kind (mode >> 3) through install_distribution
/// 7 distribution payload = rest, installed without the 1:1 layer
/// ```
///
/// Properties: no panic; a refusal changes no state byte (group, account,
/// session), except a Burnout envelope that uses the key up; whatever was
/// accepted is refused the second time; plain content comes out as sealed.
pub fn group_malicious(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let world = session_group();
    let mut rng = rng(9);
    let mut bob_group = world.bob_group.clone();
    match mode & 7 {
        0 | 1 => {
            let mut alice = world.alice_group.clone();
            let (content, raw, now) = if mode & 7 == 1 {
                let cut = usize::from(mode >> 3) % 19;
                let (c, r) = rest.split_at(rest.len().saturating_sub(cut));
                let skew = rest.first().map_or(0, |&b| i64::from(b as i8));
                (c, Some(r), NOW_MS.saturating_add_signed(skew * 60_000))
            } else {
                (rest, None, NOW_MS)
            };
            let Ok(sealed) = test_hooks::group_seal_raw(&mut alice, content, raw, &mut rng) else { return };
            match group_receive(&mut bob_group, &sealed, now) {
                Ok(text) if raw.is_none() => {
                    assert_eq!(text, content, "plain group content came out changed");
                    stats::record("group_malicious/accepted");
                }
                Ok(_) => stats::record("group_malicious/accepted"),
                Err(_) => stats::record("group_malicious/refused"),
            }
        }
        7 => {
            let before = bob_group.to_bytes();
            if test_hooks::group_install_plain(&mut bob_group, rest).is_ok() {
                stats::record("group_malicious/installed");
            } else {
                assert!(bob_group.to_bytes() == before);
            }
        }
        m => {
            let new_session = matches!(m, 4 | 5);
            let mut sender = if new_session {
                world.alice.create_outbound_session(&world.bob.prekey_bundle_with(None).unwrap(), &mut rng).unwrap()
            } else {
                world.alice_to_bob.clone()
            };
            let kind = if m == 6 { mode >> 3 } else { test_hooks::payload_kind::GROUP_DISTRIBUTION };
            let Ok(sealed) = test_hooks::session_seal_raw(&mut sender, rest, &[kind], &mut rng) else { return };
            let mut bob = world.bob.clone();
            let mut session = world.bob_from_alice.clone();
            for attempt in 0..2 {
                let before = (bob.to_bytes(), session.to_bytes(), bob_group.to_bytes());
                let group_id = *bob_group.id();
                let g = &mut bob_group;
                let ok = match m {
                    3 => receive_distribution(&mut bob, &mut session, &sealed, |id| (*id == group_id).then_some(g))
                        .is_ok(),
                    4 => g.install_distribution_from_new_session(&mut bob, &sealed).is_ok(),
                    5 => {
                        receive_distribution_new_session(&mut bob, &sealed, |id| (*id == group_id).then_some(g)).is_ok()
                    }
                    _ => g.install_distribution(&mut bob, &mut session, &sealed).is_ok(),
                };
                if ok {
                    assert_eq!(attempt, 0, "a distribution was installed twice");
                    stats::record("group_malicious/installed");
                } else {
                    let after = (bob.to_bytes(), session.to_bytes(), bob_group.to_bytes());
                    assert!(after == before, "refused distribution changed state");
                    if attempt == 0 {
                        stats::record("group_malicious/refused");
                    }
                    break;
                }
            }
        }
    }
}
