//! Text forms of the public identifiers (the table is in the crate guide,
//! "Text forms"): hex and decimal helpers, and the macros that give each
//! type `Display`, `FromStr` and, with the `serde` feature, `Serialize` /
//! `Deserialize` as the same strings.

use core::fmt;

use crate::error::{Error, WireError};

/// Writes `bytes` as lower-case hex.
pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// Parses exactly `2 * N` lower-case hex digits.
pub(crate) fn parse_hex<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], Error> {
    let invalid = || Error::Wire(WireError::InvalidField(what));
    let digits = s.as_bytes();
    if digits.len() != 2 * N {
        return Err(invalid());
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (nibble(*hi).ok_or_else(invalid)?, nibble(*lo).ok_or_else(invalid)?),
            _ => return Err(invalid()),
        };
        *byte = hi << 4 | lo;
    }
    Ok(out)
}

/// `Serialize` / `Deserialize` as the type's text form (feature `serde`).
macro_rules! serde_via_text {
    ($ty:ty) => {
        #[cfg(feature = "serde")]
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> core::result::Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
                let text = <std::string::String as serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_text;

/// `Display` as lower-case hex of `$bytes(self)`, `FromStr` through
/// `$from(array)`, and the serde impls.
macro_rules! hex_text {
    ($ty:ty, $len:expr, $what:literal, |$s:ident| $bytes:expr, |$a:ident| $from:expr) => {
        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let $s = self;
                $crate::text::write_hex(f, &$bytes)
            }
        }

        impl core::str::FromStr for $ty {
            type Err = $crate::Error;
            fn from_str(text: &str) -> core::result::Result<Self, Self::Err> {
                let $a = $crate::text::parse_hex::<{ $len }>(text, $what)?;
                $from
            }
        }

        $crate::text::serde_via_text!($ty);
    };
}
pub(crate) use hex_text;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn hex_is_exact_and_lower_case() {
        assert_eq!(parse_hex::<2>("0aff", "x").unwrap(), [0x0a, 0xff]);
        for bad in ["0AFF", "0af", "0aff0", "0agf", " 0af", "+0af", ""] {
            assert!(parse_hex::<2>(bad, "x").is_err(), "{bad:?}");
        }
    }
}
