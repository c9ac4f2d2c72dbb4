//! Group messaging with sender keys: one ciphertext per message, whatever
//! the number of members.
//!
//! The app decides who is in a group; [`Group`] keeps the keys in step.
//! Each member hands its sender key to every other member once, inside
//! their 1:1 sessions (`Group.distributeTo` → `Group.installDistribution`,
//! or `Account.receiveGroupDistribution` when the app holds several
//! groups). Then `Group.encrypt` makes one signed ciphertext for everyone.
//! On a removal every remaining member calls `removeMember` and
//! distributes its new key to the members the returned rotation lists.

use js_sys::Uint8Array;
use sealpost::IdentityKey;
use sealpost::group::GroupId;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::account::{Account, identities, identity_arrays};
use crate::burnout::{Envelope, Opened};
use crate::error::{Failure, JsResult, count, identity, key32, millis, secret_out};
use crate::persist::persist_exports;
use crate::session::Session;
use crate::shared::Shared;

/// A fresh random 32-byte group id (ids must never collide).
#[wasm_bindgen(js_name = generateGroupId)]
pub fn generate_group_id() -> JsResult<Vec<u8>> {
    crate::error::randomness()?;
    Ok(GroupId::random(&mut sealpost::default_rng()).as_bytes().to_vec())
}

/// One group as seen by one member: the members, every other member's
/// sender key, and our own.
///
/// ```js
/// const group = new Group(generateGroupId(), alice.identityKey, [bob.identityKey]);
/// const toBobDistribution = group.distributeTo(aliceToBob); // a 1:1 message
/// const wire = group.encrypt(new TextEncoder().encode("standup in 5"));
/// ```
#[wasm_bindgen]
pub struct Group {
    /// Never changes.
    id: GroupId,
    /// Never changes either.
    own: IdentityKey,
    state: Shared<sealpost::group::Group>,
}

persist_exports!(Group, "group");

impl Group {
    fn wrap(group: sealpost::group::Group) -> Self {
        Self { id: *group.id(), own: *group.own_identity(), state: Shared::new(group) }
    }

    fn with<R>(&self, f: impl FnOnce(&mut sealpost::group::Group) -> JsResult<R>) -> JsResult<R> {
        self.state.with("group", f)
    }

    /// The checks and the verified decryption shared by `decrypt` and
    /// `open`; also returns the clock as the core's `u64`.
    fn read(&self, message: &js_sys::Uint8Array, now_ms: f64) -> JsResult<(sealpost::group::GroupPlaintext, u64)> {
        let message = crate::error::bytes(message, "message")?;
        let now_ms = millis(now_ms, "nowMs")?;
        Ok((self.with(|g| Ok(g.decrypt(&message, now_ms)?))?, now_ms))
    }

    fn rotation(group: &sealpost::group::Group, rotated: sealpost::group::Rotated) -> GroupRotation {
        GroupRotation { key_id: rotated.key_id, redistribute_to: group.members().copied().collect() }
    }
}

/// A verified, decrypted group message.
#[wasm_bindgen]
pub struct GroupPlaintext {
    sender: IdentityKey,
    key_id: u32,
    iteration: u32,
    opened: Option<Opened>,
    plaintext: Option<zeroize::Zeroizing<Vec<u8>>>,
    envelope: Option<Envelope>,
}

#[wasm_bindgen]
impl GroupPlaintext {
    /// Who sent it (32-byte identity key), proven by its signature.
    #[wasm_bindgen(getter, js_name = senderIdentityKey)]
    pub fn sender_identity_key(&self) -> Vec<u8> {
        self.sender.to_bytes().to_vec()
    }

    /// The sender key it was encrypted under.
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Its iteration in that key's chain.
    #[wasm_bindgen(getter)]
    pub fn iteration(&self) -> u32 {
        self.iteration
    }

    /// The content (`decrypt`), already checked against the Burnout
    /// envelope if there is one; `undefined` from `open`.
    #[wasm_bindgen(getter)]
    pub fn plaintext(&self) -> Option<Uint8Array> {
        self.plaintext.as_deref().map(|p| secret_out(p))
    }

    /// The Burnout envelope the sender attached, if any (`decrypt`).
    #[wasm_bindgen(getter)]
    pub fn envelope(&self) -> Option<Envelope> {
        self.envelope
    }

    /// The content as `Opened`, once (`open`; Burnout content stays in
    /// the library for a `Vault`).
    #[wasm_bindgen(js_name = takeOpened)]
    pub fn take_opened(&mut self) -> Option<Opened> {
        self.opened.take()
    }
}

/// Our sender key was replaced: distribute it to the members listed.
#[wasm_bindgen]
pub struct GroupRotation {
    key_id: u32,
    redistribute_to: Vec<IdentityKey>,
}

#[wasm_bindgen]
impl GroupRotation {
    /// The new sender key id.
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Every other member (32-byte identity keys): each needs the new key.
    #[wasm_bindgen(getter, js_name = redistributeTo)]
    pub fn redistribute_to(&self) -> Vec<Uint8Array> {
        identity_arrays(&self.redistribute_to)
    }
}

/// What an installed distribution was.
#[wasm_bindgen]
pub struct InstalledSenderKey {
    inner: sealpost::group::InstalledSenderKey,
    session: Option<Session>,
}

#[wasm_bindgen]
impl InstalledSenderKey {
    /// The group it belongs to (32 bytes).
    #[wasm_bindgen(getter, js_name = groupId)]
    pub fn group_id(&self) -> Vec<u8> {
        self.inner.group_id.as_bytes().to_vec()
    }

    /// The member whose sender key it is.
    #[wasm_bindgen(getter, js_name = senderIdentityKey)]
    pub fn sender_identity_key(&self) -> Vec<u8> {
        self.inner.sender.to_bytes().to_vec()
    }

    /// The sender key id.
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> u32 {
        self.inner.key_id
    }

    /// The iteration from which on we can read this sender.
    #[wasm_bindgen(getter)]
    pub fn iteration(&self) -> u32 {
        self.inner.iteration
    }

    /// `false` for a repeated distribution (nothing changed).
    #[wasm_bindgen(getter, js_name = newlyInstalled)]
    pub fn newly_installed(&self) -> bool {
        self.inner.newly_installed
    }

    /// The new 1:1 session with the sender, when the distribution was its
    /// first message (`...FromNewSession`); keep it.
    #[wasm_bindgen(getter)]
    pub fn session(&self) -> Option<Session> {
        self.session.as_ref().map(Session::handle)
    }
}

/// Several groups, for `Account.receiveGroupDistribution` (a
/// distribution names its group only inside its ciphertext).
#[wasm_bindgen]
#[derive(Default)]
pub struct GroupList {
    groups: Vec<Shared<sealpost::group::Group>>,
}

#[wasm_bindgen]
impl GroupList {
    /// An empty list.
    #[wasm_bindgen(constructor)]
    pub fn new() -> GroupList {
        Self::default()
    }

    /// Adds a group (a handle: later changes to it are seen).
    pub fn push(&mut self, group: &Group) {
        self.groups.push(group.state.clone());
    }

    /// How many groups it holds.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        count(self.groups.len())
    }
}

#[wasm_bindgen]
impl Group {
    /// The group `groupId` (32 bytes, see `generateGroupId`) as seen by
    /// `ownIdentityKey` (our account's), with the other members (our own
    /// key in the list is ignored, duplicates merged) and a fresh sender
    /// key for us. Throws `LimitReached` past the member limit.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = groupId)] group_id: &Uint8Array,
        #[wasm_bindgen(js_name = ownIdentityKey)] own_identity_key: &js_sys::Uint8Array,
        #[wasm_bindgen(js_name = memberIdentityKeys)] member_identity_keys: Vec<Uint8Array>,
    ) -> JsResult<Group> {
        let own_identity_key = &crate::error::bytes(own_identity_key, "ownIdentityKey")?;
        let id = GroupId::from_bytes(*key32(group_id, "a group id")?);
        let own = identity(own_identity_key)?;
        let members = identities(&member_identity_keys)?;
        crate::error::randomness()?;
        Ok(Self::wrap(sealpost::group::Group::new(id, own, members, &mut sealpost::default_rng())?))
    }

    /// The 32-byte group id.
    #[wasm_bindgen(getter, js_name = groupId)]
    pub fn group_id(&self) -> Vec<u8> {
        self.id.as_bytes().to_vec()
    }

    /// Our own 32-byte identity key.
    #[wasm_bindgen(getter, js_name = ownIdentityKey)]
    pub fn own_identity_key(&self) -> Vec<u8> {
        self.own.to_bytes().to_vec()
    }

    /// The other members' identity keys, in identity-key order.
    pub fn members(&self) -> JsResult<Vec<Uint8Array>> {
        self.with(|g| Ok(identity_arrays(g.members())))
    }

    /// Members whose distribution has not arrived (their messages throw
    /// `UnknownSenderKey` until it does).
    #[wasm_bindgen(js_name = membersWithoutKey)]
    pub fn members_without_key(&self) -> JsResult<Vec<Uint8Array>> {
        self.with(|g| Ok(identity_arrays(g.members_without_key())))
    }

    /// Whether `identityKey` is another member.
    #[wasm_bindgen(js_name = isMember)]
    pub fn is_member(
        &self,
        #[wasm_bindgen(js_name = identityKey)] identity_key: &js_sys::Uint8Array,
    ) -> JsResult<bool> {
        let identity_key = &crate::error::bytes(identity_key, "identityKey")?;
        let key = identity(identity_key)?;
        self.with(|g| Ok(g.is_member(&key)))
    }

    /// Our current sender key id.
    #[wasm_bindgen(js_name = ownKeyId)]
    pub fn own_key_id(&self) -> JsResult<u32> {
        self.with(|g| Ok(g.own_key_id()))
    }

    /// Adds a member; `false` if it already was one (or is us). Then
    /// distribute our sender key to it: it reads what we send from now on.
    #[wasm_bindgen(js_name = addMember)]
    pub fn add_member(
        &self,
        #[wasm_bindgen(js_name = identityKey)] identity_key: &js_sys::Uint8Array,
    ) -> JsResult<bool> {
        let identity_key = &crate::error::bytes(identity_key, "identityKey")?;
        let key = identity(identity_key)?;
        self.with(|g| Ok(g.add_member(key)?))
    }

    /// Removes a member: forgets its sender keys (its later messages throw
    /// `NotGroupMember`) and rotates ours; distribute the new key to the
    /// members the result lists. Every remaining member must apply it.
    #[wasm_bindgen(js_name = removeMember)]
    pub fn remove_member(
        &self,
        #[wasm_bindgen(js_name = identityKey)] identity_key: &js_sys::Uint8Array,
    ) -> JsResult<GroupRotation> {
        let identity_key = &crate::error::bytes(identity_key, "identityKey")?;
        let key = identity(identity_key)?;
        self.with(|g| {
            let rotated = g.remove_member(&key, &mut sealpost::default_rng())?;
            Ok(Self::rotation(g, rotated))
        })
    }

    /// Replaces our sender key; distribute it to the members listed.
    pub fn rotate(&self) -> JsResult<GroupRotation> {
        self.with(|g| {
            let rotated = g.rotate(&mut sealpost::default_rng());
            Ok(Self::rotation(g, rotated))
        })
    }

    /// Whether this group was restored and has not rotated since: then
    /// `encrypt` and `distributeTo` throw `RotationRequired`. Call `rotate`
    /// (and distribute), or `resumeWithoutRotation` if this is the newest
    /// save, written after the last message this device sent.
    #[wasm_bindgen(getter, js_name = needsRotation)]
    pub fn needs_rotation(&self) -> JsResult<bool> {
        self.with(|g| Ok(g.needs_rotation()))
    }

    /// Sends again from a restored state without rotating: only for the
    /// newest save, written after the last send.
    #[wasm_bindgen(js_name = resumeWithoutRotation)]
    pub fn resume_without_rotation(&self) -> JsResult<()> {
        self.with(|g| {
            g.resume_without_rotation();
            Ok(())
        })
    }

    /// Encrypts and signs one message for the whole group.
    pub fn encrypt(&self, plaintext: &js_sys::Uint8Array) -> JsResult<Vec<u8>> {
        let plaintext = &crate::error::bytes(plaintext, "plaintext")?;
        self.with(|g| Ok(g.encrypt(plaintext, &mut sealpost::default_rng())?))
    }

    /// Encrypts with a Burnout envelope carried inside the ciphertext.
    #[wasm_bindgen(js_name = encryptBurnout)]
    pub fn encrypt_burnout(&self, plaintext: &js_sys::Uint8Array, envelope: &Envelope) -> JsResult<Vec<u8>> {
        let plaintext = crate::error::secret_in(plaintext, "plaintext")?;
        self.with(|g| Ok(g.encrypt_with_envelope(&plaintext, &envelope.core(), &mut sealpost::default_rng())?))
    }

    /// Verifies and decrypts a group message at `nowMs` (the clock is used
    /// for a Burnout envelope only). Throws `UnknownSenderKey` (keep the
    /// message, retry once the sender's distribution arrived),
    /// `NotGroupMember`, `GroupMismatch`, `InvalidSignature`,
    /// `DuplicateMessage`, `AuthenticationFailed`, `Expired`, ...; every
    /// error but `Expired` and `MalformedEnvelope` (the message was
    /// authentic and its key is used up) leaves the group as it was. The
    /// content of a Burnout message is copied out here, checked against
    /// the clock; honouring burn-after-reading is then the app's job (apps
    /// that keep such content in a `Vault` use `open`).
    pub fn decrypt(
        &self,
        message: &js_sys::Uint8Array,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<GroupPlaintext> {
        let (read, now_ms) = self.read(message, now_ms)?;
        let (sender, key_id, iteration) = (read.sender, read.key_id, read.iteration);
        let (plaintext, envelope) = match read.into_opened() {
            sealpost::burnout::Opened::Message(plaintext) => (zeroize::Zeroizing::new(plaintext), None),
            sealpost::burnout::Opened::Burnout(m) => {
                let envelope = Envelope::from(*m.envelope());
                (m.into_plaintext(now_ms)?, Some(envelope))
            }
        };
        Ok(GroupPlaintext { sender, key_id, iteration, opened: None, plaintext: Some(plaintext), envelope })
    }

    /// `decrypt` for apps that keep Burnout content in a `Vault`: the
    /// content comes back as `Opened` (`takeOpened`).
    pub fn open(
        &self,
        message: &js_sys::Uint8Array,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<GroupPlaintext> {
        let (read, _) = self.read(message, now_ms)?;
        let envelope = read.envelope().copied().map(Envelope::from);
        let (sender, key_id, iteration) = (read.sender, read.key_id, read.iteration);
        Ok(GroupPlaintext {
            sender,
            key_id,
            iteration,
            opened: Some(read.into_opened().into()),
            plaintext: None,
            envelope,
        })
    }

    /// Encrypts our current sender key to `session`'s peer: a 1:1 message
    /// to deliver to that member. Throws `NotGroupMember` if the peer is
    /// not a member, `PeerMismatch` for another account's session.
    #[wasm_bindgen(js_name = distributeTo)]
    pub fn distribute_to(&self, session: &Session) -> JsResult<Vec<u8>> {
        let sent = session.with(|s| self.with(|g| Ok(g.distribute([s], &mut sealpost::default_rng())?)))?;
        sent.into_iter()
            .next()
            .map(|(_, message)| message)
            .ok_or_else(|| Failure::invalid("no distribution was made for this session"))
    }

    /// Decrypts a 1:1 message from `session`'s peer carrying its sender key
    /// for this group, and installs it. On any error nothing changes; a
    /// message that is not a distribution throws `UnexpectedPayload`.
    #[wasm_bindgen(js_name = installDistribution)]
    pub fn install_distribution(
        &self,
        account: &Account,
        session: &Session,
        message: &js_sys::Uint8Array,
    ) -> JsResult<InstalledSenderKey> {
        let message = &crate::error::bytes(message, "message")?;
        let inner = account.with(|a| session.with(|s| self.with(|g| Ok(g.install_distribution(a, s, message)?))))?;
        Ok(InstalledSenderKey { inner, session: None })
    }

    /// `installDistribution` for a distribution that is the first message
    /// of a new 1:1 session: the result carries that session.
    #[wasm_bindgen(js_name = installDistributionFromNewSession)]
    pub fn install_distribution_from_new_session(
        &self,
        account: &Account,
        message: &js_sys::Uint8Array,
    ) -> JsResult<InstalledSenderKey> {
        let message = &crate::error::bytes(message, "message")?;
        let (session, inner) =
            account.with(|a| self.with(|g| Ok(g.install_distribution_from_new_session(a, message)?)))?;
        Ok(InstalledSenderKey { inner, session: Some(Session::wrap(session)) })
    }
}

#[wasm_bindgen]
impl Account {
    /// Installs a sender-key distribution from `session`'s peer into
    /// whichever of `groups` it names (`GroupMismatch` if none). On any
    /// error nothing changes.
    #[wasm_bindgen(js_name = receiveGroupDistribution)]
    pub fn receive_group_distribution(
        &self,
        session: &Session,
        message: &js_sys::Uint8Array,
        groups: &GroupList,
    ) -> JsResult<InstalledSenderKey> {
        let message = &crate::error::bytes(message, "message")?;
        let inner = self.with(|a| {
            session.with(|s| {
                let mut borrowed = borrow_all(groups)?;
                let find = find_in(&mut borrowed);
                Ok(sealpost::group::receive_distribution(a, s, message, find)?)
            })
        })?;
        Ok(InstalledSenderKey { inner, session: None })
    }

    /// `receiveGroupDistribution` for a distribution that is the first
    /// message of a new 1:1 session: the result carries that session.
    #[wasm_bindgen(js_name = receiveGroupDistributionNewSession)]
    pub fn receive_group_distribution_new_session(
        &self,
        message: &js_sys::Uint8Array,
        groups: &GroupList,
    ) -> JsResult<InstalledSenderKey> {
        let message = &crate::error::bytes(message, "message")?;
        let (session, inner) = self.with(|a| {
            let mut borrowed = borrow_all(groups)?;
            let find = find_in(&mut borrowed);
            Ok(sealpost::group::receive_distribution_new_session(a, message, find)?)
        })?;
        Ok(InstalledSenderKey { inner, session: Some(Session::wrap(session)) })
    }
}

/// The `find_group` argument of the core's `receive_distribution*`:
/// searches the borrowed groups by id.
fn find_in<'g>(
    borrowed: &'g mut [std::cell::RefMut<'_, sealpost::group::Group>],
) -> impl FnOnce(&GroupId) -> Option<&'g mut sealpost::group::Group> {
    move |id| borrowed.iter_mut().map(|g| &mut **g).find(|g| g.id() == id)
}

/// Every group of the list borrowed for one call (`InvalidArgument` for a
/// group listed twice).
fn borrow_all(groups: &GroupList) -> JsResult<Vec<std::cell::RefMut<'_, sealpost::group::Group>>> {
    groups.groups.iter().map(|g| g.borrow("group")).collect()
}
