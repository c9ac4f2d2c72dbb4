//! People with several devices, through the `Client`: linking, signed
//! device lists, sending to people (every device of the recipient and the
//! sender's own other devices, sealed once), groups of people, removal,
//! rollback and forgery, out-of-date lists caught by the relay, a device
//! offline for a week, and random device churn with every message checked
//! to arrive exactly once on every device it was for.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rand::rngs::StdRng;
use sealpost::device::{self, DeviceList};
use sealpost::forkout::{self, ForkoutBundle};
use sealpost::group::GroupId;
use sealpost::{DeviceError, Error, IdentityKey};
use sealpost_client::store::MemoryStore;
use sealpost_client::{Client, ClientError, Destination, Event, Outgoing};
use sealpost_testkit::{NOW, rng};

const WEEK_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// One device: its user and its client.
struct Dev {
    user: String,
    client: Client<MemoryStore>,
    id: IdentityKey,
}

/// Messages waiting for a device: `(sender user, sender device, bytes)`.
type Mailbox = Vec<(String, IdentityKey, Vec<u8>)>;

/// Devices, the directory (each user's newest published list), the relay
/// and every device's mailbox.
struct World {
    devices: Vec<Dev>,
    directory: BTreeMap<String, Vec<u8>>,
    mail: BTreeMap<IdentityKey, Mailbox>,
    /// Group id -> its users (the app's own membership records).
    groups: BTreeMap<GroupId, Vec<String>>,
    /// One-time prekeys the directory handed out, per device.
    handed: BTreeSet<(IdentityKey, u32)>,
    r: StdRng,
    seed: u8,
    now: u64,
}

impl World {
    fn new(seed: u64) -> Self {
        Self {
            devices: Vec::new(),
            directory: BTreeMap::new(),
            mail: BTreeMap::new(),
            groups: BTreeMap::new(),
            handed: BTreeSet::new(),
            r: rng(seed),
            seed: 1,
            now: NOW,
        }
    }

    fn new_client(&mut self) -> Client<MemoryStore> {
        self.seed = self.seed.wrapping_add(1);
        Client::create(MemoryStore::new(), &[self.seed; 32], &mut self.r, self.now).unwrap()
    }

    /// A person's first device.
    fn new_user(&mut self, user: &str) -> usize {
        let client = self.new_client();
        let list = client.create_user(user, &mut self.r).unwrap();
        self.directory.insert(user.into(), list.to_bytes());
        let id = client.identity().unwrap();
        self.devices.push(Dev { user: user.into(), client, id });
        self.devices.len() - 1
    }

    /// Publishes a list: the directory takes only a newer version than the
    /// one it holds (compare and swap), so two devices of one user never
    /// publish two lists of one version.
    fn publish(&mut self, user: &str, list: &DeviceList) {
        if let Some(held) = self.directory.get(user) {
            assert!(list.version() > DeviceList::from_bytes(held).unwrap().version(), "a stale list was published");
        }
        self.directory.insert(user.into(), list.to_bytes());
    }

    /// Links a new device to `user` from its device `from`; returns it.
    fn link(&mut self, from: usize) -> usize {
        // The existing device changes the newest list, not its own old view.
        self.sync(from);
        let laptop = self.new_client();
        let mut request = laptop.link_request(&mut self.r, self.now).unwrap();
        let existing = &self.devices[from];
        let (mut linker, offer) = existing.client.start_link(&request.code(), &mut self.r, self.now).unwrap();
        let accept = laptop.accept_link_offer(&mut request, &offer, self.now).unwrap();
        let on_existing = linker.receive_accept(&accept).unwrap();
        let on_new = request.short_string().unwrap();
        let confirmation = laptop.confirm_link(&mut request, &on_existing.to_string()).unwrap();
        let done = existing.client.complete_link(&mut linker, &on_new.to_string(), &confirmation, b"app data").unwrap();
        let user = existing.user.clone();
        let data = laptop.finish_link(&request, &user, &done.transfer).unwrap();
        assert_eq!(&data[..], b"app data");
        self.publish(&user, &done.devices);
        let id = laptop.identity().unwrap();
        self.devices.push(Dev { user, client: laptop, id });
        self.devices.len() - 1
    }

    /// Device `d` fetches every user's newest list, accepts it, and starts
    /// sessions with the devices it has none with.
    fn sync(&mut self, d: usize) {
        let users: Vec<(String, Vec<u8>)> = self.directory.iter().map(|(u, l)| (u.clone(), l.clone())).collect();
        for (user, list) in users {
            let (_, outs) = self.devices[d].client.accept_device_list(&user, &list, &mut self.r).unwrap();
            self.route(d, outs);
            for device in self.devices[d].client.devices_without_session(&user).unwrap() {
                let target = self.devices.iter().position(|x| x.id == device).unwrap();
                let bundle = self.bundle(target);
                let outs = self.devices[d].client.start_device_session(&user, &bundle, self.now, &mut self.r).unwrap();
                self.route(d, outs);
            }
        }
    }

    fn sync_all(&mut self) {
        for d in 0..self.devices.len() {
            self.sync(d);
        }
    }

    /// A fresh bundle of device `d` (its one-time prekeys are used once).
    fn bundle(&mut self, d: usize) -> sealpost::PreKeyBundle {
        let (client, id) = (&self.devices[d].client, self.devices[d].id);
        // Each one-time prekey is handed out once: the directory deletes it.
        let bundle = client
            .prekey_bundles(&mut self.r, self.now)
            .unwrap()
            .into_iter()
            .find(|b| !self.handed.contains(&(id, b.one_time_prekey_id().unwrap())))
            .unwrap();
        self.handed.insert((id, bundle.one_time_prekey_id().unwrap()));
        bundle
    }

    /// The relay: checks a bundle for users against the directory, splits
    /// it; everything else goes straight to the devices it names.
    fn try_route(&mut self, from: usize, out: &Outgoing) -> Result<(), Error> {
        let sender = (self.devices[from].user.clone(), self.devices[from].id);
        match &out.to {
            Destination::Users(users) => {
                let bundle = ForkoutBundle::parse(&out.bytes)?;
                let lists: Vec<DeviceList> =
                    users.iter().map(|u| DeviceList::from_bytes(&self.directory[u]).unwrap()).collect();
                device::check_recipients(bundle.recipients(), &lists, &sender.1)?;
                for (id, delivery) in forkout::split_all(&out.bytes)? {
                    let id = IdentityKey::from_bytes(&id).unwrap();
                    self.mail.entry(id).or_default().push((sender.0.clone(), sender.1, delivery));
                }
            }
            Destination::Device { device, .. } => {
                self.mail.entry(**device).or_default().push((sender.0.clone(), sender.1, out.bytes.clone()));
            }
            Destination::Group(group) => {
                let users = self.groups[group].clone();
                for d in self.devices.iter().filter(|d| users.contains(&d.user) && d.id != sender.1) {
                    self.mail.entry(d.id).or_default().push((sender.0.clone(), sender.1, out.bytes.clone()));
                }
            }
            other => panic!("unexpected destination {other:?}"),
        }
        self.devices[from].client.acknowledge(out.id).unwrap();
        Ok(())
    }

    fn route(&mut self, from: usize, outs: Vec<Outgoing>) {
        for out in outs {
            self.try_route(from, &out).unwrap();
        }
    }

    /// Device `d` receives everything waiting for it, in order.
    fn drain(&mut self, d: usize) -> Vec<Event> {
        let mail = self.mail.remove(&self.devices[d].id).unwrap_or_default();
        let mut events = Vec::new();
        for (user, device, bytes) in mail {
            let mut result = self.devices[d].client.receive_from_device(&user, &device, &bytes, self.now);
            if matches!(result, Err(ClientError::UnknownUser { .. } | ClientError::UnknownDevice { .. })) {
                // A sender this device has no (current) list for: fetch the
                // newest lists, then take the message again.
                self.sync(d);
                result = self.devices[d].client.receive_from_device(&user, &device, &bytes, self.now);
            }
            let event = match result {
                Ok(event) => event,
                // Removed since it sent: refused, as documented.
                Err(ClientError::UnknownDevice { .. }) if !self.directory_lists(&user, &device) => continue,
                Err(e) => panic!("{e:?}"),
            };
            events.push(event);
        }
        events
    }

    /// Whether the directory lists `device` for `user` now.
    fn directory_lists(&self, user: &str, device: &IdentityKey) -> bool {
        DeviceList::from_bytes(&self.directory[user]).unwrap().contains(device)
    }

    fn drain_all(&mut self) -> Vec<Vec<Event>> {
        (0..self.devices.len()).map(|d| self.drain(d)).collect()
    }

    fn send(&mut self, from: usize, to: &str, text: &[u8]) -> Outgoing {
        let out = self.devices[from].client.send_to_user(to, text, None, &mut self.r).unwrap();
        self.try_route(from, &out).unwrap();
        out
    }

    fn of(&self, user: &str) -> Vec<usize> {
        (0..self.devices.len()).filter(|d| self.devices[*d].user == user).collect()
    }
}

/// The content of every message event, by sender user.
fn texts(events: &[Event]) -> Vec<(String, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Forkout { from, plaintext, .. } | Event::GroupMessage { from, plaintext, .. } => {
                Some((from.clone(), plaintext.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Three people with three devices each, everyone synced.
fn nine_devices(seed: u64) -> World {
    let mut w = World::new(seed);
    for user in ["alice", "bob", "carol"] {
        let first = w.new_user(user);
        w.link(first);
        w.link(first);
    }
    w.sync_all();
    w.drain_all();
    w
}

#[test]
fn three_people_three_devices_each_one_to_one_and_in_a_group() {
    let mut w = nine_devices(1);
    let alice_phone = w.of("alice")[0];
    let out = w.send(alice_phone, "bob", b"hi bob");
    // One bundle: 3 of Bob's devices + Alice's 2 others, sealed once.
    assert_eq!(ForkoutBundle::parse(&out.bytes).unwrap().recipients().count(), 5);
    let events = w.drain_all();
    for (d, events) in events.iter().enumerate() {
        let got = texts(events);
        let expected = if w.devices[d].user == "bob" || (w.devices[d].user == "alice" && d != alice_phone) {
            vec![("alice".to_string(), b"hi bob".to_vec())]
        } else {
            vec![]
        };
        assert_eq!(got, expected, "device {d} of {}", w.devices[d].user);
    }

    // A group of the three people, created on Carol's tablet.
    let carol = w.of("carol")[1];
    let (group, outs) = w.devices[carol].client.create_user_group(&["alice", "bob"], &mut w.r).unwrap();
    assert_eq!(outs.len(), 8, "one sender key per other device");
    w.groups.insert(group, vec!["alice".into(), "bob".into(), "carol".into()]);
    w.route(carol, outs);
    for d in (0..w.devices.len()).filter(|d| *d != carol) {
        let others: Vec<&str> = ["alice", "bob", "carol"].into_iter().filter(|u| *u != w.devices[d].user).collect();
        let outs = w.devices[d].client.join_user_group(&group, &others, &mut w.r).unwrap();
        w.route(d, outs);
    }
    w.drain_all();
    assert_eq!(w.devices[carol].client.group_users(&group).unwrap(), ["alice", "bob", "carol"]);
    assert_eq!(w.devices[carol].client.groups().unwrap(), [group]);
    // Every device speaks once; each message is one ciphertext for all.
    for d in 0..w.devices.len() {
        let out = w.devices[d].client.send_group(&group, format!("from {d}").as_bytes(), None, &mut w.r).unwrap();
        assert!(matches!(out.to, Destination::Group(_)));
        w.try_route(d, &out).unwrap();
    }
    let events = w.drain_all();
    for (d, events) in events.iter().enumerate() {
        let got: BTreeSet<Vec<u8>> = texts(events).into_iter().map(|(_, t)| t).collect();
        let expected: BTreeSet<Vec<u8>> =
            (0..w.devices.len()).filter(|s| *s != d).map(|s| format!("from {s}").into_bytes()).collect();
        assert_eq!(got, expected, "device {d}");
        assert_eq!(texts(events).len(), 8);
    }
}

#[test]
fn a_device_added_mid_conversation_reads_what_follows_not_what_came_before() {
    let mut w = World::new(2);
    let alice = w.new_user("alice");
    let bob = w.new_user("bob");
    w.sync_all();
    w.send(alice, "bob", b"before");
    let before = w.mail.clone();
    w.drain_all();

    // Bob links a tablet; the messages already sent have no slot for it.
    let tablet = w.link(bob);
    let tablet_id = w.devices[tablet].id;
    for (_, _, bytes) in before.values().flatten() {
        let to_tablet = ForkoutBundle::parse(bytes).is_err()
            && w.devices[tablet].client.receive_from_device("alice", &w.devices[alice].id, bytes, NOW).is_ok();
        assert!(!to_tablet, "an earlier message opened on the new device");
    }
    assert!(!before.contains_key(&tablet_id));
    w.sync_all();
    w.drain_all();
    w.send(alice, "bob", b"after");
    let events = w.drain_all();
    assert_eq!(texts(&events[tablet]), [("alice".to_string(), b"after".to_vec())]);
    assert_eq!(texts(&events[bob]), [("alice".to_string(), b"after".to_vec())]);
    // And the tablet's own messages reach Alice and Bob's phone.
    w.send(tablet, "alice", b"from the tablet");
    let events = w.drain_all();
    assert_eq!(texts(&events[alice]), [("bob".to_string(), b"from the tablet".to_vec())]);
    assert_eq!(texts(&events[bob]), [("bob".to_string(), b"from the tablet".to_vec())]);
}

#[test]
fn a_removed_device_reads_nothing_after_and_groups_rotate() {
    let mut w = World::new(3);
    let alice_phone = w.new_user("alice");
    let alice_laptop = w.link(alice_phone);
    let bob = w.new_user("bob");
    w.sync_all();
    w.drain_all();
    let (group, outs) = w.devices[bob].client.create_user_group(&["alice"], &mut w.r).unwrap();
    w.groups.insert(group, vec!["alice".into(), "bob".into()]);
    w.route(bob, outs);
    for d in [alice_phone, alice_laptop] {
        let outs = w.devices[d].client.join_user_group(&group, &["bob"], &mut w.r).unwrap();
        w.route(d, outs);
    }
    w.drain_all();
    let m = w.devices[bob].client.send_group(&group, b"old news", None, &mut w.r).unwrap();
    w.try_route(bob, &m).unwrap();
    assert_eq!(texts(&w.drain(alice_phone)).len(), 1);
    w.drain_all();

    // The phone is lost: the laptop removes it; Bob accepts the new list.
    let phone_id = w.devices[alice_phone].id;
    let (list, outs) = w.devices[alice_laptop].client.remove_own_device(&phone_id, &mut w.r).unwrap();
    assert!(!list.contains(&phone_id));
    w.route(alice_laptop, outs);
    w.publish("alice", &list);
    let (change, outs) = w.devices[bob].client.accept_device_list("alice", &list.to_bytes(), &mut w.r).unwrap();
    assert_eq!(change.removed(), &[phone_id]);
    // Bob's group key rotated: the new one goes to the laptop only.
    assert_eq!(outs.len(), 1);
    assert!(matches!(&outs[0].to, Destination::Device { device, .. } if **device == w.devices[alice_laptop].id));
    w.route(bob, outs);

    // Whoever holds the phone reads nothing that follows, 1:1 or group.
    let stolen_mail = w.mail.remove(&phone_id);
    assert!(stolen_mail.is_none(), "nothing was addressed to the removed phone");
    let out = w.send(bob, "alice", b"after removal");
    assert!(!w.mail.contains_key(&phone_id));
    let m = w.devices[bob].client.send_group(&group, b"new plans", None, &mut w.r).unwrap();
    let phone_try = w.devices[alice_phone].client.receive_from_device("bob", &w.devices[bob].id, &m.bytes, NOW);
    assert!(phone_try.is_err(), "the removed phone read a group message sent after its removal");
    w.try_route(bob, &m).unwrap();
    w.mail.remove(&phone_id);
    let events = w.drain(alice_laptop);
    assert!(matches!(events[0], Event::SenderKeyInstalled { .. }), "{events:?}");
    assert_eq!(
        texts(&events),
        [("bob".to_string(), b"after removal".to_vec()), ("bob".to_string(), b"new plans".to_vec())]
    );
    let _ = out;
    // Bob refuses anything from the phone now.
    assert!(matches!(
        w.devices[bob].client.receive_from_device("alice", &phone_id, &m.bytes, NOW),
        Err(ClientError::UnknownDevice { .. })
    ));
}

#[test]
fn rolled_back_and_forged_lists_are_refused_and_nothing_changes() {
    let mut w = World::new(4);
    let alice = w.new_user("alice");
    let v1 = w.directory["alice"].clone();
    w.link(alice);
    let v2 = w.directory["alice"].clone();
    let bob = w.new_user("bob");
    w.sync(bob);
    let held = w.devices[bob].client.user_devices("alice").unwrap().unwrap();
    assert_eq!(held.version(), 2);
    // The relay serves Alice's old list.
    let r = w.devices[bob].client.accept_device_list("alice", &v1, &mut w.r);
    assert!(matches!(r, Err(ClientError::Protocol(Error::Device(DeviceError::RolledBack { seen: 2, received: 1 })))));
    // A list signed by Mallory's user key for "alice".
    let mallory = w.new_client();
    let forged = mallory.create_user("mallory", &mut w.r).unwrap();
    let r = w.devices[bob].client.accept_device_list("alice", &forged.to_bytes(), &mut w.r);
    assert!(matches!(r, Err(ClientError::Protocol(Error::Device(DeviceError::UserKeyMismatch)))));
    // Garbage and a tampered list.
    let mut tampered = v2.clone();
    tampered[50] ^= 1;
    assert!(w.devices[bob].client.accept_device_list("alice", &tampered, &mut w.r).is_err());
    assert_eq!(w.devices[bob].client.user_devices("alice").unwrap().unwrap(), held);
    // A device not on the list is never trusted, even with an authentic setup.
    let stranger = w.new_client();
    let bundle = w.devices[bob].client.prekey_bundles(&mut w.r, NOW).unwrap().remove(0);
    stranger.create_user("eve", &mut w.r).unwrap();
    let eve_list = stranger.own_devices().unwrap();
    stranger.accept_device_list("bob", &w.directory["bob"], &mut w.r).unwrap();
    stranger.start_device_session("bob", &bundle, NOW, &mut w.r).unwrap();
    let out = stranger.send_to_user("bob", b"i am alice", None, &mut w.r).unwrap();
    let delivery = forkout::split_all(&out.bytes).unwrap().next().unwrap().1;
    let r = w.devices[bob].client.receive_from_device("alice", &eve_list.devices()[0], &delivery, NOW);
    assert!(matches!(r, Err(ClientError::UnknownDevice { .. })));
    // Safety numbers are per user and do not move with devices.
    let before = w.devices[bob].client.user_safety_number("alice").unwrap().unwrap();
    w.link(alice);
    w.sync(bob);
    assert!(before.ct_eq(&w.devices[bob].client.user_safety_number("alice").unwrap().unwrap()));
    let alice_key = w.devices[alice].client.user().unwrap().unwrap().1;
    w.devices[bob].client.verify_user("alice", &alice_key).unwrap();
    assert!(w.devices[bob].client.is_user_verified("alice").unwrap());
    let mallory_key = mallory.user().unwrap().unwrap().1;
    assert!(w.devices[bob].client.verify_user("alice", &mallory_key).is_err());
}

#[test]
fn linking_with_a_wrong_code_or_string_changes_nothing() {
    let mut w = World::new(5);
    let phone = w.new_user("alice");
    let laptop = w.new_client();
    let mut request = laptop.link_request(&mut w.r, NOW).unwrap();
    let stale = laptop.link_request(&mut w.r, NOW).unwrap().code();
    let phone_client = &w.devices[phone].client;
    let (_, wrong_offer) = phone_client.start_link(&stale, &mut w.r, NOW).unwrap();
    assert!(matches!(
        laptop.accept_link_offer(&mut request, &wrong_offer, NOW),
        Err(ClientError::Protocol(Error::Device(DeviceError::WrongLinkCode)))
    ));
    let (mut linker, offer) = phone_client.start_link(&request.code(), &mut w.r, NOW).unwrap();
    let accept = laptop.accept_link_offer(&mut request, &offer, NOW).unwrap();
    let short = linker.receive_accept(&accept).unwrap();
    let confirmation = laptop.confirm_link(&mut request, &short.to_string()).unwrap();
    let wrong = if short.matches("0000 0000") { "1111 1111" } else { "0000 0000" };
    assert!(matches!(
        phone_client.complete_link(&mut linker, wrong, &confirmation, &[]),
        Err(ClientError::Protocol(Error::Device(DeviceError::ShortStringMismatch)))
    ));
    // The laptop never gets a transfer, so it has no user either.
    assert!(matches!(
        laptop.finish_link(&request, "alice", &confirmation),
        Err(ClientError::Protocol(Error::Device(_) | Error::Wire(_)))
    ));
    // Nothing changed: the phone's list is still version 1, the laptop has no user.
    assert_eq!(phone_client.own_devices().unwrap().version(), 1);
    assert!(laptop.user().unwrap().is_none());
    assert!(matches!(laptop.own_devices(), Err(ClientError::NoUser)));
    // A client with a user cannot link again or create another.
    assert!(matches!(phone_client.link_request(&mut w.r, NOW), Err(ClientError::UserExists)));
    assert!(matches!(phone_client.create_user("x", &mut w.r), Err(ClientError::UserExists)));
    let bundle = w.bundle(phone);
    assert!(matches!(
        w.devices[phone].client.start_session("\u{1f}sneaky", &bundle, NOW, &mut w.r),
        Err(ClientError::ReservedName { .. })
    ));
}

#[test]
fn a_device_offline_for_a_week_catches_up_and_a_stale_list_is_resent() {
    let mut w = World::new(6);
    let alice = w.new_user("alice");
    let bob_phone = w.new_user("bob");
    let bob_laptop = w.link(bob_phone);
    w.sync_all();
    w.drain_all();
    // The laptop is off for a week while Alice writes every day.
    for day in 0..7u64 {
        w.now = NOW + day * 24 * 60 * 60 * 1000;
        w.send(alice, "bob", format!("day {day}").as_bytes());
        w.drain(bob_phone);
    }
    // Meanwhile Bob linked a tablet; Alice's client has not seen it yet.
    let tablet = w.link(bob_phone);
    w.sync(tablet);
    w.drain(tablet);
    let out = w.devices[alice].client.send_to_user("bob", b"are you there", None, &mut w.r).unwrap();
    match w.try_route(alice, &out) {
        Err(Error::Device(DeviceError::StaleDeviceList { missing, extra })) => {
            assert_eq!(missing, vec![w.devices[tablet].id]);
            assert!(extra.is_empty());
        }
        other => panic!("the relay accepted a bundle from an old list: {other:?}"),
    }
    // Alice's client takes the newer list, a session with the tablet, and
    // seals the same message again in place of the refused one.
    w.sync(alice);
    let again = w.devices[alice].client.resend_to_user(out.id, &mut w.r).unwrap();
    assert_eq!(w.devices[alice].client.outbox().unwrap().iter().filter(|o| o.id == out.id).count(), 0);
    w.try_route(alice, &again).unwrap();
    w.now = NOW + WEEK_MS;
    let events = w.drain_all();
    let laptop: Vec<Vec<u8>> = texts(&events[bob_laptop]).into_iter().map(|(_, t)| t).collect();
    let mut expected: Vec<Vec<u8>> = (0..7).map(|d| format!("day {d}").into_bytes()).collect();
    expected.push(b"are you there".to_vec());
    assert_eq!(laptop, expected, "the week, in order, once each");
    assert_eq!(texts(&events[tablet]), [("alice".to_string(), b"are you there".to_vec())]);
    assert_eq!(texts(&events[bob_phone]), [("alice".to_string(), b"are you there".to_vec())]);
    // A redelivery is a duplicate.
    assert!(matches!(
        w.devices[bob_phone].client.receive_from_device(
            "alice",
            &w.devices[alice].id,
            &forkout::split_all(&again.bytes)
                .unwrap()
                .find(|(id, _)| *id == w.devices[bob_phone].id.to_bytes())
                .unwrap()
                .1,
            w.now
        ),
        Ok(Event::Duplicate)
    ));
}

/// A step of random churn.
#[derive(Clone, Debug)]
enum Step {
    Link(usize),
    Remove(usize),
    Send(usize, usize),
    Sync(usize),
    Drain(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => any::<usize>().prop_map(Step::Link),
        1 => any::<usize>().prop_map(Step::Remove),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Step::Send(a, b)),
        2 => any::<usize>().prop_map(Step::Sync),
        3 => any::<usize>().prop_map(Step::Drain),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Devices are linked and removed at random while three people write
    /// to each other. Every message arrives exactly once on every device
    /// it was sealed for (and only on those), whatever the order of syncs
    /// and deliveries; a removed device receives nothing after its removal.
    #[test]
    fn random_device_churn_delivers_every_message_once_per_device(steps in proptest::collection::vec(step(), 1..30)) {
        let mut w = World::new(9);
        for user in ["a", "b", "c"] {
            w.new_user(user);
        }
        w.sync_all();
        let mut removed: BTreeSet<IdentityKey> = BTreeSet::new();
        // message -> the devices it was sealed for; device -> messages seen.
        let mut sealed_for: BTreeMap<Vec<u8>, (IdentityKey, BTreeSet<IdentityKey>)> = BTreeMap::new();
        let mut seen: BTreeMap<IdentityKey, Vec<Vec<u8>>> = BTreeMap::new();
        let mut n = 0u32;
        let live = |w: &World, removed: &BTreeSet<IdentityKey>| -> Vec<usize> {
            (0..w.devices.len()).filter(|d| !removed.contains(&w.devices[*d].id)).collect()
        };
        for step in steps {
            let alive = live(&w, &removed);
            match step {
                Step::Link(i) => {
                    if w.devices.len() < 12 {
                        w.link(alive[i % alive.len()]);
                    }
                }
                Step::Remove(i) => {
                    let d = alive[i % alive.len()];
                    let user = w.devices[d].user.clone();
                    let others: Vec<usize> = alive.iter().copied().filter(|x| *x != d && w.devices[*x].user == user).collect();
                    if let Some(&by) = others.first() {
                        let id = w.devices[d].id;
                        w.sync(by);
                        let (list, outs) = w.devices[by].client.remove_own_device(&id, &mut w.r).unwrap();
                        w.route(by, outs);
                        w.publish(&user, &list);
                        removed.insert(id);
                        w.mail.remove(&id);
                    }
                }
                Step::Send(a, b) => {
                    let from = alive[a % alive.len()];
                    let to = ["a", "b", "c"][b % 3];
                    n += 1;
                    let text = format!("m{n}").into_bytes();
                    if w.devices[from].client.user_devices(to).unwrap().is_none() {
                        w.sync(from); // a new device learns of the user first
                    }
                    match w.devices[from].client.send_to_user(to, &text, None, &mut w.r) {
                        Ok(out) => {
                            let mut out = out;
                            loop {
                                match w.try_route(from, &out) {
                                    Ok(()) => break,
                                    Err(Error::Device(DeviceError::StaleDeviceList { .. })) => {
                                        w.sync(from);
                                        out = w.devices[from].client.resend_to_user(out.id, &mut w.r).unwrap();
                                    }
                                    Err(e) => panic!("{e:?}"),
                                }
                            }
                            let ids: BTreeSet<IdentityKey> = ForkoutBundle::parse(&out.bytes).unwrap()
                                .recipients().map(|r| IdentityKey::from_bytes(r).unwrap()).collect();
                            prop_assert!(ids.is_disjoint(&removed), "a removed device got a slot");
                            sealed_for.insert(text, (w.devices[from].id, ids));
                        }
                        Err(ClientError::NoSession { .. }) => {}
                        Err(e) => panic!("{e:?}"),
                    }
                }
                Step::Sync(i) => {
                    let d = alive[i % alive.len()];
                    w.sync(d);
                }
                Step::Drain(i) => {
                    let d = alive[i % alive.len()];
                    let id = w.devices[d].id;
                    for (_, text) in texts(&w.drain(d)) {
                        seen.entry(id).or_default().push(text);
                    }
                }
            }
        }
        for d in live(&w, &removed) {
            let id = w.devices[d].id;
            for (_, text) in texts(&w.drain(d)) {
                seen.entry(id).or_default().push(text);
            }
        }
        for (text, (sender, devices)) in &sealed_for {
            for device in devices {
                let count = seen.get(device).map_or(0, |s| s.iter().filter(|t| *t == text).count());
                // A removed device gets what was sealed before its removal
                // at most once; what a device sent before its removal is
                // refused once the receiver knows (it cannot prove when).
                if removed.contains(device) || removed.contains(sender) {
                    prop_assert!(count <= 1);
                } else {
                    prop_assert_eq!(count, 1, "{:?} on {:?}", String::from_utf8_lossy(text), device);
                }
            }
        }
        for (device, texts) in &seen {
            for text in texts {
                prop_assert!(sealed_for[text].1.contains(device), "a message reached a device it was not for");
            }
        }
    }
}

#[test]
fn burnout_is_enforced_on_every_device_and_burning_on_one_burns_everywhere() {
    use sealpost::burnout::Envelope;
    let mut w = World::new(7);
    let alice = w.new_user("alice");
    let bob_phone = w.new_user("bob");
    let bob_laptop = w.link(bob_phone);
    let bob_tablet = w.link(bob_phone);
    w.sync_all();
    w.drain_all();
    let envelope = Envelope::with_ttl(NOW, 60_000).burn_after_reading();
    let out = w.devices[alice].client.send_to_user("bob", b"read once", Some(&envelope), &mut w.r).unwrap();
    w.try_route(alice, &out).unwrap();
    // The tablet is offline; the phone and the laptop get it.
    let tablet_mail = w.mail.remove(&w.devices[bob_tablet].id).unwrap();
    let entries: Vec<_> = [bob_phone, bob_laptop]
        .into_iter()
        .map(|d| match w.drain(d).as_slice() {
            [Event::Burnout { entry, envelope: e, .. }] => {
                assert_eq!(*e, envelope);
                *entry
            }
            other => panic!("{other:?}"),
        })
        .collect();
    // Expiry holds on every device: past it, nothing is readable anywhere.
    assert!(w.devices[bob_laptop].client.vault_read(entries[1], NOW + 60_001).is_err());
    // (That read purged the laptop's copy; read on the phone in time.)
    assert_eq!(&w.devices[bob_phone].client.vault_read(entries[0], NOW + 1).unwrap()[..], b"read once");
    // The read burned it on the phone and left a notice for Bob's devices.
    let outbox = w.devices[bob_phone].client.outbox().unwrap();
    let notice = outbox.iter().find(|o| matches!(&o.to, Destination::Users(u) if u == &["bob".to_string()])).unwrap();
    assert_eq!(ForkoutBundle::parse(&notice.bytes).unwrap().recipients().count(), 2, "laptop and tablet");
    let notice = notice.clone();
    w.try_route(bob_phone, &notice).unwrap();
    assert!(matches!(w.drain(bob_laptop).as_slice(), [Event::Burned { entry: None, .. }]));
    // The tablet comes back: the notice first, then the message, dropped.
    let mut tablet_queue = w.mail.remove(&w.devices[bob_tablet].id).unwrap();
    tablet_queue.extend(tablet_mail);
    w.mail.insert(w.devices[bob_tablet].id, tablet_queue);
    let events = w.drain(bob_tablet);
    assert!(
        matches!(events.as_slice(), [Event::Burned { entry: None, .. }, Event::Burned { entry: None, .. }]),
        "{events:?}"
    );
    assert!(w.devices[bob_tablet].client.vault_entries(NOW).unwrap().is_empty());

    // In the other order: a copy that arrived is erased by the notice.
    w.now = NOW + 100_000;
    let envelope = Envelope::with_ttl(w.now, 60_000).burn_after_reading();
    let out = w.devices[alice].client.send_to_user("bob", b"again", Some(&envelope), &mut w.r).unwrap();
    w.try_route(alice, &out).unwrap();
    let phone_entry = match w.drain(bob_phone).as_slice() {
        [Event::Burnout { entry, .. }] => *entry,
        other => panic!("{other:?}"),
    };
    let tablet_entry = match w.drain(bob_tablet).as_slice() {
        [Event::Burnout { entry, .. }] => *entry,
        other => panic!("{other:?}"),
    };
    w.drain(bob_laptop);
    w.devices[bob_phone].client.vault_read(phone_entry, w.now + 2).unwrap();
    for out in w.devices[bob_phone].client.outbox().unwrap() {
        w.try_route(bob_phone, &out).unwrap();
    }
    assert!(matches!(w.drain(bob_tablet).as_slice(), [Event::Burned { entry: Some(e), .. }] if *e == tablet_entry));
    assert!(w.devices[bob_tablet].client.vault_read(tablet_entry, w.now + 3).is_err());
    // Plain messages to people are never taken for notices, whatever they hold.
    let out = w.send(alice, "bob", &[1; 33]);
    let _ = out;
    assert_eq!(texts(&w.drain(bob_laptop)), [("alice".to_string(), vec![1; 33])]);
}

#[test]
fn a_stolen_device_is_shut_out_by_a_new_user_key() {
    // Alice's laptop is stolen. Removing it is not enough (it holds the
    // user key and could sign itself back in): her phone starts over under
    // a new user key, and Bob, who had verified her, accepts the change only
    // once he compared the new safety number.
    let mut w = World::new(21);
    let phone = w.new_user("alice");
    let laptop = w.link(phone);
    let bob = w.new_user("bob");
    w.sync_all();
    w.drain_all();
    let old_key = w.devices[phone].client.user().unwrap().unwrap().1;
    w.devices[bob].client.verify_user("alice", &old_key).unwrap();

    let (list, outs) = w.devices[phone].client.reset_user(&mut w.r).unwrap();
    w.route(phone, outs);
    assert_eq!(list.devices(), &[w.devices[phone].id]);
    assert_eq!(list.version(), 1);
    let new_key = *list.user();
    assert_ne!(new_key, old_key);
    // The phone holds no session with the laptop any more.
    assert_eq!(w.devices[phone].client.own_devices().unwrap(), list);
    assert!(w.devices[phone].client.devices_without_session("alice").unwrap().is_empty());
    w.directory.insert("alice".into(), list.to_bytes());

    // Bob's client: an ordinary update is refused (another user key) ...
    let bob_client = &w.devices[bob].client;
    assert!(matches!(
        bob_client.accept_device_list("alice", &list.to_bytes(), &mut w.r),
        Err(ClientError::Protocol(Error::Device(DeviceError::UserKeyMismatch)))
    ));
    // ... and so is the key change, until Bob compared the new number.
    assert!(matches!(
        bob_client.accept_user_key_change("alice", &list.to_bytes(), None, &mut w.r),
        Err(ClientError::Blocked { .. })
    ));
    // A number compared for another key than the list's (the directory
    // swapped the list meanwhile) verifies nothing.
    assert!(matches!(
        bob_client.accept_user_key_change("alice", &list.to_bytes(), Some(&old_key), &mut w.r),
        Err(ClientError::Protocol(Error::Device(DeviceError::UserKeyMismatch)))
    ));
    let bob_key = bob_client.user().unwrap().unwrap().1;
    assert_ne!(bob_key.safety_number(&new_key), bob_key.safety_number(&old_key));
    let (change, outs) =
        bob_client.accept_user_key_change("alice", &list.to_bytes(), Some(&new_key), &mut w.r).unwrap();
    assert_eq!(change.removed(), &[w.devices[laptop].id]);
    w.route(bob, outs);
    assert!(w.devices[bob].client.is_user_verified("alice").unwrap());
    assert_eq!(w.devices[bob].client.user_safety_number("alice").unwrap(), Some(bob_key.safety_number(&new_key)));

    // What Bob sends now reaches the phone, never the laptop.
    w.drain_all();
    let out = w.send(bob, "alice", b"after the theft");
    let recipients: Vec<[u8; 32]> = ForkoutBundle::parse(&out.bytes).unwrap().recipients().copied().collect();
    assert_eq!(recipients, vec![w.devices[phone].id.to_bytes()]);
    let events = w.drain(phone);
    assert_eq!(texts(&events), vec![("bob".to_string(), b"after the theft".to_vec())]);
    assert!(w.mail.get(&w.devices[laptop].id).is_none_or(Vec::is_empty));
    // The laptop's old key can still sign a list naming itself, but Bob's
    // client refuses it: it is under the old key.
    assert!(matches!(
        w.devices[bob].client.accept_device_list(
            "alice",
            &w.devices[laptop].client.own_devices().unwrap().to_bytes(),
            &mut w.r
        ),
        Err(ClientError::Protocol(Error::Device(DeviceError::UserKeyMismatch)))
    ));
    // Nor can the own user be "changed" this way.
    let phone_list = w.devices[phone].client.own_devices().unwrap().to_bytes();
    assert!(w.devices[phone].client.accept_user_key_change("alice", &phone_list, Some(&new_key), &mut w.r).is_err());
}

#[test]
fn two_own_devices_changing_the_list_at_once_converge() {
    // The phone links a tablet while the laptop removes the old desktop:
    // both sign version 4; the directory takes the phone's first, the
    // laptop adopts it and removes the desktop again on top.
    let mut w = World::new(22);
    let phone = w.new_user("alice");
    let laptop = w.link(phone);
    let desktop = w.link(phone);
    w.sync_all();
    w.drain_all();
    let tablet = w.link(phone); // publishes version 4
    let (v4_laptop, _) = w.devices[laptop].client.remove_own_device(&w.devices[desktop].id.clone(), &mut w.r).unwrap();
    let published = DeviceList::from_bytes(&w.directory["alice"]).unwrap();
    assert_eq!((published.version(), v4_laptop.version()), (4, 4));
    assert_ne!(published, v4_laptop); // the directory refuses the laptop's
    // An ordinary accept refuses the directory's list (a conflict) ...
    assert!(matches!(
        w.devices[laptop].client.accept_device_list("alice", &published.to_bytes(), &mut w.r),
        Err(ClientError::Protocol(Error::Device(DeviceError::ConflictingLists { version: 4 })))
    ));
    // ... adopting it takes it, and the laptop redoes its removal.
    let (change, outs) = w.devices[laptop].client.adopt_published_devices(&published.to_bytes(), &mut w.r).unwrap();
    w.route(laptop, outs);
    assert!(change.added().contains(&w.devices[tablet].id) && change.added().contains(&w.devices[desktop].id));
    assert_eq!(w.devices[laptop].client.own_devices().unwrap(), published);
    let desktop_id = w.devices[desktop].id;
    let (v5, outs) = w.devices[laptop].client.remove_own_device(&desktop_id, &mut w.r).unwrap();
    w.route(laptop, outs);
    w.publish("alice", &v5);
    assert_eq!(v5.version(), 5);
    assert!(v5.contains(&w.devices[tablet].id) && !v5.contains(&desktop_id));
    // An older list cannot be adopted, nor one without this device.
    assert!(w.devices[laptop].client.adopt_published_devices(&published.to_bytes(), &mut w.r).is_err());
    let (without_laptop, _) =
        w.devices[phone].client.remove_own_device(&w.devices[laptop].id.clone(), &mut w.r).unwrap();
    assert!(matches!(
        w.devices[laptop].client.adopt_published_devices(&without_laptop.to_bytes(), &mut w.r),
        Err(ClientError::UnknownDevice { .. })
    ));
}

/// The Meta records whose contents differ between two dumps.
fn changed_meta(
    a: &[(sealpost_client::store::Table, sealpost_client::store::Key, Vec<u8>)],
    b: &[(sealpost_client::store::Table, sealpost_client::store::Key, Vec<u8>)],
) -> Vec<sealpost_client::store::Key> {
    use sealpost_client::store::Table;
    b.iter()
        .filter(|(t, k, v)| *t == Table::Meta && a.iter().any(|(t2, k2, v2)| t2 == t && k2 == k && v2 != v))
        .map(|(_, k, _)| *k)
        .collect()
}

#[test]
fn old_device_records_put_back_at_rest_are_refused() {
    use sealpost::IdentityKeyPair;
    use sealpost::device::{DeviceMembership, UserKeyPair};
    use sealpost_client::store::Table;
    let mut r = rng(23);
    let store = MemoryStore::new();
    let key = [0xa1; 32];
    let alice = Client::create(store.clone(), &key, &mut r, NOW).unwrap();
    alice.create_user("alice", &mut r).unwrap();
    // Bob's lists: his phone and laptop, then the laptop removed.
    let bob = UserKeyPair::from_seed(&[0xb0; 32]);
    let (phone, laptop) = (IdentityKeyPair::from_seed(&[0xb1; 32]), IdentityKeyPair::from_seed(&[0xb2; 32]));
    let v1 = DeviceList::sign(
        &bob,
        1,
        [DeviceMembership::sign(&phone, bob.public()), DeviceMembership::sign(&laptop, bob.public())],
    )
    .unwrap();
    let v2 = v1.without_device(&bob, laptop.public()).unwrap();
    alice.accept_device_list("bob", &v1.to_bytes(), &mut r).unwrap();
    let before = store.dump().unwrap();
    alice.accept_device_list("bob", &v2.to_bytes(), &mut r).unwrap();
    let after = store.dump().unwrap();
    // A commit that touches no user: only the generation record changes.
    alice.create_group(&[], &mut r).unwrap();
    let later = store.dump().unwrap();
    let generation_key = changed_meta(&after, &later);
    assert_eq!(generation_key.len(), 1);
    let index_key: Vec<_> = changed_meta(&before, &after).into_iter().filter(|k| !generation_key.contains(k)).collect();
    assert_eq!(index_key.len(), 1);

    // Bob's old record alone put back: refused (the index names the new).
    let old_user = |t: &Table| *t == Table::User;
    let mut pieced: Vec<_> = later.iter().filter(|(t, _, _)| !old_user(t)).cloned().collect();
    pieced.extend(before.iter().filter(|(t, _, _)| old_user(t)).cloned());
    store.restore(pieced).unwrap();
    let alice = Client::open(store.clone(), &key).unwrap();
    assert!(matches!(alice.user_devices("bob"), Err(ClientError::RolledBack { .. })));
    // ... and with the old index too: refused (the generation record pins
    // the index).
    let mut pieced: Vec<_> = later
        .iter()
        .filter(|(t, k, _)| !(old_user(t) || *t == Table::Meta && index_key.contains(k)))
        .cloned()
        .collect();
    pieced
        .extend(before.iter().filter(|(t, k, _)| old_user(t) || (*t == Table::Meta && index_key.contains(k))).cloned());
    store.restore(pieced).unwrap();
    let alice = Client::open(store.clone(), &key).unwrap();
    assert!(matches!(alice.user_devices("bob"), Err(ClientError::RolledBack { .. })));
    // The store as it was: Bob's newest list, without the laptop.
    store.restore(later.clone()).unwrap();
    let alice = Client::open(store.clone(), &key).unwrap();
    assert_eq!(alice.user_devices("bob").unwrap(), Some(v2));

    // The own user: an old own list put back is refused too.
    let before = store.dump().unwrap();
    alice.reset_user(&mut r).unwrap();
    let after = store.dump().unwrap();
    alice.create_group(&[], &mut r).unwrap();
    let later = store.dump().unwrap();
    let generation_key = changed_meta(&after, &later);
    let own_key: Vec<_> = changed_meta(&before, &after).into_iter().filter(|k| !generation_key.contains(k)).collect();
    assert_eq!(own_key.len(), 1);
    let mut pieced: Vec<_> =
        later.iter().filter(|(t, k, _)| !(*t == Table::Meta && own_key.contains(k))).cloned().collect();
    pieced.extend(before.iter().filter(|(t, k, _)| *t == Table::Meta && own_key.contains(k)).cloned());
    store.restore(pieced).unwrap();
    let alice = Client::open(store, &key).unwrap();
    assert!(matches!(alice.user(), Err(ClientError::RolledBack { .. })));
}
