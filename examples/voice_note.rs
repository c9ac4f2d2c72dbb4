//! A voice note to 30 people, for 24 hours.
//!
//! A team lead records a 3-minute voice note. It is encrypted once, as a
//! stream, and uploaded once; the small attachment pointer (its key, length,
//! duration and waveform) goes to 30 people in one Forkout, inside a
//! Burnout envelope that expires in 24 hours. One listener jumps to the
//! middle of the note: the player reads only the chunks it needs. Another
//! opens the message the next day: it has expired, and with it the key; the
//! upload on the server is noise.
//!
//! Run with `cargo run --example voice_note`.

// Indexes below are fixed by construction (30 listeners, a known recording).
#![allow(clippy::indexing_slicing)]

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::ops::ControlFlow;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::attachment::{self, Decryptor, Metadata, Pointer};
use sealpost::burnout::{Envelope, Opened, Vault};
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost::{Account, BurnoutError, Error};

const HOUR_MS: u64 = 60 * 60 * 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A fixed seed keeps the transcript reproducible; an app would use
    // `sealpost::default_rng()`.
    let mut rng = StdRng::seed_from_u64(30);
    let monday_9am = 1_795_000_000_000u64;

    // The recording: 3 minutes of 24 kbit/s audio, about 540 KB.
    let seconds = 180u64;
    let audio: Vec<u8> = (0..seconds * 3_000).map(|i| (i % 241) as u8).collect();
    let waveform: Vec<u8> = (0..64).map(|i| (i * 4 % 100) as u8).collect();
    let metadata = Metadata::new("audio/ogg")
        .with_file_name("standup-recap.ogg")
        .with_duration_ms(seconds * 1000)
        .with_waveform(waveform);

    // Encrypted once, chunk by chunk, with a progress bar.
    let mut upload = Vec::new();
    let mut chunks = 0;
    let pointer =
        attachment::encrypt_stream(&audio[..], &mut upload, metadata, Some(audio.len() as u64), &mut rng, |_| {
            chunks += 1;
            ControlFlow::Continue(())
        })?;
    println!(
        "[lead] voice note: {} bytes of audio -> {} bytes uploaded once ({chunks} chunks of 64 KiB)",
        audio.len(),
        upload.len()
    );

    // 30 listeners, known by their prekey bundles.
    let lead = Account::new(&mut rng, monday_9am);
    let mut listeners = Vec::new();
    for _ in 0..30 {
        let mut account = Account::new(&mut rng, monday_9am);
        account.generate_one_time_prekeys(1, &mut rng)?;
        listeners.push(account);
    }
    let recipients =
        listeners.iter().map(|l| l.prekey_bundle().map(Recipient::Bundle)).collect::<Result<Vec<_>, Error>>()?;

    // The pointer goes out in one Forkout, expiring in 24 hours.
    let envelope = Envelope::with_ttl(monday_9am, 24 * HOUR_MS);
    let (sealed, _report) = forkout::seal(
        &lead,
        pointer.to_bytes().to_vec(),
        recipients,
        SealPolicy::AllOrNothing,
        Some(envelope),
        &mut rng,
    )?;
    let bundle = sealed.to_bytes();
    println!("[lead] pointer sent to 30 people in one {}-byte Forkout bundle (24 h expiry)", bundle.len());

    // Listener 7, at 11am: opens the message, keeps it in the vault, and
    // jumps to the middle of the note.
    let eleven = monday_9am + 2 * HOUR_MS;
    let seven = &mut listeners[7];
    let delivery = forkout::split(&bundle, seven.identity())?;
    let (_session, opened) = forkout::open_new(seven, &delivery, eleven)?;
    let Opened::Burnout(message) = opened?.into_opened() else { return Err("sent with an envelope".into()) };
    let mut vault = Vault::new();
    let entry = vault.insert(message, eleven)?;
    let received = Pointer::parse(&vault.read(entry, eleven)?)?;
    let meta = received.metadata();
    println!(
        "[listener 7] {:?}, {} s, waveform of {} samples",
        meta.file_name().unwrap_or("?"),
        meta.duration_ms().unwrap_or(0) / 1000,
        meta.waveform().map_or(0, <[u8]>::len)
    );
    // The player seeks to 1:30 and plays 2 seconds.
    let mut player = Decryptor::new(Cursor::new(&upload), &received)?;
    let middle = audio.len() as u64 / 2;
    player.seek(SeekFrom::Start(middle))?;
    let mut two_seconds = vec![0u8; 6_000];
    player.read_exact(&mut two_seconds)?;
    assert_eq!(&two_seconds[..], &audio[middle as usize..middle as usize + 6_000]);
    println!("[listener 7] jumped to 1:30 and played 2 s: read 1 chunk of {chunks}, authenticated before playing");

    // Listener 21 opens the message on Tuesday at 10am: it expired at 9am.
    let tuesday = monday_9am + 25 * HOUR_MS;
    let twenty_one = &mut listeners[21];
    let delivery = forkout::split(&bundle, twenty_one.identity())?;
    let (_session, opened) = forkout::open_new(twenty_one, &delivery, tuesday)?;
    match opened {
        Err(Error::Burnout(BurnoutError::Expired { expired_at_ms })) => println!(
            "[listener 21] Tuesday: expired {} h ago; the pointer (and the key) was never released",
            (tuesday - expired_at_ms) / HOUR_MS
        ),
        other => return Err(format!("expected expiry, got {:?}", other.map(|_| ())).into()),
    }

    // Listener 7's vault lets the note go at the expiry too.
    assert_eq!(vault.purge(tuesday), 1);
    println!("[listener 7] Tuesday: the vault erased the pointer; the app deletes its downloaded copy");
    Ok(())
}
