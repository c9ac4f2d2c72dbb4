//! Attachments: round trips at every chunk boundary; every tamper
//! (truncation at and inside chunks, reorder, duplication, a dropped final
//! chunk, a flipped bit in every chunk position, a wrong key, a pointer moved
//! to another upload) a typed error before any plaintext of the chunk is
//! released; random-access reads equal the plaintext slice (proptest);
//! pointers parse canonically; progress and cancellation; pointers through
//! a 1:1 session, a group and a Forkout.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;

use proptest::prelude::*;
use sealpost::attachment::{self, CHUNK_OVERHEAD, Decryptor, Encryptor, HEADER_LEN, Metadata, Pointer};
use sealpost::{AttachmentError, Error};
use sealpost_testkit::{Conversation, ForkoutWorld, GroupWorld, NOW, rng};

const CHUNK: usize = 16 * 1024;

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Encrypts with 16 KiB chunks.
fn seal(plaintext: &[u8], seed: u64) -> (Pointer, Vec<u8>) {
    let mut upload = Vec::new();
    let mut enc =
        Encryptor::with_chunk_size(&mut upload, Metadata::new("application/octet-stream"), CHUNK, &mut rng(seed))
            .unwrap();
    // Uneven writes, to cross chunk boundaries inside one write.
    for piece in plaintext.chunks(7_000) {
        enc.write_all(piece).unwrap();
    }
    let pointer = enc.finish().unwrap();
    assert_eq!(upload.len() as u64, pointer.ciphertext_len());
    (pointer, upload)
}

/// Reads the whole upload through a decryptor; returns what it released
/// before the error, and the error.
fn read_all(pointer: &Pointer, upload: &[u8]) -> (Vec<u8>, Option<Error>) {
    let mut dec = match Decryptor::new(upload, pointer) {
        Ok(d) => d,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut out = Vec::new();
    let mut buf = [0u8; 5000];
    loop {
        match dec.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(Error::Attachment(AttachmentError::from(e)))),
        }
    }
}

const BOUNDARIES: [usize; 7] = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17];

#[test]
fn every_chunk_boundary_round_trips() {
    for (i, len) in BOUNDARIES.into_iter().enumerate() {
        let plaintext = data(len);
        let (pointer, upload) = seal(&plaintext, i as u64);
        assert_eq!(pointer.len(), len as u64);
        let chunks = len.div_ceil(CHUNK).max(1);
        assert_eq!(upload.len(), HEADER_LEN + len + chunks * CHUNK_OVERHEAD, "len {len}");
        assert_eq!(read_all(&pointer, &upload), (plaintext.clone(), None), "len {len}");
        assert_eq!(&*attachment::decrypt(&pointer, &upload).unwrap(), &plaintext[..]);
    }
}

/// A tampered upload is refused with `expected`, and nothing of the
/// affected chunk (or after it) was released.
fn refused(pointer: &Pointer, upload: &[u8], plaintext: &[u8], bad_chunk: usize, what: &str) -> Error {
    let (released, err) = read_all(pointer, upload);
    let err = err.unwrap_or_else(|| panic!("{what}: accepted"));
    assert!(released.len() <= bad_chunk * CHUNK, "{what}: released {} bytes of chunk {bad_chunk}", released.len());
    assert_eq!(&released[..], &plaintext[..released.len()], "{what}: released wrong bytes");
    assert!(attachment::decrypt(pointer, upload).is_err(), "{what}: decrypt accepted");
    err
}

#[test]
fn truncation_anywhere_is_refused() {
    let plaintext = data(3 * CHUNK + 100);
    let (pointer, upload) = seal(&plaintext, 1);
    let chunk_ct = CHUNK + CHUNK_OVERHEAD;
    let mut cuts = vec![0, 10, HEADER_LEN];
    for c in 0..4 {
        let start = HEADER_LEN + c * chunk_ct;
        cuts.extend([start, start + 1, start + CHUNK / 2, (start + chunk_ct - 1).min(upload.len() - 1)]);
    }
    cuts.push(upload.len() - 1);
    cuts.retain(|&c| c < upload.len());
    for cut in cuts {
        let bad_chunk = cut.saturating_sub(HEADER_LEN) / chunk_ct;
        let err = refused(&pointer, &upload[..cut], &plaintext, bad_chunk, &format!("cut at {cut}"));
        assert!(matches!(err, Error::Attachment(AttachmentError::Truncated { .. })), "cut at {cut}: {err:?}");
    }
    // An extension is refused too.
    let mut longer = upload.clone();
    longer.push(0);
    assert_eq!(refused(&pointer, &longer, &plaintext, 3, "extended"), Error::Attachment(AttachmentError::TrailingData));
}

#[test]
fn reordered_duplicated_and_dropped_chunks_are_refused() {
    let plaintext = data(4 * CHUNK);
    let (pointer, upload) = seal(&plaintext, 2);
    let chunk_ct = CHUNK + CHUNK_OVERHEAD;
    let chunk = |i: usize| &upload[HEADER_LEN + i * chunk_ct..HEADER_LEN + (i + 1) * chunk_ct];
    let header = &upload[..HEADER_LEN];
    let build = |order: &[usize]| -> Vec<u8> {
        let mut out = header.to_vec();
        for &i in order {
            out.extend_from_slice(chunk(i));
        }
        out
    };
    // Swapped chunks 1 and 2.
    let err = refused(&pointer, &build(&[0, 2, 1, 3]), &plaintext, 1, "swap");
    assert_eq!(err, Error::Attachment(AttachmentError::ChunkAuthentication { chunk: 1 }));
    // Chunk 1 twice, in place of chunk 2.
    assert_eq!(
        refused(&pointer, &build(&[0, 1, 1, 3]), &plaintext, 2, "duplicate"),
        Error::Attachment(AttachmentError::ChunkAuthentication { chunk: 2 })
    );
    // The final chunk dropped, with a pointer claiming the shorter length:
    // chunk 2 was not sealed as the last.
    let mut short = pointer.clone();
    let bytes = short.to_bytes();
    let mut edited = bytes.to_vec();
    edited[2 + 32 + 1..2 + 32 + 1 + 8].copy_from_slice(&(3 * CHUNK as u64).to_be_bytes());
    short = Pointer::parse(&edited).unwrap();
    assert_eq!(
        refused(&short, &build(&[0, 1, 2]), &plaintext, 2, "dropped final chunk"),
        Error::Attachment(AttachmentError::ChunkAuthentication { chunk: 2 })
    );
    // And with the true pointer: truncated.
    assert!(matches!(
        refused(&pointer, &build(&[0, 1, 2]), &plaintext, 3, "dropped final chunk"),
        Error::Attachment(AttachmentError::Truncated { chunk: 3 })
    ));
}

#[test]
fn a_flipped_bit_anywhere_is_refused_before_its_chunk_is_released() {
    let plaintext = data(2 * CHUNK + 5);
    let (pointer, upload) = seal(&plaintext, 3);
    let chunk_ct = CHUNK + CHUNK_OVERHEAD;
    // Every header byte, and in each chunk: its first bytes, middle, tag.
    let mut positions: Vec<usize> = (0..HEADER_LEN).collect();
    for c in 0..3 {
        let start = HEADER_LEN + c * chunk_ct;
        let end = (start + chunk_ct).min(upload.len());
        positions.extend([start, start + 1, (start + end) / 2, end - 16, end - 1]);
    }
    for at in positions {
        let mut bad = upload.clone();
        bad[at] ^= 0x04;
        let bad_chunk = at.saturating_sub(HEADER_LEN) / chunk_ct;
        let err =
            refused(&pointer, &bad, &plaintext, if at < HEADER_LEN { 0 } else { bad_chunk }, &format!("bit at {at}"));
        if at < HEADER_LEN {
            // A malformed header (version, type, chunk size) or one that is
            // not the pointer's: refused before any chunk is read.
            assert!(
                matches!(err, Error::Wire(_) | Error::Attachment(AttachmentError::KeyMismatch)),
                "header byte {at}: {err:?}"
            );
        } else {
            let expected = Error::Attachment(AttachmentError::ChunkAuthentication { chunk: bad_chunk as u64 });
            assert_eq!(err, expected, "byte {at}");
        }
    }
}

#[test]
fn a_wrong_key_or_a_pointer_moved_to_another_upload_is_refused_up_front() {
    let (pointer, upload) = seal(&data(CHUNK + 3), 4);
    let (other_pointer, other_upload) = seal(&data(CHUNK + 3), 5);
    assert_eq!(
        Decryptor::new(&other_upload[..], &pointer).unwrap_err(),
        Error::Attachment(AttachmentError::KeyMismatch)
    );
    assert_eq!(
        Decryptor::new(&upload[..], &other_pointer).unwrap_err(),
        Error::Attachment(AttachmentError::KeyMismatch)
    );
    // Another header on the right chunks: refused at the header too.
    let mut spliced = other_upload[..HEADER_LEN].to_vec();
    spliced.extend_from_slice(&upload[HEADER_LEN..]);
    assert!(Decryptor::new(&spliced[..], &pointer).is_err());
    // A wrong key in the pointer.
    let mut bytes = pointer.to_bytes().to_vec();
    bytes[2] ^= 1;
    let wrong = Pointer::parse(&bytes).unwrap();
    assert_eq!(Decryptor::new(&upload[..], &wrong).unwrap_err(), Error::Attachment(AttachmentError::KeyMismatch));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn random_access_reads_equal_the_plaintext_slice(
        len in 0usize..5 * CHUNK,
        reads in proptest::collection::vec((any::<u64>(), 0usize..3 * CHUNK), 1..8),
    ) {
        let plaintext = data(len);
        let (pointer, upload) = seal(&plaintext, len as u64);
        let mut dec = Decryptor::new(Cursor::new(&upload), &pointer).unwrap();
        for (start, n) in reads {
            let start = if len == 0 { 0 } else { start % (len as u64 + 1) } as usize;
            dec.seek(SeekFrom::Start(start as u64)).unwrap();
            let mut got = vec![0u8; n];
            let mut filled = 0;
            while filled < n {
                let k = dec.read(&mut got[filled..]).unwrap();
                if k == 0 { break; }
                filled += k;
            }
            let end = (start + n).min(len);
            prop_assert_eq!(&got[..filled], &plaintext[start..end]);
        }
    }
}

#[test]
fn a_seek_to_the_end_reads_one_or_two_chunks() {
    /// Counts the upload bytes read.
    struct Counting<'a> {
        inner: Cursor<&'a [u8]>,
        read: usize,
    }
    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n;
            Ok(n)
        }
    }
    impl Seek for Counting<'_> {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(to)
        }
    }
    let plaintext = data(64 * CHUNK);
    let (pointer, upload) = seal(&plaintext, 6);
    let mut dec = Decryptor::new(Counting { inner: Cursor::new(&upload[..]), read: 0 }, &pointer).unwrap();
    let mut range = vec![0u8; CHUNK];
    let from = plaintext.len() - CHUNK - 100; // straddles the last two chunks
    dec.read_at(from as u64, &mut range).unwrap();
    assert_eq!(&range[..], &plaintext[from..from + CHUNK]);
    let Counting { read, .. } = dec_into_inner(dec);
    assert!(read <= HEADER_LEN + 2 * (CHUNK + CHUNK_OVERHEAD) + 1, "read {read} bytes of {}", upload.len());

    fn dec_into_inner<R: Read>(d: Decryptor<R>) -> R {
        d.into_inner()
    }
}

#[test]
fn progress_is_reported_and_cancellation_stops() {
    let plaintext = data(300_000);
    let mut upload = Vec::new();
    let mut seen = Vec::new();
    let pointer = attachment::encrypt_stream(
        &plaintext[..],
        &mut upload,
        Metadata::new("video/webm"),
        Some(plaintext.len() as u64),
        &mut rng(7),
        |p| {
            seen.push(p.done);
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert_eq!(seen.last(), Some(&300_000));
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    let mut out = Vec::new();
    let mut decrypted = Vec::new();
    attachment::decrypt_stream(&upload[..], &mut out, &pointer, |p| {
        decrypted.push(p.done);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(out, plaintext);
    assert_eq!(decrypted.last(), Some(&300_000));
    // Cancel after the first chunk, both ways.
    let cancelled =
        attachment::encrypt_stream(&plaintext[..], Vec::new(), Metadata::default(), None, &mut rng(8), |_| {
            ControlFlow::Break(())
        });
    assert_eq!(cancelled.unwrap_err(), Error::Attachment(AttachmentError::Cancelled));
    let cancelled = attachment::decrypt_stream(&upload[..], Vec::new(), &pointer, |_| ControlFlow::Break(()));
    assert_eq!(cancelled.unwrap_err(), Error::Attachment(AttachmentError::Cancelled));
}

#[test]
fn a_refused_chunk_is_reported_again_and_a_seek_reads_past_it() {
    let plaintext = data(3 * CHUNK);
    let (pointer, mut upload) = seal(&plaintext, 13);
    upload[HEADER_LEN + CHUNK + CHUNK_OVERHEAD + 10] ^= 1; // chunk 1
    let mut dec = Decryptor::new(Cursor::new(&upload), &pointer).unwrap();
    let mut buf = vec![0u8; CHUNK];
    dec.read_exact(&mut buf).unwrap();
    for _ in 0..2 {
        let e = AttachmentError::from(dec.read(&mut buf).unwrap_err());
        assert_eq!(e, AttachmentError::ChunkAuthentication { chunk: 1 });
    }
    // A player skips the damaged chunk: chunk 2 still reads.
    dec.seek(SeekFrom::Start(2 * CHUNK as u64)).unwrap();
    dec.read_exact(&mut buf).unwrap();
    assert_eq!(&buf[..], &plaintext[2 * CHUNK..]);
}

#[test]
fn seeking_to_the_end_and_back_reads_on() {
    // The player's pattern: read the start, find the length, go back.
    let plaintext = data(4 * CHUNK + 10);
    let (pointer, upload) = seal(&plaintext, 14);
    let mut dec = Decryptor::new(Cursor::new(&upload), &pointer).unwrap();
    let mut head = [0u8; 10];
    dec.read_exact(&mut head).unwrap();
    assert_eq!(dec.seek(SeekFrom::End(0)).unwrap(), plaintext.len() as u64);
    assert_eq!(dec.read(&mut head).unwrap(), 0);
    dec.seek(SeekFrom::Start(100)).unwrap();
    let mut rest = Vec::new();
    dec.read_to_end(&mut rest).unwrap();
    assert_eq!(&rest[..], &plaintext[100..]);
    // And from inside the loaded chunk after the input moved on.
    dec.seek(SeekFrom::Start(5)).unwrap();
    dec.read_exact(&mut head).unwrap();
    dec.seek(SeekFrom::Current(-5)).unwrap();
    let mut again = Vec::new();
    dec.read_to_end(&mut again).unwrap();
    assert_eq!(&again[..], &plaintext[10..]);
}

#[test]
fn a_read_that_failed_mid_chunk_recovers_after_a_seek() {
    /// Fails one read once the position passes `fail_at`.
    struct Flaky<'a> {
        inner: Cursor<&'a [u8]>,
        fail_at: u64,
    }
    impl Read for Flaky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.inner.position() >= self.fail_at {
                self.fail_at = u64::MAX;
                return Err(std::io::Error::other("network timeout"));
            }
            let len = buf.len();
            let n = len.min((self.fail_at - self.inner.position()) as usize).max(1).min(len);
            self.inner.read(&mut buf[..n])
        }
    }
    impl Seek for Flaky<'_> {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(to)
        }
    }
    let plaintext = data(3 * CHUNK);
    let (pointer, upload) = seal(&plaintext, 15);
    let fail_at = (HEADER_LEN + CHUNK + CHUNK_OVERHEAD + 500) as u64; // inside chunk 1
    let mut dec = Decryptor::new(Flaky { inner: Cursor::new(&upload[..]), fail_at }, &pointer).unwrap();
    let mut all = Vec::new();
    let err = dec.read_to_end(&mut all).unwrap_err();
    assert!(err.to_string().contains("network timeout"), "{err}");
    assert_eq!(all.len(), CHUNK, "chunk 0 only");
    dec.seek(SeekFrom::Start(CHUNK as u64)).unwrap();
    let mut rest = Vec::new();
    dec.read_to_end(&mut rest).unwrap();
    assert_eq!(&rest[..], &plaintext[CHUNK..]);
}

#[test]
fn after_a_failed_write_the_encryptor_seals_nothing_more() {
    /// Accepts `ok` writes, then fails once, then accepts again.
    struct Flaky {
        ok: usize,
        written: Vec<Vec<u8>>,
    }
    impl Write for Flaky {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.ok == 0 {
                self.ok = usize::MAX;
                return Err(std::io::Error::other("disk full"));
            }
            self.ok -= 1;
            self.written.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // The header and chunk 0 go through; chunk 1 fails.
    let mut out = Flaky { ok: 2, written: Vec::new() };
    let mut enc = Encryptor::with_chunk_size(&mut out, Metadata::default(), CHUNK, &mut rng(12)).unwrap();
    enc.write_all(&data(2 * CHUNK)).unwrap();
    let failed = enc.write_all(&[1; 10]).unwrap_err();
    assert!(failed.to_string().contains("disk full"), "{failed}");
    // Retrying would seal chunk 1 again under its nonce: refused, typed.
    let again = enc.write(&[2; 10]).unwrap_err();
    assert_eq!(AttachmentError::from(again), AttachmentError::EncryptorFailed);
    assert_eq!(enc.finish().unwrap_err(), Error::Attachment(AttachmentError::EncryptorFailed));
    assert_eq!(out.written.len(), 2, "nothing was written after the failure");
}

#[test]
fn pointers_parse_canonically_and_keep_their_secret_out_of_debug() {
    let meta = Metadata::new("audio/ogg")
        .with_file_name("standup.ogg")
        .with_duration_ms(42_000)
        .with_waveform(vec![1, 2, 3])
        .with_thumbnail(vec![9; 100]);
    let (pointer, _) = attachment::encrypt(b"x", meta.clone(), &mut rng(9)).unwrap();
    assert_eq!(pointer.metadata(), &meta);
    let bytes = pointer.to_bytes();
    assert_eq!(Pointer::parse(&bytes).unwrap(), pointer);
    for cut in 0..bytes.len() {
        assert!(Pointer::parse(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(Pointer::parse(&longer).is_err());
    // An unknown flag, a chunk size out of range, a length over the limit.
    let flags_at = 2 + 32 + 1 + 8 + 4 + "audio/ogg".len();
    for (at, value) in [(flags_at, 0x10u8), (2 + 32, 13), (2 + 32, 21), (2 + 32 + 1, 0x01)] {
        let mut bad = bytes.to_vec();
        bad[at] = value;
        assert!(Pointer::parse(&bad).is_err(), "byte {at} = {value}");
    }
    let debug = format!("{pointer:?}");
    let key_hex: String = bytes[2..34].iter().map(|b| format!("{b:02x}")).collect();
    assert!(!debug.contains(&key_hex) && !debug.contains(&format!("{:?}", &bytes[2..34])));
    // Metadata over its bounds cannot be encrypted.
    assert!(attachment::encrypt(b"x", Metadata::new("x".repeat(300)), &mut rng(10)).is_err());
}

#[test]
fn a_pointer_travels_in_a_session_a_group_and_a_forkout() {
    let mut r = rng(11);
    let file = data(100_000);
    let (pointer, upload) = attachment::encrypt(&file, Metadata::new("image/png"), &mut r).unwrap();
    let sent = pointer.to_bytes();

    let mut conv = Conversation::established(&mut r);
    let m = conv.a.encrypt(&sent, &mut r).unwrap();
    let got = Pointer::parse(&conv.b.decrypt(&m).unwrap()).unwrap();
    assert_eq!(&*attachment::decrypt(&got, &upload).unwrap(), &file[..]);

    let mut world = GroupWorld::new(3, &mut r);
    let m = world.members[0].group.encrypt(&sent, &mut r).unwrap();
    for member in &mut world.members[1..] {
        let opened = member.group.decrypt(&m, NOW).unwrap().into_opened().into_message().unwrap();
        assert_eq!(&*attachment::decrypt(&Pointer::parse(&opened).unwrap(), &upload).unwrap(), &file[..]);
    }

    let mut world = ForkoutWorld::new(12).with_peers(3);
    let bundle = world.seal_to_all(sent.to_vec(), None).0.to_bytes();
    for peer in &mut world.peers {
        let delivery = sealpost::forkout::split(&bundle, peer.account.identity()).unwrap();
        let opened = sealpost::forkout::open(&mut peer.account, &mut peer.session, &delivery, NOW).unwrap();
        let got = Pointer::parse(&opened.into_body().unwrap()).unwrap();
        assert_eq!(&*attachment::decrypt(&got, &upload).unwrap(), &file[..]);
    }
}
