// Type-checks the package's TypeScript declarations the way an app uses
// them (web/scripts/test.sh runs `tsc --noEmit --strict` on it against the
// installed package). Not run: the scenarios test behaviour.
import {
  Account, Envelope, ForkoutRecipients, Group, Session, Vault, generateExportKey, generateGroupId,
} from "sealpost";

const now: number = Date.now();
const alice: Account = new Account(now);
const bob: Account = new Account(now);
const ids: Uint32Array = bob.generateOneTimePrekeys(2);
const toBob: Session = alice.createOutboundSession(bob.prekeyBundle());
const wire: Uint8Array = toBob.encrypt(new TextEncoder().encode("hi"));
const inbound = bob.createInboundSession(wire);
const toAlice: Session = inbound.session;
const text: string = new TextDecoder().decode(inbound.plaintext);

const group = new Group(generateGroupId(), alice.identityKey, [bob.identityKey]);
const distribution: Uint8Array = group.distributeTo(toBob);
const recipients = new ForkoutRecipients();
recipients.addSession(toBob);
const sealed = alice.sealForkoutBurnout(new Uint8Array(10), recipients, Envelope.withTtl(now, 1000), true);
const firstReach: Uint8Array[] = sealed.recipients;

const opened = toAlice.open(toBob.encryptBurnout(new Uint8Array(1), new Envelope(now, now + 5)), now);
const vault = new Vault();
const burnout = opened.takeBurnout();
const entry: string | undefined = burnout ? vault.insert(burnout, now) : undefined;
const key: Uint8Array = generateExportKey();
const restored: Session = Session.importEncrypted(key, toAlice.exportEncrypted(key));
const expiry: number | undefined = vault.nextExpiry();

try {
  toAlice.decrypt(wire);
} catch (e) {
  const code: unknown = (e as { code?: unknown }).code;
  void code;
}
void [ids, text, distribution, firstReach, entry, restored, expiry];
