//! Write-ahead log tests on real files in temporary directories, with real fsyncs.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio::sync::oneshot;

use super::*;

fn opts(dir: &Path, segment_bytes_max: u64) -> WalOptions {
    WalOptions { dir: dir.to_path_buf(), segment_bytes_max }
}

fn body(index: u64, salt: &str) -> Vec<u8> {
    format!("entry-{index}-{salt}-{}", "x".repeat((index % 50) as usize)).into_bytes()
}

/// Appends and waits until durable.
async fn append_durable(wal: &Wal, entries: Vec<(u64, Vec<u8>)>) {
    let (tx, rx) = oneshot::channel();
    wal.append(entries, Box::new(move |r| drop(tx.send(r)))).await.unwrap();
    rx.await.unwrap().unwrap();
}

async fn fill(wal: &Wal, range: Range<u64>, salt: &str) {
    let entries: Vec<_> = range.map(|i| (i, body(i, salt))).collect();
    for chunk in entries.chunks(100) {
        append_durable(wal, chunk.to_vec()).await;
    }
}

fn check(wal: &Wal, range: Range<u64>, salt: &str) {
    let got = wal.read(range.clone()).unwrap();
    assert_eq!(got.len() as u64, range.end - range.start);
    for (i, (index, bytes)) in range.zip(got) {
        assert_eq!(index, i);
        assert_eq!(bytes, body(i, salt), "entry {i}");
    }
}

fn segments(dir: &Path) -> Vec<(u64, PathBuf)> {
    fsutil::numbered_files(dir, SEGMENT_PREFIX).unwrap()
}

fn open(dir: &Path, seg: u64) -> Wal {
    Wal::open(opts(dir, seg)).unwrap()
}

fn open_err(dir: &Path) -> StorageError {
    match Wal::open(opts(dir, SEGMENT_BYTES_MIN)) {
        Ok(_) => panic!("open should fail"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn append_read_and_reopen_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    fill(&wal, 0..600, "a").await;
    check(&wal, 0..600, "a");
    assert!(segments(dir.path()).len() > 5, "small segments roll over");
    assert_eq!(wal.read(590..700).unwrap().len(), 10, "reads clip to the live range");
    wal.close().await.unwrap();
    assert!(matches!(wal.append(vec![(600, b"x".to_vec())], Box::new(|_| {})).await, Err(StorageError::Closed)));

    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.bounds(), LogBounds { first: 0, next: 600, purged: None });
    check(&wal, 0..600, "a");
    fill(&wal, 600..650, "a").await;
    check(&wal, 0..650, "a");
}

#[tokio::test]
async fn appends_must_not_leave_a_hole() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    fill(&wal, 5..8, "a").await;
    let err = wal.append(vec![(9, b"x".to_vec())], Box::new(|_| {})).await.unwrap_err();
    assert!(matches!(err, StorageError::Invalid(_)), "{err}");
    check(&wal, 5..8, "a");
}

#[tokio::test]
async fn many_appends_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_DEFAULT);
    let appends = 500u64;
    let mut waits = Vec::new();
    for i in 0..appends {
        let (tx, rx) = oneshot::channel();
        wal.append(vec![(i, body(i, "g"))], Box::new(move |r| drop(tx.send(r)))).await.unwrap();
        waits.push(rx);
    }
    for rx in waits {
        rx.await.unwrap().unwrap();
    }
    let syncs = wal.sync_count();
    assert!(syncs >= 1 && syncs < appends / 2, "{syncs} fsyncs for {appends} appends");
    check(&wal, 0..appends, "g");
}

#[tokio::test]
async fn torn_tail_is_truncated_and_earlier_entries_survive() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    fill(&wal, 0..100, "a").await;
    wal.close().await.unwrap();
    let (_, last) = segments(dir.path()).pop().unwrap();

    // A record whose length runs past the end of the file.
    let good_len = fs::metadata(&last).unwrap().len();
    let mut f = OpenOptions::new().append(true).open(&last).unwrap();
    f.write_all(&100u32.to_le_bytes()).unwrap();
    f.write_all(&[0xAB; 4 + 10]).unwrap();
    drop(f);
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.bounds().next, 100);
    check(&wal, 0..100, "a");
    assert_eq!(fs::metadata(&last).unwrap().len(), good_len, "tail cut back");
    wal.close().await.unwrap();

    // Zeros the file system allocated but never wrote.
    let mut f = OpenOptions::new().append(true).open(&last).unwrap();
    f.write_all(&[0u8; 300]).unwrap();
    drop(f);
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    check(&wal, 0..100, "a");
    assert_eq!(fs::metadata(&last).unwrap().len(), good_len);
    wal.close().await.unwrap();

    // The last record cut short: that record is gone, the rest is intact.
    fs::write(&last, &fs::read(&last).unwrap()[..good_len as usize - 3]).unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.bounds().next, 99);
    check(&wal, 0..99, "a");
    fill(&wal, 99..120, "b").await;
    wal.close().await.unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    check(&wal, 0..99, "a");
    check(&wal, 99..120, "b");
}

#[tokio::test]
async fn damage_before_the_tail_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    fill(&wal, 0..300, "a").await;
    wal.close().await.unwrap();
    let segs = segments(dir.path());
    assert!(segs.len() >= 3);

    // A flipped byte in the middle of the newest segment, valid records after it.
    let (_, newest) = segs.last().unwrap().clone();
    let original = fs::read(&newest).unwrap();
    let mut bytes = original.clone();
    let at = SEGMENT_HEADER_BYTES as usize + record::HEADER_BYTES + 3;
    bytes[at] ^= 0x01;
    fs::write(&newest, &bytes).unwrap();
    let err = open_err(dir.path());
    match &err {
        StorageError::Corrupt { path, offset, .. } => {
            assert_eq!(path, &newest);
            assert_eq!(*offset, SEGMENT_HEADER_BYTES);
        }
        other => panic!("expected corruption, got {other}"),
    }
    assert!(err.to_string().contains(&*newest.to_string_lossy()), "{err}");
    assert_eq!(fs::read(&newest).unwrap(), bytes, "nothing is repaired");
    fs::write(&newest, &original).unwrap();

    // The last record of an older segment: not the tail of the log.
    let (_, older) = segs[0].clone();
    let mut bytes = fs::read(&older).unwrap();
    let n = bytes.len();
    bytes[n - 2] ^= 0x01;
    fs::write(&older, &bytes).unwrap();
    assert!(matches!(open_err(dir.path()), StorageError::Corrupt { path, .. } if path == older));
    bytes.truncate(n - 2);
    fs::write(&older, &bytes).unwrap();
    assert!(matches!(open_err(dir.path()), StorageError::Corrupt { path, .. } if path == older));
}

#[tokio::test]
async fn missing_segment_is_a_hole() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    fill(&wal, 0..300, "a").await;
    wal.close().await.unwrap();
    let segs = segments(dir.path());
    fs::remove_file(&segs[1].1).unwrap();
    assert!(matches!(open_err(dir.path()), StorageError::Corrupt { path, .. } if path == segs[2].1));
}

#[tokio::test]
async fn truncate_across_segments_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    fill(&wal, 0..400, "a").await;
    let segs = segments(dir.path());
    let cut = segs[2].0 + 3;
    wal.truncate(cut).await.unwrap();
    assert_eq!(wal.bounds().next, cut);
    assert_eq!(segments(dir.path()).len(), 3, "newer segments removed");
    check(&wal, 0..cut, "a");
    fill(&wal, cut..450, "b").await;
    check(&wal, cut..450, "b");

    // Truncating exactly at a segment's first index removes that segment.
    let segs = segments(dir.path());
    let at = segs[segs.len() - 2].0;
    wal.truncate(at).await.unwrap();
    assert!(segments(dir.path()).iter().all(|(first, _)| *first < at));
    fill(&wal, at..460, "c").await;
    wal.close().await.unwrap();

    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.bounds(), LogBounds { first: 0, next: 460, purged: None });
    check(&wal, 0..cut, "a");
    check(&wal, cut..at, "b");
    check(&wal, at..460, "c");
    wal.truncate(0).await.unwrap();
    assert_eq!(wal.bounds().next, 0);
    assert!(segments(dir.path()).is_empty());
}

#[tokio::test]
async fn purge_across_segments_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    fill(&wal, 0..400, "a").await;
    let before = segments(dir.path());
    let upto = before[3].0 + 5;
    wal.purge(upto, b"marker".to_vec()).await.unwrap();
    let expected = LogBounds { first: upto + 1, next: 400, purged: Some((upto, b"marker".to_vec())) };
    assert_eq!(wal.bounds(), expected);
    assert_eq!(segments(dir.path())[0].0, before[3].0, "segments wholly below are gone");
    assert!(wal.read(0..upto + 1).unwrap().is_empty());
    check(&wal, upto + 1..400, "a");
    // Purging backwards changes nothing.
    wal.purge(upto - 10, b"old".to_vec()).await.unwrap();
    assert_eq!(wal.bounds(), expected);
    wal.close().await.unwrap();

    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.bounds(), expected);
    check(&wal, upto + 1..400, "a");

    // Purging past the end empties the log; appends continue after the purge point.
    wal.purge(1000, b"far".to_vec()).await.unwrap();
    assert!(segments(dir.path()).is_empty());
    assert_eq!(wal.bounds(), LogBounds { first: 1001, next: 1001, purged: Some((1000, b"far".to_vec())) });
    assert!(wal.append(vec![(1000, b"x".to_vec())], Box::new(|_| {})).await.is_err());
    fill(&wal, 1001..1010, "z").await;
    wal.close().await.unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.bounds().first, 1001);
    check(&wal, 1001..1010, "z");
}

#[tokio::test]
async fn crash_after_saving_the_purge_point_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    fill(&wal, 0..300, "a").await;
    wal.close().await.unwrap();
    let segs = segments(dir.path());
    let upto = segs[2].0 + 1;
    let mut payload = upto.to_le_bytes().to_vec();
    payload.extend_from_slice(b"m");
    fsutil::write_checked_atomic(dir.path(), PURGED_FILE, &payload).unwrap();

    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.bounds().first, upto + 1);
    assert_eq!(segments(dir.path())[0].0, segs[2].0);
    check(&wal, upto + 1..300, "a");
}

#[tokio::test]
async fn vote_is_durable_and_the_directory_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.vote(), None);
    wal.save_vote(b"term 3".to_vec()).await.unwrap();
    wal.save_vote(b"term 4".to_vec()).await.unwrap();
    assert!(matches!(open_err(dir.path()), StorageError::Locked { .. }));
    wal.close().await.unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_MIN);
    assert_eq!(wal.vote(), Some(b"term 4".to_vec()));

    // A damaged vote file is never ignored.
    wal.close().await.unwrap();
    let vote = dir.path().join(VOTE_FILE);
    let mut bytes = fs::read(&vote).unwrap();
    bytes[9] ^= 1;
    fs::write(&vote, bytes).unwrap();
    assert!(matches!(open_err(dir.path()), StorageError::Corrupt { .. }));
}

#[tokio::test]
async fn reads_after_the_cache_is_evicted_come_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_DEFAULT);
    let big = vec![0x5Au8; 1 << 20];
    for chunk in 0..5u64 {
        let entries: Vec<_> = (chunk * 10..chunk * 10 + 10).map(|i| (i, big.clone())).collect();
        append_durable(&wal, entries).await;
    }
    assert!(wal.shared.index.read().cached_bytes <= CACHE_BYTES_MAX);
    assert!(wal.shared.index.read().locs[0].data.is_none(), "oldest entries evicted");
    let got = wal.read(0..50).unwrap();
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|(_, b)| *b == big));
}

#[tokio::test]
async fn reopening_100k_entries_is_fast() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), SEGMENT_BYTES_DEFAULT);
    let n = 100_000u64;
    let mut i = 0;
    while i < n {
        let end = (i + 5_000).min(n);
        append_durable(&wal, (i..end).map(|k| (k, vec![(k % 251) as u8; 100])).collect()).await;
        i = end;
    }
    wal.close().await.unwrap();
    let start = Instant::now();
    let wal = open(dir.path(), SEGMENT_BYTES_DEFAULT);
    let took = start.elapsed();
    assert_eq!(wal.bounds().next, n);
    let all = wal.read(0..n).unwrap();
    assert_eq!(all.len() as u64, n);
    assert!(all.iter().all(|(k, b)| *b == vec![(k % 251) as u8; 100]));
    assert!(took.as_secs() < 5, "reopen took {took:?}");
}
