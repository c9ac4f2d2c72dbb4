"""Burnout through the Python bindings: authenticated expiry over 1:1
sessions, opened messages moved into the vault, burn-after-reading, export
and resume of the vault, and the errors as typed exceptions.

Run through ffi/scripts/test-python.sh (see test_sealpost.py).
"""

import unittest

import sealpost
from sealpost import Account, BurnoutMessage, Envelope, Opened, Refusal, SealpostError, Vault

NOW = 1_700_000_000_000
MINUTE = 60_000


def pair():
    """Alice and Bob with a confirmed 1:1 session."""
    alice, bob = Account(NOW), Account(NOW)
    bob.generate_one_time_prekeys(2)
    a = alice.create_outbound_session(bob.prekey_bundle())
    b = bob.create_inbound_session(a.encrypt(b"hi")).session
    alice.decrypt(a, b.encrypt(b"hello"))
    return alice, a, bob, b


class Expiry(unittest.TestCase):
    def test_expired_message_raises_and_never_returns_plaintext(self):
        alice, a, bob, b = pair()
        env = sealpost.envelope_with_ttl(NOW, MINUTE, False)
        self.assertEqual(env, Envelope(sent_at_ms=NOW, expires_at_ms=NOW + MINUTE))
        wire = a.encrypt_burnout(b"door code 4711", env)
        self.assertNotIn(b"4711", wire)

        # The plain API refuses Burnout content and changes nothing.
        before = b.to_bytes()
        with self.assertRaises(SealpostError.UnexpectedPayload):
            bob.decrypt(b, wire)
        with self.assertRaises(SealpostError.UnexpectedPayload):
            b.decrypt(wire)
        self.assertEqual(b.to_bytes(), before)

        # Opened at exactly the expiry: Expired, with the time, and no content.
        with self.assertRaises(SealpostError.Expired) as ctx:
            bob.open_burnout(b, wire, NOW + MINUTE)
        self.assertIn(str(NOW + MINUTE), str(ctx.exception))
        self.assertNotIn("4711", str(ctx.exception))
        # Its key is used up: no second chance with an earlier clock.
        self.assertNotEqual(b.to_bytes(), before)
        with self.assertRaises(SealpostError.DuplicateMessage):
            bob.open_burnout(b, wire, NOW)
        with self.assertRaises(SealpostError.DuplicateMessage):
            b.open(wire, NOW)
        # The session carries on.
        self.assertEqual(bob.decrypt(b, a.encrypt(b"next")), b"next")

    def test_open_in_time_and_take_plaintext_once(self):
        alice, a, bob, b = pair()
        wire = a.encrypt_burnout(b"pin 1234", sealpost.envelope_with_ttl(NOW, MINUTE, False))
        msg = b.open_burnout(wire, NOW + 1_000)
        self.assertEqual(msg.envelope().expires_at_ms, NOW + MINUTE)
        self.assertEqual(msg.sender_identity_key(), alice.identity_key())
        self.assertEqual(msg.plaintext_len(), 8)
        self.assertFalse(msg.is_outgoing())
        self.assertFalse(msg.is_consumed())
        self.assertEqual(msg.take_plaintext(NOW + 2_000), b"pin 1234")
        self.assertTrue(msg.is_consumed())
        with self.assertRaises(SealpostError.AlreadyConsumed):
            msg.take_plaintext(NOW + 2_000)
        # Taking it out after the expiry is refused (and erases it).
        late = bob.open_burnout(b, a.encrypt_burnout(b"pin 5678", sealpost.envelope_with_ttl(NOW, MINUTE, False)), NOW)
        with self.assertRaises(SealpostError.Expired):
            late.take_plaintext(NOW + MINUTE)
        with self.assertRaises(SealpostError.AlreadyConsumed):
            late.take_plaintext(NOW)

    def test_open_tells_plain_from_burnout(self):
        alice, a, bob, b = pair()
        plain = bob.open(b, a.encrypt(b"lunch?"), NOW)
        self.assertIsInstance(plain, Opened.PLAIN)
        self.assertEqual(plain.plaintext, b"lunch?")
        burn = b.open(a.encrypt_burnout(b"wifi pw", Envelope(sent_at_ms=NOW, burn_after_reading=True)), NOW)
        self.assertTrue(burn.is_burnout())
        self.assertTrue(burn.message.envelope().burn_after_reading)
        self.assertIsNone(burn.message.envelope().expires_at_ms)

    def test_clock_skew_changes_nothing(self):
        alice, a, bob, b = pair()
        wire = a.encrypt_burnout(b"from the future", sealpost.envelope_with_ttl(NOW + 3_600_000, MINUTE, False))
        before = b.to_bytes()
        with self.assertRaises(SealpostError.ClockSkew):
            bob.open_burnout(b, wire, NOW)
        self.assertEqual(b.to_bytes(), before)
        self.assertEqual(bob.open_burnout(b, wire, NOW + 3_600_000).take_plaintext(NOW + 3_600_000),
                         b"from the future")

    def test_sender_refuses_an_envelope_expired_on_arrival(self):
        alice, a, bob, b = pair()
        with self.assertRaises(SealpostError.Expired):
            a.encrypt_burnout(b"x", Envelope(sent_at_ms=NOW, expires_at_ms=NOW))

    def test_expired_first_message_keeps_the_session(self):
        alice, bob = Account(NOW), Account(NOW)
        bob.generate_one_time_prekeys(1)
        a = alice.create_outbound_session(bob.prekey_bundle())
        first = a.encrypt_burnout(b"gone by tonight", sealpost.envelope_with_ttl(NOW, 3_600_000, False))
        second = a.encrypt(b"call me")
        # The plain entry point refuses it and changes nothing.
        with self.assertRaises(SealpostError.UnexpectedPayload):
            bob.create_inbound_session(first)
        self.assertEqual(bob.remaining_one_time_prekeys(), 1)
        got = bob.create_inbound_session_at(first, NOW + 86_400_000)
        self.assertIsNone(got.opened)
        self.assertEqual(got.refused, Refusal.EXPIRED(expired_at_ms=NOW + 3_600_000))
        self.assertEqual(bob.remaining_one_time_prekeys(), 0)
        self.assertEqual(bob.decrypt(got.session, second), b"call me")
        # A first message in time opens as usual.
        carol = Account(NOW)
        c = carol.create_outbound_session(bob.prekey_bundle())
        got = bob.create_inbound_session_at(c.encrypt_burnout(b"hi", Envelope(sent_at_ms=NOW)), NOW)
        self.assertIsNone(got.refused)
        self.assertEqual(got.opened.message.take_plaintext(NOW), b"hi")


class VaultRules(unittest.TestCase):
    def test_burn_after_reading_through_the_vault(self):
        alice, a, bob, b = pair()
        otp = a.encrypt_burnout(b"493817", sealpost.envelope_with_ttl(NOW, 5 * MINUTE, True))
        vault = Vault()
        msg = bob.open_burnout(b, otp, NOW + 10)
        vid = vault.insert(msg, NOW + 10)
        self.assertTrue(msg.is_consumed())
        with self.assertRaises(SealpostError.AlreadyConsumed):
            vault.insert(msg, NOW + 10)
        with self.assertRaises(SealpostError.AlreadyConsumed):
            msg.take_plaintext(NOW + 10)
        info = vault.info(vid)
        self.assertTrue(info.envelope.burn_after_reading)
        self.assertEqual((info.len, info.outgoing, info.sender_identity_key), (6, False, alice.identity_key()))
        self.assertEqual(vault.read(vid, NOW + 20), b"493817")
        with self.assertRaises(SealpostError.BurnedAfterReading):
            vault.read(vid, NOW + 30)
        self.assertIsNone(vault.info(vid))
        self.assertTrue(vault.is_empty())
        with self.assertRaises(SealpostError.NotInVault):
            vault.read(vid + 100, NOW + 30)

    def test_ttl_entries_expire_in_the_vault(self):
        alice, a, bob, b = pair()
        vault = Vault()
        short = vault.insert(b.open_burnout(a.encrypt_burnout(b"one minute", sealpost.envelope_with_ttl(
            NOW, MINUTE, False)), NOW), NOW)
        long = vault.insert(b.open_burnout(a.encrypt_burnout(b"one hour", sealpost.envelope_with_ttl(
            NOW, 60 * MINUTE, False)), NOW), NOW)
        self.assertEqual(vault.ids(), [short, long])
        self.assertEqual(vault.next_expiry(), NOW + MINUTE)
        self.assertEqual(vault.plaintext_bytes(), len(b"one minute") + len(b"one hour"))
        for t in (1, 2, MINUTE - 1):
            self.assertEqual(vault.read(short, NOW + t), b"one minute")  # as often as you like
        self.assertEqual(vault.purge(NOW + MINUTE), 1)
        self.assertEqual(vault.clock_ms(), NOW + MINUTE)
        with self.assertRaises(SealpostError.Expired):
            vault.read(short, NOW + MINUTE)
        self.assertEqual(vault.next_expiry(), NOW + 60 * MINUTE)
        self.assertEqual(vault.len(), 1)
        # Expired when inserted: refused, and the message object is used up.
        late = b.open_burnout(a.encrypt_burnout(b"late", sealpost.envelope_with_ttl(NOW, MINUTE, False)), NOW)
        with self.assertRaises(SealpostError.Expired):
            vault.insert(late, NOW + MINUTE)
        self.assertTrue(late.is_consumed())
        self.assertTrue(vault.remove(long))
        self.assertFalse(vault.remove(long))
        with self.assertRaises(SealpostError.NotInVault):
            vault.read(long, NOW)

    def test_outgoing_copy(self):
        alice = Account(NOW)
        copy = BurnoutMessage.outgoing(b"what I sent", Envelope(sent_at_ms=NOW, burn_after_reading=True),
                                       alice.identity_key())
        self.assertTrue(copy.is_outgoing())
        vault = Vault()
        vid = vault.insert(copy, NOW)
        self.assertTrue(vault.info(vid).outgoing)
        self.assertEqual(vault.read(vid, NOW), b"what I sent")
        with self.assertRaises(SealpostError.BurnedAfterReading):
            vault.read(vid, NOW)
        vault.insert(BurnoutMessage.outgoing(b"x", Envelope(sent_at_ms=NOW), alice.identity_key()), NOW)
        vault.clear()
        self.assertEqual(vault.len(), 0)
        with self.assertRaises(SealpostError.Malformed):
            BurnoutMessage.outgoing(b"x", Envelope(sent_at_ms=NOW), b"\x00" * 31)

    def test_vault_export_import_and_resume(self):
        alice, a, bob, b = pair()
        key = sealpost.generate_export_key()
        vault = Vault()

        def put(text, env):
            return vault.insert(b.open_burnout(a.encrypt_burnout(text, env), NOW), NOW)

        burned = put(b"read once already", Envelope(sent_at_ms=NOW, burn_after_reading=True))
        short = put(b"expires soon", sealpost.envelope_with_ttl(NOW, MINUTE, False))
        keep = put(b"one hour", sealpost.envelope_with_ttl(NOW, 60 * MINUTE, False))
        once = put(b"not read yet", Envelope(sent_at_ms=NOW, burn_after_reading=True))
        self.assertEqual(vault.read(burned, NOW + 1), b"read once already")

        export = vault.export_encrypted(key, NOW + MINUTE)  # purges at that clock first
        self.assertNotIn(b"one hour", export)
        self.assertEqual(vault.len(), 2)
        del vault

        restored = Vault.import_encrypted(key, export)
        self.assertEqual(restored.ids(), [keep, once])
        self.assertEqual(restored.read(keep, NOW + 2 * MINUTE), b"one hour")
        self.assertEqual(restored.read(once, NOW + 2 * MINUTE), b"not read yet")
        with self.assertRaises(SealpostError.BurnedAfterReading):
            restored.read(once, NOW + 2 * MINUTE)
        # What was burned or expired before the export stays gone, and says why.
        with self.assertRaises(SealpostError.BurnedAfterReading):
            restored.read(burned, NOW + 2 * MINUTE)
        with self.assertRaises(SealpostError.Expired):
            restored.read(short, NOW + 2 * MINUTE)
        # New ids never reuse old ones.
        new = restored.insert(BurnoutMessage.outgoing(b"new", Envelope(sent_at_ms=NOW), bob.identity_key()),
                              NOW + 2 * MINUTE)
        self.assertGreater(new, once)
        # A restored vault still purges at the first clock it is given.
        again = Vault.import_encrypted(key, restored.export_encrypted(key, NOW + 2 * MINUTE))
        self.assertEqual(again.purge(NOW + 60 * MINUTE), 1)
        self.assertEqual(again.ids(), [new])

        with self.assertRaises(SealpostError.ExportCorrupted):
            Vault.import_encrypted(sealpost.generate_export_key(), export)
        with self.assertRaises(SealpostError.Malformed):
            Vault.import_encrypted(key, bob.export_encrypted(key))
        with self.assertRaises(SealpostError.InvalidArgument):
            Vault().export_encrypted(b"short", NOW)


if __name__ == "__main__":
    unittest.main()
