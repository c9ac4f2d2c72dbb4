//! Unit tests of sealing, the bundle and delivery formats and the split,
//! through the module's API: what the doc examples show is checked here
//! too (mutation testing runs the unit tests only).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::account::Account;
use crate::error::{Error, ForkoutError, SessionError, Unreachable, UnreachableReason, WireError};
use crate::identity::IdentityKey;
use crate::limits::{MAX_FORKOUT_BODY, MAX_FORKOUT_RECIPIENTS};
use crate::session::Session;

const NOW: u64 = 1_700_000_000_000;

struct Cast {
    rng: StdRng,
    manager: Account,
    /// Ann has a session with the manager; Bob and Carol only bundles.
    ann: Account,
    ann_session: Session,
    to_ann: Session,
    bob: Account,
    carol: Account,
}

fn cast(seed: u64) -> Cast {
    let mut rng = StdRng::seed_from_u64(seed);
    let manager = Account::new(&mut rng, NOW);
    let mut ann = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    let mut carol = Account::new(&mut rng, NOW);
    for account in [&mut ann, &mut bob, &mut carol] {
        account.generate_one_time_prekeys(2, &mut rng).unwrap();
    }
    let mut to_ann = manager.create_outbound_session(&ann.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut ann_session, _) = ann.create_inbound_session(&to_ann.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    // Ann replied: the manager's messages to her carry no setup data any more.
    to_ann.decrypt(&ann_session.encrypt(b"hello", &mut rng).unwrap()).unwrap();
    Cast { rng, manager, ann, ann_session, to_ann, bob, carol }
}

#[test]
fn a_sealed_forkout_its_bundle_and_its_deliveries_agree_on_everything() {
    let Cast { mut rng, manager, mut ann, mut ann_session, mut to_ann, mut bob, carol } = cast(41);
    let recipients = vec![
        Recipient::Bundle(carol.prekey_bundle().unwrap()),
        Recipient::Session(&mut to_ann),
        Recipient::Bundle(bob.prekey_bundle().unwrap()),
    ];
    let body = b"the plan for Q3".to_vec();
    let (sealed, report) = seal(&manager, body.clone(), recipients, SealPolicy::AllOrNothing, None, &mut rng).unwrap();
    assert!(report.unreachable.is_empty());
    assert_eq!(report.new_sessions.len(), 2);
    let mut expected: Vec<IdentityKey> = vec![*ann.identity(), *bob.identity(), *carol.identity()];
    expected.sort();
    assert_eq!(sealed.recipient_count(), 3);
    assert_eq!(sealed.recipients().copied().collect::<Vec<_>>(), expected);
    assert_eq!(sealed.body_len(), body.len());
    let bytes = sealed.to_bytes();
    assert_eq!(bytes.len(), sealed.encoded_len());
    let mut written = Vec::new();
    sealed.write_to(&mut written).unwrap();
    assert_eq!(written, bytes);
    let shown = format!("{sealed:?}");
    assert_eq!(shown, format!("SealedForkout {{ id: {:?}, body_len: 15, recipients: 3 }}", sealed.id()));

    let bundle = ForkoutBundle::parse(&bytes).unwrap();
    assert_eq!(bundle.id(), sealed.id());
    assert_eq!(bundle.recipient_count(), 3);
    assert_eq!(bundle.body_len(), body.len());
    let ids: Vec<[u8; 32]> = expected.iter().map(IdentityKey::to_bytes).collect();
    assert_eq!(bundle.recipients().copied().collect::<Vec<_>>(), ids);
    assert_eq!(
        format!("{bundle:?}"),
        format!("ForkoutBundle {{ id: {:?}, recipients: 3, body_len: 15 }}", sealed.id())
    );
    assert_eq!(bundle.deliveries().len(), 3);
    for ((id, from_bundle), (identity, from_sealed)) in bundle.deliveries().zip(sealed.deliveries()) {
        assert_eq!(id, identity.as_bytes());
        let delivery = from_bundle.to_vec();
        assert_eq!(delivery.len(), from_bundle.encoded_len());
        assert_eq!(from_sealed.to_vec(), delivery);
        assert_eq!(sealed.delivery(identity).unwrap().to_vec(), delivery);
        assert_eq!(bundle.delivery(identity).unwrap().to_vec(), delivery);
        assert_eq!(bundle.delivery_for_id(id).unwrap().to_vec(), delivery);
        assert_eq!(split(&bytes, identity).unwrap(), delivery);
        let mut written = Vec::new();
        from_bundle.write_to(&mut written).unwrap();
        assert_eq!(written, delivery);
        let parsed = ForkoutDelivery::parse(&delivery).unwrap();
        assert_eq!(parsed.id(), sealed.id());
        assert_eq!(parsed.body_len(), body.len());
        assert_eq!(parsed.slot_message(), from_bundle.slot);
        let first_contact = identity != ann.identity();
        assert_eq!(parsed.is_first_contact(), first_contact);
        assert_eq!(parsed.claimed_sender(), first_contact.then(|| *manager.identity()));
        assert_eq!(
            format!("{parsed:?}"),
            format!("ForkoutDelivery {{ id: {:?}, first_contact: {first_contact}, body_len: 15 }}", sealed.id())
        );
        assert_eq!(
            format!("{from_bundle:?}"),
            format!("DeliveryRef {{ id: {:?}, slot_len: {}, body_len: 15 }}", sealed.id(), from_bundle.slot.len())
        );
    }
    let all: Vec<([u8; 32], Vec<u8>)> = split_all(&bytes).unwrap().collect();
    assert_eq!(all.len(), 3);
    for (id, delivery) in &all {
        assert_eq!(&bundle.delivery_for_id(id).unwrap().to_vec(), delivery);
    }
    // Someone not on the list gets nothing.
    let outsider = *Account::new(&mut rng, NOW).identity();
    let not_a_recipient = Err(Error::Forkout(ForkoutError::NotARecipient));
    assert_eq!(split(&bytes, &outsider), not_a_recipient);
    assert_eq!(bundle.delivery(&outsider).map(|d| d.to_vec()), not_a_recipient);
    assert_eq!(sealed.delivery(&outsider).map(|d| d.to_vec()), not_a_recipient);

    // And each opens to the body, with the sealed commitment.
    let for_ann = split(&bytes, ann.identity()).unwrap();
    let opened = open(&mut ann, &mut ann_session, &for_ann, NOW).unwrap();
    assert_eq!((opened.body(), opened.commitment(), opened.id()), (Some(&body[..]), sealed.commitment(), sealed.id()));
    let for_bob = split(&bytes, bob.identity()).unwrap();
    let (_, opened) = open_new(&mut bob, &for_bob, NOW).unwrap();
    assert_eq!(opened.unwrap().into_body().unwrap(), body);
}

#[test]
fn a_plan_refuses_duplicates_foreign_sessions_and_empty_or_oversized_lists() {
    let Cast { mut rng, manager, ann, mut to_ann, bob, carol, .. } = cast(42);
    let plan =
        |recipients: Vec<Recipient<'_>>, rng: &mut StdRng| ForkoutPlan::new(&manager, recipients, rng).map(|_| ());
    assert_eq!(plan(Vec::new(), &mut rng), Err(Error::Forkout(ForkoutError::NoRecipients)));
    let duplicate = |who: &Account| Err(Error::Forkout(ForkoutError::DuplicateRecipient(who.identity().to_bytes())));
    let twice = vec![Recipient::Bundle(bob.prekey_bundle().unwrap()), Recipient::Bundle(bob.prekey_bundle().unwrap())];
    assert_eq!(plan(twice, &mut rng), duplicate(&bob));
    let twice_unreachable = vec![Recipient::Unreachable(*carol.identity()), Recipient::Unreachable(*carol.identity())];
    assert_eq!(plan(twice_unreachable, &mut rng), duplicate(&carol));
    let both_ways = vec![Recipient::Unreachable(*ann.identity()), Recipient::Session(&mut to_ann)];
    assert_eq!(plan(both_ways, &mut rng), duplicate(&ann));

    // A session of another account.
    let mut others = bob.create_outbound_session(&carol.prekey_bundle().unwrap(), &mut rng).unwrap();
    assert_eq!(plan(vec![Recipient::Session(&mut others)], &mut rng), Err(Error::Session(SessionError::PeerMismatch)));

    // Exactly the recipient bound, not one more.
    let identities: Vec<IdentityKey> =
        (0..=MAX_FORKOUT_RECIPIENTS).map(|_| *crate::identity::IdentityKeyPair::generate(&mut rng).public()).collect();
    let at_bound = identities.iter().take(MAX_FORKOUT_RECIPIENTS).map(|i| Recipient::Unreachable(*i));
    let plan_at_bound = ForkoutPlan::new(&manager, at_bound, &mut rng).unwrap();
    assert_eq!(plan_at_bound.unreachable().len(), MAX_FORKOUT_RECIPIENTS);
    assert_eq!(plan_at_bound.reachable().len(), 0);
    let over = identities.iter().map(|i| Recipient::Unreachable(*i));
    assert!(matches!(ForkoutPlan::new(&manager, over, &mut rng), Err(Error::LimitReached { .. })));
}

#[test]
fn the_policies_decide_what_an_unreachable_recipient_does() {
    let Cast { mut rng, manager, ann, mut to_ann, bob, carol, .. } = cast(43);
    // A bundle whose signature does not verify, and someone with neither.
    let mut forged = bob.prekey_bundle().unwrap().to_bytes();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let forged = crate::PreKeyBundle::from_bytes(&forged).unwrap();
    fn recipients<'s>(carol: &Account, forged: &crate::PreKeyBundle, to_ann: &'s mut Session) -> Vec<Recipient<'s>> {
        vec![Recipient::Unreachable(*carol.identity()), Recipient::Bundle(forged.clone()), Recipient::Session(to_ann)]
    }
    let before = to_ann.to_bytes();
    let plan = ForkoutPlan::new(&manager, recipients(&carol, &forged, &mut to_ann), &mut rng).unwrap();
    assert_eq!(plan.reachable().copied().collect::<Vec<_>>(), vec![*ann.identity()]);
    let mut named: Vec<IdentityKey> = vec![*bob.identity(), *carol.identity()];
    named.sort();
    assert_eq!(plan.unreachable().iter().map(|u| u.identity).collect::<Vec<_>>(), named);
    assert_eq!(format!("{plan:?}"), format!("ForkoutPlan {{ reachable: 1, unreachable: {:?} }}", plan.unreachable()));
    let reasons = plan.unreachable().iter().map(|u| &u.reason);
    for reason in reasons {
        assert!(matches!(reason, UnreachableReason::NoSessionOrBundle | UnreachableReason::InvalidBundle(_)));
    }
    match plan.seal(b"x".to_vec(), None, SealPolicy::AllOrNothing, &mut rng) {
        Err(Error::Forkout(ForkoutError::RecipientsUnreachable(list))) => {
            assert_eq!(list.iter().map(|u: &Unreachable| u.identity).collect::<Vec<_>>(), named);
        }
        other => panic!("expected RecipientsUnreachable, got {other:?}"),
    }
    assert_eq!(to_ann.to_bytes(), before, "nothing was sent");

    let (sealed, report) = seal(
        &manager,
        b"x".to_vec(),
        recipients(&carol, &forged, &mut to_ann),
        SealPolicy::SkipUnreachable,
        None,
        &mut rng,
    )
    .unwrap();
    assert_eq!(sealed.recipients().copied().collect::<Vec<_>>(), vec![*ann.identity()]);
    assert_eq!(report.unreachable.iter().map(|u| u.identity).collect::<Vec<_>>(), named);
    assert!(report.new_sessions.is_empty());

    // Only unreachable recipients: nothing to seal under either policy.
    for policy in [SealPolicy::AllOrNothing, SealPolicy::SkipUnreachable] {
        let only = vec![Recipient::Unreachable(*carol.identity())];
        assert!(matches!(
            seal(&manager, b"x".to_vec(), only, policy, None, &mut rng),
            Err(Error::Forkout(ForkoutError::RecipientsUnreachable(_)))
        ));
    }
    assert_eq!(SealPolicy::default(), SealPolicy::AllOrNothing);
}

/// A session that cannot encrypt (here its sending chain is at its last
/// index) makes that recipient unreachable under `SkipUnreachable`, with
/// the reason, and fails the whole seal under `AllOrNothing`.
#[test]
fn a_session_that_cannot_encrypt_is_skipped_or_fails_the_seal_by_policy() {
    let Cast { mut rng, manager, ann, mut to_ann, bob, .. } = cast(46);
    to_ann.encrypt(b"a step first", &mut rng).unwrap();
    assert!(to_ann.exhaust_sending_chain());
    let limit = Error::LimitReached { what: "messages per chain", max: u32::MAX as usize };
    assert_eq!(to_ann.encrypt(b"x", &mut rng).err(), Some(limit.clone()));

    let (sealed, report) = seal(
        &manager,
        b"x".to_vec(),
        vec![Recipient::Session(&mut to_ann), Recipient::Bundle(bob.prekey_bundle().unwrap())],
        SealPolicy::SkipUnreachable,
        None,
        &mut rng,
    )
    .unwrap();
    assert_eq!(sealed.recipients().copied().collect::<Vec<_>>(), vec![*bob.identity()]);
    assert_eq!(report.new_sessions.len(), 1);
    match report.unreachable.as_slice() {
        [Unreachable { identity, reason: UnreachableReason::SlotEncryptionFailed(e) }] => {
            assert_eq!(identity, ann.identity());
            assert_eq!(e, &limit);
        }
        other => panic!("expected Ann unreachable, got {other:?}"),
    }

    let err = seal(
        &manager,
        b"x".to_vec(),
        vec![Recipient::Session(&mut to_ann), Recipient::Bundle(bob.prekey_bundle().unwrap())],
        SealPolicy::AllOrNothing,
        None,
        &mut rng,
    )
    .err();
    assert_eq!(err, Some(limit));

    // Nobody left once Ann is skipped: nothing is sealed.
    match seal(
        &manager,
        b"x".to_vec(),
        vec![Recipient::Session(&mut to_ann)],
        SealPolicy::SkipUnreachable,
        None,
        &mut rng,
    ) {
        Err(Error::Forkout(ForkoutError::RecipientsUnreachable(list))) => {
            assert_eq!(list.iter().map(|u| u.identity).collect::<Vec<_>>(), vec![*ann.identity()]);
        }
        other => panic!("expected RecipientsUnreachable, got {other:?}"),
    }
}

#[test]
fn the_largest_body_is_sealed_and_one_byte_more_is_refused() {
    let Cast { mut rng, manager, mut to_ann, .. } = cast(44);
    let before = to_ann.to_bytes();
    let over = vec![0u8; MAX_FORKOUT_BODY + 1];
    assert_eq!(
        seal(&manager, over, vec![Recipient::Session(&mut to_ann)], SealPolicy::AllOrNothing, None, &mut rng).err(),
        Some(Error::TooLarge { what: "Forkout body", len: MAX_FORKOUT_BODY + 1, max: MAX_FORKOUT_BODY })
    );
    assert_eq!(to_ann.to_bytes(), before);
    let largest = vec![0u8; MAX_FORKOUT_BODY];
    let (sealed, _) =
        seal(&manager, largest, vec![Recipient::Session(&mut to_ann)], SealPolicy::AllOrNothing, None, &mut rng)
            .unwrap();
    assert_eq!(sealed.body_len(), MAX_FORKOUT_BODY);
    assert!(ForkoutBundle::parse(&sealed.to_bytes()).is_ok());
}

/// The bundle parser takes only the canonical form: at least one
/// recipient, ids strictly ascending, nothing after the last entry.
#[test]
fn the_bundle_parser_refuses_empty_unsorted_repeated_and_trailing() {
    let Cast { mut rng, manager, bob, carol, .. } = cast(45);
    let recipients =
        vec![Recipient::Bundle(bob.prekey_bundle().unwrap()), Recipient::Bundle(carol.prekey_bundle().unwrap())];
    let (sealed, _) = seal(&manager, b"body".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng).unwrap();
    let good = sealed.to_bytes();
    assert!(ForkoutBundle::parse(&good).is_ok());
    // The fuzz targets' canonicality check re-encodes what was parsed.
    #[cfg(feature = "test-hooks")]
    assert_eq!(ForkoutBundle::parse(&good).unwrap().reencode(), good);
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(ForkoutBundle::parse(&trailing).is_err());

    // Rebuild with the entries in another order, repeated, or none.
    let entries: Vec<([u8; 32], Vec<u8>)> =
        sealed.deliveries().map(|(id, d)| (id.to_bytes(), d.slot.to_vec())).collect();
    let body = bundle::BodyRef { key_check: &[0; body::KEY_CHECK_LEN], ciphertext: &[0; 4] };
    let build = |list: &[&([u8; 32], Vec<u8>)]| {
        bundle::collect(0, |mut out| {
            let entries = list.iter().map(|(id, slot)| (id, slot.as_slice()));
            bundle::emit_bundle(sealed.id().as_bytes(), body, entries, &mut out)
        })
    };
    assert!(ForkoutBundle::parse(&build(&[&entries[0], &entries[1]])).is_ok());
    let unsorted = Err(WireError::InvalidField("Forkout recipient ids not strictly ascending"));
    assert_eq!(ForkoutBundle::parse(&build(&[&entries[1], &entries[0]])).map(|_| ()), unsorted);
    assert_eq!(ForkoutBundle::parse(&build(&[&entries[0], &entries[0]])).map(|_| ()), unsorted);
    assert_eq!(
        ForkoutBundle::parse(&build(&[])).map(|_| ()),
        Err(WireError::InvalidField("Forkout bundle without recipients"))
    );
}

/// The accessors and the short `Debug` form of an id.
#[test]
fn an_id_gives_back_its_bytes_and_shows_its_first_eight() {
    let bytes: [u8; 32] = core::array::from_fn(|i| i as u8 + 1);
    let id = ForkoutId::from_bytes(bytes);
    assert_eq!(id.to_bytes(), bytes);
    assert_eq!(id.as_bytes(), &bytes);
    assert_eq!(format!("{id:?}"), "ForkoutId(0102030405060708…)");
}
