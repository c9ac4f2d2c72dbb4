"""People with several devices through the Python bindings: Alice links
her laptop to her phone (the code is the bytes a QR code shows), talks to
Bob, who has two devices, through a relay that checks device lists, in a
group of people, loses the phone and removes it. Every client is on its own
SQLite file."""

import os
import tempfile
import unittest

import sealpost
from sealpost import Client, ClientDestination, ClientEvent, SealpostError

NOW = 1_700_000_000_000


class World:
    """The directory (newest list per user), the relay, the mailboxes."""

    def __init__(self, folder):
        self.folder = folder
        self.directory = {}
        self.mail = {}  # device identity -> [(user, device, bytes)]
        self.handed = set()
        self.count = 0

    def client(self):
        self.count += 1
        path = os.path.join(self.folder, f"device{self.count}.db")
        return Client.create(path, bytes([self.count]) * 32, NOW)

    def bundle(self, client):
        for b in client.prekey_bundles(NOW):
            if b not in self.handed:
                self.handed.add(b)
                return b
        raise AssertionError("no fresh bundle")

    def sync(self, client, clients):
        by_identity = {c.identity(): c for c in clients}
        for user, listed in self.directory.items():
            change = client.accept_device_list(user, listed)
            self.route(client, change.outgoing)
            for device in client.devices_without_session(user):
                self.route(client, client.start_device_session(user, self.bundle(by_identity[device]), NOW))

    def route(self, client, outs):
        me = client.user().name
        for out in outs:
            if isinstance(out.to, ClientDestination.USERS):
                lists = [self.directory[u] for u in out.to.users]
                sealpost.check_device_recipients(out.bytes, lists, client.identity())
                for d in sealpost.forkout_split_all(out.bytes):
                    self.mail.setdefault(bytes(d.recipient_identity_key), []).append(
                        (me, client.identity(), d.delivery)
                    )
            elif isinstance(out.to, ClientDestination.DEVICE):
                self.mail.setdefault(out.to.device, []).append((me, client.identity(), out.bytes))
            else:
                raise AssertionError(out.to)
            client.acknowledge(out.id)

    def drain(self, client):
        events = []
        for user, device, wire in self.mail.pop(client.identity(), []):
            events.append(client.receive_from_device(user, device, wire, NOW))
        return events


def link(world, existing, user):
    """Links a new device to `existing`'s user; returns the new client."""
    laptop = world.client()
    request = laptop.link_request(NOW)
    qr = request.code()  # what the QR code carries
    started = existing.start_link(qr, NOW)
    accept = laptop.accept_link_offer(request, started.offer, NOW)
    on_existing = started.linker.receive_accept(accept)
    on_new = request.short_string()
    assert on_existing == on_new and len(on_new) == 9
    confirmation = laptop.confirm_link(request, on_existing)
    done = existing.complete_link(started.linker, on_new, confirmation, b"groups")
    assert laptop.finish_link(request, user, done.transfer) == b"groups"
    world.directory[user] = done.devices
    return laptop


class MultiDevice(unittest.TestCase):
    def test_link_talk_in_a_group_lose_the_phone(self):
        with tempfile.TemporaryDirectory() as folder:
            w = World(folder)
            phone = w.client()
            w.directory["alice"] = phone.create_user("alice")
            laptop = link(w, phone, "alice")
            info = sealpost.device_list_info(w.directory["alice"])
            self.assertEqual(info.version, 2)
            self.assertEqual(sorted(info.devices), sorted([phone.identity(), laptop.identity()]))
            bob = w.client()
            w.directory["bob"] = bob.create_user("bob")
            bob_tablet = link(w, bob, "bob")
            everyone = [phone, laptop, bob, bob_tablet]
            for c in everyone:
                w.sync(c, everyone)
            for c in everyone:
                w.drain(c)

            # Alice's phone to Bob: both of Bob's devices and Alice's laptop.
            out = phone.send_to_user("bob", b"hi bob", None)
            self.assertIsInstance(out.to, ClientDestination.USERS)
            w.route(phone, [out])
            for c in [bob, bob_tablet, laptop]:
                (event,) = w.drain(c)
                self.assertIsInstance(event, ClientEvent.FORKOUT)
                self.assertEqual((event._from, event.plaintext), ("alice", b"hi bob"))

            # A group of the two people.
            created = bob.create_user_group(["alice"])
            w.route(bob, created.outgoing)
            for c, others in [(phone, ["bob"]), (laptop, ["bob"]), (bob_tablet, ["alice"])]:
                w.route(c, c.join_user_group(created.group_id, others))
            for c in everyone:
                w.drain(c)
            self.assertEqual(bob.group_users(created.group_id), ["alice", "bob"])

            # The safety number is per person.
            number = bob.user_safety_number("alice")
            self.assertEqual(number, phone.user_safety_number("bob"))
            bob.verify_user("alice", phone.user().user_key)
            self.assertTrue(bob.is_user_verified("alice"))

            # The phone is lost: the laptop removes it, Bob accepts the list.
            removed = laptop.remove_own_device(phone.identity())
            w.route(laptop, removed.outgoing)
            w.directory["alice"] = removed.devices
            change = bob.accept_device_list("alice", removed.devices)
            self.assertEqual(change.removed, [phone.identity()])
            # The rotated group key, for the remaining devices only.
            self.assertEqual(
                sorted(o.to.device for o in change.outgoing if isinstance(o.to, ClientDestination.DEVICE)),
                sorted([laptop.identity(), bob_tablet.identity()]),
            )
            w.route(bob, change.outgoing)
            message = bob.send_group(created.group_id, b"new plans", None)
            with self.assertRaises(SealpostError):
                phone.receive_from_device("bob", bob.identity(), message.bytes, NOW)
            w.drain(laptop)
            event = laptop.receive_from_device("bob", bob.identity(), message.bytes, NOW)
            self.assertIsInstance(event, ClientEvent.GROUP_MESSAGE)
            self.assertEqual(event.plaintext, b"new plans")
            with self.assertRaises(SealpostError.UnknownDevice):
                bob.receive_from_device("alice", phone.identity(), message.bytes, NOW)

            # The phone was stolen rather than lost: the laptop starts Alice
            # over under a new user key; Bob (who verified her) takes it
            # only once he compared the new safety number.
            reset = laptop.reset_user()
            w.route(laptop, reset.outgoing)
            with self.assertRaises(SealpostError.UserKeyMismatch):
                bob.accept_device_list("alice", reset.devices)
            with self.assertRaises(SealpostError.Blocked):
                bob.accept_user_key_change("alice", reset.devices, None)
            new_key = sealpost.device_list_info(reset.devices).user_key
            with self.assertRaises(SealpostError.UserKeyMismatch):
                bob.accept_user_key_change("alice", reset.devices, bob.user().user_key)
            change = bob.accept_user_key_change("alice", reset.devices, new_key)
            self.assertEqual(change.removed, [])
            self.assertNotEqual(bob.user_safety_number("alice"), number)
            self.assertTrue(bob.is_user_verified("alice"))

    def test_wrong_codes_rollbacks_and_stale_lists_are_typed_errors(self):
        with tempfile.TemporaryDirectory() as folder:
            w = World(folder)
            phone = w.client()
            v1 = phone.create_user("alice")
            w.directory["alice"] = v1
            laptop = w.client()
            request = laptop.link_request(NOW)
            stale = laptop.link_request(NOW).code()
            wrong = phone.start_link(stale, NOW)
            with self.assertRaises(SealpostError.WrongLinkCode):
                laptop.accept_link_offer(request, wrong.offer, NOW)
            started = phone.start_link(request.code(), NOW)
            accept = laptop.accept_link_offer(request, started.offer, NOW)
            shown = started.linker.receive_accept(accept)
            mistyped = "0000 0000" if shown != "0000 0000" else "1111 1111"
            with self.assertRaises(SealpostError.ShortStringMismatch):
                phone.complete_link(started.linker, mistyped, b"", b"")
            self.assertEqual(sealpost.device_list_info(phone.own_devices()).version, 1)
            with self.assertRaises(SealpostError.NoUser):
                laptop.own_devices()

            laptop = link(w, phone, "alice")
            bob = w.client()
            w.directory["bob"] = bob.create_user("bob")
            w.sync(bob, [phone, laptop, bob])
            with self.assertRaises(SealpostError.DeviceListRolledBack):
                bob.accept_device_list("alice", v1)
            # Alice links a tablet; Bob's next message is refused by the relay.
            tablet = link(w, laptop, "alice")
            out = bob.send_to_user("alice", b"hello", None)
            with self.assertRaises(SealpostError.StaleDeviceList):
                w.route(bob, [out])
            w.sync(bob, [phone, laptop, bob, tablet])
            w.route(bob, [bob.resend_to_user(out.id)])
            w.sync(tablet, [phone, laptop, bob, tablet])
            (event,) = [e for e in w.drain(tablet) if isinstance(e, ClientEvent.FORKOUT)]
            self.assertEqual(event.plaintext, b"hello")


if __name__ == "__main__":
    unittest.main()
