//! Tampering: every byte of every message type (setup message, ratchet
//! message, prekey bundle, encrypted state export) is flipped, and inputs
//! are truncated and extended. Every variant must be refused with a typed
//! error, and a refused message must leave the receiver's state (account
//! and session, compared through their serializations) byte-identical.
//! Forged setup messages must not burn one-time prekeys.

use std::collections::BTreeMap;

use sealpost::SessionError;
use sealpost::{Account, Error, Persist, PreKeyBundle, Session, WireError};
use sealpost_testkit::*;

/// Layout of a bundle with a one-time prekey (see `src/prekey.rs`).
mod bundle_layout {
    use core::ops::Range;
    pub(crate) const IDENTITY: Range<usize> = 2..34;
    pub(crate) const SIGNED: Range<usize> = 34..142; // id, created at, key, signature
    pub(crate) const SIGNATURE: Range<usize> = 78..142;
    pub(crate) const HAS_ONE_TIME: usize = 142;
    /// Signed by the KEM prekey's signature, which names its one-time id.
    pub(crate) const ONE_TIME_ID: Range<usize> = 143..147;
    /// Not signed.
    pub(crate) const ONE_TIME_KEY: Range<usize> = 147..179;
    pub(crate) const KEM: usize = 179;
    pub(crate) const KEM_KEY: Range<usize> = 180..1748;
    pub(crate) const KEM_SIGNATURE: Range<usize> = 1748..1812;
    pub(crate) const LEN: usize = 1812;
}

/// Layout of a setup message whose bundle had a one-time prekey.
mod setup_layout {
    use core::ops::Range;
    pub(crate) const INITIATOR: Range<usize> = 2..34;
    pub(crate) const BASE_KEY: Range<usize> = 34..66;
    pub(crate) const SIGNED_PREKEY_ID: Range<usize> = 66..70;
    pub(crate) const ONE_TIME_ID: Range<usize> = 71..75;
    pub(crate) const KEM: usize = 75;
    pub(crate) const KEM_CIPHERTEXT: Range<usize> = 76..1644;
    pub(crate) const HEADER: usize = 1644;
}

/// Counts errors by kind, to show in failure messages what was seen.
fn tally(seen: &mut BTreeMap<String, usize>, e: &Error) {
    // `Session(PeerMismatch)` counts as `PeerMismatch`: the variant inside
    // a category, or the shared variant itself.
    let name = format!("{e:?}");
    let mut parts = name.split(['(', ')', ' ', '{']).filter(|p| !p.is_empty());
    let first = parts.next().unwrap_or_default();
    let kind = match first {
        "Session" | "Burnout" | "Vault" | "Group" | "Forkout" => parts.next().unwrap_or(first),
        _ => first,
    }
    .to_owned();
    *seen.entry(kind).or_default() += 1;
}

/// Every variant of `message` (bit flips, truncations, extensions) is refused
/// by `bob.decrypt(session)` and by `session.decrypt` alone, without any
/// state change; afterwards the genuine message still opens.
fn assert_every_variant_refused(bob: &mut Account, b: &mut Session, message: &[u8], plaintext: &[u8]) {
    let mut seen = BTreeMap::new();
    for (i, bad) in bit_flips(message) {
        let e = decrypt_fails(bob, b, &bad);
        tally(&mut seen, &e);
        match i {
            0 => assert!(matches!(e, Error::Wire(WireError::UnsupportedVersion(_))), "byte 0: {e:?}"),
            _ if i >= message.len() - 16 => assert_eq!(e, Error::AuthenticationFailed, "tag byte {i}"),
            _ => {}
        }
        session_decrypt_fails(b, &bad);
    }
    for bad in truncations_and_extensions(message) {
        tally(&mut seen, &decrypt_fails(bob, b, &bad));
        session_decrypt_fails(b, &bad);
    }
    assert_eq!(bob.decrypt(b, message).unwrap(), plaintext, "genuine message after tampering ({seen:?})");
}

#[test]
fn ratchet_messages_every_byte() {
    let mut rng = rng(10);
    let mut c = Conversation::established(&mut rng);

    // (a) Next message in the current receiving chain.
    c.a_to_b(b"x0", &mut rng);
    let x1 = c.a.encrypt(b"x1: same chain", &mut rng).unwrap();
    assert_every_variant_refused(&mut c.bob, &mut c.b, &x1, b"x1: same chain");

    // (b) First message of a new chain (a DH-ratchet step on receipt), sent
    // after a longer previous chain so previous_chain_length matters.
    let unread = c.a.encrypt(b"unread", &mut rng).unwrap();
    c.b_to_a(b"turn", &mut rng);
    let y0 = c.a.encrypt(b"y0: new chain", &mut rng).unwrap();
    assert_every_variant_refused(&mut c.bob, &mut c.b, &y0, b"y0: new chain");
    assert_eq!(c.b.skipped_key_count(), 1);

    // (c) A message whose key is stored as skipped.
    assert_every_variant_refused(&mut c.bob, &mut c.b, &unread, b"unread");
    let z0 = c.a.encrypt(b"z0: skipped", &mut rng).unwrap();
    c.a_to_b(b"z1", &mut rng);
    assert_every_variant_refused(&mut c.bob, &mut c.b, &z0, b"z0: skipped");

    // (d) The same in the other direction.
    c.b_to_a(b"b0", &mut rng);
    let b1 = c.b.encrypt(b"b1", &mut rng).unwrap();
    assert_every_variant_refused(&mut c.alice, &mut c.a, &b1, b"b1");
}

#[test]
fn setup_message_every_byte() {
    let mut rng = rng(11);
    let OfflineStart { mut bob, mut a, .. } = OfflineStart::new(&mut rng, 4);
    let m1 = a.encrypt(b"first", &mut rng).unwrap();
    let m2 = a.encrypt(b"second", &mut rng).unwrap();
    assert_eq!(m1[1], 0x03, "setup message type");

    // Bob has no session yet: every variant given to create_inbound_session
    // fails without touching the account or burning the one-time prekey.
    let before = bob.to_bytes().to_vec();
    let mut seen = BTreeMap::new();
    let inbound_fails = |bob: &mut Account, bad: &[u8], seen: &mut BTreeMap<String, usize>| -> Error {
        let e = bob.create_inbound_session(bad).map(|_| ()).unwrap_err();
        assert_eq!(*bob.to_bytes(), before, "failed setup ({e:?}) changed the account");
        assert_eq!(bob.remaining_one_time_prekeys(), 4);
        tally(seen, &e);
        e
    };
    for (i, bad) in bit_flips(&m1) {
        let e = inbound_fails(&mut bob, &bad, &mut seen);
        use setup_layout::*;
        match i {
            0 => assert!(matches!(e, Error::Wire(WireError::UnsupportedVersion(_))), "{e:?}"),
            1 => assert!(matches!(e, Error::Wire(_) | Error::Session(SessionError::NotASetupMessage)), "{e:?}"),
            _ if INITIATOR.contains(&i) => {
                assert!(matches!(e, Error::Wire(_) | Error::AuthenticationFailed | Error::WeakKey), "{i}: {e:?}")
            }
            _ if BASE_KEY.contains(&i) => {
                assert!(matches!(e, Error::AuthenticationFailed | Error::WeakKey), "{i}: {e:?}")
            }
            _ if SIGNED_PREKEY_ID.contains(&i) => {
                assert!(matches!(e, Error::Session(SessionError::UnknownSignedPreKey(_))), "{i}: {e:?}")
            }
            _ if ONE_TIME_ID.contains(&i) => {
                assert!(
                    matches!(e, Error::Session(SessionError::UnknownOneTimePreKey(_)) | Error::AuthenticationFailed),
                    "{i}: {e:?}"
                )
            }
            // A KEM kind of 0 reads as a classical setup, which Bob's
            // policy refuses before any key is used.
            KEM => {
                assert!(matches!(e, Error::Wire(_) | Error::Session(SessionError::PostQuantumRequired)), "{i}: {e:?}")
            }
            // ML-KEM's implicit rejection: another secret, so the AEAD fails.
            _ if KEM_CIPHERTEXT.contains(&i) => assert_eq!(e, Error::AuthenticationFailed, "byte {i}"),
            // The post-quantum ratchet's chunk kind: another defined kind
            // (or none) shifts the framing, so the AEAD fails; an
            // undefined one does not parse.
            _ if i == HEADER + 60 => assert!(
                matches!(e, Error::Wire(WireError::InvalidField(_)) | Error::AuthenticationFailed),
                "byte {i}: {e:?}"
            ),
            // Salt, epoch, chunk, ciphertext: authenticated.
            _ if i >= HEADER + 40 => assert_eq!(e, Error::AuthenticationFailed, "byte {i}"),
            _ => {}
        }
    }
    for bad in truncations_and_extensions(&m1) {
        inbound_fails(&mut bob, &bad, &mut seen);
    }
    assert!(seen.contains_key("AuthenticationFailed") && seen.contains_key("Wire"), "{seen:?}");

    // The genuine message still works and consumes exactly one prekey.
    let (mut b, text) = bob.create_inbound_session(&m1).unwrap();
    assert_eq!(text, b"first");
    assert_eq!(bob.remaining_one_time_prekeys(), 3);

    // Bob now holds the state: tampered copies of the second setup message
    // (for a known state) go through Account::decrypt and Session::decrypt.
    assert_every_variant_refused(&mut bob, &mut b, &m2, b"second");
    assert_eq!(bob.remaining_one_time_prekeys(), 3);

    // A ratchet message is not a setup message.
    a.decrypt(&b.encrypt(b"reply", &mut rng).unwrap()).unwrap();
    let ratchet = a.encrypt(b"third", &mut rng).unwrap();
    assert_eq!(bob.create_inbound_session(&ratchet).map(|_| ()), Err(Error::Session(SessionError::NotASetupMessage)));
}

#[test]
fn forged_setup_message_does_not_burn_one_time_prekey() {
    let mut rng = rng(12);
    let OfflineStart { alice, mut bob, bundle, mut a } = OfflineStart::new(&mut rng, 2);
    let mallory = Account::new(&mut rng, NOW);
    let otk = bundle.one_time_prekey_id().unwrap();
    let genuine = a.encrypt(b"really alice", &mut rng).unwrap();

    let mut forgeries = Vec::new();
    // Mallory runs X3DH honestly with the same bundle, then claims to be Alice.
    let mut m = mallory.create_outbound_session(&bundle, &mut rng).unwrap();
    let mut claimed = m.encrypt(b"I am alice", &mut rng).unwrap();
    claimed[setup_layout::INITIATOR].copy_from_slice(alice.identity().as_bytes());
    forgeries.push(claimed);
    // Alice's message with its body altered.
    let mut altered = genuine.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x01;
    forgeries.push(altered);
    // Alice's setup data with another base key (replayed setup, new content).
    let mut rebased = genuine.clone();
    rebased[setup_layout::BASE_KEY].copy_from_slice(&[9u8; 32]);
    forgeries.push(rebased);

    let before = bob.to_bytes();
    for forged in &forgeries {
        let e = bob.create_inbound_session(forged).map(|_| ()).unwrap_err();
        assert!(matches!(e, Error::AuthenticationFailed | Error::WeakKey), "{e:?}");
        assert_eq!(bob.remaining_one_time_prekeys(), 2);
        assert_eq!(*bob.to_bytes(), *before);
    }
    // The forged messages also fail against an existing session with Alice.
    let (mut b, text) = bob.clone().create_inbound_session(&genuine).unwrap();
    assert_eq!(text, b"really alice");
    for forged in &forgeries {
        decrypt_fails(&mut bob, &mut b, forged);
        assert_eq!(bob.remaining_one_time_prekeys(), 2);
    }

    // The genuine message still opens and consumes the prekey it names.
    let (mut b, text) = bob.create_inbound_session(&genuine).unwrap();
    assert_eq!(text, b"really alice");
    assert_eq!(bob.remaining_one_time_prekeys(), 1);
    assert!(!bob.prekey_bundles().unwrap().iter().any(|x| x.one_time_prekey_id() == Some(otk)));
    let reply = b.encrypt(b"hi alice", &mut rng).unwrap();
    assert_eq!(alice.clone().decrypt(&mut a, &reply).unwrap(), b"hi alice");
}

#[test]
fn consumed_one_time_prekey_is_refused() {
    let mut rng = rng(13);
    let OfflineStart { mut bob, bundle, mut a, .. } = OfflineStart::new(&mut rng, 2);
    let carol = Account::new(&mut rng, NOW);
    let otk = bundle.one_time_prekey_id().unwrap();
    let m1 = a.encrypt(b"first", &mut rng).unwrap();
    // The server wrongly hands the same bundle to Carol too.
    let mut k = carol.create_outbound_session(&bundle, &mut rng).unwrap();
    let from_carol = k.encrypt(b"carol", &mut rng).unwrap();

    bob.create_inbound_session(&m1).unwrap();
    let before = bob.to_bytes();
    // A replayed setup message and a second session on the same prekey.
    for m in [&m1, &from_carol] {
        assert_eq!(
            bob.create_inbound_session(m).map(|_| ()).unwrap_err(),
            Error::Session(SessionError::OneTimePreKeyReused(otk))
        );
        assert_eq!(*bob.to_bytes(), *before);
    }
    // Ids never issued are told apart from consumed ones.
    let mut unknown = from_carol.clone();
    unknown[setup_layout::ONE_TIME_ID].copy_from_slice(&77u32.to_be_bytes());
    assert_eq!(
        bob.create_inbound_session(&unknown).map(|_| ()).unwrap_err(),
        Error::Session(SessionError::UnknownOneTimePreKey(77))
    );
    assert_eq!(*bob.to_bytes(), *before);
}

#[test]
fn bad_bundle_signature() {
    let mut rng = rng(14);
    let (alice, bob) = accounts(&mut rng, 1);
    let mallory = Account::new(&mut rng, NOW);
    let bundle = bob.prekey_bundle().unwrap().to_bytes();

    let mut bad_signature = bundle.clone();
    bad_signature[bundle_layout::SIGNATURE.start] ^= 0x01;
    let parsed = PreKeyBundle::from_bytes(&bad_signature).unwrap();
    assert_eq!(parsed.verify().unwrap_err(), Error::InvalidSignature("signed prekey"));
    assert_eq!(alice.create_outbound_session(&parsed, &mut rng).unwrap_err(), Error::InvalidSignature("signed prekey"));

    // Mallory's signed prekey (validly signed by Mallory) under Bob's name.
    let mut substituted = mallory.prekey_bundle().unwrap().to_bytes();
    substituted[bundle_layout::IDENTITY].copy_from_slice(bob.identity().as_bytes());
    let parsed = PreKeyBundle::from_bytes(&substituted).unwrap();
    assert_eq!(alice.create_outbound_session(&parsed, &mut rng).unwrap_err(), Error::InvalidSignature("signed prekey"));

    // Bob's signed prekey under Mallory's name.
    let mut renamed = bundle.clone();
    renamed[bundle_layout::IDENTITY].copy_from_slice(mallory.identity().as_bytes());
    let parsed = PreKeyBundle::from_bytes(&renamed).unwrap();
    assert_eq!(alice.create_outbound_session(&parsed, &mut rng).unwrap_err(), Error::InvalidSignature("signed prekey"));
}

/// Every byte of a bundle flipped: the signed parts and the framing are
/// refused when the initiator parses or uses the bundle. The one-time
/// X25519 key is not covered by a signature (as in Signal's X3DH and
/// PQXDH, where only the KEM prekeys are signed one by one), so tampering
/// with it is refused by the owner instead: the first message of the
/// resulting session does not open, and no prekey is burnt.
#[test]
fn prekey_bundle_every_byte() {
    let mut rng = rng(15);
    let (alice, mut bob) = accounts(&mut rng, 3);
    let bundle = bob.prekey_bundle().unwrap().to_bytes();
    assert_eq!(bundle.len(), bundle_layout::LEN);
    let before = bob.to_bytes();
    let mut seen = BTreeMap::new();

    for (i, bad) in bit_flips(&bundle) {
        use bundle_layout::*;
        let created = PreKeyBundle::from_bytes(&bad).and_then(|p| alice.create_outbound_session(&p, &mut rng));
        match (i, &created) {
            (0 | 1 | HAS_ONE_TIME | KEM, Err(e)) => assert!(matches!(e, Error::Wire(_)), "byte {i}: {e:?}"),
            // Bit 255 of an X25519 key is ignored by X25519: only the
            // canonical encoding (bit clear) is accepted.
            (77 | 178, Err(Error::Wire(WireError::InvalidField(_)))) if bad[i] & 0x80 != 0 => {}
            (_, Err(e)) if IDENTITY.contains(&i) => {
                assert!(matches!(e, Error::Wire(_) | Error::InvalidSignature(_)), "byte {i}: {e:?}")
            }
            (_, Err(e)) if SIGNED.contains(&i) => assert_eq!(*e, Error::InvalidSignature("signed prekey"), "byte {i}"),
            (_, Err(e)) if ONE_TIME_ID.contains(&i) || KEM_SIGNATURE.contains(&i) => {
                assert_eq!(*e, Error::InvalidSignature("KEM prekey"), "byte {i}")
            }
            // An ML-KEM key with a coefficient out of range does not parse;
            // any other change breaks its signature.
            (_, Err(e)) if KEM_KEY.contains(&i) => assert!(
                matches!(e, Error::Wire(WireError::InvalidField("KEM prekey")) | Error::InvalidSignature("KEM prekey")),
                "byte {i}: {e:?}"
            ),
            (_, Ok(_)) if ONE_TIME_KEY.contains(&i) => {}
            (_, Err(Error::WeakKey)) if ONE_TIME_KEY.contains(&i) => {}
            _ => panic!("byte {i}: unexpected outcome {:?}", created.map(|_| ())),
        }
        if let Err(e) = &created {
            tally(&mut seen, e);
            continue;
        }
        // Only the unsigned one-time prekey key gets here.
        let m1 = created.unwrap().encrypt(b"hi", &mut rng).unwrap();
        let e = bob.create_inbound_session(&m1).map(|_| ()).expect_err(&format!("byte {i} accepted"));
        assert!(
            matches!(
                e,
                Error::AuthenticationFailed
                    | Error::Session(SessionError::UnknownOneTimePreKey(_))
                    | Error::Session(SessionError::OneTimePreKeyReused(_))
            ),
            "byte {i}: {e:?}"
        );
        assert_eq!(*bob.to_bytes(), *before, "byte {i}");
        tally(&mut seen, &e);
    }
    for bad in truncations_and_extensions(&bundle) {
        let e = PreKeyBundle::from_bytes(&bad).unwrap_err();
        assert!(matches!(e, Error::Wire(WireError::Truncated { .. } | WireError::TrailingBytes(_))), "{e:?}");
    }
    assert!(seen.contains_key("AuthenticationFailed") && seen.contains_key("InvalidSignature"), "{seen:?}");

    // The genuine bundle works after all this.
    let mut a = alice.create_outbound_session(&PreKeyBundle::from_bytes(&bundle).unwrap(), &mut rng).unwrap();
    let (_, text) = bob.create_inbound_session(&a.encrypt(b"genuine", &mut rng).unwrap()).unwrap();
    assert_eq!(text, b"genuine");
    assert_eq!(bob.remaining_one_time_prekeys(), 2);
}

fn assert_export_tamper_refused<T: Persist>(export: &[u8], expected_inner: u8) {
    for (i, bad) in bit_flips(export) {
        let e = T::import_encrypted(&[0x42; 32], &bad).map(|_| ()).unwrap_err();
        match i {
            0 => assert!(matches!(e, Error::Wire(WireError::UnsupportedVersion(_))), "{e:?}"),
            1 => assert!(matches!(e, Error::Wire(WireError::UnexpectedType { expected: 0x3f, .. })), "{e:?}"),
            2 => assert_eq!(
                e,
                Error::Wire(WireError::UnexpectedType { found: bad[2], expected: expected_inner }),
                "inner type"
            ),
            // The context digest: compared before decrypting (an export made
            // for another context), and authenticated like everything else.
            11..=42 => assert_eq!(e, Error::ExportContextMismatch, "byte {i}"),
            _ => assert_eq!(e, Error::ExportCorrupted, "byte {i}"),
        }
    }
    for bad in truncations_and_extensions(export) {
        let e = T::import_encrypted(&[0x42; 32], &bad).map(|_| ()).unwrap_err();
        assert!(matches!(e, Error::Wire(WireError::Truncated { .. }) | Error::ExportCorrupted), "{e:?}");
    }
    assert!(T::import_encrypted(&[0x42; 32], export).is_ok());
}

#[test]
fn encrypted_export_every_byte() {
    let mut rng = rng(16);
    let mut c = Conversation::established(&mut rng);
    let unread = c.a.encrypt(b"leaves a skipped key", &mut rng).unwrap();
    c.a_to_b(b"x", &mut rng);
    assert_eq!(c.b.skipped_key_count(), 1);
    drop(unread);
    assert_export_tamper_refused::<Account>(&c.bob.export_encrypted(&[0x42; 32], &mut rng), 0x30);
    assert_export_tamper_refused::<Session>(&c.b.export_encrypted(&[0x42; 32], &mut rng), 0x31);
}

/// A re-initiation (setup message for a state Bob does not hold yet, handled
/// by `Account::decrypt` through X3DH): every variant is refused without
/// burning a one-time prekey or touching the session; the genuine one then
/// installs the new state.
#[test]
fn reinitiation_setup_message_every_byte() {
    let mut rng = rng(17);
    let mut c = Conversation::established(&mut rng);
    let remaining = c.bob.remaining_one_time_prekeys();
    let mut a2 = c.alice.create_outbound_session(&fetch_bundle(&c.bob), &mut rng).unwrap();
    let m = a2.encrypt(b"starting over", &mut rng).unwrap();
    assert_every_variant_refused(&mut c.bob, &mut c.b, &m, b"starting over");
    assert_eq!(c.bob.remaining_one_time_prekeys(), remaining - 1);
    assert_eq!(c.b.session_id(), a2.session_id());
}

/// Messages from someone else, or for another of Bob's sessions, are
/// refused by a session and change nothing.
#[test]
fn messages_of_another_conversation_are_refused() {
    let mut rng = rng(18);
    let mut c = Conversation::established(&mut rng);
    let carol = Account::new(&mut rng, NOW);
    let mut k = carol.create_outbound_session(&fetch_bundle(&c.bob), &mut rng).unwrap();
    let carol_setup = k.encrypt(b"from carol", &mut rng).unwrap();
    assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &carol_setup), Error::Session(SessionError::PeerMismatch));
    assert_eq!(session_decrypt_fails(&mut c.b, &carol_setup), Error::Session(SessionError::PeerMismatch));

    let (mut kb, _) = c.bob.create_inbound_session(&carol_setup).unwrap();
    let carol_reply = kb.encrypt(b"to carol", &mut rng).unwrap();
    assert_eq!(k.decrypt(&carol_reply).unwrap(), b"to carol");
    let carol_ratchet = k.encrypt(b"from carol, established", &mut rng).unwrap();
    assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &carol_ratchet), Error::AuthenticationFailed);
    // Alice's messages are refused by Bob's session with Carol, too.
    let from_alice = c.a.encrypt(b"for bob", &mut rng).unwrap();
    assert_eq!(decrypt_fails(&mut c.bob, &mut kb, &from_alice), Error::AuthenticationFailed);
    assert_eq!(c.bob.decrypt(&mut c.b, &from_alice).unwrap(), b"for bob");
    assert_eq!(c.bob.decrypt(&mut kb, &carol_ratchet).unwrap(), b"from carol, established");
    // Bob's own message reflected back to him is not from his peer.
    let own = c.b.encrypt(b"bob to alice", &mut rng).unwrap();
    assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &own), Error::AuthenticationFailed);
    assert_eq!(c.alice.decrypt(&mut c.a, &own).unwrap(), b"bob to alice");
}
