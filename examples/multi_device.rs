//! One person, several devices: Alice links her new laptop to her phone
//! (a QR code and eight digits compared on both screens), chats with Bob,
//! who has a phone and a tablet (every message sealed once, with one key
//! slot per device: Bob's two and Alice's other one), loses her phone and
//! removes it from the laptop. Bob's client accepts the new signed device
//! list, drops the session with the lost phone and rotates their group; the
//! phone reads nothing after that.
//!
//! Each device is a `sealpost_client::Client` on its own SQLite file. The
//! "directory" (each user's newest signed device list, prekey bundles) and
//! the relay (which checks a message for people against the current lists
//! before splitting it) are a few lines of this file.
//!
//! Run with `cargo run --example multi_device`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeMap;

use sealpost::IdentityKey;
use sealpost::device::{self, DeviceList};
use sealpost::forkout::{self, ForkoutBundle};
use sealpost_client::store::SqliteStore;
use sealpost_client::{Client, ClientError, Destination, Event, Outgoing};

const NOW: u64 = 1_700_000_000_000;

struct Device {
    label: &'static str,
    user: &'static str,
    client: Client<SqliteStore>,
}

/// The directory, the relay and every device's mailbox.
#[derive(Default)]
struct Net {
    lists: BTreeMap<String, Vec<u8>>,
    /// One-time prekeys handed out (a directory hands out each once).
    handed: std::collections::BTreeSet<(IdentityKey, u32)>,
    mail: BTreeMap<IdentityKey, Vec<(String, IdentityKey, Vec<u8>)>>,
}

impl Net {
    /// The relay: a message for people is checked against the users'
    /// current lists, then split per device; anything else goes to the
    /// device it names.
    fn post(&mut self, from: &Device, outs: Vec<Outgoing>) -> sealpost::Result<()> {
        let me = from.client.identity().unwrap();
        for out in outs {
            match &out.to {
                Destination::Users(users) => {
                    let lists: Vec<DeviceList> =
                        users.iter().map(|u| DeviceList::from_bytes(&self.lists[u]).unwrap()).collect();
                    device::check_recipients(ForkoutBundle::parse(&out.bytes)?.recipients(), &lists, &me)?;
                    for (to, delivery) in forkout::split_all(&out.bytes)? {
                        let to = IdentityKey::from_bytes(&to)?;
                        self.mail.entry(to).or_default().push((from.user.into(), me, delivery));
                    }
                }
                Destination::Device { device, .. } => {
                    self.mail.entry(**device).or_default().push((from.user.into(), me, out.bytes.clone()))
                }
                other => panic!("not in this demo: {other:?}"),
            }
            from.client.acknowledge(out.id).unwrap();
        }
        Ok(())
    }

    /// `d` fetches the newest lists and starts sessions with new devices.
    fn sync(&mut self, d: &Device, everyone: &[&Device]) {
        for (user, list) in self.lists.clone() {
            let (change, outs) = d.client.accept_device_list(&user, &list, &mut rand::rng()).unwrap();
            if !change.removed().is_empty() {
                println!(
                    "  [{}] {user}'s list is now version {}: {} device(s) removed, group keys rotated",
                    d.label,
                    change.to_version(),
                    change.removed().len()
                );
            }
            self.post(d, outs).unwrap();
            for device in d.client.devices_without_session(&user).unwrap() {
                let owner = everyone.iter().find(|x| x.client.identity().unwrap() == device).unwrap();
                let bundle = owner
                    .client
                    .prekey_bundles(&mut rand::rng(), NOW)
                    .unwrap()
                    .into_iter()
                    .find(|b| self.handed.insert((device, b.one_time_prekey_id().unwrap_or(u32::MAX))))
                    .unwrap();
                let outs = d.client.start_device_session(&user, &bundle, NOW, &mut rand::rng()).unwrap();
                self.post(d, outs).unwrap();
            }
        }
    }

    /// `d` reads its mailbox.
    fn read(&mut self, d: &Device) {
        for (user, device, bytes) in self.mail.remove(&d.client.identity().unwrap()).unwrap_or_default() {
            match d.client.receive_from_device(&user, &device, &bytes, NOW) {
                Ok(Event::Forkout { from, plaintext, .. } | Event::GroupMessage { from, plaintext, .. }) => {
                    println!("  [{}] {from}: {}", d.label, String::from_utf8_lossy(&plaintext));
                }
                Ok(_) => {}
                Err(ClientError::UnknownDevice { user }) => {
                    println!("  [{}] refused a message from a device not on {user}'s list", d.label)
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
}

fn device(dir: &std::path::Path, label: &'static str, user: &'static str, n: u8) -> Device {
    let store = SqliteStore::open(dir.join(format!("{label}.db"))).unwrap();
    let client = Client::create(store, &[n; 32], &mut rand::rng(), NOW).unwrap();
    Device { label, user, client }
}

fn main() -> sealpost::Result<()> {
    let dir = std::env::temp_dir().join(format!("sealpost-multi-device-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut net = Net::default();
    let mut rng = rand::rng();

    println!("# Alice's phone and Bob's phone are each a person's first device");
    let alice_phone = device(&dir, "alice-phone", "alice", 1);
    let bob_phone = device(&dir, "bob-phone", "bob", 2);
    let bob_tablet = device(&dir, "bob-tablet", "bob", 3);
    net.lists.insert("alice".into(), alice_phone.client.create_user("alice", &mut rng).unwrap().to_bytes());
    net.lists.insert("bob".into(), bob_phone.client.create_user("bob", &mut rng).unwrap().to_bytes());

    println!("# Linking: the new device shows a QR code, the existing one scans it");
    let link = |existing: &Device, new: &Device, user: &str| -> Vec<u8> {
        let mut request = new.client.link_request(&mut rand::rng(), NOW).unwrap();
        let qr = request.code(); // 90 bytes, shown on the new device's screen
        let (mut linker, offer) = existing.client.start_link(&qr, &mut rand::rng(), NOW).unwrap();
        let accept = new.client.accept_link_offer(&mut request, &offer, NOW).unwrap(); // via the relay
        let on_existing = linker.receive_accept(&accept).unwrap();
        let on_new = request.short_string().unwrap();
        println!("  {} shows {on_new}, {} shows {on_existing}: the same, confirmed", new.label, existing.label);
        let confirmation = new.client.confirm_link(&mut request, &on_existing.to_string()).unwrap(); // via the relay
        let done = existing.client.complete_link(&mut linker, &on_new.to_string(), &confirmation, b"").unwrap();
        new.client.finish_link(&request, user, &done.transfer).unwrap(); // via the relay
        done.devices.to_bytes()
    };
    let alice_laptop = device(&dir, "alice-laptop", "alice", 4);
    let list = link(&alice_phone, &alice_laptop, "alice");
    net.lists.insert("alice".into(), list);
    let list = link(&bob_phone, &bob_tablet, "bob");
    net.lists.insert("bob".into(), list);
    println!(
        "  alice's list: version {}, {} devices",
        DeviceList::from_bytes(&net.lists["alice"])?.version(),
        DeviceList::from_bytes(&net.lists["alice"])?.devices().len()
    );

    let everyone = [&alice_phone, &alice_laptop, &bob_phone, &bob_tablet];
    for d in everyone {
        net.sync(d, &everyone);
    }
    for d in everyone {
        net.read(d);
    }
    let number = bob_phone.client.user_safety_number("alice").unwrap().unwrap();
    println!("  Bob and Alice compare one safety number, whatever their devices: {number}");

    println!("# Alice writes from her phone: Bob's phone, Bob's tablet and her laptop get it");
    let out = alice_phone.client.send_to_user("bob", b"lunch at 1?", None, &mut rng).unwrap();
    println!("  one bundle for the relay: {} key slots", ForkoutBundle::parse(&out.bytes)?.recipients().count());
    net.post(&alice_phone, vec![out])?;
    for d in everyone {
        net.read(d);
    }

    println!("# A group of the two people");
    let (group, outs) = bob_tablet.client.create_user_group(&["alice"], &mut rng).unwrap();
    net.post(&bob_tablet, outs)?;
    for d in [&alice_phone, &alice_laptop] {
        net.post(d, d.client.join_user_group(&group, &["bob"], &mut rng).unwrap())?;
    }
    net.post(&bob_phone, bob_phone.client.join_user_group(&group, &["alice"], &mut rng).unwrap())?;
    for d in everyone {
        net.read(d);
    }
    let plans = bob_tablet.client.send_group(&group, b"offsite plans: draft 1", None, &mut rng).unwrap();
    for d in [&alice_phone, &alice_laptop, &bob_phone] {
        if let Event::GroupMessage { from, plaintext, .. } =
            d.client.receive_from_device("bob", &bob_tablet.client.identity().unwrap(), &plans.bytes, NOW).unwrap()
        {
            println!("  [{}] {from} in the group: {}", d.label, String::from_utf8_lossy(&plaintext));
        }
    }

    println!("# Alice loses her phone and removes it from the laptop");
    let phone_id = alice_phone.client.identity().unwrap();
    let (list, outs) = alice_laptop.client.remove_own_device(&phone_id, &mut rng).unwrap();
    net.post(&alice_laptop, outs)?;
    net.lists.insert("alice".into(), list.to_bytes());
    for d in [&bob_phone, &bob_tablet] {
        net.sync(d, &everyone);
    }
    for d in [&alice_laptop, &bob_phone] {
        net.read(d);
    }
    let out = bob_phone.client.send_to_user("alice", b"did you find your phone?", None, &mut rng).unwrap();
    println!(
        "  Bob's next message has {} key slots (Alice's laptop, Bob's tablet): none for the lost phone",
        ForkoutBundle::parse(&out.bytes)?.recipients().count()
    );
    net.post(&bob_phone, vec![out])?;
    let plans = bob_tablet.client.send_group(&group, b"offsite plans: final", None, &mut rng).unwrap();
    let stolen =
        alice_phone.client.receive_from_device("bob", &bob_tablet.client.identity().unwrap(), &plans.bytes, NOW);
    println!(
        "  the lost phone tries the new group message: {}",
        stolen.map(|_| "read it!".to_string()).unwrap_or_else(|e| e.to_string())
    );
    net.read(&alice_laptop);
    println!(
        "  [alice-laptop] bob in the group: {}",
        match alice_laptop.client.receive_from_device("bob", &bob_tablet.client.identity().unwrap(), &plans.bytes, NOW)
        {
            Ok(Event::GroupMessage { plaintext, .. }) => String::from_utf8_lossy(&plaintext).into_owned(),
            other => format!("{other:?}"),
        }
    );
    // Whatever the phone sends now is refused: it is not on Alice's list.
    let from_phone = alice_phone.client.send_to_user("bob", b"send me the door code", None, &mut rng).unwrap();
    for (to, delivery) in forkout::split_all(&from_phone.bytes)? {
        if to == bob_phone.client.identity().unwrap().to_bytes() {
            net.mail.entry(IdentityKey::from_bytes(&to)?).or_default().push(("alice".into(), phone_id, delivery));
        }
    }
    net.read(&bob_phone);

    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}
