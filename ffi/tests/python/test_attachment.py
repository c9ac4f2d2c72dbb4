"""Attachments through the Python bindings: a 300 MB file encrypted to a
file and decrypted back in constant memory with progress, a range read in
the middle, cancellation, a tampered upload, and the pointer's metadata."""

import hashlib
import os
import tempfile
import unittest

import sealpost
from sealpost import AttachmentMetadata, AttachmentProgress, SealpostError

MB = 1_000_000
SIZE = 300 * MB


class Counter(AttachmentProgress):
    """Counts reports; cancels after `stop_after` of them if given."""

    def __init__(self, stop_after=None):
        self.calls = []
        self.stop_after = stop_after

    def on_progress(self, done, total):
        self.calls.append((done, total))
        return self.stop_after is None or len(self.calls) < self.stop_after


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class LargeFileRoundTrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.plain = os.path.join(cls.dir.name, "recording.webm")
        block = bytes(range(256)) * 4096  # 1 MiB of a pattern, then varied
        with open(cls.plain, "wb") as f:
            written = 0
            i = 0
            while written < SIZE:
                piece = block[: min(len(block), SIZE - written)]
                f.write(bytes([i % 256]) + piece[1:])
                written += len(piece)
                i += 1
        cls.upload = os.path.join(cls.dir.name, "upload.bin")
        cls.progress = Counter()
        meta = AttachmentMetadata(
            content_type="video/webm",
            file_name="recording.webm",
            duration_ms=600_000,
            waveform=None,
            thumbnail=bytes(100),
        )
        cls.pointer = sealpost.attachment_encrypt_file(cls.plain, cls.upload, meta, cls.progress)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_the_pointer_describes_the_upload(self):
        info = sealpost.attachment_info(self.pointer)
        self.assertEqual(info.len, SIZE)
        self.assertEqual(info.ciphertext_len, os.path.getsize(self.upload))
        self.assertEqual(info.chunk_size, 64 * 1024)
        self.assertEqual(info.metadata.file_name, "recording.webm")
        self.assertEqual(info.metadata.duration_ms, 600_000)
        self.assertLess(len(self.pointer), 300)  # small enough for any message

    def test_progress_was_reported_per_chunk(self):
        calls = self.progress.calls
        self.assertEqual(len(calls), -(-SIZE // (64 * 1024)))
        self.assertEqual(calls[-1], (SIZE, SIZE))
        self.assertTrue(all(a[0] < b[0] for a, b in zip(calls, calls[1:])))

    def test_decrypting_to_a_file_gives_the_same_bytes(self):
        out = os.path.join(self.dir.name, "decrypted.webm")
        progress = Counter()
        sealpost.attachment_decrypt_file(self.pointer, self.upload, out, progress)
        self.assertEqual(sha256_of(out), sha256_of(self.plain))
        self.assertEqual(progress.calls[-1], (SIZE, SIZE))
        os.remove(out)

    def test_a_range_in_the_middle_reads_what_the_file_holds(self):
        offset = SIZE // 2 + 12_345
        got = sealpost.attachment_read_range(self.pointer, self.upload, offset, 100_000)
        with open(self.plain, "rb") as f:
            f.seek(offset)
            self.assertEqual(got, f.read(100_000))
        # Past the end: fewer bytes.
        self.assertEqual(len(sealpost.attachment_read_range(self.pointer, self.upload, SIZE - 10, 100)), 10)

    def test_cancelling_stops_with_a_typed_error(self):
        out = os.path.join(self.dir.name, "cancelled.bin")
        with self.assertRaises(SealpostError.Cancelled):
            sealpost.attachment_decrypt_file(self.pointer, self.upload, out, Counter(stop_after=3))
        with self.assertRaises(SealpostError.Cancelled):
            sealpost.attachment_encrypt_file(self.plain, out, AttachmentMetadata(content_type="x", file_name=None, duration_ms=None, waveform=None, thumbnail=None), Counter(stop_after=2))

    def test_a_tampered_or_wrong_upload_is_refused(self):
        bad = os.path.join(self.dir.name, "bad.bin")
        with open(self.upload, "rb") as src, open(bad, "wb") as dst:
            head = bytearray(src.read(10 * MB))
            head[5 * MB] ^= 1
            dst.write(head)
            for block in iter(lambda: src.read(1 << 20), b""):
                dst.write(block)
        out = os.path.join(self.dir.name, "bad-out.bin")
        with self.assertRaises(SealpostError.ChunkAuthentication):
            sealpost.attachment_decrypt_file(self.pointer, bad, out, None)
        other = sealpost.attachment_encrypt(b"another file", AttachmentMetadata(content_type="text/plain", file_name=None, duration_ms=None, waveform=None, thumbnail=None))
        with self.assertRaises(SealpostError.AttachmentKeyMismatch):
            sealpost.attachment_decrypt(other.pointer, open(self.upload, "rb").read(1000))
        self.assertEqual(sealpost.attachment_decrypt(other.pointer, other.upload), b"another file")
        with self.assertRaises(SealpostError.Io):
            sealpost.attachment_decrypt_file(self.pointer, os.path.join(self.dir.name, "missing"), out, None)


if __name__ == "__main__":
    unittest.main()
