//! Small file-system helpers shared by the log and the snapshots: directory
//! fsync, atomically replaced checksummed files, directory locks, positional
//! reads and writes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::record;
use super::StorageError;

/// Suffix of files being written; any left over after a crash is garbage.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Makes the directory's entries (created, renamed, removed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(StorageError::io("open directory", dir))?;
        d.sync_all().map_err(StorageError::io("fsync directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Replaces `dir/name` with one checksummed record holding `payload`:
/// write a temporary file, fsync it, rename it over the old one, fsync the
/// directory. A crash leaves either the old or the new content, never a mix.
pub(crate) fn write_checked_atomic(dir: &Path, name: &str, payload: &[u8]) -> Result<(), StorageError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let bytes = record::frame(&[payload])?;
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(StorageError::io("create", &tmp))?;
    f.write_all(&bytes).map_err(StorageError::io("write", &tmp))?;
    f.sync_all().map_err(StorageError::io("fsync", &tmp))?;
    drop(f);
    fs::rename(&tmp, &path).map_err(StorageError::io("rename", &tmp))?;
    sync_dir(dir)
}

/// Reads a file written by [`write_checked_atomic`]; `None` when it does not
/// exist. Such files are replaced atomically, so any damage is corruption.
pub(crate) fn read_checked(path: &Path) -> Result<Option<Vec<u8>>, StorageError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("read", path)(e)),
    };
    match record::parse(&bytes, 0) {
        record::Parsed::Record { payload, next } if next == bytes.len() => Ok(Some(payload.to_vec())),
        record::Parsed::Record { .. } => Err(StorageError::corrupt(path, 0, "trailing bytes after the record")),
        record::Parsed::End => Err(StorageError::corrupt(path, 0, "empty file")),
        record::Parsed::Bad(bad) => Err(StorageError::corrupt(path, 0, bad.to_string())),
    }
}

/// Takes an exclusive lock on `dir/name` for as long as the returned file is
/// open, so that two processes never write the same directory.
pub(crate) fn lock_dir(dir: &Path, name: &str) -> Result<File, StorageError> {
    let path = dir.join(name);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(StorageError::io("create lock file", &path))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => {
            Err(StorageError::Locked { dir: dir.to_path_buf(), lock: path, waited: std::time::Duration::ZERO })
        }
        Err(fs::TryLockError::Error(e)) => Err(StorageError::io("lock", &path)(e)),
    }
}

/// Removes temporary files left by a crash in the middle of an atomic write.
pub(crate) fn remove_tmp_files(dir: &Path) -> Result<(), StorageError> {
    let mut removed = false;
    for entry in fs::read_dir(dir).map_err(StorageError::io("list", dir))? {
        let entry = entry.map_err(StorageError::io("list", dir))?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(TMP_SUFFIX) {
            let path = entry.path();
            tracing::info!(path = %path.display(), "removing leftover temporary file");
            fs::remove_file(&path).map_err(StorageError::io("remove", &path))?;
            removed = true;
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Files in `dir` named `<prefix><number>` (no other suffix), sorted by number.
pub(crate) fn numbered_files(dir: &Path, prefix: &str) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(StorageError::io("list", dir))? {
        let entry = entry.map_err(StorageError::io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(num) = name.strip_prefix(prefix) else { continue };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(n) = num.parse::<u64>() else { continue };
        out.push((n, entry.path()));
    }
    out.sort_by_key(|(n, _)| *n);
    Ok(out)
}

/// Total size of the regular files directly in `dir` (0 when unreadable).
pub(crate) fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    entries.filter_map(Result::ok).filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
}

/// Reads exactly `buf.len()` bytes at `offset` without moving a cursor, so
/// readers can share a file with the writer.
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(file, &mut buf[done..], offset + done as u64)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Writes all of `buf` at `offset` without moving a cursor.
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_write(file, &buf[done..], offset + done as u64)?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            done += n;
        }
        Ok(())
    }
}
