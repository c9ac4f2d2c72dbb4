"""Forkout through the Python bindings: one body sealed once for several
recipients (existing sessions and first contacts), split by a relay that
holds no key, opened by each, a 1:1 reply, and the failures as typed
exceptions.

Run through ffi/scripts/test-python.sh (see test_sealpost.py).
"""

import unittest

import sealpost
from sealpost import Account, Envelope, ForkoutRecipient, Refusal, SealPolicy, SealpostError

NOW = 1_700_000_000_000
BODY = b"Q3 plan: " + bytes(range(256)) * 64  # 16 KiB and some


def flip(message: bytes, index: int) -> bytes:
    b = bytearray(message)
    b[index] ^= 0x01
    return bytes(b)


class Team:
    """A manager who already talks to Ann and Bob; Carol and Dan are only
    known by their prekey bundles; Erin has neither."""

    def __init__(self):
        self.manager = Account(NOW)
        self.people = {n: Account(NOW) for n in ("ann", "bob", "carol", "dan", "erin")}
        for a in self.people.values():
            a.generate_one_time_prekeys(3)
        self.to = {}    # manager's sessions, by name
        self.back = {}  # each person's session with the manager
        for n in ("ann", "bob"):
            self.to[n] = self.manager.create_outbound_session(self.people[n].prekey_bundle())
            inbound = self.people[n].create_inbound_session(self.to[n].encrypt(f"hi {n}".encode()))
            self.back[n] = inbound.session
            self.manager.decrypt(self.to[n], self.back[n].encrypt(b"hi"))

    def key(self, name):
        return self.people[name].identity_key()

    def recipients(self, names=("ann", "bob", "carol", "dan")):
        out = []
        for n in names:
            if n in self.to:
                out.append(ForkoutRecipient.SESSION(session=self.to[n]))
            elif n == "erin":
                out.append(ForkoutRecipient.UNREACHABLE(identity_key=self.key(n)))
            else:
                out.append(ForkoutRecipient.BUNDLE(bundle=self.people[n].prekey_bundle()))
        return out


class SealSplitOpenReply(unittest.TestCase):
    def test_several_recipients_split_by_the_relay_each_opens_one_replies(self):
        t = Team()
        sealed = t.manager.seal_forkout(BODY, t.recipients(), SealPolicy.ALL_OR_NOTHING, None)
        self.assertEqual(len(sealed.forkout_id), 32)
        self.assertEqual(sorted(sealed.recipients), sorted(t.key(n) for n in ("ann", "bob", "carol", "dan")))
        self.assertEqual(sealed.unreachable, [])
        self.assertEqual(len(sealed.new_sessions), 2)  # Carol and Dan, first contact
        for n in ("carol", "dan"):
            [s] = [s for s in sealed.new_sessions if s.peer_identity_key() == t.key(n)]
            t.to[n] = s
        # Sealed once: the bundle is about one body long, not four. Each
        # slot is a 1:1 message: under 450 bytes in a session, under 2 KiB
        # for a first contact (PQXDH setup data, with its ML-KEM ciphertext).
        self.assertLess(len(sealed.bundle), len(BODY) + 2 * 450 + 2 * 2048)
        self.assertNotIn(BODY[:64], sealed.bundle)

        # The relay cuts one delivery per recipient, with no key.
        deliveries = {d.recipient_identity_key: d.delivery for d in sealpost.forkout_split_all(sealed.bundle)}
        self.assertEqual(set(deliveries), set(sealed.recipients))
        for n in ("ann", "carol"):
            self.assertEqual(sealpost.forkout_split(sealed.bundle, t.key(n)), deliveries[t.key(n)])
        with self.assertRaises(SealpostError.NotARecipient):
            sealpost.forkout_split(sealed.bundle, t.key("erin"))
        # A delivery says nothing about the other recipients.
        ann_delivery = deliveries[t.key("ann")]
        for n in ("bob", "carol", "dan"):
            self.assertNotIn(t.key(n), ann_delivery)

        # Each recipient opens its own delivery.
        for n in ("ann", "bob"):
            d = deliveries[t.key(n)]
            info = sealpost.inspect_forkout_delivery(d)
            self.assertFalse(info.is_first_contact)
            self.assertEqual(info.forkout_id, sealed.forkout_id)
            opened = t.people[n].open_forkout(t.back[n], d, NOW)
            self.assertEqual(opened.body, BODY)
            self.assertEqual(opened.sender_identity_key, t.manager.identity_key())
            self.assertEqual(opened.forkout_id, sealed.forkout_id)
            self.assertIsNone(opened.envelope)
        for n in ("carol", "dan"):
            d = deliveries[t.key(n)]
            info = sealpost.inspect_forkout_delivery(d)
            self.assertTrue(info.is_first_contact)
            self.assertEqual(info.claimed_sender_identity_key, t.manager.identity_key())
            got = t.people[n].open_forkout_new(d, NOW)
            self.assertIsNone(got.refused)
            self.assertEqual(got.opened.body, BODY)
            t.back[n] = got.session

        # Dan replies 1:1; the manager reads it in the session the seal created.
        reply = t.back["dan"].encrypt(b"thanks, on it")
        self.assertEqual(t.manager.decrypt(t.to["dan"], reply), b"thanks, on it")
        self.assertEqual(t.people["dan"].decrypt(t.back["dan"], t.to["dan"].encrypt(b"great")), b"great")

        # Opening twice is a replay; state unchanged.
        before = t.back["ann"].to_bytes()
        with self.assertRaises(SealpostError.DuplicateMessage):
            t.people["ann"].open_forkout(t.back["ann"], ann_delivery, NOW)
        self.assertEqual(t.back["ann"].to_bytes(), before)

    def test_unreachable_recipients_are_reported_or_refused(self):
        t = Team()
        everyone = t.recipients(("ann", "carol", "erin"))
        before = t.to["ann"].to_bytes()
        with self.assertRaises(SealpostError.RecipientsUnreachable) as ctx:
            t.manager.seal_forkout(b"minutes", everyone, SealPolicy.ALL_OR_NOTHING, None)
        self.assertIn("1", str(ctx.exception))
        self.assertEqual(t.to["ann"].to_bytes(), before)  # nothing sealed, no session moved

        bad_bundle = flip(t.people["dan"].prekey_bundle(), len(t.people["dan"].prekey_bundle()) - 40)
        recipients = t.recipients(("ann", "carol", "erin")) + [ForkoutRecipient.BUNDLE(bundle=bad_bundle)]
        sealed = t.manager.seal_forkout(b"minutes", recipients, SealPolicy.SKIP_UNREACHABLE, None)
        self.assertEqual(sorted(sealed.recipients), sorted([t.key("ann"), t.key("carol")]))
        reasons = {u.identity_key: u.reason for u in sealed.unreachable}
        self.assertEqual(reasons[t.key("erin")], sealpost.UnreachableReason.NO_SESSION_OR_BUNDLE())
        self.assertTrue(reasons[t.key("dan")].is_invalid_bundle())
        opened = t.people["ann"].open_forkout(t.back["ann"], sealpost.forkout_split(sealed.bundle, t.key("ann")), NOW)
        self.assertEqual(opened.body, b"minutes")

    def test_argument_errors(self):
        t = Team()
        with self.assertRaises(SealpostError.NoRecipients):
            t.manager.seal_forkout(b"x", [], SealPolicy.ALL_OR_NOTHING, None)
        ann = ForkoutRecipient.SESSION(session=t.to["ann"])
        with self.assertRaises(SealpostError.InvalidArgument):
            t.manager.seal_forkout(b"x", [ann, ann], SealPolicy.ALL_OR_NOTHING, None)
        with self.assertRaises(SealpostError.DuplicateRecipient):
            t.manager.seal_forkout(
                b"x", [ann, ForkoutRecipient.UNREACHABLE(identity_key=t.key("ann"))], SealPolicy.SKIP_UNREACHABLE,
                None)
        with self.assertRaises(SealpostError.PeerMismatch):
            t.manager.seal_forkout(
                b"x", [ForkoutRecipient.SESSION(session=t.back["ann"])], SealPolicy.ALL_OR_NOTHING, None)
        with self.assertRaises(SealpostError.Malformed):
            t.manager.seal_forkout(b"x", [ForkoutRecipient.BUNDLE(bundle=b"junk")], SealPolicy.ALL_OR_NOTHING, None)
        with self.assertRaises(SealpostError.Malformed):
            sealpost.forkout_split_all(b"junk")


class ForkoutErrors(unittest.TestCase):
    def setUp(self):
        self.t = Team()
        self.sealed = self.t.manager.seal_forkout(BODY, self.t.recipients(("ann", "bob")),
                                                  SealPolicy.ALL_OR_NOTHING, None)
        self.ann = sealpost.forkout_split(self.sealed.bundle, self.t.key("ann"))

    def test_tampered_body_and_slot_raise_and_change_nothing(self):
        ann, session = self.t.people["ann"], self.t.back["ann"]
        before = session.to_bytes()
        # The body is last in a delivery; the slot near the front.
        for i in (len(self.ann) - 1, len(self.ann) - 100, len(self.ann) // 2, 60, 40):
            with self.assertRaises(SealpostError) as ctx:
                ann.open_forkout(session, flip(self.ann, i), NOW)
            self.assertIsInstance(
                ctx.exception,
                (SealpostError.BodyCommitmentMismatch, SealpostError.AuthenticationFailed, SealpostError.Malformed,
                 SealpostError.ForkoutIdMismatch, SealpostError.BodyLengthMismatch),
            )
        with self.assertRaises(SealpostError):
            ann.open_forkout(session, self.ann[:-1], NOW)
        self.assertEqual(session.to_bytes(), before)
        # Bob's delivery is not Ann's to open.
        bob_delivery = sealpost.forkout_split(self.sealed.bundle, self.t.key("bob"))
        with self.assertRaises(SealpostError):
            ann.open_forkout(session, bob_delivery, NOW)
        self.assertEqual(session.to_bytes(), before)
        # The untouched delivery still opens.
        self.assertEqual(ann.open_forkout(session, self.ann, NOW).body, BODY)

    def test_slots_and_bodies_moved_between_forkouts_are_refused(self):
        # Same length bodies, so only the commitment tells them apart.
        other = self.t.manager.seal_forkout(bytes(len(BODY)), self.t.recipients(("ann",)),
                                            SealPolicy.ALL_OR_NOTHING, None)
        other_ann = sealpost.forkout_split(other.bundle, self.t.key("ann"))
        self.assertNotEqual(sealpost.inspect_forkout_delivery(other_ann).forkout_id, self.sealed.forkout_id)

        def split(delivery):
            """delivery = 0x01 | 0x21 | id (32) | slot length (u32) | slot | body"""
            end = 38 + int.from_bytes(delivery[34:38], "big")
            return delivery[:34], delivery[34:end], delivery[end:]

        head, slot, body = split(self.ann)
        other_head, other_slot, other_body = split(other_ann)
        ann, session = self.t.people["ann"], self.t.back["ann"]
        before = session.to_bytes()
        with self.assertRaises(SealpostError.BodyCommitmentMismatch):
            ann.open_forkout(session, head + slot + other_body, NOW)
        with self.assertRaises(SealpostError.ForkoutIdMismatch):
            ann.open_forkout(session, other_head + slot + body, NOW)
        short = self.t.manager.seal_forkout(b"short", self.t.recipients(("bob",)), SealPolicy.ALL_OR_NOTHING, None)
        _, _, short_body = split(sealpost.forkout_split(short.bundle, self.t.key("bob")))
        with self.assertRaises(SealpostError.BodyLengthMismatch):
            ann.open_forkout(session, head + slot + short_body, NOW)
        with self.assertRaises(SealpostError.Malformed):
            ann.open_forkout(session, head + slot + body[:-1], NOW)
        self.assertEqual(session.to_bytes(), before)
        self.assertEqual(ann.open_forkout(session, self.ann, NOW).body, BODY)
        self.assertEqual(ann.open_forkout(session, other_ann, NOW).body, bytes(len(BODY)))


class ForkoutBurnout(unittest.TestCase):
    def test_expired_forkout_is_gone_for_every_recipient(self):
        t = Team()
        env = sealpost.envelope_with_ttl(NOW, 60_000, False)
        sealed = t.manager.seal_forkout(b"valid for one minute", t.recipients(("ann", "carol")),
                                        SealPolicy.ALL_OR_NOTHING, env)
        ann = sealpost.forkout_split(sealed.bundle, t.key("ann"))
        carol = sealpost.forkout_split(sealed.bundle, t.key("carol"))
        opened = t.people["ann"].open_forkout(t.back["ann"], ann, NOW + 1_000)
        self.assertEqual(opened.envelope, env)
        # Carol is offline for a day: the session is created, the content is gone.
        got = t.people["carol"].open_forkout_new(carol, NOW + 86_400_000)
        self.assertIsNone(got.opened)
        self.assertEqual(got.refused, Refusal.EXPIRED(expired_at_ms=NOW + 60_000))
        self.assertEqual(t.people["carol"].decrypt(got.session, sealed.new_sessions[0].encrypt(b"sorry")), b"sorry")
        with self.assertRaises(SealpostError.Expired):
            t.manager.seal_forkout(b"x", t.recipients(("ann",)), SealPolicy.ALL_OR_NOTHING,
                                   Envelope(sent_at_ms=NOW, expires_at_ms=NOW))


if __name__ == "__main__":
    unittest.main()
