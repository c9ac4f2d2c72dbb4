//! The state behind every exported object, and the lists that pass
//! several objects to one call.
//!
//! Each object (`Account`, `Session`, `Group`, `Vault`) holds its core
//! value in a [`Shared`]: a reference-counted cell. A JavaScript object is
//! a handle to it, so a `Session` returned twice (for example by
//! `InboundSession.session` read twice) is the same session, and a list
//! such as [`crate::ForkoutRecipients`] keeps handles, not copies. A call
//! that needs the same object twice at once (the same session listed twice)
//! throws `InvalidArgument` instead of aliasing it; nothing panics.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::{Failure, JsResult};

/// A core value shared by the JavaScript handles to it.
pub(crate) struct Shared<T>(Rc<RefCell<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(Rc::clone(&self.0))
    }
}

impl<T> Shared<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(Rc::new(RefCell::new(value)))
    }

    /// Runs `f` on the value; `InvalidArgument` if this very call is
    /// already using it (the object was passed twice).
    pub(crate) fn with<R>(&self, what: &str, f: impl FnOnce(&mut T) -> JsResult<R>) -> JsResult<R> {
        // Most calls draw randomness: a host without it is refused here,
        // before any state is touched.
        crate::error::randomness()?;
        let mut value = self.0.try_borrow_mut().map_err(|_| busy(what))?;
        f(&mut value)
    }

    /// The value, borrowed for the rest of a call that holds several.
    pub(crate) fn borrow(&self, what: &str) -> JsResult<std::cell::RefMut<'_, T>> {
        crate::error::randomness()?;
        self.0.try_borrow_mut().map_err(|_| busy(what))
    }

    /// Whether two handles name the same value.
    pub(crate) fn same(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

fn busy(what: &str) -> Failure {
    Failure::invalid(format!("this {what} is already used by this call: pass each object once"))
}
