"""Group messaging through the Python bindings: sender-key distribution over
1:1 sessions, one ciphertext for everyone, a removal with rotation, export
and resume, and every failure surfacing as a typed exception.

Run through ffi/scripts/test-python.sh (see test_sealpost.py).
"""

import itertools
import unittest

import sealpost
from sealpost import Account, Envelope, Group, SealpostError

NOW = 1_700_000_000_000
NAMES = ("alice", "bob", "carol", "dave")


def flip(message: bytes, index: int) -> bytes:
    b = bytearray(message)
    b[index] ^= 0x01
    return bytes(b)


class Member:
    """One person's phone: account, 1:1 sessions by peer name, group state."""

    def __init__(self, name, group_id, everyone):
        self.name = name
        self.account = everyone[name]
        self.id = self.account.identity_key()
        others = [a.identity_key() for n, a in everyone.items() if n != name]
        self.group = Group(group_id, self.id, others)
        self.sessions = {}


def build_group(test):
    """Four members; every pair gets a 1:1 session whose first message is a
    sender-key distribution (the session is created by installing it)."""
    accounts = {n: Account(NOW) for n in NAMES}
    for a in accounts.values():
        a.generate_one_time_prekeys(5)
    gid = sealpost.generate_group_id()
    test.assertEqual(len(gid), 32)
    m = {n: Member(n, gid, accounts) for n in NAMES}
    by_id = {m[n].id: n for n in NAMES}

    # Phase 1: for each pair x < y, x opens the session with its distribution.
    for x, y in itertools.combinations(NAMES, 2):
        m[x].sessions[y] = m[x].account.create_outbound_session(m[y].account.prekey_bundle())
        [d] = m[x].group.distribute([m[x].sessions[y]])
        test.assertEqual(d.member_identity_key, m[y].id)
        got = m[y].group.install_distribution_from_new_session(m[y].account, d.message)
        test.assertEqual(got.installed.sender_identity_key, m[x].id)
        test.assertEqual(got.installed.group_id, gid)
        test.assertTrue(got.installed.newly_installed)
        test.assertEqual(got.installed.iteration, 0)
        m[y].sessions[x] = got.session

    # Phase 2: each member hands its key to the members that opened a
    # session to it, in one distribute() call over several sessions; the
    # receivers use the multi-group entry point.
    for y in NAMES:
        earlier = [x for x in NAMES if x < y]
        if not earlier:
            continue
        sent = m[y].group.distribute([m[y].sessions[x] for x in earlier])
        test.assertEqual([by_id[d.member_identity_key] for d in sent], earlier)
        for d in sent:
            x = by_id[d.member_identity_key]
            other_group = Group(sealpost.generate_group_id(), m[x].id, [m[y].id])
            got = m[x].account.receive_group_distribution(m[x].sessions[y], d.message, [other_group, m[x].group])
            test.assertEqual(got.sender_identity_key, m[y].id)
    for n in NAMES:
        test.assertEqual(m[n].group.members_without_key(), [])
        test.assertEqual(m[n].group.member_count(), 3)
    return m, by_id


class GroupLifecycle(unittest.TestCase):
    def test_four_members_then_one_removed(self):
        m, by_id = build_group(self)
        alice, bob, carol, dave = (m[n] for n in NAMES)

        # One ciphertext, read by every other member, sender proven.
        wire = alice.group.encrypt(b"standup in 5")
        for r in (bob, carol, dave):
            read = r.group.decrypt(wire, NOW)
            self.assertEqual(read.plaintext, b"standup in 5")
            self.assertEqual(read.sender_identity_key, alice.id)
            self.assertEqual(read.key_id, alice.group.own_key_id())
            self.assertEqual(read.iteration, 0)
            self.assertIsNone(read.envelope)
        self.assertEqual(alice.group.own_iteration(), 1)

        # Out of order: Dave reads Bob's three messages backwards.
        sent = [bob.group.encrypt(f"b{i}".encode()) for i in range(3)]
        for i in reversed(range(3)):
            got = dave.group.decrypt(sent[i], NOW)
            self.assertEqual((got.plaintext, got.iteration), (f"b{i}".encode(), i))
        self.assertEqual(dave.group.stored_key_count(), 0)

        # Dave is removed: every remaining member rotates and redistributes.
        old_keys = {n: m[n].group.own_key_id() for n in NAMES}
        for r in (alice, bob, carol):
            rotation = r.group.remove_member(dave.id)
            self.assertNotEqual(rotation.key_id, old_keys[r.name])
            self.assertEqual(rotation.key_id, r.group.own_key_id())
            self.assertFalse(r.group.is_member(dave.id))
            self.assertEqual(len(rotation.redistribute_to), 2)
            self.assertNotIn(dave.id, rotation.redistribute_to)
            sessions = [r.sessions[by_id[k]] for k in rotation.redistribute_to]
            for d in r.group.distribute(sessions):
                peer = m[by_id[d.member_identity_key]]
                got = peer.group.install_distribution(peer.account, peer.sessions[r.name], d.message)
                self.assertEqual(got.key_id, rotation.key_id)
            # The removed member's session cannot receive the new key.
            with self.assertRaises(SealpostError.NotGroupMember):
                r.group.distribute([r.sessions["dave"]])
        with self.assertRaises(SealpostError.NotGroupMember):
            alice.group.remove_member(dave.id)  # already removed: changes nothing

        # The others carry on; Dave can read none of it.
        after = alice.group.encrypt(b"dave has left")
        self.assertEqual(bob.group.decrypt(after, NOW).plaintext, b"dave has left")
        self.assertEqual(carol.group.decrypt(after, NOW).plaintext, b"dave has left")
        dave_before = dave.group.to_bytes()
        with self.assertRaises(SealpostError.UnknownSenderKey):
            dave.group.decrypt(after, NOW)
        for r in (bob, carol):
            with self.assertRaises(SealpostError.UnknownSenderKey):
                dave.group.decrypt(r.group.encrypt(b"still secret"), NOW)
        self.assertEqual(dave.group.to_bytes(), dave_before)
        # Dave still sends under the group id; nobody accepts it.
        from_dave = dave.group.encrypt(b"am I still here?")
        for r in (alice, bob, carol):
            with self.assertRaises(SealpostError.NotGroupMember):
                r.group.decrypt(from_dave, NOW)
        reply = carol.group.encrypt(b"ok")
        self.assertEqual(alice.group.decrypt(reply, NOW).sender_identity_key, carol.id)
        self.assertEqual(bob.group.decrypt(reply, NOW).key_id, carol.group.own_key_id())

    def test_a_message_before_its_key_can_be_retried(self):
        m, _ = build_group(self)
        alice, bob = m["alice"], m["bob"]
        # Alice rotates and distributes at once (a distribution starts at
        # the sender's current iteration), but her next group message
        # overtakes the distribution on the way to Bob.
        rotation = alice.group.rotate()
        [d] = alice.group.distribute([alice.sessions["bob"]])
        early = alice.group.encrypt(b"new key, first message")
        before = bob.group.to_bytes()
        with self.assertRaises(SealpostError.UnknownSenderKey):
            bob.group.decrypt(early, NOW)
        self.assertEqual(bob.group.to_bytes(), before)
        got = bob.group.install_distribution(bob.account, bob.sessions["alice"], d.message)
        self.assertEqual(got.key_id, rotation.key_id)
        self.assertEqual(bob.group.member_key_id(alice.id), rotation.key_id)
        self.assertEqual(bob.group.decrypt(early, NOW).plaintext, b"new key, first message")
        # The same distribution again is a 1:1 replay.
        with self.assertRaises(SealpostError.DuplicateMessage):
            bob.group.install_distribution(bob.account, bob.sessions["alice"], d.message)
        # A plain 1:1 message is not a distribution: refused, nothing used up.
        chat = alice.sessions["bob"].encrypt(b"just chatting")
        with self.assertRaises(SealpostError.UnexpectedPayload):
            bob.group.install_distribution(bob.account, bob.sessions["alice"], chat)
        self.assertEqual(bob.account.decrypt(bob.sessions["alice"], chat), b"just chatting")

    def test_membership_and_arguments(self):
        me, erin = Account(NOW), Account(NOW)
        g = Group(sealpost.generate_group_id(), me.identity_key(), [me.identity_key()])
        self.assertEqual(g.members(), [])
        self.assertTrue(g.add_member(erin.identity_key()))
        self.assertFalse(g.add_member(erin.identity_key()))
        self.assertTrue(g.is_member(erin.identity_key()))
        self.assertEqual(g.members_without_key(), [erin.identity_key()])
        self.assertIsNone(g.member_key_id(erin.identity_key()))
        self.assertEqual(g.own_identity_key(), me.identity_key())
        with self.assertRaises(SealpostError.InvalidArgument):
            Group(b"short id", me.identity_key(), [])
        with self.assertRaises(SealpostError.Malformed):
            Group(sealpost.generate_group_id(), me.identity_key(), [b"\x01" * 31])
        with self.assertRaises(SealpostError.NotGroupMember):
            g.remove_member(Account(NOW).identity_key())

    def test_group_burnout_envelope(self):
        m, _ = build_group(self)
        alice, bob, carol = m["alice"], m["bob"], m["carol"]
        env = Envelope(sent_at_ms=NOW, expires_at_ms=NOW + 60_000, burn_after_reading=True)
        wire = alice.group.encrypt_burnout(b"door code 4711", env)
        got = bob.group.decrypt(wire, NOW + 1_000)
        self.assertEqual(got.plaintext, b"door code 4711")
        self.assertEqual(got.envelope, env)
        # Too late: Expired, nothing returned, and the key is used up.
        with self.assertRaises(SealpostError.Expired):
            carol.group.decrypt(wire, NOW + 60_000)
        with self.assertRaises(SealpostError.DuplicateMessage):
            carol.group.decrypt(wire, NOW + 1_000)
        # Apps that keep Burnout content in the vault open by kind: the
        # plaintext goes from the library into the vault without a copy in
        # the app, and the vault burns it after one read.
        otp = alice.group.encrypt_burnout(b"493817", Envelope(sent_at_ms=NOW, burn_after_reading=True))
        got = carol.group.open(otp, NOW)
        self.assertEqual((got.sender_identity_key, got.iteration), (alice.id, alice.group.own_iteration() - 1))
        self.assertIsInstance(got.opened, sealpost.Opened.BURNOUT)
        self.assertEqual(got.opened.message.sender_identity_key(), alice.id)
        vault = sealpost.Vault()
        vid = vault.insert(got.opened.message, NOW)
        self.assertEqual(vault.read(vid, NOW), b"493817")
        with self.assertRaises(SealpostError.BurnedAfterReading):
            vault.read(vid, NOW)
        plain = carol.group.open(alice.group.encrypt(b"plain"), NOW)
        self.assertEqual(plain.opened, sealpost.Opened.PLAIN(plaintext=b"plain"))
        # From the future (sender clock far ahead): nothing changes, retry later.
        future = alice.group.encrypt_burnout(b"later", sealpost.envelope_with_ttl(NOW + 3_600_000, 60_000, False))
        before = carol.group.to_bytes()
        with self.assertRaises(SealpostError.ClockSkew):
            carol.group.decrypt(future, NOW)
        self.assertEqual(carol.group.to_bytes(), before)
        self.assertEqual(carol.group.decrypt(future, NOW + 3_600_000).plaintext, b"later")


class GroupExportImportResume(unittest.TestCase):
    def test_export_import_and_resume(self):
        m, _ = build_group(self)
        alice, bob = m["alice"], m["bob"]
        key = sealpost.generate_export_key()
        read = alice.group.encrypt(b"read before the restart")
        self.assertEqual(bob.group.decrypt(read, NOW).plaintext, b"read before the restart")
        unread = alice.group.encrypt(b"arrives while the app is closed")
        saved_alice, saved_bob = alice.group.export_encrypted(key), bob.group.export_encrypted(key)
        self.assertNotIn(bob.group.to_bytes()[40:80], saved_bob)

        alice_group = Group.import_encrypted(key, saved_alice)
        bob_group = Group.import_encrypted(key, saved_bob)
        self.assertEqual(bob_group.group_id(), bob.group.group_id())
        self.assertEqual(sorted(bob_group.members()), sorted(bob.group.members()))
        self.assertEqual(bob_group.decrypt(unread, NOW).plaintext, b"arrives while the app is closed")
        with self.assertRaises(SealpostError.DuplicateMessage):
            bob_group.decrypt(read, NOW)  # replay protection survives the restart
        # A restored group sends nothing until it rotates, or until the app
        # declares it the newest save (this one is): then Alice resumes where
        # she was and no iteration is reused.
        self.assertTrue(alice_group.needs_rotation())
        with self.assertRaises(SealpostError.RotationRequired):
            alice_group.encrypt(b"too early")
        alice_group.resume_without_rotation()
        self.assertFalse(alice_group.needs_rotation())
        self.assertEqual(alice_group.own_iteration(), alice.group.own_iteration())
        nxt = alice_group.encrypt(b"back")
        got = bob_group.decrypt(nxt, NOW)
        self.assertEqual((got.plaintext, got.iteration), (b"back", 2))

        # Plaintext state round trip, wrong key, wrong type.
        self.assertEqual(Group.from_bytes(bob_group.to_bytes()).to_bytes(), bob_group.to_bytes())
        with self.assertRaises(SealpostError.ExportCorrupted):
            Group.import_encrypted(sealpost.generate_export_key(), saved_bob)
        with self.assertRaises(SealpostError.Malformed):
            Group.import_encrypted(key, bob.account.export_encrypted(key))


class GroupErrors(unittest.TestCase):
    def setUp(self):
        self.m, _ = build_group(self)

    def test_tampered_message_raises_and_changes_nothing(self):
        alice, bob = self.m["alice"], self.m["bob"]
        wire = alice.group.encrypt(b"budget approved")
        before = bob.group.to_bytes()
        kinds = set()
        for i in range(len(wire)):
            with self.assertRaises(SealpostError) as ctx:
                bob.group.decrypt(flip(wire, i), NOW)
            self.assertIsInstance(
                ctx.exception,
                (SealpostError.Malformed, SealpostError.GroupMismatch, SealpostError.NotGroupMember,
                 SealpostError.UnknownSenderKey, SealpostError.InvalidSignature),
            )
            kinds.add(type(ctx.exception).__name__)
        self.assertIn("InvalidSignature", kinds)
        self.assertIn("GroupMismatch", kinds)
        with self.assertRaises(SealpostError.InvalidSignature):
            bob.group.decrypt(wire[:-1], NOW)  # the last 64 bytes are taken as the signature
        with self.assertRaises(SealpostError.Malformed):
            bob.group.decrypt(wire[:60], NOW)
        self.assertEqual(bob.group.to_bytes(), before)
        self.assertEqual(bob.group.decrypt(wire, NOW).plaintext, b"budget approved")

    def test_replay_and_wrong_group_raise(self):
        alice, bob = self.m["alice"], self.m["bob"]
        wire = alice.group.encrypt(b"once")
        self.assertEqual(bob.group.decrypt(wire, NOW).plaintext, b"once")
        before = bob.group.to_bytes()
        with self.assertRaises(SealpostError.DuplicateMessage):
            bob.group.decrypt(wire, NOW)
        self.assertEqual(bob.group.to_bytes(), before)
        other = Group(sealpost.generate_group_id(), alice.id, [bob.id])
        with self.assertRaises(SealpostError.GroupMismatch):
            bob.group.decrypt(other.encrypt(b"elsewhere"), NOW)
        with self.assertRaises(SealpostError.UnknownSenderKey):
            alice.group.decrypt(wire, NOW)  # our own message
        with self.assertRaises(SealpostError.GroupMismatch):
            bob.account.receive_group_distribution(
                bob.sessions["alice"], alice.group.distribute([alice.sessions["bob"]])[0].message, [])
        with self.assertRaises(SealpostError.InvalidArgument):
            alice.group.distribute([alice.sessions["bob"], alice.sessions["bob"]])
        with self.assertRaises(SealpostError.PeerMismatch):
            alice.group.distribute([bob.sessions["carol"]])  # not Alice's session


if __name__ == "__main__":
    unittest.main()
