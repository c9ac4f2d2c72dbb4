//! Forkout through the exported API, from Rust: concurrent seals over
//! shared sessions (lock order) and the relay split.

use std::sync::Arc;
use std::thread;

use sealpost_ffi::{Account, ForkoutRecipient, SealPolicy, SealpostError, Session, forkout_split, forkout_split_all};
use sealpost_testkit::{ForkoutWorld, NOW};

/// A sender with confirmed sessions to `n` recipients: (sender, recipients,
/// sender's sessions, recipients' sessions). The testkit's Forkout world,
/// each state restored through the exported `from_bytes` (the handshake
/// through the exported API is tested in `api.rs`).
#[allow(clippy::type_complexity)]
fn team(n: usize) -> (Arc<Account>, Vec<Arc<Account>>, Vec<Arc<Session>>, Vec<Arc<Session>>) {
    let w = ForkoutWorld::new(u64::try_from(n).unwrap()).with_peers(n);
    let account = |a: &sealpost::Account| Account::from_bytes(a.to_bytes().to_vec()).unwrap();
    let session = |s: &sealpost::Session| Session::from_bytes(s.to_bytes().to_vec()).unwrap();
    let people = w.peers.iter().map(|p| account(&p.account)).collect();
    let to = w.peers.iter().map(|p| session(&p.to_peer)).collect();
    let back = w.peers.iter().map(|p| session(&p.session)).collect();
    (account(&w.sender), people, to, back)
}

#[test]
fn concurrent_seals_over_shared_sessions() {
    let (sender, people, to, back) = team(4);
    let handles: Vec<_> = (0..6)
        .map(|t| {
            let (sender, mut to) = (sender.clone(), to.clone());
            thread::spawn(move || {
                to.rotate_left(t % 4);
                if t % 2 == 1 {
                    to.reverse();
                }
                let recipients = to.into_iter().map(|session| ForkoutRecipient::Session { session }).collect();
                let body = format!("update {t}").into_bytes();
                (t, sender.seal_forkout(body, recipients, SealPolicy::AllOrNothing, None).unwrap())
            })
        })
        .collect();
    let sealed: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (t, s) in &sealed {
        assert_eq!(s.recipients.len(), 4);
        let deliveries = forkout_split_all(s.bundle.clone()).unwrap();
        for (i, p) in people.iter().enumerate() {
            let d = forkout_split(s.bundle.clone(), p.identity_key()).unwrap();
            assert!(deliveries.iter().any(|x| x.recipient_identity_key == p.identity_key() && x.delivery == d));
            let opened = p.open_forkout(back[i].clone(), d, NOW).unwrap();
            assert_eq!(opened.body, format!("update {t}").into_bytes());
        }
    }
}

#[test]
fn first_contact_and_reply() {
    let (sender, people, to, back) = team(1);
    let carol = Account::new(NOW);
    carol.generate_one_time_prekeys(1).unwrap();
    let recipients = vec![
        ForkoutRecipient::Session { session: to[0].clone() },
        ForkoutRecipient::Bundle { bundle: carol.prekey_bundle().unwrap() },
    ];
    let sealed = sender.seal_forkout(b"minutes".to_vec(), recipients, SealPolicy::AllOrNothing, None).unwrap();
    assert_eq!(sealed.new_sessions.len(), 1);
    let got = carol.open_forkout_new(forkout_split(sealed.bundle.clone(), carol.identity_key()).unwrap(), NOW).unwrap();
    assert_eq!(got.opened.unwrap().body, b"minutes");
    let reply = got.session.encrypt(b"thanks".to_vec()).unwrap();
    assert_eq!(sender.decrypt(sealed.new_sessions[0].clone(), reply).unwrap(), b"thanks");
    let ann = forkout_split(sealed.bundle, people[0].identity_key()).unwrap();
    assert_eq!(people[0].open_forkout(back[0].clone(), ann.clone(), NOW).unwrap().body, b"minutes");
    assert!(matches!(people[0].open_forkout(back[0].clone(), ann, NOW), Err(SealpostError::DuplicateMessage(_))));
}
