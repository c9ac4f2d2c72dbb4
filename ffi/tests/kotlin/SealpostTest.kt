// End-to-end tests of the generated Kotlin bindings (package
// uniffi.sealpost) on the JVM with JNA: the core API (1:1 setup, replay
// refusal, persistence) and the Client on SQLite files (1:1 across
// reopening, groups, Forkout, Burnout in the vault, typed errors).
//
// Run through ffi/scripts/test-kotlin.sh, which builds the library,
// generates the bindings, compiles them with this file and runs `main`.
// No test framework: each test is a function; the last line reads
// "kotlin-bindings: N passed, N failed".

import java.io.File
import java.nio.file.Files
import uniffi.sealpost.*

const val NOW: ULong = 1_700_000_000_000uL

fun check(condition: Boolean, what: String) {
    if (!condition) throw AssertionError(what)
}

inline fun <reified E : Throwable> assertThrows(what: String, block: () -> Unit) {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return
        throw AssertionError("$what: expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing thrown")
}

fun key(b: Int): ByteArray = ByteArray(32) { b.toByte() }

fun tempDir(): File = Files.createTempDirectory("sealpost-kotlin").toFile()

fun coreSessionsReplayAndPersistence() {
    val alice = Account(NOW)
    val bob = Account(NOW)
    bob.generateOneTimePrekeys(2u)
    val toBob = alice.createOutboundSession(bob.prekeyBundles()[0])
    val m1 = toBob.encrypt("hello bob".toByteArray())
    val inbound = bob.createInboundSession(m1)
    check(inbound.plaintext.contentEquals("hello bob".toByteArray()), "setup message opens")
    val toAlice = inbound.session
    assertThrows<SealpostException.DuplicateMessage>("a replay is refused") { bob.decrypt(toAlice, m1) }
    check(toBob.isPostQuantum() && toAlice.isPostQuantum(), "sessions are post-quantum (PQXDH)")
    check(bob.setupPolicy() == SetupPolicy.REQUIRE_POST_QUANTUM, "classical setup is refused by default")
    val reply = toAlice.encrypt("hi alice".toByteArray())
    // Persistence: the session survives an encrypted export.
    val exportKey = generateExportKey()
    val restored = Session.importEncrypted(exportKey, toBob.exportEncrypted(exportKey))
    check(alice.decrypt(restored, reply).contentEquals("hi alice".toByteArray()), "restored session reads")
}

fun connect(a: Client, aName: String, b: Client, bName: String) {
    a.startSession(bName, b.prekeyBundles(NOW)[0], NOW)
    val hello = a.send(bName, "hello".toByteArray())
    check(b.receive(aName, hello.bytes, NOW) is ClientEvent.Message, "hello arrives")
}

fun clientConversationAcrossReopening() {
    val dir = tempDir()
    val alicePath = File(dir, "alice.db").path
    val bobPath = File(dir, "bob.db").path
    var alice = Client.create(alicePath, key(1), NOW)
    var bob = Client.create(bobPath, key(2), NOW)
    connect(alice, "alice", bob, "bob")
    for (round in 0 until 5) {
        val out = alice.send("bob", "round $round".toByteArray())
        check(out.to == ClientDestination.Peer("bob"), "addressed to bob")
        alice.close()
        bob.close()
        alice = Client.open(alicePath, key(1))
        bob = Client.open(bobPath, key(2))
        val event = bob.receive("alice", out.bytes, NOW) as ClientEvent.Message
        check(event.plaintext.contentEquals("round $round".toByteArray()), "round $round")
        check(bob.receive("alice", out.bytes, NOW) is ClientEvent.Duplicate, "redelivery is a duplicate")
        alice.acknowledge(out.id)
    }
    check(alice.outbox().size == 1, "only the hello is unacknowledged")
    check(bob.inbox().size == 6, "hello and five rounds wait in the inbox")
    check(alice.safetyNumber("bob") == bob.safetyNumber("alice"), "safety numbers match")
    assertThrows<SealpostException.StoreCorrupted>("a wrong store key") { Client.open(alicePath, key(9)) }
    assertThrows<SealpostException.NoSession>("no session") { alice.send("nobody", byteArrayOf(1)) }
    dir.deleteRecursively()
}

fun clientGroupsForkoutAndVault() {
    val dir = tempDir()
    val names = listOf("alice", "bob", "carol")
    val c = names.mapIndexed { i, n -> n to Client.create(File(dir, "$n.db").path, key(i + 1), NOW) }.toMap()
    connect(c["alice"]!!, "alice", c["bob"]!!, "bob")
    connect(c["alice"]!!, "alice", c["carol"]!!, "carol")
    connect(c["bob"]!!, "bob", c["carol"]!!, "carol")

    val created = c["alice"]!!.createGroup(listOf("bob", "carol"))
    val gid = created.groupId
    assertThrows<SealpostException.UnknownGroup>("a key for a group not joined") {
        c["bob"]!!.receive("alice", created.outgoing[0].bytes, NOW)
    }
    val outs = mapOf(
        "alice" to created.outgoing,
        "bob" to c["bob"]!!.joinGroup(gid, listOf("alice", "carol")),
        "carol" to c["carol"]!!.joinGroup(gid, listOf("alice", "bob")),
    )
    for ((sender, entries) in outs) {
        for (out in entries) {
            val to = (out.to as ClientDestination.Peer).name
            val event = c[to]!!.receive(sender, out.bytes, NOW) as ClientEvent.SenderKeyInstalled
            check(event.from == sender && event.groupId.contentEquals(gid), "key of $sender installed at $to")
        }
    }
    val m = c["carol"]!!.sendGroup(gid, "standup in 5".toByteArray(), null)
    for (n in listOf("alice", "bob")) {
        val event = c[n]!!.receive("group", m.bytes, NOW) as ClientEvent.GroupMessage
        check(event.from == "carol" && event.plaintext.contentEquals("standup in 5".toByteArray()), "group message at $n")
    }
    check(c["bob"]!!.groupMembers(gid) == listOf("alice", "carol"), "member names")

    // Forkout with a burn-after-reading envelope: one bundle, split by the
    // relay; each recipient's content goes to its vault.
    val once = envelopeWithTtl(NOW, 60_000uL, true)
    val bundle = c["alice"]!!.sendForkout(listOf("bob", "carol"), "door code 4471".toByteArray(), once)
    check(bundle.to == ClientDestination.Relay(listOf("bob", "carol")), "a relay upload")
    for (d in forkoutSplitAll(bundle.bytes)) {
        val name = if (d.recipientIdentityKey.contentEquals(c["bob"]!!.identity())) "bob" else "carol"
        val event = c[name]!!.receive("alice", d.delivery, NOW) as ClientEvent.Burnout
        check(event.via is ClientVia.Forkout, "came as a Forkout")
        check(c[name]!!.vaultRead(event.entry, NOW + 1uL).contentEquals("door code 4471".toByteArray()), "vault read")
        assertThrows<SealpostException.BurnedAfterReading>("read twice") { c[name]!!.vaultRead(event.entry, NOW + 2uL) }
    }
    c.values.forEach { it.close() }
    dir.deleteRecursively()
}

fun attachmentsFileToFileWithProgressAndRanges() {
    val dir = tempDir()
    val plain = File(dir, "note.ogg")
    val audio = ByteArray(1_000_000) { (it % 241).toByte() }
    plain.writeBytes(audio)
    val upload = File(dir, "upload.bin")
    val reports = mutableListOf<ULong>()
    val progress = object : AttachmentProgress {
        override fun onProgress(done: ULong, total: ULong): Boolean {
            reports.add(done)
            return true
        }
    }
    val meta = AttachmentMetadata("audio/ogg", "note.ogg", 60_000uL, byteArrayOf(1, 2, 3), null)
    val pointer = attachmentEncryptFile(plain.path, upload.path, meta, progress)
    check(reports.last() == 1_000_000uL && reports.size == 16, "progress per 64 KiB chunk: $reports")
    val info = attachmentInfo(pointer)
    check(info.len == 1_000_000uL && info.ciphertextLen == upload.length().toULong(), "pointer info")
    check(info.metadata.fileName == "note.ogg", "metadata")
    val range = attachmentReadRange(pointer, upload.path, 500_000uL, 1_000uL)
    check(range.contentEquals(audio.copyOfRange(500_000, 501_000)), "range read")
    val out = File(dir, "out.ogg")
    attachmentDecryptFile(pointer, upload.path, out.path, null)
    check(out.readBytes().contentEquals(audio), "file round trip")
    val cancel = object : AttachmentProgress {
        override fun onProgress(done: ULong, total: ULong): Boolean = false
    }
    assertThrows<SealpostException.Cancelled>("cancelled") { attachmentDecryptFile(pointer, upload.path, out.path, cancel) }
    val bytes = upload.readBytes()
    bytes[100_000] = (bytes[100_000].toInt() xor 1).toByte()
    upload.writeBytes(bytes)
    assertThrows<SealpostException.ChunkAuthentication>("tampered") { attachmentDecryptFile(pointer, upload.path, out.path, null) }
    dir.deleteRecursively()
}

// A linked laptop: the QR code is request.code(); the user compares the
// short strings; the phone publishes the new list. Then Bob writes to
// Alice as a person, and the relay's check catches a list Bob has not seen.
fun multiDeviceLinkSendRemove() {
    val dir = tempDir()
    val phone = Client.create(File(dir, "phone.db").path, key(1), NOW)
    val laptop = Client.create(File(dir, "laptop.db").path, key(2), NOW)
    val bob = Client.create(File(dir, "bob.db").path, key(3), NOW)
    phone.createUser("alice")
    bob.createUser("bob")

    val request = laptop.linkRequest(NOW)
    val started = phone.startLink(request.code(), NOW)
    val accept = laptop.acceptLinkOffer(request, started.offer, NOW)
    val onPhone = started.linker.receiveAccept(accept)
    check(onPhone == request.shortString(), "both screens show the same short string")
    assertThrows<SealpostException.ShortStringMismatch>("a mistyped string") {
        val other = Client.create(File(dir, "x.db").path, key(4), NOW)
        val r2 = other.linkRequest(NOW)
        val s2 = phone.startLink(r2.code(), NOW)
        s2.linker.receiveAccept(other.acceptLinkOffer(r2, s2.offer, NOW))
        phone.completeLink(s2.linker, if (onPhone == "0000 0000") "1111 1111" else "0000 0000", ByteArray(0), ByteArray(0))
    }
    val confirmation = laptop.confirmLink(request, onPhone)
    val done = phone.completeLink(started.linker, request.shortString()!!, confirmation, "groups".toByteArray())
    check(laptop.finishLink(request, "alice", done.transfer).contentEquals("groups".toByteArray()), "app data")
    check(deviceListInfo(done.devices).version == 2uL, "version 2 with the laptop")

    bob.acceptDeviceList("alice", done.devices)
    for (device in bob.devicesWithoutSession("alice")) {
        val owner = if (device.contentEquals(phone.identity())) phone else laptop
        bob.startDeviceSession("alice", owner.prekeyBundles(NOW)[0], NOW)
    }
    val out = bob.sendToUser("alice", "hi alice".toByteArray(), null)
    checkDeviceRecipients(out.bytes, listOf(done.devices, bob.ownDevices()), bob.identity())
    for (d in forkoutSplitAll(out.bytes)) {
        val owner = if (d.recipientIdentityKey.contentEquals(phone.identity())) phone else laptop
        owner.acceptDeviceList("bob", bob.ownDevices())
        val event = owner.receiveFromDevice("bob", bob.identity(), d.delivery, NOW) as ClientEvent.Forkout
        check(event.from == "bob" && event.plaintext.contentEquals("hi alice".toByteArray()), "a device of Alice reads it")
    }
    // The phone is lost; Bob's next message has no slot for it.
    val removed = laptop.removeOwnDevice(phone.identity())
    assertThrows<SealpostException.StaleDeviceList>("Bob's view is out of date") {
        checkDeviceRecipients(bob.sendToUser("alice", "again".toByteArray(), null).bytes, listOf(removed.devices, bob.ownDevices()), bob.identity())
    }
    check(bob.acceptDeviceList("alice", removed.devices).removed.map { it.toList() } == listOf(phone.identity().toList()), "the phone left")
    val next = bob.sendToUser("alice", "after".toByteArray(), null)
    checkDeviceRecipients(next.bytes, listOf(removed.devices, bob.ownDevices()), bob.identity())
    assertThrows<SealpostException.DeviceListRolledBack>("the old list again") { bob.acceptDeviceList("alice", done.devices) }
    listOf(phone, laptop, bob).forEach { it.close() }
    dir.deleteRecursively()
}

fun main() {
    val tests = listOf(
        "client: several devices, linking, removal" to ::multiDeviceLinkSendRemove,
        "core: sessions, replay refusal, persistence" to ::coreSessionsReplayAndPersistence,
        "client: a conversation across reopening" to ::clientConversationAcrossReopening,
        "client: groups, Forkout and the vault" to ::clientGroupsForkoutAndVault,
        "attachments: file to file, progress, ranges, tampering" to ::attachmentsFileToFileWithProgressAndRanges,
    )
    var failed = 0
    for ((name, test) in tests) {
        try {
            test()
            println("ok   $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
            e.printStackTrace()
        }
    }
    println("kotlin-bindings: ${tests.size - failed} passed, $failed failed")
    if (failed > 0) kotlin.system.exitProcess(1)
}
