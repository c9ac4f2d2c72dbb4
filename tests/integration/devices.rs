//! Users with several devices: signed device lists (forgery, rollback,
//! equivocation, canonical encoding, random churn) and device linking
//! (the whole flow, wrong and stale codes, replays, tampering at every
//! byte, short strings that do not match, someone who saw the QR code),
//! and what a removed device can still read: nothing sealed after.

use std::collections::BTreeSet;

use proptest::prelude::*;
use sealpost::device::{DeviceList, DeviceMembership, LinkCode, LinkRequest, Linker, UserKeyPair};
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost::limits::{LINK_CODE_LIFETIME_MS, MAX_DEVICES};
use sealpost::{Account, DeviceError, Error, IdentityKey, IdentityKeyPair, Session, WireError};
use sealpost_testkit::rng;

const NOW: u64 = 1_700_000_000_000;

fn device_key(seed: u8) -> IdentityKey {
    *IdentityKeyPair::from_seed(&[seed; 32]).public()
}

/// The device of `seed` agreeing to belong to `user`.
fn member(seed: u8, user: &UserKeyPair) -> DeviceMembership {
    DeviceMembership::sign(&IdentityKeyPair::from_seed(&[seed; 32]), user.public())
}

fn device_err(result: Result<impl std::fmt::Debug, Error>) -> DeviceError {
    match result {
        Err(Error::Device(e)) => e,
        other => panic!("expected a device error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- lists

#[test]
fn a_list_round_trips_and_every_changed_byte_is_refused() {
    let user = UserKeyPair::from_seed(&[1; 32]);
    let list = DeviceList::sign(&user, 42, [member(2, &user), member(3, &user), member(4, &user)]).unwrap();
    let bytes = list.to_bytes();
    assert_eq!(bytes.len(), 2 + 32 + 8 + 1 + 3 * (32 + 64) + 64);
    assert_eq!(DeviceList::from_bytes(&bytes).unwrap(), list);
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut changed = bytes.clone();
            changed[i] ^= bit;
            assert!(DeviceList::from_bytes(&changed).is_err(), "byte {i} bit {bit:#x} accepted");
        }
    }
    for len in 0..bytes.len() {
        assert!(DeviceList::from_bytes(&bytes[..len]).is_err(), "truncated to {len} accepted");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(DeviceList::from_bytes(&longer).is_err());
}

#[test]
fn a_list_is_canonical_one_encoding_per_list() {
    // The same devices in any order sign the same list.
    let user = UserKeyPair::from_seed(&[1; 32]);
    let (a, b, c) = (member(2, &user), member(3, &user), member(4, &user));
    let one = DeviceList::sign(&user, 1, [a, b, c]).unwrap();
    let other = DeviceList::sign(&user, 1, [c, a, b]).unwrap();
    assert_eq!(one.to_bytes(), other.to_bytes());
    assert!(one.devices().windows(2).all(|w| w[0] < w[1]));

    // An encoding with the keys out of order, validly signed, is refused
    // (written with the user's own key, as a buggy signer would).
    let mut body = one.to_bytes()[..one.to_bytes().len() - 64].to_vec();
    // Each entry is a device key and its membership (96 bytes).
    let (keys, entry) = (2 + 32 + 8 + 1, 32 + 64);
    let first = body[keys..keys + entry].to_vec();
    let second = body[keys + entry..keys + 2 * entry].to_vec();
    body[keys..keys + entry].copy_from_slice(&second);
    body[keys + entry..keys + 2 * entry].copy_from_slice(&first);
    let unsorted = [body.as_slice(), &[0u8; 64]].concat();
    assert_eq!(
        DeviceList::from_bytes(&unsorted),
        Err(Error::Wire(WireError::InvalidField("device keys not strictly ascending")))
    );
}

#[test]
fn a_list_holds_one_to_max_devices_without_duplicates() {
    let user = UserKeyPair::from_seed(&[1; 32]);
    assert_eq!(device_err(DeviceList::sign(&user, 1, [])), DeviceError::DeviceCount { count: 0, max: MAX_DEVICES });
    let many: Vec<_> = (0..=MAX_DEVICES).map(|i| member(10 + i as u8, &user)).collect();
    assert!(matches!(
        device_err(DeviceList::sign(&user, 1, many.iter().copied())),
        DeviceError::DeviceCount { max: MAX_DEVICES, .. }
    ));
    let full = DeviceList::sign(&user, 1, many[..MAX_DEVICES].iter().copied()).unwrap();
    assert_eq!(DeviceList::from_bytes(&full.to_bytes()).unwrap().devices().len(), MAX_DEVICES);
    assert_eq!(
        device_err(full.with_device(&user, many[MAX_DEVICES])),
        DeviceError::DeviceCount { count: MAX_DEVICES + 1, max: MAX_DEVICES }
    );
    assert_eq!(
        device_err(DeviceList::sign(&user, 1, [member(2, &user), member(2, &user)])),
        DeviceError::DuplicateDevice
    );

    let only = DeviceList::sign(&user, 1, [member(2, &user)]).unwrap();
    assert!(matches!(device_err(only.without_device(&user, &device_key(2))), DeviceError::DeviceCount { .. }));
    assert_eq!(device_err(only.without_device(&user, &device_key(3))), DeviceError::NotListed);
    let last = DeviceList::sign(&user, u64::MAX, [member(2, &user)]).unwrap();
    assert_eq!(device_err(last.with_device(&user, member(3, &user))), DeviceError::VersionExhausted);
}

#[test]
fn forged_rolled_back_and_conflicting_lists_are_refused_and_the_trusted_list_stays() {
    let mut r = rng(7);
    let alice = UserKeyPair::generate(&mut r);
    let mallory = UserKeyPair::generate(&mut r);
    let (phone, laptop, evil) = (device_key(2), device_key(3), device_key(66));
    let v1 = DeviceList::sign(&alice, 1, [member(2, &alice)]).unwrap();
    let v2 = v1.with_device(&alice, member(3, &alice)).unwrap();
    assert_eq!(v2.devices(), {
        let mut d = [phone, laptop];
        d.sort();
        d
    });

    // Bob's client holds v2.
    let held = DeviceList::from_bytes(&v2.to_bytes()).unwrap();
    // Mallory signs a list with her device under her own key, at a high version.
    let forged = DeviceList::sign(&mallory, 1000, [member(66, &mallory)]).unwrap();
    assert_eq!(device_err(held.update(&forged)), DeviceError::UserKeyMismatch);
    assert_eq!(device_err(forged.check_user(alice.public())), DeviceError::UserKeyMismatch);
    // Mallory's list with Alice's key named but her own signature.
    let mut spliced = forged.to_bytes();
    spliced[2..34].copy_from_slice(alice.public().as_bytes());
    assert_eq!(DeviceList::from_bytes(&spliced), Err(Error::InvalidSignature("device list")));
    // The relay serves the old list (with a device since removed, say).
    assert_eq!(device_err(held.update(&v1)), DeviceError::RolledBack { seen: 2, received: 1 });
    // Alice's key signed two different lists as version 2.
    let other_v2 = DeviceList::sign(&alice, 2, [member(2, &alice), member(66, &alice)]).unwrap();
    assert!(other_v2.contains(&evil));
    assert_eq!(device_err(held.update(&other_v2)), DeviceError::ConflictingLists { version: 2 });
    // Nothing changed: the held list still accepts the real next one.
    assert_eq!(held, v2);
    let v3 = held.without_device(&alice, &phone).unwrap();
    let change = held.update(&v3).unwrap();
    assert_eq!((change.added(), change.removed()), (&[][..], &[phone][..]));
}

#[test]
fn a_list_cannot_name_a_device_of_another_user() {
    // Mallory wants Alice's phone on her list, so that what the phone sends
    // is attributed to her. The phone agreed to belong to Alice only.
    let (alice, mallory) = (UserKeyPair::from_seed(&[1; 32]), UserKeyPair::from_seed(&[9; 32]));
    let alices_phone = member(2, &alice);
    assert_eq!(device_err(DeviceList::sign(&mallory, 1, [alices_phone])), DeviceError::UserKeyMismatch);
    // Nor by splicing the phone's entry (key and Alice-membership) into a
    // list Mallory signs herself.
    let hers = DeviceList::sign(&mallory, 1, [member(66, &mallory)]).unwrap();
    let alices = DeviceList::sign(&alice, 1, [alices_phone]).unwrap();
    let at = 2 + 32 + 8 + 1;
    let mut spliced = hers.to_bytes();
    spliced[at..at + 96].copy_from_slice(&alices.to_bytes()[at..at + 96]);
    // Re-signed by Mallory over the spliced body: her signature holds, the
    // phone's membership (for Alice's key) does not.
    let body_len = spliced.len() - 64;
    let resigned = sealpost_testkit_sign(&mallory, &spliced[..body_len]);
    spliced[body_len..].copy_from_slice(&resigned);
    assert_eq!(DeviceList::from_bytes(&spliced), Err(Error::InvalidSignature("device membership")));
}

/// Mallory signing a list body herself, as a forger would (the library
/// only signs lists it builds): the user key's signature of the labelled
/// body, recomputed here with ed25519-dalek from the user key's seed.
fn sealpost_testkit_sign(user: &UserKeyPair, body: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    let signing = ed25519_dalek::SigningKey::from_bytes(&user.to_seed());
    signing.sign(&[&b"sealpost v1 device list"[..], body].concat()).to_bytes()
}

#[test]
fn safety_numbers_are_per_user_and_stay_when_devices_change() {
    let mut r = rng(8);
    let (alice, bob) = (UserKeyPair::generate(&mut r), UserKeyPair::generate(&mut r));
    let before = alice.public().safety_number(bob.public());
    let list = DeviceList::sign(&alice, 1, [member(2, &alice)]).unwrap();
    let later = list.with_device(&alice, member(3, &alice)).unwrap().without_device(&alice, &device_key(2)).unwrap();
    // Devices came and went; the number is computed from user keys only.
    assert_eq!(later.user(), alice.public());
    assert!(before.ct_eq(&bob.public().safety_number(later.user())));
    // Another user key (a forged list's) gives another number.
    let mallory = UserKeyPair::generate(&mut r);
    assert!(!before.ct_eq(&mallory.public().safety_number(bob.public())));
}

/// One step of random device churn: add a new device or remove one.
#[derive(Clone, Debug)]
enum Churn {
    Add(u8),
    Remove(usize),
}

fn churn() -> impl Strategy<Value = Churn> {
    prop_oneof![any::<u8>().prop_map(Churn::Add), any::<usize>().prop_map(Churn::Remove)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Alice's devices churn at random; the lists reach Bob in a random
    /// order, with repeats. Bob's view only moves forward, ends at the
    /// newest list he was given, refuses every older one, and the changes
    /// he accepted add up to the difference between first and last.
    #[test]
    fn random_churn_delivered_in_any_order(steps in proptest::collection::vec(churn(), 1..40), order in proptest::collection::vec(any::<u16>(), 0..80)) {
        let alice = UserKeyPair::from_seed(&[1; 32]);
        let mut lists = vec![DeviceList::sign(&alice, 1, [member(0, &alice)]).unwrap()];
        for step in &steps {
            let current = lists.last().unwrap().clone();
            let next = match step {
                Churn::Add(seed) => current.with_device(&alice, member(*seed, &alice)),
                Churn::Remove(i) => {
                    let victim = current.devices()[i % current.devices().len()];
                    current.without_device(&alice, &victim)
                }
            };
            if let Ok(next) = next {
                lists.push(next);
            }
        }
        let mut held = lists[0].clone();
        let mut devices: BTreeSet<IdentityKey> = held.devices().iter().copied().collect();
        for pick in order {
            let offered = DeviceList::from_bytes(&lists[usize::from(pick) % lists.len()].to_bytes()).unwrap();
            match held.update(&offered) {
                Ok(change) => {
                    prop_assert!(offered.version() >= held.version());
                    for d in change.removed() { prop_assert!(devices.remove(d)); }
                    for d in change.added() { prop_assert!(devices.insert(*d)); }
                    held = offered;
                }
                Err(Error::Device(DeviceError::RolledBack { seen, received })) => {
                    prop_assert_eq!(seen, held.version());
                    prop_assert!(received < seen);
                }
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
            prop_assert_eq!(devices.iter().copied().collect::<Vec<_>>(), held.devices().to_vec());
        }
    }
}

// -------------------------------------------------------------- linking

/// Alice's phone (with her user key and list) and a new laptop.
struct LinkWorld {
    phone: Account,
    laptop: Account,
    alice: UserKeyPair,
    list: DeviceList,
}

fn world(seed: u64) -> LinkWorld {
    let mut r = rng(seed);
    let phone = Account::new(&mut r, NOW);
    let laptop = Account::new(&mut r, NOW);
    let alice = UserKeyPair::generate(&mut r);
    let list = DeviceList::sign(&alice, 1, [DeviceMembership::sign(phone.identity_keypair(), alice.public())]).unwrap();
    LinkWorld { phone, laptop, alice, list }
}

#[test]
fn linking_then_the_new_device_is_on_the_list_and_reachable() {
    let w = world(1);
    let mut r = rng(100);
    let mut request = LinkRequest::new(&w.laptop, &mut r, NOW);
    let code = LinkCode::from_bytes(&request.code()).unwrap();
    let (mut linker, offer) = Linker::start(&code, &w.phone, w.alice.public(), &mut r, NOW + 1000).unwrap();
    let accept = request.accept_offer(&offer, &w.laptop, NOW + 2000).unwrap();
    assert_eq!(request.offered_by(), Some((w.phone.identity(), w.alice.public())));
    let on_phone = linker.receive_accept(&accept).unwrap();
    let on_laptop = request.short_string().unwrap();
    assert_eq!(on_phone, on_laptop);
    let confirmation = request.confirm(&on_phone.to_string().replace(' ', ""), &w.laptop).unwrap();
    let done = linker.complete(&on_laptop.to_string(), &confirmation, &w.alice, &w.list, b"app data").unwrap();
    let linked = request.finish(&done.transfer).unwrap();

    assert_eq!(linked.user.public(), w.alice.public());
    assert_eq!(linked.devices, done.devices);
    assert_eq!(linked.devices.version(), 2);
    let change = w.list.update(&linked.devices).unwrap();
    assert_eq!(change.added(), &[*w.laptop.identity()]);
    // The laptop holds the user key: it can change the list itself.
    let v3 = linked.devices.without_device(&linked.user, w.phone.identity()).unwrap();
    assert_eq!(v3.devices(), &[*w.laptop.identity()]);
    // The transfer reads again to the same result, and the completion is
    // handed out again, no second list signed (an app whose store failed
    // retries); every other step is refused: the link is over.
    assert_eq!(request.finish(&done.transfer).unwrap().devices, linked.devices);
    let again = linker.complete(&on_laptop.to_string(), &confirmation, &w.alice, &w.list, &[]).unwrap();
    assert_eq!((again.devices, again.transfer), (done.devices.clone(), done.transfer.clone()));
    assert!(matches!(
        device_err(linker.complete("0000 000", &confirmation, &w.alice, &w.list, &[])),
        DeviceError::LinkState(_)
    ));
    assert!(matches!(device_err(request.confirm(&on_phone.to_string(), &w.laptop)), DeviceError::LinkState(_)));
    assert!(matches!(device_err(request.accept_offer(&offer, &w.laptop, NOW)), DeviceError::LinkState(_)));
    assert!(matches!(device_err(linker.receive_accept(&accept)), DeviceError::LinkState(_)));
}

/// Runs a link up to the short strings; returns both sides, the offer and
/// the acceptance.
fn up_to_short_strings(w: &LinkWorld, seed: u64) -> (LinkRequest, Linker, Vec<u8>, Vec<u8>) {
    let mut r = rng(seed);
    let mut request = LinkRequest::new(&w.laptop, &mut r, NOW);
    let code = LinkCode::from_bytes(&request.code()).unwrap();
    let (mut linker, offer) = Linker::start(&code, &w.phone, w.alice.public(), &mut r, NOW).unwrap();
    let accept = request.accept_offer(&offer, &w.laptop, NOW).unwrap();
    linker.receive_accept(&accept).unwrap();
    (request, linker, offer, accept)
}

/// The rest of a link from the short strings on: the laptop confirms, the
/// phone completes, the laptop reads the transfer.
fn confirm_and_finish(w: &LinkWorld, request: &mut LinkRequest, linker: &mut Linker) -> sealpost::device::Linked {
    let short = request.short_string().unwrap().to_string();
    let confirmation = request.confirm(&short, &w.laptop).unwrap();
    let done = linker.complete(&short, &confirmation, &w.alice, &w.list, &[]).unwrap();
    request.finish(&done.transfer).unwrap()
}

#[test]
fn a_wrong_or_stale_code_is_refused_and_nothing_changes() {
    let w = world(2);
    let mut r = rng(200);
    let mut request = LinkRequest::new(&w.laptop, &mut r, NOW);
    // The phone scanned an older code of the same laptop (a stale QR on
    // screen, or a photo of one).
    let stale = LinkRequest::new(&w.laptop, &mut r, NOW - 1000).code();
    let (_, wrong) =
        Linker::start(&LinkCode::from_bytes(&stale).unwrap(), &w.phone, w.alice.public(), &mut r, NOW).unwrap();
    assert_eq!(device_err(request.accept_offer(&wrong, &w.laptop, NOW)), DeviceError::WrongLinkCode);
    assert!(request.short_string().is_none());
    // Not a code at all, or a code of another type.
    assert!(LinkCode::from_bytes(&w.list.to_bytes()).is_err());
    assert!(LinkCode::from_bytes(&[]).is_err());
    // The right offer still links.
    let code = LinkCode::from_bytes(&request.code()).unwrap();
    let (mut linker, offer) = Linker::start(&code, &w.phone, w.alice.public(), &mut r, NOW).unwrap();
    let accept = request.accept_offer(&offer, &w.laptop, NOW).unwrap();
    linker.receive_accept(&accept).unwrap();
    confirm_and_finish(&w, &mut request, &mut linker);
}

#[test]
fn an_expired_code_is_refused_on_both_devices() {
    let w = world(3);
    let mut r = rng(300);
    let mut request = LinkRequest::new(&w.laptop, &mut r, NOW);
    let code = LinkCode::from_bytes(&request.code()).unwrap();
    let expiry = NOW + LINK_CODE_LIFETIME_MS;
    assert_eq!(
        device_err(Linker::start(&code, &w.phone, w.alice.public(), &mut r, expiry + 1)),
        DeviceError::LinkCodeExpired { expired_at_ms: expiry }
    );
    let (_, offer) = Linker::start(&code, &w.phone, w.alice.public(), &mut r, expiry).unwrap();
    assert_eq!(
        device_err(request.accept_offer(&offer, &w.laptop, expiry + 1)),
        DeviceError::LinkCodeExpired { expired_at_ms: expiry }
    );
    request.accept_offer(&offer, &w.laptop, expiry).unwrap();
}

#[test]
fn a_code_for_itself_or_another_account_is_refused() {
    let w = world(4);
    let mut r = rng(400);
    let own = LinkCode::from_bytes(&LinkRequest::new(&w.phone, &mut r, NOW).code()).unwrap();
    assert_eq!(device_err(Linker::start(&own, &w.phone, w.alice.public(), &mut r, NOW)), DeviceError::LinkSelf);
    let mut request = LinkRequest::new(&w.laptop, &mut r, NOW);
    let code = LinkCode::from_bytes(&request.code()).unwrap();
    let (_, offer) = Linker::start(&code, &w.phone, w.alice.public(), &mut r, NOW).unwrap();
    let stranger = Account::new(&mut r, NOW);
    assert!(matches!(device_err(request.accept_offer(&offer, &stranger, NOW)), DeviceError::LinkState(_)));
    request.accept_offer(&offer, &w.laptop, NOW).unwrap();
    // Nor can another account confirm: nothing is signed with it.
    let short = request.short_string().unwrap().to_string();
    assert!(matches!(device_err(request.confirm(&short, &stranger)), DeviceError::LinkState(_)));
    request.confirm(&short, &w.laptop).unwrap();
}

#[test]
fn every_changed_byte_of_every_linking_message_is_refused_and_nothing_changes() {
    let w = world(5);
    let mut r = rng(500);
    let mut request = LinkRequest::new(&w.laptop, &mut r, NOW);
    let code = LinkCode::from_bytes(&request.code()).unwrap();
    let (mut linker, offer) = Linker::start(&code, &w.phone, w.alice.public(), &mut r, NOW).unwrap();
    for i in 0..offer.len() {
        let mut bad = offer.clone();
        bad[i] ^= 0x04;
        assert!(request.accept_offer(&bad, &w.laptop, NOW).is_err(), "offer byte {i}");
        assert!(request.short_string().is_none(), "offer byte {i} changed the request");
    }
    assert!(request.accept_offer(&offer[..offer.len() - 1], &w.laptop, NOW).is_err());
    let accept = request.accept_offer(&offer, &w.laptop, NOW).unwrap();
    for i in 0..accept.len() {
        let mut bad = accept.clone();
        bad[i] ^= 0x04;
        assert!(linker.receive_accept(&bad).is_err(), "accept byte {i}");
    }
    let short = linker.receive_accept(&accept).unwrap().to_string();
    let confirmation = request.confirm(&short, &w.laptop).unwrap();
    for i in 0..confirmation.len() {
        let mut bad = confirmation.clone();
        bad[i] ^= 0x04;
        assert!(linker.complete(&short, &bad, &w.alice, &w.list, &[]).is_err(), "confirmation byte {i}");
    }
    assert!(linker.complete(&short, &confirmation[..confirmation.len() - 1], &w.alice, &w.list, &[]).is_err());
    let done = linker.complete(&short, &confirmation, &w.alice, &w.list, b"memberships").unwrap();
    for i in 0..done.transfer.len() {
        let mut bad = done.transfer.clone();
        bad[i] ^= 0x04;
        assert!(request.finish(&bad).is_err(), "transfer byte {i}");
    }
    assert!(request.finish(&done.transfer[..done.transfer.len() - 1]).is_err());
    let linked = request.finish(&done.transfer).unwrap();
    assert_eq!(&linked.app_data[..], b"memberships");
}

#[test]
fn messages_of_another_link_are_refused() {
    // Two links in flight at once: nothing of one is accepted by the other.
    let (w1, w2) = (world(6), world(7));
    let (mut request1, mut linker1, offer1, accept1) = up_to_short_strings(&w1, 600);
    let (mut request2, mut linker2, _, _) = up_to_short_strings(&w2, 601);
    assert!(matches!(device_err(request2.accept_offer(&offer1, &w2.laptop, NOW)), DeviceError::LinkState(_)));
    assert!(matches!(device_err(linker2.receive_accept(&accept1)), DeviceError::LinkState(_)));
    let s1 = request1.short_string().unwrap().to_string();
    let s2 = request2.short_string().unwrap().to_string();
    assert_ne!(s1, s2);
    let c1 = request1.confirm(&s1, &w1.laptop).unwrap();
    let c2 = request2.confirm(&s2, &w2.laptop).unwrap();
    assert_eq!(device_err(linker2.complete(&s2, &c1, &w2.alice, &w2.list, &[])), DeviceError::WrongLinkCode);
    let done1 = linker1.complete(&s1, &c1, &w1.alice, &w1.list, &[]).unwrap();
    let done2 = linker2.complete(&s2, &c2, &w2.alice, &w2.list, &[]).unwrap();
    assert_eq!(device_err(request2.finish(&done1.transfer)), DeviceError::WrongLinkCode);
    assert_eq!(device_err(request1.finish(&done2.transfer)), DeviceError::WrongLinkCode);
    request1.finish(&done1.transfer).unwrap();
    request2.finish(&done2.transfer).unwrap();
}

#[test]
fn a_short_string_that_does_not_match_ends_the_link_with_nothing_linked() {
    let w = world(8);
    // On the existing device: no list is signed, no transfer made.
    let (mut request, mut linker, _, _) = up_to_short_strings(&w, 800);
    let confirmation = request.confirm(&request.short_string().unwrap().to_string(), &w.laptop).unwrap();
    assert_eq!(
        device_err(linker.complete("9999 9999x", &confirmation, &w.alice, &w.list, &[])),
        DeviceError::ShortStringMismatch
    );
    assert!(matches!(
        device_err(linker.complete("", &confirmation, &w.alice, &w.list, &[])),
        DeviceError::LinkState(_)
    ));

    // On the new device: nothing is signed, no transfer ever accepted.
    let (mut request, _, _, _) = up_to_short_strings(&w, 801);
    let right = request.short_string().unwrap();
    let wrong = if right.matches("1234 5678") { "8765 4321" } else { "1234 5678" };
    assert_eq!(device_err(request.confirm(wrong, &w.laptop)), DeviceError::ShortStringMismatch);
    assert!(matches!(device_err(request.confirm(&right.to_string(), &w.laptop)), DeviceError::LinkState(_)));
    assert!(matches!(device_err(request.finish(&[])), DeviceError::LinkState(_)));
}

#[test]
fn someone_who_saw_the_code_gets_no_membership_and_cannot_link() {
    // Mallory photographed the QR code and races the phone with her own
    // offer under her own user key.
    let w = world(9);
    let mut r = rng(900);
    let mut request = LinkRequest::new(&w.laptop, &mut r, NOW);
    let code = LinkCode::from_bytes(&request.code()).unwrap();
    let mallory_device = Account::new(&mut r, NOW);
    let mallory = UserKeyPair::generate(&mut r);
    let mallory_list =
        DeviceList::sign(&mallory, 1, [DeviceMembership::sign(mallory_device.identity_keypair(), mallory.public())])
            .unwrap();
    let (mut mallory_linker, mallory_offer) =
        Linker::start(&code, &mallory_device, mallory.public(), &mut r, NOW).unwrap();
    let (mut phone_linker, phone_offer) = Linker::start(&code, &w.phone, w.alice.public(), &mut r, NOW).unwrap();

    // Her offer arrives first: the laptop shows it is from another user key
    // and another device, and the phone's offer is refused.
    let accept = request.accept_offer(&mallory_offer, &w.laptop, NOW).unwrap();
    assert_eq!(request.offered_by(), Some((mallory_device.identity(), mallory.public())));
    assert!(matches!(device_err(request.accept_offer(&phone_offer, &w.laptop, NOW)), DeviceError::LinkState(_)));
    // The acceptance went to her; the phone cannot take it (it is sealed
    // for Mallory's link), so the phone never shows a short string.
    assert_eq!(device_err(phone_linker.receive_accept(&accept)), DeviceError::WrongLinkCode);
    let mallory_short = mallory_linker.receive_accept(&accept).unwrap();
    // The acceptance holds no membership: without the laptop's
    // confirmation, Mallory cannot name the laptop on any list of hers.
    for guess in [&accept[..], &mallory_offer[..], &[][..]] {
        assert!(mallory_linker.complete(&mallory_short.to_string(), guess, &mallory, &mallory_list, &[]).is_err());
    }
    // The phone's own short string (of the link it started) is what Alice
    // would type on the laptop: it is not Mallory's, so the laptop refuses
    // to confirm and signs nothing.
    let mut r2 = rng(901);
    let mut honest = LinkRequest::new(&w.laptop, &mut r2, NOW);
    let (mut l2, o2) =
        Linker::start(&LinkCode::from_bytes(&honest.code()).unwrap(), &w.phone, w.alice.public(), &mut r2, NOW)
            .unwrap();
    let phone_short = l2.receive_accept(&honest.accept_offer(&o2, &w.laptop, NOW).unwrap()).unwrap();
    assert_ne!(phone_short, mallory_short);
    assert_eq!(device_err(request.confirm(&phone_short.to_string(), &w.laptop)), DeviceError::ShortStringMismatch);
}

#[test]
fn complete_refuses_another_user_or_a_list_without_this_device() {
    let w = world(10);
    let (mut request, mut linker, _, _) = up_to_short_strings(&w, 1000);
    let mut r = rng(1001);
    let short = request.short_string().unwrap().to_string();
    let c = request.confirm(&short, &w.laptop).unwrap();
    let other = UserKeyPair::generate(&mut r);
    assert_eq!(device_err(linker.complete(&short, &c, &other, &w.list, &[])), DeviceError::UserKeyMismatch);
    let without_phone = DeviceList::sign(&w.alice, 5, [member(3, &w.alice)]).unwrap();
    assert_eq!(device_err(linker.complete(&short, &c, &w.alice, &without_phone, &[])), DeviceError::NotListed);
    let too_big = vec![0u8; sealpost::limits::MAX_LINK_APP_DATA + 1];
    assert!(matches!(linker.complete(&short, &c, &w.alice, &w.list, &too_big), Err(Error::TooLarge { .. })));
    // None of these ended the link.
    let done = linker.complete(&short, &c, &w.alice, &w.list, &[]).unwrap();
    assert_eq!(done.devices.version(), 2);
}

#[test]
fn a_link_to_a_user_with_the_most_devices_transfers_the_full_list() {
    // The transfer's bound fits a list at MAX_DEVICES: linking the last
    // device a list can hold works, one more is refused before anything
    // is signed.
    let w = world(11);
    let members: Vec<DeviceMembership> = (0..MAX_DEVICES - 2).map(|i| member(100 + i as u8, &w.alice)).collect();
    let full_but_one = DeviceList::sign(
        &w.alice,
        7,
        members.into_iter().chain([DeviceMembership::sign(w.phone.identity_keypair(), w.alice.public())]),
    )
    .unwrap();
    let (mut request, mut linker, _, _) = up_to_short_strings(&w, 1100);
    let short = request.short_string().unwrap().to_string();
    let c = request.confirm(&short, &w.laptop).unwrap();
    let done = linker.complete(&short, &c, &w.alice, &full_but_one, b"big").unwrap();
    assert_eq!(done.devices.devices().len(), MAX_DEVICES);
    let linked = request.finish(&done.transfer).unwrap();
    assert_eq!(linked.devices, done.devices);

    let mut r = rng(1101);
    let newest = Account::new(&mut r, NOW);
    let mut request = LinkRequest::new(&newest, &mut r, NOW);
    let code = LinkCode::from_bytes(&request.code()).unwrap();
    let (mut linker, offer) = Linker::start(&code, &w.phone, w.alice.public(), &mut r, NOW).unwrap();
    linker.receive_accept(&request.accept_offer(&offer, &newest, NOW).unwrap()).unwrap();
    let short = request.short_string().unwrap().to_string();
    let c = request.confirm(&short, &newest).unwrap();
    assert!(matches!(
        device_err(linker.complete(&short, &c, &w.alice, &done.devices, &[])),
        DeviceError::DeviceCount { .. }
    ));
}

// ------------------------------------------------- removal and fan-out

/// Seals `body` once to every device in `list` that `sessions` has a
/// session with: "send to a user" over Forkout, one slot per device.
fn send_to_devices(
    sender: &Account,
    sessions: &mut [(IdentityKey, Session)],
    list: &DeviceList,
    body: &[u8],
) -> sealpost::forkout::SealedForkout {
    let recipients =
        sessions.iter_mut().filter(|(d, _)| list.contains(d)).map(|(_, s)| Recipient::Session(s)).collect::<Vec<_>>();
    let (sealed, _) =
        forkout::seal(sender, body.to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng(77)).unwrap();
    sealed
}

#[test]
fn a_removed_device_reads_nothing_sealed_after_its_removal() {
    let mut r = rng(11);
    let alice = UserKeyPair::generate(&mut r);
    let mut phone = Account::new(&mut r, NOW);
    let mut laptop = Account::new(&mut r, NOW);
    let bob = Account::new(&mut r, NOW);
    let v1 = DeviceList::sign(
        &alice,
        1,
        [
            DeviceMembership::sign(phone.identity_keypair(), alice.public()),
            DeviceMembership::sign(laptop.identity_keypair(), alice.public()),
        ],
    )
    .unwrap();

    // Bob holds a session with each of Alice's devices.
    let mut to_alice: Vec<(IdentityKey, Session)> = [&phone, &laptop]
        .iter()
        .map(|a| (*a.identity(), bob.create_outbound_session(&a.prekey_bundle().unwrap(), &mut r).unwrap()))
        .collect();
    let first = send_to_devices(&bob, &mut to_alice, &v1, b"before");
    let (phone_id, laptop_id) = (*phone.identity(), *laptop.identity());
    let (mut phone_session, opened) =
        forkout::open_new(&mut phone, &first.delivery(&phone_id).unwrap().to_vec(), NOW).unwrap();
    assert_eq!(opened.unwrap().body(), Some(&b"before"[..]));
    let (mut laptop_session, opened) =
        forkout::open_new(&mut laptop, &first.delivery(&laptop_id).unwrap().to_vec(), NOW).unwrap();
    assert_eq!(opened.unwrap().body(), Some(&b"before"[..]));

    // The phone is lost; the laptop publishes v2 and Bob accepts it.
    let v2 = v1.without_device(&alice, phone.identity()).unwrap();
    let change = v1.update(&DeviceList::from_bytes(&v2.to_bytes()).unwrap()).unwrap();
    assert_eq!(change.removed(), &[*phone.identity()]);
    to_alice.retain(|(d, _)| !change.removed().contains(d)); // Sesame: drop its session

    // The thief holds the phone's whole state; the next message has no slot
    // for it, and nothing addressed to the laptop opens with it.
    let after = send_to_devices(&bob, &mut to_alice, &v2, b"after");
    assert!(after.delivery(phone.identity()).is_err());
    let to_laptop = after.delivery(laptop.identity()).unwrap().to_vec();
    assert!(forkout::open(&mut phone, &mut phone_session, &to_laptop, NOW).is_err());
    let opened = forkout::open(&mut laptop, &mut laptop_session, &to_laptop, NOW).unwrap();
    assert_eq!(opened.body(), Some(&b"after"[..]));
}
