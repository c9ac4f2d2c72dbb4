//! Unit tests of the vault through its public API: every accessor, every
//! bound and every error, so that mutation testing (which runs the unit
//! tests only) sees what the integration tests and doc examples check.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use zeroize::Zeroizing;

use super::{BurnoutMessage, Envelope, Vault, VaultId};
use crate::error::{BurnoutError, Error, VaultError, WireError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::limits::{MAX_VAULT_BYTES, MAX_VAULT_ENTRIES, MAX_VAULT_TOMBSTONES};
use crate::persist::Persist;

fn me() -> IdentityKey {
    *IdentityKeyPair::from_seed(&[3; 32]).public()
}

fn note(text: &[u8], envelope: Envelope) -> BurnoutMessage {
    BurnoutMessage::outgoing(text, envelope, me())
}

fn burned() -> Error {
    Error::Vault(VaultError::BurnedAfterReading)
}

fn not_in_vault() -> Error {
    Error::Vault(VaultError::NotInVault)
}

#[test]
fn vault_ids_print_and_parse_in_canonical_decimal_only() {
    for n in [0u64, 7, 42, u64::MAX] {
        let id = VaultId::from_u64(n);
        assert_eq!(id.to_u64(), n);
        assert_eq!(id.to_string(), n.to_string());
        assert_eq!(n.to_string().parse::<VaultId>(), Ok(id));
    }
    let invalid = Err(Error::Wire(WireError::InvalidField("vault id (a decimal number)")));
    for text in ["", "00", "01", "+1", "-1", " 1", "1 ", "1a", "0x1", "18446744073709551616"] {
        assert_eq!(text.parse::<VaultId>(), invalid, "{text:?}");
    }
}

#[test]
fn entries_are_listed_described_and_counted() {
    let mut vault = Vault::new();
    assert!(vault.is_empty());
    assert_eq!((vault.len(), vault.plaintext_bytes(), vault.next_expiry()), (0, 0, None));
    assert_eq!(format!("{vault:?}"), "Vault { entries: 0, plaintext_bytes: 0, next_expiry: None, clock_ms: 0, .. }");

    let forever = vault.insert(note(b"kept", Envelope::new(10)), 10).unwrap();
    assert_eq!(vault.next_expiry(), None, "an entry without expiry sets no timer");
    let later = vault.insert(note(b"in an hour", Envelope::expiring_at(10, 3_600_010)), 20).unwrap();
    let sooner = vault.insert(note(b"soon", Envelope::expiring_at(10, 5_000)), 30).unwrap();
    let theirs = BurnoutMessage::restored(Zeroizing::new(b"from Bob".to_vec()), Envelope::new(5), me(), false);
    let received = vault.insert(theirs, 40).unwrap();

    assert!(!vault.is_empty());
    assert_eq!(vault.len(), 4);
    assert_eq!(vault.plaintext_bytes(), 4 + 10 + 4 + 8);
    assert_eq!(vault.next_expiry(), Some(5_000));
    assert_eq!(vault.clock_ms(), 40);
    assert_eq!(vault.ids().collect::<Vec<_>>(), [forever, later, sooner, received]);
    assert_eq!(vault.ids().map(VaultId::to_u64).collect::<Vec<_>>(), [0, 1, 2, 3], "ids count up from 0");
    assert_eq!(
        format!("{vault:?}"),
        "Vault { entries: 4, plaintext_bytes: 26, next_expiry: Some(5000), clock_ms: 40, .. }"
    );

    let info = vault.info(later).unwrap();
    assert_eq!((info.sender, info.outgoing, info.len), (me(), true, 10));
    assert_eq!(info.envelope.expires_at_ms(), Some(3_600_010));
    let info = vault.info(received).unwrap();
    assert_eq!((info.outgoing, info.len, info.envelope.sent_at_ms()), (false, 8, 5));
    assert_eq!(vault.info(VaultId::from_u64(99)), None);

    // Reading the soonest one's expiry away moves the timer to the next.
    assert_eq!(vault.purge(5_000), 1);
    assert_eq!(vault.next_expiry(), Some(3_600_010));
    assert_eq!(vault.plaintext_bytes(), 22);
    assert_eq!(vault.ids().collect::<Vec<_>>(), [forever, later, received]);
}

#[test]
fn reads_return_the_plaintext_and_burn_only_burn_after_reading_entries() {
    let mut vault = Vault::new();
    let kept = vault.insert(note(b"hello", Envelope::new(0)), 0).unwrap();
    let once = vault.insert(note(b"493817", Envelope::new(0).burn_after_reading()), 0).unwrap();

    for _ in 0..2 {
        let text = vault.read(kept, 1).unwrap();
        assert_eq!(&*text, b"hello");
        assert_eq!(text.as_ref(), b"hello");
        assert!(!text.was_burned());
        assert_eq!(format!("{text:?}"), "Plaintext { len: 5, burned: false }");
    }
    let text = vault.read(once, 1).unwrap();
    assert_eq!(&*text, b"493817");
    assert_eq!(text.as_ref(), b"493817");
    assert!(text.was_burned());
    assert_eq!(format!("{text:?}"), "Plaintext { len: 6, burned: true }");
    drop(text);
    assert_eq!(vault.read(once, 2).unwrap_err(), burned());
    assert_eq!(vault.info(once), None);
    assert_eq!((vault.len(), vault.plaintext_bytes()), (1, 5));
    assert_eq!(vault.read(VaultId::from_u64(7), 2).unwrap_err(), not_in_vault());
}

#[test]
fn remove_and_clear_erase_entries_and_say_whether_they_were_held() {
    let mut vault = Vault::new();
    let a = vault.insert(note(b"a", Envelope::new(0)), 0).unwrap();
    let b = vault.insert(note(b"bb", Envelope::new(0)), 0).unwrap();
    let c = vault.insert(note(b"ccc", Envelope::new(0)), 0).unwrap();
    assert!(vault.remove(a));
    assert!(!vault.remove(a), "already gone");
    assert!(!vault.remove(VaultId::from_u64(99)));
    assert_eq!(vault.read(a, 1).unwrap_err(), not_in_vault());
    assert_eq!((vault.len(), vault.plaintext_bytes()), (2, 5));

    vault.clear();
    assert!(vault.is_empty());
    assert_eq!(vault.plaintext_bytes(), 0);
    for id in [b, c] {
        assert_eq!(vault.read(id, 1).unwrap_err(), not_in_vault());
    }
    // Ids are not reused after a clear.
    assert_eq!(vault.insert(note(b"d", Envelope::new(0)), 0).unwrap(), VaultId::from_u64(3));
}

#[test]
fn a_message_of_exactly_the_byte_bound_fits_and_one_byte_more_is_too_large() {
    let mut vault = Vault::new();
    let over = vec![0u8; MAX_VAULT_BYTES + 1];
    assert_eq!(
        vault.insert(note(&over, Envelope::new(0)), 0),
        Err(Error::TooLarge { what: "vault message", len: MAX_VAULT_BYTES + 1, max: MAX_VAULT_BYTES })
    );
    let full = vault.insert(note(&over[1..], Envelope::new(0)), 0).unwrap();
    assert_eq!(vault.plaintext_bytes(), MAX_VAULT_BYTES);
    // Now even one byte does not fit: the total is bounded, not each entry.
    assert_eq!(
        vault.insert(note(b"x", Envelope::new(0)), 0),
        Err(Error::LimitReached { what: "vault bytes", max: MAX_VAULT_BYTES })
    );
    assert!(vault.remove(full));
    assert!(vault.insert(note(b"x", Envelope::new(0)), 0).is_ok());
}

#[test]
fn the_entry_count_is_bounded() {
    let mut vault = Vault::new();
    for _ in 0..MAX_VAULT_ENTRIES {
        vault.insert(note(b"", Envelope::new(0)), 0).unwrap();
    }
    assert_eq!(
        vault.insert(note(b"", Envelope::new(0)), 0),
        Err(Error::LimitReached { what: "vault entries", max: MAX_VAULT_ENTRIES })
    );
    assert_eq!(vault.len(), MAX_VAULT_ENTRIES);
}

/// The vault remembers the last `MAX_VAULT_TOMBSTONES` erased ids and why:
/// older ones read as never held.
#[test]
fn erased_ids_are_remembered_up_to_the_tombstone_bound() {
    let mut vault = Vault::new();
    let ids: Vec<VaultId> = (0..=MAX_VAULT_TOMBSTONES)
        .map(|_| vault.insert(note(b"once", Envelope::new(0).burn_after_reading()), 0).unwrap())
        .collect();
    for &id in &ids {
        assert!(vault.read(id, 1).unwrap().was_burned());
    }
    let (first, remembered) = ids.split_first().unwrap();
    assert_eq!(vault.read(*first, 2).unwrap_err(), not_in_vault(), "forgotten");
    for &id in remembered {
        assert_eq!(vault.read(id, 2).unwrap_err(), burned());
    }
    // The tombstones survive an export.
    let restored = Vault::from_bytes(&vault.to_bytes()).unwrap();
    let mut restored = restored;
    assert_eq!(restored.read(remembered[0], 3).unwrap_err(), burned());
    assert_eq!(restored.read(*first, 3).unwrap_err(), not_in_vault());
}

#[test]
fn expired_entries_are_erased_at_the_first_clock_that_reaches_them() {
    let mut vault = Vault::new();
    let id = vault.insert(note(b"brief", Envelope::expiring_at(0, 100)), 0).unwrap();
    assert!(vault.read(id, 99).is_ok());
    assert_eq!(vault.read(id, 100).unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: 100 }));
    assert!(vault.is_empty());
    assert_eq!(vault.plaintext_bytes(), 0);
    assert_eq!(
        vault.insert(note(b"late", Envelope::expiring_at(0, 100)), 50),
        Err(Error::Burnout(BurnoutError::Expired { expired_at_ms: 100 })),
        "the vault's clock is already at 100"
    );
}

#[test]
fn an_encrypted_export_purges_first_and_restores_what_is_left() {
    let key = [9u8; 32];
    let mut rng = crate::default_rng();
    let mut vault = Vault::new();
    vault.insert(note(b"short", Envelope::expiring_at(0, 10)), 0).unwrap();
    let long = vault.insert(note(b"long", Envelope::expiring_at(0, 1_000)), 0).unwrap();
    let export = vault.export_encrypted_at(10, &key, &mut rng);
    assert_eq!(vault.len(), 1, "the export purged the vault itself");
    assert_eq!(vault.clock_ms(), 10);
    let mut restored = Vault::import_encrypted(&key, &export).unwrap();
    assert_eq!(restored.ids().collect::<Vec<_>>(), [long]);
    assert_eq!(restored.clock_ms(), 10);
    assert_eq!(&*restored.read(long, 11).unwrap(), b"long");
    assert!(Vault::import_encrypted(&[8u8; 32], &export).is_err(), "another key");
}

#[test]
fn restoring_keeps_why_each_id_was_erased_and_refuses_ids_at_or_past_the_next_id() {
    let mut vault = Vault::new();
    let expired = vault.insert(note(b"brief", Envelope::expiring_at(0, 100)), 0).unwrap();
    let once = vault.insert(note(b"once", Envelope::new(0).burn_after_reading()), 0).unwrap();
    let removed = vault.insert(note(b"gone", Envelope::new(0)), 0).unwrap();
    let kept = vault.insert(note(b"kept", Envelope::new(0)), 0).unwrap();
    assert!(vault.read(once, 1).unwrap().was_burned());
    assert!(vault.remove(removed));
    assert_eq!(vault.purge(100), 1);

    let bytes = vault.to_bytes();
    let mut restored = Vault::from_bytes(&bytes).unwrap();
    assert_eq!(
        restored.to_bytes(),
        bytes,
        "canonical: the restored vault (before any clock) serializes to the same bytes"
    );
    assert_eq!(restored.read(expired, 101).unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: 100 }));
    assert_eq!(restored.read(once, 101).unwrap_err(), burned());
    assert_eq!(restored.read(removed, 101).unwrap_err(), not_in_vault());
    assert_eq!(&*restored.read(kept, 101).unwrap(), b"kept");

    // A tombstone (the last 17 bytes: id, reason, time; here the expired
    // entry 0) may not name the next id or beyond, a held entry, or an id
    // already erased.
    let last = bytes.len() - 17;
    assert_eq!(bytes[last..last + 8], expired.to_u64().to_be_bytes());
    for id in [4, 5, kept.to_u64(), once.to_u64(), removed.to_u64()] {
        let mut renamed = bytes.to_vec();
        renamed[last..last + 8].copy_from_slice(&id.to_be_bytes());
        assert_eq!(
            Vault::from_bytes(&renamed).err(),
            Some(Error::Wire(WireError::InvalidField("vault tombstone id"))),
            "tombstone renamed to {id}"
        );
    }

    // The next id (bytes 10..18, after the version, type and clock) must be
    // above every entry id: lowered to the entry's own id, refused.
    let mut lowered = bytes.to_vec();
    lowered[10..18].copy_from_slice(&kept.to_u64().to_be_bytes());
    assert_eq!(
        Vault::from_bytes(&lowered).err(),
        Some(Error::Wire(WireError::InvalidField("vault entry ids out of order")))
    );
}
