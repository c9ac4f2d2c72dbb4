//! The error every exported function throws, and the argument checks
//! (times, 32-byte keys, identity keys).

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use zeroize::Zeroizing;

/// A failure on its way to JavaScript.
///
/// A failed call throws a JavaScript `Error` whose `name` is
/// `"SealpostError"`, whose `message` is the readable text of the Rust
/// error ("message authentication failed"), and whose `code` names what
/// went wrong, for programs to branch on:
///
/// * `"Malformed"`: the bytes are not a well-formed sealpost structure
///   (the core's [`sealpost::Error::Wire`]);
/// * `"InvalidArgument"`: an argument this layer checks before calling the
///   core (bytes that are not a `Uint8Array`, a key or id that is not 32
///   bytes, a time that is not a non-negative integer, an object listed
///   twice);
/// * `"AlreadyConsumed"`: a `BurnoutMessage` whose plaintext was already
///   taken or moved into a vault;
/// * `"RandomnessUnavailable"`: the host has no Web Crypto
///   (`crypto.getRandomValues`), so nothing can be generated;
/// * otherwise the name of the core error's variant, the innermost one for
///   the per-protocol errors: `"AuthenticationFailed"`,
///   `"DuplicateMessage"`, `"Expired"` ([`sealpost::BurnoutError`]),
///   `"PostQuantumRequired"` ([`sealpost::SessionError`]),
///   `"UnknownSenderKey"` ([`sealpost::GroupError`]), ... as documented on
///   [`sealpost::Error`] and its per-protocol enums.
///
/// Every error leaves the objects of the call as they were, exactly as in
/// the core (the documented exceptions, such as an expired Burnout message
/// using up its key, are the core's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    code: String,
    message: String,
}

/// What exported functions return (a `Failure` throws a `SealpostError`).
pub type JsResult<T> = Result<T, Failure>;

/// The per-protocol variants of [`sealpost::Error`]: their `code` is the
/// name of the variant they wrap.
const CATEGORIES: [&str; 6] = ["Session(", "Burnout(", "Vault(", "Group(", "Forkout(", "Attachment("];

impl Failure {
    /// An argument this layer refuses before the core sees it.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self { code: "InvalidArgument".to_owned(), message: message.into() }
    }

    /// A `BurnoutMessage` whose plaintext was already taken or moved into
    /// a vault (the code the native bindings use too).
    pub(crate) fn consumed() -> Self {
        Self {
            code: "AlreadyConsumed".to_owned(),
            message: "this BurnoutMessage was already read or put into a vault; its plaintext is gone".to_owned(),
        }
    }

    /// The code JavaScript sees.
    #[cfg(test)]
    pub(crate) fn code(&self) -> &str {
        &self.code
    }
}

/// The name of the (innermost) variant, from the derived `Debug` form
/// (`Session(PeerMismatch)` → `PeerMismatch`). Core errors hold no secret,
/// and only the leading identifier is kept.
fn code_of(error: &sealpost::Error) -> String {
    if matches!(error, sealpost::Error::Wire(_)) {
        return "Malformed".to_owned();
    }
    let debug = format!("{error:?}");
    let inner = CATEGORIES.iter().find_map(|category| debug.strip_prefix(category)).unwrap_or(&debug);
    inner.chars().take_while(char::is_ascii_alphanumeric).collect()
}

impl From<sealpost::Error> for Failure {
    fn from(error: sealpost::Error) -> Self {
        Self { code: code_of(&error), message: error.to_string() }
    }
}

impl From<sealpost::WireError> for Failure {
    fn from(error: sealpost::WireError) -> Self {
        sealpost::Error::from(error).into()
    }
}

impl From<Failure> for JsValue {
    fn from(failure: Failure) -> Self {
        let error = js_sys::Error::new(&failure.message);
        error.set_name("SealpostError");
        // Setting a property on a fresh `Error` object cannot fail; if it
        // ever did, the error would still carry its name and message.
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(&failure.code));
        error.into()
    }
}

/// `RandomnessUnavailable` unless the host's random source works: Web
/// Crypto's `crypto.getRandomValues` (browsers, Node.js 20+). Without
/// this check the core's generator would trap on its first draw, leaving
/// the WebAssembly instance unusable. Probed once, then remembered.
pub(crate) fn randomness() -> JsResult<()> {
    thread_local! {
        static AVAILABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if AVAILABLE.get() {
        return Ok(());
    }
    let mut probe = [0u8; 1];
    getrandom::fill(&mut probe).map_err(|e| Failure {
        code: "RandomnessUnavailable".to_owned(),
        message: format!(
            "no random source ({e}): sealpost needs Web Crypto (crypto.getRandomValues), as in browsers and Node.js 20 or newer"
        ),
    })?;
    AVAILABLE.set(true);
    Ok(())
}

/// A time from JavaScript (`Date.now()`: milliseconds since the Unix
/// epoch, a `number`), or another whole `number` such as an export
/// generation, as the core's `u64`. Refuses what is not a non-negative
/// integer up to `Number.MAX_SAFE_INTEGER`.
pub(crate) fn millis(value: f64, what: &str) -> JsResult<u64> {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    if (0.0..=MAX_SAFE_INTEGER).contains(&value) && value.fract() == 0.0 {
        // Exact: an integer in [0, 2^53).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(value as u64)
    } else {
        Err(Failure::invalid(format!(
            "{what} must be a whole number from 0 to Number.MAX_SAFE_INTEGER (a time: milliseconds since the Unix epoch, such as Date.now()), got {value}"
        )))
    }
}

/// A `u64` time or count from the core as a JavaScript `number` (exact
/// below 2^53; larger values, which no clock reaches, saturate there).
pub(crate) fn to_number(value: u64) -> f64 {
    const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;
    // Exact: at most 2^53 - 1.
    #[allow(clippy::cast_precision_loss)]
    let number = value.min(MAX_SAFE_INTEGER) as f64;
    number
}

/// A count from the core as a JavaScript `number` (`u32`, saturating;
/// every count is bounded far below).
pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `InvalidArgument` unless `value` is a `Uint8Array` (or a subclass,
/// such as Node's `Buffer`, or one from another realm: an iframe, a `vm`
/// context, a test runner's sandbox). wasm-bindgen does not check the
/// types of arguments: without this, a string or an array of numbers
/// would be read as bytes (a string as zeros), silently.
fn is_bytes(value: &Uint8Array, what: &str) -> JsResult<()> {
    if value.is_instance_of::<Uint8Array>() || is_foreign_uint8_array(value) {
        Ok(())
    } else {
        Err(Failure::invalid(format!("{what} must be a Uint8Array")))
    }
}

/// A `Uint8Array` of another realm fails `instanceof`, but its typed-array
/// tag still says what it is (`ArrayBuffer.isView` and
/// `Symbol.toStringTag`, which typed arrays carry across realms).
fn is_foreign_uint8_array(value: &JsValue) -> bool {
    js_sys::ArrayBuffer::is_view(value)
        && js_sys::Reflect::get(value, &js_sys::Symbol::to_string_tag())
            .ok()
            .and_then(|tag| tag.as_string())
            .is_some_and(|tag| tag == "Uint8Array")
}

/// Bytes from JavaScript: a `Uint8Array` (checked), copied.
pub(crate) fn bytes(value: &Uint8Array, what: &str) -> JsResult<Vec<u8>> {
    is_bytes(value, what)?;
    Ok(value.to_vec())
}

/// `InvalidArgument` unless a 32-byte argument is 32 bytes long.
fn check_32(len: usize, what: &str) -> JsResult<()> {
    if len == 32 { Ok(()) } else { Err(Failure::invalid(format!("{what} must be 32 bytes, got {len}"))) }
}

/// A 32-byte key or id from a `Uint8Array`, copied straight from
/// JavaScript's memory into a buffer erased when dropped (a `&[u8]`
/// argument would leave a copy in the WebAssembly heap, freed unerased).
pub(crate) fn key32(bytes: &Uint8Array, what: &str) -> JsResult<Zeroizing<[u8; 32]>> {
    is_bytes(bytes, what)?;
    check_32(usize::try_from(bytes.length()).unwrap_or(usize::MAX), what)?;
    let mut key = Zeroizing::new([0u8; 32]);
    bytes.copy_to(key.as_mut_slice());
    Ok(key)
}

/// Secret bytes from JavaScript (a plaintext state), copied straight into
/// a buffer erased when dropped.
pub(crate) fn secret_in(bytes: &Uint8Array, what: &str) -> JsResult<Zeroizing<Vec<u8>>> {
    is_bytes(bytes, what)?;
    let mut copy = Zeroizing::new(vec![0u8; usize::try_from(bytes.length()).unwrap_or(0)]);
    bytes.copy_to(copy.as_mut_slice());
    Ok(copy)
}

/// Secret bytes for JavaScript (a plaintext state, Burnout content, a
/// key), copied once, straight from the library's erasing buffer into a
/// JavaScript `Uint8Array`: no unerased copy is left in the WebAssembly
/// heap. (The JavaScript copy is the app's to handle.)
pub(crate) fn secret_out(bytes: &[u8]) -> Uint8Array {
    Uint8Array::from(bytes)
}

/// A peer's identity key from its 32 bytes (checked by the core).
pub(crate) fn identity(bytes: &[u8]) -> JsResult<sealpost::IdentityKey> {
    Ok(sealpost::IdentityKey::from_bytes(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost::{BurnoutError, SessionError, WireError};

    #[test]
    fn codes_name_the_innermost_variant() {
        let cases: [(sealpost::Error, &str); 5] = [
            (sealpost::Error::AuthenticationFailed, "AuthenticationFailed"),
            (sealpost::Error::DuplicateMessage, "DuplicateMessage"),
            (SessionError::PeerMismatch.into(), "PeerMismatch"),
            (BurnoutError::Expired { expired_at_ms: 5 }.into(), "Expired"),
            (WireError::TrailingBytes(3).into(), "Malformed"),
        ];
        for (error, code) in cases {
            assert_eq!(Failure::from(error).code(), code);
        }
        assert_eq!(Failure::from(sealpost::Error::LimitReached { what: "prekeys", max: 3 }).code(), "LimitReached");
    }

    #[test]
    fn times_must_be_whole_non_negative_safe_integers() {
        assert_eq!(millis(1_700_000_000_000.0, "now"), Ok(1_700_000_000_000));
        assert_eq!(millis(0.0, "now"), Ok(0));
        assert_eq!(millis(9_007_199_254_740_991.0, "now"), Ok(9_007_199_254_740_991));
        for bad in [-1.0, 0.5, f64::NAN, f64::INFINITY, 9_007_199_254_740_992.0] {
            assert_eq!(millis(bad, "now").map_err(|f| f.code().to_owned()), Err("InvalidArgument".to_owned()));
        }
        assert_eq!(to_number(u64::MAX), 9_007_199_254_740_991.0);
        assert_eq!(to_number(1_700_000_000_000), 1_700_000_000_000.0);
    }

    #[test]
    fn keys_must_be_32_bytes() {
        assert!(check_32(32, "key").is_ok());
        assert_eq!(check_32(31, "export key"), Err(Failure::invalid("export key must be 32 bytes, got 31")));
    }
}
