//! Snapshot files: `snapshot.<index>` in the data directory.
//!
//! Layout, little-endian:
//! `[8 magic][u32 format version][u64 index][u32 meta len][meta][state bytes][u32 crc32]`,
//! the checksum covering every byte before it. `meta` is opaque here (the
//! replication layer stores the last log id and the membership in it); the
//! state bytes are whatever the state machine's capture job wrote.
//!
//! A snapshot is written to a temporary name, fsynced, renamed, and the
//! directory fsynced, so a visible `snapshot.<index>` is always complete —
//! unless the disk damaged it later, which the checksum catches on load.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::fsutil::{self, TMP_SUFFIX};
use super::StorageError;

/// Serializes a captured state into a writer (see `StateMachine::capture`).
pub type SnapshotJob = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

/// Version of the snapshot file layout written by this code.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"corralsn";
/// Largest metadata section accepted when loading.
const META_BYTES_MAX: u64 = 16 << 20;
/// Magic, version, index, meta length.
const FIXED_HEADER_BYTES: u64 = 8 + 4 + 8 + 4;
const TRAILER_BYTES: u64 = 4;
/// Buffer size for streaming snapshot files.
const IO_BUF_BYTES: usize = 1 << 20;
const PREFIX: &str = "snapshot.";
const LOCK_FILE: &str = "snapshot.lock";

/// Distinguishes temporary files of concurrent writes in one process.
static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A verified snapshot file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// Log index of the last entry the snapshot includes.
    pub index: u64,
    /// Where the file is.
    pub path: PathBuf,
    /// The opaque metadata stored with it.
    pub meta: Vec<u8>,
    /// Where the state bytes start in the file.
    pub data_offset: u64,
    /// How many state bytes there are.
    pub data_len: u64,
}

/// The snapshot files of one data directory (which it locks while open).
pub struct SnapshotStore {
    dir: PathBuf,
    /// The directory lock; `None` once closed, and then nothing is written.
    lock: parking_lot::Mutex<Option<File>>,
    /// Temporary files handed out for snapshots being received, removed
    /// once one of them is installed.
    receiving: parking_lot::Mutex<Vec<PathBuf>>,
}

impl SnapshotStore {
    /// Opens (or creates) the directory, locks it and removes leftover temporary files.
    pub fn open(dir: impl Into<PathBuf>) -> Result<SnapshotStore, StorageError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(StorageError::io("create directory", &dir))?;
        let lock = fsutil::lock_dir(&dir, LOCK_FILE)?;
        fsutil::remove_tmp_files(&dir)?;
        Ok(SnapshotStore {
            dir,
            lock: parking_lot::Mutex::new(Some(lock)),
            receiving: parking_lot::Mutex::new(Vec::new()),
        })
    }

    /// Releases the directory lock; later writes, installs and removals fail
    /// with [`StorageError::Closed`]. Reads still work.
    pub fn close(&self) {
        self.lock.lock().take();
    }

    fn check_open(&self) -> Result<(), StorageError> {
        match *self.lock.lock() {
            Some(_) => Ok(()),
            None => Err(StorageError::Closed),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes of the files in the data directory.
    pub fn disk_bytes(&self) -> u64 {
        fsutil::dir_bytes(&self.dir)
    }

    /// Indexes of the snapshot files present (valid or not), oldest first.
    pub fn indexes(&self) -> Result<Vec<u64>, StorageError> {
        Ok(fsutil::numbered_files(&self.dir, PREFIX)?.into_iter().map(|(i, _)| i).collect())
    }

    /// Writes `snapshot.<index>` durably: header and `meta`, then the bytes
    /// `job` produces, then the checksum. Blocking.
    pub fn write(&self, index: u64, meta: &[u8], job: SnapshotJob) -> Result<SnapshotFile, StorageError> {
        self.check_open()?;
        let path = self.path_of(index);
        let tmp = self.tmp_path(&format!("{index:020}"));
        let res = (|| {
            let file =
                OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(StorageError::io("create", &tmp))?;
            let mut w =
                CrcWriter { inner: BufWriter::with_capacity(IO_BUF_BYTES, file), hasher: Default::default(), bytes: 0 };
            let header = header_bytes(index, meta)?;
            w.write_all(&header).map_err(StorageError::io("write", &tmp))?;
            let data_offset = w.bytes;
            job(&mut w).map_err(StorageError::io("serialize state into", &tmp))?;
            let data_len = w.bytes - data_offset;
            let crc = w.hasher.finalize();
            let mut file = w.inner.into_inner().map_err(|e| StorageError::io("write", &tmp)(e.into_error()))?;
            file.write_all(&crc.to_le_bytes()).map_err(StorageError::io("write", &tmp))?;
            file.sync_all().map_err(StorageError::io("fsync", &tmp))?;
            Ok((data_offset, data_len))
        })();
        let (data_offset, data_len) = match res {
            Ok(v) => v,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        fs::rename(&tmp, &path).map_err(StorageError::io("rename", &tmp))?;
        fsutil::sync_dir(&self.dir)?;
        tracing::info!(snapshot = %path.display(), bytes = data_len, "wrote snapshot");
        Ok(SnapshotFile { index, path, meta: meta.to_vec(), data_offset, data_len })
    }

    /// The newest snapshot whose checksum verifies. Invalid ones are skipped
    /// with a warning (and left on disk for inspection). Blocking.
    pub fn newest_valid(&self) -> Result<Option<SnapshotFile>, StorageError> {
        for (index, path) in fsutil::numbered_files(&self.dir, PREFIX)?.into_iter().rev() {
            match verify(&path) {
                Ok(snap) if snap.index == index => return Ok(Some(snap)),
                Ok(snap) => tracing::warn!(
                    snapshot = %path.display(),
                    header_index = snap.index,
                    "skipping snapshot: its header does not match its name"
                ),
                Err(e) => tracing::warn!(snapshot = %path.display(), error = %e, "skipping invalid snapshot"),
            }
        }
        Ok(None)
    }

    /// A reader over the state bytes of a verified snapshot.
    pub fn open_data(&self, snap: &SnapshotFile) -> Result<impl Read + Send, StorageError> {
        let mut f = File::open(&snap.path).map_err(StorageError::io("open", &snap.path))?;
        f.seek(SeekFrom::Start(snap.data_offset)).map_err(StorageError::io("seek", &snap.path))?;
        Ok(BufReader::with_capacity(IO_BUF_BYTES, f).take(snap.data_len))
    }

    /// A fresh temporary path for a snapshot being received from a peer.
    pub fn receive_path(&self) -> PathBuf {
        self.tmp_path("recv")
    }

    /// Remembers a temporary file a snapshot is being received into.
    pub(crate) fn received(&self, path: PathBuf) {
        self.receiving.lock().push(path);
    }

    /// Removes the temporary files of received snapshots (one was installed).
    pub(crate) fn forget_received(&self) {
        for path in self.receiving.lock().drain(..) {
            let _ = fs::remove_file(path);
        }
    }

    /// Installs a complete snapshot file image read from `src` (as produced
    /// by [`SnapshotStore::write`], e.g. streamed from a leader): copies it to
    /// a temporary file, fsyncs, verifies it, and renames it into place.
    pub fn install(&self, src: &mut dyn Read) -> Result<SnapshotFile, StorageError> {
        self.check_open()?;
        let tmp = self.tmp_path("install");
        let res = (|| {
            let mut file =
                OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(StorageError::io("create", &tmp))?;
            let mut w = BufWriter::with_capacity(IO_BUF_BYTES, &mut file);
            io::copy(src, &mut w).map_err(StorageError::io("copy snapshot into", &tmp))?;
            w.flush().map_err(StorageError::io("write", &tmp))?;
            drop(w);
            file.sync_all().map_err(StorageError::io("fsync", &tmp))?;
            verify(&tmp)
        })();
        let snap = match res {
            Ok(s) => s,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let path = self.path_of(snap.index);
        fs::rename(&tmp, &path).map_err(StorageError::io("rename", &tmp))?;
        fsutil::sync_dir(&self.dir)?;
        tracing::info!(snapshot = %path.display(), "installed snapshot");
        Ok(SnapshotFile { path, ..snap })
    }

    /// Deletes all but the `keep` newest snapshot files, never `protect`.
    /// Returns the indexes left, oldest first. Blocking.
    pub fn retain(&self, keep: usize, protect: Option<u64>) -> Result<Vec<u64>, StorageError> {
        self.check_open()?;
        let files = fsutil::numbered_files(&self.dir, PREFIX)?;
        let cut = files.len().saturating_sub(keep);
        let mut left = Vec::new();
        let mut removed = false;
        for (i, (index, path)) in files.into_iter().enumerate() {
            if i >= cut || Some(index) == protect {
                left.push(index);
                continue;
            }
            tracing::info!(snapshot = %path.display(), "removing old snapshot");
            fs::remove_file(&path).map_err(StorageError::io("remove", &path))?;
            removed = true;
        }
        if removed {
            fsutil::sync_dir(&self.dir)?;
        }
        Ok(left)
    }

    fn path_of(&self, index: u64) -> PathBuf {
        self.dir.join(format!("{PREFIX}{index:020}"))
    }

    fn tmp_path(&self, what: &str) -> PathBuf {
        let seq = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("{PREFIX}{what}.{}.{seq}{TMP_SUFFIX}", std::process::id()))
    }
}

fn header_bytes(index: u64, meta: &[u8]) -> Result<Vec<u8>, StorageError> {
    if meta.len() as u64 > META_BYTES_MAX {
        return Err(StorageError::Invalid(format!("snapshot metadata of {} bytes", meta.len())));
    }
    let mut h = Vec::with_capacity(FIXED_HEADER_BYTES as usize + meta.len());
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&SNAPSHOT_FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&index.to_le_bytes());
    h.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    h.extend_from_slice(meta);
    Ok(h)
}

/// Reads the whole file, checking the header and the checksum. Blocking.
pub fn verify(path: &Path) -> Result<SnapshotFile, StorageError> {
    let file = File::open(path).map_err(StorageError::io("open", path))?;
    let len = file.metadata().map_err(StorageError::io("stat", path))?.len();
    if len < FIXED_HEADER_BYTES + TRAILER_BYTES {
        return Err(StorageError::corrupt(path, 0, format!("{len} bytes is too short for a snapshot")));
    }
    let mut r = BufReader::with_capacity(IO_BUF_BYTES, file);
    let mut hasher = crc32fast::Hasher::new();
    let mut fixed = [0u8; FIXED_HEADER_BYTES as usize];
    r.read_exact(&mut fixed).map_err(StorageError::io("read", path))?;
    hasher.update(&fixed);
    if &fixed[..8] != MAGIC {
        return Err(StorageError::corrupt(path, 0, "not a corral snapshot (bad magic)"));
    }
    let le_u32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let version = le_u32(&fixed[8..12]);
    if version != SNAPSHOT_FORMAT_VERSION {
        return Err(StorageError::corrupt(path, 8, format!("unsupported snapshot format version {version}")));
    }
    let mut index_bytes = [0u8; 8];
    index_bytes.copy_from_slice(&fixed[12..20]);
    let index = u64::from_le_bytes(index_bytes);
    let meta_len = u64::from(le_u32(&fixed[20..24]));
    if meta_len > META_BYTES_MAX || FIXED_HEADER_BYTES + meta_len + TRAILER_BYTES > len {
        return Err(StorageError::corrupt(path, 20, format!("metadata length {meta_len} out of range")));
    }
    let mut meta = vec![0u8; meta_len as usize];
    r.read_exact(&mut meta).map_err(StorageError::io("read", path))?;
    hasher.update(&meta);
    let data_offset = FIXED_HEADER_BYTES + meta_len;
    let data_len = len - data_offset - TRAILER_BYTES;
    let mut hw = HashSink(&mut hasher);
    let copied = io::copy(&mut (&mut r).take(data_len), &mut hw).map_err(StorageError::io("read", path))?;
    if copied != data_len {
        return Err(StorageError::corrupt(path, data_offset + copied, "file shorter than its length"));
    }
    let mut stored = [0u8; 4];
    r.read_exact(&mut stored).map_err(StorageError::io("read", path))?;
    let (stored, computed) = (u32::from_le_bytes(stored), hasher.finalize());
    if stored != computed {
        return Err(StorageError::corrupt(
            path,
            len - TRAILER_BYTES,
            format!("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"),
        ));
    }
    Ok(SnapshotFile { index, path: path.to_path_buf(), meta, data_offset, data_len })
}

/// Counts and checksums what passes through it.
struct CrcWriter<W: Write> {
    inner: W,
    hasher: crc32fast::Hasher,
    bytes: u64,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that only feeds a checksum.
struct HashSink<'a>(&'a mut crc32fast::Hasher);

impl Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(bytes: Vec<u8>) -> SnapshotJob {
        Box::new(move |w: &mut dyn Write| w.write_all(&bytes))
    }

    fn read_data(store: &SnapshotStore, snap: &SnapshotFile) -> Vec<u8> {
        let mut out = Vec::new();
        store.open_data(snap).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn write_then_load_newest() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        assert_eq!(store.newest_valid().unwrap(), None);
        store.write(10, b"meta10", job(b"state at 10".to_vec())).unwrap();
        let s20 = store.write(20, b"meta20", job(vec![7u8; 3 << 20])).unwrap();
        let got = store.newest_valid().unwrap().unwrap();
        assert_eq!(got, s20);
        assert_eq!(got.meta, b"meta20");
        assert_eq!(read_data(&store, &got), vec![7u8; 3 << 20]);
        assert_eq!(store.indexes().unwrap(), vec![10, 20]);
    }

    #[test]
    fn corrupt_newest_falls_back_to_older() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        store.write(5, b"m5", job(b"five".to_vec())).unwrap();
        let s9 = store.write(9, b"m9", job(b"nine nine nine".to_vec())).unwrap();
        // Flip one byte of the state.
        let mut bytes = fs::read(&s9.path).unwrap();
        bytes[s9.data_offset as usize + 2] ^= 0x10;
        fs::write(&s9.path, &bytes).unwrap();
        assert!(matches!(verify(&s9.path), Err(StorageError::Corrupt { .. })));
        let got = store.newest_valid().unwrap().unwrap();
        assert_eq!(got.index, 5);
        assert_eq!(read_data(&store, &got), b"five");
        // A truncated file is skipped too.
        fs::write(&s9.path, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(store.newest_valid().unwrap().unwrap().index, 5);
    }

    #[test]
    fn failed_job_leaves_nothing_and_tmp_files_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let failing: SnapshotJob = Box::new(|w: &mut dyn Write| {
            w.write_all(b"partial")?;
            Err(io::Error::other("boom"))
        });
        assert!(store.write(3, b"m", failing).is_err());
        assert_eq!(store.indexes().unwrap(), Vec::<u64>::new());
        fs::write(dir.path().join("snapshot.00000000000000000004.x.tmp"), b"junk").unwrap();
        drop(store);
        let _store = SnapshotStore::open(dir.path()).unwrap();
        assert!(!dir.path().join("snapshot.00000000000000000004.x.tmp").exists());
    }

    #[test]
    fn retain_keeps_newest_and_protected() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        for i in [1, 2, 3, 4, 5] {
            store.write(i, b"m", job(vec![i as u8])).unwrap();
        }
        assert_eq!(store.retain(3, None).unwrap(), vec![3, 4, 5]);
        assert_eq!(store.indexes().unwrap(), vec![3, 4, 5]);
        assert_eq!(store.retain(1, Some(3)).unwrap(), vec![3, 5]);
        assert_eq!(store.indexes().unwrap(), vec![3, 5]);
    }

    #[test]
    fn install_copies_a_file_image_and_rejects_damage() {
        let src_dir = tempfile::tempdir().unwrap();
        let dst_dir = tempfile::tempdir().unwrap();
        let src = SnapshotStore::open(src_dir.path()).unwrap();
        let dst = SnapshotStore::open(dst_dir.path()).unwrap();
        let s = src.write(42, b"meta", job(b"the state".to_vec())).unwrap();
        let image = fs::read(&s.path).unwrap();
        let got = dst.install(&mut image.as_slice()).unwrap();
        assert_eq!(got.index, 42);
        assert_eq!(read_data(&dst, &got), b"the state");
        let mut damaged = image.clone();
        damaged[30] ^= 1;
        assert!(dst.install(&mut damaged.as_slice()).is_err());
        assert_eq!(dst.indexes().unwrap(), vec![42]);
    }

    #[test]
    fn a_directory_is_locked_while_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        assert!(matches!(SnapshotStore::open(dir.path()), Err(StorageError::Locked { .. })));
        store.close();
        assert!(matches!(store.write(1, b"m", job(vec![1])), Err(StorageError::Closed)));
        SnapshotStore::open(dir.path()).unwrap();
    }
}
