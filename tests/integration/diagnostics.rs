//! The `tracing` events (feature `tracing`, on in the workspace tests):
//! they name what happened (a message refused and why, a prekey consumed, a
//! sender key rotated, the session state that took a message) and never
//! carry key material or plaintext.

use std::sync::{Arc, Mutex};

use sealpost::Account;
use sealpost::group::{Group, GroupId};
use sealpost_testkit::{NOW, rng};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every event as "message | field=value ...".
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = format!("{} {}:", event.metadata().level(), event.metadata().target());
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn events_name_what_happened_and_carry_no_secret() {
    let capture = Capture::default();
    let lines = capture.0.clone();
    let mut r = rng(1);
    let mut alice = Account::new(&mut r, NOW);
    let mut bob = Account::new(&mut r, NOW);
    bob.generate_one_time_prekeys(1, &mut r).unwrap();
    let secret_text = b"the launch code is 0451";
    let mut secrets: Vec<String> = Vec::new();
    tracing::subscriber::with_default(capture, || {
        let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut r).unwrap();
        let m1 = to_bob.encrypt(secret_text, &mut r).unwrap();
        let (mut to_alice, _) = bob.create_inbound_session(&m1).unwrap();
        assert!(bob.decrypt(&mut to_alice, &m1).is_err()); // a replay
        let reply = to_alice.encrypt(b"ok", &mut r).unwrap();
        alice.decrypt(&mut to_bob, &reply).unwrap();
        let mut group = Group::new(GroupId::random(&mut r), *alice.identity(), [*bob.identity()], &mut r).unwrap();
        let _ = group.rotate(&mut r);
        assert!(group.decrypt(b"\x02\x10 not a group message", NOW).is_err());
        // What must never appear: the plaintext, the states (holding every key).
        secrets.push(String::from_utf8_lossy(secret_text).into_owned());
        for state in [alice.to_bytes(), bob.to_bytes(), to_bob.to_bytes(), to_alice.to_bytes(), group.to_bytes()] {
            secrets.extend(state.chunks(32).filter(|c| c.len() == 32).map(sealpost_testkit::hex));
        }
    });
    let lines = lines.lock().unwrap();
    let all = lines.join("\n");
    for expected in [
        "one-time prekey consumed",
        "new 1:1 session state from a setup message",
        "1:1 message refused",
        "duplicate message",
        "1:1 message taken by a session state",
        "own group sender key rotated",
        "group message refused",
    ] {
        assert!(all.contains(expected), "no {expected:?} in:\n{all}");
    }
    assert!(lines.iter().all(|l| l.contains(" sealpost:")), "{all}");
    for secret in &secrets {
        assert!(!all.contains(secret.as_str()), "an event carries {secret}:\n{all}");
    }
}
