// Benchmarks of the npm package in Node.js, each against a raw primitive
// measured in the same run (see BENCHMARKS.md, "WebAssembly").
//
//   web/scripts/build.sh && node web/bench/bench.mjs [--quick]
//
// Paired and interleaved: every round times the sealpost operation and its
// baseline back to back, alternating which goes first, with process CPU
// time (process.cpuUsage: this machine is shared); the ratio reported is
// the median of the per-round ratios, and the absolute times are medians.
// The baseline is Node's own native ChaCha20-Poly1305 (OpenSSL) on the same
// bytes: what one AEAD seal and open cost without any protocol, in C.
import { createRequire } from "node:module";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const require = createRequire(import.meta.url);
const sp = require("../pkg/node/sealpost.js");

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 7 : 31;
const NOW = 1_767_225_600_000;

function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/// Runs `f` `n` times; CPU microseconds per call.
function timed(f, n) {
  const start = cpuMicros();
  for (let i = 0; i < n; i++) f();
  return (cpuMicros() - start) / n;
}

/// Enough iterations for ~20 ms of CPU per timing.
function calibrate(f) {
  let n = 1;
  for (;;) {
    const start = cpuMicros();
    for (let i = 0; i < n; i++) f();
    if (cpuMicros() - start > 20_000 || n >= 1 << 20) return n;
    n *= 2;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function paired(name, a, b) {
  const na = calibrate(a);
  const nb = calibrate(b);
  const ta = [];
  const tb = [];
  const ratios = [];
  for (let r = 0; r < ROUNDS; r++) {
    let x;
    let y;
    if (r % 2 === 0) {
      x = timed(a, na);
      y = timed(b, nb);
    } else {
      y = timed(b, nb);
      x = timed(a, na);
    }
    ta.push(x);
    tb.push(y);
    ratios.push(x / y);
  }
  const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(2)} µs`);
  console.log(`${name.padEnd(44)} ${fmt(median(ta)).padStart(10)}  baseline ${fmt(median(tb)).padStart(10)}  ratio ${median(ratios).toFixed(2)}x`);
}

/// Node's ChaCha20-Poly1305: seal and open `size` bytes.
function aead(size) {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const data = randomBytes(size);
  return () => {
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    const ct = Buffer.concat([c.update(data), c.final()]);
    const tag = c.getAuthTag();
    const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    d.setAuthTag(tag);
    Buffer.concat([d.update(ct), d.final()]);
  };
}

// A confirmed 1:1 session, messages in one direction at a time,
// alternating who sends (the ratchet steps as in a conversation).
const alice = new sp.Account(NOW);
const bob = new sp.Account(NOW);
bob.generateOneTimePrekeys(100);
const toBob = alice.createOutboundSession(bob.prekeyBundle());
const toAlice = bob.createInboundSession(toBob.encrypt(new Uint8Array(1))).session;
toBob.decrypt(toAlice.encrypt(new Uint8Array(1)));

const { generateKeyPairSync, diffieHellman } = require("node:crypto");

/// Node's X25519 (OpenSSL): a key pair and `n` agreements.
function x25519(n) {
  const peer = generateKeyPairSync("x25519");
  return () => {
    const own = generateKeyPairSync("x25519");
    for (let i = 0; i < n; i++) diffieHellman({ privateKey: own.privateKey, publicKey: peer.publicKey });
  };
}

// A burst: messages in one direction (the symmetric ratchet, and the
// post-quantum ratchet's chunk per message), against one native AEAD
// seal and open of the same bytes.
for (const size of [100, 1024, 16 * 1024]) {
  const body = randomBytes(size);
  paired(`1:1 burst encrypt + decrypt, ${size} B`, () => toAlice.decrypt(toBob.encrypt(body)), aead(size));
}

// A conversation: the sender alternates, so every message also takes a
// Diffie-Hellman ratchet step (a fresh X25519 key pair, an agreement on
// each side), against a native X25519 key pair and two agreements.
{
  const body = randomBytes(100);
  let turn = 0;
  paired("1:1 conversation (turns), 100 B", () => {
    if (turn++ % 2 === 0) toAlice.decrypt(toBob.encrypt(body));
    else toBob.decrypt(toAlice.encrypt(body));
  }, x25519(2));
}

// Session setup: bundle → outbound session → first message → inbound.
{
  // Against the classical floor of a handshake in native code: a key
  // pair and four X25519 agreements (X3DH's), without ML-KEM or the
  // signatures.
  paired("PQXDH session setup (both sides)", () => {
    const responder = new sp.Account(NOW);
    const s = alice.createOutboundSession(responder.prekeyBundle());
    responder.createInboundSession(s.encrypt(new Uint8Array(1)));
    s.free();
    responder.free();
  }, x25519(4));
}

// A group of 20: one encryption, one member's decryption.
{
  const id = sp.generateGroupId();
  const members = Array.from({ length: 20 }, () => new sp.Account(NOW));
  const keys = members.map((m) => m.identityKey);
  const sender = new sp.Group(id, keys[0], keys.slice(1));
  const reader = new sp.Group(id, keys[1], [keys[0], ...keys.slice(2)]);
  members[1].generateOneTimePrekeys(1);
  const s = members[0].createOutboundSession(members[1].prekeyBundle());
  reader.installDistributionFromNewSession(members[1], sender.distributeTo(s));
  const body = randomBytes(1024);
  paired("group (20) encrypt + decrypt, 1 KiB", () => reader.decrypt(sender.encrypt(body), NOW), aead(1024));
}

console.log(`(${ROUNDS} paired rounds each; Node ${process.version}; sealpost ${sp.version()})`);
