//! Burnout: self-destructing messages with authenticated expiry.
//!
//! A Burnout message is for sensitive content that should not leave a
//! permanent record. It expires at a time the sender chose, or after its
//! first read, or both, and nobody on the path can extend, shorten or strip
//! that rule.
//!
//! # How it works
//!
//! 1. **Envelope.** The sender attaches an [`Envelope`]: sent-at time,
//!    optional absolute expiry (a time-to-live is converted to
//!    `sent at + ttl` when sealing) and a burn-after-reading flag. It is
//!    18 bytes, appended to the content **inside** the AEAD plaintext of
//!    whichever message kind carries it (1:1, group, Forkout), and its
//!    presence is signalled by an authenticated kind or flag. Changing,
//!    truncating or removing it fails decryption, and nobody can read the
//!    content without also getting the envelope.
//! 2. **Enforced at open.** Opening takes the caller's clock `now_ms`
//!    (milliseconds since the Unix epoch). A message is readable while
//!    `now < expires_at`; at `now == expires_at` it is already expired. An
//!    expired message yields [`BurnoutError::Expired`](crate::error::BurnoutError::Expired): its
//!    plaintext is zeroized and never returned, and **its message key is
//!    used up** (the ratchet moves on and a stored skipped key is deleted),
//!    so no key for it lingers and a replay fails with
//!    [`Error::DuplicateMessage`](crate::error::Error::DuplicateMessage).
//! 3. **Vault.** Opened messages go into a [`Vault`]: a bounded, zeroizing
//!    in-memory store that enforces the envelope on every read
//!    (burn-after-reading entries are removed by their first read) and
//!    tells the application when to wake up next ([`Vault::next_expiry`]).
//!    The sender's own copy can live in a vault under the same rule
//!    ([`BurnoutMessage::outgoing`]).
//! 4. **Persistence** never resurrects: an export holds no expired or
//!    burned entry, and a restored vault purges at the first clock it sees.
//!
//! ```
//! # use sealpost::VaultError;
//! use sealpost::{Account, Error, burnout::{Envelope, Vault}};
//! let mut rng = sealpost::default_rng();
//! let now = 1_700_000_000_000;
//! let (alice, mut bob) = (Account::new(&mut rng, now), Account::new(&mut rng, now));
//! bob.generate_one_time_prekeys(1, &mut rng)?;
//! let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
//! let first = to_bob.encrypt(b"hi", &mut rng)?;
//! let (mut to_alice, _) = bob.create_inbound_session(&first)?;
//!
//! let otp = Envelope::with_ttl(now, 5 * 60_000).burn_after_reading();
//! let sealed = to_bob.encrypt_burnout(b"493817", &otp, &mut rng)?;
//!
//! let mut vault = Vault::new();
//! let id = vault.insert(bob.open_burnout(&mut to_alice, &sealed, now + 10)?, now + 10)?;
//! assert_eq!(&*vault.read(id, now + 20)?, b"493817");
//! assert_eq!(vault.read(id, now + 30).unwrap_err(), Error::Vault(VaultError::BurnedAfterReading));
//! # Ok::<(), sealpost::Error>(())
//! ```
//!
//! # Envelope format
//!
//! An 18-byte canonical encoding, placed after the content inside the AEAD
//! plaintext of the carrying message under an authenticated flag or kind;
//! the layout, its placement in each message kind and the opening rule are
//! specified in [BURNOUT](crate::docs::burnout).
//!
//! # Clock skew
//!
//! A message whose authenticated sent-at time is more than
//! [`MAX_CLOCK_SKEW_MS`](crate::limits::MAX_CLOCK_SKEW_MS) (5 minutes) ahead of the opener's clock is refused
//! with [`BurnoutError::ClockSkew`](crate::error::BurnoutError::ClockSkew), and **nothing
//! changes**: the message can be opened again once the clocks agree. The
//! check exists because an expiry is judged by the reader's clock against
//! an absolute time: a reader whose clock is far behind would otherwise
//! show a time-to-live message for much longer than the sender meant.
//! Refusing without consuming is safe because only the authentic sender
//! can produce such a message (it passed authentication), and it gains that
//! sender nothing it could not get by simply not sending; consuming would
//! instead destroy a legitimate message because of a wrong clock on either
//! side. If the message expires before it is retried, the retry consumes it
//! as expired. Expiry is checked first: a message that is both expired and
//! from the future is expired.
//!
//! An authentic message whose envelope is missing or cannot be parsed (for
//! example from a newer client) is [`BurnoutError::MalformedEnvelope`](crate::error::BurnoutError::MalformedEnvelope)
//! and is consumed like an expired one: its rule cannot be enforced, so its
//! content must not survive.
//!
//! These rules are the same for every message kind: 1:1, group and
//! Forkout decide with one implementation. Content under an envelope is
//! handed out only as a [`BurnoutMessage`] ([`Opened::Burnout`]: from
//! [`Account::open`](crate::Account::open),
//! [`GroupPlaintext::content`](crate::group::GroupPlaintext::content) and
//! [`OpenedForkout::into_opened`](crate::forkout::OpenedForkout::into_opened)),
//! never in a plain buffer. Plain [`Session::decrypt`](crate::Session::decrypt) and
//! [`Account::decrypt`](crate::Account::decrypt) refuse a Burnout message
//! with [`Error::UnexpectedPayload`](crate::error::Error::UnexpectedPayload) and
//! change nothing, so no API returns Burnout content without the check.
//!
//! # What Burnout guarantees
//!
//! * **Compliant clients erase.** This library never returns the plaintext
//!   of an expired message, erases vault entries when they expire or are
//!   burned, zeroizes every plaintext buffer it owns on erase and on drop,
//!   and never writes an expired or burned entry into an export.
//! * **The rule is authenticated.** Sender-chosen expiry and
//!   burn-after-reading travel inside the ciphertext: a server, relay or
//!   network attacker cannot extend, shorten, strip or add them, nor read
//!   the content without them.
//! * **Erased means gone, with its keys.** Opening an expired message uses
//!   up its message key, and the Double Ratchet's forward secrecy means
//!   the keys that could decrypt an erased message are deleted too. A later
//!   compromise of the device's state (or of an export made after the
//!   erasure) recovers neither the plaintext nor a key for it, even if an
//!   attacker recorded the ciphertext.
//!
//! # What it cannot guarantee
//!
//! * **A modified client** can copy the plaintext before erasing, ignore
//!   the envelope, or never erase. Burnout constrains compliant software,
//!   not the people using it: send sensitive content only to people you
//!   trust not to run such a client.
//! * **Screenshots, photos, copy-paste, or memory** of the person reading.
//! * **Clocks the user controls.** Expiry is judged by the reader's clock.
//!   Setting it back keeps a message readable longer (within the skew
//!   tolerance the sender's own clock matters too); setting it forward
//!   destroys messages early. Burn-after-reading does not depend on clocks.
//! * **Copies outside this library**: what the application copies out of a
//!   [`Plaintext`] or a [`BurnoutMessage`] (UI buffers, logs, swap,
//!   notifications, operating-system caches) is the application's to
//!   erase. Memory zeroization is best effort (the compiler and the OS may
//!   leave copies).
//! * **Metadata**: that a message was sent, its size and timing remain
//!   visible to the server like any other message's; the envelope itself
//!   is encrypted.
//! * **Undelivered messages**: a message that never arrives is never opened,
//!   so its key is not used up by the expiry check. The ratchet deletes it
//!   anyway when later messages push it out of the bounded skipped-key
//!   store, or keeps it (bounded) until then, like any lost message.

mod envelope;
mod message;
pub(crate) mod payload;
mod vault;

#[cfg(test)]
mod tests;

pub use envelope::{ENVELOPE_LEN, Envelope};
pub use message::{BurnoutMessage, Opened};
pub use vault::{EntryInfo, Plaintext, Vault, VaultId};
