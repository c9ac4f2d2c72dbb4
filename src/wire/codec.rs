//! A minimal, total byte reader and writer used by every format in the crate.
//!
//! All integers are big-endian. Variable-length fields carry an explicit
//! length prefix and a maximum checked *before* anything is allocated.

use zeroize::Zeroize;

use crate::error::WireError;

/// Appends encoded fields to a byte vector.
///
/// Every state serializer writes its secrets through a `Writer`, so the
/// buffer never leaves a copy behind in freed memory:
///
/// * when a write does not fit, the writer moves to a larger buffer itself
///   and zeroizes the old one before freeing it (a `Vec` growing on its own
///   would free the old block as it is), whatever capacity the caller
///   asked for;
/// * a writer dropped before [`Writer::into_vec`] zeroizes its buffer.
///
/// A write that fits (every message encoder sizes its buffer exactly) costs
/// one capacity check, as a `Vec` push does; the zeroizing is paid only on
/// growth. [`Writer::into_vec`] hands the buffer over as it is: a caller
/// holding secrets wraps it in `Zeroizing` (which zeroizes the whole
/// capacity on drop).
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { buf: Vec::with_capacity(capacity) }
    }

    /// Writes after what `buf` already holds (a caller's buffer, taken back
    /// with [`Self::into_vec`]).
    pub(crate) fn appending(buf: Vec<u8>) -> Self {
        Self { buf }
    }

    /// Makes room for `additional` more bytes without letting the vector
    /// reallocate on its own.
    #[inline]
    fn reserve(&mut self, additional: usize) {
        if additional > self.buf.capacity() - self.buf.len() {
            self.grow(additional);
        }
    }

    /// Moves the contents to a buffer at least twice as large (so growth
    /// stays amortized O(1)) and zeroizes the old one before it is freed.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, additional: usize) {
        let needed = self.buf.len().saturating_add(additional);
        let capacity = needed.max(self.buf.capacity().saturating_mul(2)).max(64);
        let mut larger = Vec::with_capacity(capacity);
        larger.extend_from_slice(&self.buf);
        let mut old = core::mem::replace(&mut self.buf, larger);
        old.zeroize();
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.reserve(1);
        self.buf.push(v);
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.reserve(v.len());
        self.buf.extend_from_slice(v);
        self
    }

    /// A `u32` length prefix followed by the bytes.
    pub(crate) fn var_bytes(&mut self, v: &[u8]) -> &mut Self {
        // Every caller bounds its fields far below 4 GiB; saturate rather
        // than truncate so an impossible input can never alias a short one.
        let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
        self.u32(len).bytes(v)
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn into_vec(mut self) -> Vec<u8> {
        core::mem::take(&mut self.buf)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Empty (and unallocated) after `into_vec`: nothing to do then.
        if self.buf.capacity() > 0 {
            self.buf.zeroize();
        }
    }
}

/// Reads fields from a byte slice; every method is total.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::Truncated { needed: n - self.rest.len() });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A `u32`-length-prefixed field of at most `max` bytes.
    pub(crate) fn var_bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], WireError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(WireError::TooLarge { what, len, max });
        }
        self.take(len)
    }

    /// A count prefix (`u32`) bounded by `max`, for repeated fields.
    pub(crate) fn count(&mut self, what: &'static str, max: usize) -> Result<usize, WireError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(WireError::TooLarge { what, len: n, max });
        }
        Ok(n)
    }

    pub(crate) fn bool(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError::InvalidField("boolean must be 0 or 1")),
        }
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Fails if bytes remain.
    pub(crate) fn finish(&self) -> Result<(), WireError> {
        if self.rest.is_empty() { Ok(()) } else { Err(WireError::TrailingBytes(self.rest.len())) }
    }

    /// Reads and checks the `version | type` prefix every sealpost format
    /// starts with.
    pub(crate) fn header(&mut self, expected: super::MessageType) -> Result<(), WireError> {
        // The type first: bytes of another type are that, whatever their
        // version; bytes of this type in another version are refused as such.
        let version = self.u8()?;
        let found = self.u8()?;
        if found != expected as u8 {
            return Err(WireError::UnexpectedType { found, expected: expected as u8 });
        }
        if version != expected.version() {
            return Err(WireError::UnsupportedVersion(version));
        }
        Ok(())
    }
}

/// Starts reading a serialized state of type `state_type`: refuses inputs
/// over [`MAX_STATE`](crate::limits::MAX_STATE) and checks the
/// `version | type` prefix.
pub(crate) fn state_reader(bytes: &[u8], state_type: super::MessageType) -> Result<Reader<'_>, WireError> {
    let max = crate::limits::MAX_STATE;
    if bytes.len() > max {
        return Err(WireError::TooLarge { what: "serialized state", len: bytes.len(), max });
    }
    let mut r = Reader::new(bytes);
    r.header(state_type)?;
    Ok(r)
}

/// Starts a writer with the `version | type` prefix.
pub(crate) fn writer_for(message_type: super::MessageType, capacity: usize) -> Writer {
    let mut w = Writer::with_capacity(capacity.saturating_add(2));
    w.u8(message_type.version()).u8(message_type as u8);
    w
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn a_writer_that_outgrows_its_capacity_keeps_every_byte() {
        let mut expected = Vec::new();
        let mut w = Writer::with_capacity(3);
        for i in 0..1000u32 {
            w.u8(i as u8).u32(i).u64(u64::from(i) << 32).var_bytes(&i.to_le_bytes()[..(i % 4) as usize]);
            expected.push(i as u8);
            expected.extend_from_slice(&i.to_be_bytes());
            expected.extend_from_slice(&(u64::from(i) << 32).to_be_bytes());
            expected.extend_from_slice(&(i % 4).to_be_bytes());
            expected.extend_from_slice(&i.to_le_bytes()[..(i % 4) as usize]);
        }
        assert_eq!(w.as_slice(), expected.as_slice());
        assert_eq!(w.into_vec(), expected);
    }

    #[test]
    fn a_write_that_fits_stays_put_and_growth_doubles() {
        let mut w = Writer::with_capacity(100);
        let capacity = w.buf.capacity();
        let at = w.buf.as_ptr();
        w.bytes(&vec![1; capacity]);
        assert_eq!(w.buf.as_ptr(), at, "a write that fits does not reallocate");
        w.u8(2);
        assert!(w.buf.capacity() >= 2 * capacity);
        let needed = w.buf.len() + 10 * w.buf.capacity();
        w.bytes(&vec![3; 10 * w.buf.capacity()]);
        assert!(w.buf.capacity() >= needed, "a large write gets what it needs");
        let mut from_nothing = Writer::default();
        from_nothing.u8(1);
        assert!(from_nothing.buf.capacity() >= 64);
    }
}
