//! People with several devices: the cost of sending to a person, of a
//! group message to many people's devices, of device lists and linking,
//! each next to the primitives it cannot avoid, measured in the same run.
//!
//! Groups (criterion writes `target/criterion/<group>/<name>/`):
//!
//! * `devices_raw`: one ChaCha20-Poly1305 seal of 1 KiB (the body) and one
//!   105-byte key slot through `Session::encrypt` (`slot_1to1`).
//! * `devices_floor/send_1KiB_7`: the work a message to a person with 5
//!   devices (and 2 other own devices) cannot avoid: one body seal and 7
//!   one-slot 1:1 encryptions, back to back; measured right before
//! * `devices_lib/send_1KiB_7`: the same message as the library sends it:
//!   each device checked against the signed lists held, then one Forkout
//!   with 7 slots.
//! * `devices_group/encrypt_1KiB_<n>`: one group message in a group of `n`
//!   member devices (3, and 100 people with 3 devices each): one
//!   encryption, whatever `n`.
//! * `devices_lib/list_verify_32` (parse and verify a list of 32 devices:
//!   the user key's signature and each device's membership),
//!   `devices_lib/link` (a whole link, both sides).
//!
//! `python3 benches/ratios.py --area devices` prints the ratio table.
//!
//! ```text
//! cargo bench --bench devices -- --warm-up-time 1 --measurement-time 3
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{BatchSize, SamplingMode, criterion_group, criterion_main};
use sealpost::device::{DeviceList, DeviceMembership, LinkCode, LinkRequest, Linker, UserKeyPair};
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost::group::{Group, GroupId};
use sealpost::{Account, IdentityKeyPair};
use sealpost_testkit::bench::{self, BenchCriterion as C};
use sealpost_testkit::forkout::{aead_seal, floor_seal};
use sealpost_testkit::{ForkoutWorld, NOW, rng};

const SLOT_LEN: usize = 105;
const KIB: usize = 1024;

fn raw_and_send(c: &mut C) {
    // The sender's 7 sessions: Bob's 5 devices, the sender's 2 others.
    let mut w = ForkoutWorld::new(3).with_pending(7);
    let bob = UserKeyPair::from_seed(&[1; 32]);
    let me = UserKeyPair::from_seed(&[2; 32]);
    let member = |a: &Account, u: &UserKeyPair| DeviceMembership::sign(a.identity_keypair(), u.public());
    let bobs = DeviceList::sign(&bob, 1, w.pending[..5].iter().map(|p| member(&p.account, &bob))).unwrap();
    let mine = DeviceList::sign(
        &me,
        1,
        w.pending[5..].iter().map(|p| member(&p.account, &me)).chain([member(&w.sender, &me)]),
    )
    .unwrap();
    let key = [7u8; 32];
    let ad = [0u8; 24 + 1 + 32];
    let slot = [0x42u8; SLOT_LEN];
    let body: Vec<u8> = (0..KIB).map(|i| (i % 251) as u8).collect();

    let mut g = c.benchmark_group("devices_raw");
    let mut buf = body.clone();
    g.bench_function("aead_seal_1KiB", |b| b.iter(|| black_box(aead_seal(&key, &ad, &mut buf))));
    {
        let ForkoutWorld { rng, pending, .. } = &mut w;
        let s = &mut pending[0].to_peer;
        g.bench_function("slot_1to1", |b| b.iter(|| black_box(s.encrypt(&slot, rng).unwrap())));
    }
    g.finish();

    let mut g = c.benchmark_group("devices_floor");
    g.sampling_mode(SamplingMode::Flat);
    {
        let ForkoutWorld { rng, pending, .. } = &mut w;
        g.bench_function("send_1KiB_7", |b| {
            b.iter_batched(
                || body.clone(),
                |mut body| {
                    let sealed = floor_seal(&key, &ad, &mut body, pending, &slot, rng);
                    (body, sealed)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
    let mut g = c.benchmark_group("devices_lib");
    g.sampling_mode(SamplingMode::Flat);
    {
        let ForkoutWorld { rng, sender, pending, .. } = &mut w;
        let me_id = *sender.identity();
        g.bench_function("send_1KiB_7", |b| {
            b.iter_batched(
                || body.clone(),
                |body| {
                    // Only devices on the lists held get a slot.
                    let recipients = pending
                        .iter_mut()
                        .filter(|p| {
                            let d = p.account.identity();
                            (bobs.contains(d) || mine.contains(d)) && *d != me_id
                        })
                        .map(|p| Recipient::Session(&mut p.to_peer));
                    forkout::seal(sender, body, recipients, SealPolicy::AllOrNothing, None, rng).unwrap()
                },
                BatchSize::PerIteration,
            )
        });
    }
    let user = UserKeyPair::from_seed(&[3; 32]);
    let full = DeviceList::sign(
        &user,
        9,
        (0..32u8).map(|i| DeviceMembership::sign(&IdentityKeyPair::from_seed(&[i + 10; 32]), user.public())),
    )
    .unwrap()
    .to_bytes();
    g.bench_function("list_verify_32", |b| b.iter(|| black_box(DeviceList::from_bytes(&full).unwrap())));
    let mut r = rng(5);
    let (phone, laptop) = (Account::new(&mut r, NOW), Account::new(&mut r, NOW));
    let list = DeviceList::sign(&user, 1, [member(&phone, &user)]).unwrap();
    g.bench_function("link", |b| {
        b.iter(|| {
            let mut request = LinkRequest::new(&laptop, &mut r, NOW);
            let code = LinkCode::from_bytes(&request.code()).unwrap();
            let (mut linker, offer) = Linker::start(&code, &phone, user.public(), &mut r, NOW).unwrap();
            let accept = request.accept_offer(&offer, &laptop, NOW).unwrap();
            let short = linker.receive_accept(&accept).unwrap().to_string();
            let confirmation = request.confirm(&short, &laptop).unwrap();
            let done = linker.complete(&short, &confirmation, &user, &list, b"").unwrap();
            black_box(request.finish(&done.transfer).unwrap())
        })
    });
    g.finish();
}

fn group(c: &mut C) {
    let mut r = rng(9);
    let me = *IdentityKeyPair::generate(&mut r).public();
    let body = vec![0x55u8; KIB];
    let mut g = c.benchmark_group("devices_group");
    for n in [3usize, 300] {
        let members: Vec<_> = (0..n).map(|_| *IdentityKeyPair::generate(&mut r).public()).collect();
        let mut group = Group::new(GroupId::random(&mut r), me, members, &mut r).unwrap();
        g.bench_function(format!("encrypt_1KiB_{n}"), |b| b.iter(|| black_box(group.encrypt(&body, &mut r).unwrap())));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = bench::criterion();
    targets = raw_and_send, group
}
criterion_main!(benches);
