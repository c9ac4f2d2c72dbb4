//! The lock every exported object keeps its core value behind.
//!
//! Each object is a `#[derive(uniffi::Object)]` struct with its core value
//! in a field `inner: Mutex<core type>` (plus any fields that never change,
//! readable without the lock), an inherent `wrap(core) -> Arc<Self>`, and
//! one line `locked!(Object, core type)`, which implements [`Locked`]:
//! [`Locked::with`] for calls on one object, [`Locked::lock_all`] for calls
//! on several of one kind. A poisoned lock is
//! [`SealpostError::LockPoisoned`], never a panic.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Result, SealpostError};

/// An exported object holding its core value behind a lock.
pub(crate) trait Locked {
    /// The core value.
    type Core;
    /// The object's name in error messages.
    const NAME: &'static str;

    /// The lock around the core value.
    fn mutex(&self) -> &Mutex<Self::Core>;

    /// Runs `f` with the object locked. A call that locks several objects
    /// takes them in the crate's lock order (`Account` → `Session`s →
    /// `Group`s).
    fn with<T>(&self, f: impl FnOnce(&mut Self::Core) -> Result<T>) -> Result<T> {
        f(&mut *lock(self.mutex(), Self::NAME)?)
    }

    /// Locks several objects of this kind (address order, no duplicates)
    /// and returns the guards in the order given.
    fn lock_all(objects: &[Arc<Self>]) -> Result<Vec<MutexGuard<'_, Self::Core>>>
    where
        Self: Sized,
    {
        let mutexes: Vec<&Mutex<Self::Core>> = objects.iter().map(|o| o.mutex()).collect();
        lock_all(&mutexes, Self::NAME)
    }
}

/// `locked!(Object, CoreType)`: implements [`Locked`] for an object whose
/// field `inner` is a `Mutex<CoreType>`; the object's name in errors is
/// its type name.
macro_rules! locked {
    ($object:ident, $core:ty) => {
        impl $crate::locked::Locked for $object {
            type Core = $core;
            const NAME: &'static str = stringify!($object);

            fn mutex(&self) -> &std::sync::Mutex<$core> {
                &self.inner
            }
        }
    };
}
pub(crate) use locked;

/// Locks `mutex`, mapping poisoning to [`SealpostError::LockPoisoned`]
/// instead of panicking. `what` names the object in the message.
fn lock<'a, T>(mutex: &'a Mutex<T>, what: &str) -> Result<MutexGuard<'a, T>> {
    mutex.lock().map_err(|_| {
        SealpostError::LockPoisoned(format!(
            "{what} is unusable: an earlier call failed while holding its lock; restore it from an export"
        ))
    })
}

/// Locks several objects of one kind at once, in increasing address order
/// (the one order every caller uses, so two calls locking overlapping sets
/// cannot deadlock), and returns the guards in the order of `mutexes`. The
/// same object twice is [`SealpostError::InvalidArgument`]: a `std` mutex
/// cannot be locked twice by one thread.
fn lock_all<'a, T>(mutexes: &[&'a Mutex<T>], what: &str) -> Result<Vec<MutexGuard<'a, T>>> {
    let mut sorted: Vec<(usize, &'a Mutex<T>)> = mutexes.iter().copied().enumerate().collect();
    sorted.sort_by_key(|&(_, m)| std::ptr::from_ref(m));
    if sorted.windows(2).any(|w| matches!(w, [(_, a), (_, b)] if std::ptr::eq(*a, *b))) {
        return Err(SealpostError::InvalidArgument(format!("the same {what} is listed twice")));
    }
    let mut guards = Vec::with_capacity(sorted.len());
    for (index, mutex) in sorted {
        guards.push((index, lock(mutex, what)?));
    }
    guards.sort_by_key(|&(index, _)| index);
    Ok(guards.into_iter().map(|(_, guard)| guard).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    struct Thing {
        inner: Mutex<u8>,
    }
    locked!(Thing, u8);

    #[test]
    fn poisoned_lock_is_an_error_not_a_panic() {
        let thing = Arc::new(Thing { inner: Mutex::new(0) });
        let other = thing.clone();
        let _ = std::thread::spawn(move || {
            let _guard = other.inner.lock().unwrap();
            panic!("poison it");
        })
        .join();
        assert!(thing.inner.is_poisoned());
        assert!(matches!(thing.with(|_| Ok(())), Err(SealpostError::LockPoisoned(msg)) if msg.contains("Thing")));
    }

    #[test]
    fn lock_all_keeps_the_callers_order_and_refuses_duplicates() {
        let [a, b, c] = [1u8, 2, 3].map(|n| Arc::new(Thing { inner: Mutex::new(n) }));
        let all = [c.clone(), a.clone(), b.clone()];
        let guards = Thing::lock_all(&all).unwrap();
        assert_eq!(guards.iter().map(|g| **g).collect::<Vec<_>>(), [3, 1, 2]);
        drop(guards);
        let err = Thing::lock_all(&[a.clone(), b, a]).err().unwrap();
        assert_eq!(err, SealpostError::InvalidArgument("the same Thing is listed twice".into()));
        assert!(Thing::lock_all(&[]).unwrap().is_empty());
    }
}
