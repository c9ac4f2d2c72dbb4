//! A five-member team channel: sender keys are handed out over 1:1
//! sessions, every message is encrypted once for the whole channel, one
//! member leaves, and the others rotate their keys and carry on.
//!
//! Run with `cargo run --example team_channel`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use sealpost::group::{Group, GroupId};
use sealpost::{Account, IdentityKey, PreKeyBundle, Session};

const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
const NOW: u64 = 1_700_000_000_000;

/// One device: its account, its view of the channel, its 1:1 sessions.
struct Device {
    name: &'static str,
    account: Account,
    channel: Group,
    sessions: BTreeMap<IdentityKey, Session>,
}

fn main() -> sealpost::Result<()> {
    let mut rng = rand::rng();

    // Everyone creates an account and uploads prekey bundles to the server.
    let mut accounts: Vec<Account> = NAMES.iter().map(|_| Account::new(&mut rng, NOW)).collect();
    let mut server: BTreeMap<IdentityKey, Vec<PreKeyBundle>> = BTreeMap::new();
    for account in &mut accounts {
        account.generate_one_time_prekeys(8, &mut rng)?;
        server.insert(*account.identity(), account.prekey_bundles()?);
    }
    let ids: Vec<IdentityKey> = accounts.iter().map(|a| *a.identity()).collect();
    let name_of = |id: &IdentityKey| NAMES[ids.iter().position(|x| x == id).unwrap()];

    // Alice creates the channel; the app tells everyone who is in it.
    let channel_id = GroupId::random(&mut rng);
    let mut devices: Vec<Device> = NAMES
        .iter()
        .zip(accounts)
        .map(|(name, account)| Device {
            name,
            channel: Group::new(channel_id, *account.identity(), ids.clone(), &mut rng).unwrap(),
            account,
            sessions: BTreeMap::new(),
        })
        .collect();
    println!("# #launch-plans: {} members", devices.len());

    // Sender keys travel over 1:1 sessions. The first contact between two
    // devices starts the session with the distribution itself.
    for i in 0..devices.len() {
        for j in i + 1..devices.len() {
            let bundle = server.get_mut(&ids[j]).unwrap().pop().expect("a bundle left");
            let mut to_j = devices[i].account.create_outbound_session(&bundle, &mut rng)?;
            let sent = devices[i].channel.distribute([&mut to_j], &mut rng)?;
            let dj = &mut devices[j];
            let (mut to_i, _) = dj.channel.install_distribution_from_new_session(&mut dj.account, &sent[0].1)?;
            let reply = devices[j].channel.distribute([&mut to_i], &mut rng)?;
            let d = &mut devices[i];
            d.channel.install_distribution(&mut d.account, &mut to_j, &reply[0].1)?;
            devices[i].sessions.insert(ids[j], to_j);
            devices[j].sessions.insert(ids[i], to_i);
        }
    }
    println!("# every member holds the 4 other sender keys\n");

    let m = post(&mut devices, 0, "morning! launch review at 10");
    deliver(&mut devices, 0, &m);
    let m1 = post(&mut devices, 1, "slides are in the shared drive");
    let m2 = post(&mut devices, 2, "I'll bring the numbers");
    println!("        (the server delivers carol's message before bob's)");
    deliver(&mut devices, 2, &m2);
    deliver(&mut devices, 1, &m1);
    let m = post(&mut devices, 3, "I'm moving to the infra team tomorrow, good luck all");
    deliver(&mut devices, 3, &m);

    // Dave leaves. Every remaining member removes him, which rotates its
    // own sender key, and sends the new key to the others.
    println!("\n# dave leaves the channel; the others rotate their sender keys");
    let dave = ids[3];
    for d in devices.iter_mut().filter(|d| d.channel.own_identity() != &dave) {
        let rotated = d.channel.remove_member(&dave, &mut rng)?;
        println!("#   {} now sends under key {}", d.name, rotated.key_id);
    }
    for from in [0usize, 1, 2, 4] {
        let recipients: Vec<IdentityKey> = [0usize, 1, 2, 4].iter().filter(|&&t| t != from).map(|&t| ids[t]).collect();
        let sender = &mut devices[from];
        let sessions = sender.sessions.iter_mut().filter(|(id, _)| recipients.contains(id)).map(|(_, s)| s);
        let sent = sender.channel.distribute(sessions, &mut rng)?;
        for (to, bytes) in sent {
            let d = &mut devices[ids.iter().position(|x| *x == to).unwrap()];
            let session = d.sessions.get_mut(&ids[from]).unwrap();
            d.channel.install_distribution(&mut d.account, session, &bytes)?;
        }
    }
    println!();

    // The others carry on; the server still (wrongly) forwards to Dave.
    let m = post(&mut devices, 4, "the launch date moved to the 14th, keep it quiet");
    deliver(&mut devices, 4, &m);
    let m = post(&mut devices, 0, "noted. erin, can you update the plan?");
    deliver(&mut devices, 0, &m);
    let m = post(&mut devices, 3, "hello? is this thing on?");
    deliver(&mut devices, 3, &m);

    println!(
        "\n# alice's view of the other members: {}",
        devices[0].channel.members().map(name_of).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

/// Encrypts one message for the whole channel and prints it.
fn post(devices: &mut [Device], from: usize, text: &str) -> Vec<u8> {
    let bytes = devices[from].channel.encrypt(text.as_bytes(), &mut sealpost::default_rng()).unwrap();
    println!("{:>6}: {text}", devices[from].name);
    println!("        [one ciphertext of {} bytes for the whole channel]", bytes.len());
    bytes
}

/// Hands the same bytes to every other device and reports who could read them.
fn deliver(devices: &mut [Device], from: usize, bytes: &[u8]) {
    let sender = *devices[from].channel.own_identity();
    let mut readers = Vec::new();
    for device in devices.iter_mut().filter(|d| d.channel.own_identity() != &sender) {
        match device.channel.decrypt(bytes, NOW) {
            Ok(read) => {
                assert_eq!(read.sender, sender, "the signature names the sender");
                readers.push(device.name);
            }
            Err(e) => println!("        {} cannot read it: {e}", device.name),
        }
    }
    if !readers.is_empty() {
        println!("        read by {}", readers.join(", "));
    }
}
