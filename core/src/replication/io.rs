//! What a [`super::Replica`] does its I/O with, as parameters: the log
//! storage, the snapshot storage, the peer network and how blocking work
//! runs. A server wires the write-ahead log, the snapshot files, TCP and
//! blocking threads ([`ReplicaIo::on_disk`]); the deterministic simulation
//! wires an in-memory disk that tears writes and fails, an in-memory network
//! that delays, drops and partitions, and runs everything on one thread.
//!
//! Time is tokio's clock everywhere in this layer (the simulation pauses it)
//! and consensus draws its random numbers from [`seed_consensus_rng`]'s
//! generator.

use std::future::Future;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use super::{open_when_unlocked, ReplicaOptions, ReplicationError};
use crate::storage::wal::SEGMENT_BYTES_DEFAULT;
use crate::storage::{FlushDone, LogBounds, SnapshotFile, SnapshotJob, SnapshotStore, StorageError, Wal, WalOptions};

/// A boxed, sendable future (what the I/O traits return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The durable log of one node: opaque entry bytes by index, the vote and
/// the purge point (see [`Wal`], the production implementation, for the
/// exact contract of each call).
pub trait LogDisk: Send + Sync + 'static {
    /// The live range and the purge point.
    fn bounds(&self) -> LogBounds;
    /// The last saved vote.
    fn vote(&self) -> Option<Vec<u8>>;
    /// Live entries in `range`, in index order.
    fn read(&self, range: Range<u64>) -> Result<Vec<(u64, Vec<u8>)>, StorageError>;
    /// Queues entries: readable when the future resolves, durable when `done` is called.
    fn append(&self, entries: Vec<(u64, Vec<u8>)>, done: FlushDone) -> BoxFuture<'_, Result<(), StorageError>>;
    /// Removes entries from `since` on; durable on return.
    fn truncate(&self, since: u64) -> BoxFuture<'_, Result<(), StorageError>>;
    /// Removes entries up to `upto`, recording `marker` as the purge point; durable on return.
    fn purge(&self, upto: u64, marker: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>>;
    /// Saves the vote; durable on return.
    fn save_vote(&self, vote: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>>;
    /// Makes everything durable and releases the log; later writes fail.
    fn close(&self) -> BoxFuture<'_, Result<(), StorageError>>;
    /// Bytes the log takes on disk.
    fn disk_bytes(&self) -> u64;
}

impl LogDisk for Wal {
    fn bounds(&self) -> LogBounds {
        Wal::bounds(self)
    }

    fn vote(&self) -> Option<Vec<u8>> {
        Wal::vote(self)
    }

    fn read(&self, range: Range<u64>) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        Wal::read(self, range)
    }

    fn append(&self, entries: Vec<(u64, Vec<u8>)>, done: FlushDone) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(Wal::append(self, entries, done))
    }

    fn truncate(&self, since: u64) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(Wal::truncate(self, since))
    }

    fn purge(&self, upto: u64, marker: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(Wal::purge(self, upto, marker))
    }

    fn save_vote(&self, vote: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(Wal::save_vote(self, vote))
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(Wal::close(self))
    }

    fn disk_bytes(&self) -> u64 {
        Wal::disk_bytes(self)
    }
}

/// The snapshots of one node (see [`SnapshotStore`], the production
/// implementation). Every call may block; the replica runs them through
/// [`Blocking`].
pub trait SnapshotDisk: Send + Sync + 'static {
    /// The newest snapshot that verifies, if any.
    fn newest_valid(&self) -> Result<Option<SnapshotFile>, StorageError>;
    /// The state bytes of a verified snapshot.
    fn open_data(&self, snap: &SnapshotFile) -> Result<Box<dyn Read + Send>, StorageError>;
    /// Writes a snapshot of the state `job` serializes; complete and durable on return.
    fn write(&self, index: u64, meta: &[u8], job: SnapshotJob) -> Result<SnapshotFile, StorageError>;
    /// A fresh, empty place for a snapshot image streamed from the leader.
    fn begin_receive(&self) -> Result<SnapshotData, StorageError>;
    /// Installs a complete image read from `src` (as [`SnapshotDisk::open_image`]
    /// gives it); verified and durable on return. Places handed out by
    /// [`SnapshotDisk::begin_receive`] are released.
    fn install(&self, src: &mut dyn Read) -> Result<SnapshotFile, StorageError>;
    /// The complete image of a snapshot, to stream to a member far behind.
    fn open_image(&self, snap: &SnapshotFile) -> Result<SnapshotData, StorageError>;
    /// Deletes all but the `keep` newest snapshots, never `protect`; the
    /// indexes left, oldest first.
    fn retain(&self, keep: usize, protect: Option<u64>) -> Result<Vec<u64>, StorageError>;
    /// Releases the store; later writes fail.
    fn close(&self);
    /// Bytes the snapshots take on disk.
    fn disk_bytes(&self) -> u64;
}

impl SnapshotDisk for SnapshotStore {
    fn newest_valid(&self) -> Result<Option<SnapshotFile>, StorageError> {
        SnapshotStore::newest_valid(self)
    }

    fn open_data(&self, snap: &SnapshotFile) -> Result<Box<dyn Read + Send>, StorageError> {
        Ok(Box::new(SnapshotStore::open_data(self, snap)?))
    }

    fn write(&self, index: u64, meta: &[u8], job: SnapshotJob) -> Result<SnapshotFile, StorageError> {
        SnapshotStore::write(self, index, meta, job)
    }

    fn begin_receive(&self) -> Result<SnapshotData, StorageError> {
        let path = self.receive_path();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(StorageError::io("create", &path))?;
        self.received(path);
        Ok(SnapshotData::file(tokio::fs::File::from_std(file)))
    }

    fn install(&self, src: &mut dyn Read) -> Result<SnapshotFile, StorageError> {
        let installed = SnapshotStore::install(self, src)?;
        self.forget_received();
        Ok(installed)
    }

    fn open_image(&self, snap: &SnapshotFile) -> Result<SnapshotData, StorageError> {
        let file = std::fs::File::open(&snap.path).map_err(StorageError::io("open", &snap.path))?;
        Ok(SnapshotData::file(tokio::fs::File::from_std(file)))
    }

    fn retain(&self, keep: usize, protect: Option<u64>) -> Result<Vec<u64>, StorageError> {
        SnapshotStore::retain(self, keep, protect)
    }

    fn close(&self) {
        SnapshotStore::close(self)
    }

    fn disk_bytes(&self) -> u64 {
        SnapshotStore::disk_bytes(self)
    }
}

/// A snapshot image in transit between members: a file on a server, bytes
/// in memory in the simulation.
pub struct SnapshotData(Data);

enum Data {
    File(tokio::fs::File),
    Memory(io::Cursor<Vec<u8>>),
}

impl SnapshotData {
    /// An image in a file.
    pub fn file(file: tokio::fs::File) -> SnapshotData {
        SnapshotData(Data::File(file))
    }

    /// An image in memory.
    pub fn memory(bytes: Vec<u8>) -> SnapshotData {
        SnapshotData(Data::Memory(io::Cursor::new(bytes)))
    }

    /// Everything written, read from the start (flushed first).
    pub async fn into_reader(self) -> io::Result<Box<dyn Read + Send>> {
        use tokio::io::AsyncWriteExt;
        match self.0 {
            Data::File(mut f) => {
                f.flush().await?;
                let mut f = f.into_std().await;
                io::Seek::seek(&mut f, io::SeekFrom::Start(0))?;
                Ok(Box::new(f))
            }
            Data::Memory(c) => Ok(Box::new(io::Cursor::new(c.into_inner()))),
        }
    }
}

impl AsyncRead for SnapshotData {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Data::File(f) => Pin::new(f).poll_read(cx, buf),
            Data::Memory(c) => Pin::new(c).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for SnapshotData {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.0 {
            Data::File(f) => Pin::new(f).poll_write(cx, buf),
            Data::Memory(c) => Pin::new(c).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Data::File(f) => Pin::new(f).poll_flush(cx),
            Data::Memory(c) => Pin::new(c).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Data::File(f) => Pin::new(f).poll_shutdown(cx),
            Data::Memory(c) => Pin::new(c).poll_shutdown(cx),
        }
    }
}

impl AsyncSeek for SnapshotData {
    fn start_seek(mut self: Pin<&mut Self>, position: io::SeekFrom) -> io::Result<()> {
        match &mut self.0 {
            Data::File(f) => Pin::new(f).start_seek(position),
            Data::Memory(c) => Pin::new(c).start_seek(position),
        }
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        match &mut self.0 {
            Data::File(f) => Pin::new(f).poll_complete(cx),
            Data::Memory(c) => Pin::new(c).poll_complete(cx),
        }
    }
}

/// A byte stream between two members (a TCP connection on a server).
pub trait PeerStream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> PeerStream for T {}

/// Accepts the connections of other members.
pub trait PeerListener: Send + 'static {
    /// The next connection and who it comes from (for logs).
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(Box<dyn PeerStream>, String)>>;
}

/// How members reach each other.
pub trait PeerNetwork: Send + Sync + 'static {
    /// Connects to a member's peer address (`host:port`, as configured).
    fn connect(&self, addr: &str) -> BoxFuture<'_, io::Result<Box<dyn PeerStream>>>;
    /// Listens for members on `addr`.
    fn listen(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn PeerListener>>>;
}

/// Members over TCP.
#[derive(Debug, Default, Clone, Copy)]
pub struct TcpNetwork;

impl PeerNetwork for TcpNetwork {
    fn connect(&self, addr: &str) -> BoxFuture<'_, io::Result<Box<dyn PeerStream>>> {
        let addr = addr.to_string();
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream) as Box<dyn PeerStream>)
        })
    }

    fn listen(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn PeerListener>>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            Ok(Box::new(listener) as Box<dyn PeerListener>)
        })
    }
}

impl PeerListener for tokio::net::TcpListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(Box<dyn PeerStream>, String)>> {
        Box::pin(async move {
            let (stream, peer) = tokio::net::TcpListener::accept(self).await?;
            let _ = stream.set_nodelay(true);
            Ok((Box::new(stream) as Box<dyn PeerStream>, peer.to_string()))
        })
    }
}

/// Where blocking work (restoring and writing snapshots, purging) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocking {
    /// On tokio's blocking threads, off the async workers (a server).
    Threads,
    /// In place, on the calling task (the simulation: one thread, one order).
    Inline,
}

impl Blocking {
    /// Runs `f` where this says.
    pub(crate) async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce() -> Result<T, ReplicationError> + Send + 'static,
    ) -> Result<T, ReplicationError> {
        match self {
            Blocking::Inline => f(),
            Blocking::Threads => tokio::task::spawn_blocking(f)
                .await
                .map_err(|e| ReplicationError::Raft(format!("blocking task failed: {e}")))?,
        }
    }
}

/// Everything a replica does its I/O with.
#[derive(Clone)]
pub struct ReplicaIo {
    /// The log.
    pub log: Arc<dyn LogDisk>,
    /// The snapshots.
    pub snapshots: Arc<dyn SnapshotDisk>,
    /// The other members (unused by a standalone node).
    pub network: Arc<dyn PeerNetwork>,
    /// Where blocking work runs.
    pub blocking: Blocking,
}

impl ReplicaIo {
    /// A server's: the write-ahead log in `opts.log_dir`, the snapshots in
    /// `opts.data_dir` (each waited for up to `opts.lock_wait` while another
    /// process holds it), TCP, blocking threads.
    pub async fn on_disk(opts: &ReplicaOptions) -> Result<ReplicaIo, ReplicationError> {
        Self::on_disk_with(opts, SEGMENT_BYTES_DEFAULT).await
    }

    /// [`ReplicaIo::on_disk`] with a chosen log segment size.
    pub(crate) async fn on_disk_with(
        opts: &ReplicaOptions,
        segment_bytes_max: u64,
    ) -> Result<ReplicaIo, ReplicationError> {
        let blocking = Blocking::Threads;
        let wal_opts = WalOptions { dir: opts.log_dir.clone(), segment_bytes_max };
        let wait = opts.lock_wait;
        let wal = blocking.run(move || Ok(open_when_unlocked(wait, || Wal::open(wal_opts.clone()))?)).await?;
        let wal = Arc::new(wal);
        let data_dir: PathBuf = opts.data_dir.clone();
        let snapshots =
            match blocking.run(move || Ok(open_when_unlocked(wait, || SnapshotStore::open(data_dir.clone()))?)).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = wal.close().await;
                    return Err(e);
                }
            };
        Ok(ReplicaIo { log: wal, snapshots: Arc::new(snapshots), network: Arc::new(TcpNetwork), blocking })
    }

    /// Releases the log and the snapshots (after a failed open).
    pub(crate) async fn close(&self) {
        let _ = self.log.close().await;
        self.snapshots.close();
    }
}
