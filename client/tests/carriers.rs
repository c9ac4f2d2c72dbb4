//! The `Client` beyond 1:1: groups (create, join, add, remove, rotate,
//! distributions arriving early), Forkout (sealed once, split by the relay,
//! first contact), Burnout content in the client's vault (1:1, group,
//! Forkout; expiry, burn after reading, expired on arrival), across
//! restarts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use sealpost::burnout::Envelope;
use sealpost::group::GroupId;
use sealpost::{Error, GroupError, VaultError};
use sealpost_client::store::MemoryStore;
use sealpost_client::{Client, ClientError, Destination, Event, Outgoing, Via};
use sealpost_testkit::{NOW, rng};

/// A named device and its store (kept to reopen the client).
struct Device {
    name: &'static str,
    client: Client<MemoryStore>,
    store: MemoryStore,
    key: [u8; 32],
}

impl Device {
    fn new(name: &'static str, seed: u8) -> Self {
        let store = MemoryStore::new();
        let key = [seed; 32];
        let client = Client::create(store.clone(), &key, &mut rng(seed.into()), NOW).unwrap();
        Self { name, client, store, key }
    }

    /// A process restart: the client is opened again from its store.
    fn restart(&mut self) {
        self.client = Client::open(self.store.clone(), &self.key).unwrap();
    }

    fn receive(&self, from: &Device, out: &Outgoing) -> Event {
        self.client.receive(from.name, &out.bytes, NOW).unwrap()
    }
}

/// Sessions both ways between every pair: `a` starts from `b`'s bundle
/// and says hello.
fn connect(devices: &[&Device]) {
    let mut r = rng(77);
    for (i, a) in devices.iter().enumerate() {
        for b in &devices[i + 1..] {
            let bundle = b.client.prekey_bundles(&mut r, NOW).unwrap().remove(0);
            a.client.start_session(b.name, &bundle, NOW, &mut r).unwrap();
            let hello = a.client.send(b.name, b"hello", &mut r).unwrap();
            assert!(matches!(b.receive(a, &hello), Event::Message { new_session: true, .. }));
        }
    }
}

/// Delivers distributions (outbox entries to peers) to the devices they
/// name, expecting each to install a sender key.
fn deliver_keys(from: &Device, outs: &[Outgoing], devices: &[&Device], group: &GroupId) {
    for out in outs {
        let Destination::Peer(to) = &out.to else { panic!("a distribution goes to a peer: {out:?}") };
        let device = devices.iter().find(|d| d.name == to).unwrap();
        match device.receive(from, out) {
            Event::SenderKeyInstalled { group: g, from: f, .. } => assert_eq!((&g, f.as_str()), (group, from.name)),
            other => panic!("{other:?}"),
        }
        from.client.acknowledge(out.id).unwrap();
    }
}

fn group_text(event: Event) -> (GroupId, String, Vec<u8>) {
    match event {
        Event::GroupMessage { group, from, plaintext, .. } => (group, from, plaintext),
        other => panic!("expected a group message, got {other:?}"),
    }
}

/// Alice creates a group with Bob and Carol; they join; everyone's key is
/// installed everywhere.
fn three_in_a_group() -> (Device, Device, Device, GroupId) {
    let mut r = rng(5);
    let (alice, bob, carol) = (Device::new("alice", 1), Device::new("bob", 2), Device::new("carol", 3));
    connect(&[&alice, &bob, &carol]);
    let all = [&alice, &bob, &carol];
    let (id, outs) = alice.client.create_group(&["bob", "carol"], &mut r).unwrap();
    assert_eq!(outs.len(), 2);
    // Bob hears of the group before he joined: kept by the app, delivered
    // again after joining. Nothing changed meanwhile.
    let early = outs.iter().find(|o| o.to == Destination::Peer("bob".into())).unwrap();
    let before = bob.store.dump().unwrap();
    assert_eq!(bob.client.receive("alice", &early.bytes, NOW).unwrap_err(), ClientError::UnknownGroup { group: id });
    assert_eq!(bob.store.dump().unwrap(), before, "a refused distribution changes nothing");
    let bob_outs = bob.client.join_group(&id, &["alice", "carol"], &mut r).unwrap();
    let carol_outs = carol.client.join_group(&id, &["alice", "bob"], &mut r).unwrap();
    assert_eq!(bob.client.join_group(&id, &["alice"], &mut r).unwrap_err(), ClientError::GroupExists { group: id });
    deliver_keys(&alice, &outs, &all, &id);
    deliver_keys(&bob, &bob_outs, &all, &id);
    deliver_keys(&carol, &carol_outs, &all, &id);
    (alice, bob, carol, id)
}

#[test]
fn a_group_of_three_reads_everyone_across_restarts() {
    let mut r = rng(6);
    let (mut alice, mut bob, mut carol, id) = three_in_a_group();
    assert_eq!(bob.client.group_members(&id).unwrap(), ["alice", "carol"]);
    for round in 0..6 {
        for (sender, others) in [(&alice, [&bob, &carol]), (&bob, [&alice, &carol]), (&carol, [&alice, &bob])] {
            let text = format!("{} says {round}", sender.name);
            let out = sender.client.send_group(&id, text.as_bytes(), None, &mut r).unwrap();
            assert_eq!(out.to, Destination::Group(id));
            for other in others {
                // The transport's name is not used: the sender is
                // authenticated by its sender key.
                let got = group_text(other.client.receive("whoever", &out.bytes, NOW).unwrap());
                assert_eq!(got, (id, sender.name.to_owned(), text.clone().into_bytes()));
                // A redelivery is a duplicate, also after a restart.
                assert!(matches!(other.receive(sender, &out), Event::Duplicate));
            }
        }
        match round % 3 {
            0 => alice.restart(),
            1 => bob.restart(),
            _ => carol.restart(),
        }
    }
    // Every group message waits in the inbox until acknowledged.
    let inbox = bob.client.inbox().unwrap();
    assert_eq!(inbox.len(), 12 + 1, "12 group messages and the hello from alice");
    assert!(inbox.iter().filter(|e| e.via == Via::Group(id)).all(|e| e.from != "bob"));
}

#[test]
fn a_removed_member_reads_nothing_sent_after() {
    let mut r = rng(7);
    let (alice, bob, carol, id) = three_in_a_group();
    let outs = alice.client.remove_group_member(&id, "carol", &mut r).unwrap();
    assert_eq!(outs.iter().map(|o| o.to.clone()).collect::<Vec<_>>(), [Destination::Peer("bob".into())]);
    deliver_keys(&alice, &outs, &[&bob, &carol], &id);
    assert_eq!(alice.client.group_members(&id).unwrap(), ["bob"]);
    let after = alice.client.send_group(&id, b"carol is gone", None, &mut r).unwrap();
    assert_eq!(group_text(bob.receive(&alice, &after)).2, b"carol is gone");
    let before = carol.store.dump().unwrap();
    assert!(matches!(
        carol.client.receive("alice", &after.bytes, NOW),
        Err(ClientError::Protocol(Error::Group(GroupError::UnknownSenderKey { .. })))
    ));
    assert_eq!(carol.store.dump().unwrap(), before);
    assert_eq!(
        alice.client.remove_group_member(&id, "carol", &mut r).unwrap_err(),
        ClientError::NotGroupMember { peer: "carol".into() }
    );
    // A rotation (after a restore from a backup) reaches every member.
    let outs = alice.client.rotate_group_key(&id, &mut r).unwrap();
    deliver_keys(&alice, &outs, &[&bob], &id);
    let m = alice.client.send_group(&id, b"new key", None, &mut r).unwrap();
    assert_eq!(group_text(bob.receive(&alice, &m)).2, b"new key");
}

#[test]
fn a_member_added_later_reads_from_then_on() {
    let mut r = rng(8);
    let (alice, bob, carol, id) = three_in_a_group();
    let dave = Device::new("dave", 4);
    connect(&[&alice, &dave]);
    connect(&[&bob, &dave]);
    let before = alice.client.send_group(&id, b"before dave", None, &mut r).unwrap();
    let outs = alice.client.add_group_member(&id, "dave", &mut r).unwrap();
    assert_eq!(outs.len(), 1);
    // Bob adds Dave too; Dave joins. Carol has no session with Dave: her
    // add is refused, typed, and changes nothing.
    let bob_outs = bob.client.add_group_member(&id, "dave", &mut r).unwrap();
    assert_eq!(
        carol.client.add_group_member(&id, "dave", &mut r).unwrap_err(),
        ClientError::NoSession { peer: "dave".into() }
    );
    let dave_outs = dave.client.join_group(&id, &["alice", "bob"], &mut r).unwrap();
    deliver_keys(&alice, &outs, &[&dave], &id);
    deliver_keys(&bob, &bob_outs, &[&dave], &id);
    deliver_keys(&dave, &dave_outs, &[&alice, &bob], &id);
    assert!(dave.client.has_sender_key(&id, "alice").unwrap());
    // What was sent before Dave got the key stays unreadable to him (it is
    // older than the key he holds: ignored as a duplicate).
    assert!(matches!(dave.client.receive("alice", &before.bytes, NOW).unwrap(), Event::Duplicate));
    let after = alice.client.send_group(&id, b"hi dave", None, &mut r).unwrap();
    assert_eq!(group_text(dave.receive(&alice, &after)).1, "alice");
    let from_dave = dave.client.send_group(&id, b"hi all", None, &mut r).unwrap();
    assert_eq!(group_text(alice.receive(&dave, &from_dave)).1, "dave");
    assert_eq!(group_text(bob.receive(&dave, &from_dave)).1, "dave");
}

#[test]
fn a_member_whose_identity_changed_is_added_again_under_the_new_one() {
    let mut r = rng(12);
    let (alice, bob, carol, id) = three_in_a_group();
    // "carol" reinstalls: a new identity under the same name.
    let new_carol = Device::new("carol", 9);
    let bundle = new_carol.client.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    let offered = *bundle.identity();
    assert!(matches!(
        alice.client.start_session("carol", &bundle, NOW, &mut r),
        Err(ClientError::IdentityChanged { .. })
    ));
    alice.client.accept_identity_change("carol", &offered).unwrap();
    alice.client.start_session("carol", &bundle, NOW, &mut r).unwrap();
    // Adding the name again removes the old identity and rotates: the new
    // key goes to Bob and to the new Carol, not to the old one.
    let outs = alice.client.add_group_member(&id, "carol", &mut r).unwrap();
    let mut to: Vec<_> = outs.iter().map(|o| o.to.clone()).collect();
    to.sort_by_key(|d| format!("{d:?}"));
    assert_eq!(to, [Destination::Peer("bob".into()), Destination::Peer("carol".into())]);
    deliver_keys(&alice, &outs[..1], &[&bob], &id);
    let m = alice.client.send_group(&id, b"after the change", None, &mut r).unwrap();
    assert_eq!(group_text(bob.receive(&alice, &m)).2, b"after the change");
    assert!(carol.client.receive("alice", &m.bytes, NOW).is_err(), "the old identity reads nothing new");
}

#[test]
fn a_removal_rotates_even_while_a_member_is_unreachable() {
    let mut r = rng(13);
    let (alice, bob, carol, id) = three_in_a_group();
    let dave = Device::new("dave", 4);
    connect(&[&alice, &dave]);
    let outs = alice.client.add_group_member(&id, "dave", &mut r).unwrap();
    dave.client.join_group(&id, &["alice"], &mut r).unwrap();
    deliver_keys(&alice, &outs, &[&dave], &id);
    // Bob's identity changes and Alice accepts it: no usable session with
    // "bob" under the identity he joined with.
    let new_bob = Device::new("bob", 8);
    let bundle = new_bob.client.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    alice.client.accept_identity_change("bob", bundle.identity()).unwrap();
    // Removing Carol still rotates: Dave gets the new key, Bob is listed.
    let outs = alice.client.remove_group_member(&id, "carol", &mut r).unwrap();
    assert_eq!(outs.iter().map(|o| o.to.clone()).collect::<Vec<_>>(), [Destination::Peer("dave".into())]);
    assert_eq!(alice.client.group_members_missing_key(&id).unwrap(), ["bob"]);
    deliver_keys(&alice, &outs, &[&dave], &id);
    let m = alice.client.send_group(&id, b"carol is out", None, &mut r).unwrap();
    assert_eq!(group_text(dave.receive(&alice, &m)).2, b"carol is out");
    assert!(carol.client.receive("alice", &m.bytes, NOW).is_err());
    assert!(bob.client.receive("alice", &m.bytes, NOW).is_err(), "the old identity got no new key");
    // Once a session under the new identity exists, adding "bob" again
    // removes the old identity and reaches the new one.
    alice.client.start_session("bob", &bundle, NOW, &mut r).unwrap();
    let outs = alice.client.add_group_member(&id, "bob", &mut r).unwrap();
    assert!(outs.iter().any(|o| o.to == Destination::Peer("bob".into())));
    assert!(alice.client.group_members_missing_key(&id).unwrap().is_empty());
}

#[test]
fn one_identity_under_two_names_is_refused() {
    let mut r = rng(14);
    let (alice, bob) = (Device::new("alice", 1), Device::new("bob", 2));
    connect(&[&alice, &bob]);
    // The same person under a second name (a second bundle of Bob's).
    let bundle = bob.client.prekey_bundles(&mut r, NOW).unwrap().remove(1);
    alice.client.start_session("bobby", &bundle, NOW, &mut r).unwrap();
    let generation = alice.client.generation().unwrap();
    assert_eq!(
        alice.client.create_group(&["bob", "bobby"], &mut r).unwrap_err(),
        ClientError::SameIdentity { peer: "bobby".into(), other: "bob".into() }
    );
    assert_eq!(alice.client.generation().unwrap(), generation);
    let (id, _) = alice.client.create_group(&["bob"], &mut r).unwrap();
    assert_eq!(
        alice.client.add_group_member(&id, "bobby", &mut r).unwrap_err(),
        ClientError::SameIdentity { peer: "bobby".into(), other: "bob".into() }
    );
}

#[test]
fn forkout_is_sealed_once_and_split_by_the_relay() {
    let mut r = rng(9);
    let (alice, bob, carol) = (Device::new("alice", 1), Device::new("bob", 2), Device::new("carol", 3));
    connect(&[&alice, &bob, &carol]);
    // Dave has only published a bundle: his slot is a first contact.
    let dave = Device::new("dave", 4);
    let bundle = dave.client.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    alice.client.start_session("dave", &bundle, NOW, &mut r).unwrap();
    let out = alice.client.send_forkout(&["bob", "carol", "dave", "bob"], b"all hands at 3", None, &mut r).unwrap();
    assert_eq!(out.to, Destination::Relay(vec!["bob".into(), "carol".into(), "dave".into()]));
    let deliveries: Vec<_> = sealpost::forkout::split_all(&out.bytes).unwrap().collect();
    assert_eq!(deliveries.len(), 3);
    for device in [&bob, &carol, &dave] {
        let id = device.client.identity().unwrap();
        let (_, delivery) = deliveries.iter().find(|(to, _)| to == id.as_bytes()).unwrap();
        match device.client.receive("alice", delivery, NOW).unwrap() {
            Event::Forkout { from, plaintext, .. } => {
                assert_eq!((from.as_str(), &plaintext[..]), ("alice", &b"all hands at 3"[..]))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(device.client.receive("alice", delivery, NOW).unwrap(), Event::Duplicate));
        assert_eq!(device.client.inbox().unwrap().last().unwrap().via, Via::Forkout);
    }
    // Dave's first contact set up a session and recorded Alice's identity.
    assert_eq!(dave.client.peer_trust("alice").unwrap().unwrap().identity, alice.client.identity().unwrap());
    let reply = dave.client.send("alice", b"ok", &mut r).unwrap();
    assert!(matches!(alice.receive(&dave, &reply), Event::Message { .. }));
    // All or nothing: a peer without a session fails the call, nothing is
    // committed.
    let generation = alice.client.generation().unwrap();
    assert_eq!(
        alice.client.send_forkout(&["bob", "erin"], b"x", None, &mut r).unwrap_err(),
        ClientError::NoSession { peer: "erin".into() }
    );
    assert_eq!(alice.client.generation().unwrap(), generation);
    // The bundle itself is for the relay, not for a client.
    assert!(matches!(bob.client.receive("alice", &out.bytes, NOW), Err(ClientError::NotReceivable(_))));
}

#[test]
fn burnout_content_lives_in_the_vault_and_only_there() {
    let mut r = rng(10);
    let (alice, mut bob, carol, id) = three_in_a_group();
    let minute = 60_000;
    let once = Envelope::new(NOW).burn_after_reading();
    let short = Envelope::with_ttl(NOW, minute);
    let inbox_before = bob.client.inbox().unwrap().len();

    let direct = alice.client.send_burnout("bob", b"door code 4471", &once, &mut r).unwrap();
    let group = alice.client.send_group(&id, b"meeting moved", Some(&short), &mut r).unwrap();
    let fork = alice.client.send_forkout(&["bob", "carol"], b"wifi: hunter2", Some(&short), &mut r).unwrap();
    let fork_bob = sealpost::forkout::split(&fork.bytes, &bob.client.identity().unwrap()).unwrap();

    let mut entries = Vec::new();
    for (bytes, via) in [(&direct.bytes, Via::Direct), (&group.bytes, Via::Group(id)), (&fork_bob, Via::Forkout)] {
        match bob.client.receive("alice", bytes, NOW).unwrap() {
            Event::Burnout { from, via: v, entry, .. } => {
                assert_eq!((from.as_str(), v), ("alice", via));
                entries.push(entry);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(bob.client.receive("alice", bytes, NOW).unwrap(), Event::Duplicate));
    }
    assert_eq!(bob.client.inbox().unwrap().len(), inbox_before, "Burnout content never goes to the inbox");
    assert_eq!(bob.client.vault_entries(NOW).unwrap().len(), 3);
    bob.restart();
    assert_eq!(bob.client.vault_next_expiry().unwrap(), Some(NOW + minute));
    // Burn after reading: one read, committed.
    assert_eq!(&bob.client.vault_read(entries[0], NOW + 1).unwrap()[..], b"door code 4471");
    bob.restart();
    assert_eq!(
        bob.client.vault_read(entries[0], NOW + 2).unwrap_err(),
        ClientError::Protocol(Error::Vault(VaultError::BurnedAfterReading))
    );
    assert_eq!(&bob.client.vault_read(entries[1], NOW + 3).unwrap()[..], b"meeting moved");
    assert_eq!(&bob.client.vault_read(entries[1], NOW + 4).unwrap()[..], b"meeting moved");
    // Expiry: gone from the store at the first call past it.
    assert_eq!(bob.client.vault_purge(NOW + minute).unwrap(), 2);
    bob.restart();
    assert!(bob.client.vault_entries(NOW + minute).unwrap().is_empty());
    assert!(bob.client.vault_read(entries[2], NOW + minute).is_err());
    // The user deletes an entry.
    let later = Envelope::with_ttl(NOW + minute, minute);
    let again = alice.client.send_burnout("bob", b"delete me", &later, &mut r).unwrap();
    let Event::Burnout { entry, .. } = bob.client.receive("alice", &again.bytes, NOW + minute).unwrap() else {
        panic!()
    };
    assert!(bob.client.vault_remove(entry).unwrap());
    assert!(!bob.client.vault_remove(entry).unwrap());
    let _ = carol;
}

#[test]
fn a_message_expired_on_arrival_is_used_up_and_reported_once() {
    let mut r = rng(11);
    let (alice, bob, _carol, id) = three_in_a_group();
    let ttl = Envelope::with_ttl(NOW, 1_000);
    let late = NOW + 5_000;
    let direct = alice.client.send_burnout("bob", b"too late", &ttl, &mut r).unwrap();
    let group = alice.client.send_group(&id, b"too late", Some(&ttl), &mut r).unwrap();
    for (bytes, via) in [(&direct.bytes, Via::Direct), (&group.bytes, Via::Group(id))] {
        match bob.client.receive("alice", bytes, late).unwrap() {
            Event::Expired { from, via: v } => assert_eq!((from.as_str(), v), ("alice", via)),
            other => panic!("{other:?}"),
        }
        // Its key is gone: a redelivery, even with a clock set back, reads
        // nothing.
        assert!(matches!(bob.client.receive("alice", bytes, NOW).unwrap(), Event::Duplicate));
    }
    assert!(bob.client.vault_entries(late).unwrap().is_empty());
}

#[test]
fn a_copied_store_shows_no_group_id_or_member_name() {
    let (_alice, bob, _carol, id) = three_in_a_group();
    for (_, key, value) in bob.store.dump().unwrap() {
        for secret in [&id.as_bytes()[..], b"alice", b"carol"] {
            assert!(!key.windows(secret.len()).any(|w| w == secret));
            assert!(!value.windows(secret.len()).any(|w| w == secret), "a stored value shows {secret:?}");
        }
    }
}
