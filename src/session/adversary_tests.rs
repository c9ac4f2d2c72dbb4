//! The post-quantum ratchet against an adversary who breaks X25519 but not
//! ML-KEM, and who also stole both parties' complete session states.
//!
//! At time T the attacker copies both session states. From then on it
//! learns every X25519 secret the parties draw (ratchet keys) and every
//! message salt, as breaking X25519 allows, but none of their ML-KEM
//! randomness (key-pair seeds, encapsulation randomness): its copies draw
//! their own there. The one exception is the encapsulation of an epoch
//! whose decapsulation key the attacker stole at T: decapsulating reveals
//! it, so the attacker's copies replay it.
//!
//! The attacker's copies run the whole conversation as the parties do and
//! try to open every real message. It must open exactly the messages whose
//! chain's epoch it knows the secret of (the control: the test can fail),
//! and none sent in an epoch established after T.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use core::convert::Infallible;
use std::collections::VecDeque;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_core::{Rng, TryCryptoRng, TryRng};

use crate::account::Account;
use crate::session::Session;
use crate::wire::SessionMessage;

const NOW: u64 = 1_700_000_000_000;

/// Records every request of a real party's randomness.
struct Tap {
    inner: StdRng,
    log: VecDeque<Vec<u8>>,
}

impl TryRng for Tap {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        unreachable!("sealpost draws bytes")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        unreachable!("sealpost draws bytes")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.inner.fill_bytes(dst);
        self.log.push_back(dst.to_vec());
        Ok(())
    }
}
impl TryCryptoRng for Tap {}

/// The attacker's randomness for one encryption: the party's draws
/// replayed, except the first one when it is ML-KEM randomness the
/// attacker does not know. A copy that fell out of step (it failed to
/// open a message, so its state no longer follows the party's) may draw
/// differently: it then gets randomness of its own.
struct Replay<'a> {
    log: VecDeque<Vec<u8>>,
    substitute_first: bool,
    own: &'a mut StdRng,
}

impl TryRng for Replay<'_> {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        unreachable!("sealpost draws bytes")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        unreachable!("sealpost draws bytes")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let real = self.log.pop_front().filter(|real| real.len() == dst.len());
        match real {
            Some(real) if !core::mem::take(&mut self.substitute_first) => dst.copy_from_slice(&real),
            _ => self.own.fill_bytes(dst),
        }
        Ok(())
    }
}
impl TryCryptoRng for Replay<'_> {}

fn epoch_of(message: &[u8]) -> u32 {
    SessionMessage::parse(message).unwrap().header.epoch
}

/// Runs `rounds` alternating runs of 1 to 3 messages after a compromise
/// at round `compromise_at`; returns, for each message after it, its
/// chain's epoch and whether the attacker opened it, and the epoch the
/// attacker can know.
fn run(seed: u64, compromise_at: usize, rounds: usize) -> (Vec<(u32, bool)>, u32) {
    let mut rng = StdRng::seed_from_u64(seed);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    let mut real = [a, b];
    let mut attacker: Option<([Session; 2], u32)> = None;
    let mut attackers_own = StdRng::seed_from_u64(seed ^ 0xa77ac);
    let mut runs = StdRng::seed_from_u64(seed ^ 1);
    let mut seen = Vec::new();
    for round in 0..rounds {
        if round == compromise_at {
            // Everything both parties hold, including a decapsulation key
            // for the next epoch if one exists.
            let epoch = real[0].post_quantum_epoch().max(real[1].post_quantum_epoch());
            let stolen_key = real.iter().any(|s| s.current.ratchet.braid().holds_key());
            attacker = Some((real.clone(), if stolen_key { epoch + 1 } else { epoch }));
        }
        for turn in 0..2 {
            let n = 1 + (runs.next_u32() % 3) as usize;
            for i in 0..n {
                let (from, to) = (turn, 1 - turn);
                let mut tap = Tap {
                    inner: StdRng::seed_from_u64(seed ^ (round * 8 + turn * 4 + i) as u64),
                    log: VecDeque::new(),
                };
                let text = format!("round {round} turn {turn} message {i}");
                let due = real[from].current.ratchet.braid().kem_draw_due();
                let next_epoch = real[from].post_quantum_epoch() + 1;
                let m = real[from].encrypt(text.as_bytes(), &mut tap).unwrap();
                assert_eq!(real[to].decrypt(&m).unwrap(), text.as_bytes());
                if let Some((copies, known)) = &mut attacker {
                    // The copy's own draws are due at the same moment as
                    // the party's only while the copy is in step.
                    let copy_due = copies[from].current.ratchet.braid().kem_draw_due();
                    // An encapsulation to a key the attacker stole: replayed.
                    let learnable = due && !real[from].current.ratchet.braid().holds_key() && next_epoch <= *known;
                    let substitute = due && copy_due && !learnable;
                    let mut replay =
                        Replay { log: tap.log.clone(), substitute_first: substitute, own: &mut attackers_own };
                    if due == copy_due {
                        let _ = copies[from].encrypt(text.as_bytes(), &mut replay);
                    }
                    let opened = copies[to].decrypt(&m).is_ok_and(|p| p == text.as_bytes());
                    seen.push((epoch_of(&m), opened));
                }
            }
        }
    }
    let known = attacker.map_or(0, |(_, known)| known);
    (seen, known)
}

#[test]
fn after_a_compromise_messages_of_later_epochs_stay_unreadable_to_an_x25519_breaker() {
    for (seed, compromise_at) in [(1u64, 10usize), (2, 25), (3, 40), (4, 3)] {
        let (seen, known) = run(seed, compromise_at, 120);
        let readable = seen.iter().filter(|(_, opened)| *opened).count();
        let last_epoch = seen.last().unwrap().0;
        // The epoch moved on well past what the attacker knows.
        assert!(last_epoch >= known + 2, "seed {seed}: last epoch {last_epoch}, known {known}");
        for (i, &(epoch, opened)) in seen.iter().enumerate() {
            assert_eq!(
                opened,
                epoch <= known,
                "seed {seed}, message {i} after the compromise: epoch {epoch}, attacker knows up to {known}"
            );
        }
        // The control: right after the compromise the attacker reads.
        assert!(readable > 0, "seed {seed}: the attacker read nothing, the model is broken");
    }
}
