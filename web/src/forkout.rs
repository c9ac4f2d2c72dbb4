//! Forkout: one body to many people, sealed once, each reached 1:1.
//!
//! The sender lists the recipients in a [`ForkoutRecipients`] (existing
//! sessions, or prekey bundles on first contact) and seals the body once
//! (`Account.sealForkout`). A relay, holding no key, cuts each recipient's
//! delivery out of the bundle (`forkoutSplit`, `forkoutSplitAll`). The
//! recipient opens it with `Account.openForkout` (existing session) or
//! `Account.openForkoutNew` (first contact). Nobody learns who else
//! received it.

use js_sys::Uint8Array;
use sealpost::IdentityKey;
use sealpost::forkout::{self as core, Recipient, SealPolicy};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::account::{Account, identity_arrays};
use crate::burnout::{Envelope, Opened};
use crate::error::{Failure, JsResult, count, identity, millis};
use crate::session::Session;
use crate::shared::Shared;

/// One recipient as the sender knows it.
enum Listed {
    Session(Shared<sealpost::Session>),
    Bundle(sealpost::PreKeyBundle),
    Unreachable(IdentityKey),
}

/// The recipients of one Forkout, in any order.
///
/// ```js
/// const to = new ForkoutRecipients();
/// to.addSession(aliceToBob);          // an existing session
/// to.addBundle(carolBundle);          // first contact
/// const sealed = alice.sealForkout(body, to, false);
/// ```
#[wasm_bindgen]
#[derive(Default)]
pub struct ForkoutRecipients {
    listed: Vec<Listed>,
}

#[wasm_bindgen]
impl ForkoutRecipients {
    /// An empty list.
    #[wasm_bindgen(constructor)]
    pub fn new() -> ForkoutRecipients {
        Self::default()
    }

    /// A recipient reached through an existing session (a handle: the
    /// session advances when the Forkout is sealed).
    #[wasm_bindgen(js_name = addSession)]
    pub fn add_session(&mut self, session: &Session) {
        self.listed.push(Listed::Session(session.state.clone()));
    }

    /// A recipient without a session, reached through its encoded prekey
    /// bundle: the new session comes back in `SealedForkout.newSessions`.
    #[wasm_bindgen(js_name = addBundle)]
    pub fn add_bundle(&mut self, bundle: &js_sys::Uint8Array) -> JsResult<()> {
        let bundle = &crate::error::bytes(bundle, "bundle")?;
        self.listed.push(Listed::Bundle(sealpost::PreKeyBundle::from_bytes(bundle)?));
        Ok(())
    }

    /// Someone to reach but without a session or bundle: reported as
    /// unreachable (or refused, unless `skipUnreachable`).
    #[wasm_bindgen(js_name = addUnreachable)]
    pub fn add_unreachable(
        &mut self,
        #[wasm_bindgen(js_name = identityKey)] identity_key: &js_sys::Uint8Array,
    ) -> JsResult<()> {
        let identity_key = &crate::error::bytes(identity_key, "identityKey")?;
        self.listed.push(Listed::Unreachable(identity(identity_key)?));
        Ok(())
    }

    /// How many recipients are listed.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        count(self.listed.len())
    }
}

/// A recipient that got no key slot, and why.
#[wasm_bindgen]
pub struct UnreachableRecipient {
    identity: IdentityKey,
    reason: String,
}

#[wasm_bindgen]
impl UnreachableRecipient {
    /// Its 32-byte identity key.
    #[wasm_bindgen(getter, js_name = identityKey)]
    pub fn identity_key(&self) -> Vec<u8> {
        self.identity.to_bytes().to_vec()
    }

    /// Why, in words.
    #[wasm_bindgen(getter)]
    pub fn reason(&self) -> String {
        self.reason.clone()
    }
}

/// Why a recipient got no slot, in words.
fn reason_text(reason: &core::UnreachableReason) -> String {
    match reason {
        core::UnreachableReason::NoSessionOrBundle => "no session and no prekey bundle for this recipient".to_owned(),
        core::UnreachableReason::InvalidBundle(e) => format!("its prekey bundle was refused: {e}"),
        core::UnreachableReason::SlotEncryptionFailed(e) => format!("its session could not encrypt: {e}"),
        other => format!("{other:?}"),
    }
}

/// A sealed Forkout: one bundle to upload, and what sealing it did.
#[wasm_bindgen]
pub struct SealedForkout {
    id: [u8; 32],
    bundle: Vec<u8>,
    recipients: Vec<IdentityKey>,
    unreachable: Vec<(IdentityKey, String)>,
    new_sessions: Vec<Session>,
}

#[wasm_bindgen]
impl SealedForkout {
    /// The Forkout's 32-byte id (both sides see it).
    #[wasm_bindgen(getter, js_name = forkoutId)]
    pub fn forkout_id(&self) -> Vec<u8> {
        self.id.to_vec()
    }

    /// The encoded bundle for the relay to split.
    #[wasm_bindgen(getter)]
    pub fn bundle(&self) -> Vec<u8> {
        self.bundle.clone()
    }

    /// The identity keys that got a key slot, in identity-key order.
    #[wasm_bindgen(getter)]
    pub fn recipients(&self) -> Vec<Uint8Array> {
        identity_arrays(&self.recipients)
    }

    /// Those that did not (only with `skipUnreachable`).
    #[wasm_bindgen(getter)]
    pub fn unreachable(&self) -> Vec<UnreachableRecipient> {
        self.unreachable
            .iter()
            .map(|(identity, reason)| UnreachableRecipient { identity: *identity, reason: reason.clone() })
            .collect()
    }

    /// The sessions created from bundles, in identity-key order of their
    /// peers: keep them, the replies continue in them.
    #[wasm_bindgen(getter, js_name = newSessions)]
    pub fn new_sessions(&self) -> Vec<Session> {
        self.new_sessions.iter().map(Session::handle).collect()
    }
}

/// One recipient's delivery, cut out of a bundle by the relay.
#[wasm_bindgen]
pub struct ForkoutDelivery {
    recipient: [u8; 32],
    delivery: Vec<u8>,
}

#[wasm_bindgen]
impl ForkoutDelivery {
    /// The recipient's id as the bundle names it (its identity key's 32
    /// bytes).
    #[wasm_bindgen(getter, js_name = recipientId)]
    pub fn recipient_id(&self) -> Vec<u8> {
        self.recipient.to_vec()
    }

    /// The bytes to deliver to it.
    #[wasm_bindgen(getter)]
    pub fn delivery(&self) -> Vec<u8> {
        self.delivery.clone()
    }
}

/// An opened Forkout.
#[wasm_bindgen]
pub struct OpenedForkout {
    /// `None` when the body was refused on first contact.
    id: Option<[u8; 32]>,
    sender: IdentityKey,
    envelope: Option<Envelope>,
    opened: Option<Opened>,
    session: Option<Session>,
    refusal: Option<Failure>,
}

impl OpenedForkout {
    fn new(opened: core::OpenedForkout, session: Option<Session>) -> Self {
        Self {
            id: Some(opened.id().to_bytes()),
            sender: *opened.sender(),
            envelope: opened.envelope().copied().map(Envelope::from),
            opened: Some(opened.into_opened().into()),
            session,
            refusal: None,
        }
    }
}

#[wasm_bindgen]
impl OpenedForkout {
    /// The Forkout's 32-byte id (`undefined` when the content was refused
    /// on first contact).
    #[wasm_bindgen(getter, js_name = forkoutId)]
    pub fn forkout_id(&self) -> Option<Vec<u8>> {
        self.id.map(|id| id.to_vec())
    }

    /// The sender's 32-byte identity key, proven by the 1:1 session.
    #[wasm_bindgen(getter, js_name = senderIdentityKey)]
    pub fn sender_identity_key(&self) -> Vec<u8> {
        self.sender.to_bytes().to_vec()
    }

    /// The Burnout envelope of the body, if it has one.
    #[wasm_bindgen(getter)]
    pub fn envelope(&self) -> Option<Envelope> {
        self.envelope
    }

    /// The body, once: `Opened` (plain, or a Burnout message for a vault).
    #[wasm_bindgen(js_name = takeOpened)]
    pub fn take_opened(&mut self) -> Option<Opened> {
        self.opened.take()
    }

    /// On first contact (`openForkoutNew`): the new session with the
    /// sender, kept even if the body was refused.
    #[wasm_bindgen(getter)]
    pub fn session(&self) -> Option<Session> {
        self.session.as_ref().map(Session::handle)
    }

    /// Why the body was refused on first contact (a `SealpostError` such
    /// as `Expired`), or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn refusal(&self) -> JsValue {
        self.refusal.clone().map_or(JsValue::UNDEFINED, JsValue::from)
    }
}

impl Account {
    fn seal(
        &self,
        body: Vec<u8>,
        recipients: &ForkoutRecipients,
        skip_unreachable: Option<bool>,
        envelope: Option<sealpost::burnout::Envelope>,
    ) -> JsResult<SealedForkout> {
        let policy =
            if skip_unreachable.unwrap_or(false) { SealPolicy::SkipUnreachable } else { SealPolicy::AllOrNothing };
        let mut borrowed = Vec::new();
        for (i, listed) in recipients.listed.iter().enumerate() {
            if let Listed::Session(shared) = listed {
                if recipients.listed.iter().take(i).any(|l| matches!(l, Listed::Session(s) if s.same(shared))) {
                    return Err(Failure::invalid("the same session is listed twice"));
                }
                borrowed.push(shared.borrow("session")?);
            }
        }
        let mut sessions = borrowed.iter_mut();
        let mut list = Vec::with_capacity(recipients.listed.len());
        for listed in &recipients.listed {
            list.push(match listed {
                Listed::Session(_) => Recipient::Session(
                    sessions.next().map(|s| &mut **s).ok_or_else(|| Failure::invalid("session list out of step"))?,
                ),
                Listed::Bundle(bundle) => Recipient::Bundle(bundle.clone()),
                Listed::Unreachable(key) => Recipient::Unreachable(*key),
            });
        }
        let (sealed, report) =
            self.with(|a| Ok(core::seal(a, body, list, policy, envelope, &mut sealpost::default_rng())?))?;
        Ok(SealedForkout {
            id: sealed.id().to_bytes(),
            bundle: sealed.to_bytes(),
            recipients: sealed.recipients().copied().collect(),
            unreachable: report.unreachable.iter().map(|u| (u.identity, reason_text(&u.reason))).collect(),
            new_sessions: report.new_sessions.into_iter().map(Session::wrap).collect(),
        })
    }
}

/// The delivery for one recipient, cut out of a bundle (no key needed).
/// Throws a `Forkout` error if the bundle has no slot for it.
#[wasm_bindgen(js_name = forkoutSplit)]
pub fn forkout_split(
    bundle: &js_sys::Uint8Array,
    #[wasm_bindgen(js_name = recipientIdentityKey)] recipient_identity_key: &js_sys::Uint8Array,
) -> JsResult<Vec<u8>> {
    let bundle = &crate::error::bytes(bundle, "bundle")?;
    let recipient_identity_key = &crate::error::bytes(recipient_identity_key, "recipientIdentityKey")?;
    Ok(core::split(bundle, &identity(recipient_identity_key)?)?)
}

/// What a delivery says about itself before it is opened (nothing here
/// is authenticated yet): which open to call and with which session.
#[wasm_bindgen]
pub struct ForkoutDeliveryInfo {
    id: [u8; 32],
    first_contact: bool,
    claimed_sender: Option<IdentityKey>,
    body_len: usize,
}

#[wasm_bindgen]
impl ForkoutDeliveryInfo {
    /// The Forkout's 32-byte id.
    #[wasm_bindgen(getter, js_name = forkoutId)]
    pub fn forkout_id(&self) -> Vec<u8> {
        self.id.to_vec()
    }

    /// Whether its slot is a setup message: open it with `openForkoutNew`,
    /// else with `openForkout` and the session with its sender.
    #[wasm_bindgen(getter, js_name = isFirstContact)]
    pub fn is_first_contact(&self) -> bool {
        self.first_contact
    }

    /// On first contact, the identity key the setup message claims (checked
    /// only when it is opened); otherwise `undefined`.
    #[wasm_bindgen(getter, js_name = claimedSenderIdentityKey)]
    pub fn claimed_sender_identity_key(&self) -> Option<Vec<u8>> {
        self.claimed_sender.map(|k| k.to_bytes().to_vec())
    }

    /// The length of the sealed body in bytes.
    #[wasm_bindgen(getter, js_name = bodyLength)]
    pub fn body_length(&self) -> f64 {
        crate::error::to_number(u64::try_from(self.body_len).unwrap_or(u64::MAX))
    }
}

/// Reads a delivery's header without any key (see `ForkoutDeliveryInfo`).
/// Throws `Malformed` for bytes that are not a delivery.
#[wasm_bindgen(js_name = inspectForkoutDelivery)]
pub fn inspect_forkout_delivery(delivery: &js_sys::Uint8Array) -> JsResult<ForkoutDeliveryInfo> {
    let delivery = crate::error::bytes(delivery, "delivery")?;
    let parsed = core::ForkoutDelivery::parse(&delivery)?;
    Ok(ForkoutDeliveryInfo {
        id: parsed.id().to_bytes(),
        first_contact: parsed.is_first_contact(),
        claimed_sender: parsed.claimed_sender(),
        body_len: parsed.body_len(),
    })
}

/// Every recipient's delivery, cut out of a bundle (no key needed).
#[wasm_bindgen(js_name = forkoutSplitAll)]
pub fn forkout_split_all(bundle: &js_sys::Uint8Array) -> JsResult<Vec<ForkoutDelivery>> {
    let bundle = &crate::error::bytes(bundle, "bundle")?;
    Ok(core::split_all(bundle)?.map(|(recipient, delivery)| ForkoutDelivery { recipient, delivery }).collect())
}

#[wasm_bindgen]
impl Account {
    /// Seals `body` once for every listed recipient. With
    /// `skipUnreachable` false (the default), a recipient without a
    /// session or valid bundle refuses the whole seal
    /// (`RecipientsUnreachable`) and no session changes; with it true,
    /// those are listed in `unreachable`. A session listed twice throws
    /// `InvalidArgument`.
    #[wasm_bindgen(js_name = sealForkout)]
    pub fn seal_forkout(
        &self,
        body: &js_sys::Uint8Array,
        recipients: &ForkoutRecipients,
        #[wasm_bindgen(js_name = skipUnreachable)] skip_unreachable: Option<bool>,
    ) -> JsResult<SealedForkout> {
        let body = crate::error::bytes(body, "body")?;
        self.seal(body, recipients, skip_unreachable, None)
    }

    /// `sealForkout` with a Burnout `envelope` on the body: every
    /// recipient's copy expires (and burns after reading) by it.
    #[wasm_bindgen(js_name = sealForkoutBurnout)]
    pub fn seal_forkout_burnout(
        &self,
        body: &js_sys::Uint8Array,
        recipients: &ForkoutRecipients,
        envelope: &Envelope,
        #[wasm_bindgen(js_name = skipUnreachable)] skip_unreachable: Option<bool>,
    ) -> JsResult<SealedForkout> {
        // The core encrypts the body in place in this buffer: no copy of
        // the plaintext is left behind.
        let body = crate::error::bytes(body, "body")?;
        self.seal(body, recipients, skip_unreachable, Some(envelope.core()))
    }

    /// Opens a delivery from `session`'s peer at `nowMs`. On any error the
    /// account and the session are unchanged (but `Expired` uses the slot
    /// up).
    #[wasm_bindgen(js_name = openForkout)]
    pub fn open_forkout(
        &self,
        session: &Session,
        delivery: &js_sys::Uint8Array,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<OpenedForkout> {
        let delivery = &crate::error::bytes(delivery, "delivery")?;
        let now_ms = millis(now_ms, "nowMs")?;
        let opened = self.with(|a| session.with(|s| Ok(core::open(a, s, delivery, now_ms)?)))?;
        Ok(OpenedForkout::new(opened, None))
    }

    /// Opens a first-contact delivery (its slot is a setup message) at
    /// `nowMs`: the result carries the new session with the sender, kept
    /// even when the body is refused (`refusal`).
    #[wasm_bindgen(js_name = openForkoutNew)]
    pub fn open_forkout_new(
        &self,
        delivery: &js_sys::Uint8Array,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<OpenedForkout> {
        let delivery = &crate::error::bytes(delivery, "delivery")?;
        let now_ms = millis(now_ms, "nowMs")?;
        let (session, content) = self.with(|a| Ok(core::open_new(a, delivery, now_ms)?))?;
        let session = Session::wrap(session);
        Ok(match content {
            Ok(opened) => OpenedForkout::new(opened, Some(session)),
            Err(e) => {
                let sender = session.peer();
                OpenedForkout {
                    id: None,
                    sender,
                    envelope: None,
                    opened: None,
                    session: Some(session),
                    refusal: Some(e.into()),
                }
            }
        })
    }
}
