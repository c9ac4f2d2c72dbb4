//! A complete deterministic transcript through the public API, pinned
//! byte for byte.
//!
//! The expected values were computed once by this implementation and are
//! hard-coded. They are not from an external specification: they pin
//! sealpost's own derivation and encodings (PQXDH, root/chain/message keys,
//! AEAD, wire formats, signed-prekey signatures), so that any change in
//! them, intended or not, fails here. An intended change needs a new
//! protocol version and deliberately regenerated vectors (last: bundles and
//! 1:1 messages of format version 3, with PQXDH and the post-quantum
//! ratchet). The individual
//! KDF steps are pinned (and were cross-checked against an independent
//! reimplementation) in `src/ratchet/vectors.rs`.
//!
//! The randomness comes from `TranscriptRng` below (SHA-256 in counter
//! mode) rather than `StdRng`, whose algorithm `rand` may change between
//! releases: these vectors must only change when sealpost changes.

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use sealpost::{Account, PreKeyBundle, Session};
use sealpost_testkit::{NOW, hex, sha256_hex};
use sha2::{Digest, Sha256};

/// Deterministic, portable byte stream: block i is SHA-256(seed || i).
/// For test vectors only.
struct TranscriptRng {
    seed: u64,
    counter: u64,
    buffer: Vec<u8>,
}

impl TranscriptRng {
    fn new(seed: u64) -> Self {
        Self { seed, counter: 0, buffer: Vec::new() }
    }
}

impl TryRng for TranscriptRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            if self.buffer.is_empty() {
                let block =
                    Sha256::new().chain_update(self.seed.to_be_bytes()).chain_update(self.counter.to_be_bytes());
                self.buffer = block.finalize().to_vec();
                self.counter += 1;
            }
            *byte = self.buffer.remove(0);
        }
        Ok(())
    }
}
impl TryCryptoRng for TranscriptRng {}

struct Transcript {
    alice_identity: String,
    bob_identity: String,
    bundle: Vec<u8>,
    messages: Vec<Vec<u8>>,
    alice_session: Vec<u8>,
    bob_session: Vec<u8>,
}

/// A short conversation with every kind of event: setup messages, one read
/// out of order, a reply, a second DH-ratchet step, a skipped message.
fn transcript() -> Transcript {
    let mut rng = TranscriptRng::new(0x5ea1_0057);
    let mut alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(2, &mut rng).unwrap();
    let bundle = bob.prekey_bundle().unwrap().to_bytes();

    let mut messages = Vec::new();
    let mut a = alice.create_outbound_session(&PreKeyBundle::from_bytes(&bundle).unwrap(), &mut rng).unwrap();
    let mut send = |s: &mut Session, text: &str, rng: &mut TranscriptRng| {
        let m = s.encrypt(text.as_bytes(), rng).unwrap();
        messages.push(m.clone());
        m
    };
    let a1 = send(&mut a, "hello bob", &mut rng);
    let a2 = send(&mut a, "are you there?", &mut rng);
    let (mut b, text) = bob.create_inbound_session(&a2).unwrap();
    assert_eq!(text, b"are you there?");
    assert_eq!(bob.decrypt(&mut b, &a1).unwrap(), b"hello bob");
    let b1 = send(&mut b, "yes, hi alice", &mut rng);
    assert_eq!(alice.decrypt(&mut a, &b1).unwrap(), b"yes, hi alice");
    let a3 = send(&mut a, "great", &mut rng);
    let a4 = send(&mut a, "(skipped for now)", &mut rng);
    let a5 = send(&mut a, "see you", &mut rng);
    assert_eq!(bob.decrypt(&mut b, &a3).unwrap(), b"great");
    assert_eq!(bob.decrypt(&mut b, &a5).unwrap(), b"see you");
    let b2 = send(&mut b, "bye", &mut rng);
    assert_eq!(alice.decrypt(&mut a, &b2).unwrap(), b"bye");
    drop(a4);

    Transcript {
        alice_identity: hex(alice.identity().as_bytes()),
        bob_identity: hex(bob.identity().as_bytes()),
        bundle,
        messages,
        alice_session: a.to_bytes().to_vec(),
        bob_session: b.to_bytes().to_vec(),
    }
}

const ALICE_IDENTITY: &str = "7a17f10dcee9dbd111420f9d5b1ded14069b18c00dee0024d60a7644cf45a8d7";
const BOB_IDENTITY: &str = "4ccdb0e1081fb5452d13a20dcfc69437d4d05765bfa245be6214682d92923dcc";
/// Bob's bundle in full (1,812 bytes: with a one-time prekey and the
/// ML-KEM-1024 prekey that goes with it).
const BUNDLE: [&str; 57] = [
    "03014ccdb0e1081fb5452d13a20dcfc69437d4d05765bfa245be6214682d9292",
    "3dcc000000010000018bcfe5680048a2eed14ba67c6b75223e77fba64930551b",
    "83cc735d90f894b804d57222097a5776a0dab62366db41c8dd2a263e3d8eedc3",
    "d9abdd390e16e5b7d55b06f39b29aeb2fa02de10feb4e5bf6b173f69c1b4a23f",
    "0719e17b40997eda5db7665c8e0901000000018e8da7f1881c48687d820bd4fd",
    "57d7ae2370c9532db044fca79534746470694f0181e0456d578f82040c8e1174",
    "914469693c5554dc2c8300c7965717e7a855493148ce5a14ae5ca829b57d3749",
    "31275b5d858a412765a2439643bde44f6b49a825921a1dc5c82434acb2155137",
    "013275258d692081ceb45ffe80ac7828bfe3d05498d60149d00c0553c4eec363",
    "ac07bca12457bb9567f57c37263707d17bb32bc72fa7548ecc191d423a7a7163",
    "aba892685c202e0399c886b68705769b99d82aae323f47f570e5630325796c1c",
    "2983f406ca639277410781e026b32a646201c22b6a061bad2c2554898f0897cd",
    "d95a9ff09378f22b76312c30585374fe2ac38e664a3cd7b1a1b99e0b45c7fa57",
    "49732a69419c17d7c327c9ba22eef163d456b67da3be08c64bc43a284e866e9f",
    "4c01ddf9141b52a037c874511a8807cb6be2d50abe1035a866ca2a474ee1a136",
    "f5f88b04661d431c93956783e3da599a8960e202b7af080b1bc7277d4cc81457",
    "c10ff485464115d4f31b7b1a4897c436281008cf7950dc591f43478271955a91",
    "ec20f67acb49962186b186d892236e3a762caa2e30ea231a72867e7b7bc750ae",
    "9d14b103385cbdeb213921a034acb8fd700d887b7c4a50ac2a6267256a42bda2",
    "75f9894e18b5cd3250c4ee371e0df4033a20c6541242aac229ecb823b662aec4",
    "ca9661fc5945210d96cc4da8f68c8cf60a1d07ce58f106d83a0f41197eac61be",
    "523c9482a0be3a04a0defc48a5720c517216b2339a9ab534f8946a4a418287dc",
    "bbda184d1fbb5696b255a0274b3aa33166b449ae38b5f1456c69438d17828671",
    "a2a32599234d0088c178492c564026191a4f010d446372fadc3adc0494b2d741",
    "011132ad5a644e763cc9497e4e38559a519b89610a76970a845ccc8e67610127",
    "631f570330c344d888ccb21249370b698764595a1500889cadd3ea603dac5fa3",
    "86abf95a472dcbc8f4412063d457daa8714801270b6799307c018228173133c8",
    "3892c0ab1c5fe4b52e38a97ce5a82b1a2640327bb76c7673394546cf8c7ef40b",
    "64a6ab927804c15e3800a705060bac3887365d935995ee493ceb356bc3b648a8",
    "5886d2c47b92308cb9215a57a277e8e2272e90b188358bb30022d78aa874080c",
    "34c45e8f986a9433ba6d306ecdeb4f1c46447d3c57d0c78f006b5bd05817064b",
    "875d2cc910dbb80631c6aa414c6f533c1899220ab74980fb414f91bfffe98cc3",
    "e9573874bc3b5c82c22889f5894856991bc201ab89447deb490411968354c7a7",
    "a9a68b2c2163f9393502e0648afc76e162380b70630a5a1e869397a0e683453b",
    "bcd1401f1bf37a6526c54e90548e778481c64e1563b32f885c9449ccedc65461",
    "a05143b3c28aac92ef1c5977e24c6812b065e1702b84bb219a18f32786aceb7d",
    "ada7bbd9cc7b6ec779eee1c78e1458565b7951281ed59219317b9fe4d299def3",
    "3755d451535179fadb5484785b79a2877ab012a8d9103e023dab9546db936ce5",
    "165c80d96676577c56444d70577cd652c51d11735a83900941842ee2ced7f79e",
    "e62855953b55966c5ee410ab2702cbc61179e96b4fc1796076f4a28a79942354",
    "146f87671fe151e3455c9078cfba7c324c27a081354f7913a3f53b64aaf47f1f",
    "bb1194ba741557a8103193ba90a6ae840a67434cce64a56f691d512232160187",
    "609653875864fc041c1c41410dda36298c9e3b2131c81477cc2602d60a9204f9",
    "1dd7c3c2b783563ec68735ecc49c118e685b12d5c5471051c266b74e30765772",
    "72c2f4cccc85c23c75dccac393caaa3115396130256617988288f87a94353b52",
    "0cb0aded43932682aadfd4b721563d9545cd711787862227afa4b3178874b35c",
    "47d5615dba914496b7b18fdb75cae7c1b93366389971418ba47623c127971578",
    "9b4ec32171bac6909d71ab056704a7f55481e21ecc0453e0baa488b74c6ca955",
    "9354c1a8c96599bc1bb03ab2cfc73440b090369a699b0a341071573e520574a8",
    "29d0f45e321475b9a57e97a6a8c9a5254f6720cba75f50f30848921949466f95",
    "81cfac7a36d4c54e93b30141c3700bb12ec3025418910b214306a9a6c4e4b735",
    "40c733b4c043d0482d44b07fab5511c11aaaf0f6a409ba9094a46d6499920e84",
    "57b37a9aebdc3d65336b042aa04c81ae9f2594a4c88ca703672a3b9c46daa9c9",
    "5364783a3776144affd251d404b461a63b871213ae5ef3a0be13ad42cb7fc17c",
    "7aa83770cb84f57b4bb41429e6db5824a7c5663a216d5ed68996f3765d95f90f",
    "5c839dac2f50bdac754046cfae05842f6e4dbc062d7ab60915e3ed417e00c60b",
    "860fb121801764c508e339866f01af6c5109c506",
];
/// SHA-256 of the first message (a setup message of 1,900 bytes: PQXDH
/// data with its KEM ciphertext, and the first post-quantum ratchet chunk).
const FIRST_MESSAGE_SHA256: &str = "631a870e3e71de6a79ba6f953ca7918d15b1eaef6f3827c38aca3ef038473513";
/// SHA-256 of each message, in the order they were sent.
const MESSAGE_HASHES: [&str; 7] = [
    "631a870e3e71de6a79ba6f953ca7918d15b1eaef6f3827c38aca3ef038473513",
    "943ffd15d9e2a9d6880ad7ff0673b68862e86ed5c52d9d1ce5e0dc81afa57654",
    "87359bf6fb67d24710c4ded956a79abe0cbcb13b85add624fb9181f9fbee0fa7",
    "6b387dcc8deeb258aca89ac42b2979ad54fd4b76de4fe52747770bcd166d091d",
    "92b56b847a4597af7b4a13e2e66feb511e153cd05d2f44fdf8b5fcff6f1def5f",
    "c4ea6d74b6945b96d590e7f55b7fdd34efccefcc1835e2668655e4cfaa2c3a53",
    "23bbf56d64d95e7b23abc51ed02c405b6a7124cb2dc79df35cf9a8c3115c5a59",
];
/// SHA-256 of the concatenation of all messages.
const TRANSCRIPT_HASH: &str = "4826db43a30853830ba1662824a7dd415e23ef3925f4f199e8c7e8432e2f02f7";
/// SHA-256 of both final session serializations (pins the state format,
/// which stored sessions depend on).
const ALICE_SESSION_HASH: &str = "19a4b96f46cd28bdb3e2fbb369cf502d1fcb9eb84ef80d053e30180ad299f769";
const BOB_SESSION_HASH: &str = "2e9618a8acd50a72bcc779a5f1514c14a1e54cf8970a98aef2799147abb9c872";

#[test]
fn transcript_is_deterministic() {
    let (one, two) = (transcript(), transcript());
    assert_eq!(one.messages, two.messages);
    assert_eq!(one.alice_session, two.alice_session);
}

#[test]
fn transcript_vectors() {
    let t = transcript();
    assert_eq!(t.alice_identity, ALICE_IDENTITY);
    assert_eq!(t.bob_identity, BOB_IDENTITY);
    assert_eq!(hex(&t.bundle), BUNDLE.concat());
    assert_eq!(sha256_hex(&t.messages[0]), FIRST_MESSAGE_SHA256);
    let hashes: Vec<String> = t.messages.iter().map(|m| sha256_hex(m)).collect();
    assert_eq!(hashes, MESSAGE_HASHES);
    assert_eq!(sha256_hex(&t.messages.concat()), TRANSCRIPT_HASH);
    assert_eq!(sha256_hex(&t.alice_session), ALICE_SESSION_HASH);
    assert_eq!(sha256_hex(&t.bob_session), BOB_SESSION_HASH);
}

/// The post-quantum ratchet pinned end to end: 120 alternating messages
/// from fixed randomness, through three epochs, each side opening every
/// message. Any change to the braid's chunking, erasure code, epoch rules
/// or mixing changes these bytes.
#[test]
fn post_quantum_ratchet_transcript() {
    let mut rng = TranscriptRng::new(0xb4a1_d000);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let first = a.encrypt(b"epoch 0", &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&first).unwrap();
    let mut all = first;
    let mut epochs = Vec::new();
    for i in 0..60 {
        let m = b.encrypt(format!("b{i}").as_bytes(), &mut rng).unwrap();
        assert_eq!(a.decrypt(&m).unwrap(), format!("b{i}").as_bytes());
        all.extend_from_slice(&m);
        let m = a.encrypt(format!("a{i}").as_bytes(), &mut rng).unwrap();
        assert_eq!(b.decrypt(&m).unwrap(), format!("a{i}").as_bytes());
        all.extend_from_slice(&m);
        epochs.push(a.post_quantum_epoch());
    }
    let changes: Vec<usize> = (1..epochs.len()).filter(|&i| epochs[i] != epochs[i - 1]).collect();
    assert_eq!(a.post_quantum_epoch(), BRAID_TRANSCRIPT_EPOCH);
    assert_eq!(format!("{changes:?}"), BRAID_TRANSCRIPT_EPOCH_CHANGES);
    assert_eq!(sha256_hex(&all), BRAID_TRANSCRIPT_SHA256);
}

/// Epoch reached by `post_quantum_ratchet_transcript`, the rounds at which
/// Alice's epoch moved, and the SHA-256 of all its messages.
const BRAID_TRANSCRIPT_EPOCH: u32 = 3;
const BRAID_TRANSCRIPT_EPOCH_CHANGES: &str = "[17, 36, 54]";
const BRAID_TRANSCRIPT_SHA256: &str = "5cf379340ff67ff81ad3bd241546bc23bc8c8f191bbe74d07c1e7ddc3192716d";
