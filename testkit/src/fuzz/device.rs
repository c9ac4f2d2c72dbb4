//! Device targets: the device-list and link-code parsers, and the whole
//! device-linking flow driven by a program that delivers, drops, tampers
//! with, swaps and replays its messages.

use std::sync::OnceLock;

use sealpost::device::{
    DeviceList, DeviceMembership, LinkCode, LinkRequest, Linker, ShortString, UserKeyPair, check_recipients,
};
use sealpost::{Account, DeviceError, Error};

use super::{NOW_MS, Program, flip, stats};
use crate::rng;

/// The accounts and user every device target works with: Alice's phone
/// (listed in version 1 of her list), her laptop (to be linked), and one
/// other link of the laptop's, complete, whose messages the program can
/// deliver in place of this link's.
pub struct DeviceWorld {
    pub alice: UserKeyPair,
    pub phone: Account,
    pub laptop: Account,
    /// Version 1: the phone alone.
    pub list: DeviceList,
    /// Another link's offer, acceptance, confirmation and transfer (all
    /// genuine).
    pub other: [Vec<u8>; 4],
}

/// The fixed world (made once).
pub fn device_world() -> &'static DeviceWorld {
    static WORLD: OnceLock<DeviceWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut rng = rng(0xde);
        let alice = UserKeyPair::from_seed(&[0xa1; 32]);
        let phone = Account::new(&mut rng, NOW_MS);
        let laptop = Account::new(&mut rng, NOW_MS);
        let list = DeviceList::sign(&alice, 1, [DeviceMembership::sign(phone.identity_keypair(), alice.public())])
            .expect("one device");
        let mut request = LinkRequest::new(&laptop, &mut rng, NOW_MS);
        let code = LinkCode::from_bytes(&request.code()).expect("its own code");
        let (mut linker, offer) = Linker::start(&code, &phone, alice.public(), &mut rng, NOW_MS).expect("fresh code");
        let accept = request.accept_offer(&offer, &laptop, NOW_MS).expect("its offer");
        let short = linker.receive_accept(&accept).expect("its acceptance").to_string();
        let confirmation = request.confirm(&short, &laptop).expect("the right string");
        let done = linker.complete(&short, &confirmation, &alice, &list, b"other").expect("confirmed");
        DeviceWorld { alice, phone, laptop, list, other: [offer, accept, confirmation, done.transfer] }
    })
}

/// Byte 0 picks the parser:
///
/// * even: the rest is a device list. One that parses re-encodes to its
///   input, names at least one device, is held by the user key it names,
///   and as an update of the world's list it either refuses with a typed
///   error or reports a change whose devices are exactly the two lists'
///   difference; the relay check of a Forkout from the phone to exactly
///   the list's other devices passes if and only if the phone is listed;
/// * odd: the rest is a link code. One that parses is answered by the
///   phone if and only if it has not expired and is not the phone's own.
pub fn device_list(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let world = device_world();
    if mode & 1 == 0 {
        let Ok(list) = DeviceList::from_bytes(rest) else { return };
        stats::record("device_list/list/verified");
        assert!(list.to_bytes() == rest, "device list did not re-encode");
        assert!(!list.devices().is_empty());
        match world.list.update(&list) {
            Ok(change) => {
                stats::record("device_list/update/accepted");
                assert!(list.user() == world.list.user() && list.version() >= world.list.version());
                for device in change.added() {
                    assert!(list.contains(device) && !world.list.contains(device));
                }
                for device in change.removed() {
                    assert!(!list.contains(device) && world.list.contains(device));
                }
            }
            Err(Error::Device(
                DeviceError::RolledBack { .. } | DeviceError::ConflictingLists { .. } | DeviceError::UserKeyMismatch,
            )) => {}
            Err(other) => panic!("unexpected update error {other:?}"),
        }
        let sender = world.phone.identity();
        let keys: Vec<[u8; 32]> = list.devices().iter().filter(|d| *d != sender).map(|d| d.to_bytes()).collect();
        let checked = check_recipients(keys.iter(), [&list], sender);
        assert!(checked.is_ok() == list.contains(sender), "relay check {checked:?}");
        return;
    }
    let Ok(code) = LinkCode::from_bytes(rest) else { return };
    stats::record("device_list/code/parsed");
    let started = Linker::start(&code, &world.phone, world.alice.public(), &mut rng(1), NOW_MS);
    let answerable = code.expires_at_ms() >= NOW_MS && code.device() != world.phone.identity();
    match started {
        Ok(_) => assert!(answerable, "an expired code, or the phone's own, was answered"),
        // A low-order ephemeral key parses but gives no shared secret.
        Err(Error::WeakKey) => {}
        Err(e) => assert!(!answerable, "a valid code was refused: {e:?}"),
    }
}

/// Where a delivered message comes from.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    /// This link's own, unchanged.
    Genuine,
    /// This link's own, one bit flipped.
    Flipped,
    /// The other link's message of the same step.
    OtherLink,
    /// A message of another step of this link (an offer where an
    /// acceptance is expected, ...).
    WrongStep,
    /// Bytes from the program.
    Arbitrary,
}

/// The messages this link produced so far: offer, acceptance,
/// confirmation, transfer.
#[derive(Default)]
struct Sent {
    messages: [Option<Vec<u8>>; 4],
}

impl Sent {
    /// The message to deliver for step `step` (0 offer, 1 acceptance, 2
    /// confirmation, 3 transfer), from a source the program picks; `None` when the genuine
    /// one does not exist yet (nothing is delivered).
    fn pick(&self, step: usize, prog: &mut Program<'_>) -> Option<(Source, Vec<u8>)> {
        let world = device_world();
        let source = match prog.byte() % 5 {
            0 => Source::Genuine,
            1 => Source::Flipped,
            2 => Source::OtherLink,
            3 => Source::WrongStep,
            _ => Source::Arbitrary,
        };
        let own = |s: usize| self.messages.get(s).cloned().flatten();
        let bytes = match source {
            Source::Genuine => own(step)?,
            Source::Flipped => {
                let mut bytes = own(step)?;
                flip(&mut bytes, prog.u16());
                bytes
            }
            Source::OtherLink => world.other.get(step).cloned()?,
            Source::WrongStep => own((step + 1 + usize::from(prog.byte() % 3)) % 4)?,
            Source::Arbitrary => prog.bytes(255),
        };
        Some((source, bytes))
    }
}

/// What a request shows of itself: its Debug (stage, device, expiry), its
/// short string and who offered.
fn request_view(request: &LinkRequest) -> String {
    format!("{request:?} {:?} {:?}", request.short_string(), request.offered_by())
}

/// The confirmation the user types (the right short string, one digit
/// off, or arbitrary text), and whether it is the right one.
fn confirmation(short: Option<ShortString>, prog: &mut Program<'_>) -> (bool, String) {
    let right = short.map(|s| s.to_string()).unwrap_or_default();
    let typed = match prog.byte() % 4 {
        0 | 1 => right,
        2 => right
            .chars()
            .enumerate()
            .map(|(i, c)| if i == 0 { if c == '9' { '0' } else { ((c as u8) + 1) as char } } else { c })
            .collect(),
        _ => String::from_utf8_lossy(&prog.bytes(12)).into_owned(),
    };
    (short.is_some_and(|s| s.matches(&typed)), typed)
}

/// Runs one link between the world's phone (the existing device) and
/// laptop (the new device) as a program. Operations (`op % 8`):
///
/// * 0: the phone scans the code (one bit flipped when the argument's
///   low bit is set) and answers;
/// * 1, 2: deliver the offer to the laptop, the acceptance to the phone,
///   each from a source the program picks (this link's own, flipped, the
///   other link's, another step's, or arbitrary bytes);
/// * 3: the laptop's user confirms (right, one digit off, or arbitrary
///   text);
/// * 4: the phone completes with a confirmation message from a source the
///   program picks and a typed confirmation;
/// * 5: deliver the transfer to the laptop;
/// * 6: the clock moves (up to ~18 h forward, past the code's expiry);
/// * 7: the laptop is asked to accept the offer, and to confirm, with the
///   wrong account.
///
/// Invariants: a step succeeds only on this link's genuine, unchanged
/// message (and a right confirmation); a refused message changes nothing
/// either side shows, except a wrong confirmation, which ends that side's
/// link for good; an offer past the code's expiry is refused; the phone
/// completes once, only after the laptop confirmed (and hands out that
/// same completion again when asked); and the
/// laptop's every read of the transfer gives Alice's user key, a list of
/// version 2 holding both devices, and the app data.
pub fn device_link(data: &[u8]) {
    let world = device_world();
    let mut prog = Program::new(data);
    let mut rng = rng(u64::from(prog.byte()));
    let mut now = NOW_MS;
    let mut request = LinkRequest::new(&world.laptop, &mut rng, now);
    let expires = request.expires_at_ms();
    let mut linker: Option<Linker> = None;
    let mut linker_short: Option<ShortString> = None;
    // What the laptop showed when it accepted the offer (it shows nothing
    // once a wrong confirmation ended its side).
    let mut request_short: Option<ShortString> = None;
    let mut sent = Sent::default();
    let (mut accepted, mut confirmed, mut completed, mut request_ended) = (false, false, false, false);
    while let Some(op) = prog.op() {
        match op % 8 {
            0 => {
                let mut code = request.code().to_vec();
                let flipped = prog.byte() & 1 == 1;
                if flipped {
                    flip(&mut code, prog.u16());
                }
                let Ok(code) = LinkCode::from_bytes(&code) else { continue };
                if let Ok((started, offer)) = Linker::start(&code, &world.phone, world.alice.public(), &mut rng, now) {
                    assert!(now <= code.expires_at_ms());
                    if !flipped && linker.is_none() {
                        linker = Some(started);
                        sent.messages[0] = Some(offer);
                    }
                }
            }
            1 => {
                let Some((source, offer)) = sent.pick(0, &mut prog) else { continue };
                let before = request_view(&request);
                match request.accept_offer(&offer, &world.laptop, now) {
                    Ok(accept) => {
                        stats::record("device_link/offer/accepted");
                        assert!(source == Source::Genuine && !accepted && !request_ended && now <= expires);
                        accepted = true;
                        request_short = request.short_string();
                        assert!(request_short.is_some());
                        sent.messages[1] = Some(accept);
                    }
                    Err(_) => assert!(request_view(&request) == before, "a refused offer changed the request"),
                }
            }
            2 => {
                let Some((source, accept)) = sent.pick(1, &mut prog) else { continue };
                let Some(linker) = linker.as_mut() else { continue };
                let before = format!("{linker:?}");
                match linker.receive_accept(&accept) {
                    Ok(short) => {
                        stats::record("device_link/acceptance/accepted");
                        assert!(source == Source::Genuine && linker_short.is_none());
                        assert!(Some(short) == request_short, "the two screens disagree");
                        linker_short = Some(short);
                    }
                    Err(_) => assert!(format!("{linker:?}") == before, "a refused acceptance changed the linker"),
                }
            }
            3 => {
                let (right, typed) = confirmation(request.short_string(), &mut prog);
                let before = request_view(&request);
                match request.confirm(&typed, &world.laptop) {
                    Ok(message) => {
                        stats::record("device_link/confirmed");
                        assert!(right && accepted && !confirmed && !request_ended);
                        confirmed = true;
                        sent.messages[2] = Some(message);
                    }
                    Err(Error::Device(DeviceError::ShortStringMismatch)) => {
                        assert!(!right && accepted && !confirmed);
                        request_ended = true;
                    }
                    Err(_) => assert!(request_view(&request) == before, "a refused confirmation changed the request"),
                }
            }
            4 => {
                let Some((source, message)) = sent.pick(2, &mut prog) else { continue };
                let Some(linker) = linker.as_mut() else { continue };
                let (right, typed) = confirmation(linker_short, &mut prog);
                let before = format!("{linker:?}");
                match linker.complete(&typed, &message, &world.alice, &world.list, b"groups") {
                    Ok(done) => {
                        assert!(right && done.devices.version() == 2 && done.devices.contains(world.laptop.identity()));
                        match &sent.messages[3] {
                            // Completed before: the same completion again.
                            Some(transfer) => assert!(completed && *transfer == done.transfer),
                            None => {
                                stats::record("device_link/confirmation/accepted");
                                assert!(source == Source::Genuine && confirmed && !completed);
                                completed = true;
                                sent.messages[3] = Some(done.transfer);
                            }
                        }
                    }
                    Err(Error::Device(DeviceError::ShortStringMismatch)) => assert!(!right && linker_short.is_some()),
                    Err(_) => assert!(format!("{linker:?}") == before, "a refused completion changed the linker"),
                }
            }
            5 => {
                let Some((source, transfer)) = sent.pick(3, &mut prog) else { continue };
                if let Ok(linked) = request.finish(&transfer) {
                    stats::record("device_link/transfer/accepted");
                    assert!(source == Source::Genuine && confirmed && completed && !request_ended);
                    assert!(linked.user.public() == world.alice.public());
                    let devices = &linked.devices;
                    assert!(devices.version() == 2 && devices.devices().len() == 2);
                    assert!(devices.contains(world.laptop.identity()) && devices.contains(world.phone.identity()));
                    assert!(&linked.app_data[..] == b"groups");
                    assert!(world.list.update(devices).is_ok());
                }
            }
            6 => now = now.saturating_add(u64::from(prog.u16()) * 1000),
            _ => {
                let before = request_view(&request);
                if let Some(offer) = sent.messages[0].clone() {
                    assert!(request.accept_offer(&offer, &world.phone, now).is_err());
                }
                if let Some(short) = request.short_string() {
                    assert!(request.confirm(&short.to_string(), &world.phone).is_err());
                }
                assert!(request_view(&request) == before);
            }
        }
    }
}
