//! Attacks that need the library's internals to mount: a member who knows
//! another member's chain forging with a valid AEAD, distributions lying
//! about their sender, key id clashes, and catch-up over huge gaps.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use ed25519_dalek::{Signer, SigningKey};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::chain::{MessageKey, MessageKeys, SALT_LEN};
use super::membership::Member;
use super::message::{FLAG_PLAIN, HeaderFields, encode_header, signed_bytes};
use super::*;
use crate::account::Account;
use crate::crypto;
use crate::error::Error;
use crate::error::{GroupError, SessionError};
use crate::identity::IdentityKey;
use crate::session::Session;
use crate::wire::PayloadKind;

struct Party {
    account: Account,
    group: Group,
}

fn parties(n: usize, rng: &mut StdRng) -> (Vec<Party>, GroupId) {
    let accounts: Vec<Account> = (0..n).map(|_| Account::new(rng, 0)).collect();
    let ids: Vec<_> = accounts.iter().map(|a| *a.identity()).collect();
    let gid = GroupId::random(rng);
    let mut parties: Vec<Party> = accounts
        .into_iter()
        .map(|account| Party { group: Group::new(gid, *account.identity(), ids.clone(), rng).unwrap(), account })
        .collect();
    for i in 0..n {
        let d = parties[i].group.own_distribution();
        for (j, p) in parties.iter_mut().enumerate() {
            if i != j {
                p.group.check_install(&d).unwrap();
                let _ = p.group.install(d.clone());
            }
        }
    }
    (parties, gid)
}

fn sessions(a: &Account, b: &mut Account, rng: &mut StdRng) -> (Session, Session) {
    let mut ab = a.create_outbound_session(&b.prekey_bundle_with(None).unwrap(), rng).unwrap();
    let (ba, _) = b.create_inbound_session(&ab.encrypt(b"hi", rng).unwrap()).unwrap();
    (ab, ba)
}

/// A message as `sender_identity` under `key_id`, correctly encrypted with
/// `key`, signed by `signer`.
fn forge(gid: &GroupId, party: &Party, as_whom: usize, parties: &[Party], signer: &SigningKey) -> Vec<u8> {
    let victim = *parties[as_whom].account.identity();
    let receiver = party.group.members[victim.as_bytes()].current.as_ref().unwrap();
    let iteration = receiver.ratchet.counter();
    let key: MessageKey = receiver.ratchet.clone().next_key().unwrap();
    seal_as(gid, &victim, receiver.key_id, iteration, &key, signer, b"transfer everything to mallory")
}

/// A complete group message: `content` sealed under `key` at `iteration`,
/// signed by `signer`, exactly as a sender builds one.
fn seal_as(
    gid: &GroupId,
    sender: &crate::identity::IdentityKey,
    key_id: u32,
    iteration: u32,
    key: &MessageKey,
    signer: &SigningKey,
    content: &[u8],
) -> Vec<u8> {
    seal_payload(gid, sender, key_id, iteration, key, signer, &[content, &[FLAG_PLAIN]].concat())
}

/// A complete group message whose AEAD plaintext is exactly `payload`
/// (content, envelope and flags byte as the caller laid them out).
fn seal_payload(
    gid: &GroupId,
    sender: &crate::identity::IdentityKey,
    key_id: u32,
    iteration: u32,
    key: &MessageKey,
    signer: &SigningKey,
    payload: &[u8],
) -> Vec<u8> {
    let salt = [9u8; SALT_LEN];
    let keys = key.expand(&salt);
    let fields = HeaderFields { group_id: gid, sender, key_id, iteration, salt: &salt, commitment: &keys.commitment };
    sign_sealed(&fields, &keys, signer, payload)
}

/// Encodes `fields`, encrypts `payload` under `aead` (which need not be the key
/// the header's commitment belongs to) and signs the result.
fn sign_sealed(fields: &HeaderFields<'_>, aead: &MessageKeys, signer: &SigningKey, payload: &[u8]) -> Vec<u8> {
    let mut out = encode_header(fields, payload.len()).into_vec();
    let header_len = out.len();
    out.extend_from_slice(payload);
    crypto::chacha20_in_place(&aead.key, &aead.nonce, &mut out[header_len..]);
    let (header, sealed) = out.split_at(header_len);
    let signature = signer.sign(&signed_bytes(header, sealed)).to_bytes();
    out.extend_from_slice(&signature);
    out
}

#[test]
fn a_member_knowing_the_chain_cannot_forge_without_the_signing_key() {
    let mut rng = StdRng::seed_from_u64(1);
    let (mut parties, gid) = parties(3, &mut rng);
    // Carol (2) holds Alice's (0) chain and builds a perfectly encrypted
    // message as Alice, signed with her own key: Bob (1) refuses it.
    let carols_key = parties[2].group.sender.signing.clone();
    let forged = forge(&gid, &parties[2], 0, &parties, &carols_key);
    let before = parties[1].group.to_bytes();
    assert_eq!(parties[1].group.decrypt(&forged, 0).err(), Some(Error::InvalidSignature("group message")));
    assert_eq!(parties[1].group.to_bytes(), before);
    // The same bytes signed with Alice's key would pass: the signature is
    // exactly what stops the forgery.
    let alices_key = parties[0].group.sender.signing.clone();
    let with_alices_signature = forge(&gid, &parties[2], 0, &parties, &alices_key);
    assert_eq!(parties[1].group.decrypt(&with_alices_signature, 0).unwrap().sender, *parties[0].account.identity());
}

#[test]
fn a_distribution_must_come_from_the_sender_it_names() {
    let mut rng = StdRng::seed_from_u64(2);
    let (mut parties, _) = parties(3, &mut rng);
    let (alice, bob, carol) = (0, 1, 2);
    let (mut carol_to_bob, mut bob_to_carol) = {
        let (l, r) = parties.split_at_mut(carol);
        sessions(&r[0].account, &mut l[bob].account, &mut rng)
    };
    // Carol sends Bob a distribution claiming to be Alice's new key.
    let mut lie = parties[alice].group.own_distribution();
    lie.key_id ^= 1;
    lie.signing = parties[carol].group.sender.signing.verifying_key();
    let bytes = carol_to_bob.encrypt_payload(&lie.encode(), &[], PayloadKind::GroupDistribution, &mut rng).unwrap();
    let p = &mut parties[bob];
    let before = (p.account.to_bytes(), bob_to_carol.to_bytes(), p.group.to_bytes());
    assert_eq!(
        p.group.install_distribution(&mut p.account, &mut bob_to_carol, &bytes),
        Err(Error::Session(SessionError::PeerMismatch))
    );
    assert_eq!(before, (p.account.to_bytes(), bob_to_carol.to_bytes(), p.group.to_bytes()));

    // Carol reusing her own key id with a different signing key: a clash.
    let mut clash = parties[carol].group.own_distribution();
    clash.signing = SigningKey::from_bytes(&[7; 32]).verifying_key();
    let bytes = carol_to_bob.encrypt_payload(&clash.encode(), &[], PayloadKind::GroupDistribution, &mut rng).unwrap();
    let p = &mut parties[bob];
    let before = (p.account.to_bytes(), bob_to_carol.to_bytes(), p.group.to_bytes());
    let key_id = clash.key_id;
    assert_eq!(
        p.group.install_distribution(&mut p.account, &mut bob_to_carol, &bytes),
        Err(Error::Group(GroupError::SenderKeyConflict { key_id }))
    );
    assert_eq!(before, (p.account.to_bytes(), bob_to_carol.to_bytes(), p.group.to_bytes()));

    // A malformed distribution payload is refused the same way.
    let bytes = carol_to_bob.encrypt_payload(b"\x01\x11garbage", &[], PayloadKind::GroupDistribution, &mut rng);
    let p = &mut parties[bob];
    let before = (p.account.to_bytes(), bob_to_carol.to_bytes(), p.group.to_bytes());
    assert!(matches!(
        p.group.install_distribution(&mut p.account, &mut bob_to_carol, &bytes.unwrap()),
        Err(Error::Wire(_))
    ));
    assert_eq!(before, (p.account.to_bytes(), bob_to_carol.to_bytes(), p.group.to_bytes()));
}

#[test]
fn catch_up_over_billions_of_iterations() {
    let mut rng = StdRng::seed_from_u64(3);
    let (mut parties, _) = parties(2, &mut rng);
    let mut first = None;
    for target in [1_000_000u32, 25_000_000, 4_000_000_000] {
        parties[0].group.sender.ratchet.advance_to(target);
        let m = parties[0].group.encrypt(format!("at {target}").as_bytes(), &mut rng).unwrap();
        first.get_or_insert_with(|| m.clone());
        let started = std::time::Instant::now();
        let read = parties[1].group.decrypt(&m, 0).unwrap();
        let elapsed = started.elapsed();
        assert_eq!(read.iteration, target);
        assert_eq!(read.content.into_message().unwrap(), format!("at {target}").as_bytes());
        // Bounded storage: at most the window's runs plus one block of keys.
        assert!(parties[1].group.stored_key_count() <= 8 + 255);
        // Generous even for an unoptimized build; the benchmark has the real numbers.
        assert!(elapsed.as_millis() < 500, "catch-up took {elapsed:?}");
    }
    assert_eq!(parties[1].group.decrypt(&first.unwrap(), 0).err(), Some(Error::DuplicateMessage));
    // The last iteration is reserved; the sender must rotate.
    parties[0].group.sender.ratchet.advance_to(u32::MAX);
    assert!(matches!(parties[0].group.encrypt(b"x", &mut rng), Err(Error::LimitReached { .. })));
}

#[test]
fn state_decoding_refuses_what_the_library_cannot_produce() {
    let mut rng = StdRng::seed_from_u64(4);
    let (mut parties, _) = parties(3, &mut rng);
    let sent: Vec<Vec<u8>> = (0..300).map(|_| parties[0].group.encrypt(b"x", &mut rng).unwrap()).collect();
    parties[1].group.decrypt(&sent[299], 0).unwrap();
    parties[1].group.decrypt(&sent[100], 0).unwrap();
    let bytes = parties[1].group.to_bytes();
    let restored = Group::from_bytes(&bytes).unwrap();
    assert_eq!(restored.to_bytes(), bytes);
    assert_eq!(restored.stored_key_count(), parties[1].group.stored_key_count());
    // Members out of order.
    let g = &parties[1].group;
    let mut swapped = g.to_bytes().to_vec();
    let first_member = 2 + 32 + 32 + 4 + 4 + 128 + 32 + 4;
    let ids: Vec<_> = g.members().copied().collect();
    swapped[first_member..first_member + 32].copy_from_slice(ids[1].as_bytes());
    assert!(Group::from_bytes(&swapped).is_err());
    // Trailing and truncated bytes.
    let mut trailing = bytes.to_vec();
    trailing.push(0);
    assert!(Group::from_bytes(&trailing).is_err());
    for cut in [1, 10, 100] {
        assert!(Group::from_bytes(&bytes[..bytes.len() - cut]).is_err());
    }
}

/// Two parties; the other one has read `sender`'s message 5000 (keeping
/// the keys inside the window before it).
fn read_at_5000(seed: u64, sender: usize) -> (StdRng, Vec<Party>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut parties, _) = parties(2, &mut rng);
    parties[sender].group.sender.ratchet.advance_to(5000);
    let m = parties[sender].group.encrypt(b"late in the day", &mut rng).unwrap();
    parties[1 - sender].group.decrypt(&m, 0).unwrap();
    (rng, parties)
}

#[test]
fn stored_group_state_with_keys_older_than_the_window_is_refused() {
    // Bob has received Alice's message 5000 and kept the key of 4000.
    let (_, mut parties) = read_at_5000(21, 0);
    let sender = *parties[0].account.identity();
    let restored = Group::from_bytes(&parties[1].group.to_bytes()).unwrap();
    assert_eq!(restored.to_bytes(), parties[1].group.to_bytes());
    // A key of iteration 10 could never have survived that message.
    let member = parties[1].group.members.get_mut(sender.as_bytes()).unwrap();
    let stale = super::chain::Subtree::new(10, 0, [7; 32]).unwrap();
    member.current.as_mut().unwrap().skipped.insert(10, stale);
    assert_eq!(
        Group::from_bytes(&parties[1].group.to_bytes()).err(),
        Some(Error::Wire(crate::error::WireError::InvalidField("group key older than the out-of-order window")))
    );
}

#[test]
fn a_restored_sender_key_never_reuses_a_key_and_nonce() {
    let mut rng = StdRng::seed_from_u64(31);
    let (mut parties, _) = parties(2, &mut rng);
    let saved = parties[0].group.to_bytes();
    let (p1, p2) = (b"wire 100 to acct 1", b"wire 900 to acct 9");
    let c1 = parties[0].group.encrypt(p1, &mut rng).unwrap();
    let mut restored = Group::from_bytes(&saved).unwrap();
    // Sending is refused until a rotation; an app that skips it anyway
    // (resume_without_rotation on an old backup) still reuses no key.
    assert_eq!(restored.encrypt(p2, &mut rng).err(), Some(Error::Group(GroupError::RotationRequired)));
    restored.resume_without_rotation();
    let c2 = restored.encrypt(p2, &mut rng).unwrap();
    let (m1, m2) = (GroupMessage::parse(&c1).unwrap(), GroupMessage::parse(&c2).unwrap());
    assert_eq!((m1.key_id, m1.iteration), (m2.key_id, m2.iteration), "same chain position");
    assert_ne!(m1.salt, m2.salt);
    assert_ne!(m1.commitment, m2.commitment, "different AEAD keys");
    let xor = |x: &[u8], y: &[u8]| x.iter().zip(y).map(|(a, b)| a ^ b).collect::<Vec<u8>>();
    assert_ne!(xor(&m1.sealed[..p1.len()], &m2.sealed[..p2.len()]), xor(p1, p2));
    assert_eq!(parties[1].group.decrypt(&c1, 0).unwrap().content.into_message().unwrap(), p1);
    assert_eq!(parties[1].group.decrypt(&c2, 0).err(), Some(Error::DuplicateMessage));
}

#[test]
fn a_sender_cannot_make_one_signed_message_read_differently_for_two_members() {
    // Alice hands Bob and Carol different chains under one key id, then
    // signs one message whose ciphertext opens under Carol's key while its
    // key commitment is Bob's. Without the commitment check Carol would read
    // content Bob never sees; with it, she refuses it and nothing changes.
    let mut rng = StdRng::seed_from_u64(32);
    let (mut parties, gid) = parties(3, &mut rng);
    let alice = *parties[0].account.identity();
    let key_id = parties[0].group.sender.key_id;
    let signer = parties[0].group.sender.signing.clone();
    let carols_chain = super::chain::Ratchet::random(&mut rng);
    parties[2].group.members.get_mut(alice.as_bytes()).unwrap().current.as_mut().unwrap().ratchet =
        carols_chain.clone();

    let iteration = parties[0].group.sender.ratchet.counter();
    let bobs_key = parties[0].group.sender.ratchet.clone().next_key().unwrap();
    let carols_key = carols_chain.clone().next_key().unwrap();
    let salt = [5u8; SALT_LEN];
    let (for_bob, for_carol) = (bobs_key.expand(&salt), carols_key.expand(&salt));
    let fields = HeaderFields {
        group_id: &gid,
        sender: &alice,
        key_id,
        iteration,
        salt: &salt,
        commitment: &for_bob.commitment,
    };
    let out = sign_sealed(&fields, &for_carol, &signer, &[&b"approve the transfer"[..], &[FLAG_PLAIN]].concat());

    let before = parties[2].group.to_bytes();
    assert_eq!(parties[2].group.decrypt(&out, 0).err(), Some(Error::Group(GroupError::KeyCommitmentMismatch)));
    assert_eq!(parties[2].group.to_bytes(), before);
    // Bob's key is the one the commitment names: he reads what these signed
    // bytes decrypt to under it, which every member holding his chain reads
    // alike (format version 3 has no Poly1305 tag to refuse it; a sender
    // can sign any bytes, this is one more). Never Carol's text.
    let mut expected = GroupMessage::parse(&out).unwrap().sealed.to_vec();
    crypto::chacha20_in_place(&for_bob.key, &for_bob.nonce, &mut expected);
    let flags = expected.pop().unwrap();
    match parties[1].group.decrypt(&out, 0) {
        Ok(read) => {
            assert_eq!(flags, FLAG_PLAIN);
            assert_eq!(read.content.into_message().unwrap(), expected);
            assert_ne!(expected, b"approve the transfer");
        }
        Err(e) => assert_eq!(e, Error::UnexpectedPayload(flags)),
    }
}

#[test]
fn sealing_an_envelope_already_expired_when_sent_is_refused() {
    use crate::error::BurnoutError;
    let mut rng = StdRng::seed_from_u64(33);
    let (mut parties, _) = parties(2, &mut rng);
    let before = parties[0].group.to_bytes();
    let dead = crate::burnout::Envelope::with_ttl(1_000, 0);
    assert_eq!(
        parties[0].group.encrypt_with_envelope(b"x", &dead, &mut rng),
        Err(Error::Burnout(BurnoutError::Expired { expired_at_ms: 1_000 }))
    );
    assert_eq!(parties[0].group.to_bytes(), before, "the ratchet did not move");
}

/// Alice's next message with `raw` where the envelope goes and the
/// envelope flag set: authentic (her chain, her signature), as a buggy or
/// newer client could send it.
fn seal_raw_envelope(party: &mut Party, content: &[u8], raw: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let g = &mut party.group;
    g.sender.encrypt_trailer(&g.id, &g.own, content, crate::burnout::payload::Trailer::raw(raw).unwrap(), rng).unwrap()
}

#[test]
fn an_authentic_message_with_a_malformed_envelope_uses_up_its_key() {
    use crate::burnout::Envelope;
    use crate::error::{BurnoutError, WireError};
    let mut rng = StdRng::seed_from_u64(34);
    let (mut parties, _) = parties(2, &mut rng);
    let valid = Envelope::with_ttl(1_000, 60_000).to_bytes();
    let mut newer = valid;
    newer[0] = 2; // a future envelope version
    let mut unknown_flag = valid;
    unknown_flag[17] |= 0x80;
    // The envelope is read from the end of the content: a missing one
    // leaves too few bytes, a truncated one reads into the content.
    let cases: [(&[u8], WireError); 5] = [
        (&[], WireError::Truncated { needed: 10 }),
        (&valid[..10], WireError::UnsupportedVersion(b'e')),
        (&[0xee; 18], WireError::UnsupportedVersion(0xee)),
        (&newer, WireError::UnsupportedVersion(2)),
        (&unknown_flag, WireError::InvalidField("unknown envelope flags")),
    ];
    for (raw, cause) in cases {
        let m = seal_raw_envelope(&mut parties[0], b"erase me", raw, &mut rng);
        let before = parties[1].group.to_bytes();
        let err = parties[1].group.decrypt(&m, 1_000).err();
        assert_eq!(err, Some(Error::Burnout(BurnoutError::MalformedEnvelope(cause))), "{raw:?}");
        assert_ne!(parties[1].group.to_bytes(), before, "{raw:?}: the key must be used up");
        assert_eq!(parties[1].group.decrypt(&m, 1_000).err(), Some(Error::DuplicateMessage), "{raw:?}");
    }

    // Out of order: the stored key of a malformed message is deleted too.
    let late = seal_raw_envelope(&mut parties[0], b"erase me", &[0xee; 18], &mut rng);
    let next = parties[0].group.encrypt(b"next", &mut rng).unwrap();
    parties[1].group.decrypt(&next, 1_000).unwrap();
    assert_eq!(parties[1].group.stored_key_count(), 1);
    assert!(matches!(parties[1].group.decrypt(&late, 1_000), Err(Error::Burnout(BurnoutError::MalformedEnvelope(_)))));
    assert_eq!(parties[1].group.stored_key_count(), 0);
    assert_eq!(parties[1].group.decrypt(&late, 1_000).err(), Some(Error::DuplicateMessage));
}

#[test]
fn unknown_payload_flags_are_refused_like_an_unknown_payload_kind() {
    let mut rng = StdRng::seed_from_u64(35);
    let (mut parties, gid) = parties(2, &mut rng);
    let alice = *parties[0].account.identity();
    let (key_id, iteration) = (parties[0].group.sender.key_id, parties[0].group.sender.ratchet.counter());
    let key = parties[0].group.sender.ratchet.clone().next_key().unwrap();
    let signer = parties[0].group.sender.signing.clone();
    let before = parties[1].group.to_bytes();
    for flags in [0x02u8, 0x03, 0x80, 0xff] {
        let m = seal_payload(
            &gid,
            &alice,
            key_id,
            iteration,
            &key,
            &signer,
            &[b"from a newer client", &[flags][..]].concat(),
        );
        assert_eq!(parties[1].group.decrypt(&m, 0).err(), Some(Error::UnexpectedPayload(flags)));
        assert_eq!(parties[1].group.to_bytes(), before, "flags {flags:#x}: nothing changes");
    }
    // The same position with a known flag still opens.
    let m = seal_as(&gid, &alice, key_id, iteration, &key, &signer, b"plain");
    assert_eq!(parties[1].group.decrypt(&m, 0).unwrap().content.into_message().unwrap(), b"plain");
}

#[test]
fn burnout_content_is_handed_out_only_as_a_burnout_message() {
    use crate::burnout::{Envelope, Opened};
    let mut rng = StdRng::seed_from_u64(36);
    let (mut parties, _) = parties(2, &mut rng);
    let env = Envelope::with_ttl(1_000, 60_000).burn_after_reading();
    let m = parties[0].group.encrypt_with_envelope(b"door code 4711", &env, &mut rng).unwrap();
    let read = parties[1].group.decrypt(&m, 1_000).unwrap();
    assert_eq!(read.envelope(), Some(&env));
    assert!(!format!("{read:?}").contains("4711"));
    let Opened::Burnout(message) = read.content else { panic!("an enveloped message opened as a plain one") };
    assert_eq!((message.envelope(), message.sender()), (&env, parties[0].account.identity()));
    assert_eq!(message.into_plaintext(1_000).unwrap().as_slice(), b"door code 4711");
}

#[test]
fn distributions_in_any_order_leave_the_newest_key_current() {
    let mut rng = StdRng::seed_from_u64(41);
    let (mut parties, _) = parties(2, &mut rng);
    let alice = *parties[0].account.identity();
    let mut sent = Vec::new();
    for _ in 0..3 {
        let _ = parties[0].group.rotate(&mut rng);
        sent.push(parties[0].group.own_distribution());
    }
    let ids: Vec<u32> = sent.iter().map(|d| d.key_id).collect();
    // Delivered newest first: d3, d2, d1.
    for d in sent.iter().rev() {
        parties[1].group.check_install(d).unwrap();
        let _ = parties[1].group.install(d.clone());
    }
    let member = &parties[1].group.members[alice.as_bytes()];
    assert_eq!(member.current.as_ref().map(|r| r.key_id), Some(ids[2]), "the newest stays current");
    assert_eq!(member.previous.as_ref().map(|r| r.key_id), Some(ids[1]));
    let m = parties[0].group.encrypt(b"after the rotations", &mut rng).unwrap();
    assert_eq!(parties[1].group.decrypt(&m, 0).unwrap().content.into_message().unwrap(), b"after the rotations");
    // The state round-trips with the generations.
    let bytes = parties[1].group.to_bytes();
    assert_eq!(Group::from_bytes(&bytes).unwrap().to_bytes(), bytes);
}

#[test]
fn a_rotation_never_reuses_an_id_a_receiver_may_still_hold() {
    use core::convert::Infallible;
    use rand_core::{TryCryptoRng, TryRng};
    /// Offers the given key ids first, then defers to a real RNG.
    struct Ids(Vec<u32>, StdRng);
    impl TryRng for Ids {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            self.1.try_next_u32()
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            self.1.try_next_u64()
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            match (dst.len(), self.0.pop()) {
                (4, Some(id)) => dst.copy_from_slice(&id.to_be_bytes()),
                (_, id) => {
                    self.0.extend(id);
                    self.1.try_fill_bytes(dst)?;
                }
            }
            Ok(())
        }
    }
    impl TryCryptoRng for Ids {}

    let mut rng = StdRng::seed_from_u64(42);
    let (mut parties, _) = parties(2, &mut rng);
    let first = parties[0].group.own_key_id();
    let _ = parties[0].group.rotate(&mut rng);
    let second = parties[0].group.own_key_id();
    // The RNG offers the previous id, then the current one, then 7: Bob may
    // still hold both of the first two, so the new key takes 7.
    let mut ids = Ids(vec![7, second, first], StdRng::seed_from_u64(43));
    let _ = parties[0].group.rotate(&mut ids);
    assert_eq!(parties[0].group.own_key_id(), 7);
}

#[test]
fn a_group_message_is_the_documented_layout_rebuilt_from_the_primitives() {
    // GROUP.md, "Group message" (format version 3), rebuilt here from the
    // primitives without the module's encoder: the signature verifies over
    // label | header | BLAKE3-derive-key(context, ciphertext), and the
    // ciphertext is plain ChaCha20 of content | flags under the expanded key.
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    use ed25519_dalek::Verifier;
    let mut rng = StdRng::seed_from_u64(41);
    let (mut parties, gid) = parties(2, &mut rng);
    let key = parties[0].group.sender.ratchet.clone().next_key().unwrap();
    let verifying = parties[0].group.sender.signing.verifying_key();
    let content = b"the documented layout";
    let m = parties[0].group.encrypt(content, &mut rng).unwrap();

    assert_eq!(&m[..2], &[3, 0x10], "version 3, type 0x10");
    assert_eq!(m.len(), 2 + 32 + 32 + 4 + 4 + 16 + 32 + content.len() + 1 + 64);
    let (signed, signature) = m.split_at(m.len() - 64);
    let (header, ciphertext) = signed.split_at(2 + 32 + 32 + 4 + 4 + 16 + 32);
    assert_eq!(&header[2..34], &gid.0);
    let mut hasher = blake3::Hasher::new_derive_key("sealpost v3 group message ciphertext digest");
    hasher.update(ciphertext);
    let to_sign = [&b"sealpost v1 group message signature"[..], header, hasher.finalize().as_bytes()].concat();
    let signature = ed25519_dalek::Signature::from_slice(signature).unwrap();
    verifying.verify(&to_sign, &signature).unwrap();

    let salt: [u8; SALT_LEN] = header[74..90].try_into().unwrap();
    let keys = key.expand(&salt);
    assert_eq!(&header[90..122], &keys.commitment);
    let mut plain = ciphertext.to_vec();
    chacha20::ChaCha20::new(&keys.key.into(), &keys.nonce.into()).apply_keystream(&mut plain);
    assert_eq!(plain, [&content[..], &[FLAG_PLAIN]].concat());
    let mut v2 = m.clone();
    v2[0] = 2;
    assert_eq!(
        parties[1].group.decrypt(&v2, 0).err(),
        Some(Error::Wire(crate::error::WireError::UnsupportedVersion(2)))
    );
    assert_eq!(parties[1].group.decrypt(&m, 0).unwrap().content.into_message().unwrap(), content);
}

#[test]
fn the_parser_takes_exactly_its_bounds_and_names_what_is_missing() {
    use crate::error::WireError;
    use crate::limits::{MAX_GROUP_MESSAGE, MAX_GROUP_PLAINTEXT};
    let mut rng = StdRng::seed_from_u64(42);
    let (mut parties, _) = parties(2, &mut rng);
    let sender = *parties[0].account.identity();
    parties[0].group.sender.ratchet.advance_to(5);
    let iteration = parties[0].group.sender.ratchet.counter();
    assert_eq!(iteration, 5);
    let key_id = parties[0].group.sender.key_id;
    let m = parties[0].group.encrypt(b"", &mut rng).unwrap();
    // The routing accessors read the header as sent.
    let parsed = GroupMessage::parse(&m).unwrap();
    assert_eq!((parsed.sender_bytes(), parsed.key_id(), parsed.iteration()), (sender.as_bytes(), key_id, iteration));
    // The shortest message: the header, one byte of ciphertext (the flags
    // of an empty content) and the signature.
    let header_len = m.len() - 1 - 64;
    assert!(GroupMessage::parse(&m).is_ok());
    let mut no_ciphertext = m[..header_len].to_vec();
    no_ciphertext.extend_from_slice(&m[header_len + 1..]);
    assert_eq!(GroupMessage::parse(&no_ciphertext).err(), Some(WireError::Truncated { needed: 1 }));
    assert_eq!(GroupMessage::parse(&m[..header_len + 10]).err(), Some(WireError::Truncated { needed: 55 }));
    // MAX_GROUP_MESSAGE bytes parse (as a structure); one more is refused
    // before anything is read.
    let mut longest = m.clone();
    longest.resize(MAX_GROUP_MESSAGE, 0);
    assert!(GroupMessage::parse(&longest).is_ok());
    longest.push(0);
    assert_eq!(
        GroupMessage::parse(&longest).err(),
        Some(WireError::TooLarge { what: "group message", len: MAX_GROUP_MESSAGE + 1, max: MAX_GROUP_MESSAGE })
    );
    // The largest content is sent and read; one byte more is refused and
    // the sender key does not move.
    let mut content = vec![7u8; MAX_GROUP_PLAINTEXT];
    let sent = parties[0].group.encrypt(&content, &mut rng).unwrap();
    assert!(sent.len() <= MAX_GROUP_MESSAGE);
    assert_eq!(parties[1].group.decrypt(&sent, 0).unwrap().content.into_message().unwrap().len(), MAX_GROUP_PLAINTEXT);
    content.push(7);
    let before = parties[0].group.to_bytes();
    assert!(matches!(parties[0].group.encrypt(&content, &mut rng), Err(Error::TooLarge { .. })));
    assert_eq!(parties[0].group.to_bytes(), before);
}

#[test]
fn a_sender_key_shows_its_id_and_iteration_and_no_key() {
    let mut rng = StdRng::seed_from_u64(43);
    let (parties, _) = parties(1, &mut rng);
    let sender = &parties[0].group.sender;
    let shown = format!("{sender:?}");
    assert_eq!(shown, format!("SenderKey {{ key_id: {}, iteration: 0, .. }}", sender.key_id));
}

/// The accessor and the short `Debug` form (mutation testing runs the unit
/// tests only, where the doc examples showing the same do not run).
#[test]
fn a_group_id_gives_back_its_bytes_and_shows_its_first_eight() {
    let bytes: [u8; 32] = core::array::from_fn(|i| 0xf0 ^ i as u8);
    let id = GroupId::from_bytes(bytes);
    assert_eq!(id.as_bytes(), &bytes);
    assert_eq!(format!("{id:?}"), "GroupId(f0f1f2f3f4f5f6f7…)");
}

/// What a group reports about itself and its members, through every
/// accessor, and how membership changes move it.
#[test]
fn a_group_reports_its_members_keys_and_iteration() {
    use crate::identity::IdentityKeyPair;
    use crate::limits::MAX_GROUP_MEMBERS;
    let mut rng = StdRng::seed_from_u64(60);
    let (mut parties, gid) = parties(3, &mut rng);
    let ids: Vec<IdentityKey> = parties.iter().map(|p| *p.account.identity()).collect();
    let stranger = *IdentityKeyPair::from_seed(&[77; 32]).public();
    // Each other member sends two messages; only the second arrives, so
    // the key of the first is stored, one per sender.
    for i in 1..3 {
        let _lost = parties[i].group.encrypt(b"first", &mut rng).unwrap();
        let second = parties[i].group.encrypt(b"second", &mut rng).unwrap();
        parties[0].group.decrypt(&second, 0).unwrap();
    }
    let (first, others) = parties.split_first_mut().unwrap();
    let g = &mut first.group;

    assert_eq!(g.id(), &gid);
    assert_eq!(g.own_identity(), &ids[0]);
    assert_eq!(g.member_count(), 2);
    let mut expected = vec![ids[1], ids[2]];
    expected.sort_by_key(|k| k.to_bytes());
    assert_eq!(g.members().copied().collect::<Vec<_>>(), expected);
    assert!(g.is_member(&ids[1]) && g.is_member(&ids[2]));
    assert!(!g.is_member(&ids[0]), "not a member of one's own group list");
    assert!(!g.is_member(&stranger));
    for (i, other) in others.iter().enumerate() {
        assert_eq!(g.member_key_id(&ids[i + 1]), Some(other.group.own_key_id()));
    }
    assert_eq!(g.member_key_id(&stranger), None);
    assert_eq!(g.members_without_key().count(), 0);
    let stored = g.stored_key_count();
    assert_eq!(stored, g.recount_stored());
    assert_eq!(stored, 2);

    // A new member has no key until their distribution arrives.
    assert_eq!(g.add_member(stranger), Ok(true));
    assert_eq!(g.add_member(stranger), Ok(false), "already a member");
    assert_eq!(g.add_member(ids[0]), Ok(false), "oneself");
    assert_eq!(g.member_count(), 3);
    assert_eq!(g.member_key_id(&stranger), None);
    assert_eq!(g.members_without_key().copied().collect::<Vec<_>>(), [stranger]);

    // Sending moves the own iteration; a rotation starts a new key at 0.
    assert_eq!(g.own_iteration(), 0);
    g.encrypt(b"one", &mut rng).unwrap();
    g.encrypt(b"two", &mut rng).unwrap();
    assert_eq!(g.own_iteration(), 2);
    let before = g.own_key_id();
    let rotated = g.rotate(&mut rng);
    assert_eq!(rotated.key_id, g.own_key_id());
    assert_ne!(rotated.key_id, before);
    assert_eq!(g.own_iteration(), 0);

    // Removing a member drops their stored keys and rotates.
    assert_eq!(g.remove_member(&ids[1], &mut rng).map(|r| r.key_id).ok(), Some(g.own_key_id()));
    assert!(!g.is_member(&ids[1]));
    assert_eq!(g.stored_key_count(), 1);
    assert_eq!(g.stored_key_count(), g.recount_stored());
    assert_eq!(g.remove_member(&ids[1], &mut rng).err(), Some(Error::Group(GroupError::NotGroupMember)));
    assert_eq!(
        format!("{g:?}"),
        format!(
            "Group {{ id: {gid:?}, own: {:?}, own_key_id: {}, own_iteration: 0, members: 2, stored_keys: {}, .. }}",
            ids[0],
            g.own_key_id(),
            g.stored_key_count()
        )
    );

    // A restored group must rotate (or be told it may resume) before
    // sending: its sender key may have sent past the stored iteration.
    assert!(!g.needs_rotation());
    let mut restored = Group::from_bytes(&g.to_bytes()).unwrap();
    assert!(restored.needs_rotation());
    assert_eq!(restored.encrypt(b"x", &mut rng).err(), Some(Error::Group(GroupError::RotationRequired)));
    restored.resume_without_rotation();
    assert!(!restored.needs_rotation());
    assert!(restored.encrypt(b"x", &mut rng).is_ok());
    let mut again = Group::from_bytes(&g.to_bytes()).unwrap();
    let _ = again.rotate(&mut rng);
    assert!(!again.needs_rotation());

    // The member bound counts oneself.
    let mut big = Group::new(gid, ids[0], [], &mut rng).unwrap();
    for i in 0..MAX_GROUP_MEMBERS - 1 {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
        assert_eq!(big.add_member(*IdentityKeyPair::from_seed(&seed).public()), Ok(true));
    }
    assert_eq!(big.add_member(stranger), Err(Error::LimitReached { what: "group members", max: MAX_GROUP_MEMBERS }));
    assert_eq!(big.member_count(), MAX_GROUP_MEMBERS - 1);
}

/// A distribution holds the sender's chain: its buffer is sized exactly
/// (no reallocation leaves a copy behind) at every frontier size.
#[test]
fn a_distribution_is_encoded_into_a_buffer_of_exactly_its_length() {
    use super::distribution::distribution_len;
    let mut rng = StdRng::seed_from_u64(61);
    let (mut parties, _) = parties(2, &mut rng);
    let sender = &mut parties[0].group;
    let mut lengths = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let bytes = sender.own_distribution().encode();
        let expected = distribution_len(sender.own_iteration());
        assert_eq!((bytes.len(), bytes.capacity()), (expected, expected), "iteration {}", sender.own_iteration());
        lengths.insert(expected);
        sender.encrypt(b"", &mut rng).unwrap();
    }
    let d = sender.own_distribution();
    assert_eq!(
        format!("{d:?}"),
        format!(
            "Distribution {{ group_id: {:?}, sender: {:?}, key_id: {}, iteration: 300, .. }}",
            sender.id(),
            sender.own_identity(),
            sender.own_key_id()
        )
    );
    // 206 bytes plus 32 per frontier subtree, 1 to 8 of them.
    assert_eq!(lengths.into_iter().collect::<Vec<_>>(), (1..=8).map(|n| 206 + 32 * n).collect::<Vec<_>>());
}

/// `distribute` seals our key for each session's peer, refusing a session
/// that is not ours or whose peer is not a member; receivers install it.
#[test]
fn distribute_seals_for_members_only_and_their_sessions_install_it() {
    let mut rng = StdRng::seed_from_u64(62);
    let mut accounts: Vec<Account> = (0..3).map(|_| Account::new(&mut rng, 0)).collect();
    let ids: Vec<IdentityKey> = accounts.iter().map(|a| *a.identity()).collect();
    let gid = GroupId::random(&mut rng);
    let mut alices = Group::new(gid, ids[0], [ids[1]], &mut rng).unwrap();
    let mut bobs = Group::new(gid, ids[1], [ids[0]], &mut rng).unwrap();
    let (first, rest) = accounts.split_first_mut().unwrap();
    let (mut to_bob, mut bob_from_alice) = sessions(first, &mut rest[0], &mut rng);
    let (mut to_carol, _) = sessions(first, &mut rest[1], &mut rng);
    let (mut bob_to_carol, _) = {
        let (bob, carol) = rest.split_at_mut(1);
        sessions(&bob[0], &mut carol[0], &mut rng)
    };

    let out = alices.distribute([&mut to_bob], &mut rng).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, ids[1]);
    let installed = bobs.install_distribution(&mut accounts[1], &mut bob_from_alice, &out[0].1).unwrap();
    assert_eq!((installed.sender, installed.key_id, installed.newly_installed), (ids[0], alices.own_key_id(), true));
    assert_eq!(bobs.member_key_id(&ids[0]), Some(alices.own_key_id()));
    let message = alices.encrypt(b"hello", &mut rng).unwrap();
    assert_eq!(bobs.decrypt(&message, 0).unwrap().into_opened().into_message(), Some(b"hello".to_vec()));

    let before = to_bob.to_bytes();
    assert_eq!(
        alices.distribute([&mut to_bob, &mut to_carol], &mut rng).err(),
        Some(Error::Group(GroupError::NotGroupMember)),
        "Carol is not in the group"
    );
    assert_eq!(
        alices.distribute([&mut to_bob, &mut bob_to_carol], &mut rng).err(),
        Some(Error::Session(SessionError::PeerMismatch)),
        "not Alice's session"
    );
    assert_eq!(to_bob.to_bytes(), before, "a refused distribution encrypts nothing");
    assert_eq!(alices.distribute([], &mut rng).unwrap(), []);
}

/// A second key under a key id we hold, with another signing key, is a
/// conflict; a key of the same generation as the current one (a sender
/// that handed out two) is kept as previous, never made current.
#[test]
fn install_refuses_a_conflicting_key_and_never_promotes_an_equal_generation() {
    let mut rng = StdRng::seed_from_u64(63);
    let (mut parties, _) = parties(2, &mut rng);
    let theirs = parties[1].group.own_distribution();
    let sender = theirs.sender;
    let receiver = &mut parties[0].group;
    assert_eq!(receiver.check_install(&theirs), Ok(()), "the same key again is fine");
    assert!(!receiver.install(theirs.clone()).newly_installed);

    let mut conflicting = theirs.clone();
    conflicting.signing = ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key();
    assert_eq!(
        receiver.check_install(&conflicting),
        Err(Error::Group(GroupError::SenderKeyConflict { key_id: theirs.key_id }))
    );

    let mut twin = theirs.clone();
    twin.key_id = theirs.key_id.wrapping_add(1);
    assert_eq!(receiver.check_install(&twin), Ok(()));
    assert!(receiver.install(twin).newly_installed, "kept, as the previous key");
    assert_eq!(receiver.member_key_id(&sender), Some(theirs.key_id), "the current key stays current");

    let mut newer = theirs.clone();
    newer.key_id = theirs.key_id.wrapping_add(2);
    newer.generation = theirs.generation + 1;
    assert!(receiver.install(newer).newly_installed);
    assert_eq!(receiver.member_key_id(&sender), Some(theirs.key_id.wrapping_add(2)));
}

#[test]
fn a_group_plaintext_shows_its_origin_and_only_the_length_of_its_content() {
    let mut rng = StdRng::seed_from_u64(64);
    let (mut parties, _) = parties(2, &mut rng);
    let message = parties[1].group.encrypt(b"secret plans", &mut rng).unwrap();
    let opened = parties[0].group.decrypt(&message, 0).unwrap();
    assert_eq!(
        format!("{opened:?}"),
        format!(
            "GroupPlaintext {{ sender: {:?}, key_id: {}, iteration: 0, content: Message {{ len: 12 }} }}",
            parties[1].account.identity(),
            parties[1].group.own_key_id()
        )
    );
    assert!(opened.envelope().is_none());
}

/// Past `MAX_GROUP_STORED_KEYS` stored entries, the sender key holding the
/// most loses its oldest, until the bound holds again (exactly).
#[test]
fn the_stored_key_bound_evicts_the_oldest_of_the_largest_holder() {
    use super::chain::Subtree;
    use crate::limits::MAX_GROUP_STORED_KEYS;
    let mut rng = StdRng::seed_from_u64(65);
    let (mut parties, _) = parties(3, &mut rng);
    let (noisy, quiet) = (*parties[1].account.identity(), *parties[2].account.identity());
    let fill = |group: &mut Group, sender: &IdentityKey, count: u32| {
        let receiver = group.members.get_mut(sender.as_bytes()).unwrap().current.as_mut().unwrap();
        for i in 0..count {
            let start = 1_000_000 + i;
            receiver.skipped.insert(start, Subtree::new(start, 0, [7; 32]).unwrap());
        }
    };
    let bound = MAX_GROUP_STORED_KEYS as u32;
    let g = &mut parties[0].group;
    fill(g, &noisy, bound - 5_000);
    fill(g, &quiet, 5_000);
    g.stored = g.recount_stored();
    assert_eq!(g.stored_key_count(), MAX_GROUP_STORED_KEYS, "at the bound, nothing evicted yet");

    // The quiet sender's first message is lost, the second arrives: one
    // more stored key, and the noisy sender's oldest goes.
    let _lost = parties[2].group.encrypt(b"lost", &mut rng).unwrap();
    let second = parties[2].group.encrypt(b"second", &mut rng).unwrap();
    let g = &mut parties[0].group;
    g.decrypt(&second, 0).unwrap();
    assert_eq!(g.stored_key_count(), MAX_GROUP_STORED_KEYS);
    assert_eq!(g.recount_stored(), MAX_GROUP_STORED_KEYS);
    let held = |g: &Group, sender: &IdentityKey| g.members[sender.as_bytes()].stored();
    assert_eq!(held(g, &noisy), MAX_GROUP_STORED_KEYS - 5_001);
    assert_eq!(held(g, &quiet), 5_001);
    let oldest = g.members[noisy.as_bytes()].current.as_ref().unwrap().skipped.keys().next().copied();
    assert_eq!(oldest, Some(1_000_001), "the oldest entry was the one evicted");
}

/// The size bound behind `MAX_STATE` (a full group must fit): the formula
/// matches a real state of that shape, every key at its longest frontier.
#[test]
fn the_longest_group_state_is_the_formula_behind_the_size_bound() {
    use super::state::longest_state_len;
    let mut rng = StdRng::seed_from_u64(66);
    let (mut parties, _) = parties(3, &mut rng);
    for i in 1..3 {
        // 257 messages, only the last received: the reader is at 257 (the
        // longest frontier) and stores block 0 as one entry.
        let mut last = Vec::new();
        for _ in 0..257 {
            last = parties[i].group.encrypt(b"", &mut rng).unwrap();
        }
        parties[0].group.decrypt(&last, 0).unwrap();
        // A new key, read once: current at 1, the old one previous.
        let _ = parties[i].group.rotate(&mut rng);
        let d = parties[i].group.own_distribution();
        parties[0].group.check_install(&d).unwrap();
        assert!(parties[0].group.install(d).newly_installed);
        let m = parties[i].group.encrypt(b"", &mut rng).unwrap();
        parties[0].group.decrypt(&m, 0).unwrap();
    }
    let g = &mut parties[0].group;
    let _ = g.rotate(&mut rng);
    g.encrypt(b"", &mut rng).unwrap();
    assert_eq!(g.stored_key_count(), 2);
    assert_eq!(g.to_bytes().len(), longest_state_len(2, 2));
}

/// A stored group is written into a buffer of exactly its length (it holds
/// every chain's secrets), and the parser takes only states the library
/// can produce.
#[test]
fn a_stored_group_is_sized_exactly_and_inconsistent_states_are_refused() {
    use crate::error::WireError;
    use crate::identity::IdentityKeyPair;
    use crate::limits::MAX_GROUP_MEMBERS;
    let mut rng = StdRng::seed_from_u64(67);
    let (mut parties, _) = parties(3, &mut rng);
    let sent: Vec<_> = (0..5).map(|_| parties[1].group.encrypt(b"x", &mut rng).unwrap()).collect();
    parties[0].group.decrypt(&sent[4], 0).unwrap();
    let stranger = *IdentityKeyPair::from_seed(&[78; 32]).public();
    assert_eq!(parties[0].group.add_member(stranger), Ok(true));
    let good = parties[0].group.clone();
    let bytes = good.to_bytes();
    assert_eq!((bytes.len(), bytes.capacity()), (good.encoded_len(), good.encoded_len()));
    let restored = Group::from_bytes(&bytes).unwrap();
    assert_eq!(restored.members_without_key().copied().collect::<Vec<_>>(), [stranger], "a member without a key");
    assert_eq!(restored.stored_key_count(), good.stored_key_count());
    assert_eq!(restored.to_bytes(), bytes);

    let refused = |g: &Group| Group::from_bytes(&g.to_bytes()).err().unwrap();
    let invalid = |what: &'static str| Error::Wire(WireError::InvalidField(what));

    // Our own key's history: a previous id exactly when the generation is
    // above 0, and never our current id.
    let history = invalid("own sender key history");
    let mut g = good.clone();
    g.sender.previous_key_id = Some(g.sender.key_id.wrapping_add(1));
    assert_eq!(refused(&g), history, "generation 0 with a previous key");
    g.sender.generation = 1;
    assert!(Group::from_bytes(&g.to_bytes()).is_ok());
    g.sender.previous_key_id = Some(g.sender.key_id);
    assert_eq!(refused(&g), history, "the previous id is the current one");
    g.sender.previous_key_id = None;
    assert_eq!(refused(&g), history, "generation 1 without a previous key");

    // Ourselves among the members.
    let mut g = good.clone();
    g.members.insert(g.own.to_bytes(), Member::new(g.own));
    assert_eq!(refused(&g), invalid("group members must be ascending and exclude us"));

    // A member's previous key must be another id and an older generation.
    let sender = *parties[1].account.identity();
    let slots = invalid("sender keys: duplicate id or previous not older");
    let mut g = good.clone();
    let member = g.members.get_mut(sender.as_bytes()).unwrap();
    let mut previous = member.current.clone().unwrap();
    previous.key_id = previous.key_id.wrapping_add(1);
    member.current.as_mut().unwrap().generation = 1;
    member.previous = Some(previous.clone());
    assert!(Group::from_bytes(&g.to_bytes()).is_ok(), "another id, an older generation");
    let member = g.members.get_mut(sender.as_bytes()).unwrap();
    member.previous.as_mut().unwrap().generation = 1;
    assert_eq!(refused(&g), slots, "the same generation");
    let member = g.members.get_mut(sender.as_bytes()).unwrap();
    let previous = member.previous.as_mut().unwrap();
    previous.generation = 0;
    previous.key_id = member.current.as_ref().unwrap().key_id;
    assert_eq!(refused(&g), slots, "the same id");

    // The member count field (after the fixed part and our ratchet) is
    // bounded by MAX_GROUP_MEMBERS - 1 (we are not counted).
    let offset = 2 + 32 + 32 + 4 + 4 + 1 + super::chain::encoded_len(good.own_iteration()) + 32;
    assert_eq!(bytes[offset..offset + 4], 3u32.to_be_bytes());
    let mut counted = bytes.to_vec();
    counted[offset..offset + 4].copy_from_slice(&(MAX_GROUP_MEMBERS as u32).to_be_bytes());
    assert_eq!(
        Group::from_bytes(&counted).err(),
        Some(Error::Wire(WireError::TooLarge {
            what: "group members",
            len: MAX_GROUP_MEMBERS,
            max: MAX_GROUP_MEMBERS - 1
        }))
    );
}

/// A stored group holding exactly `MAX_GROUP_STORED_KEYS` skipped-key
/// entries loads; one more is refused.
#[test]
fn a_stored_group_over_the_stored_key_bound_is_refused() {
    use super::chain::Subtree;
    use crate::identity::IdentityKeyPair;
    use crate::limits::MAX_GROUP_STORED_KEYS;
    let (_, parties) = read_at_5000(68, 1);
    let sender = *parties[1].account.identity();
    let mut template = parties[0].group.members[sender.as_bytes()].current.clone().unwrap();
    template.skipped.clear();
    // Inside the out-of-order window of iteration 5000, every other
    // iteration (no two entries are siblings): up to 1,092 per key.
    let window = super::receiver::window_start(5000);
    let receiver = |key_id: u32, generation: u32, entries: u32| {
        let mut r = template.clone();
        (r.key_id, r.generation) = (key_id, generation);
        for i in 0..entries {
            let start = window + 2 * i;
            r.skipped.insert(start, Subtree::new(start, 0, [7; 32]).unwrap());
        }
        r
    };
    let mut g = parties[0].group.clone();
    g.members.get_mut(sender.as_bytes()).unwrap().current.as_mut().unwrap().skipped.clear();
    let mut left = MAX_GROUP_STORED_KEYS as u32 + 1;
    for i in 0u8.. {
        if left == 0 {
            break;
        }
        let identity = *IdentityKeyPair::from_seed(&[100 + i; 32]).public();
        let (current, previous) = (left.min(1_092), left.saturating_sub(1_092).min(1_092));
        left -= current + previous;
        let mut member = Member::new(identity);
        member.current = Some(receiver(10, 1, current));
        member.previous = (previous > 0).then(|| receiver(11, 0, previous));
        g.members.insert(identity.to_bytes(), member);
    }
    g.stored = g.recount_stored();
    assert_eq!(g.stored_key_count(), MAX_GROUP_STORED_KEYS + 1);
    assert_eq!(
        Group::from_bytes(&g.to_bytes()).err(),
        Some(Error::LimitReached { what: "stored group keys", max: MAX_GROUP_STORED_KEYS })
    );
    let first = *IdentityKeyPair::from_seed(&[100; 32]).public();
    let member = g.members.get_mut(first.as_bytes()).unwrap();
    assert!(member.current.as_mut().unwrap().skipped.pop_last().is_some());
    let restored = Group::from_bytes(&g.to_bytes()).unwrap();
    assert_eq!(restored.stored_key_count(), MAX_GROUP_STORED_KEYS);
}

/// A stored receiver's skipped keys are ascending, disjoint, never two
/// siblings (their parent would be the one entry) and all before its
/// next iteration.
#[test]
fn stored_skipped_keys_must_be_canonical() {
    use super::chain::Subtree;
    use crate::error::WireError;
    let (_, parties) = read_at_5000(69, 1);
    let sender = *parties[1].account.identity();
    let base = parties[0].group.clone();
    let window = super::receiver::window_start(5000);
    let with = |entries: &[(u32, u8)]| {
        let mut g = base.clone();
        let r = g.members.get_mut(sender.as_bytes()).unwrap().current.as_mut().unwrap();
        r.skipped.clear();
        for &(start, level) in entries {
            r.skipped.insert(start, Subtree::new(window + start, level, [7; 32]).unwrap());
        }
        g.stored = g.recount_stored();
        Group::from_bytes(&g.to_bytes()).err()
    };
    let refused = Some(Error::Wire(WireError::InvalidField(
        "group skipped keys must be ascending, disjoint, canonical and before the next iteration",
    )));
    assert_eq!(with(&[(0, 0), (2, 1), (5, 0)]), None, "disjoint, no siblings");
    assert_eq!(with(&[(0, 0), (1, 0)]), refused, "siblings");
    assert_eq!(with(&[(0, 1), (2, 1)]), refused, "siblings one level up");
    assert_eq!(with(&[(2, 1), (3, 0)]), refused, "overlapping");
    // Iteration 5000 was received: the receiver is at 5001.
    assert_eq!(with(&[(0, 0), (5001 - window, 0)]), refused, "the next iteration itself");
    assert_eq!(with(&[(5000 - window, 0)]), None, "the iteration before it");
}
