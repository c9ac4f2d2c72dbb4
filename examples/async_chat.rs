//! Two people who are never online at the same time.
//!
//! Bob publishes a prekey bundle and goes offline. Alice starts a session
//! from the bundle and writes three messages into Bob's mailbox. Bob comes
//! online, reads them in shuffled order, and replies. Every step is printed.
//!
//! Run with `cargo run --example async_chat`.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use sealpost::{Account, PreKeyBundle, SafetyNumber};

fn main() -> Result<(), sealpost::Error> {
    // A fixed seed keeps the transcript reproducible; an app would use
    // `rand::rng()`.
    let mut rng = StdRng::seed_from_u64(2026);
    let monday_9am = 1_795_000_000_000u64;

    // Bob: create an account, publish prekeys, go offline.
    let mut bob = Account::new(&mut rng, monday_9am);
    bob.generate_one_time_prekeys(20, &mut rng)?;
    let published: Vec<Vec<u8>> = bob.prekey_bundles()?.iter().map(PreKeyBundle::to_bytes).collect();
    println!("[server] Bob uploaded {} prekey bundles, Bob goes offline", published.len());

    // Alice: fetch one bundle, start a session, write three messages.
    let mut alice = Account::new(&mut rng, monday_9am);
    let fetched = published.first().ok_or(sealpost::Error::InvalidState("server has no bundles"))?;
    println!("[server] Alice fetches one bundle ({} bytes)", fetched.len());
    let bundle = PreKeyBundle::from_bytes(fetched)?;
    let mut alice_to_bob = alice.create_outbound_session(&bundle, &mut rng)?;
    let mut mailbox = Vec::new();
    for text in
        ["Morning Bob! Notes from the planning call:", "1) ship the beta on Friday", "2) you own the release notes"]
    {
        let sealed = alice_to_bob.encrypt(text.as_bytes(), &mut rng)?;
        println!("[alice] -> mailbox: {text:?} ({} bytes on the wire)", sealed.len());
        mailbox.push(sealed);
    }

    // Bob comes online hours later; the mailbox delivers out of order.
    mailbox.shuffle(&mut rng);
    println!("[bob] online, {} messages waiting (delivered shuffled)", mailbox.len());
    let first = mailbox.remove(0);
    let (mut bob_to_alice, text) = bob.create_inbound_session(&first)?;
    println!("[bob] read: {:?}", String::from_utf8_lossy(&text));
    for sealed in &mailbox {
        let text = bob.decrypt(&mut bob_to_alice, sealed)?;
        println!("[bob] read: {:?}", String::from_utf8_lossy(&text));
    }
    println!("[bob] one-time prekeys left on the server: {}", bob.remaining_one_time_prekeys());

    // A replayed message is refused.
    let replay = bob.decrypt(&mut bob_to_alice, &first);
    println!("[bob] replay of the first message: {replay:?}");

    // Bob replies; Alice reads it whenever she is next online.
    let reply = bob_to_alice.encrypt(b"Got it, release notes are mine. Beta on Friday!", &mut rng)?;
    let text = alice.decrypt(&mut alice_to_bob, &reply)?;
    println!("[alice] read: {:?}", String::from_utf8_lossy(&text));

    // Both can compare the safety number in person or on a call.
    let on_alices_phone = SafetyNumber::new(alice.identity(), bob_to_alice.local_identity());
    let on_bobs_phone = SafetyNumber::new(bob.identity(), alice_to_bob.local_identity());
    println!("[both] safety number: {on_alices_phone}");
    assert_eq!(on_alices_phone, on_bobs_phone);
    assert_eq!(alice_to_bob.session_id(), bob_to_alice.session_id());
    println!(
        "[both] session converged: {}",
        alice_to_bob.session_id().iter().take(6).map(|b| format!("{b:02x}")).collect::<String>()
    );
    Ok(())
}
