//! Text forms of the identifiers: `Display` / `FromStr` round trips, one
//! form per value (every other spelling refused), and serde as the same
//! strings.

use std::str::FromStr;

use sealpost::burnout::{Envelope, VaultId};
use sealpost::forkout::ForkoutId;
use sealpost::group::GroupId;
use sealpost::{IdentityKeyPair, SafetyNumber};
use sealpost_testkit::{NOW, rng};

/// `value` prints as `text`, parses back, survives JSON, and every
/// variant in `bad` is refused.
fn check<T>(value: T, bad: &[String])
where
    T: std::fmt::Display + FromStr + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
    <T as FromStr>::Err: std::fmt::Debug,
{
    let text = value.to_string();
    assert_eq!(text.parse::<T>().unwrap(), value);
    let json = serde_json::to_string(&value).unwrap();
    assert_eq!(json, format!("\"{text}\""));
    assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
    for b in bad {
        assert!(b.parse::<T>().is_err(), "{b:?} parsed");
        assert!(serde_json::from_str::<T>(&format!("\"{b}\"")).is_err());
    }
}

/// Other spellings of a hex text: upper case, one digit short or long,
/// surrounded by space, with a prefix.
fn hex_variants(text: &str) -> Vec<String> {
    vec![
        text.to_uppercase(),
        text[1..].to_string(),
        format!("{text}0"),
        format!(" {text}"),
        format!("0x{text}"),
        String::new(),
    ]
}

#[test]
fn every_identifier_has_one_text_form() {
    let mut r = rng(1);
    let key = *IdentityKeyPair::generate(&mut r).public();
    check(key, &hex_variants(&key.to_string()));
    assert_eq!(key.to_string().len(), 64);
    // A well-formed hex string that is no valid key is refused.
    assert!(format!("{}{}", "00".repeat(31), "01").parse::<sealpost::IdentityKey>().is_err());

    let group = GroupId::random(&mut r);
    check(group, &hex_variants(&group.to_string()));
    let forkout = ForkoutId::from_bytes([0xab; 32]);
    assert_eq!(forkout.to_string(), "ab".repeat(32));
    check(forkout, &hex_variants(&forkout.to_string()));

    let envelope = Envelope::with_ttl(NOW, 60_000).burn_after_reading();
    check(envelope, &hex_variants(&envelope.to_string()));

    check(VaultId::from_u64(0), &["00".into(), "-0".into()]);
    check(VaultId::from_u64(u64::MAX), &["18446744073709551616".into(), "+1".into(), " 1".into(), "1 ".into()]);

    let other = *IdentityKeyPair::generate(&mut r).public();
    let number = SafetyNumber::new(&key, &other);
    let text = number.to_string();
    assert!(text.parse::<SafetyNumber>().unwrap().ct_eq(&number));
    let json = serde_json::to_string(&number).unwrap();
    assert!(serde_json::from_str::<SafetyNumber>(&json).unwrap().ct_eq(&number));
    for bad in
        [text.replace(' ', ""), format!("{text} "), text.replacen(' ', "  ", 1), text[..text.len() - 1].to_string()]
    {
        assert!(bad.parse::<SafetyNumber>().is_err(), "{bad:?}");
    }
}
