//! Jute primitives: big-endian ints and longs, one-byte booleans, length-prefixed
//! buffers, strings and vectors, where a length of -1 means null.

use thiserror::Error;

/// Why a record could not be decoded. The server answers MarshallingError.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The record ended before a field did.
    #[error("record truncated: needed {needed} bytes at offset {offset}, {available} left")]
    Truncated {
        /// Offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A length prefix was negative (and not the null marker) or over the limit.
    #[error("bad length {len} at offset {offset} (limit {limit})")]
    BadLength {
        /// Offset of the length prefix.
        offset: usize,
        /// The length read.
        len: i32,
        /// The configured limit.
        limit: usize,
    },
    /// A required field was null.
    #[error("unexpected null at offset {offset}")]
    UnexpectedNull {
        /// Offset of the length prefix.
        offset: usize,
    },
    /// A value outside its domain (unknown multi sub-op, bad header).
    #[error("invalid value: {0}")]
    Invalid(String),
}

/// Reads jute primitives from a byte slice, bounding every length by `max_len`.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    max_len: usize,
}

/// The default bound for one buffer/string inside a record: jute.maxbuffer plus
/// ZooKeeper's default extra size (equal to jute.maxbuffer).
pub const FIELD_LEN_MAX_DEFAULT: usize = 2 * 1_048_575;

impl<'a> Reader<'a> {
    /// A reader over `buf` with the default field length bound.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0, max_len: FIELD_LEN_MAX_DEFAULT }
    }

    /// A reader whose buffers, strings and vectors may not exceed `max_len`.
    pub fn with_limit(buf: &'a [u8], max_len: usize) -> Reader<'a> {
        Reader { buf, pos: 0, max_len }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Current offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated { offset: self.pos, needed: n, available: self.remaining() });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A 32-bit big-endian int.
    pub fn int(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A 64-bit big-endian long.
    pub fn long(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    /// A boolean: any non-zero byte is true, as the Java reader does.
    pub fn boolean(&mut self) -> Result<bool, DecodeError> {
        Ok(self.take(1)?[0] != 0)
    }

    fn len_prefix(&mut self) -> Result<Option<usize>, DecodeError> {
        let offset = self.pos;
        let len = self.int()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 || len as usize > self.max_len {
            return Err(DecodeError::BadLength { offset, len, limit: self.max_len });
        }
        Ok(Some(len as usize))
    }

    /// A buffer; `None` for the null marker.
    pub fn buffer(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        match self.len_prefix()? {
            None => Ok(None),
            Some(n) => Ok(Some(self.take(n)?.to_vec())),
        }
    }

    /// A string, decoded leniently (invalid UTF-8 becomes U+FFFD); `None` for null.
    pub fn ustring_opt(&mut self) -> Result<Option<String>, DecodeError> {
        match self.len_prefix()? {
            None => Ok(None),
            Some(n) => Ok(Some(String::from_utf8_lossy(self.take(n)?).into_owned())),
        }
    }

    /// A string that must not be null (paths, names): null is a decode error,
    /// which ZooKeeper answers with MarshallingError.
    pub fn ustring(&mut self) -> Result<String, DecodeError> {
        let offset = self.pos;
        self.ustring_opt()?.ok_or(DecodeError::UnexpectedNull { offset })
    }

    /// A vector; null reads as `None`.
    pub fn vector_opt<T>(
        &mut self,
        mut item: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Option<Vec<T>>, DecodeError> {
        match self.len_prefix()? {
            None => Ok(None),
            Some(n) => {
                // Every element takes at least one byte: a bogus count cannot
                // make us reserve more than the frame holds.
                let mut v = Vec::with_capacity(n.min(self.remaining()));
                for _ in 0..n {
                    v.push(item(self)?);
                }
                Ok(Some(v))
            }
        }
    }

    /// A vector where null reads as empty.
    pub fn vector<T>(
        &mut self,
        item: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        Ok(self.vector_opt(item)?.unwrap_or_default())
    }

    /// The rest of the input, consumed.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
}

/// Writes jute primitives into a growing buffer.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Writer {
        Writer { buf: Vec::with_capacity(64) }
    }

    /// A writer that reserves 4 bytes for a frame length prefix, filled by [`Writer::finish_frame`].
    pub fn frame() -> Writer {
        Writer { buf: vec![0, 0, 0, 0] }
    }

    /// Fills in the length prefix reserved by [`Writer::frame`] and returns the frame.
    pub fn finish_frame(mut self) -> Vec<u8> {
        let len = (self.buf.len() - 4) as u32;
        self.buf[..4].copy_from_slice(&len.to_be_bytes());
        self.buf
    }

    /// The bytes written.
    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    /// Writes an int.
    pub fn int(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Writes a long.
    pub fn long(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Writes a boolean as 0 or 1.
    pub fn boolean(&mut self, v: bool) {
        self.buf.push(v as u8);
    }

    /// Writes a buffer; `None` as the null marker.
    pub fn buffer(&mut self, v: Option<&[u8]>) {
        match v {
            None => self.int(-1),
            Some(b) => {
                self.int(b.len() as i32);
                self.buf.extend_from_slice(b);
            }
        }
    }

    /// Writes a string (standard UTF-8).
    pub fn ustring(&mut self, v: &str) {
        self.buffer(Some(v.as_bytes()));
    }

    /// Writes a string; `None` as null.
    pub fn ustring_opt(&mut self, v: Option<&str>) {
        self.buffer(v.map(str::as_bytes));
    }

    /// Writes a vector.
    pub fn vector<T>(&mut self, v: &[T], mut item: impl FnMut(&mut Writer, &T)) {
        self.int(v.len() as i32);
        for x in v {
            item(self, x);
        }
    }

    /// Writes raw bytes.
    pub fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_round_trip() {
        let mut w = Writer::new();
        w.int(-5);
        w.long(1 << 40);
        w.boolean(true);
        w.buffer(None);
        w.buffer(Some(b""));
        w.ustring("é/x");
        w.vector(&[1, 2], |w, x| w.int(*x));
        let b = w.into_inner();
        let mut r = Reader::new(&b);
        assert_eq!(r.int().unwrap(), -5);
        assert_eq!(r.long().unwrap(), 1 << 40);
        assert!(r.boolean().unwrap());
        assert_eq!(r.buffer().unwrap(), None);
        assert_eq!(r.buffer().unwrap(), Some(vec![]));
        assert_eq!(r.ustring().unwrap(), "é/x");
        assert_eq!(r.vector(|r| r.int()).unwrap(), vec![1, 2]);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn lengths_are_bounded() {
        let mut w = Writer::new();
        w.int(1000);
        let b = w.into_inner();
        assert!(matches!(Reader::with_limit(&b, 10).buffer(), Err(DecodeError::BadLength { .. })));
        assert!(matches!(Reader::new(&b).buffer(), Err(DecodeError::Truncated { .. })));
        let mut w = Writer::new();
        w.int(-7);
        let b = w.into_inner();
        assert!(matches!(Reader::new(&b).ustring(), Err(DecodeError::BadLength { .. })));
    }

    #[test]
    fn any_nonzero_byte_is_true() {
        assert!(Reader::new(&[7]).boolean().unwrap());
        assert!(!Reader::new(&[0]).boolean().unwrap());
    }
}
