"""The Client through the Python bindings: two apps on SQLite files, a
conversation across real process restarts (each step runs in a new Python
process that reopens its file), the outbox and inbox, identity trust,
groups, Forkout and the Burnout vault inside the client."""

import os
import subprocess
import sys
import tempfile
import unittest

import sealpost
from sealpost import Client, ClientEvent, SealpostError

NOW = 1_700_000_000_000
ALICE_KEY = bytes([0xA1]) * 32
BOB_KEY = bytes([0xB0]) * 32

# One step of an app, run in a fresh process: reopen the file, act, print.
STEP = r"""
import sys
from sealpost import Client, ClientEvent
path, key, action = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
client = Client.open(path, key)
if action == "receive":
    peer, wire = sys.argv[4], bytes.fromhex(sys.argv[5])
    event = client.receive(peer, wire, 1_700_000_000_000)
    assert isinstance(event, ClientEvent.MESSAGE), event
    client.acknowledge_received(event.id)
    print(event.plaintext.decode())
elif action == "send":
    peer, text = sys.argv[4], sys.argv[5]
    out = client.send(peer, text.encode())
    print(out.bytes.hex())
"""


def step(path, key, *args):
    out = subprocess.run(
        [sys.executable, "-c", STEP, path, key.hex(), *args],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    return out.stdout.strip()


class ClientAcrossProcessRestarts(unittest.TestCase):
    def test_a_conversation_where_every_step_is_a_new_process(self):
        with tempfile.TemporaryDirectory() as d:
            alice_db, bob_db = os.path.join(d, "alice.db"), os.path.join(d, "bob.db")
            alice = Client.create(alice_db, ALICE_KEY, NOW)
            bob = Client.create(bob_db, BOB_KEY, NOW)
            bundles = bob.prekey_bundles(NOW)
            self.assertEqual(len(bundles), 100)
            alice.start_session("bob", bundles[0], NOW)
            del alice, bob  # both apps quit

            wire = step(alice_db, ALICE_KEY, "send", "bob", "hello from process 1")
            self.assertEqual(step(bob_db, BOB_KEY, "receive", "alice", wire), "hello from process 1")
            reply = step(bob_db, BOB_KEY, "send", "alice", "hi, from another process")
            self.assertEqual(step(alice_db, ALICE_KEY, "receive", "bob", reply), "hi, from another process")

            # Back in this process: the state on disk is what the steps left.
            alice = Client.open(alice_db, ALICE_KEY)
            self.assertEqual(len(alice.outbox()), 1)  # never acknowledged
            self.assertEqual(alice.inbox(), [])  # acknowledged by the step
            again = alice.receive("bob", bytes.fromhex(reply), NOW)
            self.assertIsInstance(again, ClientEvent.DUPLICATE)
            self.assertEqual(alice.safety_number("bob"), Client.open(bob_db, BOB_KEY).safety_number("alice"))

    def test_typed_errors_and_identity_trust(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.db")
            with self.assertRaises(SealpostError.StoreNotFound):
                Client.open(path, ALICE_KEY)
            client = Client.create(path, ALICE_KEY, NOW)
            with self.assertRaises(SealpostError.StoreAlreadyExists):
                Client.create(path, ALICE_KEY, NOW)
            with self.assertRaises(SealpostError.StoreCorrupted):
                Client.open(path, BOB_KEY)
            with self.assertRaises(SealpostError.NoSession):
                client.send("nobody", b"x")

            bob = Client.create(os.path.join(d, "bob.db"), BOB_KEY, NOW)
            other = Client.create(os.path.join(d, "other.db"), bytes([3]) * 32, NOW)
            client.start_session("bob", bob.prekey_bundles(NOW)[0], NOW)
            trust = client.peer_trust("bob")
            self.assertEqual((trust.identity, trust.verified), (bob.identity(), False))
            client.verify_identity("bob", bob.identity())
            # A bundle of another identity for "bob" is refused, typed.
            with self.assertRaises(SealpostError.IdentityChanged):
                client.start_session("bob", other.prekey_bundles(NOW)[0], NOW)


def connect(a, a_name, b, b_name):
    """`a` starts a session from `b`'s bundle and says hello."""
    a.start_session(b_name, b.prekey_bundles(NOW)[0], NOW)
    hello = a.send(b_name, b"hello")
    assert isinstance(b.receive(a_name, hello.bytes, NOW), ClientEvent.MESSAGE)


class ClientCarriers(unittest.TestCase):
    def test_a_group_forkout_and_the_vault_across_reopening(self):
        with tempfile.TemporaryDirectory() as d:
            paths = {n: os.path.join(d, n + ".db") for n in ("alice", "bob", "carol")}
            keys = {n: bytes([i + 1]) * 32 for i, n in enumerate(paths)}
            c = {n: Client.create(paths[n], keys[n], NOW) for n in paths}
            connect(c["alice"], "alice", c["bob"], "bob")
            connect(c["alice"], "alice", c["carol"], "carol")
            connect(c["bob"], "bob", c["carol"], "carol")

            created = c["alice"].create_group(["bob", "carol"])
            gid = created.group_id
            outs = {"alice": created.outgoing}
            # A sender key for a group not joined yet: typed, changes nothing.
            with self.assertRaises(SealpostError.UnknownGroup):
                c["bob"].receive("alice", outs["alice"][0].bytes, NOW)
            outs["bob"] = c["bob"].join_group(gid, ["alice", "carol"])
            outs["carol"] = c["carol"].join_group(gid, ["alice", "bob"])
            for sender, entries in outs.items():
                for out in entries:
                    self.assertIsInstance(out.to, sealpost.ClientDestination.PEER)
                    event = c[out.to.name].receive(sender, out.bytes, NOW)
                    self.assertIsInstance(event, ClientEvent.SENDER_KEY_INSTALLED)
                    self.assertEqual((event.group_id, event._from), (gid, sender))

            # Every app restarts: the group state is on disk.
            c = {n: Client.open(paths[n], keys[n]) for n in paths}
            m = c["carol"].send_group(gid, b"standup in 5", None)
            self.assertEqual(m.to, sealpost.ClientDestination.GROUP(gid))
            for n in ("alice", "bob"):
                event = c[n].receive("group", m.bytes, NOW)
                self.assertIsInstance(event, ClientEvent.GROUP_MESSAGE)
                self.assertEqual((event._from, event.plaintext), ("carol", b"standup in 5"))
            self.assertEqual(c["bob"].group_members(gid), ["alice", "carol"])

            # Forkout: one bundle, split by the relay.
            once = sealpost.envelope_with_ttl(NOW, 60_000, True)
            bundle = c["alice"].send_forkout(["bob", "carol"], b"door code 4471", once)
            self.assertEqual(bundle.to, sealpost.ClientDestination.RELAY(["bob", "carol"]))
            for d in sealpost.forkout_split_all(bundle.bytes):
                name = "bob" if d.recipient_identity_key == c["bob"].identity() else "carol"
                event = c[name].receive("alice", d.delivery, NOW)
                self.assertIsInstance(event, ClientEvent.BURNOUT)
                self.assertIsInstance(event.via, sealpost.ClientVia.FORKOUT)
                self.assertEqual(c[name].vault_read(event.entry, NOW + 1), b"door code 4471")
                with self.assertRaises(SealpostError.BurnedAfterReading):
                    c[name].vault_read(event.entry, NOW + 2)


if __name__ == "__main__":
    unittest.main()
