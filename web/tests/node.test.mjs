// The scenarios under Node's test runner, against the package as installed
// (`require("sealpost")` resolves to its CommonJS build). Run by
// web/scripts/test.sh from a scratch project that installed the tarball.
import { test } from "node:test";
import { createRequire } from "node:module";
import { scenarios } from "./scenarios.mjs";

const require = createRequire(import.meta.url);
const sp = require("sealpost");

for (const [name, run] of scenarios(sp)) {
  test(name, run);
}

test("Node's Buffer is a Uint8Array and is accepted as bytes", () => {
  const alice = new sp.Account(Date.now());
  const bob = new sp.Account(Date.now());
  const toBob = alice.createOutboundSession(Buffer.from(bob.prekeyBundle()));
  const inbound = bob.createInboundSession(Buffer.from(toBob.encrypt(Buffer.from("from a Buffer"))));
  if (Buffer.from(inbound.plaintext).toString() !== "from a Buffer") throw new Error("Buffer round trip");
});

test("a Uint8Array from another realm (vm, iframe, test sandbox) is accepted; other values are not", async () => {
  const vm = await import("node:vm");
  const alice = new sp.Account(Date.now());
  const bob = new sp.Account(Date.now());
  const foreign = vm.runInNewContext("(b) => Uint8Array.from(b)")(bob.prekeyBundle());
  if (foreign instanceof Uint8Array) throw new Error("expected a foreign realm's Uint8Array");
  const toBob = alice.createOutboundSession(foreign);
  if (toBob.peerIdentityKey.length !== 32) throw new Error("no session");
  const foreignBuffer = vm.runInNewContext("new Uint16Array(16)");
  let code;
  try { alice.safetyNumber(foreignBuffer); } catch (e) { code = e.code; }
  if (code !== "InvalidArgument") throw new Error(`a Uint16Array was taken as bytes (${code})`);
});

test("the ES module build loads in Node too, from its bytes", async () => {
  const { readFile } = await import("node:fs/promises");
  const web = await import("sealpost/web");
  const wasm = await readFile(require.resolve("sealpost/web").replace(/sealpost\.js$/, "sealpost_bg.wasm"));
  await web.default({ module_or_path: wasm });
  const alice = new web.Account(Date.now());
  if (alice.identityKey.length !== 32) throw new Error("no identity key");
});
