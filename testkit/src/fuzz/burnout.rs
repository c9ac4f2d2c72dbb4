//! Burnout targets: the envelope rules on a live 1:1 session, the vault
//! state parser followed by real use, and the three-carrier program with a
//! moving clock.

use std::sync::OnceLock;

use sealpost::burnout::{BurnoutMessage, ENVELOPE_LEN, Envelope, Opened, Vault, VaultId};
use sealpost::forkout::{Recipient, SealPolicy, open as forkout_open, seal};
use sealpost::limits::MAX_CLOCK_SKEW_MS;
use sealpost::test_hooks;
use sealpost::{Account, BurnoutError, Error, Persist, Session};

use super::group::session_group;
use super::session::malicious_pair;
use super::{EXPORT_KEY, NOW_MS, Program, stats};
use crate::rng;

/// Alice's and Bob's sides of a live conversation for Burnout, built once
/// from a fixed seed: both chains are established, so sealing and opening
/// need no Diffie-Hellman work per input.
pub struct BurnoutLive {
    pub alice_session: Session,
    pub bob: Account,
    pub bob_session: Session,
}

pub fn burnout_live() -> &'static BurnoutLive {
    static LIVE: OnceLock<BurnoutLive> = OnceLock::new();
    LIVE.get_or_init(|| {
        let mut rng = rng(0xb0_0e7);
        let alice = Account::new(&mut rng, NOW_MS);
        let mut bob = Account::new(&mut rng, NOW_MS);
        bob.generate_one_time_prekeys(1, &mut rng).unwrap();
        let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"first", &mut rng).unwrap()).unwrap();
        a.decrypt(&b.encrypt(b"reply", &mut rng).unwrap()).unwrap();
        bob.decrypt(&mut b, &a.encrypt(b"second", &mut rng).unwrap()).unwrap();
        BurnoutLive { alice_session: a, bob, bob_session: b }
    })
}

/// What the envelope rules say about authentic Burnout content at `now`.
fn expected(content: &[u8], now: u64) -> Result<(&[u8], Envelope), Error> {
    let Some(split) = content.len().checked_sub(ENVELOPE_LEN) else {
        return Err(Error::Burnout(BurnoutError::MalformedEnvelope(sealpost::WireError::Truncated {
            needed: ENVELOPE_LEN - content.len(),
        })));
    };
    let (body, env) = content.split_at(split);
    let env = Envelope::from_bytes(env).map_err(|e| Error::Burnout(BurnoutError::MalformedEnvelope(e)))?;
    env.check(now).map(|()| (body, env))
}

/// Burnout envelopes with arbitrary metadata bytes.
///
/// * The whole input as an envelope and as a vault state: parsers are
///   total and canonical (a parsed value re-encodes to the input).
/// * Input = `now (u64 BE) | metadata`: a live 1:1 session seals
///   `"fuzz body " | metadata` as a Burnout payload (so the last 18 bytes
///   are taken as the envelope, whatever they are) and Bob opens it at
///   `now`. The outcome must match the envelope rules exactly: plaintext
///   only for a well-formed, unexpired, unskewed envelope; an expired or
///   malformed one uses up the key (a replay is a duplicate); skew changes
///   nothing.
pub fn burnout_envelope(data: &[u8]) {
    if let Ok(env) = Envelope::from_bytes(data) {
        assert_eq!(env.to_bytes(), data);
    }
    if let Ok(vault) = Vault::from_bytes(data) {
        assert!(vault.to_bytes().as_slice() == data);
    }
    let (now, meta) = match data.split_first_chunk::<8>() {
        Some((n, rest)) => (u64::from_be_bytes(*n), rest),
        None => (NOW_MS, data),
    };
    let meta = meta.get(..meta.len().min(4096)).unwrap_or(meta);
    let mut content = b"fuzz body ".to_vec();
    content.extend_from_slice(meta);

    let live = burnout_live();
    let mut alice = live.alice_session.clone();
    let mut bob = live.bob.clone();
    let mut session = live.bob_session.clone();
    let trailer = [test_hooks::payload_kind::BURNOUT_APP];
    let sealed = test_hooks::session_seal_raw(&mut alice, &content, &trailer, &mut rng(1)).unwrap();
    let before = session.to_bytes();
    match (bob.open_burnout(&mut session, &sealed, now), expected(&content, now)) {
        (Ok(message), Ok((body, env))) => {
            stats::record("burnout_envelope/opened");
            assert_eq!(message.envelope(), &env);
            assert!(!env.is_expired(now), "plaintext returned for an expired message");
            let mut vault = Vault::new();
            let id = vault.insert(message, now).unwrap();
            let read = vault.read(id, now).unwrap();
            assert_eq!(&*read, body);
            assert_eq!(read.was_burned(), env.is_burn_after_reading());
        }
        (Err(err), Err(want)) => {
            assert_eq!(err, want);
            if matches!(err, Error::Burnout(BurnoutError::ClockSkew { .. })) {
                assert!(session.to_bytes() == before, "clock skew changed the session");
            } else {
                assert!(session.to_bytes() != before, "{err:?} did not use up the key");
                assert_eq!(bob.open_burnout(&mut session, &sealed, NOW_MS).unwrap_err(), Error::DuplicateMessage);
            }
        }
        (got, want) => panic!("open_burnout gave {got:?}, the envelope rules say {want:?}"),
    }
}

/// Restores a vault from plaintext state: it re-encodes to its input, then
/// is used for real (every entry read at its own clock and later, a purge,
/// an insert, an encrypted export and import that restores it exactly).
pub fn vault_state(data: &[u8]) {
    let Ok(mut vault) = Vault::from_bytes(data) else { return };
    stats::record("vault_state/restored");
    assert!(vault.to_bytes().as_slice() == data, "vault state did not re-encode");
    let clock = vault.clock_ms();
    let bytes = vault.export_encrypted_at(clock, &EXPORT_KEY, &mut rng(5));
    let again = Vault::import_encrypted(&EXPORT_KEY, &bytes).unwrap();
    assert!(again.to_bytes() == vault.to_bytes(), "vault changed across export and import");
    let ids: Vec<VaultId> = vault.ids().collect();
    for id in ids.iter().take(8) {
        let info = vault.info(*id).unwrap();
        if vault.read(*id, clock).is_ok() {
            stats::record("vault_state/entry_read");
            assert!(!info.envelope.is_expired(clock), "an expired entry was read");
        }
    }
    if vault.purge(clock.saturating_add(1 << 40)) > 0 {
        stats::record("vault_state/purged");
    }
    assert!(vault.is_empty() || vault.ids().all(|id| vault.info(id).is_some()));
    let me = *burnout_live().bob.identity();
    if vault.insert(BurnoutMessage::outgoing(b"kept", Envelope::with_ttl(clock, 1000), me), clock).is_ok() {
        stats::record("vault_state/inserted");
    }
}

/// Burnout on all three carriers (1:1, group, Forkout) with a clock that
/// moves forward, backward and past expiry; the harness is the sender.
///
/// Operations (one byte; bits 0-2 the action):
///
/// ```text
/// 0,1,2 send on 1:1, group, Forkout: time to live (byte) minutes, burn
///       after reading (bit 3), sent at the sender's clock
/// 3     move the receiver's clock: signed byte minutes (bit 3: jump
///       past every expiry)
/// 4     receive message #index (u16) at the receiver's clock
/// 5     read vault entry #index at the receiver's clock
/// 6     purge the vault at the receiver's clock
/// 7     save and restore the vault (plain, bit 3: encrypted export)
/// ```
///
/// Invariants: content is handed out only before its expiry and within
/// the allowed clock skew; an expired message uses the key up (the retry
/// is a duplicate), a skewed one changes nothing and opens later; a
/// message opens at most once; the vault never returns expired content
/// and burns a burn-after-reading entry on its first read.
pub fn burnout_program(data: &[u8]) {
    let (_, alice_session, bob, bob_session) = malicious_pair();
    let group = session_group();
    let fork = super::forkout::forkout_world();
    let mut rng = rng(0xb09);
    let mut a1 = alice_session.clone();
    let (mut bob1, mut b1) = (bob.clone(), bob_session.clone());
    let mut ag = group.alice_group.clone();
    let mut bg = group.bob_group.clone();
    let mut mto_bob = fork.manager_to_bob.clone();
    let (mut fbob, mut fb) = (fork.bob.clone(), fork.bob_session.clone());
    let mut clock = NOW_MS;
    let mut vault = Vault::new();
    // (carrier, bytes, body, envelope, opened/consumed)
    let mut flight: Vec<(u8, Vec<u8>, Vec<u8>, Envelope, bool)> = Vec::new();
    let mut p = Program::new(data);
    for _ in 0..32 {
        let Some(op) = p.op() else { break };
        match op & 7 {
            carrier @ 0..=2 => {
                let ttl = u64::from(p.byte()).max(1) * 60_000;
                let mut env = Envelope::with_ttl(NOW_MS, ttl);
                if op & 8 != 0 {
                    env = env.burn_after_reading();
                }
                let body = format!("burnout body {}", flight.len()).into_bytes();
                let bytes = match carrier {
                    0 => a1.encrypt_burnout(&body, &env, &mut rng).ok(),
                    1 => ag.encrypt_with_envelope(&body, &env, &mut rng).ok(),
                    _ => seal(
                        &fork.manager,
                        body.clone(),
                        [Recipient::Session(&mut mto_bob)],
                        SealPolicy::AllOrNothing,
                        Some(env),
                        &mut rng,
                    )
                    .ok()
                    .and_then(|(s, _)| s.delivery(fork.bob.identity()).ok().map(|d| d.to_vec())),
                };
                if let Some(bytes) = bytes {
                    flight.push((carrier, bytes, body, env, false));
                }
            }
            3 => {
                if op & 8 != 0 {
                    clock = clock.saturating_add(1 << 34);
                } else {
                    clock = clock.saturating_add_signed(i64::from(p.byte() as i8) * 60_000);
                }
            }
            4 => {
                if flight.is_empty() {
                    continue;
                }
                let i = p.index(flight.len());
                let (carrier, bytes, body, env, done) = &mut flight[i];
                let before = (bob1.to_bytes(), b1.to_bytes(), bg.to_bytes(), fbob.to_bytes(), fb.to_bytes());
                let result: Result<BurnoutMessage, Error> = match carrier {
                    0 => bob1.open_burnout(&mut b1, bytes, clock),
                    1 => bg.decrypt(bytes, clock).map(|g| g.into_opened()).and_then(burnout_of),
                    _ => forkout_open(&mut fbob, &mut fb, bytes, clock).map(|o| o.into_opened()).and_then(burnout_of),
                };
                let after = (bob1.to_bytes(), b1.to_bytes(), bg.to_bytes(), fbob.to_bytes(), fb.to_bytes());
                let rule = env.check(clock);
                match result {
                    Ok(message) => {
                        stats::record("burnout_program/opened");
                        assert!(!*done, "a Burnout message opened twice");
                        assert!(rule.is_ok(), "opened against the envelope rules at {clock}: {rule:?}");
                        assert!(clock < env.sent_at_ms() + MAX_CLOCK_SKEW_MS + (1 << 40));
                        *done = true;
                        if let Ok(id) = vault.insert(message, clock) {
                            stats::record("burnout_program/vault_inserted");
                            let read = vault.read(id, clock).unwrap();
                            assert_eq!(&*read, body.as_slice());
                            if env.is_burn_after_reading() {
                                assert!(read.was_burned());
                                assert!(vault.read(id, clock).is_err(), "burned entry read twice");
                            }
                        }
                    }
                    Err(e) if test_hooks::consumes_key(&e) => {
                        stats::record("burnout_program/consumed");
                        assert!(!*done, "a used-up message was used up again");
                        assert!(rule.is_err(), "{e:?} although the envelope is valid at {clock}");
                        *done = true;
                    }
                    Err(e) => {
                        assert!(after == before, "refused Burnout message ({e:?}) changed state");
                        if matches!(e, Error::Burnout(BurnoutError::ClockSkew { .. })) {
                            stats::record("burnout_program/skew");
                            assert!(!*done);
                        } else if !*done {
                            panic!("fresh Burnout message on carrier {carrier} refused: {e:?}");
                        }
                    }
                }
            }
            5 => {
                let ids: Vec<VaultId> = vault.ids().collect();
                if ids.is_empty() {
                    continue;
                }
                let id = ids[p.index(ids.len())];
                let info = vault.info(id).unwrap();
                if let Ok(read) = vault.read(id, clock) {
                    assert!(!info.envelope.is_expired(clock), "vault returned expired content");
                    assert_eq!(read.was_burned(), info.envelope.is_burn_after_reading());
                }
            }
            6 => {
                vault.purge(clock);
                for id in vault.ids().collect::<Vec<_>>() {
                    assert!(!vault.info(id).unwrap().envelope.is_expired(clock), "purge kept an expired entry");
                }
            }
            _ => {
                let bytes = if op & 8 != 0 {
                    let export = vault.export_encrypted_at(clock, &EXPORT_KEY, &mut rng);
                    Vault::import_encrypted(&EXPORT_KEY, &export).unwrap().to_bytes()
                } else {
                    vault.to_bytes()
                };
                let restored = Vault::from_bytes(&bytes).unwrap();
                assert!(restored.to_bytes() == bytes, "vault changed across a reload");
                vault = restored;
            }
        }
    }
}

fn burnout_of(opened: Opened) -> Result<BurnoutMessage, Error> {
    opened.into_burnout().ok_or(Error::InvalidState("plain content where Burnout was sealed"))
}
