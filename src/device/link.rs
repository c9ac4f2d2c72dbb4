//! Device linking: a new device joins its user's existing one, over a
//! relay that can read and change nothing.
//!
//! ```text
//! new device N                                       existing device E
//! LinkRequest::new ── code (QR, shown on N's screen) ──▶ LinkCode::from_bytes
//!                                                       Linker::start
//! accept_offer     ◀──────────── offer (relay) ────────
//!   shows short string ───────── accept (relay) ───────▶ receive_accept
//!                                                         shows short string
//!                  (the user compares the two strings, confirms on both)
//! confirm          ───────── confirmation (relay) ─────▶ complete
//! finish           ◀──────────── transfer (relay) ─────   publishes the new list
//!   user key, device list, app data
//! ```
//!
//! * The code carries N's ephemeral X25519 key, a 16-byte secret, N's
//!   device identity and an expiry. It travels only through the camera, so
//!   the relay never has the secret: every key below depends on it (HKDF
//!   salt) and on the two ephemeral keys (X25519), and every message is
//!   sealed under them (ChaCha20-Poly1305), so the relay can neither read
//!   nor forge nor swap any of them.
//! * The offer tells N who is linking it (E's identity and the user key);
//!   the acceptance is signed by N's device identity key over the link's
//!   transcript (E links only a device that holds its key).
//! * N signs its membership of the user (what lets a list name it) only
//!   once its user confirmed the short string, and sends it in the
//!   confirmation: someone who photographed the code and raced the real
//!   device with an offer for their own user key gets an acceptance, but
//!   never a membership, so no list of theirs can name N.
//! * The short authentication string (8 digits, from the same keys) is
//!   what the user compares: someone who photographed the code and raced
//!   the real device gets a different string, and a string that does not
//!   match ends the link on that side with nothing signed, transferred or
//!   accepted.
//! * The code's expiry bounds when it can be answered (E's
//!   [`Linker::start`]) and accepted (N's [`LinkRequest::accept_offer`]):
//!   a photographed code is useless after it. The later steps are bound to
//!   the accepted offer's keys and take no clock.
//! * Neither side's state can be saved: a link lives in memory for its few
//!   minutes, so no backup or crash can replay a step. A step again (a
//!   replayed message) is refused, except that N can read E's one transfer
//!   again (the same bytes give the same result, so an app whose store
//!   failed retries).
//!
//! Formats (format version 1): `code = 0x01 | 0x51 | N's ephemeral (32) |
//! secret (16) | N's identity (32) | expiry (u64, ms)`; `offer = 0x01 | 0x52
//! | E's ephemeral (32) | seal(to_new, 0, E's identity (32) | user key
//! (32))`; `accept = 0x01 | 0x53 | seal(to_existing, 0, signature (64))`;
//! `confirm = 0x01 | 0x55 | seal(to_existing, 1, membership signature
//! (64))`; `transfer = 0x01 | 0x54 | seal(to_new, 1, user key seed (32) | device
//! list (u32 length, bytes) | app data (u32 length, bytes))`. `seal(k, n,
//! p)` is ChaCha20-Poly1305 under `k` with the 96-bit big-endian nonce `n`
//! and the message's first two bytes as associated data.

use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use x25519_dalek::PublicKey as X25519Public;
use zeroize::Zeroizing;

use crate::account::Account;
use crate::crypto::{self, TAG_LEN, label};
use crate::device::list::{DeviceList, DeviceMembership};
use crate::device::user::{UserKey, UserKeyPair};
use crate::error::{DeviceError, Error, Result, WireError};
use crate::identity::IdentityKey;
use crate::limits::{LINK_CODE_LIFETIME_MS, MAX_DEVICES, MAX_LINK_APP_DATA};
use crate::ratchet::RatchetKeyPair;
use crate::wire::MessageType;
use crate::wire::codec::{Reader, Writer, writer_for};

/// Bytes of the code's secret.
const SECRET_LEN: usize = 16;
/// Digits of the short authentication string.
const SHORT_STRING_DIGITS: usize = 8;
/// Largest encoded device list: header, user key, version, count, then
/// per device its key and membership signature, then the list signature.
const MAX_LIST_LEN: usize = 2 + 32 + 8 + 1 + (32 + 64) * MAX_DEVICES + 64;

/// The keys of one link, both sides.
struct LinkKeys {
    to_new: Zeroizing<[u8; 32]>,
    to_existing: Zeroizing<[u8; 32]>,
    short: ShortString,
    transcript: [u8; 32],
}

impl LinkKeys {
    fn derive(code: &[u8], secret: &[u8; SECRET_LEN], offer_ephemeral: &[u8; 32], dh: &[u8; 32]) -> Self {
        let transcript = crypto::sha256(&[label::LINK_TRANSCRIPT, code, offer_ephemeral]);
        let mut info = Writer::with_capacity(label::LINK_KEYS.len() + 32);
        info.bytes(label::LINK_KEYS).bytes(&transcript);
        let mut okm = Zeroizing::new([0u8; 96]);
        crypto::hkdf_sha256(secret, dh, info.as_slice(), okm.as_mut());
        let (mut to_new, mut to_existing) = (Zeroizing::new([0u8; 32]), Zeroizing::new([0u8; 32]));
        let (a, rest) = okm.split_at(32);
        let (b, c) = rest.split_at(32);
        to_new.copy_from_slice(a);
        to_existing.copy_from_slice(b);
        Self { to_new, to_existing, short: ShortString::from_key(c), transcript }
    }
}

/// Seals `plaintext` as a message of `kind`: `version | type | ciphertext | tag`.
fn seal(kind: MessageType, key: &[u8; 32], counter: u8, prefix: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut w = writer_for(kind, prefix.len() + plaintext.len() + TAG_LEN);
    w.bytes(prefix);
    let mut out = w.into_vec();
    let start = out.len();
    out.extend_from_slice(plaintext);
    let (head, body) = out.split_at_mut(start);
    let ad = head.get(..2).unwrap_or_default();
    let tag = crypto::seal_in_place(key, &nonce(counter), ad, body);
    out.extend_from_slice(&tag);
    out
}

/// Opens a sealed message's `body` (after its prefix) into a zeroizing
/// buffer; any failure is [`DeviceError::WrongLinkCode`].
fn open(header: &[u8], key: &[u8; 32], counter: u8, body: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let (ciphertext, tag) = crypto::split_tag(body)?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    crypto::open_in_place(key, &nonce(counter), header, &mut plaintext, &tag)
        .map_err(|_| DeviceError::WrongLinkCode)?;
    Ok(plaintext)
}

fn nonce(counter: u8) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[11] = counter;
    n
}

/// The statement the new device signs to accept an offer.
fn accept_statement(transcript: &[u8; 32], existing: &IdentityKey, user: &UserKey) -> Vec<u8> {
    let mut w = Writer::with_capacity(label::LINK_ACCEPT.len() + 96);
    w.bytes(label::LINK_ACCEPT).bytes(transcript).bytes(existing.as_bytes()).bytes(user.as_bytes());
    w.into_vec()
}

fn check_expiry(expires_at_ms: u64, now_ms: u64) -> Result<()> {
    if now_ms > expires_at_ms {
        return Err(DeviceError::LinkCodeExpired { expired_at_ms: expires_at_ms }.into());
    }
    Ok(())
}

/// The 8-digit short authentication string of a link, shown on both
/// devices (as `1234 5678`) for the user to compare.
///
/// The digits are a 40-bit value of the link's keys reduced modulo 10^8
/// (bias below 10^-4).
///
/// ```
/// # use sealpost::{Account, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
/// # let mut rng = sealpost::default_rng();
/// # let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
/// # let mut request = LinkRequest::new(&laptop, &mut rng, 0);
/// # let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, user.public(), &mut rng, 0)?;
/// # let accept = request.accept_offer(&offer, &laptop, 0)?;
/// let on_phone = linker.receive_accept(&accept)?;
/// let on_laptop = request.short_string().expect("offer accepted");
/// assert_eq!(on_phone, on_laptop);
/// assert_eq!(on_phone.to_string().len(), 9); // "1234 5678"
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShortString {
    digits: [u8; SHORT_STRING_DIGITS],
}

impl ShortString {
    fn from_key(key: &[u8]) -> Self {
        let mut value = key.iter().take(5).fold(0u64, |v, b| (v << 8) | u64::from(*b)) % 100_000_000;
        let mut digits = [b'0'; SHORT_STRING_DIGITS];
        for d in digits.iter_mut().rev() {
            // `value % 10` is below 10.
            *d = b'0' + u8::try_from(value % 10).unwrap_or(0);
            value /= 10;
        }
        Self { digits }
    }

    /// Whether `typed` (what the user entered or confirmed, spaces
    /// ignored) is this string. Constant time in the digits.
    ///
    /// ```
    /// # use sealpost::{Account, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// # let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// # let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, user.public(), &mut rng, 0)?;
    /// # let accept = request.accept_offer(&offer, &laptop, 0)?;
    /// let short = linker.receive_accept(&accept)?;
    /// let shown = short.to_string();
    /// assert!(short.matches(&shown) && short.matches(&shown.replace(' ', "")));
    /// assert!(!short.matches("") && !short.matches("12345678x"));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn matches(&self, typed: &str) -> bool {
        let mut digits = [0u8; SHORT_STRING_DIGITS];
        let mut count = 0usize;
        for b in typed.bytes().filter(|b| *b != b' ') {
            match digits.get_mut(count) {
                Some(slot) if b.is_ascii_digit() => *slot = b,
                _ => return false,
            }
            count += 1;
        }
        count == SHORT_STRING_DIGITS && bool::from(digits.ct_eq(&self.digits))
    }
}

impl fmt::Display for ShortString {
    /// Two groups of four digits: `1234 5678`.
    ///
    /// ```
    /// # use sealpost::{Account, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// # let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// # let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, user.public(), &mut rng, 0)?;
    /// # let accept = request.accept_offer(&offer, &laptop, 0)?;
    /// let text = linker.receive_accept(&accept)?.to_string();
    /// assert_eq!(text.as_bytes()[4], b' ');
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = self.digits.split_at(SHORT_STRING_DIGITS / 2);
        write!(f, "{} {}", String::from_utf8_lossy(a), String::from_utf8_lossy(b))
    }
}

impl fmt::Debug for ShortString {
    /// As `Display`: the string is shown on screen anyway.
    ///
    /// ```
    /// # use sealpost::{Account, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// # let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// # let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, user.public(), &mut rng, 0)?;
    /// # let accept = request.accept_offer(&offer, &laptop, 0)?;
    /// assert!(format!("{:?}", linker.receive_accept(&accept)?).starts_with("ShortString("));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShortString({self})")
    }
}

/// Where the new device's side of a link is.
enum RequestStage {
    /// The code is shown; no offer accepted yet.
    Waiting,
    /// An offer was accepted: waiting for the user's confirmation.
    Offered(Box<OfferedLink>),
    /// The user confirmed the short string: waiting for the transfer (which
    /// may be read more than once).
    Confirmed(Box<OfferedLink>),
    /// Aborted: a short string that did not match.
    Ended,
}

struct OfferedLink {
    keys: LinkKeys,
    existing: IdentityKey,
    user: UserKey,
}

/// The new device's side of a link: it makes the code to show, accepts
/// the existing device's offer, and receives what the existing device
/// transfers.
///
/// It cannot be cloned or saved (a crash means showing a new code), and
/// each step happens once: a replayed offer or confirmation is refused.
///
/// ```
/// use sealpost::{Account, device::{DeviceMembership, DeviceList, LinkCode, LinkRequest, Linker, UserKeyPair}};
/// let mut rng = sealpost::default_rng();
/// let now = 1_700_000_000_000;
/// // Alice's phone: her user key and a list with the phone on it.
/// let phone = Account::new(&mut rng, now);
/// let alice = UserKeyPair::generate(&mut rng);
/// let list = DeviceList::sign(&alice, 1, [DeviceMembership::sign(phone.identity_keypair(), alice.public())])?;
///
/// // The new laptop shows a QR code; the phone scans it.
/// let laptop = Account::new(&mut rng, now);
/// let mut request = LinkRequest::new(&laptop, &mut rng, now);
/// let code = LinkCode::from_bytes(&request.code())?;
/// let (mut linker, offer) = Linker::start(&code, &phone, alice.public(), &mut rng, now)?;
///
/// // Through the relay: offer to the laptop, acceptance back.
/// let accept = request.accept_offer(&offer, &laptop, now)?;
/// let on_phone = linker.receive_accept(&accept)?;
/// let on_laptop = request.short_string().expect("offer accepted");
///
/// // Alice sees the same 8 digits on both screens and confirms on both:
/// // the laptop's confirmation carries its membership of Alice's user.
/// let confirmation = request.confirm(&on_phone.to_string(), &laptop)?;
/// let done = linker.complete(&on_laptop.to_string(), &confirmation, &alice, &list, b"groups: design, ops")?;
/// let linked = request.finish(&done.transfer)?;
/// assert_eq!(linked.user.public(), alice.public());
/// assert!(linked.devices.contains(laptop.identity()) && linked.devices.version() == 2);
/// assert_eq!(&linked.app_data[..], b"groups: design, ops");
/// assert_eq!(linked.devices, done.devices); // the phone publishes it
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct LinkRequest {
    ephemeral: RatchetKeyPair,
    secret: Zeroizing<[u8; SECRET_LEN]>,
    device: IdentityKey,
    expires_at_ms: u64,
    code: Zeroizing<Vec<u8>>,
    stage: RequestStage,
}

impl LinkRequest {
    /// Starts linking the new device `device` (its fresh [`Account`]): a
    /// code valid for [`LINK_CODE_LIFETIME_MS`] from `now_ms`.
    ///
    /// ```
    /// use sealpost::{Account, device::LinkRequest};
    /// let mut rng = sealpost::default_rng();
    /// let laptop = Account::new(&mut rng, 0);
    /// let request = LinkRequest::new(&laptop, &mut rng, 0);
    /// assert_eq!(request.code().len(), 90);
    /// assert!(request.short_string().is_none()); // no offer yet
    /// ```
    pub fn new<R: CryptoRng + ?Sized>(device: &Account, rng: &mut R, now_ms: u64) -> Self {
        let ephemeral = RatchetKeyPair::generate(rng);
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        rng.fill_bytes(secret.as_mut());
        let expires_at_ms = now_ms.saturating_add(LINK_CODE_LIFETIME_MS);
        let device = *device.identity();
        let mut w = writer_for(MessageType::LinkCode, 32 + SECRET_LEN + 32 + 8);
        w.bytes(&ephemeral.public).bytes(secret.as_ref()).bytes(device.as_bytes()).u64(expires_at_ms);
        let code = Zeroizing::new(w.into_vec());
        Self { ephemeral, secret, device, expires_at_ms, code, stage: RequestStage::Waiting }
    }

    /// The code to show as a QR code (90 bytes). It holds a secret: show it
    /// on the screen only, never send it through the relay.
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest}};
    /// let mut rng = sealpost::default_rng();
    /// let laptop = Account::new(&mut rng, 0);
    /// let request = LinkRequest::new(&laptop, &mut rng, 0);
    /// assert_eq!(LinkCode::from_bytes(&request.code())?.device(), laptop.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn code(&self) -> Zeroizing<Vec<u8>> {
        self.code.clone()
    }

    /// When the code expires (ms since the Unix epoch).
    ///
    /// ```
    /// use sealpost::{Account, device::LinkRequest, limits::LINK_CODE_LIFETIME_MS};
    /// let mut rng = sealpost::default_rng();
    /// let request = LinkRequest::new(&Account::new(&mut rng, 0), &mut rng, 1000);
    /// assert_eq!(request.expires_at_ms(), 1000 + LINK_CODE_LIFETIME_MS);
    /// ```
    pub fn expires_at_ms(&self) -> u64 {
        self.expires_at_ms
    }

    /// Accepts the existing device's `offer` (which must be for this code)
    /// and returns the acceptance to send back, signed by `device` (the
    /// account the code was made for). The short string to show is then
    /// [`short_string`](Self::short_string).
    ///
    /// Refused, with nothing changed: an offer for another code, forged or
    /// corrupted ([`DeviceError::WrongLinkCode`]); an expired code
    /// ([`DeviceError::LinkCodeExpired`]); a second offer after one was
    /// accepted ([`DeviceError::LinkState`]).
    ///
    /// ```
    /// use sealpost::{Account, DeviceError, Error, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// let other_code = LinkRequest::new(&laptop, &mut rng, 0).code(); // a stale QR code
    /// let (_, wrong) = Linker::start(&LinkCode::from_bytes(&other_code)?, &phone, user.public(), &mut rng, 0)?;
    /// assert_eq!(request.accept_offer(&wrong, &laptop, 0), Err(Error::Device(DeviceError::WrongLinkCode)));
    /// let (_, right) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, user.public(), &mut rng, 0)?;
    /// request.accept_offer(&right, &laptop, 0)?; // still works
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn accept_offer(&mut self, offer: &[u8], device: &Account, now_ms: u64) -> Result<Vec<u8>> {
        if !matches!(self.stage, RequestStage::Waiting) {
            return Err(DeviceError::LinkState("an offer was already accepted for this code").into());
        }
        if device.identity() != &self.device {
            return Err(DeviceError::LinkState("the account is not the one this code was made for").into());
        }
        check_expiry(self.expires_at_ms, now_ms)?;
        let mut r = Reader::new(offer);
        r.header(MessageType::LinkOffer)?;
        let ephemeral = r.array::<32>()?;
        let body = r.rest();
        if body.len() != 64 + TAG_LEN {
            return Err(WireError::InvalidField("link offer length").into());
        }
        let dh = crypto::dh(&self.ephemeral.secret, &X25519Public::from(ephemeral))
            .map_err(|_| DeviceError::WrongLinkCode)?;
        let keys = LinkKeys::derive(&self.code, &self.secret, &ephemeral, &dh);
        let plaintext = open(offer.get(..2).unwrap_or_default(), &keys.to_new, 0, body)?;
        let (existing, user) = plaintext.split_at(32);
        let existing = IdentityKey::from_bytes(existing)?;
        let user = UserKey::from_bytes(user)?;
        let signature = device.identity_keypair().sign_raw(&accept_statement(&keys.transcript, &existing, &user));
        let accept = seal(MessageType::LinkAccept, &keys.to_existing, 0, &[], &signature);
        self.stage = RequestStage::Offered(Box::new(OfferedLink { keys, existing, user }));
        Ok(accept)
    }

    /// The short string to show, once an offer was accepted.
    ///
    /// ```
    /// use sealpost::{Account, device::LinkRequest};
    /// let mut rng = sealpost::default_rng();
    /// let laptop = Account::new(&mut rng, 0);
    /// assert!(LinkRequest::new(&laptop, &mut rng, 0).short_string().is_none());
    /// ```
    pub fn short_string(&self) -> Option<ShortString> {
        match &self.stage {
            RequestStage::Offered(link) | RequestStage::Confirmed(link) => Some(link.keys.short),
            _ => None,
        }
    }

    /// The existing device's identity and the user key its offer named,
    /// once an offer was accepted (to show "linking to Alice's phone").
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// let (_, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, user.public(), &mut rng, 0)?;
    /// request.accept_offer(&offer, &laptop, 0)?;
    /// assert_eq!(request.offered_by(), Some((phone.identity(), user.public())));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn offered_by(&self) -> Option<(&IdentityKey, &UserKey)> {
        match &self.stage {
            RequestStage::Offered(link) | RequestStage::Confirmed(link) => Some((&link.existing, &link.user)),
            _ => None,
        }
    }

    /// Confirms the link once the user compared the short strings:
    /// `confirmed` is what the user **typed** from the existing device's
    /// screen. Do not offer a "they match" button here: if someone who
    /// photographed the code raced the real device, the real device shows
    /// no string at all, and only typing its digits (which do not exist)
    /// stops the user from confirming the attacker's link. (On the existing
    /// device a button is fine: it links only the code's device.) Returns
    /// the confirmation to send to the existing device: it carries this
    /// device's membership of the offer's user, signed by `device` (the
    /// account the code was made for), without which no list can name this
    /// device. Only a confirmed link gets one.
    ///
    /// * A `confirmed` that is not this link's short string ends the link
    ///   ([`DeviceError::ShortStringMismatch`]): nothing is signed, show a
    ///   new code.
    /// * Before an offer was accepted, after the link ended, a second time,
    ///   or with another account: [`DeviceError::LinkState`], nothing
    ///   changed.
    ///
    /// ```
    /// use sealpost::{Account, DeviceError, Error, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, user.public(), &mut rng, 0)?;
    /// let on_phone = linker.receive_accept(&request.accept_offer(&offer, &laptop, 0)?)?;
    /// // The user typed other digits: the link is over, nothing signed.
    /// let wrong = if on_phone.matches("0000 0000") { "1111 1111" } else { "0000 0000" };
    /// assert_eq!(request.confirm(wrong, &laptop), Err(Error::Device(DeviceError::ShortStringMismatch)));
    /// assert!(request.confirm(&on_phone.to_string(), &laptop).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn confirm(&mut self, confirmed: &str, device: &Account) -> Result<Vec<u8>> {
        let RequestStage::Offered(link) = &self.stage else {
            return Err(DeviceError::LinkState("no offer accepted, already confirmed, or the link is over").into());
        };
        if device.identity() != &self.device {
            return Err(DeviceError::LinkState("the account is not the one this code was made for").into());
        }
        if !link.keys.short.matches(confirmed) {
            self.stage = RequestStage::Ended;
            return Err(DeviceError::ShortStringMismatch.into());
        }
        let membership = DeviceMembership::sign(device.identity_keypair(), &link.user);
        let confirmation = seal(MessageType::LinkConfirm, &link.keys.to_existing, 1, &[], membership.signature());
        let stage = core::mem::replace(&mut self.stage, RequestStage::Ended);
        if let RequestStage::Offered(link) = stage {
            self.stage = RequestStage::Confirmed(link);
        }
        Ok(confirmation)
    }

    /// Receives the existing device's transfer, once this side was
    /// confirmed ([`confirm`](Self::confirm)): the user key, the user's
    /// new device list (with this device on it) and the app data.
    ///
    /// * A transfer for another link, forged or corrupted, is
    ///   [`DeviceError::WrongLinkCode`] with nothing changed.
    /// * A transfer whose user key is not the offer's
    ///   ([`DeviceError::UserKeyMismatch`]), or whose device list does not
    ///   hold this device and the existing one ([`DeviceError::NotListed`]),
    ///   is refused too.
    /// * Before the confirmation, or after a mismatch ended the link:
    ///   [`DeviceError::LinkState`].
    ///
    /// The request stays as it is: the same transfer read again gives the
    /// same result (so an app whose store failed to commit retries). Drop
    /// the request once what it gave is stored.
    ///
    /// ```
    /// use sealpost::{Account, DeviceError, Error, device::{DeviceMembership, DeviceList, LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, alice) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let list = DeviceList::sign(&alice, 1, [DeviceMembership::sign(phone.identity_keypair(), alice.public())])?;
    /// let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, alice.public(), &mut rng, 0)?;
    /// let shown = linker.receive_accept(&request.accept_offer(&offer, &laptop, 0)?)?.to_string();
    /// let confirmation = request.confirm(&shown, &laptop)?;
    /// let done = linker.complete(&shown, &confirmation, &alice, &list, &[])?;
    /// let mut corrupted = done.transfer.clone();
    /// corrupted[10] ^= 1;
    /// assert_eq!(request.finish(&corrupted).err(), Some(Error::Device(DeviceError::WrongLinkCode)));
    /// let linked = request.finish(&done.transfer)?;
    /// assert_eq!(linked.devices, done.devices);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn finish(&self, transfer: &[u8]) -> Result<Linked> {
        let RequestStage::Confirmed(link) = &self.stage else {
            return Err(DeviceError::LinkState("the link is not confirmed on this device, or it is over").into());
        };
        read_transfer(link, &self.device, transfer)
    }
}

fn read_transfer(link: &OfferedLink, device: &IdentityKey, transfer: &[u8]) -> Result<Linked> {
    let mut r = Reader::new(transfer);
    r.header(MessageType::LinkTransfer)?;
    let plaintext = open(transfer.get(..2).unwrap_or_default(), &link.keys.to_new, 1, r.rest())?;
    let mut r = Reader::new(&plaintext);
    let user = UserKeyPair::from_seed(&Zeroizing::new(r.array::<32>()?));
    let devices = DeviceList::from_bytes(r.var_bytes("device list", MAX_LIST_LEN)?)?;
    let app_data = Zeroizing::new(r.var_bytes("link app data", MAX_LINK_APP_DATA)?.to_vec());
    r.finish()?;
    if user.public() != &link.user {
        return Err(DeviceError::UserKeyMismatch.into());
    }
    devices.check_user(&link.user)?;
    if !devices.contains(device) || !devices.contains(&link.existing) {
        return Err(DeviceError::NotListed.into());
    }
    Ok(Linked { user, devices, app_data })
}

impl fmt::Debug for LinkRequest {
    /// The device, the expiry and the stage; no secret.
    ///
    /// ```
    /// use sealpost::{Account, device::LinkRequest};
    /// let mut rng = sealpost::default_rng();
    /// let request = LinkRequest::new(&Account::new(&mut rng, 0), &mut rng, 0);
    /// assert!(format!("{request:?}").contains("waiting"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            RequestStage::Waiting => "waiting for an offer",
            RequestStage::Offered(_) => "offer accepted",
            RequestStage::Confirmed(_) => "confirmed, waiting for the transfer",
            RequestStage::Ended => "ended",
        };
        f.debug_struct("LinkRequest")
            .field("device", &self.device)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}

/// What the new device gets from a completed link
/// ([`LinkRequest::finish`]).
#[non_exhaustive]
pub struct Linked {
    /// The user key: store it with the account, in the app's encrypted
    /// storage.
    pub user: UserKeyPair,
    /// The user's new device list, with this device on it (already
    /// published by the existing device).
    pub devices: DeviceList,
    /// What the app on the existing device passed along (group
    /// memberships, contacts, settings).
    pub app_data: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Linked {
    /// The user key's public half and the list; not the app data.
    ///
    /// ```
    /// # use sealpost::{Account, device::{DeviceMembership, DeviceList, LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (phone, laptop, alice) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// # let list = DeviceList::sign(&alice, 1, [DeviceMembership::sign(phone.identity_keypair(), alice.public())])?;
    /// # let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// # let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, alice.public(), &mut rng, 0)?;
    /// # let shown = linker.receive_accept(&request.accept_offer(&offer, &laptop, 0)?)?.to_string();
    /// # let confirmation = request.confirm(&shown, &laptop)?;
    /// # let done = linker.complete(&shown, &confirmation, &alice, &list, b"secret settings")?;
    /// let linked = request.finish(&done.transfer)?;
    /// assert!(!format!("{linked:?}").contains("secret"));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Linked")
            .field("user", &self.user)
            .field("devices", &self.devices)
            .field("app_data_len", &self.app_data.len())
            .finish()
    }
}

/// A code scanned from the new device's screen, parsed.
///
/// ```
/// use sealpost::{Account, device::{LinkCode, LinkRequest}};
/// let mut rng = sealpost::default_rng();
/// let laptop = Account::new(&mut rng, 0);
/// let request = LinkRequest::new(&laptop, &mut rng, 0);
/// let code = LinkCode::from_bytes(&request.code())?;
/// assert_eq!((code.device(), code.expires_at_ms()), (laptop.identity(), request.expires_at_ms()));
/// assert!(LinkCode::from_bytes(b"https://example.com").is_err());
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct LinkCode {
    ephemeral: [u8; 32],
    secret: Zeroizing<[u8; SECRET_LEN]>,
    device: IdentityKey,
    expires_at_ms: u64,
    bytes: Zeroizing<Vec<u8>>,
}

impl LinkCode {
    /// Parses a scanned code (canonical: exactly 90 bytes).
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest}};
    /// let mut rng = sealpost::default_rng();
    /// let mut code = LinkRequest::new(&Account::new(&mut rng, 0), &mut rng, 0).code();
    /// code.push(0);
    /// assert!(LinkCode::from_bytes(&code).is_err()); // trailing byte
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        r.header(MessageType::LinkCode)?;
        let ephemeral = r.array::<32>()?;
        let secret = Zeroizing::new(r.array::<SECRET_LEN>()?);
        let device = IdentityKey::from_bytes(r.take(32)?)?;
        let expires_at_ms = r.u64()?;
        r.finish()?;
        Ok(Self { ephemeral, secret, device, expires_at_ms, bytes: Zeroizing::new(bytes.to_vec()) })
    }

    /// The new device's identity key (the one the link adds to the list).
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest}};
    /// let mut rng = sealpost::default_rng();
    /// let laptop = Account::new(&mut rng, 0);
    /// let code = LinkCode::from_bytes(&LinkRequest::new(&laptop, &mut rng, 0).code())?;
    /// assert_eq!(code.device(), laptop.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn device(&self) -> &IdentityKey {
        &self.device
    }

    /// When the code expires (ms since the Unix epoch).
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest}, limits::LINK_CODE_LIFETIME_MS};
    /// let mut rng = sealpost::default_rng();
    /// let code = LinkCode::from_bytes(&LinkRequest::new(&Account::new(&mut rng, 0), &mut rng, 5).code())?;
    /// assert_eq!(code.expires_at_ms(), 5 + LINK_CODE_LIFETIME_MS);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn expires_at_ms(&self) -> u64 {
        self.expires_at_ms
    }
}

impl fmt::Debug for LinkCode {
    /// The device and the expiry; not the secret.
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest}};
    /// let mut rng = sealpost::default_rng();
    /// let code = LinkCode::from_bytes(&LinkRequest::new(&Account::new(&mut rng, 0), &mut rng, 0).code())?;
    /// assert!(format!("{code:?}").starts_with("LinkCode"));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkCode")
            .field("device", &self.device)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// Where the existing device's side of a link is.
enum LinkerStage {
    Offered,
    Accepted,
    /// Completed: the same completion is handed out again on request (an
    /// app whose store failed to commit retries).
    Completed(Box<LinkCompletion>),
    /// Aborted: a short string that did not match.
    Ended,
}

/// The existing device's side of a link: it answers a scanned code,
/// checks the new device's acceptance, and — once the user confirmed the
/// short string — signs the new device list and transfers the user key.
///
/// Like [`LinkRequest`], it cannot be cloned or saved, and each step
/// happens once (a completed link hands out its one completion again). See
/// [`LinkRequest`] for the whole flow.
pub struct Linker {
    keys: LinkKeys,
    new_device: IdentityKey,
    existing: IdentityKey,
    user: UserKey,
    stage: LinkerStage,
}

impl Linker {
    /// Answers `code` (scanned from the new device) on behalf of the
    /// existing device `account` and the user `user`: returns the linker
    /// and the offer to send to the new device through the relay.
    ///
    /// Refused: an expired code ([`DeviceError::LinkCodeExpired`]), a code
    /// showing this very device ([`DeviceError::LinkSelf`]).
    ///
    /// ```
    /// use sealpost::{Account, DeviceError, Error, device::{LinkCode, LinkRequest, Linker, UserKeyPair}, limits::LINK_CODE_LIFETIME_MS};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let code = LinkCode::from_bytes(&LinkRequest::new(&laptop, &mut rng, 0).code())?;
    /// let late = Linker::start(&code, &phone, user.public(), &mut rng, LINK_CODE_LIFETIME_MS + 1);
    /// assert!(matches!(late, Err(Error::Device(DeviceError::LinkCodeExpired { .. }))));
    /// let (_, offer) = Linker::start(&code, &phone, user.public(), &mut rng, 0)?;
    /// assert_eq!(offer.len(), 2 + 32 + 64 + 16);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn start<R: CryptoRng + ?Sized>(
        code: &LinkCode,
        account: &Account,
        user: &UserKey,
        rng: &mut R,
        now_ms: u64,
    ) -> Result<(Self, Vec<u8>)> {
        check_expiry(code.expires_at_ms, now_ms)?;
        if code.device == *account.identity() {
            return Err(DeviceError::LinkSelf.into());
        }
        let ephemeral = RatchetKeyPair::generate(rng);
        let dh = crypto::dh(&ephemeral.secret, &X25519Public::from(code.ephemeral))?;
        let keys = LinkKeys::derive(&code.bytes, &code.secret, &ephemeral.public, &dh);
        let mut who = Zeroizing::new([0u8; 64]);
        let (a, b) = who.split_at_mut(32);
        a.copy_from_slice(account.identity().as_bytes());
        b.copy_from_slice(user.as_bytes());
        let offer = seal(MessageType::LinkOffer, &keys.to_new, 0, &ephemeral.public, who.as_ref());
        let linker = Self {
            keys,
            new_device: code.device,
            existing: *account.identity(),
            user: *user,
            stage: LinkerStage::Offered,
        };
        Ok((linker, offer))
    }

    /// Checks the new device's acceptance (sealed under this link's keys
    /// and signed by the code's device key) and returns the short string
    /// to show.
    ///
    /// Refused, with nothing changed: an acceptance of another link, forged
    /// or corrupted ([`DeviceError::WrongLinkCode`]), one not signed by the
    /// code's device ([`Error::InvalidSignature`]), and any acceptance
    /// after the first ([`DeviceError::LinkState`]).
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, user.public(), &mut rng, 0)?;
    /// let mut accept = request.accept_offer(&offer, &laptop, 0)?;
    /// accept[5] ^= 1;
    /// assert!(linker.receive_accept(&accept).is_err());
    /// accept[5] ^= 1;
    /// assert_eq!(Some(linker.receive_accept(&accept)?), request.short_string());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn receive_accept(&mut self, accept: &[u8]) -> Result<ShortString> {
        if !matches!(self.stage, LinkerStage::Offered) {
            return Err(DeviceError::LinkState("the acceptance was already received, or the link is over").into());
        }
        let mut r = Reader::new(accept);
        r.header(MessageType::LinkAccept)?;
        let plaintext = open(accept.get(..2).unwrap_or_default(), &self.keys.to_existing, 0, r.rest())?;
        let signature: [u8; 64] =
            plaintext.as_slice().try_into().map_err(|_| Error::from(WireError::InvalidField("link acceptance")))?;
        let statement = accept_statement(&self.keys.transcript, &self.existing, &self.user);
        self.new_device.verify_raw(&statement, &signature, "device link acceptance")?;
        self.stage = LinkerStage::Accepted;
        Ok(self.keys.short)
    }

    /// The new device's identity key (the code's).
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let code = LinkCode::from_bytes(&LinkRequest::new(&laptop, &mut rng, 0).code())?;
    /// let (linker, _) = Linker::start(&code, &phone, user.public(), &mut rng, 0)?;
    /// assert_eq!(linker.new_device(), laptop.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn new_device(&self) -> &IdentityKey {
        &self.new_device
    }

    /// Completes the link once the user confirmed the short string on both
    /// devices: `confirmed` is what the user typed from the new device's
    /// screen (or the string shown here, once the user said they match),
    /// and `confirmation` the new device's
    /// ([`LinkRequest::confirm`]), which carries its membership. Signs the
    /// next version of `devices` (the user's current list, signed by
    /// `user`) with the new device added and seals the transfer: the user
    /// key, that list, and `app_data` (at most [`MAX_LINK_APP_DATA`]).
    ///
    /// * A `confirmed` that is not this link's short string ends the link
    ///   ([`DeviceError::ShortStringMismatch`]): no list is signed, nothing
    ///   is transferred.
    /// * A `confirmation` of another link, forged or corrupted
    ///   ([`DeviceError::WrongLinkCode`]), or whose membership does not
    ///   verify ([`Error::InvalidSignature`]): refused, nothing changed.
    /// * Called before the acceptance, or after a mismatch ended the link:
    ///   [`DeviceError::LinkState`]. Called again after it completed (with
    ///   the right string), it returns the same completion: no second list
    ///   is signed, so an app whose store failed to commit retries.
    /// * A `user` or list of another user key than the offer named:
    ///   [`DeviceError::UserKeyMismatch`]; a device already listed:
    ///   [`DeviceError::AlreadyListed`]; these change nothing.
    ///
    /// The app publishes [`LinkCompletion::devices`] to its directory and
    /// sends [`LinkCompletion::transfer`] to the new device.
    ///
    /// ```
    /// use sealpost::{Account, DeviceError, Error, device::{DeviceMembership, DeviceList, LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, alice) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let list = DeviceList::sign(&alice, 1, [DeviceMembership::sign(phone.identity_keypair(), alice.public())])?;
    /// let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, alice.public(), &mut rng, 0)?;
    /// let shown = linker.receive_accept(&request.accept_offer(&offer, &laptop, 0)?)?;
    /// let confirmation = request.confirm(&shown.to_string(), &laptop)?;
    /// // A corrupted confirmation changes nothing.
    /// let mut corrupted = confirmation.clone();
    /// corrupted[4] ^= 1;
    /// assert_eq!(linker.complete(&shown.to_string(), &corrupted, &alice, &list, &[]).err(), Some(Error::Device(DeviceError::WrongLinkCode)));
    /// // The user typed other digits: the link is over, nothing signed.
    /// let wrong = if shown.matches("0000 0000") { "1111 1111" } else { "0000 0000" };
    /// assert_eq!(linker.complete(wrong, &confirmation, &alice, &list, &[]).err(), Some(Error::Device(DeviceError::ShortStringMismatch)));
    /// assert!(linker.complete(&shown.to_string(), &confirmation, &alice, &list, &[]).is_err());
    /// # let mut request = LinkRequest::new(&laptop, &mut rng, 0);
    /// # let (mut linker, offer) = Linker::start(&LinkCode::from_bytes(&request.code())?, &phone, alice.public(), &mut rng, 0)?;
    /// # let shown = linker.receive_accept(&request.accept_offer(&offer, &laptop, 0)?)?.to_string();
    /// # let confirmation = request.confirm(&shown, &laptop)?;
    /// // Completed once, the same completion again (a retry).
    /// let done = linker.complete(&shown, &confirmation, &alice, &list, &[])?;
    /// let again = linker.complete(&shown, &confirmation, &alice, &list, &[])?;
    /// assert_eq!((again.devices, again.transfer), (done.devices, done.transfer));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn complete(
        &mut self,
        confirmed: &str,
        confirmation: &[u8],
        user: &UserKeyPair,
        devices: &DeviceList,
        app_data: &[u8],
    ) -> Result<LinkCompletion> {
        match &self.stage {
            LinkerStage::Accepted => {}
            LinkerStage::Offered => return Err(DeviceError::LinkState("the new device has not accepted yet").into()),
            LinkerStage::Completed(done) if self.keys.short.matches(confirmed) => return Ok((**done).clone()),
            LinkerStage::Completed(_) | LinkerStage::Ended => {
                return Err(DeviceError::LinkState("the link is over").into());
            }
        }
        if !self.keys.short.matches(confirmed) {
            self.stage = LinkerStage::Ended;
            return Err(DeviceError::ShortStringMismatch.into());
        }
        if user.public() != &self.user {
            return Err(DeviceError::UserKeyMismatch.into());
        }
        if app_data.len() > MAX_LINK_APP_DATA {
            return Err(Error::TooLarge { what: "link app data", len: app_data.len(), max: MAX_LINK_APP_DATA });
        }
        if !devices.contains(&self.existing) {
            return Err(DeviceError::NotListed.into());
        }
        let membership = self.read_confirmation(confirmation)?;
        let next = devices.with_device(user, membership)?;
        let list = next.to_bytes();
        let mut w = Writer::with_capacity(32 + 4 + list.len() + 4 + app_data.len());
        w.bytes(user.to_seed().as_ref()).var_bytes(&list).var_bytes(app_data);
        let plaintext = Zeroizing::new(w.into_vec());
        let transfer = seal(MessageType::LinkTransfer, &self.keys.to_new, 1, &[], &plaintext);
        let done = LinkCompletion { devices: next, transfer };
        self.stage = LinkerStage::Completed(Box::new(done.clone()));
        Ok(done)
    }

    /// Opens the new device's confirmation: its membership of the user.
    fn read_confirmation(&self, confirmation: &[u8]) -> Result<DeviceMembership> {
        let mut r = Reader::new(confirmation);
        r.header(MessageType::LinkConfirm)?;
        let plaintext = open(confirmation.get(..2).unwrap_or_default(), &self.keys.to_existing, 1, r.rest())?;
        let signature: [u8; 64] =
            plaintext.as_slice().try_into().map_err(|_| Error::from(WireError::InvalidField("link confirmation")))?;
        DeviceMembership::from_parts(self.new_device, self.user, signature)
    }
}

impl fmt::Debug for Linker {
    /// The new device and the stage; no key.
    ///
    /// ```
    /// use sealpost::{Account, device::{LinkCode, LinkRequest, Linker, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, laptop, user) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let code = LinkCode::from_bytes(&LinkRequest::new(&laptop, &mut rng, 0).code())?;
    /// let (linker, _) = Linker::start(&code, &phone, user.public(), &mut rng, 0)?;
    /// assert!(format!("{linker:?}").contains("offer sent"));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            LinkerStage::Offered => "offer sent",
            LinkerStage::Accepted => "accepted, waiting for the user's confirmation",
            LinkerStage::Completed(_) => "completed",
            LinkerStage::Ended => "ended",
        };
        f.debug_struct("Linker")
            .field("new_device", &self.new_device)
            .field("user", &self.user)
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}

/// What the existing device gets from [`Linker::complete`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LinkCompletion {
    /// The user's next device list, with the new device: publish it.
    pub devices: DeviceList,
    /// The sealed transfer: send it to the new device (any relay).
    pub transfer: Vec<u8>,
}
