//! A group world: `n` members with their accounts, pairwise confirmed 1:1
//! sessions and [`Group`]s, every member's sender key installed at every
//! other member.
//!
//! ```
//! use sealpost_testkit::{GroupWorld, rng};
//!
//! let mut rng = rng(1);
//! let mut world = GroupWorld::new(3, &mut rng);
//! let m = world.send(0, "standup at 10");
//! assert_eq!(world.read(2, &m).unwrap(), "standup at 10");
//! ```

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::group::{Group, GroupId};
use sealpost::{Account, IdentityKey, Session};

use crate::NOW;

/// One member: its account, its view of the group, and its 1:1 sessions
/// with the other members (by their identity).
pub struct Member {
    /// The member's account.
    pub account: Account,
    /// The member's group state.
    pub group: Group,
    /// The member's session with each other member.
    pub sessions: BTreeMap<IdentityKey, Session>,
}

/// The members of one group; member `i` has identity `ids[i]`.
pub struct GroupWorld {
    /// Every member's identity, in member order.
    pub ids: Vec<IdentityKey>,
    /// The members.
    pub members: Vec<Member>,
    /// Randomness for [`Self::send`] (message salts), seeded apart from the
    /// caller's RNG so that building a world draws the same numbers as
    /// before messages needed randomness.
    pub send_rng: StdRng,
}

impl GroupWorld {
    /// `n` members created at [`NOW`], pairwise 1:1 sessions (confirmed in
    /// both directions), every sender key distributed and installed.
    pub fn new(n: usize, rng: &mut StdRng) -> Self {
        let accounts: Vec<Account> = (0..n).map(|_| Account::new(rng, NOW)).collect();
        let ids: Vec<IdentityKey> = accounts.iter().map(|a| *a.identity()).collect();
        let group_id = GroupId::random(rng);
        let members = accounts
            .into_iter()
            .map(|account| {
                let group = Group::new(group_id, *account.identity(), ids.clone(), rng).unwrap();
                Member { account, group, sessions: BTreeMap::new() }
            })
            .collect();
        let mut world = Self { ids, members, send_rng: StdRng::seed_from_u64(0x5a17) };
        for i in 0..n {
            for j in i + 1..n {
                world.connect(i, j, rng);
            }
        }
        for i in 0..n {
            let all: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            world.distribute(i, &all, rng);
        }
        world
    }

    /// Members `i` and `j` set up a 1:1 session (from `j`'s bundle without a
    /// one-time prekey) and each reads one message of the other.
    pub fn connect(&mut self, i: usize, j: usize, rng: &mut StdRng) {
        let bundle = self.members[j].account.prekey_bundle_with(None).unwrap();
        let mut ij = self.members[i].account.create_outbound_session(&bundle, rng).unwrap();
        let hello = ij.encrypt(b"hello", rng).unwrap();
        let (mut ji, _) = self.members[j].account.create_inbound_session(&hello).unwrap();
        let reply = ji.encrypt(b"hi", rng).unwrap();
        self.members[i].account.decrypt(&mut ij, &reply).unwrap();
        self.members[i].sessions.insert(self.ids[j], ij);
        self.members[j].sessions.insert(self.ids[i], ji);
    }

    /// Member `from` distributes its current sender key to the members
    /// `to`, who install it; asserts that each of them installs it anew.
    pub fn distribute(&mut self, from: usize, to: &[usize], rng: &mut StdRng) {
        let targets: Vec<IdentityKey> = to.iter().map(|&j| self.ids[j]).collect();
        let sender = &mut self.members[from];
        let sessions = sender.sessions.iter_mut().filter(|(id, _)| targets.contains(id)).map(|(_, s)| s);
        let sent = sender.group.distribute(sessions, rng).unwrap();
        assert_eq!(sent.len(), to.len());
        let from_id = self.ids[from];
        for (peer, bytes) in sent {
            let k = self.index(&peer);
            let Member { account, group, sessions } = &mut self.members[k];
            let installed = group.install_distribution(account, sessions.get_mut(&from_id).unwrap(), &bytes).unwrap();
            assert_eq!(installed.sender, from_id);
            assert!(installed.newly_installed);
        }
    }

    /// The member number of identity `id`.
    pub fn index(&self, id: &IdentityKey) -> usize {
        self.ids.iter().position(|x| x == id).unwrap()
    }

    /// Member `from` encrypts `text` to the group.
    pub fn send(&mut self, from: usize, text: &str) -> Vec<u8> {
        self.members[from].group.encrypt(text.as_bytes(), &mut self.send_rng).unwrap()
    }

    /// Member `to` decrypts `message` at [`NOW`].
    pub fn read(&mut self, to: usize, message: &[u8]) -> sealpost::Result<String> {
        let read = self.members[to].group.decrypt(message, NOW)?;
        Ok(String::from_utf8(read.content.into_message().expect("a plain group message")).unwrap())
    }

    /// Every member's group state, in member order.
    pub fn into_groups(self) -> Vec<Group> {
        self.members.into_iter().map(|m| m.group).collect()
    }
}
