"""End-to-end tests of the generated Python bindings (module `sealpost`).

Run through ffi/scripts/test-python.sh, which builds libsealpost_ffi,
generates `sealpost.py` next to it and puts that directory on PYTHONPATH.
Everything here goes through the real C ABI, exactly as Kotlin and Swift do.
"""

import threading
import unittest

import sealpost
from sealpost import Account, SealpostError, Session

NOW = 1_700_000_000_000


def flip(message: bytes, index: int) -> bytes:
    """`message` with one bit of byte `index` flipped."""
    b = bytearray(message)
    b[index] ^= 0x01
    return bytes(b)


class OfflineSetupAndReordering(unittest.TestCase):
    def test_offline_setup_then_conversation_out_of_order(self):
        alice = Account(NOW)
        bob = Account(NOW)
        ids = bob.generate_one_time_prekeys(5)
        self.assertEqual(ids, [1, 2, 3, 4, 5])
        self.assertEqual(bob.remaining_one_time_prekeys(), 5)
        bundles = bob.prekey_bundles()  # uploaded to the server
        self.assertEqual(len(bundles), 5)

        # Alice fetches one bundle while Bob is offline and writes three messages.
        info = sealpost.verify_prekey_bundle(bundles[0])
        self.assertEqual(info.identity_key, bob.identity_key())
        self.assertEqual(info.one_time_prekey_id, 1)
        to_bob = alice.create_outbound_session(bundles[0])
        self.assertFalse(to_bob.is_confirmed())
        m1 = to_bob.encrypt(b"are you around tomorrow?")
        m2 = to_bob.encrypt(b"(no rush)")
        m3 = to_bob.encrypt(b"bring the slides")

        # Bob comes online; the server delivers the last message first.
        inbound = bob.create_inbound_session(m3)
        to_alice = inbound.session
        self.assertEqual(inbound.plaintext, b"bring the slides")
        self.assertEqual(bob.remaining_one_time_prekeys(), 4)
        self.assertEqual(to_alice.peer_identity_key(), alice.identity_key())
        self.assertEqual(to_alice.local_identity_key(), bob.identity_key())
        self.assertEqual(to_alice.skipped_key_count(), 2)
        self.assertEqual(bob.decrypt(to_alice, m1), b"are you around tomorrow?")
        self.assertEqual(bob.decrypt(to_alice, m2), b"(no rush)")
        self.assertEqual(to_alice.skipped_key_count(), 0)

        # Bob answers twice; Alice reads the answers in reverse.
        r1 = to_alice.encrypt(b"yes, 10am")
        r2 = to_alice.encrypt(b"see you")
        self.assertEqual(alice.decrypt(to_bob, r2), b"see you")
        self.assertEqual(alice.decrypt(to_bob, r1), b"yes, 10am")
        self.assertTrue(to_bob.is_confirmed())
        self.assertEqual(to_bob.session_id(), to_alice.session_id())

        # Several ratchet turns with every message delayed by one.
        pending = []
        for i in range(6):
            pending.append(to_bob.encrypt(f"a{i}".encode()))
            if len(pending) == 2:
                late, on_time = pending
                self.assertEqual(to_alice.decrypt(on_time), f"a{i}".encode())
                self.assertEqual(to_alice.decrypt(late), f"a{i - 1}".encode())
                pending = []
            reply = to_alice.encrypt(f"b{i}".encode())
            self.assertEqual(alice.decrypt(to_bob, reply), f"b{i}".encode())

        # Both phones show the same safety number.
        n = alice.safety_number(bob.identity_key())
        self.assertEqual(n, bob.safety_number(alice.identity_key()))
        self.assertEqual(n, sealpost.safety_number(bob.identity_key(), alice.identity_key()))
        self.assertEqual(len(n.split(" ")), 12)

    def test_unicode_and_empty_and_large_payloads(self):
        alice, bob = Account(NOW), Account(NOW)
        bob.generate_one_time_prekeys(1)
        a = alice.create_outbound_session(bob.prekey_bundle())
        text = "Grüße 👋".encode("utf-8")
        inbound = bob.create_inbound_session(a.encrypt(text))
        self.assertEqual(inbound.plaintext.decode("utf-8"), "Grüße 👋")
        b = inbound.session
        self.assertEqual(b.decrypt(a.encrypt(b"")), b"")
        big = bytes(range(256)) * 4096  # 1 MiB
        self.assertEqual(b.decrypt(a.encrypt(big)), big)


class PostQuantum(unittest.TestCase):
    def test_sessions_are_post_quantum_and_the_ratchet_advances(self):
        alice, bob = Account(NOW), Account(NOW)
        to_bob = alice.create_outbound_session(bob.prekey_bundle())
        inbound = bob.create_inbound_session(to_bob.encrypt(b"hi"))
        to_alice = inbound.session
        self.assertTrue(to_bob.is_post_quantum() and to_alice.is_post_quantum())
        for _ in range(30):
            self.assertEqual(alice.decrypt(to_bob, to_alice.encrypt(b"ping")), b"ping")
            self.assertEqual(to_alice.decrypt(to_bob.encrypt(b"pong")), b"pong")
        self.assertGreaterEqual(to_bob.post_quantum_epoch(), 1)

    def test_the_setup_policy_defaults_to_post_quantum_and_is_kept(self):
        alice = Account(NOW)
        self.assertEqual(alice.setup_policy(), sealpost.SetupPolicy.REQUIRE_POST_QUANTUM)
        alice.set_setup_policy(sealpost.SetupPolicy.ALLOW_CLASSICAL)
        key = sealpost.generate_export_key()
        restored = Account.import_encrypted(key, alice.export_encrypted(key))
        self.assertEqual(restored.setup_policy(), sealpost.SetupPolicy.ALLOW_CLASSICAL)


class ExportImportResume(unittest.TestCase):
    def test_export_import_and_resume_both_ways(self):
        alice, bob = Account(NOW), Account(NOW)
        bob.generate_one_time_prekeys(2)
        a = alice.create_outbound_session(bob.prekey_bundle())
        b = bob.create_inbound_session(a.encrypt(b"first")).session
        unread = a.encrypt(b"sent before Bob's phone restarted")

        key = sealpost.generate_export_key()
        self.assertEqual(len(key), 32)
        self.assertNotEqual(key, sealpost.generate_export_key())
        saved = {
            "alice": alice.export_encrypted(key),
            "a": a.export_encrypted(key),
            "bob": bob.export_encrypted(key),
            "b": b.export_encrypted(key),
        }
        # The exports are sealed: no plaintext state inside.
        self.assertNotIn(bob.to_bytes()[3:40], saved["bob"])
        del alice, a, bob, b

        alice = Account.import_encrypted(key, saved["alice"])
        a = Session.import_encrypted(key, saved["a"])
        bob = Account.import_encrypted(key, saved["bob"])
        b = Session.import_encrypted(key, saved["b"])
        self.assertEqual(bob.remaining_one_time_prekeys(), 1)
        self.assertEqual(bob.decrypt(b, unread), b"sent before Bob's phone restarted")
        self.assertEqual(alice.decrypt(a, b.encrypt(b"back online")), b"back online")
        self.assertEqual(bob.decrypt(b, a.encrypt(b"welcome back")), b"welcome back")

        # Plaintext state (for apps with their own encrypted storage).
        b2 = Session.from_bytes(b.to_bytes())
        self.assertEqual(b2.session_id(), b.session_id())
        bob2 = Account.from_bytes(bob.to_bytes())
        self.assertEqual(bob2.identity_key(), bob.identity_key())

    def test_restoring_an_old_export_cannot_reread(self):
        alice, bob = Account(NOW), Account(NOW)
        bob.generate_one_time_prekeys(1)
        a = alice.create_outbound_session(bob.prekey_bundle())
        b = bob.create_inbound_session(a.encrypt(b"hello")).session
        key = sealpost.generate_export_key()
        m = a.encrypt(b"once")
        self.assertEqual(b.decrypt(m), b"once")
        after = Session.import_encrypted(key, b.export_encrypted(key))
        with self.assertRaises(SealpostError.DuplicateMessage):
            after.decrypt(m)

    def test_wrong_key_corruption_and_wrong_type(self):
        bob = Account(NOW)
        key = sealpost.generate_export_key()
        export = bob.export_encrypted(key)
        with self.assertRaises(SealpostError.ExportCorrupted):
            Account.import_encrypted(sealpost.generate_export_key(), export)
        for i in range(3, len(export), max(1, len(export) // 17)):
            # Bytes 11..43 are the context digest: a flip there reads as an
            # export made for another context.
            with self.assertRaises((SealpostError.ExportCorrupted, SealpostError.Malformed,
                                    SealpostError.ExportContextMismatch)):
                Account.import_encrypted(key, flip(export, i))
        # The context and the generation are checked on import.
        scoped = bob.export_encrypted_for(key, b"bob's account")
        self.assertEqual(bob.export_generation(), 2)
        with self.assertRaises(SealpostError.ExportContextMismatch):
            Account.import_encrypted_for(key, scoped, b"someone else", 0)
        with self.assertRaises(SealpostError.ExportRolledBack):
            Account.import_encrypted_for(key, export, b"", 2)
        self.assertEqual(Account.import_encrypted_for(key, scoped, b"bob's account", 2).identity_key(),
                         bob.identity_key())
        with self.assertRaises(SealpostError.Malformed):
            Session.import_encrypted(key, export)  # an account export is not a session
        with self.assertRaises(SealpostError.InvalidArgument) as ctx:
            bob.export_encrypted(b"short key")
        self.assertIn("32 bytes", str(ctx.exception))
        with self.assertRaises(SealpostError.Malformed):
            Account.from_bytes(b"")
        self.assertEqual(Account.import_encrypted(key, export).identity_key(), bob.identity_key())


class ErrorsSurfaceAsExceptions(unittest.TestCase):
    def setUp(self):
        self.alice, self.bob = Account(NOW), Account(NOW)
        self.bob.generate_one_time_prekeys(1)
        self.a = self.alice.create_outbound_session(self.bob.prekey_bundle())
        self.b = self.bob.create_inbound_session(self.a.encrypt(b"setup")).session
        self.alice.decrypt(self.a, self.b.encrypt(b"ack"))

    def test_tampered_message_raises_and_changes_nothing(self):
        m = self.a.encrypt(b"transfer 10 EUR")
        session_before, account_before = self.b.to_bytes(), self.bob.to_bytes()
        for i in range(len(m)):
            with self.assertRaises(SealpostError) as ctx:
                self.bob.decrypt(self.b, flip(m, i))
            self.assertIsInstance(
                ctx.exception,
                (SealpostError.AuthenticationFailed, SealpostError.Malformed, SealpostError.ForwardJumpTooLarge,
                 SealpostError.PeerMismatch),
            )
        self.assertEqual(self.b.to_bytes(), session_before)
        self.assertEqual(self.bob.to_bytes(), account_before)
        with self.assertRaises(SealpostError.Malformed):
            self.bob.decrypt(self.b, m[:-1] if len(m) < 20 else m[:10])
        with self.assertRaises(SealpostError.AuthenticationFailed) as ctx:
            self.b.decrypt(flip(m, len(m) - 1))
        self.assertIn("authentication failed", str(ctx.exception))
        self.assertEqual(self.bob.decrypt(self.b, m), b"transfer 10 EUR")

    def test_replay_raises_and_changes_nothing(self):
        m = self.a.encrypt(b"only once")
        self.assertEqual(self.bob.decrypt(self.b, m), b"only once")
        before = self.b.to_bytes()
        with self.assertRaises(SealpostError.DuplicateMessage) as ctx:
            self.bob.decrypt(self.b, m)
        self.assertIn("duplicate", str(ctx.exception))
        with self.assertRaises(SealpostError.DuplicateMessage):
            self.b.decrypt(m)
        self.assertEqual(self.b.to_bytes(), before)
        self.assertEqual(self.bob.decrypt(self.b, self.a.encrypt(b"next")), b"next")

    def test_one_time_prekey_reuse_and_bad_bundles(self):
        carol = Account(NOW)
        dave = Account(NOW)
        dave.generate_one_time_prekeys(1)
        bundle = dave.prekey_bundle()
        first = carol.create_outbound_session(bundle).encrypt(b"1")
        second = carol.create_outbound_session(bundle).encrypt(b"2")
        dave.create_inbound_session(first)
        with self.assertRaises(SealpostError.OneTimePreKeyReused):
            dave.create_inbound_session(second)
        with self.assertRaises(SealpostError.OwnBundle):
            dave.create_outbound_session(bundle)  # own bundle
        with self.assertRaises(SealpostError.InvalidSignature):
            sealpost.verify_prekey_bundle(flip(bundle, len(bundle) - 40))
        with self.assertRaises(SealpostError.InvalidSignature):
            carol.create_outbound_session(flip(bundle, len(bundle) - 40))
        with self.assertRaises(SealpostError.Malformed):
            carol.create_outbound_session(bundle + b"\x00")
        # A setup message from someone other than the session's peer.
        with self.assertRaises(SealpostError.PeerMismatch):
            self.b.decrypt(second)
        with self.assertRaises(SealpostError.PeerMismatch):
            self.bob.decrypt(self.b, second)
        # Alice starts over (say, after reinstalling): the session alone
        # cannot open the new setup message, the account can.
        restart = self.alice.create_outbound_session(self.bob.prekey_bundle()).encrypt(b"new phone")
        with self.assertRaises(SealpostError.UnknownSessionSetup) as ctx:
            self.b.decrypt(restart)
        self.assertIn("setup", str(ctx.exception))
        self.assertEqual(self.bob.decrypt(self.b, restart), b"new phone")
        with self.assertRaises(SealpostError.LimitReached):
            dave.generate_one_time_prekeys(1_000_000)
        with self.assertRaises(ValueError):
            dave.generate_one_time_prekeys(-1)  # u32 range checked by the bindings
        with self.assertRaises(SealpostError.Malformed):
            sealpost.safety_number(b"\x01" * 31, carol.identity_key())

    def test_every_error_is_a_sealpost_error(self):
        for name in ("AuthenticationFailed", "DuplicateMessage", "Malformed", "ExportCorrupted",
                     "Expired", "ClockSkew", "BurnedAfterReading", "NotGroupMember", "UnknownSenderKey",
                     "ForkoutIdMismatch", "BodyCommitmentMismatch", "RecipientsUnreachable", "NotARecipient",
                     "NotThisAccount", "LockPoisoned", "InvalidArgument", "AlreadyConsumed", "Other"):
            self.assertTrue(issubclass(getattr(SealpostError, name), SealpostError), name)
            self.assertTrue(issubclass(getattr(SealpostError, name), Exception), name)


class Threads(unittest.TestCase):
    def test_one_session_used_from_several_threads(self):
        alice, bob = Account(NOW), Account(NOW)
        bob.generate_one_time_prekeys(1)
        a = alice.create_outbound_session(bob.prekey_bundle())
        b = bob.create_inbound_session(a.encrypt(b"hi")).session
        sent, lock = [], threading.Lock()

        def send(t):
            for i in range(25):
                m = a.encrypt(f"{t}/{i}".encode())
                with lock:
                    sent.append((f"{t}/{i}".encode(), m))

        threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(sent), 100)
        for text, m in reversed(sent):
            self.assertEqual(bob.decrypt(b, m), text)
        self.assertEqual(b.skipped_key_count(), 0)


if __name__ == "__main__":
    unittest.main()
