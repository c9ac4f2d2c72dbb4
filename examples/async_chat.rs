//! Two people who are never online at the same time, each app on its own
//! SQLite file, one of them restarting mid-conversation.
//!
//! Bob's app publishes prekey bundles and quits. Alice's app starts a
//! session from one bundle and writes three messages into Bob's mailbox.
//! Bob's app starts again from its file, reads them in shuffled order and
//! replies. Alice's app restarts before the reply arrives and reads it from
//! where it left off. Every state change is committed to the file before the
//! app sees wire bytes or a message (see `sealpost_client`). Every step is
//! printed.
//!
//! Run with `cargo run --example async_chat`.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use sealpost::PreKeyBundle;
use sealpost_client::store::SqliteStore;
use sealpost_client::{Client, ClientError, Event};

/// The app's store keys (an app keeps its own in the platform keychain).
const ALICE_KEY: [u8; 32] = [0xa1; 32];
const BOB_KEY: [u8; 32] = [0xb0; 32];

fn main() -> Result<(), ClientError> {
    // A fixed seed keeps the transcript reproducible; an app would use
    // `rand::rng()`.
    let mut rng = StdRng::seed_from_u64(2026);
    let monday_9am = 1_795_000_000_000u64;
    let dir = std::env::temp_dir().join(format!("sealpost-async-chat-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| ClientError::Store(sealpost_client::store::StoreError::Backend(e.to_string())))?;
    let (alice_db, bob_db) = (dir.join("alice.db"), dir.join("bob.db"));

    // Bob's app: create its client, publish prekeys, quit.
    let published: Vec<Vec<u8>> = {
        let bob = Client::create(SqliteStore::open(&bob_db)?, &BOB_KEY, &mut rng, monday_9am)?;
        let bundles = bob.prekey_bundles(&mut rng, monday_9am)?;
        println!("[server] Bob uploaded {} prekey bundles; Bob's app quits", bundles.len());
        bundles.iter().map(PreKeyBundle::to_bytes).collect()
    };

    // Alice's app: fetch one bundle, start a session, write three messages.
    let alice = Client::create(SqliteStore::open(&alice_db)?, &ALICE_KEY, &mut rng, monday_9am)?;
    let fetched = published.first().ok_or(sealpost::Error::InvalidState("server has no bundles"))?;
    println!("[server] Alice fetches one bundle ({} bytes)", fetched.len());
    alice.start_session("bob", &PreKeyBundle::from_bytes(fetched)?, monday_9am, &mut rng)?;
    let mut mailbox = Vec::new();
    for text in
        ["Morning Bob! Notes from the planning call:", "1) ship the beta on Friday", "2) you own the release notes"]
    {
        let sealed = alice.send("bob", text.as_bytes(), &mut rng)?;
        println!("[alice] -> mailbox: {text:?} ({} bytes on the wire, outbox entry {})", sealed.bytes.len(), sealed.id);
        mailbox.push(sealed.bytes);
        alice.acknowledge(sealed.id)?; // the server has it
    }
    println!("[alice] identity recorded for bob on first use: {}", alice.peer_trust("bob")?.is_some());
    drop(alice);
    println!("[alice] app quits before Bob answers");

    // Bob's app starts again hours later; the mailbox delivers out of order.
    let bob = Client::open(SqliteStore::open(&bob_db)?, &BOB_KEY)?;
    mailbox.shuffle(&mut rng);
    println!("[bob] app restarted from {}, {} messages waiting (delivered shuffled)", bob_db.display(), mailbox.len());
    for sealed in &mailbox {
        match bob.receive("alice", sealed, monday_9am + 3_600_000)? {
            Event::Message { id, plaintext, new_session, .. } => {
                let how = if new_session { " (new session)" } else { "" };
                println!("[bob] read: {:?}{how}", String::from_utf8_lossy(&plaintext));
                bob.acknowledge_received(id)?; // shown to the user
            }
            other => println!("[bob] {other:?}"),
        }
    }
    // A replayed message is ignored.
    if let Some(again) = mailbox.first() {
        let replay = bob.receive("alice", again, monday_9am + 3_600_000)?;
        println!("[bob] replay of a message: {replay:?}");
    }
    let reply = bob.send("alice", b"Got it, release notes are mine. Beta on Friday!", &mut rng)?;
    bob.acknowledge(reply.id)?;

    // Alice's app starts again and reads the reply where it left off.
    let alice = Client::open(SqliteStore::open(&alice_db)?, &ALICE_KEY)?;
    if let Event::Message { plaintext, .. } = alice.receive("bob", &reply.bytes, monday_9am + 7_200_000)? {
        println!("[alice] app restarted, read: {:?}", String::from_utf8_lossy(&plaintext));
    }

    // Both can compare the safety number in person or on a call.
    let (on_alices_phone, on_bobs_phone) = (alice.safety_number("bob")?, bob.safety_number("alice")?);
    if let (Some(a), Some(b)) = (&on_alices_phone, &on_bobs_phone) {
        println!("[both] safety number: {a}");
        assert_eq!(a, b);
        alice.verify_identity("bob", &bob.identity()?)?;
        println!("[alice] marked bob as verified");
    }
    println!("[both] commits so far: alice {}, bob {}", alice.generation()?, bob.generation()?);
    drop((alice, bob));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
