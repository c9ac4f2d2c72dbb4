//! Burnout in two short stories, printed as a transcript:
//!
//! 1. Alice shares a one-time password with Bob, burn-after-reading: Bob
//!    can look at it once, then it is gone (from his vault and from Alice's
//!    own copy).
//! 2. Alice sends a message that expires at 18:00 while Bob is offline.
//!    When he comes back at 19:30 the message is refused, its key is used
//!    up, and nothing (a replay, a clock set back, a saved vault) brings it
//!    or an earlier note that expired at the same time back.
//!
//! Run with `cargo run --example burnout`.

use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::burnout::{BurnoutMessage, Envelope, Vault};
use sealpost::{Account, Error, Persist};
use sealpost::{BurnoutError, VaultError};

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
/// 2024-01-15 09:00:00 UTC, in ms since the Unix epoch.
const NINE_AM: u64 = 1_705_309_200_000;

/// Wall-clock time of day for the transcript.
fn clock(ms: u64) -> String {
    let secs = (ms / 1000) % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60)
}

fn main() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(2024);
    let mut now = NINE_AM;

    // Setup: Bob publishes a prekey bundle; Alice starts a session with it.
    let alice = Account::new(&mut rng, now);
    let mut bob = Account::new(&mut rng, now);
    bob.generate_one_time_prekeys(5, &mut rng)?;
    let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    let hello = to_bob.encrypt(b"hi Bob, it's Alice", &mut rng)?;
    let (mut to_alice, text) = bob.create_inbound_session(&hello)?;
    println!("[{}] Bob   <- Alice: {:?}", clock(now), String::from_utf8_lossy(&text));
    let mut alice_vault = Vault::new();
    let mut bob_vault = Vault::new();

    println!("\n--- 1. A one-time password, burn after reading ---");
    let otp = b"493817";
    let envelope = Envelope::with_ttl(now, 5 * MINUTE).burn_after_reading();
    let sealed = to_bob.encrypt_burnout(otp, &envelope, &mut rng)?;
    let own_copy = alice_vault.insert(BurnoutMessage::outgoing(otp, envelope, *alice.identity()), now)?;
    println!(
        "[{}] Alice -> Bob  : one-time password ({} bytes on the wire), burn after reading, expires {}",
        clock(now),
        sealed.len(),
        clock(envelope.expires_at_ms().unwrap_or(0)),
    );
    let wake = alice_vault.next_expiry().map_or_else(|| "never".to_owned(), clock);
    println!("[{}] Alice keeps her own copy under the same rule; her app's next purge timer: {wake}", clock(now));

    now += 30_000;
    let opened = bob.open_burnout(&mut to_alice, &sealed, now)?;
    let id = bob_vault.insert(opened, now)?;
    let info = bob_vault.info(id).ok_or(Error::Vault(VaultError::NotInVault))?;
    println!(
        "[{}] Bob's vault holds 1 message from Alice ({} bytes, burn after reading: {})",
        clock(now),
        info.len,
        info.envelope.is_burn_after_reading()
    );

    now += 10_000;
    {
        let code = bob_vault.read(id, now)?;
        println!(
            "[{}] Bob taps the message: {:?} (burned: {})",
            clock(now),
            String::from_utf8_lossy(&code),
            code.was_burned()
        );
    } // the only remaining copy is zeroized here
    now += 5_000;
    match bob_vault.read(id, now) {
        Err(e) => println!("[{}] Bob taps it again: {e}", clock(now)),
        Ok(_) => unreachable!("burn-after-reading content was readable twice"),
    }
    println!("[{}] Bob's vault now holds {} messages", clock(now), bob_vault.len());

    now = NINE_AM + 5 * MINUTE;
    let erased = alice_vault.purge(now);
    println!("[{}] Alice's timer fires: purge erased {erased} message(s)", clock(now));
    if let Err(Error::Burnout(BurnoutError::Expired { expired_at_ms })) = alice_vault.read(own_copy, now) {
        println!("[{}] Alice opens her copy: expired at {}", clock(now), clock(expired_at_ms));
    }

    println!("\n--- 2. A message that expires while Bob is offline ---");
    let deadline = NINE_AM + 9 * HOUR; // 18:00
    now = NINE_AM + 3 * HOUR; // 12:00
    let parking = to_bob.encrypt_burnout(b"parking: level 3, B12", &Envelope::expiring_at(now, deadline), &mut rng)?;
    let parking = bob_vault.insert(bob.open_burnout(&mut to_alice, &parking, now)?, now)?;
    println!(
        "[{}] Bob   <- Alice: {:?} (until {})",
        clock(now),
        String::from_utf8_lossy(&bob_vault.read(parking, now)?),
        clock(deadline)
    );

    now = NINE_AM + 8 * HOUR; // 17:00
    let envelope = Envelope::expiring_at(now, deadline);
    let gone = to_bob.encrypt_burnout(b"the side door code is 2580 until 18:00", &envelope, &mut rng)?;
    let later = to_bob.encrypt(b"did you get in?", &mut rng)?;
    println!("[{}] Alice -> Bob  : door code, expires {} (Bob is offline)", clock(now), clock(deadline));
    println!("[{}] Alice -> Bob  : a plain follow-up", clock(now + 1000));

    // Bob saved his vault before going offline; it is encrypted at rest.
    let storage_key = [0x42u8; 32];
    let saved = bob_vault.export_encrypted_at(now, &storage_key, &mut rng);
    drop(bob_vault); // the app quits: every plaintext buffer is zeroized

    now = NINE_AM + 10 * HOUR + 30 * MINUTE; // 19:30
    println!("[{}] Bob comes back online and fetches his messages", clock(now));
    match bob.open_burnout(&mut to_alice, &gone, now) {
        Err(Error::Burnout(BurnoutError::Expired { expired_at_ms })) => println!(
            "[{}] Bob   <- Alice: refused, expired at {} (plaintext never returned, message key used up)",
            clock(now),
            clock(expired_at_ms)
        ),
        other => unreachable!("an expired message opened: {other:?}"),
    }
    println!("[{}] Bob   <- Alice: {:?}", clock(now), String::from_utf8_lossy(&bob.decrypt(&mut to_alice, &later)?));
    // Setting the clock back does not help: the key no longer exists.
    match bob.open_burnout(&mut to_alice, &gone, now - 3 * HOUR) {
        Err(e) => println!("[{}] Bob retries with his clock set back to 16:30: {e}", clock(now)),
        Ok(_) => unreachable!("an expired message came back"),
    }
    // Nor does restoring the vault: it purges at the first clock it sees.
    let mut restored = Vault::import_encrypted(&storage_key, &saved)?;
    let held = restored.len();
    let erased = restored.purge(now);
    println!(
        "[{}] Bob restores his vault saved at 17:00 ({held} message); the first purge erases {erased}",
        clock(now)
    );
    match restored.read(parking, now) {
        Err(Error::Burnout(BurnoutError::Expired { expired_at_ms })) => {
            println!("[{}] Bob looks for the parking note: expired at {}", clock(now), clock(expired_at_ms))
        }
        other => unreachable!("an expired message came back from storage: {other:?}"),
    }
    Ok(())
}
