//! One update to 50 people who are not a group.
//!
//! A manager records a voice note for 50 people. 45 of them she already
//! chats with 1:1; 5 are new hires she only knows by their prekey bundles.
//! The note is encrypted once; each person gets a small key slot through
//! their own session. A relay splits the uploaded bundle into 50 mailboxes
//! without any key. Everyone reads it later, in their own time, some after
//! other 1:1 messages; one of them replies, 1:1, and nobody else learns who
//! else received the note.
//!
//! Run with `cargo run --example forkout`.

// Indexes below are fixed by construction (50 people, ids from the server).
#![allow(clippy::indexing_slicing)]

use std::collections::HashMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use sealpost::forkout::{self, ForkoutDelivery, Recipient, SealPolicy};
use sealpost::{Account, Error, PreKeyBundle, Session};

struct Person {
    name: String,
    account: Account,
    /// Their session with the manager, once they have one.
    session: Option<Session>,
}

fn main() -> Result<(), Error> {
    // A fixed seed keeps the transcript reproducible; an app would use
    // `rand::rng()`.
    let mut rng = StdRng::seed_from_u64(50);
    let monday = 1_795_000_000_000u64;

    let mut manager = Account::new(&mut rng, monday);
    let mut people = Vec::new();
    let mut server_bundles: HashMap<[u8; 32], Vec<u8>> = HashMap::new();
    for i in 0..50 {
        let mut account = Account::new(&mut rng, monday);
        account.generate_one_time_prekeys(5, &mut rng)?;
        let bundle = account.prekey_bundle()?.to_bytes();
        server_bundles.insert(account.identity().to_bytes(), bundle);
        people.push(Person { name: format!("person{i:02}"), account, session: None });
    }

    // The manager already chats with the first 45.
    let mut manager_sessions: HashMap<[u8; 32], Session> = HashMap::new();
    for person in people.iter_mut().take(45) {
        let bundle = PreKeyBundle::from_bytes(&server_bundles[&person.account.identity().to_bytes()])?;
        let mut to_them = manager.create_outbound_session(&bundle, &mut rng)?;
        let hello = to_them.encrypt(b"welcome to the project!", &mut rng)?;
        let (session, _) = person.account.create_inbound_session(&hello)?;
        person.session = Some(session);
        manager_sessions.insert(person.account.identity().to_bytes(), to_them);
    }
    println!("[manager] has 1:1 sessions with {} people, 5 new hires have only prekey bundles", manager_sessions.len());

    // The voice note: 256 KiB.
    let voice_note: Vec<u8> = (0..256 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let expected = voice_note.clone();

    // Seal once, one slot per person: their session if there is one,
    // else a new session from their bundle.
    let ids: Vec<[u8; 32]> = people.iter().map(|p| p.account.identity().to_bytes()).collect();
    let mut by_id: HashMap<[u8; 32], &mut Session> = manager_sessions.iter_mut().map(|(k, v)| (*k, v)).collect();
    let mut targets = Vec::new();
    for id in &ids {
        match by_id.remove(id) {
            Some(session) => targets.push(Recipient::Session(session)),
            None => targets.push(Recipient::Bundle(PreKeyBundle::from_bytes(&server_bundles[id])?)),
        }
    }
    let (sealed, report) = forkout::seal(&manager, voice_note, targets, SealPolicy::AllOrNothing, None, &mut rng)?;
    println!(
        "[manager] sealed the {} KiB voice note once for {} people ({} unreachable, {} new sessions)",
        sealed.body_len() / 1024,
        sealed.recipient_count(),
        report.unreachable.len(),
        report.new_sessions.len()
    );
    for session in report.new_sessions {
        manager_sessions.insert(session.peer_identity().to_bytes(), session);
    }
    let bundle = sealed.to_bytes();
    println!(
        "[manager] uploads one bundle of {} KiB (50 separate encryptions would be {} KiB)",
        bundle.len() / 1024,
        50 * (sealed.body_len() + 100) / 1024
    );

    // The relay splits without any key.
    let mut mailboxes: HashMap<[u8; 32], Vec<Vec<u8>>> = HashMap::new();
    for (recipient, delivery) in forkout::split_all(&bundle)? {
        mailboxes.entry(recipient).or_default().push(delivery);
    }
    println!("[relay] split the bundle into {} mailboxes", mailboxes.len());

    // The manager keeps chatting with person03 meanwhile.
    let p3 = people[3].account.identity().to_bytes();
    if let Some(s) = manager_sessions.get_mut(&p3) {
        for text in ["did you see the note?", "it's about Friday"] {
            let m = s.encrypt(text.as_bytes(), &mut rng)?;
            mailboxes.entry(p3).or_default().push(m);
        }
    }

    // Everyone reads later, in random order; person03 reads the chat first.
    let mut order: Vec<usize> = (0..people.len()).collect();
    order.shuffle(&mut rng);
    for &i in &order {
        let person = &mut people[i];
        let mut inbox = mailboxes.remove(&person.account.identity().to_bytes()).unwrap_or_default();
        inbox.reverse(); // newest first
        for item in inbox {
            if ForkoutDelivery::parse(&item).is_ok() {
                // Nothing in it names anyone else.
                for other in &ids {
                    if other != person.account.identity().as_bytes() {
                        assert!(!item.windows(32).any(|w| w == other));
                    }
                }
                let opened = match person.session.as_mut() {
                    Some(session) => forkout::open(&mut person.account, session, &item, monday + 3_600_000)?,
                    None => {
                        let (session, opened) = forkout::open_new(&mut person.account, &item, monday + 3_600_000)?;
                        person.session = Some(session);
                        opened?
                    }
                };
                // No Burnout envelope was set: the body is plain.
                let body = opened.body().ok_or(Error::InvalidState("the voice note has no Burnout envelope"))?;
                assert_eq!(body, expected.as_slice());
                if i <= 3 || i >= 47 {
                    println!("[{}] listened to the voice note ({} KiB)", person.name, body.len() / 1024);
                }
            } else if let Some(session) = person.session.as_mut() {
                let text = person.account.decrypt(session, &item)?;
                println!("[{}] read 1:1: {:?}", person.name, String::from_utf8_lossy(&text));
            }
        }
    }
    println!("[all] 50 of 50 people read the same voice note");

    // One of the new hires replies 1:1; only the manager can read it.
    let replier = &mut people[48];
    let reply = replier
        .session
        .as_mut()
        .ok_or(Error::InvalidState("no session"))?
        .encrypt(b"Thanks! Quick question about Friday: remote ok?", &mut rng)?;
    let to_replier =
        manager_sessions.get_mut(replier.account.identity().as_bytes()).ok_or(Error::InvalidState("no session"))?;
    let text = manager.decrypt(to_replier, &reply)?;
    println!("[manager] 1:1 reply from {}: {:?}", replier.name, String::from_utf8_lossy(&text));
    Ok(())
}
