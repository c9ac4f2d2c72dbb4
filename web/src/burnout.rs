//! Burnout: self-destructing messages whose expiry is authenticated inside
//! the ciphertext and enforced when they are opened.
//!
//! * [`Envelope`]: sent-at time, optional expiry, burn-after-reading.
//! * `Session.encryptBurnout`, `Session.open`, `Account.open` and
//!   `Account.createInboundSessionAt` seal and open them.
//! * [`Opened`] is what an open returns: plain content, or a
//!   [`BurnoutMessage`] whose plaintext stays in the library until it is
//!   moved into a [`Vault`] or taken out once (expiry checked again).
//! * [`Vault`] enforces the envelope on every read.
//!
//! Opening an expired message throws `Expired`, and one whose envelope is
//! malformed `MalformedEnvelope`: both use up its key (the message was
//! authentic; the same bytes later throw `DuplicateMessage`). `ClockSkew`
//! changes nothing. `Session.decrypt` refuses Burnout content (`UnexpectedPayload`),
//! so nothing hands it out without the check.

use js_sys::Uint8Array;
use sealpost::IdentityKey;
use sealpost::burnout::VaultId;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;
use zeroize::Zeroizing;

use crate::account::Account;
use crate::error::{Failure, JsResult, count, identity, key32, millis, secret_out, to_number};
use crate::session::Session;
use crate::shared::Shared;

/// When a Burnout message was sent, when it expires, and whether it is
/// erased after its first read. Readable while `now < expiresAtMs`.
///
/// ```js
/// const envelope = Envelope.withTtl(Date.now(), 60_000, true); // one minute, then gone
/// const wire = toBob.encryptBurnout(new TextEncoder().encode("door code 4711"), envelope);
/// ```
#[wasm_bindgen]
#[derive(Clone, Copy)]
pub struct Envelope {
    inner: sealpost::burnout::Envelope,
}

#[wasm_bindgen]
impl Envelope {
    /// An envelope sent at `sentAtMs`, expiring at `expiresAtMs` if given
    /// (both milliseconds since the Unix epoch), erased after its first
    /// read if `burnAfterReading`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = sentAtMs)] sent_at_ms: f64,
        #[wasm_bindgen(js_name = expiresAtMs)] expires_at_ms: Option<f64>,
        #[wasm_bindgen(js_name = burnAfterReading)] burn_after_reading: Option<bool>,
    ) -> JsResult<Envelope> {
        let sent = millis(sent_at_ms, "sentAtMs")?;
        let inner = match expires_at_ms {
            Some(at) => sealpost::burnout::Envelope::expiring_at(sent, millis(at, "expiresAtMs")?),
            None => sealpost::burnout::Envelope::new(sent),
        };
        Ok(Self::from(if burn_after_reading.unwrap_or(false) { inner.burn_after_reading() } else { inner }))
    }

    /// An envelope that expires `ttlMs` after `sentAtMs`.
    #[wasm_bindgen(js_name = withTtl)]
    pub fn with_ttl(
        #[wasm_bindgen(js_name = sentAtMs)] sent_at_ms: f64,
        #[wasm_bindgen(js_name = ttlMs)] ttl_ms: f64,
        #[wasm_bindgen(js_name = burnAfterReading)] burn_after_reading: Option<bool>,
    ) -> JsResult<Envelope> {
        let inner = sealpost::burnout::Envelope::with_ttl(millis(sent_at_ms, "sentAtMs")?, millis(ttl_ms, "ttlMs")?);
        Ok(Self::from(if burn_after_reading.unwrap_or(false) { inner.burn_after_reading() } else { inner }))
    }

    /// When the sender sent it (ms since the Unix epoch).
    #[wasm_bindgen(getter, js_name = sentAtMs)]
    pub fn sent_at_ms(&self) -> f64 {
        to_number(self.inner.sent_at_ms())
    }

    /// When it expires (ms since the Unix epoch), or `undefined` if never.
    #[wasm_bindgen(getter, js_name = expiresAtMs)]
    pub fn expires_at_ms(&self) -> Option<f64> {
        self.inner.expires_at_ms().map(to_number)
    }

    /// Whether it is erased after its first read (in a `Vault`).
    #[wasm_bindgen(getter, js_name = burnAfterReading)]
    pub fn burn_after_reading(&self) -> bool {
        self.inner.is_burn_after_reading()
    }

    /// Whether it has expired at `nowMs`.
    #[wasm_bindgen(js_name = isExpired)]
    pub fn is_expired(&self, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<bool> {
        Ok(self.inner.is_expired(millis(now_ms, "nowMs")?))
    }
}

impl From<sealpost::burnout::Envelope> for Envelope {
    fn from(inner: sealpost::burnout::Envelope) -> Self {
        Self { inner }
    }
}

impl Envelope {
    pub(crate) fn core(&self) -> sealpost::burnout::Envelope {
        self.inner
    }
}

/// An opened Burnout message (or the sender's own copy of one it sent).
/// Its plaintext stays inside the library until it is moved into a
/// [`Vault`] or taken out once with `takePlaintext`; after either, those
/// calls throw `InvalidArgument`. The envelope, sender and length stay
/// readable.
#[wasm_bindgen]
pub struct BurnoutMessage {
    envelope: sealpost::burnout::Envelope,
    sender: IdentityKey,
    outgoing: bool,
    len: usize,
    /// `None` once used up.
    inner: Option<sealpost::burnout::BurnoutMessage>,
}

impl BurnoutMessage {
    pub(crate) fn wrap(message: sealpost::burnout::BurnoutMessage) -> Self {
        Self {
            envelope: *message.envelope(),
            sender: *message.sender(),
            outgoing: message.is_outgoing(),
            len: message.plaintext_len(),
            inner: Some(message),
        }
    }

    fn take(&mut self) -> JsResult<sealpost::burnout::BurnoutMessage> {
        self.inner.take().ok_or_else(Failure::consumed)
    }
}

#[wasm_bindgen]
impl BurnoutMessage {
    /// The sender's own copy of a message it sent, to keep in its vault
    /// under the same rule as the recipients' copies.
    pub fn outgoing(
        plaintext: &js_sys::Uint8Array,
        envelope: &Envelope,
        #[wasm_bindgen(js_name = ownIdentityKey)] own_identity_key: &js_sys::Uint8Array,
    ) -> JsResult<BurnoutMessage> {
        let plaintext = crate::error::secret_in(plaintext, "plaintext")?;
        let own_identity_key = &crate::error::bytes(own_identity_key, "ownIdentityKey")?;
        let own = identity(own_identity_key)?;
        Ok(Self::wrap(sealpost::burnout::BurnoutMessage::outgoing(&plaintext, envelope.core(), own)))
    }

    /// The authenticated envelope.
    #[wasm_bindgen(getter)]
    pub fn envelope(&self) -> Envelope {
        self.envelope.into()
    }

    /// The sender's 32-byte identity key (ours for an outgoing copy).
    #[wasm_bindgen(getter, js_name = senderIdentityKey)]
    pub fn sender_identity_key(&self) -> Vec<u8> {
        self.sender.to_bytes().to_vec()
    }

    /// Whether it is our own copy of a message we sent.
    #[wasm_bindgen(getter, js_name = isOutgoing)]
    pub fn is_outgoing(&self) -> bool {
        self.outgoing
    }

    /// The plaintext's length in bytes (readable after it is used up).
    #[wasm_bindgen(getter, js_name = plaintextLength)]
    pub fn plaintext_length(&self) -> u32 {
        count(self.len)
    }

    /// Whether the plaintext was taken out or moved into a vault.
    #[wasm_bindgen(getter, js_name = isConsumed)]
    pub fn is_consumed(&self) -> bool {
        self.inner.is_none()
    }

    /// Takes the plaintext out, once, if the envelope allows reading at
    /// `nowMs` (`Expired` otherwise, and the content is erased). Apps
    /// that honour burn-after-reading use a `Vault` instead.
    #[wasm_bindgen(js_name = takePlaintext)]
    pub fn take_plaintext(&mut self, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<Uint8Array> {
        let now_ms = millis(now_ms, "nowMs")?;
        Ok(secret_out(&self.take()?.into_plaintext(now_ms)?))
    }
}

/// What an open returned: plain content, or a Burnout message.
#[wasm_bindgen]
pub struct Opened {
    plaintext: Option<Zeroizing<Vec<u8>>>,
    burnout: Option<BurnoutMessage>,
}

impl From<sealpost::burnout::Opened> for Opened {
    fn from(opened: sealpost::burnout::Opened) -> Self {
        match opened {
            sealpost::burnout::Opened::Message(plaintext) => {
                Self { plaintext: Some(Zeroizing::new(plaintext)), burnout: None }
            }
            sealpost::burnout::Opened::Burnout(m) => Self { plaintext: None, burnout: Some(BurnoutMessage::wrap(m)) },
        }
    }
}

#[wasm_bindgen]
impl Opened {
    /// Whether it is a Burnout message (then `takeBurnout` hands it out).
    #[wasm_bindgen(getter, js_name = isBurnout)]
    pub fn is_burnout(&self) -> bool {
        self.plaintext.is_none()
    }

    /// The content of a plain message; `undefined` for a Burnout message.
    #[wasm_bindgen(getter)]
    pub fn plaintext(&self) -> Option<Uint8Array> {
        self.plaintext.as_deref().map(|p| secret_out(p))
    }

    /// The Burnout message, once (`undefined` for plain content or when
    /// already taken).
    #[wasm_bindgen(js_name = takeBurnout)]
    pub fn take_burnout(&mut self) -> Option<BurnoutMessage> {
        self.burnout.take()
    }
}

/// A first message that started a session and carried Burnout (or plain)
/// content: the session is kept even when the content was refused.
#[wasm_bindgen]
pub struct InboundOpened {
    session: Session,
    opened: Option<Opened>,
    refusal: Option<Failure>,
}

#[wasm_bindgen]
impl InboundOpened {
    /// The new session with the sender: keep it.
    #[wasm_bindgen(getter)]
    pub fn session(&self) -> Session {
        self.session.handle()
    }

    /// The content, once (`undefined` if refused or already taken).
    #[wasm_bindgen(js_name = takeOpened)]
    pub fn take_opened(&mut self) -> Option<Opened> {
        self.opened.take()
    }

    /// Why the content was refused (a `SealpostError` such as `Expired`),
    /// or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn refusal(&self) -> JsValue {
        self.refusal.clone().map_or(JsValue::UNDEFINED, JsValue::from)
    }
}

#[wasm_bindgen]
impl Session {
    /// Encrypts a message whose `envelope` travels inside the ciphertext
    /// and is enforced by the recipient when it opens it. Throws `Expired`
    /// for an envelope already expired at its own sent-at time (it could
    /// never be read).
    #[wasm_bindgen(js_name = encryptBurnout)]
    pub fn encrypt_burnout(&self, plaintext: &js_sys::Uint8Array, envelope: &Envelope) -> JsResult<Vec<u8>> {
        let plaintext = crate::error::secret_in(plaintext, "plaintext")?;
        self.with(|s| Ok(s.encrypt_burnout(&plaintext, &envelope.core(), &mut sealpost::default_rng())?))
    }

    /// Opens any message from the peer at `nowMs`: plain content, or a
    /// Burnout message (its expiry checked). `Expired` and
    /// `MalformedEnvelope` use the message's key up; every other error
    /// changes nothing.
    pub fn open(&self, message: &js_sys::Uint8Array, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<Opened> {
        let message = &crate::error::bytes(message, "message")?;
        let now_ms = millis(now_ms, "nowMs")?;
        Ok(self.with(|s| Ok(s.open(message, now_ms)?))?.into())
    }
}

#[wasm_bindgen]
impl Account {
    /// `Session.open` that also takes setup messages starting a new state
    /// (as `Account.decrypt` does).
    pub fn open(
        &self,
        session: &Session,
        message: &js_sys::Uint8Array,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<Opened> {
        let message = &crate::error::bytes(message, "message")?;
        let now_ms = millis(now_ms, "nowMs")?;
        Ok(self.with(|a| session.with(|s| Ok(a.open(s, message, now_ms)?)))?.into())
    }

    /// Accepts a first message that may carry Burnout content, at `nowMs`:
    /// the session always (once the message authenticated), the content
    /// unless its envelope refuses it (`refusal`).
    #[wasm_bindgen(js_name = createInboundSessionAt)]
    pub fn create_inbound_session_at(
        &self,
        message: &js_sys::Uint8Array,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<InboundOpened> {
        let message = &crate::error::bytes(message, "message")?;
        let now_ms = millis(now_ms, "nowMs")?;
        let (session, content) = self.with(|a| Ok(a.create_inbound_session_at(message, now_ms)?))?;
        let (opened, refusal) = match content {
            Ok(opened) => (Some(opened.into()), None),
            Err(e) => (None, Some(e.into())),
        };
        Ok(InboundOpened { session: Session::wrap(session), opened, refusal })
    }
}

/// Where opened Burnout messages live: every read checks the envelope,
/// burn-after-reading erases after the first read, and `purge` erases the
/// expired. Entry ids are decimal strings.
///
/// ```js
/// const vault = new Vault();
/// const id = vault.insert(opened.takeBurnout(), Date.now());
/// const text = vault.read(id, Date.now()); // erased now if burn-after-reading
/// ```
#[wasm_bindgen]
pub struct Vault {
    state: Shared<sealpost::burnout::Vault>,
}

fn vault_id(id: &str) -> JsResult<VaultId> {
    id.parse().map_err(|_| Failure::invalid(format!("{id:?} is not a vault entry id (a decimal number)")))
}

#[wasm_bindgen]
impl Vault {
    /// An empty vault.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Vault {
        Self { state: Shared::new(sealpost::burnout::Vault::new()) }
    }

    /// Restores a vault from `exportEncrypted` with the same key
    /// (`ExportCorrupted` otherwise). Entries that expired meanwhile are
    /// gone at the next read or purge.
    #[wasm_bindgen(js_name = importEncrypted)]
    pub fn import_encrypted(key: &Uint8Array, exported: &js_sys::Uint8Array) -> JsResult<Vault> {
        let exported = &crate::error::bytes(exported, "exported")?;
        let key = key32(key, "an export key")?;
        let vault: sealpost::burnout::Vault = sealpost::Persist::import_encrypted(&key, exported)?;
        Ok(Self { state: Shared::new(vault) })
    }

    /// Its entries sealed under a 32-byte key, without those expired at
    /// `nowMs`.
    #[wasm_bindgen(js_name = exportEncrypted)]
    pub fn export_encrypted(
        &self,
        key: &Uint8Array,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<Vec<u8>> {
        let key = key32(key, "an export key")?;
        let now_ms = millis(now_ms, "nowMs")?;
        self.state.with("vault", |v| Ok(v.export_encrypted_at(now_ms, &key, &mut sealpost::default_rng())))
    }

    /// Moves a message's plaintext into the vault and returns the entry id.
    /// The message is used up whatever the outcome: on `Expired` (already
    /// expired at `nowMs`), `TooLarge` or `LimitReached` its content is
    /// erased, not kept.
    pub fn insert(
        &self,
        message: &mut BurnoutMessage,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<String> {
        let now_ms = millis(now_ms, "nowMs")?;
        let core = message.take()?;
        self.state.with("vault", |v| Ok(v.insert(core, now_ms)?.to_string()))
    }

    /// Reads an entry at `nowMs`: `Expired` (and erased) past its expiry,
    /// erased after this read if burn-after-reading; an unknown or erased
    /// id throws a `Vault` error saying which.
    pub fn read(&self, id: &str, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<Uint8Array> {
        let id = vault_id(id)?;
        let now_ms = millis(now_ms, "nowMs")?;
        self.state.with("vault", |v| Ok(secret_out(&v.read(id, now_ms)?)))
    }

    /// Erases an entry; `false` if there was none.
    pub fn remove(&self, id: &str) -> JsResult<bool> {
        let id = vault_id(id)?;
        self.state.with("vault", |v| Ok(v.remove(id)))
    }

    /// Erases every entry expired at `nowMs`; returns how many.
    pub fn purge(&self, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<u32> {
        let now_ms = millis(now_ms, "nowMs")?;
        self.state.with("vault", |v| Ok(count(v.purge(now_ms))))
    }

    /// The earliest expiry among the entries (when to purge next), or
    /// `undefined`.
    #[wasm_bindgen(js_name = nextExpiry)]
    pub fn next_expiry(&self) -> JsResult<Option<f64>> {
        self.state.with("vault", |v| Ok(v.next_expiry().map(to_number)))
    }

    /// The ids of the live entries.
    pub fn ids(&self) -> JsResult<Vec<String>> {
        self.state.with("vault", |v| Ok(v.ids().map(|id| id.to_string()).collect()))
    }

    /// How many live entries it holds.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> JsResult<u32> {
        self.state.with("vault", |v| Ok(count(v.len())))
    }
}
