//! Safety numbers: symmetric, key-dependent, correctly formatted, stable.

use sealpost::{IdentityKeyPair, SafetyNumber};
use sealpost_testkit::rng;

/// The pair of identities with seeds 0x01.. and 0x02.. . Computed by this
/// implementation and checked against an independent reimplementation of
/// the documented derivation (`tests/vectors_crosscheck.py`); pinned so a
/// change to the derivation (label, iteration count, digit extraction,
/// ordering) is caught: every user's safety numbers would change with it.
const SEEDS_1_2: &str = "79013 98595 62769 96120 50761 16353 18857 03400 18584 40508 99897 27418";

#[test]
fn pinned_vector() {
    let a = IdentityKeyPair::from_seed(&[0x01; 32]);
    let b = IdentityKeyPair::from_seed(&[0x02; 32]);
    let n = SafetyNumber::new(a.public(), b.public());
    assert_eq!(n.to_string(), SEEDS_1_2);
    assert_eq!(n.digits(), SEEDS_1_2.replace(' ', ""));
}

#[test]
fn same_on_both_sides() {
    let mut rng = rng(60);
    for _ in 0..5 {
        let (a, b) = (IdentityKeyPair::generate(&mut rng), IdentityKeyPair::generate(&mut rng));
        let on_a = SafetyNumber::new(a.public(), b.public());
        let on_b = SafetyNumber::new(b.public(), a.public());
        assert_eq!(on_a, on_b);
        assert!(on_a.ct_eq(&on_b));
        assert_eq!(on_a.to_string(), on_b.to_string());
    }
}

#[test]
fn twelve_groups_of_five_digits() {
    let mut rng = rng(61);
    for _ in 0..5 {
        let (a, b) = (IdentityKeyPair::generate(&mut rng), IdentityKeyPair::generate(&mut rng));
        let shown = SafetyNumber::new(a.public(), b.public()).to_string();
        let groups: Vec<&str> = shown.split(' ').collect();
        assert_eq!(groups.len(), 12, "{shown}");
        assert!(groups.iter().all(|g| g.len() == 5 && g.bytes().all(|c| c.is_ascii_digit())), "{shown}");
        assert_eq!(SafetyNumber::new(a.public(), b.public()).digits(), groups.concat());
    }
}

#[test]
fn differs_for_different_keys() {
    let mut rng = rng(62);
    let alice = IdentityKeyPair::generate(&mut rng);
    let others: Vec<IdentityKeyPair> = (0..6).map(|_| IdentityKeyPair::generate(&mut rng)).collect();
    let numbers: Vec<SafetyNumber> = others.iter().map(|o| SafetyNumber::new(alice.public(), o.public())).collect();
    for (i, x) in numbers.iter().enumerate() {
        for y in &numbers[i + 1..] {
            assert_ne!(x, y);
            assert!(!x.ct_eq(y));
        }
    }
    // A man in the middle replacing Bob's key changes Bob's half (30
    // digits); Alice's half, derived from her key alone, stays the same.
    let alice_half = |n: &SafetyNumber, other: &IdentityKeyPair| {
        let d = n.digits();
        if alice.public() < other.public() { d[..30].to_owned() } else { d[30..].to_owned() }
    };
    let other_half = |n: &SafetyNumber, other: &IdentityKeyPair| {
        let d = n.digits();
        if alice.public() < other.public() { d[30..].to_owned() } else { d[..30].to_owned() }
    };
    let first = alice_half(&numbers[0], &others[0]);
    for (n, o) in numbers.iter().zip(&others) {
        assert_eq!(alice_half(n, o), first);
    }
    for (i, (x, ox)) in numbers.iter().zip(&others).enumerate() {
        for (y, oy) in numbers.iter().zip(&others).skip(i + 1) {
            assert_ne!(other_half(x, ox), other_half(y, oy));
        }
    }
    // The pair with itself is a valid (if useless) number, distinct too.
    assert!(!numbers.contains(&SafetyNumber::new(alice.public(), alice.public())));
}
