//! Attachment targets: the pointer parser, and the stream reader on valid,
//! tampered and arbitrary uploads.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::sync::OnceLock;

use sealpost::attachment::{self, Decryptor, Encryptor, Metadata, Pointer};

use super::stats;
use crate::rng;

/// The chunk size of the harness's uploads: the smallest, so short inputs
/// cross chunk boundaries.
pub const CHUNK: usize = 16 * 1024;

/// Parses a pointer; one that parses re-encodes to its input.
pub fn attachment_pointer(data: &[u8]) {
    let Ok(pointer) = Pointer::parse(data) else { return };
    stats::record("attachment_pointer/parsed");
    assert!(pointer.to_bytes().as_slice() == data, "pointer did not re-encode");
    assert!(pointer.ciphertext_len() > pointer.len() || pointer.is_empty());
}

/// Encrypts `plaintext` with 16 KiB chunks under a fixed seed.
pub fn seal(plaintext: &[u8]) -> (Pointer, Vec<u8>) {
    let mut upload = Vec::new();
    let mut enc =
        Encryptor::with_chunk_size(&mut upload, Metadata::new("application/octet-stream"), CHUNK, &mut rng(7))
            .expect("16 KiB is a valid chunk size");
    enc.write_all(plaintext).expect("in memory");
    let pointer = enc.finish().expect("in memory");
    (pointer, upload)
}

/// The fixed attachment modes 1 and 2 work against: 3 chunks and 5 bytes.
pub fn fixture() -> &'static (Vec<u8>, Pointer, Vec<u8>) {
    static FIXTURE: OnceLock<(Vec<u8>, Pointer, Vec<u8>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let plaintext: Vec<u8> = (0..3 * CHUNK + 5).map(|i| (i % 253) as u8).collect();
        let (pointer, upload) = seal(&plaintext);
        (plaintext, pointer, upload)
    })
}

/// Reads everything; returns what was released and whether it ended well.
fn read_all<R: Read>(mut dec: Decryptor<R>) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let ok = dec.read_to_end(&mut out).is_ok();
    (out, ok)
}

/// Byte 0 picks a mode:
///
/// * 0: the rest is a plaintext; it round-trips, and a seek read at an
///   offset taken from its first bytes equals the plaintext's slice;
/// * 1: the fixed upload with edits (the rest as `(position u16, xor
///   byte)` triples, a first byte 0xff meaning "then truncate at the next
///   u16"): it opens only if the edits changed nothing, and what a failed
///   read released is a prefix of the plaintext, ending at a chunk
///   boundary;
/// * 2: the rest is an upload under the fixed pointer: it opens only if it
///   is the fixed upload; seeks and reads never panic.
pub fn attachment_open(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        0 => {
            let (pointer, upload) = seal(rest);
            let opened = attachment::decrypt(&pointer, &upload).expect("a valid upload opens");
            assert!(opened.as_slice() == rest);
            let offset = rest.iter().take(2).fold(0usize, |a, &b| a << 8 | usize::from(b)) % (rest.len() + 1);
            let mut dec = Decryptor::new(Cursor::new(&upload), &pointer).expect("its own header");
            dec.seek(SeekFrom::Start(offset as u64)).expect("seek");
            let mut tail = Vec::new();
            dec.read_to_end(&mut tail).expect("a valid upload reads");
            assert!(tail.as_slice() == &rest[offset..]);
            stats::record("attachment_open/round_trip");
        }
        1 => {
            let (plaintext, pointer, upload) = fixture();
            let mut edited = upload.clone();
            let mut args = rest.chunks_exact(3);
            for edit in args.by_ref() {
                let (at, xor) = (usize::from(u16::from_be_bytes([edit[0], edit[1]])), edit[2]);
                if edit[0] == 0xff && edit[1] == 0xff {
                    edited.truncate(usize::from(xor) * 256);
                    break;
                }
                if let Some(b) = edited.get_mut(at % upload.len()) {
                    *b ^= xor;
                }
            }
            let Ok(dec) = Decryptor::new(&edited[..], pointer) else {
                assert!(edited != *upload, "the valid upload was refused");
                stats::record("attachment_open/header_refused");
                return;
            };
            let (released, ok) = read_all(dec);
            assert!(released.as_slice() == &plaintext[..released.len()], "released bytes that are not the plaintext");
            if ok {
                assert!(edited == *upload, "a changed upload was accepted");
                stats::record("attachment_open/valid");
            } else {
                assert!(released.len() % CHUNK == 0, "released part of a refused chunk");
                stats::record("attachment_open/tamper_refused");
            }
        }
        _ => {
            let (_, pointer, upload) = fixture();
            if let Ok(mut dec) = Decryptor::new(Cursor::new(rest), pointer) {
                stats::record("attachment_open/header_accepted");
                let _ = dec.seek(SeekFrom::Start(u64::from(rest.len() as u32 % 60_000)));
                let mut buf = [0u8; 100];
                let _ = dec.read(&mut buf);
                let _ = dec.seek(SeekFrom::Start(0));
                let (_, ok) = read_all(dec);
                assert!(!ok || rest == upload.as_slice(), "an arbitrary upload opened");
            }
        }
    }
}
