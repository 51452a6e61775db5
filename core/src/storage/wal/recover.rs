//! Opening the log: scan every segment in order, verify every record, and
//! rebuild the in-memory index.
//!
//! A bad record at the tail of the newest segment is a torn write (the crash
//! came before its fsync, so nobody was told it was durable): the file is cut
//! back to the last good record, with a warning. A bad record anywhere else,
//! a hole or a repeated index, is corruption: opening fails with the file and
//! offset, and nothing is applied.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::path::Path;
use std::sync::Arc;

use super::writer::{wholly_purged, Layout, Segment};
use super::{
    fsutil, record, Index, Loc, Pos, StorageError, WalOptions, LOCK_FILE, PURGED_FILE, SEGMENT_HEADER_BYTES,
    SEGMENT_MAGIC, SEGMENT_PREFIX, SEGMENT_VERSION, TORN_TAIL_BYTES_MAX, VOTE_FILE,
};
use record::Parsed;

/// What scanning one segment found.
enum Scan {
    /// The newest segment holds nothing usable (torn header, no record): drop it.
    Discard,
    /// Verified records `(index, offset, len)` and the length of the good prefix.
    Kept { file: File, len: u64, records: Vec<(u64, u64, u32)> },
}

/// Rebuilds the writer's layout and the shared index from `opts.dir`.
pub(super) fn recover(opts: &WalOptions) -> Result<(Layout, Index), StorageError> {
    let dir = opts.dir.as_path();
    fs::create_dir_all(dir).map_err(StorageError::io("create directory", dir))?;
    let lock = fsutil::lock_dir(dir, LOCK_FILE)?;
    fsutil::remove_tmp_files(dir)?;

    let vote = fsutil::read_checked(&dir.join(VOTE_FILE))?;
    let purged = match fsutil::read_checked(&dir.join(PURGED_FILE))? {
        None => None,
        Some(p) => {
            let upto = record::read_u64(&p, 0)
                .ok_or_else(|| StorageError::corrupt(dir.join(PURGED_FILE), 0, "purge point too short"))?;
            Some((upto, p[8..].to_vec()))
        }
    };
    let purged_upto = purged.as_ref().map(|(p, _)| *p);

    let files = fsutil::numbered_files(dir, SEGMENT_PREFIX)?;
    let count = files.len();
    let mut segments: Vec<Segment> = Vec::with_capacity(count);
    let mut locs = VecDeque::new();
    let mut first_live = None;
    let mut expected: Option<u64> = None;
    let mut dir_changed = false;

    for (i, (name_first, path)) in files.into_iter().enumerate() {
        let newest = i + 1 == count;
        let (file, len, records) = match scan_segment(&path, name_first, newest)? {
            Scan::Kept { file, len, records } if !records.is_empty() => (file, len, records),
            Scan::Kept { .. } if !newest => {
                return Err(StorageError::corrupt(
                    &path,
                    SEGMENT_HEADER_BYTES,
                    "segment without records before the newest one",
                ));
            }
            Scan::Kept { .. } | Scan::Discard => {
                tracing::warn!(segment = %path.display(), "removing newest log segment: it holds no complete record");
                fs::remove_file(&path).map_err(StorageError::io("remove", &path))?;
                dir_changed = true;
                continue;
            }
        };
        let seg_first = records[0].0;
        if seg_first != name_first {
            return Err(StorageError::corrupt(
                &path,
                SEGMENT_HEADER_BYTES,
                format!("first record holds index {seg_first}, the file name says {name_first}"),
            ));
        }
        if let Some(e) = expected {
            if seg_first != e {
                return Err(StorageError::corrupt(
                    &path,
                    SEGMENT_HEADER_BYTES,
                    format!("first record holds index {seg_first}, the previous segment ends before {e}"),
                ));
            }
        }
        for &(index, offset, rec_len) in &records {
            if purged_upto.is_some_and(|p| index <= p) {
                continue;
            }
            first_live.get_or_insert(index);
            locs.push_back(Loc { pos: Some(Pos { segment: name_first, offset }), data: None, len: rec_len });
        }
        expected = records.last().map(|r| r.0 + 1);
        segments.push(Segment { first: name_first, path: Arc::from(path.as_path()), file: Arc::new(file), len });
    }

    if let (Some(p), Some(f)) = (purged_upto, first_live) {
        if f != p + 1 {
            let path = segments.first().map(|s| s.path.to_path_buf()).unwrap_or_else(|| dir.to_path_buf());
            return Err(StorageError::corrupt(
                path,
                SEGMENT_HEADER_BYTES,
                format!("entries after the purge point {p} start at {f}: entries are missing"),
            ));
        }
    }
    let first = match (purged_upto, first_live) {
        (Some(p), _) => p + 1,
        (None, Some(f)) => f,
        (None, None) => 0,
    };

    // A crash between saving the purge point and removing files leaves
    // segments with only purged entries: finish the job.
    if let Some(p) = purged_upto {
        let n = wholly_purged(&segments, p, locs.is_empty());
        for seg in segments.drain(..n) {
            fs::remove_file(&seg.path).map_err(StorageError::io("remove", seg.path.to_path_buf()))?;
            dir_changed = true;
        }
    }
    if dir_changed {
        fsutil::sync_dir(dir)?;
    }

    let seg_refs: BTreeMap<_, _> = segments.iter().map(|s| (s.first, s.seg_ref())).collect();
    tracing::info!(
        dir = %dir.display(),
        segments = segments.len(),
        first,
        next = first + locs.len() as u64,
        purged = ?purged_upto,
        "opened write-ahead log"
    );
    let index =
        Index { first, locs, purged, vote, segments: seg_refs, cached_bytes: 0, cache_cursor: first, failed: None };
    let layout = Layout { dir: dir.to_path_buf(), segment_bytes_max: opts.segment_bytes_max, segments, _lock: lock };
    Ok((layout, index))
}

/// Reads and verifies one segment; repairs a torn tail when it is the newest.
fn scan_segment(path: &Path, name_first: u64, newest: bool) -> Result<Scan, StorageError> {
    let buf = fs::read(path).map_err(StorageError::io("read", path))?;

    let body_start = match record::parse(&buf, 0) {
        Parsed::Record { payload, next } => {
            check_header(payload, name_first).map_err(|reason| StorageError::corrupt(path, 0, reason))?;
            next
        }
        Parsed::Bad(bad) if newest && record::is_torn_tail(&buf, 0, bad, TORN_TAIL_BYTES_MAX) => {
            tracing::warn!(segment = %path.display(), "torn segment header ({bad})");
            return Ok(Scan::Discard);
        }
        Parsed::End if newest => return Ok(Scan::Discard),
        Parsed::End => return Err(StorageError::corrupt(path, 0, "empty segment file")),
        Parsed::Bad(bad) => return Err(StorageError::corrupt(path, 0, format!("segment header: {bad}"))),
    };

    let mut records = Vec::new();
    let mut at = body_start;
    let mut expected: Option<u64> = None;
    loop {
        match record::parse(&buf, at) {
            Parsed::End => break,
            Parsed::Record { payload, next } => {
                let Some(index) = record::read_u64(payload, 0) else {
                    return Err(StorageError::corrupt(path, at as u64, "record too short for an index"));
                };
                if let Some(e) = expected {
                    if index != e {
                        return Err(StorageError::corrupt(
                            path,
                            at as u64,
                            format!("record holds index {index}, expected {e}"),
                        ));
                    }
                }
                expected = Some(index + 1);
                records.push((index, at as u64, (next - at) as u32));
                at = next;
            }
            Parsed::Bad(bad) if newest && record::is_torn_tail(&buf, at, bad, TORN_TAIL_BYTES_MAX) => {
                tracing::warn!(
                    segment = %path.display(),
                    offset = at,
                    dropped_bytes = buf.len() - at,
                    "torn write at the tail of the newest log segment ({bad}): truncating"
                );
                let f = OpenOptions::new().write(true).open(path).map_err(StorageError::io("open", path))?;
                f.set_len(at as u64).map_err(StorageError::io("truncate", path))?;
                f.sync_all().map_err(StorageError::io("fsync", path))?;
                break;
            }
            Parsed::Bad(bad) => return Err(StorageError::corrupt(path, at as u64, bad.to_string())),
        }
    }
    let file = OpenOptions::new().read(true).write(true).open(path).map_err(StorageError::io("open", path))?;
    Ok(Scan::Kept { file, len: at as u64, records })
}

fn check_header(payload: &[u8], name_first: u64) -> Result<(), String> {
    if payload.get(..8) != Some(SEGMENT_MAGIC.as_slice()) {
        return Err("not a corral log segment (bad magic)".into());
    }
    match record::read_u32(payload, 8) {
        Some(SEGMENT_VERSION) => {}
        Some(v) => return Err(format!("unsupported segment format version {v}")),
        None => return Err("segment header too short".into()),
    }
    match record::read_u64(payload, 12) {
        Some(first) if first == name_first => Ok(()),
        Some(first) => Err(format!("header says first index {first}, the file name says {name_first}")),
        None => Err("segment header too short".into()),
    }
}
