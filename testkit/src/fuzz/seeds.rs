//! The one seed generator for every corpus (`fuzz/corpus/<target>/`):
//! deterministic (fixed seeds, fixed fixtures), so the committed files are
//! reproducible. `tests/integration/fuzz_corpus.rs` writes them (an
//! ignored test) and fails when a committed seed differs from what
//! [`seeds`] generates.

use sealpost::burnout::{ENVELOPE_LEN, Envelope};
use sealpost::forkout::{Recipient, SealPolicy, seal};
use sealpost::test_hooks::{self, payload_kind};
use sealpost::{Account, Persist, Session};

use super::forkout::forkout_world;
use super::group::{live_group, session_group};
use super::session::{Route, live_session, malicious_pair};
use super::{EXPORT_KEY, NOW_MS};
use crate::rng;

/// Committed seeds stay small so the repository does too.
pub const MAX_SEED_LEN: usize = 4096;

/// One generated seed file: target, file name, contents.
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

fn push(out: &mut Vec<Seed>, target: &'static str, name: impl Into<String>, bytes: Vec<u8>) {
    out.push(Seed { target, name: name.into(), bytes });
}

/// Adds `bytes` and near-valid variants of it: the last byte cut off, and
/// one bit flipped at each of `flips` (byte offsets; negative counts from
/// the end).
fn with_variants(out: &mut Vec<Seed>, target: &'static str, name: &str, bytes: &[u8], flips: &[isize]) {
    out.push(Seed { target, name: name.to_string(), bytes: bytes.to_vec() });
    out.push(Seed { target, name: format!("{name}-truncated"), bytes: bytes[..bytes.len() - 1].to_vec() });
    for &at in flips {
        let pos = if at < 0 { bytes.len() - at.unsigned_abs() } else { at.unsigned_abs() };
        let mut flipped = bytes.to_vec();
        flipped[pos] ^= 0x01;
        out.push(Seed { target, name: format!("{name}-flip{at}"), bytes: flipped });
    }
}

/// Every generated seed, deterministically, for every target.
pub fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    session_seeds(&mut out);
    attachment_seeds(&mut out);
    program_seeds(&mut out);
    malicious_seeds(&mut out);
    group_seeds(&mut out);
    forkout_seeds(&mut out);
    burnout_seeds(&mut out);
    device_seeds(&mut out);
    out
}

fn session_seeds(out: &mut Vec<Seed>) {
    let live = live_session();
    let mut rng = rng(0xc0_ffee);

    // prekey_bundle: Bob's bundles with and without a one-time prekey, one
    // of Alice's own (refused as the initiator's own identity), and
    // near-valid variants: flipped bytes in the signed prekey (offset 60)
    // and the signature (offset 100 / -3), a flipped one-time prekey (not
    // covered by the signature, so it still verifies),
    // a one-time prekey of low order, a KEM byte, a trailing byte.
    let with_otp = live.bob.prekey_bundle_with(Some(2)).unwrap().to_bytes();
    with_variants(out, "prekey_bundle", "bob-with-one-time", &with_otp, &[0, 60, 100, -2]);
    let without = live.bob.prekey_bundle_with(None).unwrap().to_bytes();
    with_variants(out, "prekey_bundle", "bob-without-one-time", &without, &[3, -3]);
    let own = live.alice.prekey_bundle().unwrap().to_bytes();
    out.push(Seed { target: "prekey_bundle", name: "alice-own".into(), bytes: own });
    let mut low_order = with_otp.clone();
    let key_at = low_order.len() - 33;
    low_order[key_at..key_at + 32].fill(0);
    out.push(Seed { target: "prekey_bundle", name: "one-time-low-order".into(), bytes: low_order });
    let mut kem = without.clone();
    *kem.last_mut().unwrap() = 1;
    out.push(Seed { target: "prekey_bundle", name: "kem-prekey-set".into(), bytes: kem });
    let mut trailing = without;
    trailing.push(0);
    out.push(Seed { target: "prekey_bundle", name: "trailing-byte".into(), bytes: trailing });

    // session_message and session_decrypt: every pending message, plus a
    // truncated copy and flips in the type byte, the header and the
    // ciphertext.
    for pending in &live.pending {
        out.push(Seed { target: "session_message", name: pending.name.into(), bytes: pending.bytes.clone() });
        with_variants(out, "session_decrypt", pending.name, &pending.bytes, &[1, 40, -20, -1]);
    }
    let setup = &live.pending.iter().find(|p| p.route == Route::NewSession).unwrap().bytes;
    let mut bad_flag = setup.clone();
    bad_flag[2 + 32 + 32 + 4] = 2; // "has one-time prekey" must be 0 or 1
    out.push(Seed { target: "session_message", name: "setup-bad-flag".into(), bytes: bad_flag });
    let ratchet = &live.pending[0].bytes;
    out.push(Seed { target: "session_message", name: "ratchet-header-only".into(), bytes: ratchet[..42].to_vec() });
    let mut version = ratchet.clone();
    version[0] = 2;
    out.push(Seed { target: "session_message", name: "ratchet-version-2".into(), bytes: version });

    // session_sequence: orders, replays, tampering, misrouting, reloads
    // (see the op encoding in `super::session::session_sequence`).
    let n = u8::try_from(live.pending.len()).unwrap();
    let sequences: &[(&str, Vec<u8>)] = &[
        ("in-order", (0..n).collect()),
        ("reverse", (0..n).rev().collect()),
        ("replays", vec![0, 0, 3, 3, 5, 5, 7, 6, 7]),
        ("tamper-then-deliver", vec![0x40, 0x01, 0x23, 0, 0x40 | 5, 0x00, 0x10, 5]),
        ("truncate-then-deliver", vec![0x20 | 4, 5, 4, 0x20 | 3, 200, 3]),
        ("misroute", vec![0x10 | 5, 0x10, 0x10 | 6, 5, 0, 6]),
        ("reloads", vec![0x80 | 3, 0x80, 0x80 | 6, 0x80 | 1, 2, 0x80 | 7]),
    ];
    for (name, ops) in sequences {
        out.push(Seed { target: "session_sequence", name: (*name).into(), bytes: ops.clone() });
    }

    // State: accounts, sessions in several shapes (initiator before any
    // reply, responder with skipped keys, with a previous state).
    let mut states: Vec<(&str, Vec<u8>, bool)> = vec![
        ("account-bob", live.bob.to_bytes().to_vec(), true),
        ("account-alice", live.alice.to_bytes().to_vec(), true),
        ("session-bob", live.bob_session.to_bytes().to_vec(), false),
    ];
    let fresh = live.alice.create_outbound_session(&live.bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    states.push(("session-initiator-pending", fresh.to_bytes().to_vec(), false));
    let mut bob = live.bob.clone();
    let mut session = live.bob_session.clone();
    bob.decrypt(&mut session, &live.pending[3].bytes).unwrap(); // skips chain-a2-1, -2, -3
    states.push(("session-skipped-keys", session.to_bytes().to_vec(), false));
    bob.decrypt(&mut session, &live.pending[6].bytes).unwrap(); // re-initiation: a previous state
    states.push(("session-previous-state", session.to_bytes().to_vec(), false));
    let mut rotated = live.bob.clone();
    rotated.rotate_signed_prekey(&mut rng, NOW_MS + 1).unwrap();
    states.push(("account-rotated", rotated.to_bytes().to_vec(), true));
    let mut stocked = live.bob.clone();
    stocked.generate_one_time_prekeys(2, &mut rng).unwrap();
    states.push(("account-three-one-time", stocked.to_bytes().to_vec(), true));
    for (name, bytes, _) in &states {
        with_variants(out, "state_import", name, bytes, &[1, 40, -37]);
    }
    // Regressions: an account listing a one-time prekey id twice, or its
    // ids out of order, was accepted and re-encoded differently (fixed in
    // `PreKeyStore::decode`). The last 3 * 36 bytes are (id, key) entries.
    let stocked = stocked.to_bytes().to_vec();
    let entries = stocked.len() - 3 * 36;
    let mut duplicate = stocked.clone();
    duplicate.copy_within(entries..entries + 4, entries + 36);
    out.push(Seed { target: "state_import", name: "crash-duplicate-one-time-id".into(), bytes: duplicate });
    let mut unordered = stocked.clone();
    unordered[entries..entries + 72].rotate_left(36);
    out.push(Seed { target: "state_import", name: "crash-unordered-one-time-ids".into(), bytes: unordered });

    // encrypted_import: mode byte 0 + real exports under EXPORT_KEY; mode 1
    // (session) / 3 (account) + plaintext states sealed by the target.
    for (name, bytes, is_account) in &states {
        let export = if *is_account {
            Account::from_bytes(bytes).unwrap().export_encrypted(&EXPORT_KEY, &mut rng)
        } else {
            Session::from_bytes(bytes).unwrap().export_encrypted(&EXPORT_KEY, &mut rng)
        };
        let sealed: Vec<u8> = [0].into_iter().chain(export).collect();
        with_variants(out, "encrypted_import", &format!("export-{name}"), &sealed, &[3, 10, -1]);
        let mode = if *is_account { 3 } else { 1 };
        let plain: Vec<u8> = [mode].into_iter().chain(bytes.iter().copied()).collect();
        out.push(Seed { target: "encrypted_import", name: format!("plain-{name}"), bytes: plain });
    }
}

/// Programs for the program targets (see each target's op encoding).
fn program_seeds(out: &mut Vec<Seed>) {
    let programs: &[(&str, &str, Vec<u8>)] = &[
        // Alice sends, Bob reads, Bob replies, Alice reads, in order.
        ("session_program", "ping-pong", vec![0, 3, b'a', b'b', b'c', 1, 0, 0, 8, 2, b'h', b'i', 1, 0, 1]),
        // Three sends delivered in reverse, then a replay and a tampered copy.
        (
            "session_program",
            "reorder-replay-tamper",
            vec![0, 1, 1, 0, 1, 2, 0, 1, 3, 1, 0, 2, 1, 0, 1, 1, 0, 0, 1, 0, 0, 2, 0, 1, 0, 9],
        ),
        // Jumps of 999, 1000 and 1001 lost messages, each newest delivered.
        ("session_program", "jumps-at-the-bound", vec![0, 0, 1, 0, 0, 4, 4, 1, 0, 2, 4, 5, 1, 0, 4, 4, 6, 1, 0, 6]),
        // Re-initiations past MAX_PREVIOUS_STATES with messages in flight.
        (
            "session_program",
            "reinit-past-bound",
            vec![0, 0, 1, 0, 0, 5, 0, 0, 5, 0, 0, 5, 0, 0, 5, 0, 0, 5, 0, 0, 5, 0, 0, 1, 0, 7, 1, 0, 1],
        ),
        // Seven re-initiations by Alice, each setup delivered to Bob (who
        // adopts it): the sixth and seventh prune the oldest previous state
        // (a campaign's corpus never reached `MAX_PREVIOUS_STATES` states).
        (
            "session_program",
            "reinit-each-delivered",
            vec![
                0, 0, 1, 0, 0, 5, 0, 0, 1, 0, 1, 5, 0, 0, 1, 0, 2, 5, 0, 0, 1, 0, 3, 5, 0, 0, 1, 0, 4, 5, 0, 0, 1, 0,
                5, 5, 0, 0, 1, 0, 6, 5, 0, 0, 1, 0, 7,
            ],
        ),
        // Save and restore both sides between messages.
        ("session_program", "reloads", vec![0, 0, 6, 1, 0, 0, 14, 8, 0, 6, 1, 0, 2, 7, 15]),
        ("group_program", "send-deliver", vec![0, 2, b'h', b'i', 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1]),
        ("group_program", "jumps-and-window", vec![3, 4, 1, 0, 0, 3, 7, 1, 0, 1, 0, 0, 1, 0, 0, 2, 0, 0, 0, 9]),
        ("group_program", "rotate-out-of-order", vec![4, 4, 5, 0, 1, 5, 0, 0, 0, 0, 1, 0, 0, 13, 0, 0]),
        ("group_program", "remove-readd", vec![0, 0, 6, 0, 0, 14, 5, 0, 0, 0, 0, 1, 0, 1, 7, 15, 0, 0]),
        ("forkout_program", "seal-open", vec![4 | 8, 3, b'b', b'o', b'd', 1, 0, 0, 2, 0, 0, 1, 0, 0]),
        ("forkout_program", "burnout-skip-tamper", vec![4 | 8 | 32 | 64, 1, b'x', 3, 0, 0, 0, 9, 1, 0, 0]),
        ("burnout_program", "three-carriers", vec![0, 1, 1, 1, 2, 1, 4, 0, 0, 4, 0, 1, 4, 0, 2, 5, 0, 0]),
        (
            "burnout_program",
            "clock-skew-and-expiry",
            vec![0, 1, 3, 0xfa, 4, 0, 0, 3, 12, 4, 0, 0, 11, 0, 1, 3, 0, 8, 4, 0, 1],
        ),
        ("burnout_program", "vault-reloads", vec![8, 5, 4, 0, 0, 7, 15, 5, 0, 0, 6, 5, 0, 0]),
    ];
    for (target, name, bytes) in programs {
        push(out, target, *name, bytes.clone());
    }
    // A peer-supplied bundle in a Forkout seal (Bob's own, as a peer would
    // upload it).
    let world = forkout_world();
    let bundle = world.carol.prekey_bundle_with(Some(1)).unwrap().to_bytes();
    let mut prog = vec![4 | 16];
    prog.extend_from_slice(&u16::try_from(bundle.len()).unwrap().to_be_bytes());
    prog.extend_from_slice(&bundle);
    prog.extend_from_slice(&[2, b'h', b'i', 1, 0, 0]);
    push(out, "forkout_program", "peer-bundle", prog);
}

/// Authenticated malicious content: real payloads of every kind, for each
/// entry point.
fn malicious_seeds(out: &mut Vec<Seed>) {
    let env = Envelope::with_ttl(NOW_MS, 60_000).to_bytes();
    for (i, name) in ["account-decrypt", "account-open", "session-decrypt", "session-open"].iter().enumerate() {
        let mut app = vec![i as u8, 1, 0];
        app.extend_from_slice(b"plain content");
        app.push(payload_kind::APP);
        push(out, "session_malicious", format!("{name}-app"), app);
    }
    for (i, name) in
        [(1u8, "account-open"), (4, "session-open-burnout"), (5, "account-open-burnout"), (7, "inbound-at")]
    {
        let mut burn = vec![i, 19, 0];
        burn.extend_from_slice(b"burnout content");
        burn.extend_from_slice(&env);
        burn.push(payload_kind::BURNOUT_APP);
        push(out, "session_malicious", format!("{name}-burnout"), burn);
    }
    let mut inbound = vec![6, 1, 0];
    inbound.extend_from_slice(b"setup content");
    inbound.push(payload_kind::APP);
    push(out, "session_malicious", "inbound-app", inbound);
    push(out, "session_malicious", "unknown-kind", vec![0, 1, 0, b'x', 0x7f]);

    let group = session_group();
    let distribution = test_hooks::group_own_distribution(&group.alice_group).to_vec();
    push(out, "group_malicious", "plain", [&[0u8][..], b"group content"].concat());
    push(out, "group_malicious", "envelope", [&[1u8 | (18 << 3)][..], b"group content", &env].concat());
    push(out, "group_malicious", "short-envelope", [&[1u8 | (5 << 3)][..], b"group content", &env[..5]].concat());
    for (mode, name) in
        [(2u8, "install"), (3, "receive"), (4, "install-new-session"), (5, "receive-new-session"), (7, "plain")]
    {
        push(out, "group_malicious", format!("distribution-{name}"), [&[mode][..], &distribution].concat());
    }
    push(out, "group_malicious", "other-kind", [&[6u8 | (payload_kind::APP << 3)][..], &distribution].concat());

    // Forkout slots: flags, id (the target puts the real delivery's in),
    // body key and commitment (zero: the real ones are the manager's
    // secret), the real body length, an envelope when the flag says so,
    // the kind byte. They reach the body commitment check.
    let body_len = sealpost::forkout::ForkoutDelivery::parse(super::forkout::base_delivery()).unwrap().body_len();
    let slot = |flags: u8| [&[flags][..], &[0u8; 96], &u64::try_from(body_len).unwrap().to_be_bytes()].concat();
    push(out, "forkout_malicious", "slot-kind", [&slot(0)[..], &[payload_kind::FORKOUT_SLOT]].concat());
    push(out, "forkout_malicious", "slot-with-envelope", [&slot(1)[..], &env, &[payload_kind::FORKOUT_SLOT]].concat());
    let _ = malicious_pair();
}

/// Seed inputs for the group parsers and the live group.
fn group_seeds(out: &mut Vec<Seed>) {
    let live = live_group();
    let mut alice = live.alice.clone();
    let next = alice.encrypt(b"next message", &mut rng(0x5eed)).unwrap();
    let mut tampered_sig = next.clone();
    *tampered_sig.last_mut().unwrap() ^= 1;
    let mut tampered_body = next.clone();
    tampered_body[test_hooks::GROUP_HEADER_LEN + 5] ^= 1;
    let mut other_group = next.clone();
    other_group[2] ^= 1;
    let mut other_key_id = next.clone();
    other_key_id[66] ^= 1;
    let mut reserved_iteration = next.clone();
    reserved_iteration[70..74].copy_from_slice(&[0xff; 4]);
    for (name, bytes) in [
        ("valid", next.clone()),
        ("truncated", next[..100].to_vec()),
        ("bad_signature", tampered_sig.clone()),
        ("reserved_iteration", reserved_iteration),
        ("wrong_version", [&[2u8][..], &next[1..]].concat()),
    ] {
        push(out, "group_message", name, bytes);
    }
    for (name, bytes) in [
        ("next", next.clone()),
        ("late_1", live.unread[0].clone()),
        ("late_100", live.unread[1].clone()),
        ("late_255", live.unread[2].clone()),
        ("late_299", live.unread[3].clone()),
        ("replay", live.read.clone()),
        ("bad_signature", tampered_sig),
        ("bad_ciphertext", tampered_body),
        ("other_group", other_group),
        ("other_key_id", other_key_id),
    ] {
        push(out, "group_decrypt", name, bytes);
    }
    let distribution = test_hooks::group_own_distribution(&live.alice).to_vec();
    let mut weak_key = distribution.clone();
    let len = weak_key.len();
    weak_key[len - 32..].copy_from_slice(&[0u8; 32]);
    for (name, bytes) in [
        ("valid", distribution.clone()),
        ("truncated", distribution[..distribution.len() - 1].to_vec()),
        ("weak_signing_key", weak_key),
        ("trailing", [&distribution[..], &[0u8][..]].concat()),
    ] {
        push(out, "group_distribution", name, bytes);
    }
    let bob_state = live.bob.to_bytes().to_vec();
    for (name, bytes) in [
        ("receiver", bob_state.clone()),
        ("sender", live.alice.to_bytes().to_vec()),
        ("truncated", bob_state[..bob_state.len() - 5].to_vec()),
    ] {
        push(out, "group_state", name, bytes);
    }
    // Encrypted group exports for the importer.
    let mut bob = live.bob.clone();
    let export = bob.export_encrypted(&EXPORT_KEY, &mut rng(0x6e));
    push(out, "encrypted_import", "export-group-receiver", [&[0u8][..], &export].concat());
    push(out, "encrypted_import", "plain-group-receiver", [&[5u8][..], &bob_state].concat());
}

/// Valid and near-valid seeds for every Forkout parser and opener.
fn forkout_seeds(out: &mut Vec<Seed>) {
    let world = forkout_world();
    let mut rng = rng(0x5eed);
    let cases: [(&str, Vec<u8>, Option<Envelope>); 4] = [
        ("short", b"standup moved to 10:30".to_vec(), None),
        ("empty", Vec::new(), None),
        ("kib", (0..1024u32).map(|i| (i % 251) as u8).collect(), None),
        ("burnout", b"door code 4711".to_vec(), Some(Envelope::with_ttl(NOW_MS, 60_000))),
    ];
    for (name, body, envelope) in cases {
        let mut to_bob = world.manager_to_bob.clone();
        let recipients =
            [Recipient::Session(&mut to_bob), Recipient::Bundle(world.carol.prekey_bundle_with(Some(1)).unwrap())];
        let (sealed, _) = seal(&world.manager, body, recipients, SealPolicy::AllOrNothing, envelope, &mut rng).unwrap();
        let bundle = sealed.to_bytes();
        let to_bob = sealed.delivery(world.bob.identity()).unwrap().to_vec();
        let to_carol = sealed.delivery(world.carol.identity()).unwrap().to_vec();
        push(out, "forkout_bundle", format!("{name}-bundle"), bundle.clone());
        push(out, "forkout_split", format!("{name}-bundle"), bundle.clone());
        push(out, "forkout_delivery", format!("{name}-bob"), to_bob.clone());
        push(out, "forkout_delivery", format!("{name}-carol"), to_carol.clone());
        push(out, "forkout_open", format!("{name}-bob"), to_bob.clone());
        push(out, "forkout_open", format!("{name}-carol"), to_carol);
        let mut flipped = to_bob;
        if let Some(last) = flipped.last_mut() {
            *last ^= 0x01;
        }
        push(out, "forkout_open", format!("{name}-bob-flipped"), flipped);
        push(out, "forkout_bundle", format!("{name}-bundle-truncated"), bundle[..bundle.len() - 1].to_vec());
    }
}

/// Burnout envelopes on the live session, and vault states.
fn burnout_seeds(out: &mut Vec<Seed>) {
    let now = NOW_MS.to_be_bytes();
    let fine = Envelope::with_ttl(NOW_MS, 60_000);
    let burn = fine.burn_after_reading();
    for (name, env) in [("ttl", fine.to_bytes()), ("burn", burn.to_bytes())] {
        push(out, "burnout_envelope", name, [&now[..], b"body", &env].concat());
    }
    let late = (NOW_MS + 120_000).to_be_bytes();
    push(out, "burnout_envelope", "expired", [&late[..], b"body", &fine.to_bytes()].concat());
    let early = (NOW_MS - 3_600_000).to_be_bytes();
    push(out, "burnout_envelope", "skewed", [&early[..], b"body", &fine.to_bytes()].concat());
    push(out, "burnout_envelope", "short", [&now[..], &fine.to_bytes()[..ENVELOPE_LEN - 1]].concat());

    let me = *live_session().bob.identity();
    let mut vault = sealpost::burnout::Vault::new();
    vault.insert(sealpost::burnout::BurnoutMessage::outgoing(b"kept", fine, me), NOW_MS).unwrap();
    vault.insert(sealpost::burnout::BurnoutMessage::outgoing(b"burn", burn, me), NOW_MS).unwrap();
    let state = vault.to_bytes().to_vec();
    with_variants(out, "vault_state", "two-entries", &state, &[3, -1]);
    push(out, "vault_state", "empty", sealpost::burnout::Vault::new().to_bytes().to_vec());
    let export = vault.export_encrypted_at(NOW_MS, &EXPORT_KEY, &mut rng(0x7a));
    push(out, "encrypted_import", "export-vault", [&[0u8][..], &export].concat());
    push(out, "encrypted_import", "plain-vault", [&[7u8][..], &state].concat());
    let _ = (Account::from_bytes(&[]), Session::from_bytes(&[]), Route::Session);
}

fn attachment_seeds(out: &mut Vec<Seed>) {
    use sealpost::attachment::{self, Metadata};
    let meta = Metadata::new("audio/ogg")
        .with_file_name("note.ogg")
        .with_duration_ms(42_000)
        .with_waveform(vec![1, 2, 3, 4])
        .with_thumbnail(vec![9; 16]);
    let (pointer, _) = attachment::encrypt(b"x", meta, &mut rng(0xa1)).unwrap();
    with_variants(out, "attachment_pointer", "full", &pointer.to_bytes(), &[1, 40, -1]);
    let (pointer, _) = attachment::encrypt(b"", Metadata::default(), &mut rng(0xa2)).unwrap();
    push(out, "attachment_pointer", "bare", pointer.to_bytes().to_vec());
    push(out, "attachment_open", "round-trip-short", [&[0u8][..], b"hello attachment"].concat());
    push(out, "attachment_open", "round-trip-empty", vec![0]);
    // One bit in chunk 1, then one in the header; a truncation.
    push(out, "attachment_open", "tamper-chunk", vec![1, 0x40, 0x10, 0x01]);
    push(out, "attachment_open", "tamper-header", vec![1, 0x00, 0x05, 0x80]);
    push(out, "attachment_open", "truncate", vec![1, 0xff, 0xff, 0x90]);
    let upload = &super::attachment::fixture().2;
    push(out, "attachment_open", "fixed-upload-prefix", [&[2u8][..], &upload[..2048]].concat());
}

/// Device lists (the world's, its successor, a conflicting and a rolled-back
/// one), link codes, and link programs for every step's refusal.
fn device_seeds(out: &mut Vec<Seed>) {
    use sealpost::device::{DeviceList, DeviceMembership, LinkRequest};
    let world = super::device::device_world();
    let member = |account: &Account| DeviceMembership::sign(account.identity_keypair(), world.alice.public());
    let both = DeviceList::sign(&world.alice, 2, [member(&world.phone), member(&world.laptop)]).unwrap();
    let conflicting = DeviceList::sign(&world.alice, 1, [member(&world.laptop)]).unwrap();
    let older = DeviceList::sign(&world.alice, 0, [member(&world.phone), member(&world.laptop)]).unwrap();
    with_variants(out, "device_list", "v1", &[&[0u8][..], &world.list.to_bytes()].concat(), &[3, 60, -1]);
    push(out, "device_list", "v2-added", [&[0u8][..], &both.to_bytes()].concat());
    push(out, "device_list", "v1-conflicting", [&[0u8][..], &conflicting.to_bytes()].concat());
    push(out, "device_list", "v0-rolled-back", [&[0u8][..], &older.to_bytes()].concat());
    let code = LinkRequest::new(&world.laptop, &mut rng(0xc0), NOW_MS).code().to_vec();
    with_variants(out, "device_list", "code", &[&[1u8][..], &code].concat(), &[5, -1]);
    let own = LinkRequest::new(&world.phone, &mut rng(0xc1), NOW_MS).code().to_vec();
    push(out, "device_list", "code-of-the-phone", [&[1u8][..], &own].concat());

    // Programs (see `device_link`): the rng seed byte, then operations.
    let programs: &[(&str, &[u8])] = &[
        ("linked", &[7, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 0, 5, 0]),
        ("linked-read-twice", &[7, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 0, 5, 0, 5, 0, 1, 0, 3, 0]),
        (
            "flipped-each-step",
            &[7, 0, 0, 1, 1, 0, 9, 1, 0, 2, 1, 0, 40, 2, 0, 3, 0, 4, 1, 0, 7, 0, 4, 0, 0, 5, 1, 0, 77, 5, 0],
        ),
        ("other-link-each-step", &[7, 0, 0, 1, 2, 1, 0, 2, 2, 2, 0, 3, 0, 4, 2, 0, 4, 0, 0, 5, 2, 5, 0]),
        ("wrong-step", &[7, 0, 0, 1, 3, 0, 1, 0, 2, 3, 1, 2, 0, 3, 0, 4, 3, 0, 0, 4, 0, 0, 5, 3, 1, 5, 0]),
        ("wrong-short-string-phone", &[7, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 2, 4, 0, 0, 5, 0]),
        ("wrong-short-string-laptop", &[7, 0, 0, 1, 0, 2, 0, 3, 2, 3, 0, 4, 0, 0, 5, 0]),
        ("expired-code", &[7, 6, 0xff, 0xff, 0, 0, 1, 0]),
        ("expired-before-offer", &[7, 0, 0, 6, 0xff, 0xff, 1, 0, 2, 0, 3, 0]),
        ("complete-before-confirm", &[7, 0, 0, 1, 0, 2, 0, 4, 0, 0, 4, 4, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 0, 4, 0, 0]),
        ("wrong-account", &[7, 0, 0, 7, 1, 0, 2, 0, 7, 3, 0]),
        ("flipped-code", &[7, 0, 1, 0, 20, 0, 1, 0x02, 0xa0, 1, 0]),
    ];
    for (name, bytes) in programs {
        push(out, "device_link", *name, bytes.to_vec());
    }
}
