//! A minimal, total byte reader and writer used by every format in the crate.
//!
//! All integers are big-endian. Variable-length fields carry an explicit
//! length prefix and a maximum checked *before* anything is allocated.

use crate::error::WireError;

/// Appends encoded fields to a byte vector.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { buf: Vec::with_capacity(capacity) }
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
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

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf
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
    let mut w = Writer::with_capacity(capacity + 2);
    w.u8(message_type.version()).u8(message_type as u8);
    w
}
