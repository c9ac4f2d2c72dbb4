//! The local device: identity, prekeys, starting and accepting sessions.

use js_sys::Uint8Array;
use sealpost::IdentityKey;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{JsResult, count, identity, millis};
use crate::persist::persist_exports;
use crate::session::Session;
use crate::shared::Shared;

/// A device's long-term state: its identity key pair and prekeys.
///
/// ```js
/// const alice = new Account(Date.now());
/// const bob = new Account(Date.now());
/// bob.generateOneTimePrekeys(10);
/// const toBob = alice.createOutboundSession(bob.prekeyBundle());
/// const first = toBob.encrypt(new TextEncoder().encode("hi Bob"));
/// const { session: toAlice, plaintext } = bob.createInboundSession(first);
/// ```
#[wasm_bindgen]
pub struct Account {
    /// Never changes, so it is readable without borrowing the state.
    identity: IdentityKey,
    pub(crate) state: Shared<sealpost::Account>,
}

persist_exports!(Account, "account");

impl Account {
    fn wrap(account: sealpost::Account) -> Self {
        Self { identity: *account.identity(), state: Shared::new(account) }
    }

    /// Borrows this account for a call.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut sealpost::Account) -> JsResult<R>) -> JsResult<R> {
        self.state.with("account", f)
    }
}

/// A session accepted from a peer's first message, and that message's
/// plaintext.
#[wasm_bindgen]
pub struct InboundSession {
    session: Session,
    plaintext: zeroize::Zeroizing<Vec<u8>>,
}

#[wasm_bindgen]
impl InboundSession {
    /// The new session with the sender: keep it (and save it).
    #[wasm_bindgen(getter)]
    pub fn session(&self) -> Session {
        self.session.handle()
    }

    /// The plaintext of the message that started it.
    #[wasm_bindgen(getter)]
    pub fn plaintext(&self) -> Uint8Array {
        crate::error::secret_out(&self.plaintext)
    }
}

#[wasm_bindgen]
impl Account {
    /// A new account with a fresh identity (randomness from Web Crypto) and
    /// a first signed prekey created at `nowMs` (milliseconds since the
    /// Unix epoch, such as `Date.now()`).
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<Account> {
        let now_ms = millis(now_ms, "nowMs")?;
        crate::error::randomness()?;
        Ok(Self::wrap(sealpost::Account::new(&mut sealpost::default_rng(), now_ms)))
    }

    /// Our 32-byte public identity key: what peers pin and compare.
    #[wasm_bindgen(getter, js_name = identityKey)]
    pub fn identity_key(&self) -> Vec<u8> {
        self.identity.to_bytes().to_vec()
    }

    /// The 60-digit safety number (12 groups of 5, space separated) of this
    /// account and a peer's identity key; both sides see the same.
    #[wasm_bindgen(js_name = safetyNumber)]
    pub fn safety_number(
        &self,
        #[wasm_bindgen(js_name = peerIdentityKey)] peer_identity_key: &js_sys::Uint8Array,
    ) -> JsResult<String> {
        let peer = identity(&crate::error::bytes(peer_identity_key, "peerIdentityKey")?)?;
        Ok(sealpost::SafetyNumber::new(&self.identity, &peer).to_string())
    }

    /// Adds `count` one-time prekeys and returns their ids. Throws
    /// `LimitReached` past the store's capacity (nothing is added then).
    #[wasm_bindgen(js_name = generateOneTimePrekeys)]
    pub fn generate_one_time_prekeys(&self, count: u32) -> JsResult<Vec<u32>> {
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        self.with(|a| Ok(a.generate_one_time_prekeys(count, &mut sealpost::default_rng())?))
    }

    /// How many unused one-time prekeys remain (top up when low).
    #[wasm_bindgen(js_name = remainingOneTimePrekeys)]
    pub fn remaining_one_time_prekeys(&self) -> JsResult<u32> {
        self.with(|a| Ok(count(a.remaining_one_time_prekeys())))
    }

    /// Replaces the signed prekey and returns its id; the previous one
    /// still opens setup messages for a grace period.
    #[wasm_bindgen(js_name = rotateSignedPrekey)]
    pub fn rotate_signed_prekey(&self, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<u32> {
        let now_ms = millis(now_ms, "nowMs")?;
        self.with(|a| Ok(a.rotate_signed_prekey(&mut sealpost::default_rng(), now_ms)?))
    }

    /// Forgets rotated-out signed prekeys whose grace period has ended.
    #[wasm_bindgen(js_name = expireSignedPrekeys)]
    pub fn expire_signed_prekeys(&self, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<()> {
        let now_ms = millis(now_ms, "nowMs")?;
        self.with(|a| {
            a.expire_signed_prekeys(now_ms);
            Ok(())
        })
    }

    /// Whether classical (not post-quantum) peers are accepted: `false`
    /// (the default) refuses their bundles and setup messages with
    /// `PostQuantumRequired`.
    #[wasm_bindgen(getter, js_name = allowsClassicalSetup)]
    pub fn allows_classical_setup(&self) -> JsResult<bool> {
        self.with(|a| Ok(a.setup_policy() == sealpost::SetupPolicy::AllowClassical))
    }

    /// Sets whether classical peers are accepted (kept in the account's
    /// state).
    #[wasm_bindgen(setter, js_name = allowsClassicalSetup)]
    pub fn set_allows_classical_setup(&self, allow: bool) -> JsResult<()> {
        let policy =
            if allow { sealpost::SetupPolicy::AllowClassical } else { sealpost::SetupPolicy::RequirePostQuantum };
        self.with(|a| {
            a.set_setup_policy(policy);
            Ok(())
        })
    }

    /// A prekey bundle with the lowest unused one-time prekey (or none when
    /// all are used), encoded for upload to the server.
    #[wasm_bindgen(js_name = prekeyBundle)]
    pub fn prekey_bundle(&self) -> JsResult<Vec<u8>> {
        self.with(|a| Ok(a.prekey_bundle()?.to_bytes()))
    }

    /// One encoded bundle per unused one-time prekey, for a server to hand
    /// out one per initiator.
    #[wasm_bindgen(js_name = prekeyBundles)]
    pub fn prekey_bundles(&self) -> JsResult<Vec<Uint8Array>> {
        self.with(|a| Ok(a.prekey_bundles()?.iter().map(|b| Uint8Array::from(b.to_bytes().as_slice())).collect()))
    }

    /// Starts a session from a peer's encoded bundle (the PQXDH initiator).
    /// The bundle's signatures are checked; messages can be encrypted at
    /// once, before the peer is online. Throws `OwnBundle` for this
    /// account's own bundle, `InvalidSignature` for a forged one.
    #[wasm_bindgen(js_name = createOutboundSession)]
    pub fn create_outbound_session(&self, bundle: &js_sys::Uint8Array) -> JsResult<Session> {
        let bundle = &crate::error::bytes(bundle, "bundle")?;
        let bundle = sealpost::PreKeyBundle::from_bytes(bundle)?;
        let session = self.with(|a| Ok(a.create_outbound_session(&bundle, &mut sealpost::default_rng())?))?;
        Ok(Session::wrap(session))
    }

    /// Accepts a peer's first message (the PQXDH responder): the new
    /// session and the message's plaintext. The one-time prekey it names is
    /// consumed only if the message authenticates; on any error nothing
    /// changes. A Burnout first message throws `UnexpectedPayload`: use
    /// `createInboundSessionAt`.
    #[wasm_bindgen(js_name = createInboundSession)]
    pub fn create_inbound_session(&self, message: &js_sys::Uint8Array) -> JsResult<InboundSession> {
        let message = &crate::error::bytes(message, "message")?;
        let (session, plaintext) = self.with(|a| Ok(a.create_inbound_session(message)?))?;
        Ok(InboundSession { session: Session::wrap(session), plaintext: zeroize::Zeroizing::new(plaintext) })
    }

    /// Decrypts any message from `session`'s peer, including setup messages
    /// that start a new state (the peer re-installed, or both sides
    /// started at once). Prefer it to `Session.decrypt`. On any error the
    /// account and the session are unchanged.
    pub fn decrypt(&self, session: &Session, message: &js_sys::Uint8Array) -> JsResult<Uint8Array> {
        let message = &crate::error::bytes(message, "message")?;
        let plaintext = zeroize::Zeroizing::new(self.with(|a| session.with(|s| Ok(a.decrypt(s, message)?)))?);
        Ok(crate::error::secret_out(&plaintext))
    }
}

/// Checks a prekey bundle's signatures and returns its owner's identity
/// key. Throws `InvalidSignature` (or `Malformed`) otherwise.
#[wasm_bindgen(js_name = verifyPrekeyBundle)]
pub fn verify_prekey_bundle(bundle: &js_sys::Uint8Array) -> JsResult<Vec<u8>> {
    let bundle = &crate::error::bytes(bundle, "bundle")?;
    let bundle = sealpost::PreKeyBundle::from_bytes(bundle)?;
    bundle.verify()?;
    Ok(bundle.identity().to_bytes().to_vec())
}

/// The identity keys of a list from JavaScript, each checked.
pub(crate) fn identities(keys: &[Uint8Array]) -> JsResult<Vec<IdentityKey>> {
    keys.iter().map(|key| identity(&crate::error::bytes(key, "an identity key")?)).collect()
}

/// Identity keys as a JavaScript array of `Uint8Array`s.
pub(crate) fn identity_arrays<'k>(keys: impl IntoIterator<Item = &'k IdentityKey>) -> Vec<Uint8Array> {
    keys.into_iter().map(|key| Uint8Array::from(key.as_bytes().as_slice())).collect()
}
