//! Property tests: long conversations between two parties over an
//! unreliable network that loses, reorders, duplicates and corrupts
//! messages, with the parties saving and restoring their state at random
//! moments.
//!
//! The network is modelled as one mailbox per direction. Each operation
//! (chosen by proptest, or by a seeded RNG for the long run) sends, delivers
//! a random pending message, loses one, replays an already delivered one,
//! delivers a corrupted copy of a pending one, or reloads a party. The
//! properties checked after every operation:
//!
//! * every message that is not lost opens exactly once, to its plaintext;
//! * a replay is refused with `DuplicateMessage` whenever the message's chain
//!   is one the receiver still remembers (its current peer ratchet key or
//!   one of the last `MAX_REMEMBERED_CHAINS`), and with some typed error
//!   otherwise;
//! * a refused message (replay or corruption) leaves the receiver's account
//!   and session byte-for-byte unchanged;
//! * serialized state restores to an identical encoding and keeps working.
//!
//! Runs stay within the forward-jump bound (a few hundred messages per
//! case), so no delivered message may fail.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rand::RngExt;
use rand::rngs::StdRng;
use sealpost::limits::{MAX_REMEMBERED_CHAINS, MAX_SKIPPED_TOTAL};
use sealpost::{Account, Error, Persist, Session};
use sealpost_testkit::*;

#[derive(Clone, Debug)]
enum Op {
    /// The party sends `count` messages (if it has a session).
    Send { alice: bool, count: u8 },
    /// The network delivers one pending message (picked at random).
    Deliver { to_alice: bool, pick: usize },
    /// The network loses one pending message.
    Lose { to_alice: bool, pick: usize },
    /// The network delivers an already delivered message again (one of the
    /// 16 most recently delivered if `recent`).
    Replay { to_alice: bool, pick: usize, recent: bool },
    /// The network delivers a corrupted copy of a pending message (the
    /// original stays pending).
    Corrupt { to_alice: bool, pick: usize, byte: usize, bit: u8 },
    /// The party saves and restores its account and session.
    Reload { alice: bool, encrypted: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        22 => (any::<bool>(), 1..=3u8).prop_map(|(alice, count)| Op::Send { alice, count }),
        48 => (any::<bool>(), any::<usize>()).prop_map(|(to_alice, pick)| Op::Deliver { to_alice, pick }),
        4 => (any::<bool>(), any::<usize>()).prop_map(|(to_alice, pick)| Op::Lose { to_alice, pick }),
        8 => (any::<bool>(), any::<usize>(), any::<bool>())
            .prop_map(|(to_alice, pick, recent)| Op::Replay { to_alice, pick, recent }),
        6 => (any::<bool>(), any::<usize>(), any::<usize>(), 0..8u8)
            .prop_map(|(to_alice, pick, byte, bit)| Op::Corrupt { to_alice, pick, byte, bit }),
        3 => (any::<bool>(), any::<bool>()).prop_map(|(alice, encrypted)| Op::Reload { alice, encrypted }),
    ]
}

/// The same mix of operations from a seeded RNG (for the long run).
fn random_op(rng: &mut StdRng) -> Op {
    let (side, pick) = (rng.random_bool(0.5), rng.random::<u64>() as usize);
    match rng.random_range(0..91u32) {
        0..22 => Op::Send { alice: side, count: rng.random_range(1..=3) },
        22..70 => Op::Deliver { to_alice: side, pick },
        70..74 => Op::Lose { to_alice: side, pick },
        74..82 => Op::Replay { to_alice: side, pick, recent: rng.random_bool(0.7) },
        82..88 => Op::Corrupt { to_alice: side, pick, byte: rng.random::<u64>() as usize, bit: rng.random_range(0..8) },
        _ => Op::Reload { alice: side, encrypted: rng.random_bool(0.5) },
    }
}

/// The ratchet key in a message's header (after the setup data, if any).
fn ratchet_key(message: &[u8]) -> [u8; 32] {
    let start = if message[1] == 0x03 {
        let has_one_time = message[2 + 32 + 32 + 4];
        2 + 32 + 32 + 4 + 1 + if has_one_time == 1 { 4 } else { 0 } + 1
    } else {
        2
    };
    message[start..start + 32].try_into().unwrap()
}

struct Party {
    name: &'static str,
    account: Account,
    session: Option<Session>,
    /// Pending messages addressed to this party, with their plaintexts.
    inbox: Vec<(Vec<u8>, Vec<u8>)>,
    /// Messages this party has read.
    delivered: Vec<Vec<u8>>,
    /// Peer ratchet keys this party has stepped to, oldest first. The last
    /// `MAX_REMEMBERED_CHAINS + 1` are the ones it still recognises.
    stepped: Vec<[u8; 32]>,
    sent: usize,
}

#[derive(Default, Debug)]
struct Stats {
    sent: usize,
    delivered: usize,
    lost: usize,
    duplicates: usize,
    forgotten_replays: usize,
    corrupted: usize,
    reloads: usize,
    out_of_order: usize,
    max_skipped: usize,
}

fn stats_max(slot: &mut usize, value: usize) {
    *slot = (*slot).max(value);
}

struct Sim {
    alice: Party,
    bob: Party,
    rng: StdRng,
    stats: Stats,
}

impl Sim {
    fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let OfflineStart { alice, bob, a, .. } = OfflineStart::new(&mut rng, 3);
        let party = |name, account, session| Party {
            name,
            account,
            session,
            inbox: Vec::new(),
            delivered: Vec::new(),
            stepped: Vec::new(),
            sent: 0,
        };
        let mut alice = party("alice", alice, Some(a));
        // The initiator starts out "stepped" to the signed prekey, which
        // takes one of the remembered slots once she ratchets.
        alice.stepped.push([0xee; 32]);
        Self { alice, bob: party("bob", bob, None), rng, stats: Stats::default() }
    }

    fn inbox_len(&self, to_alice: bool) -> usize {
        if to_alice { self.alice.inbox.len() } else { self.bob.inbox.len() }
    }

    fn run(&mut self, op: &Op) {
        self.step(op);
        // The model stays far from the skipped-key bounds, so no key is ever
        // evicted and every message that is not lost must open.
        for p in [&self.alice, &self.bob] {
            let skipped = p.session.as_ref().map_or(0, Session::skipped_key_count);
            assert!(skipped < MAX_SKIPPED_TOTAL / 2, "model left the bounded regime: {skipped} skipped keys");
            stats_max(&mut self.stats.max_skipped, skipped);
        }
    }

    fn step(&mut self, op: &Op) {
        let Sim { alice: a, bob: b, rng, stats } = self;
        match *op {
            Op::Send { alice, count } => {
                let (to, from) = pair(a, b, !alice);
                let Some(session) = from.session.as_mut() else { return };
                for _ in 0..count {
                    // Vary the length; include the message number.
                    let text = format!("{} #{} {}", from.name, from.sent, "x".repeat(from.sent % 23)).into_bytes();
                    from.sent += 1;
                    let m = session.encrypt(&text, rng).unwrap();
                    to.inbox.push((m, text));
                    stats.sent += 1;
                }
            }
            Op::Deliver { to_alice, pick } => {
                let (to, _) = pair(a, b, to_alice);
                if to.inbox.is_empty() {
                    return;
                }
                let i = pick % to.inbox.len();
                if i != 0 {
                    stats.out_of_order += 1;
                }
                deliver(to, i);
                stats.delivered += 1;
            }
            Op::Lose { to_alice, pick } => {
                let (to, _) = pair(a, b, to_alice);
                if !to.inbox.is_empty() {
                    let i = pick % to.inbox.len();
                    to.inbox.remove(i);
                    stats.lost += 1;
                }
            }
            Op::Replay { to_alice, pick, recent } => {
                let (to, _) = pair(a, b, to_alice);
                let n = to.delivered.len();
                if n == 0 {
                    return;
                }
                let i = if recent { n - 1 - pick % n.min(16) } else { pick % n };
                let m = to.delivered[i].clone();
                let session = to.session.as_mut().unwrap();
                let e = decrypt_fails(&mut to.account, session, &m);
                let remembered = to.stepped.iter().rev().take(MAX_REMEMBERED_CHAINS + 1).any(|k| *k == ratchet_key(&m));
                if remembered {
                    assert_eq!(e, Error::DuplicateMessage, "{} replay", to.name);
                    stats.duplicates += 1;
                } else {
                    // A chain too old to be recognised: tried as a new chain.
                    assert!(matches!(e, Error::DuplicateMessage | Error::AuthenticationFailed), "{e:?}");
                    stats.forgotten_replays += 1;
                }
            }
            Op::Corrupt { to_alice, pick, byte, bit } => {
                let (to, _) = pair(a, b, to_alice);
                if to.inbox.is_empty() {
                    return;
                }
                let mut bad = to.inbox[pick % to.inbox.len()].0.clone();
                let at = byte % bad.len();
                bad[at] ^= 1 << bit;
                match to.session.as_mut() {
                    Some(session) => {
                        decrypt_fails(&mut to.account, session, &bad);
                    }
                    None => {
                        let before = to.account.to_bytes();
                        assert!(to.account.create_inbound_session(&bad).is_err());
                        assert_eq!(to.account.to_bytes(), before);
                    }
                }
                stats.corrupted += 1;
            }
            Op::Reload { alice, encrypted } => {
                let (p, _) = pair(a, b, alice);
                let key = [0x17; 32];
                let account = if encrypted {
                    Account::import_encrypted(&key, &p.account.export_encrypted(&key, rng)).unwrap()
                } else {
                    Account::from_bytes(&p.account.to_bytes()).unwrap()
                };
                assert_eq!(account.to_bytes(), p.account.to_bytes());
                p.account = account;
                if let Some(s) = &mut p.session {
                    let restored = if encrypted {
                        Session::import_encrypted(&key, &s.export_encrypted(&key, rng)).unwrap()
                    } else {
                        Session::from_bytes(&s.to_bytes()).unwrap()
                    };
                    assert_eq!(restored.to_bytes(), s.to_bytes());
                    p.session = Some(restored);
                }
                stats.reloads += 1;
            }
        }
    }

    /// Delivers everything still pending, then checks that both directions
    /// still work.
    fn finish(&mut self) {
        for to_alice in [false, true, false] {
            while self.inbox_len(to_alice) > 0 {
                self.run(&Op::Deliver { to_alice, pick: 0 });
            }
        }
        for alice in [true, false, true, false] {
            self.run(&Op::Send { alice, count: 2 });
            let to_alice = !alice;
            for pick in [1, 0] {
                self.run(&Op::Deliver { to_alice, pick });
            }
        }
        let (a, b) = (self.alice.session.as_ref().unwrap(), self.bob.session.as_ref().unwrap());
        assert_eq!(a.session_id(), b.session_id());
    }
}

/// (receiver, sender) for a message to Alice (`to_alice`) or to Bob.
fn pair<'p>(alice: &'p mut Party, bob: &'p mut Party, to_alice: bool) -> (&'p mut Party, &'p mut Party) {
    if to_alice { (alice, bob) } else { (bob, alice) }
}

/// Delivers `to.inbox[i]`: it must open to its plaintext.
fn deliver(to: &mut Party, i: usize) {
    let (m, text) = to.inbox.remove(i);
    let opened = match to.session.as_mut() {
        Some(session) => to.account.decrypt(session, &m),
        None => to.account.create_inbound_session(&m).map(|(session, text)| {
            to.session = Some(session);
            text
        }),
    };
    match opened {
        Ok(pt) => assert_eq!(pt, text),
        Err(e) => panic!(
            "{} could not open {:?}: {e:?}; index {} chain position {:?} of {}, skipped keys {:?}, pending {}",
            to.name,
            String::from_utf8_lossy(&text),
            sealpost::wire::SessionMessage::parse(&m).unwrap().message_number(),
            to.stepped.iter().position(|k| *k == ratchet_key(&m)),
            to.stepped.len(),
            to.session.as_ref().map(|s| s.skipped_key_count()),
            to.inbox.len()
        ),
    }
    let key = ratchet_key(&m);
    if !to.stepped.contains(&key) {
        to.stepped.push(key);
    }
    to.delivered.push(m);
}

/// 64 cases from a fixed seed, so runs are reproducible. To explore more,
/// set `PROPTEST_RNG_SEED` and/or `PROPTEST_CASES` (3000 cases take about
/// a minute on a shared 2-core machine).
fn config() -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("PROPTEST_CASES").map_or(64, |n| n as u32),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x5ea1_9057)),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn unreliable_network_conversation(seed in any::<u64>(), ops in prop::collection::vec(op(), 40..200)) {
        let mut sim = Sim::new(seed);
        for op in &ops {
            sim.run(op);
        }
        sim.finish();
    }
}

/// One long deterministic conversation of thousands of messages with the
/// same operation mix, checking that every kind of event happened.
#[test]
fn long_conversation() {
    let mut sim = Sim::new(0x10_0000);
    let mut ops = rng(0x10_0001);
    for _ in 0..20_000 {
        let op = random_op(&mut ops);
        sim.run(&op);
    }
    sim.finish();
    let s = &sim.stats;
    assert!(s.sent >= 9_000 && s.delivered >= 8_000, "{s:?}");
    assert!(
        s.lost > 500 && s.duplicates > 500 && s.corrupted > 500 && s.reloads > 200 && s.out_of_order > 5_000,
        "{s:?}"
    );
    assert!(sim.alice.stepped.len() > 2 * MAX_REMEMBERED_CHAINS, "many ratchet steps: {s:?}");
}
