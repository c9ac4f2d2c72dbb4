//! Group messaging end to end: many members, joins and leaves, forgeries,
//! cross-group replays, bounds, Burnout, persistence.

use rand::RngExt;
use rand::seq::SliceRandom;
use sealpost::group::{Group, GroupId, GroupMessage};
use sealpost::limits::{GROUP_OUT_OF_ORDER_WINDOW, MAX_GROUP_MEMBERS, MAX_GROUP_PLAINTEXT, MAX_GROUP_STORED_KEYS};
use sealpost::{BurnoutError, GroupError};
use sealpost::{Error, IdentityKeyPair, Persist, burnout::Envelope};
use sealpost_testkit::group::Member;
use sealpost_testkit::{GroupWorld, NOW, rng};

#[test]
fn fifty_members_interleaved_senders_shuffled_delivery() {
    let mut rng = rng(50);
    let mut world = GroupWorld::new(50, &mut rng);
    // 200 messages from random senders, in bursts, so each sender key skips
    // and every receiver sees every chain out of order.
    let mut sent = Vec::new();
    for n in 0..200 {
        let from = rng.random_range(0..50usize);
        let text = format!("#{n} from {from}");
        sent.push((from, text.clone(), world.send(from, &text)));
    }
    for to in 0..50 {
        let mut order: Vec<usize> = (0..sent.len()).filter(|&k| sent[k].0 != to).collect();
        order.shuffle(&mut rng);
        for k in order {
            let (from, text, bytes) = &sent[k];
            let read = world.members[to].group.decrypt(bytes, NOW).unwrap();
            assert_eq!(read.sender, world.ids[*from]);
            let parsed = GroupMessage::parse(bytes).unwrap();
            assert_eq!((read.key_id, read.iteration), (parsed.key_id(), parsed.iteration()));
            assert_eq!(read.content.into_message().unwrap(), text.as_bytes());
        }
        // Every replay is refused, and nothing is left stored.
        for (from, _, bytes) in &sent {
            if *from != to {
                assert_eq!(world.members[to].group.decrypt(bytes, NOW).err(), Some(Error::DuplicateMessage));
            }
        }
        assert_eq!(world.members[to].group.stored_key_count(), 0);
    }
}

#[test]
fn joiner_cannot_read_history_and_leaver_is_locked_out() {
    let mut rng = rng(7);
    let mut world = GroupWorld::new(5, &mut rng);
    let (a, b, c, d, e) = (0, 1, 2, 3, 4);

    // Before E joins: everyone but E is in the group (E is a member only of
    // its own view; the others remove it first, without caring about keys).
    for m in [a, b, c, d] {
        let e_id = world.ids[e];
        let _ = world.members[m].group.remove_member(&e_id, &mut rng).unwrap();
    }
    for m in [a, b, c, d] {
        let others: Vec<usize> = [a, b, c, d].into_iter().filter(|&x| x != m).collect();
        world.distribute(m, &others, &mut rng);
    }
    let history: Vec<Vec<u8>> = [a, b, c, d].iter().map(|&m| world.send(m, "before E joined")).collect();
    for (k, bytes) in history.iter().enumerate() {
        for m in [a, b, c, d].into_iter().filter(|&m| m != k) {
            assert_eq!(world.read(m, bytes).unwrap(), "before E joined");
        }
    }

    // E joins: everyone adds it and sends it their *current* key; E sends its key.
    for m in [a, b, c, d] {
        let e_id = world.ids[e];
        assert!(world.members[m].group.add_member(e_id).unwrap());
        world.distribute(m, &[e], &mut rng);
    }
    world.distribute(e, &[a, b, c, d], &mut rng);
    for bytes in &history {
        let before = world.members[e].group.to_bytes();
        assert_eq!(world.read(e, bytes), Err(Error::DuplicateMessage), "E read history");
        assert_eq!(world.members[e].group.to_bytes(), before);
    }
    let welcome = world.send(a, "welcome E");
    for m in [b, c, d, e] {
        assert_eq!(world.read(m, &welcome).unwrap(), "welcome E");
    }
    // E reads everything from the join on, in any order.
    let first = world.send(b, "first after the join");
    let second = world.send(b, "second after the join");
    assert_eq!(world.read(e, &second).unwrap(), "second after the join");
    assert_eq!(world.read(e, &first).unwrap(), "first after the join");

    // D leaves: every remaining member removes it (rotating) and redistributes.
    let before_leave = world.send(c, "last message D may read");
    assert_eq!(world.read(d, &before_leave).unwrap(), "last message D may read");
    let remaining = [a, b, c, e];
    for m in remaining {
        let d_id = world.ids[d];
        let rotated = world.members[m].group.remove_member(&d_id, &mut rng).unwrap();
        assert_eq!(rotated.key_id, world.members[m].group.own_key_id());
    }
    for m in remaining {
        let others: Vec<usize> = remaining.into_iter().filter(|&x| x != m).collect();
        world.distribute(m, &others, &mut rng);
    }
    // In-flight message under C's old key still opens for the remaining members.
    for m in [a, b, e] {
        assert_eq!(world.read(m, &before_leave).unwrap(), "last message D may read");
    }
    for m in remaining {
        let text = format!("after D left, from {m}");
        let bytes = world.send(m, &text);
        for r in remaining.into_iter().filter(|&r| r != m) {
            assert_eq!(world.read(r, &bytes).unwrap(), text);
        }
        // D holds every key it was ever given, and none opens this.
        let state = world.members[d].group.to_bytes();
        let parsed = GroupMessage::parse(&bytes).unwrap();
        assert!(
            matches!(world.read(d, &bytes), Err(Error::Group(GroupError::UnknownSenderKey { key_id })) if key_id == parsed.key_id())
        );
        assert_eq!(world.members[d].group.to_bytes(), state);
    }
    // D's own messages are refused by everyone, and D cannot hand out keys.
    let from_d = world.send(d, "am I still here?");
    for m in remaining {
        assert_eq!(world.read(m, &from_d), Err(Error::Group(GroupError::NotGroupMember)));
    }
    let d_id = world.ids[d];
    let Member { group, sessions, .. } = &mut world.members[d];
    let to_a = group.distribute([sessions.get_mut(&world.ids[a]).unwrap()], &mut rng).unwrap();
    let Member { account, group, sessions } = &mut world.members[a];
    let session = sessions.get_mut(&d_id).unwrap();
    let before = (account.to_bytes(), session.to_bytes(), group.to_bytes());
    assert_eq!(group.install_distribution(account, session, &to_a[0].1), Err(Error::Group(GroupError::NotGroupMember)));
    assert_eq!(before, (account.to_bytes(), session.to_bytes(), group.to_bytes()));
}

#[test]
fn forged_and_tampered_messages_are_refused_without_state_change() {
    let mut rng = rng(11);
    let mut world = GroupWorld::new(3, &mut rng);
    let genuine = world.send(0, "pay 10 to carol");
    let before = world.members[1].group.to_bytes();
    // Every single-bit flip anywhere in the message fails.
    for i in 0..genuine.len() {
        for bit in [0x01u8, 0x80] {
            let mut forged = genuine.clone();
            forged[i] ^= bit;
            assert!(world.members[1].group.decrypt(&forged, NOW).is_err(), "flip at {i} accepted");
            assert_eq!(world.members[1].group.to_bytes(), before);
        }
    }
    // C re-labels one of its own (validly signed) messages as A's.
    let from_c = world.send(2, "pay 1000 to carol");
    let mut as_a = from_c.clone();
    as_a[34..66].copy_from_slice(world.ids[0].as_bytes());
    as_a[66..70].copy_from_slice(&world.members[0].group.own_key_id().to_be_bytes());
    assert_eq!(world.members[1].group.decrypt(&as_a, NOW).err(), Some(Error::InvalidSignature("group message")));
    // Truncations fail cleanly.
    for len in 0..genuine.len() {
        assert!(world.members[1].group.decrypt(&genuine[..len], NOW).is_err());
    }
    assert_eq!(world.members[1].group.to_bytes(), before);
    assert_eq!(world.read(1, &genuine).unwrap(), "pay 10 to carol");
    assert_eq!(world.read(1, &from_c).unwrap(), "pay 1000 to carol");
}

#[test]
fn messages_and_distributions_do_not_cross_groups_or_key_ids() {
    let mut rng = rng(12);
    let mut world = GroupWorld::new(3, &mut rng);
    // A second group with the same members.
    let other_id = GroupId::random(&mut rng);
    let mut others: Vec<Group> =
        world.ids.iter().map(|id| Group::new(other_id, *id, world.ids.clone(), &mut rng).unwrap()).collect();
    for from in 0..3 {
        for to in (0..3).filter(|&t| t != from) {
            let to_id = world.ids[to];
            let from_id = world.ids[from];
            let sent = others[from].distribute([world.members[from].sessions.get_mut(&to_id).unwrap()], &mut rng);
            let bytes = &sent.unwrap()[0].1;
            // Delivered to the wrong group object: refused, nothing changes.
            let Member { account, group, sessions } = &mut world.members[to];
            let session = sessions.get_mut(&from_id).unwrap();
            let before = (account.to_bytes(), session.to_bytes(), group.to_bytes());
            assert_eq!(
                group.install_distribution(account, session, bytes),
                Err(Error::Group(GroupError::GroupMismatch))
            );
            assert_eq!(before, (account.to_bytes(), session.to_bytes(), group.to_bytes()));
            others[to].install_distribution(account, session, bytes).unwrap();
        }
    }
    let in_main = world.send(0, "main channel");
    let in_other = others[0].encrypt(b"side channel", &mut rng).unwrap();
    assert_eq!(others[1].decrypt(&in_main, NOW).err(), Some(Error::Group(GroupError::GroupMismatch)));
    assert_eq!(world.members[1].group.decrypt(&in_other, NOW).err(), Some(Error::Group(GroupError::GroupMismatch)));
    // Rewriting the group id (and the key id to A's key there) does not
    // help: the signature covers both.
    let mut moved = in_main.clone();
    moved[2..34].copy_from_slice(other_id.as_bytes());
    moved[66..70].copy_from_slice(&others[0].own_key_id().to_be_bytes());
    assert_eq!(others[1].decrypt(&moved, NOW).err(), Some(Error::InvalidSignature("group message")));

    // A rotates; B holds both of A's keys. A message under the new key
    // relabelled with the old key id is refused.
    let old_key = world.members[0].group.own_key_id();
    let _ = world.members[0].group.rotate(&mut rng);
    world.distribute(0, &[1, 2], &mut rng);
    let new_message = world.send(0, "under the new key");
    let mut relabelled = new_message.clone();
    relabelled[66..70].copy_from_slice(&old_key.to_be_bytes());
    let before = world.members[1].group.to_bytes();
    assert_eq!(world.members[1].group.decrypt(&relabelled, NOW).err(), Some(Error::InvalidSignature("group message")));
    assert_eq!(world.members[1].group.to_bytes(), before);
    assert_eq!(world.read(1, &new_message).unwrap(), "under the new key");
    assert_eq!(world.read(1, &in_main).unwrap(), "main channel"); // old key kept for in-flight messages
}

#[test]
fn distribution_edge_cases() {
    let mut rng = rng(13);
    let mut world = GroupWorld::new(3, &mut rng);
    let (a, b, c) = (world.ids[0], world.ids[1], world.ids[2]);

    // Not a distribution: refused without state change, then readable as chat.
    let chat = world.members[0].sessions.get_mut(&b).unwrap().encrypt(b"plain chat", &mut rng).unwrap();
    let Member { account, group, sessions } = &mut world.members[1];
    let session = sessions.get_mut(&a).unwrap();
    let before = (account.to_bytes(), session.to_bytes(), group.to_bytes());
    assert_eq!(group.install_distribution(account, session, &chat), Err(Error::UnexpectedPayload(0)));
    assert_eq!(before, (account.to_bytes(), session.to_bytes(), group.to_bytes()));
    assert_eq!(account.decrypt(session, &chat).unwrap(), b"plain chat");

    // A repeated distribution changes nothing and cannot rewind the ratchet.
    let m = world.send(0, "once");
    assert_eq!(world.read(1, &m).unwrap(), "once");
    let Member { group: ga, sessions: sa, .. } = &mut world.members[0];
    let old = ga.distribute([sa.get_mut(&b).unwrap()], &mut rng).unwrap(); // at the current iteration
    let replayed_m = m.clone();
    let Member { account, group, sessions } = &mut world.members[1];
    let installed = group.install_distribution(account, sessions.get_mut(&a).unwrap(), &old[0].1).unwrap();
    assert!(!installed.newly_installed);
    assert_eq!(group.decrypt(&replayed_m, NOW).err(), Some(Error::DuplicateMessage));

    // Distributing to a non-member's session hands out nothing.
    let _ = world.members[0].group.remove_member(&c, &mut rng).unwrap();
    let Member { group, sessions, .. } = &mut world.members[0];
    let (to_b, to_c) = {
        let mut it = sessions.values_mut();
        (it.next().unwrap(), it.next().unwrap())
    };
    let (sb, sc) = (to_b.to_bytes(), to_c.to_bytes());
    assert_eq!(group.distribute([to_b, to_c], &mut rng), Err(Error::Group(GroupError::NotGroupMember)));
    let mut it = sessions.values();
    assert_eq!((it.next().unwrap().to_bytes(), it.next().unwrap().to_bytes()), (sb, sc));

    // Our own messages are not decryptable by ourselves (no receiver copy of
    // our chain is kept: forward secrecy for what we sent).
    let own = world.send(1, "mine");
    assert!(matches!(world.read(1, &own), Err(Error::Group(GroupError::UnknownSenderKey { .. }))));
}

#[test]
fn out_of_order_window_and_catch_up() {
    let mut rng = rng(14);
    let mut world = GroupWorld::new(2, &mut rng);
    let sent: Vec<Vec<u8>> = (0..5000).map(|i| world.send(0, &format!("{i}"))).collect();
    // B was offline; it reads the newest first, then goes back.
    assert_eq!(world.read(1, &sent[4999]).unwrap(), "4999");
    let stored = world.members[1].group.stored_key_count();
    let blocks = (GROUP_OUT_OF_ORDER_WINDOW / 256) as usize;
    let newest_block = (4999u32 % 256).count_ones() as usize;
    assert_eq!(stored, blocks + newest_block, "one root per older block, the subtrees of the newest one");
    let oldest = ((4999 / 256) * 256 - GROUP_OUT_OF_ORDER_WINDOW) as usize;
    let before = world.members[1].group.to_bytes();
    assert_eq!(world.read(1, &sent[oldest - 1]), Err(Error::DuplicateMessage));
    assert_eq!(world.read(1, &sent[0]), Err(Error::DuplicateMessage));
    assert_eq!(world.members[1].group.to_bytes(), before);
    let mut late: Vec<usize> = (oldest..4999).collect();
    late.shuffle(&mut rng);
    for i in late {
        assert_eq!(world.read(1, &sent[i]).unwrap(), format!("{i}"));
    }
    assert_eq!(world.members[1].group.stored_key_count(), 0);
}

#[test]
fn stored_keys_are_bounded_across_the_group_and_a_flood_spares_quiet_senders() {
    let mut rng = rng(15);
    let mut world = GroupWorld::new(21, &mut rng);
    // A quiet sender (1) with one skipped message.
    let quiet: Vec<Vec<u8>> = (0..3).map(|i| world.send(1, &format!("quiet {i}"))).collect();
    assert_eq!(world.read(0, &quiet[2]).unwrap(), "quiet 2");
    // Nineteen busy senders: member 0 reads every other message of each
    // one's window, which leaves the most entries a receiver can hold (the
    // unread halves, one subtree each): about 1,150 per sender, 21,900 in all.
    for from in 2..21 {
        let sent: Vec<Vec<u8>> = (0..2304).map(|i| world.send(from, &format!("{i}"))).collect();
        world.read(0, &sent[2303]).unwrap();
        for i in (1..2303).step_by(2) {
            world.read(0, &sent[i]).unwrap();
        }
        assert!(world.members[0].group.stored_key_count() <= MAX_GROUP_STORED_KEYS);
    }
    let group = &world.members[0].group;
    assert_eq!(group.stored_key_count(), MAX_GROUP_STORED_KEYS);
    let restored = Group::from_bytes(&group.to_bytes()).unwrap();
    assert_eq!(restored.stored_key_count(), MAX_GROUP_STORED_KEYS, "the counter matches the contents");
    assert_eq!(world.read(0, &quiet[0]).unwrap(), "quiet 0");
}

#[test]
fn size_and_membership_limits() {
    let mut rng = rng(16);
    let me = *IdentityKeyPair::generate(&mut rng).public();
    let mut group = Group::new(GroupId::random(&mut rng), me, [me], &mut rng).unwrap();
    assert_eq!(group.member_count(), 0, "our own identity is not a member of our view");
    let too_big = vec![0u8; MAX_GROUP_PLAINTEXT + 1];
    let iteration = group.own_iteration();
    assert!(matches!(group.encrypt(&too_big, &mut rng), Err(Error::TooLarge { .. })));
    assert_eq!(group.own_iteration(), iteration);
    for _ in 0..MAX_GROUP_MEMBERS - 1 {
        assert!(group.add_member(*IdentityKeyPair::generate(&mut rng).public()).unwrap());
    }
    let one_more = *IdentityKeyPair::generate(&mut rng).public();
    assert!(matches!(group.add_member(one_more), Err(Error::LimitReached { .. })));
    assert_eq!(group.member_count(), MAX_GROUP_MEMBERS - 1);
    assert_eq!(group.remove_member(&one_more, &mut rng), Err(Error::Group(GroupError::NotGroupMember)));
    let restored = Group::from_bytes(&group.to_bytes()).unwrap();
    assert_eq!(restored.member_count(), MAX_GROUP_MEMBERS - 1);
}

#[test]
fn burnout_envelopes_are_checked_at_decrypt() {
    let mut rng = rng(17);
    let mut world = GroupWorld::new(2, &mut rng);
    let envelope = Envelope::with_ttl(NOW, 60_000).burn_after_reading();
    let m = world.members[0].group.encrypt_with_envelope(b"self-destructing", &envelope, &mut rng).unwrap();
    // Too far in the future for the reader's clock: refused, retryable.
    let before = world.members[1].group.to_bytes();
    assert!(matches!(
        world.members[1].group.decrypt(&m, NOW - 3_600_000),
        Err(Error::Burnout(BurnoutError::ClockSkew { .. }))
    ));
    assert_eq!(world.members[1].group.to_bytes(), before);
    let read = world.members[1].group.clone().decrypt(&m, NOW + 1).unwrap();
    assert_eq!(read.envelope(), Some(&envelope));
    let message = read.into_opened().into_burnout().unwrap();
    assert_eq!(message.into_plaintext(NOW + 1).unwrap().as_slice(), b"self-destructing");
    // Expired: refused, and the key is used up.
    assert_eq!(
        world.members[1].group.decrypt(&m, NOW + 60_000).err(),
        Some(Error::Burnout(BurnoutError::Expired { expired_at_ms: NOW + 60_000 }))
    );
    assert_eq!(world.members[1].group.decrypt(&m, NOW + 1).err(), Some(Error::DuplicateMessage));
    let plain = world.send(0, "plain");
    assert_eq!(world.members[1].group.decrypt(&plain, NOW).unwrap().envelope(), None);
}

#[test]
fn a_group_restored_from_a_backup_sends_again_only_after_rotating() {
    let mut rng = rng(19);
    let mut world = GroupWorld::new(3, &mut rng);
    let key = [43u8; 32];
    let backup = world.members[0].group.export_encrypted(&key, &mut rng);
    for n in 0..3 {
        let m = world.send(0, &format!("before the crash {n}"));
        assert_eq!(world.read(1, &m).unwrap(), format!("before the crash {n}"));
        assert_eq!(world.read(2, &m).unwrap(), format!("before the crash {n}"));
    }
    let live = world.members[0].group.clone();
    let mut restored = Group::import_encrypted(&key, &backup).unwrap();
    assert!(restored.needs_rotation());
    let refused = Some(Error::Group(GroupError::RotationRequired));
    assert_eq!(restored.encrypt(b"x", &mut rng).err(), refused);
    assert_eq!(restored.encrypt_with_envelope(b"x", &Envelope::with_ttl(NOW, 1_000), &mut rng).err(), refused);
    let sessions = world.members[0].sessions.values_mut();
    assert_eq!(restored.distribute(sessions, &mut rng).err(), refused);
    assert_eq!(
        *restored.to_bytes(),
        *Group::import_encrypted(&key, &backup).unwrap().to_bytes(),
        "refusals change nothing"
    );

    // Receiving is never blocked.
    let from_bob = world.send(1, "while you were away");
    assert_eq!(restored.decrypt(&from_bob, NOW).unwrap().content.into_message().unwrap(), b"while you were away");

    // Skipping the rotation on an old backup: members refuse the repeats.
    let mut careless = restored.clone();
    careless.resume_without_rotation();
    let repeat = careless.encrypt(b"repeated iteration", &mut rng).unwrap();
    assert_eq!(world.members[1].group.decrypt(&repeat, NOW).err(), Some(Error::DuplicateMessage));

    // The way out: rotate, distribute, and everyone reads on.
    let rotated = restored.rotate(&mut rng);
    assert!(!restored.needs_rotation());
    assert_ne!(rotated.key_id, live.own_key_id());
    world.members[0].group = restored;
    world.distribute(0, &[1, 2], &mut rng);
    let after = world.send(0, "back online");
    assert_eq!(world.read(1, &after).unwrap(), "back online");
    assert_eq!(world.read(2, &after).unwrap(), "back online");
}

#[test]
fn persistence_mid_conversation() {
    let mut rng = rng(18);
    let mut world = GroupWorld::new(4, &mut rng);
    let key = [42u8; 32];
    let mut pending: Vec<(usize, String, Vec<u8>)> = Vec::new();
    for round in 0..60 {
        let from = rng.random_range(0..4usize);
        let text = format!("round {round}");
        pending.push((from, text.clone(), world.send(from, &text)));
        if round % 10 == 9 {
            // Everybody saves and restores; a restored group behaves exactly
            // like the live one from then on.
            for m in 0..4 {
                let export = world.members[m].group.export_encrypted(&key, &mut rng);
                let mut restored = Group::import_encrypted(&key, &export).unwrap();
                assert_eq!(restored.to_bytes(), world.members[m].group.to_bytes());
                assert!(Group::import_encrypted(&[0u8; 32], &export).is_err());
                // The newest save, written after the last send: no rotation.
                assert!(restored.needs_rotation());
                restored.resume_without_rotation();
                world.members[m].group = restored;
            }
        }
        if round % 3 == 2 {
            // Deliver a random half of what is pending, then the rest later.
            pending.shuffle(&mut rng);
            let keep = pending.split_off(pending.len() / 2);
            for (from, text, bytes) in pending {
                for to in (0..4).filter(|&t| t != from) {
                    assert_eq!(world.read(to, &bytes).unwrap(), text);
                }
            }
            pending = keep;
        }
    }
    for (from, text, bytes) in pending {
        for to in (0..4).filter(|&t| t != from) {
            assert_eq!(world.read(to, &bytes).unwrap(), text);
        }
    }
    // The sender side persisted too: its next message continues the chain.
    let m = world.send(0, "after all that");
    assert_eq!(world.read(1, &m).unwrap(), "after all that");
}
