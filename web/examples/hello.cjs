// The hello world of web/package/README.md, run by web/scripts/test.sh
// against the installed package (keep the two the same).
const { Account } = require("sealpost");

const now = Date.now();
const alice = new Account(now);
const bob = new Account(now);
bob.generateOneTimePrekeys(10);          // Bob uploads prekeyBundle() to the server

// Alice starts while Bob is offline.
const toBob = alice.createOutboundSession(bob.prekeyBundle());
const wire = toBob.encrypt(new TextEncoder().encode("hello Bob"));

// Later, on Bob's device.
const { session: toAlice, plaintext } = bob.createInboundSession(wire);
console.log(new TextDecoder().decode(plaintext)); // hello Bob
const reply = toAlice.encrypt(new TextEncoder().encode("hi Alice"));
console.log(new TextDecoder().decode(alice.decrypt(toBob, reply)));
