//! The record framing every durable file uses: `[u32 len][u32 crc32][payload]`,
//! little-endian, the checksum over the payload. A record is either whole and
//! verified, or bad — and the caller decides whether bad means a torn write
//! (the unsynced tail of the newest file) or corruption (anything else).

use std::fmt;

use super::StorageError;

/// Bytes before the payload: length and checksum.
pub(crate) const HEADER_BYTES: usize = 8;

/// Largest payload accepted: bounds memory on read and makes a garbage length
/// recognisable. Larger than any ZooKeeper request (jute.maxbuffer is 1 MiB).
pub(crate) const PAYLOAD_BYTES_MAX: usize = 16 << 20;

/// Frames the concatenation of `parts` as one record.
pub(crate) fn frame(parts: &[&[u8]]) -> Result<Vec<u8>, StorageError> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len == 0 || len > PAYLOAD_BYTES_MAX {
        return Err(StorageError::Invalid(format!("record payload of {len} bytes (must be 1..={PAYLOAD_BYTES_MAX})")));
    }
    let mut hasher = crc32fast::Hasher::new();
    for p in parts {
        hasher.update(p);
    }
    let mut out = Vec::with_capacity(HEADER_BYTES + len);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&hasher.finalize().to_le_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// Why a record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadRecord {
    /// Fewer than [`HEADER_BYTES`] bytes left.
    ShortHeader { have: usize },
    /// The length field is 0 or above [`PAYLOAD_BYTES_MAX`].
    BadLength(u32),
    /// The payload runs past the end of the data.
    Incomplete { need: usize, have: usize },
    /// The payload does not match its checksum.
    Checksum { stored: u32, computed: u32 },
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadRecord::ShortHeader { have } => write!(f, "record header cut short ({have} of {HEADER_BYTES} bytes)"),
            BadRecord::BadLength(len) => write!(f, "record length {len} out of range"),
            BadRecord::Incomplete { need, have } => write!(f, "record cut short ({have} of {need} payload bytes)"),
            BadRecord::Checksum { stored, computed } => {
                write!(f, "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")
            }
        }
    }
}

/// The outcome of reading one record.
#[derive(Debug)]
pub(crate) enum Parsed<'a> {
    /// A verified record, and the offset just after it.
    Record { payload: &'a [u8], next: usize },
    /// `offset` is exactly the end of the data.
    End,
    /// The bytes at `offset` are not a valid record.
    Bad(BadRecord),
}

/// Reads the record starting at `offset` of `buf`.
pub(crate) fn parse(buf: &[u8], offset: usize) -> Parsed<'_> {
    let rest = buf.get(offset..).unwrap_or_default();
    if rest.is_empty() {
        return Parsed::End;
    }
    let (Some(len), Some(crc)) = (read_u32(rest, 0), read_u32(rest, 4)) else {
        return Parsed::Bad(BadRecord::ShortHeader { have: rest.len() });
    };
    if len == 0 || len as usize > PAYLOAD_BYTES_MAX {
        return Parsed::Bad(BadRecord::BadLength(len));
    }
    let len = len as usize;
    let Some(payload) = rest.get(HEADER_BYTES..HEADER_BYTES + len) else {
        return Parsed::Bad(BadRecord::Incomplete { need: len, have: rest.len() - HEADER_BYTES });
    };
    let computed = crc32fast::hash(payload);
    if computed != crc {
        return Parsed::Bad(BadRecord::Checksum { stored: crc, computed });
    }
    Parsed::Record { payload, next: offset + HEADER_BYTES + len }
}

/// Whether a bad record at `offset` of the newest file looks like a write
/// that a crash interrupted before its fsync, rather than damage to data that
/// was durable. It must lie within the last `tail_bytes_max` bytes (the most
/// the writer ever leaves unsynced) and be the last thing in the file: either
/// cut short by the end of the file, or followed only by zeros (space the file
/// system allocated but never wrote). Anything else — a bad record with real
/// data after it — is corruption.
pub(crate) fn is_torn_tail(buf: &[u8], offset: usize, bad: BadRecord, tail_bytes_max: usize) -> bool {
    let remaining = buf.len().saturating_sub(offset);
    if remaining > tail_bytes_max {
        return false;
    }
    let after = match bad {
        BadRecord::ShortHeader { .. } | BadRecord::Incomplete { .. } => return true,
        BadRecord::BadLength(_) => offset + HEADER_BYTES,
        BadRecord::Checksum { .. } => {
            let len = read_u32(buf, offset).unwrap_or_default() as usize;
            offset + HEADER_BYTES + len
        }
    };
    buf.get(after..).unwrap_or_default().iter().all(|b| *b == 0)
}

/// Little-endian u32 at `at`, if the bytes are there.
pub(crate) fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Little-endian u64 at `at`, if the bytes are there.
pub(crate) fn read_u64(buf: &[u8], at: usize) -> Option<u64> {
    let b = buf.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_then_parse_round_trips() {
        let mut buf = frame(&[b"hello", b" world"]).unwrap();
        buf.extend(frame(&[b"x"]).unwrap());
        let Parsed::Record { payload, next } = parse(&buf, 0) else { panic!("first record") };
        assert_eq!(payload, b"hello world");
        let Parsed::Record { payload, next } = parse(&buf, next) else { panic!("second record") };
        assert_eq!(payload, b"x");
        assert!(matches!(parse(&buf, next), Parsed::End));
    }

    #[test]
    fn empty_and_oversize_payloads_are_refused() {
        assert!(frame(&[]).is_err());
        assert!(frame(&[&vec![0u8; PAYLOAD_BYTES_MAX + 1]]).is_err());
    }

    #[test]
    fn damage_is_classified() {
        let rec = frame(&[b"payload"]).unwrap();
        let cut = &rec[..rec.len() - 2];
        assert!(matches!(parse(cut, 0), Parsed::Bad(BadRecord::Incomplete { .. })));
        assert!(matches!(parse(&rec[..3], 0), Parsed::Bad(BadRecord::ShortHeader { have: 3 })));
        let mut flipped = rec.clone();
        flipped[HEADER_BYTES + 1] ^= 0x40;
        assert!(matches!(parse(&flipped, 0), Parsed::Bad(BadRecord::Checksum { .. })));
        assert!(matches!(parse(&[0u8; 16], 0), Parsed::Bad(BadRecord::BadLength(0))));
    }

    #[test]
    fn torn_tail_versus_corruption() {
        let good = frame(&[b"aaaa"]).unwrap();
        let mut flipped = good.clone();
        flipped[HEADER_BYTES] ^= 1;
        let bad = BadRecord::Checksum { stored: 0, computed: 1 };
        // A bad last record: torn.
        assert!(is_torn_tail(&flipped, 0, bad, 1 << 20));
        // A bad record followed by zeros: torn.
        let mut zeros = flipped.clone();
        zeros.extend([0u8; 64]);
        assert!(is_torn_tail(&zeros, 0, bad, 1 << 20));
        // A bad record followed by real data: corruption.
        let mut followed = flipped.clone();
        followed.extend(&good);
        assert!(!is_torn_tail(&followed, 0, bad, 1 << 20));
        // Too far from the end to be unsynced: corruption.
        assert!(!is_torn_tail(&zeros, 0, bad, 8));
        // Cut short by the end of the file: torn.
        assert!(is_torn_tail(&good[..5], 0, BadRecord::ShortHeader { have: 5 }, 1 << 20));
    }
}
