//! Groups, Burnout and the vault through the exported API, from Rust:
//! objects shared across threads (lock order), and the cases the Python
//! tests do not reach.

use std::sync::Arc;
use std::thread;

use sealpost_ffi::{
    Account, BurnoutMessage, Envelope, Group, Opened, SealpostError, Session, Vault, envelope_with_ttl,
    generate_export_key, generate_group_id,
};
use sealpost_testkit::{GroupWorld, NOW, rng};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn new_objects_are_send_and_sync() {
    assert_send_sync::<Group>();
    assert_send_sync::<Vault>();
    assert_send_sync::<BurnoutMessage>();
}

/// `n` members of one group, pairwise sessions, every key installed.
/// Returns (accounts, groups, sessions[i][j] = i's session with j). The
/// testkit's group world, each state restored through the exported
/// `from_bytes` (and resumed without rotation, being the newest save); [`group_through_the_exported_api`] builds the same
/// through the exported calls.
#[allow(clippy::type_complexity)]
fn group(n: usize) -> (Vec<Arc<Account>>, Vec<Arc<Group>>, Vec<Vec<Option<Arc<Session>>>>) {
    let world = GroupWorld::new(n, &mut rng(u64::try_from(n).unwrap()));
    let session = |s: &sealpost::Session| Session::from_bytes(s.to_bytes().to_vec()).unwrap();
    let accounts = world.members.iter().map(|m| Account::from_bytes(m.account.to_bytes().to_vec()).unwrap()).collect();
    let groups = world
        .members
        .iter()
        .map(|m| {
            let g = Group::from_bytes(m.group.to_bytes().to_vec()).unwrap();
            // The newest state, just saved: it may send on without rotating.
            assert!(g.needs_rotation().unwrap());
            assert!(matches!(g.encrypt(b"x".to_vec()), Err(SealpostError::RotationRequired(_))));
            g.resume_without_rotation().unwrap();
            g
        })
        .collect();
    let sessions =
        world.members.iter().map(|m| world.ids.iter().map(|id| m.sessions.get(id).map(session)).collect()).collect();
    (accounts, groups, sessions)
}

/// The groups of a world like [`group`]'s, built through the exported
/// calls only: pairwise sessions started by a distribution
/// (`install_distribution_from_new_session`), answered by the other
/// member's distribution (`install_distribution`).
fn group_through_the_exported_api(n: usize) -> Vec<Arc<Group>> {
    let accounts: Vec<_> = (0..n).map(|_| Account::new(NOW)).collect();
    for a in &accounts {
        a.generate_one_time_prekeys(u32::try_from(n).unwrap()).unwrap();
    }
    let id = generate_group_id();
    let ids: Vec<_> = accounts.iter().map(|a| a.identity_key()).collect();
    let groups: Vec<_> = (0..n).map(|i| Group::new(id.clone(), ids[i], ids.clone()).unwrap()).collect();
    let mut sessions: Vec<Vec<Option<Arc<Session>>>> = vec![vec![None; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let s = accounts[i].create_outbound_session(accounts[j].prekey_bundle().unwrap()).unwrap();
            let d = groups[i].distribute(vec![s.clone()]).unwrap();
            let got =
                groups[j].install_distribution_from_new_session(accounts[j].clone(), d[0].message.clone()).unwrap();
            sessions[i][j] = Some(s);
            sessions[j][i] = Some(got.session);
        }
    }
    for j in 0..n {
        let to: Vec<Arc<Session>> = (0..j).map(|i| sessions[j][i].clone().unwrap()).collect();
        for (i, d) in groups[j].distribute(to).unwrap().into_iter().enumerate() {
            groups[i].install_distribution(accounts[i].clone(), sessions[i][j].clone().unwrap(), d.message).unwrap();
        }
    }
    groups
}

#[test]
fn a_group_built_through_the_exported_api_has_every_key() {
    let groups = group_through_the_exported_api(3);
    for g in &groups {
        assert!(g.members_without_key().unwrap().is_empty());
    }
    let m = groups[2].encrypt(b"built by hand".to_vec()).unwrap();
    assert_eq!(groups[0].decrypt(m.clone(), NOW).unwrap().plaintext, b"built by hand");
    assert_eq!(groups[1].decrypt(m, NOW).unwrap().plaintext, b"built by hand");
}

#[test]
fn group_round_trip_and_removal() {
    let (_accounts, groups, sessions) = group(3);
    for g in &groups {
        assert!(g.members_without_key().unwrap().is_empty());
    }
    let m = groups[0].encrypt(b"hello".to_vec()).unwrap();
    assert_eq!(groups[1].decrypt(m.clone(), NOW).unwrap().plaintext, b"hello");
    assert_eq!(groups[2].decrypt(m.clone(), NOW).unwrap().plaintext, b"hello");
    assert!(matches!(groups[1].decrypt(m, NOW), Err(SealpostError::DuplicateMessage(_))));

    let removed = groups[2].own_identity_key();
    let rotation = groups[0].remove_member(removed).unwrap();
    assert_eq!(rotation.redistribute_to, vec![groups[1].own_identity_key()]);
    assert!(matches!(
        groups[0].distribute(vec![sessions[0][2].clone().unwrap()]),
        Err(SealpostError::NotGroupMember(_))
    ));
    let after = groups[0].encrypt(b"after".to_vec()).unwrap();
    let before = groups[2].to_bytes().unwrap();
    assert!(matches!(groups[2].decrypt(after, NOW), Err(SealpostError::UnknownSenderKey(_))));
    assert_eq!(groups[2].to_bytes().unwrap(), before);
}

#[test]
fn concurrent_distributions_and_installs_do_not_deadlock() {
    // Every member distributes to everyone while the others install and
    // decrypt, from many threads at once: calls lock sessions and groups
    // in one global order, so this finishes.
    let (accounts, groups, sessions) = group(4);
    // Two more groups per member, so installs search and lock several.
    let others: Vec<Vec<Arc<Group>>> = accounts
        .iter()
        .map(|a| {
            let everyone: Vec<_> = accounts.iter().map(|b| b.identity_key()).collect();
            (0..2).map(|_| Group::new(generate_group_id(), a.identity_key(), everyone.clone()).unwrap()).collect()
        })
        .collect();
    let mut handles = Vec::new();
    for round in 0..3 {
        for i in 0..4 {
            let (accounts, groups, sessions, others) =
                (accounts.clone(), groups.clone(), sessions.clone(), others.clone());
            handles.push(thread::spawn(move || {
                // Sessions listed in a different order per thread.
                let mut to: Vec<usize> = (0..4).filter(|&j| j != i).collect();
                to.rotate_left(round % 3);
                let list: Vec<Arc<Session>> = to.iter().map(|&j| sessions[i][j].clone().unwrap()).collect();
                let sent = groups[i].distribute(list).unwrap();
                for (d, &j) in sent.into_iter().zip(&to) {
                    // Member j's groups: this one among others, in a
                    // different order per thread.
                    let mut all: Vec<Arc<Group>> = vec![groups[j].clone()];
                    all.extend(others[j].iter().cloned());
                    all.rotate_left((i + round) % 3);
                    let s = sessions[j][i].clone().unwrap();
                    // 1:1 messages on one session may arrive out of order
                    // across threads: both entry points handle that.
                    let got = accounts[j].receive_group_distribution(s, d.message, all).unwrap();
                    assert!(!got.newly_installed);
                }
                let m = groups[i].encrypt(format!("{i}/{round}").into_bytes()).unwrap();
                for (j, g) in groups.iter().enumerate() {
                    if j != i {
                        assert_eq!(g.decrypt(m.clone(), NOW).unwrap().plaintext, format!("{i}/{round}").into_bytes());
                    }
                }
            }));
        }
    }
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn burnout_into_the_vault_from_threads() {
    let alice = Account::new(NOW);
    let bob = Account::new(NOW);
    bob.generate_one_time_prekeys(1).unwrap();
    let a = alice.create_outbound_session(bob.prekey_bundle().unwrap()).unwrap();
    let b = bob.create_inbound_session(a.encrypt(b"hi".to_vec()).unwrap()).unwrap().session;
    let env = envelope_with_ttl(NOW, 60_000, true);
    let wires: Vec<Vec<u8>> = (0..16).map(|i| a.encrypt_burnout(vec![i; 4], env).unwrap()).collect();
    let vault = Vault::new();
    let handles: Vec<_> = wires
        .into_iter()
        .map(|w| {
            let (bob, b, vault) = (bob.clone(), b.clone(), vault.clone());
            thread::spawn(move || {
                let Opened::Burnout { message } = bob.open(b, w, NOW + 1).unwrap() else { panic!("not burnout") };
                let id = vault.insert(message.clone(), NOW + 1).unwrap();
                assert!(matches!(vault.insert(message, NOW + 1), Err(SealpostError::AlreadyConsumed(_))));
                id
            })
        })
        .collect();
    let ids: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(vault.len().unwrap(), 16);
    let key = generate_export_key();
    let restored = Vault::import_encrypted(key.clone(), vault.export_encrypted(key, NOW + 2).unwrap()).unwrap();
    for id in ids {
        assert_eq!(restored.read(id, NOW + 3).unwrap().len(), 4);
        assert!(matches!(restored.read(id, NOW + 3), Err(SealpostError::BurnedAfterReading(_))));
    }
    assert!(restored.is_empty().unwrap());
}

#[test]
fn envelope_conversions_are_exact() {
    let cases = [
        Envelope { sent_at_ms: 5, expires_at_ms: None, burn_after_reading: false },
        Envelope { sent_at_ms: 5, expires_at_ms: None, burn_after_reading: true },
        Envelope { sent_at_ms: 5, expires_at_ms: Some(9), burn_after_reading: false },
        Envelope { sent_at_ms: 5, expires_at_ms: Some(9), burn_after_reading: true },
    ];
    let me = Account::new(NOW).identity_key();
    for env in cases {
        let m = BurnoutMessage::outgoing(b"x".to_vec(), env, me).unwrap();
        assert_eq!(m.envelope(), env);
    }
    assert_eq!(envelope_with_ttl(u64::MAX - 1, 10, false).expires_at_ms, Some(u64::MAX));
}
