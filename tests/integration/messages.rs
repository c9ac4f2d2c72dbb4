//! Error messages say what happened in words and, where there is one, the
//! remedy (issue 14 item 4): no internal numbers alone.

use sealpost::group::{Group, GroupId};
use sealpost::{Account, Session};
use sealpost_testkit::{NOW, rng};

#[test]
fn errors_name_the_thing_and_the_remedy() {
    let mut r = rng(1);
    let mut alice = Account::new(&mut r, NOW);
    let mut bob = Account::new(&mut r, NOW);

    let own = alice.create_outbound_session(&alice.prekey_bundle().unwrap(), &mut r).unwrap_err();
    assert!(own.to_string().contains("the account's own"), "{own}");

    let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut r).unwrap();
    let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut r).unwrap()).unwrap();
    let reply = to_alice.encrypt(b"hello", &mut r).unwrap();
    alice.decrypt(&mut to_bob, &reply).unwrap();
    let ordinary = to_bob.encrypt(b"an ordinary message", &mut r).unwrap();
    let e = bob.create_inbound_session(&ordinary).unwrap_err();
    assert!(e.to_string().contains("not a setup message") && e.to_string().contains("decrypt it with"), "{e}");

    let session_state = to_bob.to_bytes();
    let e = Account::from_bytes(&session_state).unwrap_err();
    assert_eq!(e.to_string(), "malformed input: this is a session state (type 0x31), not an account state (type 0x30)");

    let id = GroupId::random(&mut r);
    let group = Group::new(id, *alice.identity(), [*bob.identity()], &mut r).unwrap();
    let distribution = group.distribute([&mut to_bob], &mut r).unwrap().remove(0).1;
    let e = to_alice.decrypt(&distribution).unwrap_err();
    assert!(e.to_string().contains("a group sender key") && e.to_string().contains("install_distribution"), "{e}");
    assert!(!e.to_string().contains("0x02"), "{e}");
    let _: &Session = &to_alice;
}
