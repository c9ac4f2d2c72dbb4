//! `Session::encrypt_into` / `decrypt_into`: the caller-owned-buffer path
//! produces the same messages as the allocating one, reuses the buffers,
//! and keeps the transactional rules (a refused message changes nothing).

use sealpost::Error;
use sealpost_testkit::{Conversation, rng};

#[test]
fn buffers_are_reused_and_every_message_round_trips() {
    let mut r = rng(70);
    let mut c = Conversation::established(&mut r);
    let (mut wire, mut plain) = (Vec::with_capacity(70_000), Vec::with_capacity(70_000));
    let (wire_at, plain_at) = (wire.as_ptr(), plain.as_ptr());
    for (i, size) in [0usize, 1, 100, 4096, 65_536, 17].into_iter().enumerate() {
        let text: Vec<u8> = (0..size).map(|j| (i * 31 + j) as u8).collect();
        wire.clear();
        c.a.encrypt_into(&text, &mut wire, &mut r).unwrap();
        c.b.decrypt_into(&wire, &mut plain).unwrap();
        assert_eq!(plain, text);
        // A reply through the allocating calls reads the same way.
        let back = c.b.encrypt(&text, &mut r).unwrap();
        c.a.decrypt_into(&back, &mut plain).unwrap();
        assert_eq!(plain, text);
    }
    assert_eq!((wire.as_ptr(), plain.as_ptr()), (wire_at, plain_at), "no reallocation within capacity");
}

#[test]
fn encrypt_into_appends_and_matches_encrypt() {
    let mut r = rng(71);
    let c = Conversation::established(&mut r);
    let (mut a1, mut a2) = (c.a.clone(), c.a.clone());
    let (mut r1, mut r2) = (rng(5), rng(5));
    let plain = a1.encrypt(b"same position, same salt", &mut r1).unwrap();
    let mut out = b"framing:".to_vec();
    a2.encrypt_into(b"same position, same salt", &mut out, &mut r2).unwrap();
    assert_eq!(&out[..8], b"framing:", "what the caller had stays in front");
    assert_eq!(&out[8..], plain.as_slice(), "byte for byte the message of encrypt");
    assert_eq!(a1.to_bytes(), a2.to_bytes());
}

#[test]
fn a_refused_message_changes_nothing_and_leaves_the_buffer_empty() {
    let mut r = rng(72);
    let mut c = Conversation::established(&mut r);
    let good = c.a.encrypt(b"the real one", &mut r).unwrap();
    let mut tampered = good.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let before = c.b.to_bytes();
    let mut out = b"previous contents".to_vec();
    assert_eq!(c.b.decrypt_into(&tampered, &mut out), Err(Error::AuthenticationFailed));
    assert!(out.is_empty());
    assert_eq!(c.b.to_bytes(), before);
    c.b.decrypt_into(&good, &mut out).unwrap();
    assert_eq!(out, b"the real one");
    // A replay is refused the same way.
    assert_eq!(c.b.decrypt_into(&good, &mut out), Err(Error::DuplicateMessage));
    // A Burnout message is not for the plain path.
    let burn = c.a.encrypt_burnout(b"x", &sealpost::burnout::Envelope::with_ttl(sealpost_testkit::NOW, 1000), &mut r);
    let burn = burn.unwrap();
    let before = c.b.to_bytes();
    assert!(matches!(c.b.decrypt_into(&burn, &mut out), Err(Error::UnexpectedPayload(_))));
    assert_eq!(c.b.to_bytes(), before);
}

#[test]
fn a_buffer_too_small_or_too_long_ends_up_holding_exactly_the_plaintext() {
    let mut r = rng(73);
    let mut c = Conversation::established(&mut r);
    let long: Vec<u8> = (0..5000).map(|i| i as u8).collect();
    // Too small: replaced by one of the needed size, old bytes gone.
    let mut out = b"old".to_vec();
    c.b.decrypt_into(&c.a.encrypt(&long, &mut r).unwrap(), &mut out).unwrap();
    assert_eq!(out, long);
    // Longer than the next plaintext: cut to it, nothing of the old tail.
    c.b.decrypt_into(&c.a.encrypt(b"short", &mut r).unwrap(), &mut out).unwrap();
    assert_eq!(out, b"short");
}
