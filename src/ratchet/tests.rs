//! Unit tests of the ratchet's own bounds.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::AD_LEN;
use crate::account::Account;

/// The plaintext bound is exact, and a refused encryption changes nothing.
#[test]
fn the_largest_plaintext_is_sealed_and_one_byte_more_is_refused() {
    use crate::error::Error;
    use crate::limits::MAX_PLAINTEXT;
    let mut rng = StdRng::seed_from_u64(22);
    let alice = Account::new(&mut rng, 0);
    let mut bob = Account::new(&mut rng, 0);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    let mut content = vec![3u8; MAX_PLAINTEXT];
    let sent = b.encrypt(&content, &mut rng).unwrap();
    assert_eq!(a.decrypt(&sent).unwrap(), content);
    content.push(3);
    let before = b.to_bytes();
    assert_eq!(
        b.encrypt(&content, &mut rng).err(),
        Some(Error::TooLarge { what: "plaintext", len: MAX_PLAINTEXT + 1, max: MAX_PLAINTEXT })
    );
    assert_eq!(b.to_bytes(), before);
}

/// `encrypt` reserves exactly the message's length before writing, so the
/// output never grows (and leaves a freed copy of the plaintext) midway:
/// into an empty buffer, the capacity is the length.
#[test]
fn encryption_reserves_exactly_the_message_length() {
    let mut rng = StdRng::seed_from_u64(23);
    let alice = Account::new(&mut rng, 0);
    let mut bob = Account::new(&mut rng, 0);
    bob.generate_one_time_prekeys(1, &mut rng).unwrap();
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let mut first = Vec::new();
    a.encrypt_into(b"setup", &mut first, &mut rng).unwrap();
    assert_eq!(first.capacity(), first.len());
    let (mut b, _) = bob.create_inbound_session(&first).unwrap();
    for len in [0, 1, 100, 5000] {
        let mut out = Vec::new();
        b.encrypt_into(&vec![1u8; len], &mut out, &mut rng).unwrap();
        assert_eq!(out.capacity(), out.len(), "{len}-byte content");
        assert_eq!(a.decrypt(&out).unwrap().len(), len);
    }
}

/// The largest gap a message may close: the rest of the peer's previous
/// chain (`MAX_FORWARD_JUMP` keys) plus `MAX_FORWARD_JUMP` keys of its new
/// chain, `MAX_SKIPPED_TOTAL` skipped keys in all, is accepted, and every
/// lost message opens afterwards, once.
#[test]
fn the_largest_two_chain_gap_is_accepted_and_every_lost_message_opens_later() {
    use crate::error::Error;
    use crate::limits::{MAX_FORWARD_JUMP, MAX_SKIPPED_TOTAL};
    let mut rng = StdRng::seed_from_u64(24);
    let alice = Account::new(&mut rng, 0);
    let mut bob = Account::new(&mut rng, 0);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"m0", &mut rng).unwrap()).unwrap();
    let jump = MAX_FORWARD_JUMP as usize;
    let mut lost: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for i in 0..jump {
        let text = format!("old chain {i}").into_bytes();
        lost.push((a.encrypt(&text, &mut rng).unwrap(), text));
    }
    a.decrypt(&b.encrypt(b"reply", &mut rng).unwrap()).unwrap();
    for i in 0..jump {
        let text = format!("new chain {i}").into_bytes();
        lost.push((a.encrypt(&text, &mut rng).unwrap(), text));
    }
    assert_eq!(b.decrypt(&a.encrypt(b"past the gap", &mut rng).unwrap()).unwrap(), b"past the gap");
    assert_eq!(b.skipped_key_count(), MAX_SKIPPED_TOTAL);
    for (sent, text) in lost.iter().rev() {
        assert_eq!(&b.decrypt(sent).unwrap(), text);
        assert_eq!(b.decrypt(sent), Err(Error::DuplicateMessage));
    }
    assert_eq!(b.skipped_key_count(), 0);
}

/// A replay on any of the last `MAX_REMEMBERED_CHAINS` peer chains, whose
/// keys are all used, is reported as a duplicate; an older one is refused
/// too. Neither changes the state.
#[test]
fn replays_on_remembered_old_chains_are_duplicates_and_change_nothing() {
    use crate::error::Error;
    use crate::limits::MAX_REMEMBERED_CHAINS;
    let mut rng = StdRng::seed_from_u64(25);
    let alice = Account::new(&mut rng, 0);
    let mut bob = Account::new(&mut rng, 0);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"m0", &mut rng).unwrap()).unwrap();
    // One message per chain of Alice's, newest last.
    let mut firsts = Vec::new();
    for _ in 0..MAX_REMEMBERED_CHAINS + 3 {
        a.decrypt(&b.encrypt(b"turn", &mut rng).unwrap()).unwrap();
        let sent = a.encrypt(b"chain", &mut rng).unwrap();
        b.decrypt(&sent).unwrap();
        firsts.push(sent);
    }
    let before = b.to_bytes();
    for (back, sent) in firsts.iter().rev().enumerate() {
        let refused = b.decrypt(sent);
        if back <= MAX_REMEMBERED_CHAINS {
            assert_eq!(refused, Err(Error::DuplicateMessage), "{back} chains back");
        } else {
            assert!(refused.is_err(), "{back} chains back");
        }
        assert_eq!(b.to_bytes(), before);
    }
}

/// After the peer starts over, a replay on a chain of the previous state
/// (its current peer chain, an old one, or one with skipped keys left) is
/// still reported as a duplicate, by the state that knows the chain, not
/// as a failed attempt of the new one; nothing changes.
#[test]
fn replays_on_a_previous_states_chains_are_duplicates() {
    use crate::error::Error;
    let mut rng = StdRng::seed_from_u64(26);
    let alice = Account::new(&mut rng, 0);
    let mut bob = Account::new(&mut rng, 0);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"m0", &mut rng).unwrap()).unwrap();
    a.decrypt(&b.encrypt(b"r0", &mut rng).unwrap()).unwrap();
    let old_chain = a.encrypt(b"old chain", &mut rng).unwrap();
    b.decrypt(&old_chain).unwrap();
    a.decrypt(&b.encrypt(b"r1", &mut rng).unwrap()).unwrap();
    // A chain with a skipped key left (the first message is held back).
    let held_back = a.encrypt(b"held back", &mut rng).unwrap();
    let skipped_chain = a.encrypt(b"skipped chain", &mut rng).unwrap();
    b.decrypt(&skipped_chain).unwrap();
    a.decrypt(&b.encrypt(b"r2", &mut rng).unwrap()).unwrap();
    let current_chain = a.encrypt(b"current chain", &mut rng).unwrap();
    b.decrypt(&current_chain).unwrap();

    // Alice starts over: Bob's state so far becomes a previous one.
    let mut again = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    bob.decrypt(&mut b, &again.encrypt(b"again", &mut rng).unwrap()).unwrap();
    assert_eq!(b.previous_state_count(), 1);
    let before = b.to_bytes();
    for sent in [&old_chain, &skipped_chain, &current_chain] {
        assert_eq!(b.decrypt(sent), Err(Error::DuplicateMessage));
        assert_eq!(b.to_bytes(), before);
    }
    // The held-back message still opens in the previous state, once.
    assert_eq!(b.decrypt(&held_back).unwrap(), b"held back");
    assert_eq!(b.decrypt(&held_back), Err(Error::DuplicateMessage));
}

/// A restored state's skipped keys of the current receiving chain must lie
/// behind it: one at or ahead of the chain's position is refused (it would
/// be a second key for a message the chain can still derive); one behind
/// it, or ahead on another chain, is accepted.
#[test]
fn a_state_with_a_skipped_key_ahead_of_its_chain_is_refused() {
    use super::keys::{ChainKey, MessageKey, ReceivingChain, RootKey};
    use super::skipped::{SkippedKey, SkippedKeys};
    use super::{Peer, RatchetKeyPair, RatchetState};
    use crate::wire::codec::{Reader, Writer};

    let mut rng = StdRng::seed_from_u64(27);
    let current = [5u8; 32];
    let state_with = |ratchet: [u8; 32], index: u32, rng: &mut StdRng| {
        let mut state = RatchetState::new_responder([1; AD_LEN], RootKey([2; 32]), RatchetKeyPair::generate(rng));
        state.peer = Peer::Receiving { key: current, chain: ReceivingChain { key: ChainKey([3; 32]), index: 5 } };
        state.skipped =
            SkippedKeys::from_entries(vec![SkippedKey { ratchet, index, key: MessageKey([4; 32]) }]).unwrap();
        let mut w = Writer::with_capacity(0);
        state.encode(&mut w);
        let bytes = w.into_vec();
        let mut r = Reader::new(&bytes);
        RatchetState::decode(&mut r).map(|restored| {
            let mut again = Writer::with_capacity(0);
            restored.encode(&mut again);
            assert_eq!(again.into_vec(), bytes);
        })
    };
    assert!(state_with(current, 4, &mut rng).is_ok());
    assert!(state_with(current, 5, &mut rng).is_err());
    assert!(state_with(current, 6, &mut rng).is_err());
    assert!(state_with([6; 32], 9, &mut rng).is_ok());
}

/// `decrypt_into` decrypts into the caller's buffer when it is large
/// enough (the same allocation), and otherwise replaces it once with one
/// of exactly the payload's size rather than growing it (which would
/// free a copy of what it held without wiping it).
#[test]
fn decryption_reuses_a_large_enough_buffer_and_replaces_a_small_one_once() {
    let mut rng = StdRng::seed_from_u64(28);
    let alice = Account::new(&mut rng, 0);
    let mut bob = Account::new(&mut rng, 0);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    let text = vec![8u8; 100];

    let mut large = Vec::with_capacity(5000);
    let at = large.as_ptr();
    b.decrypt_into(&a.encrypt(&text, &mut rng).unwrap(), &mut large).unwrap();
    assert_eq!((large.as_slice(), large.as_ptr(), large.capacity()), (&text[..], at, 5000));

    // Content and the payload kind byte: 101 bytes, not the 120 that
    // doubling the small buffer would give.
    let mut small = Vec::with_capacity(60);
    small.extend_from_slice(&[1; 60]);
    b.decrypt_into(&a.encrypt(&text, &mut rng).unwrap(), &mut small).unwrap();
    assert_eq!((small.as_slice(), small.capacity()), (&text[..], text.len() + 1));
}
