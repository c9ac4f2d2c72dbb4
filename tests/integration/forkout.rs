//! Forkout end to end: sealing to 1, 2 and 500 recipients, the relay
//! split, opening, and every way a delivery can be wrong.

use sealpost::forkout::{
    self, ForkoutBundle, ForkoutDelivery, ForkoutPlan, Recipient, SealPolicy, SealedForkout, UnreachableReason,
};
use sealpost::limits::{MAX_FORKOUT_BODY, MAX_FORKOUT_RECIPIENTS};
use sealpost::{Account, Error, PreKeyBundle, WireError, burnout::Envelope};
use sealpost::{BurnoutError, ForkoutError};
use sealpost_testkit::forkout::Peer;
use sealpost_testkit::{ForkoutWorld, NOW, accounts, contains, fetch_bundle, rng};

/// A sender with `n` recipients, sessions confirmed in both directions.
fn world(n: usize, seed: u64) -> ForkoutWorld {
    ForkoutWorld::new(seed).with_peers(n)
}

fn body_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn seal_to_all(w: &mut ForkoutWorld, body: &[u8], envelope: Option<Envelope>) -> SealedForkout {
    let (sealed, report) = w.seal_to_all(body.to_vec(), envelope);
    assert!(report.unreachable.is_empty() && report.new_sessions.is_empty());
    sealed
}

/// State of one recipient, for "nothing changed" checks.
fn snapshot(p: &Peer) -> (Vec<u8>, Vec<u8>) {
    (p.account.to_bytes().to_vec(), p.session.to_bytes().to_vec())
}

/// The parts of an encoded delivery, for building tampered ones.
struct Parts {
    id: Vec<u8>,
    slot: Vec<u8>,
    key_check: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn parts(delivery: &[u8]) -> Parts {
    assert_eq!(&delivery[..2], &[2, 0x21]);
    let id = delivery[2..34].to_vec();
    let slot_len = u32::from_be_bytes(delivery[34..38].try_into().unwrap()) as usize;
    let slot = delivery[38..38 + slot_len].to_vec();
    let rest = &delivery[38 + slot_len..];
    let key_check = rest[..32].to_vec();
    let ciphertext_len = u32::from_be_bytes(rest[32..36].try_into().unwrap()) as usize;
    let ciphertext = rest[36..].to_vec();
    assert_eq!(ciphertext.len(), ciphertext_len);
    Parts { id, slot, key_check, ciphertext }
}

fn build(p: &Parts) -> Vec<u8> {
    let mut out = vec![2, 0x21];
    out.extend_from_slice(&p.id);
    out.extend_from_slice(&(p.slot.len() as u32).to_be_bytes());
    out.extend_from_slice(&p.slot);
    out.extend_from_slice(&p.key_check);
    out.extend_from_slice(&(p.ciphertext.len() as u32).to_be_bytes());
    out.extend_from_slice(&p.ciphertext);
    out
}

#[test]
fn one_two_and_five_hundred_recipients_read_the_same_body_and_reply_one_to_one() {
    for (n, body_len) in [(1usize, 10_000usize), (2, 1), (500, 1024)] {
        let mut w = world(n, 100 + n as u64);
        let body = body_of(body_len);
        let sealed = seal_to_all(&mut w, &body, None);
        assert_eq!(sealed.recipient_count(), n);
        let bundle = sealed.to_bytes();
        assert_eq!(bundle.len(), sealed.encoded_len());
        // The body is in the bundle once, whatever the number of recipients.
        // Under 300 bytes (with the bundle's own fields, for n = 1), plus
        // at most 134 of the post-quantum ratchet (its epoch field and one
        // chunk).
        let per_recipient = (bundle.len() - body_len) / n;
        assert!(per_recipient < 300 + 134, "{per_recipient} bytes per recipient");

        let deliveries: Vec<_> = forkout::split_all(&bundle).unwrap().collect();
        assert_eq!(deliveries.len(), n);
        for peer in &mut w.peers {
            let (_, delivery) = deliveries.iter().find(|(id, _)| id == peer.account.identity().as_bytes()).unwrap();
            assert_eq!(delivery, &forkout::split(&bundle, peer.account.identity()).unwrap());
            assert_eq!(delivery, &sealed.delivery(peer.account.identity()).unwrap().to_vec());
            let opened = forkout::open(&mut peer.account, &mut peer.session, delivery, NOW).unwrap();
            assert_eq!(opened.body(), Some(body.as_slice()));
            assert_eq!(opened.id(), sealed.id());
            assert_eq!(opened.sender(), w.sender.identity());
            assert!(opened.envelope().is_none());
            // The reply goes back 1:1 and only the sender's session with
            // this peer reads it.
            let reply = peer.session.encrypt(b"got it", &mut w.rng).unwrap();
            assert_eq!(w.sender.decrypt(&mut peer.to_peer, &reply).unwrap(), b"got it");
        }
    }
}

#[test]
fn first_contact_through_a_prekey_bundle_returns_the_session_for_replies() {
    let mut rng = rng(7);
    let (manager, mut carol) = accounts(&mut rng, 3);
    let bundle = fetch_bundle(&carol);
    let (sealed, report) = forkout::seal(
        &manager,
        b"welcome to the team".to_vec(),
        [Recipient::Bundle(bundle)],
        SealPolicy::AllOrNothing,
        None,
        &mut rng,
    )
    .unwrap();
    let mut to_carol = report.new_sessions.into_iter().next().unwrap();
    assert_eq!(to_carol.peer_identity(), carol.identity());

    let delivery = forkout::split(&sealed.to_bytes(), carol.identity()).unwrap();
    let parsed = ForkoutDelivery::parse(&delivery).unwrap();
    assert!(parsed.is_first_contact());
    assert_eq!(parsed.claimed_sender().as_ref(), Some(manager.identity()));

    let (mut carol_session, opened) = forkout::open_new(&mut carol, &delivery, NOW).unwrap();
    assert_eq!(opened.unwrap().body(), Some(&b"welcome to the team"[..]));
    assert_eq!(carol.remaining_one_time_prekeys(), 2, "the one-time prekey is consumed on success");
    // Replay: the one-time prekey is gone, the account refuses.
    let before = carol.to_bytes();
    assert!(forkout::open_new(&mut carol, &delivery, NOW).is_err());
    assert_eq!(carol.to_bytes(), before);
    // ... and the session refuses it as a duplicate.
    assert_eq!(forkout::open(&mut carol, &mut carol_session, &delivery, NOW).err(), Some(Error::DuplicateMessage));

    // The manager's later messages continue in the same session.
    let later = to_carol.encrypt(b"lunch at noon?", &mut rng).unwrap();
    assert_eq!(carol.decrypt(&mut carol_session, &later).unwrap(), b"lunch at noon?");
    let reply = carol_session.encrypt(b"sure", &mut rng).unwrap();
    assert_eq!(to_carol.decrypt(&reply).unwrap(), b"sure");
}

#[test]
fn a_relay_checks_slot_framing_and_the_recipient_checks_the_identity() {
    // The bundle parser only frames slots (O(slot) splits); a setup slot
    // naming an identity key that does not decode passes the relay and is
    // refused, typed, by the recipient's parser.
    let mut rng = rng(8);
    let (manager, carol) = accounts(&mut rng, 3);
    let (sealed, _) = forkout::seal(
        &manager,
        b"hello".to_vec(),
        [Recipient::Bundle(fetch_bundle(&carol))],
        SealPolicy::AllOrNothing,
        None,
        &mut rng,
    )
    .unwrap();
    let mut bundle = sealed.to_bytes();
    let at = bundle.windows(32).position(|w| w == manager.identity().as_bytes()).expect("the setup names the sender");
    bundle[at..at + 32].fill(0xff); // y >= p: not an encoding of any point
    let parsed = ForkoutBundle::parse(&bundle).expect("the relay accepts the framing");
    let delivery = parsed.delivery(carol.identity()).unwrap().to_vec();
    assert_eq!(forkout::split(&bundle, carol.identity()).unwrap(), delivery);
    assert_eq!(ForkoutDelivery::parse(&delivery).err(), Some(WireError::InvalidField("initiator identity")));
}

#[test]
fn a_recipient_opens_after_many_other_one_to_one_messages_in_the_same_session() {
    let mut w = world(3, 11);
    // Traffic before the Forkout, read at once.
    for i in 0..40u32 {
        let peer = &mut w.peers[0];
        let m = peer.to_peer.encrypt(&i.to_be_bytes(), &mut w.rng).unwrap();
        assert_eq!(peer.account.decrypt(&mut peer.session, &m).unwrap(), i.to_be_bytes());
        if i % 7 == 0 {
            let r = peer.session.encrypt(b"ack", &mut w.rng).unwrap();
            peer.to_peer.decrypt(&r).unwrap();
        }
    }
    let body = body_of(3000);
    let sealed = seal_to_all(&mut w, &body, None);
    let delivery = sealed.delivery(w.peers[0].account.identity()).unwrap().to_vec();
    drop(sealed);

    // Traffic after the Forkout in both directions, read before it: the
    // slot's key is kept as a skipped key across several DH ratchet steps.
    let peer = &mut w.peers[0];
    let mut later = Vec::new();
    for i in 0..60u32 {
        later.push(peer.to_peer.encrypt(&i.to_be_bytes(), &mut w.rng).unwrap());
    }
    for (i, m) in later.iter().enumerate().rev() {
        assert_eq!(peer.account.decrypt(&mut peer.session, m).unwrap(), (i as u32).to_be_bytes());
    }
    for round in 0..5 {
        let r = peer.session.encrypt(b"reply", &mut w.rng).unwrap();
        peer.to_peer.decrypt(&r).unwrap();
        let m = peer.to_peer.encrypt(&[round], &mut w.rng).unwrap();
        peer.account.decrypt(&mut peer.session, &m).unwrap();
    }
    let skipped_before = peer.session.skipped_key_count();
    assert!(skipped_before >= 1);
    let opened = forkout::open(&mut peer.account, &mut peer.session, &delivery, NOW).unwrap();
    assert_eq!(opened.body(), Some(body.as_slice()));
    assert_eq!(peer.session.skipped_key_count(), skipped_before - 1, "the slot's skipped key is used up");
    assert_eq!(
        forkout::open(&mut peer.account, &mut peer.session, &delivery, NOW).err(),
        Some(Error::DuplicateMessage)
    );
}

#[test]
fn every_flipped_or_dropped_byte_of_a_delivery_is_refused_and_changes_nothing() {
    // Two peers and Carol, who has only published a bundle.
    let mut w = world(2, 12).with_strangers(1, 1);
    let envelope = Envelope::with_ttl(NOW, 3_600_000);
    let (sealed, _) = w.seal_to_all(body_of(200), Some(envelope));
    let mut carol = w.strangers.pop().unwrap();

    let peer = &mut w.peers[0];
    let delivery = sealed.delivery(peer.account.identity()).unwrap().to_vec();
    let before = snapshot(peer);
    for i in 0..delivery.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = delivery.clone();
            bad[i] ^= mask;
            let result = forkout::open(&mut peer.account, &mut peer.session, &bad, NOW);
            assert!(result.is_err(), "flipping byte {i} with {mask:#x} was accepted");
            assert_eq!(snapshot(peer), before, "flipping byte {i} changed state");
        }
    }
    for len in 0..delivery.len() {
        assert!(forkout::open(&mut peer.account, &mut peer.session, &delivery[..len], NOW).is_err());
        assert_eq!(snapshot(peer), before);
    }
    let mut longer = delivery.clone();
    longer.push(0);
    assert_eq!(
        forkout::open(&mut peer.account, &mut peer.session, &longer, NOW).err(),
        Some(Error::Wire(WireError::TrailingBytes(1)))
    );

    // The same for a first-contact delivery (the slot is a setup message).
    let first = sealed.delivery(carol.identity()).unwrap().to_vec();
    let carol_before = carol.to_bytes();
    for i in 0..first.len() {
        let mut bad = first.clone();
        bad[i] ^= 0x01;
        assert!(forkout::open_new(&mut carol, &bad, NOW).is_err(), "first contact: byte {i} accepted");
        assert_eq!(carol.to_bytes(), carol_before, "first contact: byte {i} changed the account");
    }

    // After all that, the genuine deliveries still open.
    let opened = forkout::open(&mut peer.account, &mut peer.session, &delivery, NOW).unwrap();
    assert_eq!(opened.body(), None, "under an envelope: only as a Burnout message");
    let message = opened.into_opened().into_burnout().unwrap();
    assert_eq!(message.into_plaintext(NOW).unwrap().as_slice(), body_of(200));
    assert_eq!(forkout::open_new(&mut carol, &first, NOW).unwrap().1.unwrap().envelope(), Some(&envelope));
}

#[test]
fn swapped_truncated_or_tampered_bodies_and_moved_slots_are_typed_errors() {
    let mut w = world(2, 13);
    let a = seal_to_all(&mut w, &body_of(500), None);
    let b = seal_to_all(&mut w, &body_of(500).iter().map(|x| x ^ 0x55).collect::<Vec<_>>(), None);
    let peer = &mut w.peers[1];
    let da = a.delivery(peer.account.identity()).unwrap().to_vec();
    let db = b.delivery(peer.account.identity()).unwrap().to_vec();
    let (pa, pb) = (parts(&da), parts(&db));
    let before = snapshot(peer);
    let mut open = |bytes: &[u8]| {
        let r = forkout::open(&mut peer.account, &mut peer.session, bytes, NOW).map(|o| o.into_body());
        assert_eq!(snapshot(peer), before);
        r
    };

    // A delivery of format version 1 (SHA-256 commitment).
    let mut v1 = da.clone();
    v1[0] = 1;
    assert_eq!(open(&v1), Err(Error::Wire(WireError::UnsupportedVersion(1))));
    // Body swap between two Forkouts (same length).
    let swapped = Parts { key_check: pb.key_check.clone(), ciphertext: pb.ciphertext.clone(), ..parts(&da) };
    assert_eq!(open(&build(&swapped)), Err(Error::Forkout(ForkoutError::BodyCommitmentMismatch)));
    // Only the ciphertext swapped, key check kept.
    let swapped = Parts { ciphertext: pb.ciphertext.clone(), ..parts(&da) };
    assert_eq!(open(&build(&swapped)), Err(Error::Forkout(ForkoutError::BodyCommitmentMismatch)));
    // Slot moved to the other Forkout's delivery (with that delivery's id).
    let moved = Parts { slot: pa.slot.clone(), ..parts(&db) };
    assert_eq!(open(&build(&moved)), Err(Error::Forkout(ForkoutError::ForkoutIdMismatch)));
    // ... or with its own id but the other body.
    let moved = Parts { id: pa.id.clone(), slot: pa.slot.clone(), ..parts(&db) };
    assert_eq!(open(&build(&moved)), Err(Error::Forkout(ForkoutError::BodyCommitmentMismatch)));
    // Truncated and extended bodies.
    let mut truncated = parts(&da);
    truncated.ciphertext.truncate(truncated.ciphertext.len() - 1);
    assert_eq!(
        open(&build(&truncated)),
        Err(Error::Forkout(ForkoutError::BodyLengthMismatch { expected: 500, found: 499 }))
    );
    let mut extended = parts(&da);
    extended.ciphertext.push(0);
    assert_eq!(
        open(&build(&extended)),
        Err(Error::Forkout(ForkoutError::BodyLengthMismatch { expected: 500, found: 501 }))
    );
    // A tampered ciphertext or key check.
    for at in [0, 1, 250, 498, 499] {
        let mut tampered = parts(&da);
        tampered.ciphertext[at] ^= 0x20;
        assert_eq!(open(&build(&tampered)), Err(Error::Forkout(ForkoutError::BodyCommitmentMismatch)), "byte {at}");
    }
    let mut tampered = parts(&da);
    tampered.key_check[5] ^= 1;
    assert_eq!(open(&build(&tampered)), Err(Error::Forkout(ForkoutError::BodyCommitmentMismatch)));

    // The genuine ones open, in either order.
    assert_eq!(open_ok(peer, &db), body_of(500).iter().map(|x| x ^ 0x55).collect::<Vec<_>>());
    assert_eq!(open_ok(peer, &da), body_of(500));
}

fn open_ok(peer: &mut Peer, delivery: &[u8]) -> Vec<u8> {
    forkout::open(&mut peer.account, &mut peer.session, delivery, NOW).unwrap().into_body().unwrap()
}

#[test]
fn a_delivery_carries_no_other_recipients_id_slot_or_count() {
    let mut w = world(40, 14);
    let body = body_of(64);
    let sealed = seal_to_all(&mut w, &body, None);
    let bundle = sealed.to_bytes();
    let parsed = ForkoutBundle::parse(&bundle).unwrap();
    let slots: Vec<(Vec<u8>, Vec<u8>)> =
        parsed.deliveries().map(|(id, d)| (id.to_vec(), parts(&d.to_vec()).slot)).collect();
    let mut lengths = std::collections::BTreeSet::new();
    for (id, delivery) in forkout::split_all(&bundle).unwrap() {
        lengths.insert(delivery.len());
        for (other_id, other_slot) in &slots {
            if other_id.as_slice() == id {
                assert!(contains(&delivery, other_slot), "the recipient's own slot is in the delivery");
                continue;
            }
            assert!(!contains(&delivery, other_id), "another recipient's id is in the delivery");
            assert!(!contains(&delivery, other_slot), "another recipient's slot is in the delivery");
        }
        // Exactly: header, id, own slot, body. Nothing else.
        let own = &slots.iter().find(|(o, _)| o.as_slice() == id).unwrap().1;
        assert_eq!(delivery.len(), 2 + 32 + 4 + own.len() + 32 + 4 + body.len());
    }
    assert_eq!(lengths.len(), 1, "every delivery has the same length");

    // The count does not show either: the same recipient gets a delivery of
    // the same length whether they are one of 40 or alone.
    let alone = {
        let peer = &mut w.peers[3];
        let (sealed, _) = forkout::seal(
            &w.sender,
            body.clone(),
            [Recipient::Session(&mut peer.to_peer)],
            SealPolicy::AllOrNothing,
            None,
            &mut w.rng,
        )
        .unwrap();
        sealed.delivery(peer.account.identity()).unwrap().to_vec()
    };
    assert_eq!(lengths.into_iter().next(), Some(alone.len()));
}

#[test]
fn partial_reachability_is_reported_and_the_caller_chooses() {
    let mut w = world(3, 15);
    let mut rng = rng(5);
    let mut dana = Account::new(&mut rng, NOW);
    dana.generate_one_time_prekeys(1, &mut rng).unwrap();
    let erin = Account::new(&mut rng, NOW);
    // Frank's bundle is forged: its signature does not verify.
    let frank = Account::new(&mut rng, NOW);
    let mut forged = frank.prekey_bundle().unwrap().to_bytes();
    let sig_at = 2 + 32 + 4 + 8 + 32;
    forged[sig_at] ^= 1;
    let forged = PreKeyBundle::from_bytes(&forged).unwrap();

    let before: Vec<Vec<u8>> = w.peers.iter().map(|p| p.to_peer.to_bytes().to_vec()).collect();
    let extra = || {
        [
            Recipient::Bundle(dana.prekey_bundle().unwrap()),
            Recipient::Unreachable(*erin.identity()),
            Recipient::Bundle(forged.clone()),
        ]
    };
    fn recipients<'a>(peers: &'a mut [Peer], extra: [Recipient<'a>; 3]) -> Vec<Recipient<'a>> {
        peers.iter_mut().map(|p| Recipient::Session(&mut p.to_peer)).chain(extra).collect()
    }

    // All or nothing: refused, which recipients and why, no session touched.
    let err = forkout::seal(
        &w.sender,
        b"x".to_vec(),
        recipients(&mut w.peers, extra()),
        SealPolicy::AllOrNothing,
        None,
        &mut w.rng,
    )
    .unwrap_err();
    let Error::Forkout(ForkoutError::RecipientsUnreachable(list)) = err else {
        panic!("expected RecipientsUnreachable")
    };
    assert_eq!(list.len(), 2);
    for u in &list {
        if u.identity == *erin.identity() {
            assert_eq!(u.reason, UnreachableReason::NoSessionOrBundle);
        } else {
            assert_eq!(u.identity, *frank.identity());
            assert!(matches!(u.reason, UnreachableReason::InvalidBundle(Error::InvalidSignature(_))));
        }
    }
    let after: Vec<Vec<u8>> = w.peers.iter().map(|p| p.to_peer.to_bytes().to_vec()).collect();
    assert_eq!(before, after, "a refused Forkout touched a session");

    // The plan shows the same before the body is given up.
    let plan = ForkoutPlan::new(&w.sender, recipients(&mut w.peers, extra()), &mut w.rng).unwrap();
    assert_eq!(plan.unreachable(), list.as_slice());
    assert_eq!(plan.reachable().count(), 4);
    drop(plan);

    // Skip the unreachable: everyone else gets it.
    let (sealed, report) = forkout::seal(
        &w.sender,
        b"reorg memo".to_vec(),
        recipients(&mut w.peers, extra()),
        SealPolicy::SkipUnreachable,
        None,
        &mut w.rng,
    )
    .unwrap();
    assert_eq!(report.unreachable, list);
    assert_eq!(report.new_sessions.len(), 1);
    assert_eq!(report.new_sessions[0].peer_identity(), dana.identity());
    assert_eq!(sealed.recipient_count(), 4);
    assert!(sealed.delivery(erin.identity()).is_err_and(|e| e == Error::Forkout(ForkoutError::NotARecipient)));
    assert_eq!(forkout::split(&sealed.to_bytes(), frank.identity()), Err(Error::Forkout(ForkoutError::NotARecipient)));
    for peer in &mut w.peers {
        let d = sealed.delivery(peer.account.identity()).unwrap().to_vec();
        assert_eq!(open_ok(peer, &d), b"reorg memo");
    }
    let d = sealed.delivery(dana.identity()).unwrap().to_vec();
    assert_eq!(forkout::open_new(&mut dana, &d, NOW).unwrap().1.unwrap().body(), Some(&b"reorg memo"[..]));

    // Nobody reachable: refused under either policy.
    let err = forkout::seal(
        &w.sender,
        b"x".to_vec(),
        [Recipient::Unreachable(*erin.identity())],
        SealPolicy::SkipUnreachable,
        None,
        &mut w.rng,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Forkout(ForkoutError::RecipientsUnreachable(l)) if l.len() == 1));
}

#[test]
fn duplicated_recipients_are_rejected_before_anything_is_sealed() {
    let mut w = world(2, 16);
    let id0 = *w.peers[0].account.identity();
    let bundle0 = w.peers[0].account.prekey_bundle().unwrap();
    let before = w.peers[0].to_peer.to_bytes();
    let (p0, p1) = w.peers.split_at_mut(1);
    let cases: Vec<Vec<Recipient<'_>>> = vec![vec![Recipient::Unreachable(id0), Recipient::Unreachable(id0)]];
    for recipients in cases {
        let r = forkout::seal(&w.sender, b"x".to_vec(), recipients, SealPolicy::SkipUnreachable, None, &mut w.rng);
        assert_eq!(r.unwrap_err(), Error::Forkout(ForkoutError::DuplicateRecipient(id0.to_bytes())));
    }
    let r = forkout::seal(
        &w.sender,
        b"x".to_vec(),
        [Recipient::Session(&mut p0[0].to_peer), Recipient::Session(&mut p1[0].to_peer), Recipient::Bundle(bundle0)],
        SealPolicy::SkipUnreachable,
        None,
        &mut w.rng,
    );
    assert_eq!(r.unwrap_err(), Error::Forkout(ForkoutError::DuplicateRecipient(id0.to_bytes())));
    let r = forkout::seal(
        &w.sender,
        b"x".to_vec(),
        [Recipient::Unreachable(id0), Recipient::Session(&mut p0[0].to_peer)],
        SealPolicy::SkipUnreachable,
        None,
        &mut w.rng,
    );
    assert_eq!(r.unwrap_err(), Error::Forkout(ForkoutError::DuplicateRecipient(id0.to_bytes())));
    assert_eq!(w.peers[0].to_peer.to_bytes(), before, "a rejected list touched a session");
}

#[test]
fn limits_are_typed_errors() {
    let mut w = world(1, 17);
    let id = *w.peers[0].account.identity();
    let many = std::iter::repeat_n(id, MAX_FORKOUT_RECIPIENTS + 1).map(Recipient::Unreachable);
    let r = forkout::seal(&w.sender, b"x".to_vec(), many, SealPolicy::SkipUnreachable, None, &mut w.rng);
    assert_eq!(r.unwrap_err(), Error::LimitReached { what: "Forkout recipients", max: MAX_FORKOUT_RECIPIENTS });
    let none: [Recipient<'_>; 0] = [];
    let r = forkout::seal(&w.sender, b"x".to_vec(), none, SealPolicy::SkipUnreachable, None, &mut w.rng);
    assert_eq!(r.unwrap_err(), Error::Forkout(ForkoutError::NoRecipients));

    let before = w.peers[0].to_peer.to_bytes();
    let huge = vec![0u8; MAX_FORKOUT_BODY + 1];
    let r = forkout::seal(
        &w.sender,
        huge,
        [Recipient::Session(&mut w.peers[0].to_peer)],
        SealPolicy::AllOrNothing,
        None,
        &mut w.rng,
    );
    assert_eq!(
        r.unwrap_err(),
        Error::TooLarge { what: "Forkout body", len: MAX_FORKOUT_BODY + 1, max: MAX_FORKOUT_BODY }
    );
    assert_eq!(w.peers[0].to_peer.to_bytes(), before);

    // Parsers: a count over the limit, a zero count, a body length over
    // the limit are refused before anything is allocated.
    let sealed = seal_to_all(&mut w, b"hi", None);
    let bundle = sealed.to_bytes();
    let count_at = 2 + 32 + 32 + 4 + 2;
    assert_eq!(&bundle[count_at..count_at + 4], &1u32.to_be_bytes());
    let mut over = bundle.clone();
    over[count_at..count_at + 4].copy_from_slice(&(MAX_FORKOUT_RECIPIENTS as u32 + 1).to_be_bytes());
    assert!(matches!(ForkoutBundle::parse(&over), Err(WireError::TooLarge { .. })));
    let mut zero = bundle.clone();
    zero[count_at..count_at + 4].copy_from_slice(&0u32.to_be_bytes());
    assert!(ForkoutBundle::parse(&zero).is_err());
    let mut long_body = bundle.clone();
    long_body[2 + 32 + 32..2 + 32 + 32 + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(ForkoutBundle::parse(&long_body), Err(WireError::TooLarge { .. })));
}

#[test]
fn bundle_entries_are_sorted_and_a_reordered_or_duplicated_bundle_is_refused() {
    let mut w = world(3, 18);
    let sealed = seal_to_all(&mut w, b"sorted", None);
    let ids: Vec<_> = sealed.recipients().copied().collect();
    assert!(ids.windows(2).all(|p| p[0] < p[1]));
    let bundle = sealed.to_bytes();
    let parsed = ForkoutBundle::parse(&bundle).unwrap();
    assert_eq!(parsed.recipients().copied().collect::<Vec<_>>(), ids.iter().map(|i| i.to_bytes()).collect::<Vec<_>>());

    // Rebuild with two entries swapped, and with one entry twice.
    let header_len = 2 + 32 + 32 + 4 + 6 + 4;
    let entries: Vec<Vec<u8>> = {
        let mut at = header_len;
        let mut out = Vec::new();
        while at < bundle.len() {
            let len = u32::from_be_bytes(bundle[at + 32..at + 36].try_into().unwrap()) as usize;
            out.push(bundle[at..at + 36 + len].to_vec());
            at += 36 + len;
        }
        out
    };
    assert_eq!(entries.len(), 3);
    let rebuild = |order: &[usize]| {
        let mut b = bundle[..header_len].to_vec();
        b[header_len - 4..].copy_from_slice(&(order.len() as u32).to_be_bytes());
        for i in order {
            b.extend_from_slice(&entries[*i]);
        }
        b
    };
    assert_eq!(rebuild(&[0, 1, 2]), bundle);
    assert!(ForkoutBundle::parse(&rebuild(&[1, 0, 2])).is_err());
    assert!(ForkoutBundle::parse(&rebuild(&[0, 1, 1])).is_err());
    assert!(ForkoutBundle::parse(&rebuild(&[0, 2])).is_ok());
}

#[test]
fn burnout_envelope_is_enforced_at_open() {
    let mut w = world(2, 19);
    let envelope = Envelope::with_ttl(NOW, 60_000);
    let sealed = seal_to_all(&mut w, b"the door code is 4711", Some(envelope));

    // In time: readable, with the envelope.
    let peer = &mut w.peers[0];
    let d = sealed.delivery(peer.account.identity()).unwrap().to_vec();
    let opened = forkout::open(&mut peer.account, &mut peer.session, &d, NOW + 59_999).unwrap();
    assert_eq!(opened.envelope(), Some(&envelope));

    // Too late: Expired, and the key is used up (the slot can never open).
    let peer = &mut w.peers[1];
    let d = sealed.delivery(peer.account.identity()).unwrap().to_vec();
    let before = snapshot(peer);
    // Sent "in the future" beyond the skew allowance: refused, unchanged.
    let r = forkout::open(&mut peer.account, &mut peer.session, &d, NOW - 10 * 60 * 1000);
    assert!(matches!(r, Err(Error::Burnout(BurnoutError::ClockSkew { .. }))));
    assert_eq!(snapshot(peer), before);
    let r = forkout::open(&mut peer.account, &mut peer.session, &d, NOW + 60_000);
    assert_eq!(r.err(), Some(Error::Burnout(BurnoutError::Expired { expired_at_ms: NOW + 60_000 })));
    assert_ne!(snapshot(peer), before, "an expired slot's key is consumed");
    assert_eq!(forkout::open(&mut peer.account, &mut peer.session, &d, NOW).err(), Some(Error::DuplicateMessage));

    // First contact: an expired slot uses up the one-time prekey and the
    // slot's key, but the session is returned and the sender's later
    // messages continue in it.
    let mut rng = rng(8);
    let mut gina = Account::new(&mut rng, NOW);
    gina.generate_one_time_prekeys(1, &mut rng).unwrap();
    let (sealed, report) = forkout::seal(
        &w.sender,
        b"expiring".to_vec(),
        [Recipient::Bundle(gina.prekey_bundle().unwrap())],
        SealPolicy::AllOrNothing,
        Some(envelope),
        &mut rng,
    )
    .unwrap();
    let mut to_gina = report.new_sessions.into_iter().next().unwrap();
    let d = sealed.delivery(gina.identity()).unwrap().to_vec();
    let before = gina.to_bytes();
    // Skew: nothing changes.
    assert!(matches!(
        forkout::open_new(&mut gina, &d, NOW - 10 * 60 * 1000),
        Err(Error::Burnout(BurnoutError::ClockSkew { .. }))
    ));
    assert_eq!(gina.to_bytes(), before);
    let (mut gina_session, opened) = forkout::open_new(&mut gina, &d, NOW + 60_000).unwrap();
    assert_eq!(opened.unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: NOW + 60_000 }));
    assert_eq!(gina.remaining_one_time_prekeys(), 0, "the one-time prekey is used up");
    assert_eq!(forkout::open(&mut gina, &mut gina_session, &d, NOW).err(), Some(Error::DuplicateMessage));
    let later = to_gina.encrypt(b"see you monday", &mut rng).unwrap();
    assert_eq!(gina.decrypt(&mut gina_session, &later).unwrap(), b"see you monday");

    // An envelope already expired when sent is refused at sealing.
    let dead = Envelope::with_ttl(NOW, 0);
    let peer = &mut w.peers[0];
    let before = peer.to_peer.to_bytes();
    let r = forkout::seal(
        &w.sender,
        b"x".to_vec(),
        [Recipient::Session(&mut peer.to_peer)],
        SealPolicy::AllOrNothing,
        Some(dead),
        &mut w.rng,
    );
    assert_eq!(r.unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: NOW }));
    assert_eq!(peer.to_peer.to_bytes(), before);
}

#[test]
fn a_slot_is_not_an_app_message_and_an_app_message_is_not_a_slot() {
    let mut w = world(1, 20);
    let sealed = seal_to_all(&mut w, b"slot", None);
    let peer = &mut w.peers[0];
    let d = sealed.delivery(peer.account.identity()).unwrap().to_vec();
    let slot = parts(&d).slot;
    let before = snapshot(peer);
    assert_eq!(peer.account.decrypt(&mut peer.session, &slot), Err(Error::UnexpectedPayload(0x03)));
    assert_eq!(snapshot(peer), before);

    // A delivery whose "slot" is an ordinary 1:1 message.
    let app = peer.to_peer.encrypt(b"not a slot", &mut w.rng).unwrap();
    let fake = Parts { slot: app.clone(), ..parts(&d) };
    assert_eq!(
        forkout::open(&mut peer.account, &mut peer.session, &build(&fake), NOW).err(),
        Some(Error::UnexpectedPayload(0))
    );
    assert_eq!(snapshot(peer), before);
    assert_eq!(peer.account.decrypt(&mut peer.session, &app).unwrap(), b"not a slot");
    assert_eq!(open_ok(peer, &d), b"slot");
}

#[test]
fn a_delivery_for_someone_else_opens_nowhere() {
    let mut w = world(2, 21);
    let sealed = seal_to_all(&mut w, b"for one", None);
    let d0 = sealed.delivery(w.peers[0].account.identity()).unwrap().to_vec();
    let peer = &mut w.peers[1];
    let before = snapshot(peer);
    assert_eq!(forkout::open(&mut peer.account, &mut peer.session, &d0, NOW).err(), Some(Error::AuthenticationFailed));
    assert_eq!(snapshot(peer), before);
    // Sealed deliveries and relay-split deliveries are identical, streamed
    // or built.
    let bundle = sealed.to_bytes();
    for (id, delivery) in sealed.deliveries() {
        let mut streamed = Vec::new();
        delivery.write_to(&mut streamed).unwrap();
        assert_eq!(streamed, forkout::split(&bundle, id).unwrap());
    }
    let mut streamed = Vec::new();
    sealed.write_to(&mut streamed).unwrap();
    assert_eq!(streamed, bundle);
}

/// The committed `forkout_open` seeds still open against the fuzz fixture,
/// so the fuzzer starts from the deep paths (regenerate them with
/// `write_seed_corpora` in `fuzz_corpus.rs` when this fails after a format
/// change).
#[test]
fn committed_open_seeds_still_open_against_the_fuzz_fixture() {
    let world = sealpost_testkit::fuzz::forkout::forkout_world();
    let now = sealpost_testkit::fuzz::NOW_MS;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/forkout_open");
    let mut opened = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        if name.ends_with("-bob") {
            let (mut bob, mut session) = (world.bob.clone(), world.bob_session.clone());
            forkout::open(&mut bob, &mut session, &bytes, now).unwrap_or_else(|e| panic!("{name}: {e}"));
            opened += 1;
        } else if name.ends_with("-carol") {
            let mut carol = world.carol.clone();
            forkout::open_new(&mut carol, &bytes, now).unwrap().1.unwrap_or_else(|e| panic!("{name}: {e}"));
            opened += 1;
        }
    }
    assert!(opened >= 8, "only {opened} seeds opened");
}
