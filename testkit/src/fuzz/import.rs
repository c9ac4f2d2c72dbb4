//! Encrypted exports of every state type (account, session, group,
//! vault): the export format is canonical and `import_encrypted` agrees
//! with opening and `from_bytes`.

use sealpost::burnout::Vault;
use sealpost::group::Group;
use sealpost::test_hooks;
use sealpost::wire::MessageType;
use sealpost::{Account, Error, Persist, Session};

use super::{EXPORT_KEY, stats};
use crate::rng;

/// The state types, in mode order.
const TYPES: [MessageType; 4] =
    [MessageType::SessionState, MessageType::AccountState, MessageType::GroupState, MessageType::VaultState];

/// Opens encrypted exports and imports what they hold.
///
/// The first byte picks the mode:
///
/// * even: the rest is an export. For every state type, an export that
///   opens under [`EXPORT_KEY`] must be the canonical sealing of what it
///   opened to (re-sealing with its nonce gives the same bytes), and
///   `import_encrypted` must agree with `from_bytes` of the plaintext.
/// * odd: the rest is a plaintext state, sealed here under [`EXPORT_KEY`]
///   as state type `TYPES[(mode >> 1) % 4]` (session, account, group,
///   vault) with a nonce from the input. `import_encrypted` must then
///   agree with `from_bytes`, a round trip through `export_encrypted` must
///   restore the same state, and the wrong key, context or type must be
///   refused.
pub fn encrypted_import(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        for inner in TYPES {
            if let Ok(opened) = test_hooks::export_open(&EXPORT_KEY, inner, rest, &[]) {
                stats::record("encrypted_import/opened");
                let resealed = test_hooks::export_seal(
                    &EXPORT_KEY,
                    inner,
                    opened.generation,
                    &[],
                    &opened.plaintext,
                    &opened.nonce,
                );
                assert_eq!(resealed, rest, "export not canonical");
            }
        }
        check_import::<Account>(rest);
        check_import::<Session>(rest);
        check_import::<Group>(rest);
        check_import::<Vault>(rest);
        return;
    }
    let mut nonce = [0u8; 24];
    for (slot, byte) in nonce.iter_mut().zip(rest.iter().rev()) {
        *slot = *byte;
    }
    let inner = TYPES[usize::from(mode >> 1) % TYPES.len()];
    // The generation the state records, so that a valid state imports.
    let generation = match inner {
        MessageType::AccountState => Account::from_bytes(rest).map(|a| a.export_generation()),
        MessageType::SessionState => Session::from_bytes(rest).map(|s| s.export_generation()),
        MessageType::GroupState => Group::from_bytes(rest).map(|g| g.export_generation()),
        _ => Vault::from_bytes(rest).map(|v| v.export_generation()),
    }
    .unwrap_or(0);
    let export = test_hooks::export_seal(&EXPORT_KEY, inner, generation, &[], rest, &nonce);
    assert_eq!(test_hooks::export_open(&EXPORT_KEY, inner, &export, &[]).unwrap().plaintext.as_slice(), rest);
    assert!(matches!(test_hooks::export_open(&[0x43; 32], inner, &export, &[]), Err(Error::ExportCorrupted)));
    assert!(matches!(
        test_hooks::export_open(&EXPORT_KEY, inner, &export, b"elsewhere"),
        Err(Error::ExportContextMismatch)
    ));
    for other in TYPES.into_iter().filter(|t| *t != inner) {
        assert!(test_hooks::export_open(&EXPORT_KEY, other, &export, &[]).is_err(), "export opened as the wrong type");
    }
    match inner {
        MessageType::AccountState => check_import::<Account>(&export),
        MessageType::SessionState => check_import::<Session>(&export),
        MessageType::GroupState => check_import::<Group>(&export),
        _ => check_import::<Vault>(&export),
    }
}

/// `import_encrypted` agrees with opening and `from_bytes`; what it
/// restores survives another export and import unchanged.
fn check_import<T: Persist>(export: &[u8]) {
    let imported = T::import_encrypted(&EXPORT_KEY, export);
    let opened = test_hooks::export_open(&EXPORT_KEY, T::STATE_TYPE, export, &[]);
    match (imported, opened) {
        (Ok(mut value), Ok(opened)) => {
            stats::record("encrypted_import/imported");
            assert!(value.to_bytes().as_slice() == opened.plaintext.as_slice(), "imported state did not re-encode");
            assert_eq!(value.export_generation(), opened.generation);
            let export = value.export_encrypted(&EXPORT_KEY, &mut rng(3));
            assert_eq!(value.export_generation(), opened.generation.saturating_add(1), "export did not count");
            let again = T::import_encrypted(&EXPORT_KEY, &export).unwrap();
            assert!(again.to_bytes() == value.to_bytes(), "state changed across export and import");
        }
        (Ok(_), Err(e)) => panic!("imported an export that does not open: {e}"),
        (Err(e), Ok(opened)) => match T::from_bytes(&opened.plaintext) {
            // Authentic bytes whose header and state disagree on the
            // generation (only a forger with the key can make them).
            Ok(state) => {
                assert_ne!(state.export_generation(), opened.generation, "import refused a consistent export: {e}");
                assert_eq!(e, Error::InvalidState("export generation differs from the state's"));
            }
            Err(parse) => assert_eq!(e, parse, "import and from_bytes disagree"),
        },
        (Err(_), Err(_)) => {}
    }
}
