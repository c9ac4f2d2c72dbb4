// The package's tests, written once and run twice: in Node.js against the
// installed CommonJS build (node.test.mjs) and in headless Chromium against
// the ES module build (browser.html). Each scenario gets the loaded module
// `sp` and throws on failure. No test framework: the browser has none.

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (s) => enc.encode(s);
const str = (bytes) => dec.decode(bytes);

const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

function equal(actual, expected, what) {
  const a = actual instanceof Uint8Array ? Array.from(actual).join(",") : String(actual);
  const e = expected instanceof Uint8Array ? Array.from(expected).join(",") : String(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/// Runs `f`, which must throw a SealpostError with `code`.
function refuses(code, f, what) {
  try {
    f();
  } catch (e) {
    if (e && e.name === "SealpostError" && e.code === code) {
      check(e instanceof Error && typeof e.message === "string" && e.message.length > 0, `${what}: a readable Error`);
      return e;
    }
    throw new Error(`${what}: expected SealpostError ${code}, got ${e && e.name} ${e && e.code}: ${e && e.message}`);
  }
  throw new Error(`${what}: expected SealpostError ${code}, but it succeeded`);
}

function flip(bytes, index) {
  const copy = Uint8Array.from(bytes);
  copy[index] ^= 0x01;
  return copy;
}

/// Alice and Bob with a confirmed session each way.
function pair(sp) {
  const alice = new sp.Account(NOW);
  const bob = new sp.Account(NOW);
  bob.generateOneTimePrekeys(4);
  const aliceToBob = alice.createOutboundSession(bob.prekeyBundle());
  const first = bob.createInboundSession(aliceToBob.encrypt(text("hello Bob")));
  equal(str(first.plaintext), "hello Bob", "first message");
  const bobToAlice = first.session;
  equal(str(alice.decrypt(aliceToBob, bobToAlice.encrypt(text("hi Alice")))), "hi Alice", "reply");
  return { alice, bob, aliceToBob, bobToAlice };
}

export function scenarios(sp) {
  return [
    ["a 1:1 session starts offline, runs both ways, and is post-quantum", () => {
      const { alice, bob, aliceToBob, bobToAlice } = pair(sp);
      check(aliceToBob.isPostQuantum() && bobToAlice.isPostQuantum(), "PQXDH on both sides");
      check(aliceToBob.isConfirmed(), "confirmed after the reply");
      equal(aliceToBob.sessionId(), bobToAlice.sessionId(), "session ids converge");
      equal(aliceToBob.peerIdentityKey, bob.identityKey, "peer identity");
      equal(bobToAlice.peerIdentityKey, alice.identityKey, "peer identity (Bob)");
      equal(aliceToBob.localIdentityKey.length, 32, "identity key length");
      equal(sp.verifyPrekeyBundle(bob.prekeyBundle()), bob.identityKey, "bundle owner");
      equal(alice.safetyNumber(bob.identityKey), bob.safetyNumber(alice.identityKey), "safety numbers agree");
      equal(sp.safetyNumber(alice.identityKey, bob.identityKey).split(" ").length, 12, "12 groups of digits");
      for (let i = 0; i < 25; i++) {
        equal(str(bobToAlice.decrypt(aliceToBob.encrypt(text(`m${i}`)))), `m${i}`, "ping");
        equal(str(aliceToBob.decrypt(bobToAlice.encrypt(text(`r${i}`)))), `r${i}`, "pong");
      }
      check(aliceToBob.postQuantumEpoch() >= 1, "the post-quantum ratchet advanced");
    }],

    ["out-of-order messages open, replays and forgeries are refused and change nothing", () => {
      const { aliceToBob, bobToAlice } = pair(sp);
      const m = [0, 1, 2, 3].map((i) => aliceToBob.encrypt(text(`n${i}`)));
      equal(str(bobToAlice.decrypt(m[2])), "n2", "third first");
      equal(bobToAlice.skippedKeyCount(), 2, "two keys kept for the gap");
      refuses("DuplicateMessage", () => bobToAlice.decrypt(m[2]), "a replay");
      refuses("AuthenticationFailed", () => bobToAlice.decrypt(flip(m[0], m[0].length - 1)), "a forgery");
      refuses("Malformed", () => bobToAlice.decrypt(m[0].subarray(0, 5)), "a truncated message");
      equal(str(bobToAlice.decrypt(m[0])), "n0", "the original after the forgery");
      equal(str(bobToAlice.decrypt(m[1])), "n1", "the second");
      equal(str(bobToAlice.decrypt(m[3])), "n3", "the fourth");
      equal(bobToAlice.skippedKeyCount(), 0, "no key left over");
    }],

    ["a one-time prekey is consumed once, and a forged setup consumes nothing", () => {
      const alice = new sp.Account(NOW);
      const bob = new sp.Account(NOW);
      const ids = bob.generateOneTimePrekeys(2);
      equal(ids.length, 2, "two prekey ids");
      equal(bob.remainingOneTimePrekeys(), 2, "two remaining");
      const setup = alice.createOutboundSession(bob.prekeyBundle()).encrypt(text("x"));
      refuses("AuthenticationFailed", () => bob.createInboundSession(flip(setup, setup.length - 1)), "forged setup");
      equal(bob.remainingOneTimePrekeys(), 2, "a forgery burns no prekey");
      bob.createInboundSession(setup);
      equal(bob.remainingOneTimePrekeys(), 1, "consumed once");
      refuses("OneTimePreKeyReused", () => bob.createInboundSession(setup), "the same setup again");
    }],

    ["errors are typed SealpostErrors with a code and words", () => {
      const { alice, bob, aliceToBob, bobToAlice } = pair(sp);
      refuses("OwnBundle", () => alice.createOutboundSession(alice.prekeyBundle()), "own bundle");
      refuses("NotASetupMessage", () => bob.createInboundSession(aliceToBob.encrypt(text("late"))), "not a setup");
      refuses("InvalidSignature", () => sp.verifyPrekeyBundle(flip(bob.prekeyBundle(), 40)), "a forged bundle");
      refuses("Malformed", () => alice.createOutboundSession(new Uint8Array([1, 2, 3])), "garbage bundle");
      refuses("InvalidArgument", () => new sp.Account(Number.NaN), "NaN time");
      refuses("InvalidArgument", () => new sp.Account(1.5), "fractional time");
      refuses("InvalidArgument", () => aliceToBob.exportEncrypted(new Uint8Array(31)), "short export key");
      refuses("Malformed", () => alice.safetyNumber(new Uint8Array(31)), "short identity key");
      // Bytes must be a Uint8Array: wasm-bindgen would read a string as
      // zeros, silently.
      refuses("InvalidArgument", () => aliceToBob.encrypt("hello"), "a string is not bytes");
      refuses("InvalidArgument", () => aliceToBob.encrypt([104, 105]), "an array of numbers is not bytes");
      refuses("InvalidArgument", () => aliceToBob.exportEncrypted("k".repeat(32)), "a 32-character string key");
      refuses("InvalidArgument", () => aliceToBob.decrypt(null), "null");
      refuses("InvalidArgument", () => new sp.Group("g".repeat(32), alice.identityKey, []), "a string group id");
      refuses("InvalidArgument", () => new sp.Group(sp.generateGroupId(), alice.identityKey, ["b".repeat(32)]),
        "a string member");
      equal(str(bobToAlice.decrypt(aliceToBob.encrypt(text("still fine")))), "still fine", "usable after refusals");
      const e = refuses("DuplicateMessage", () => {
        const m = aliceToBob.encrypt(text("once"));
        bobToAlice.decrypt(m);
        bobToAlice.decrypt(m);
      }, "replay");
      check(/duplicate/.test(e.message), "the message says what happened");
    }],

    ["Web Crypto randomness: fresh keys and ids every time", () => {
      const a = new sp.Account(NOW);
      const b = new sp.Account(NOW);
      check(Array.from(a.identityKey).join() !== Array.from(b.identityKey).join(), "distinct identities");
      const k1 = sp.generateExportKey();
      const k2 = sp.generateExportKey();
      equal(k1.length, 32, "export key length");
      check(Array.from(k1).join() !== Array.from(k2).join(), "distinct export keys");
      equal(sp.generateGroupId().length, 32, "group id length");
      check(typeof sp.version() === "string" && sp.version().length > 0, "a version");
    }],

    ["a group: one ciphertext for all, and a removed member reads nothing after", () => {
      const alice = new sp.Account(NOW);
      const bob = new sp.Account(NOW);
      const carol = new sp.Account(NOW);
      for (const who of [bob, carol]) who.generateOneTimePrekeys(2);
      const id = sp.generateGroupId();
      const ga = new sp.Group(id, alice.identityKey, [bob.identityKey, carol.identityKey]);
      const gb = new sp.Group(id, bob.identityKey, [alice.identityKey, carol.identityKey]);
      const gc = new sp.Group(id, carol.identityKey, [alice.identityKey, bob.identityKey]);
      equal(ga.members().length, 2, "two other members");
      check(ga.isMember(bob.identityKey) && !ga.isMember(alice.identityKey), "membership");

      // Alice's sender key reaches Bob over an existing session and Carol
      // as the first message of a new one.
      const aliceToBob = alice.createOutboundSession(bob.prekeyBundle());
      const bobFromAlice = bob.createInboundSession(aliceToBob.encrypt(text("hi"))).session;
      const installed = gb.installDistribution(bob, bobFromAlice, ga.distributeTo(aliceToBob));
      check(installed.newlyInstalled, "Bob installed Alice's key");
      equal(installed.senderIdentityKey, alice.identityKey, "the key is Alice's");
      equal(installed.groupId, id, "for this group");
      const aliceToCarol = alice.createOutboundSession(carol.prekeyBundle());
      const viaNew = gc.installDistributionFromNewSession(carol, ga.distributeTo(aliceToCarol));
      // Carol's copy of the new session works: she replies through it.
      equal(str(alice.decrypt(aliceToCarol, viaNew.session.encrypt(text("joined")))), "joined", "Carol's session");
      equal(gb.membersWithoutKey().length, 1, "Bob still lacks Carol's key");

      const wire = ga.encrypt(text("standup in 5"));
      const atBob = gb.decrypt(wire, NOW);
      equal(str(atBob.plaintext), "standup in 5", "Bob reads it");
      equal(atBob.senderIdentityKey, alice.identityKey, "signed by Alice");
      equal(str(gc.decrypt(wire, NOW).plaintext), "standup in 5", "Carol reads the same bytes");
      refuses("DuplicateMessage", () => gb.decrypt(wire, NOW), "a group replay");
      refuses("InvalidSignature", () => gb.decrypt(flip(wire, wire.length - 1), NOW), "a forged group message");

      // Carol is removed: Alice rotates and redistributes to Bob only.
      const rotation = ga.removeMember(carol.identityKey);
      equal(rotation.redistributeTo.length, 1, "one member to redistribute to");
      equal(rotation.redistributeTo[0], bob.identityKey, "Bob");
      gb.removeMember(carol.identityKey);
      gb.installDistribution(bob, bobFromAlice, ga.distributeTo(aliceToBob));
      const after = ga.encrypt(text("after Carol left"));
      equal(str(gb.decrypt(after, NOW).plaintext), "after Carol left", "Bob reads on");
      refuses("UnknownSenderKey", () => gc.decrypt(after, NOW), "Carol reads nothing after her removal");
      refuses("NotGroupMember", () => ga.distributeTo(aliceToCarol), "no key for a removed member");
    }],

    ["a distribution finds its group among several", () => {
      const { alice, bob, aliceToBob, bobToAlice } = pair(sp);
      const one = sp.generateGroupId();
      const two = sp.generateGroupId();
      const aliceTwo = new sp.Group(two, alice.identityKey, [bob.identityKey]);
      const groups = new sp.GroupList();
      groups.push(new sp.Group(one, bob.identityKey, [alice.identityKey]));
      const bobTwo = new sp.Group(two, bob.identityKey, [alice.identityKey]);
      groups.push(bobTwo);
      equal(groups.length, 2, "two groups listed");
      const installed = bob.receiveGroupDistribution(bobToAlice, aliceTwo.distributeTo(aliceToBob), groups);
      equal(installed.groupId, two, "installed into the second group");
      equal(str(bobTwo.decrypt(aliceTwo.encrypt(text("in two")), NOW).plaintext), "in two", "readable there");
      const twice = new sp.GroupList();
      twice.push(bobTwo);
      twice.push(bobTwo);
      refuses("InvalidArgument", () => bob.receiveGroupDistribution(bobToAlice,
        aliceTwo.distributeTo(aliceToBob), twice), "the same group listed twice");
      const lonely = new sp.GroupList();
      refuses("GroupMismatch", () => bob.receiveGroupDistribution(bobToAlice,
        aliceTwo.distributeTo(aliceToBob), lonely), "no matching group");
    }],

    ["Forkout: sealed once, split by a keyless relay, opened by each", () => {
      const { alice, bob, aliceToBob, bobToAlice } = pair(sp);
      const carol = new sp.Account(NOW);
      carol.generateOneTimePrekeys(1);
      const dave = new sp.Account(NOW);
      const to = new sp.ForkoutRecipients();
      to.addSession(aliceToBob);
      to.addBundle(carol.prekeyBundle());
      equal(to.length, 2, "two recipients");
      const body = new Uint8Array(100_000).map((_, i) => i % 251);
      const sealed = alice.sealForkout(body, to);
      equal(sealed.recipients.length, 2, "two slots");
      equal(sealed.newSessions.length, 1, "a new session for Carol");
      equal(sealed.forkoutId.length, 32, "an id");

      const parts = sp.forkoutSplitAll(sealed.bundle);
      const infoBob = sp.inspectForkoutDelivery(sp.forkoutSplit(sealed.bundle, bob.identityKey));
      check(!infoBob.isFirstContact && infoBob.claimedSenderIdentityKey === undefined, "Bob: an existing session");
      equal(infoBob.forkoutId, sealed.forkoutId, "the id before opening");
      equal(infoBob.bodyLength, body.length, "the body length");
      const infoCarol = sp.inspectForkoutDelivery(sp.forkoutSplit(sealed.bundle, carol.identityKey));
      check(infoCarol.isFirstContact, "Carol: first contact");
      equal(infoCarol.claimedSenderIdentityKey, alice.identityKey, "claimed sender");
      refuses("Malformed", () => sp.inspectForkoutDelivery(text("nope")), "not a delivery");
      equal(parts.length, 2, "two deliveries");
      const forBob = sp.forkoutSplit(sealed.bundle, bob.identityKey);
      const atBob = bob.openForkout(bobToAlice, forBob, NOW);
      equal(atBob.forkoutId, sealed.forkoutId, "same id at Bob");
      equal(atBob.senderIdentityKey, alice.identityKey, "from Alice");
      equal(atBob.takeOpened().plaintext, body, "Bob's body");
      refuses("DuplicateMessage", () => bob.openForkout(bobToAlice, forBob, NOW), "a replayed delivery");

      const forCarol = sp.forkoutSplit(sealed.bundle, carol.identityKey);
      refuses("BodyCommitmentMismatch", () => carol.openForkoutNew(flip(forCarol, forCarol.length - 1), NOW),
        "a tampered body");
      equal(carol.remainingOneTimePrekeys(), 1, "a tampered delivery burns no prekey");
      const atCarol = carol.openForkoutNew(forCarol, NOW);
      check(atCarol.refusal === undefined, "no refusal");
      equal(atCarol.takeOpened().plaintext, body, "Carol's body");
      // Carol replies 1:1 in the session the Forkout started.
      const reply = atCarol.session.encrypt(text("got it"));
      equal(str(alice.decrypt(sealed.newSessions[0], reply)), "got it", "Carol's reply reaches Alice");

      // Dave cannot be reached: refused as a whole, or skipped on request.
      const withDave = new sp.ForkoutRecipients();
      withDave.addSession(aliceToBob);
      withDave.addUnreachable(dave.identityKey);
      refuses("RecipientsUnreachable", () => alice.sealForkout(text("x"), withDave), "all or nothing");
      const skipped = alice.sealForkout(text("x"), withDave, true);
      equal(skipped.unreachable.length, 1, "Dave listed as unreachable");
      equal(skipped.unreachable[0].identityKey, dave.identityKey, "Dave");
      check(skipped.unreachable[0].reason.length > 0, "with a reason");
      const twice = new sp.ForkoutRecipients();
      twice.addSession(aliceToBob);
      twice.addSession(aliceToBob);
      refuses("InvalidArgument", () => alice.sealForkout(text("x"), twice), "the same session twice");
    }],

    ["Burnout: expiry enforced at open, burn after reading in a vault", () => {
      const { bob, aliceToBob, bobToAlice } = pair(sp);
      const envelope = sp.Envelope.withTtl(NOW, 60_000, true);
      equal(envelope.expiresAtMs, NOW + 60_000, "expiry");
      check(envelope.burnAfterReading && !envelope.isExpired(NOW) && envelope.isExpired(NOW + 60_000), "rule");
      const wire = aliceToBob.encryptBurnout(text("door code 4711"), envelope);
      refuses("UnexpectedPayload", () => bobToAlice.decrypt(wire), "plain decrypt refuses Burnout content");
      const opened = bob.open(bobToAlice, wire, NOW + 1_000);
      check(opened.isBurnout && opened.plaintext === undefined, "a Burnout message");
      const message = opened.takeBurnout();
      equal(message.envelope.expiresAtMs, NOW + 60_000, "the authenticated envelope");
      equal(message.plaintextLength, 14, "length readable");
      const vault = new sp.Vault();
      const id = vault.insert(message, NOW + 1_000);
      check(message.isConsumed, "moved into the vault");
      refuses("AlreadyConsumed", () => message.takePlaintext(NOW), "used up");
      equal(vault.length, 1, "one entry");
      equal(vault.nextExpiry(), NOW + 60_000, "next expiry");
      equal(str(vault.read(id, NOW + 2_000)), "door code 4711", "read once");
      refuses("BurnedAfterReading", () => vault.read(id, NOW + 3_000), "burned after reading");
      refuses("NotInVault", () => vault.read("12345", NOW), "an unknown id");
      refuses("InvalidArgument", () => vault.read("not a number", NOW), "a malformed id");

      // Past its expiry it is refused, and its key is used up.
      const late = aliceToBob.encryptBurnout(text("too late"), sp.Envelope.withTtl(NOW, 10));
      refuses("Expired", () => bobToAlice.open(late, NOW + 10), "expired at the boundary");
      refuses("DuplicateMessage", () => bobToAlice.open(late, NOW), "its key is gone");
      refuses("Expired", () => aliceToBob.encryptBurnout(text("x"), new sp.Envelope(NOW, NOW)), "dead on arrival");

      // A plain message through open.
      const plain = bob.open(bobToAlice, aliceToBob.encrypt(text("plain")), NOW);
      check(!plain.isBurnout && plain.takeBurnout() === undefined, "plain content");
      equal(str(plain.plaintext), "plain", "its text");
    }],

    ["Burnout through Forkout and groups, and the message taken out once", () => {
      const { alice, bob, aliceToBob, bobToAlice } = pair(sp);
      const carol = new sp.Account(NOW);
      carol.generateOneTimePrekeys(1);
      const envelope = sp.Envelope.withTtl(NOW, 1_000);
      const to = new sp.ForkoutRecipients();
      to.addSession(aliceToBob);
      to.addBundle(carol.prekeyBundle());
      const sealed = alice.sealForkoutBurnout(text("for a second"), to, envelope);
      // The envelope object stays usable (it is borrowed, not consumed).
      equal(envelope.expiresAtMs, NOW + 1_000, "envelope still readable");
      const again = new sp.ForkoutRecipients();
      again.addSession(aliceToBob);
      const second = alice.sealForkoutBurnout(text("again"), again, envelope);
      const atBob = bob.openForkout(bobToAlice, sp.forkoutSplit(sealed.bundle, bob.identityKey), NOW + 10);
      equal(atBob.envelope.expiresAtMs, NOW + 1_000, "the envelope arrived");
      const opened = atBob.takeOpened();
      check(opened.isBurnout, "Burnout content");
      const message = opened.takeBurnout();
      equal(str(message.takePlaintext(NOW + 20)), "for a second", "taken out once");
      refuses("AlreadyConsumed", () => message.takePlaintext(NOW + 20), "not twice");
      const late = bob.openForkout(bobToAlice, sp.forkoutSplit(second.bundle, bob.identityKey), NOW + 10);
      refuses("Expired", () => late.takeOpened().takeBurnout().takePlaintext(NOW + 1_000), "expired when taken");
      // Carol opens hers after it expired: the session is kept, the body refused.
      const atCarol = carol.openForkoutNew(sp.forkoutSplit(sealed.bundle, carol.identityKey), NOW + 5_000);
      equal(atCarol.refusal.code, "Expired", "refused");
      check(atCarol.forkoutId === undefined && atCarol.takeOpened() === undefined, "no content");
      equal(str(alice.decrypt(sealed.newSessions[0], atCarol.session.encrypt(text("missed it")))), "missed it",
        "the session from the refused delivery works");

      // A group Burnout message: expiry checked, then the key is used up.
      const id = sp.generateGroupId();
      const ga = new sp.Group(id, alice.identityKey, [bob.identityKey]);
      const gb = new sp.Group(id, bob.identityKey, [alice.identityKey]);
      gb.installDistribution(bob, bobToAlice, ga.distributeTo(aliceToBob));
      const live = ga.encryptBurnout(text("group secret"), sp.Envelope.withTtl(NOW, 1_000, true));
      const read = gb.decrypt(live, NOW + 1);
      equal(str(read.plaintext), "group secret", "read in time");
      check(read.envelope.burnAfterReading, "with its envelope");
      const expired = ga.encryptBurnout(text("too late"), sp.Envelope.withTtl(NOW, 1_000));
      refuses("Expired", () => gb.decrypt(expired, NOW + 1_000), "group message expired");
      refuses("DuplicateMessage", () => gb.decrypt(expired, NOW), "its key is gone");
      const kept = gb.open(ga.encryptBurnout(text("vault me"), sp.Envelope.withTtl(NOW, 1_000, true)), NOW);
      const vault = new sp.Vault();
      const entry = vault.insert(kept.takeOpened().takeBurnout(), NOW);
      equal(str(vault.read(entry, NOW + 1)), "vault me", "group Burnout into a vault");
      refuses("BurnedAfterReading", () => vault.read(entry, NOW + 2), "burned");

      // A first message carrying Burnout content cannot be read without the clock.
      const dave = new sp.Account(NOW);
      const toDave = alice.createOutboundSession(dave.prekeyBundle());
      const first = toDave.encryptBurnout(text("hi"), sp.Envelope.withTtl(NOW, 1_000));
      refuses("UnexpectedPayload", () => dave.createInboundSession(first), "createInboundSession refuses Burnout");
      const inbound = dave.createInboundSessionAt(first, NOW);
      check(inbound.refusal === undefined, "in time");
      equal(str(inbound.takeOpened().takeBurnout().takePlaintext(NOW)), "hi", "first-contact Burnout content");
    }],

    ["Burnout on first contact: the session is kept even when the content expired", () => {
      const alice = new sp.Account(NOW);
      const bob = new sp.Account(NOW);
      bob.generateOneTimePrekeys(1);
      const toBob = alice.createOutboundSession(bob.prekeyBundle());
      const wire = toBob.encryptBurnout(text("ephemeral"), sp.Envelope.withTtl(NOW, 1_000));
      const inbound = bob.createInboundSessionAt(wire, NOW + 5_000);
      equal(inbound.refusal.code, "Expired", "content refused");
      check(inbound.takeOpened() === undefined, "no content");
      equal(str(alice.decrypt(toBob, inbound.session.encrypt(text("what was it?")))), "what was it?", "session kept");
    }],

    ["persistence: encrypted exports restore every object, and a wrong key opens nothing", () => {
      const { alice, bob, aliceToBob, bobToAlice } = pair(sp);
      const key = sp.generateExportKey();
      const savedAlice = alice.exportEncrypted(key);
      const savedSession = aliceToBob.exportEncrypted(key);
      check(aliceToBob.exportGeneration() >= 1, "generation counted");
      const alice2 = sp.Account.importEncrypted(key, savedAlice);
      equal(alice2.identityKey, alice.identityKey, "same identity");
      const session2 = sp.Session.importEncrypted(key, savedSession);
      equal(str(bobToAlice.decrypt(session2.encrypt(text("restored")))), "restored", "the restored session sends");
      equal(str(alice2.decrypt(session2, bobToAlice.encrypt(text("and receives")))), "and receives", "and receives");
      refuses("ExportCorrupted", () => sp.Session.importEncrypted(sp.generateExportKey(), savedSession), "wrong key");
      refuses("ExportCorrupted", () => sp.Session.importEncrypted(key, flip(savedSession, savedSession.length - 1)), "tampered export");
      const plain = sp.Session.fromBytes(bobToAlice.toBytes());
      equal(plain.sessionId(), bobToAlice.sessionId(), "toBytes/fromBytes");
      refuses("Malformed", () => sp.Session.fromBytes(bob.toBytes()), "an account is not a session");

      // Bound to a context, with rollback refused.
      const ctx = text("session with bob");
      const g1 = aliceToBob.exportEncryptedFor(key, ctx);
      const g2 = aliceToBob.exportEncryptedFor(key, ctx);
      const minimum = aliceToBob.exportGeneration();
      sp.Session.importEncryptedFor(key, g2, ctx, minimum);
      refuses("ExportRolledBack", () => sp.Session.importEncryptedFor(key, g1, ctx, minimum), "an older backup");
      refuses("ExportContextMismatch", () => sp.Session.importEncryptedFor(key, g2, text("other"), 0), "context");

      // A group and a vault too.
      const id = sp.generateGroupId();
      const group = new sp.Group(id, alice.identityKey, [bob.identityKey]);
      const group2 = sp.Group.importEncrypted(key, group.exportEncrypted(key));
      equal(group2.groupId, id, "group restored");
      check(group2.needsRotation, "a restored group rotates before sending");
      refuses("RotationRequired", () => group2.encrypt(text("x")), "no send before rotation");
      group2.rotate();
      group2.encrypt(text("x"));
      const vault = new sp.Vault();
      const msg = sp.BurnoutMessage.outgoing(text("mine"), new sp.Envelope(NOW, NOW + 1_000), alice.identityKey);
      const entry = vault.insert(msg, NOW);
      const vault2 = sp.Vault.importEncrypted(key, vault.exportEncrypted(key, NOW));
      equal(str(vault2.read(entry, NOW + 1)), "mine", "vault restored");
      equal(vault2.ids().length, 1, "one id");
    }],
  ];
}

/// Runs every scenario; returns { passed, failed, lines }.
export function runAll(sp) {
  const lines = [];
  let passed = 0;
  let failed = 0;
  for (const [name, run] of scenarios(sp)) {
    try {
      run();
      passed += 1;
      lines.push(`ok - ${name}`);
    } catch (e) {
      failed += 1;
      lines.push(`not ok - ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }
  return { passed, failed, lines };
}
