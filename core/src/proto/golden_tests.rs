//! Replays every golden frame captured from Apache ZooKeeper 3.8 through the
//! codec: each frame must decode completely and re-encode byte for byte.

use std::collections::HashMap;
use std::path::PathBuf;

use super::*;

fn wire_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/wire")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// Decodes one client frame (without its length prefix) and re-encodes it.
fn round_trip_request(payload: &[u8], connect: bool, ops: &mut HashMap<i32, i32>) -> Option<Vec<u8>> {
    let mut r = Reader::new(payload);
    let mut w = Writer::new();
    if connect {
        let req = ConnectRequest::decode(&mut r).expect("connect request");
        req.encode(&mut w);
    } else {
        let h = RequestHeader::decode(&mut r).expect("header");
        let req = match Request::decode(h.op, &mut r) {
            Ok(req) => req,
            // The unknown-opcode vector: nothing to re-encode.
            Err(DecodeError::Invalid(_)) if OpCode::from_i32(h.op).is_none() => return None,
            Err(e) => panic!("request op {} failed to decode: {e}", h.op),
        };
        ops.insert(h.xid, h.op);
        h.encode(&mut w);
        req.encode(h.op, &mut w);
    }
    assert_eq!(r.remaining(), 0, "request not fully consumed");
    Some(w.into_inner())
}

fn round_trip_reply(payload: &[u8], connect: bool, ops: &HashMap<i32, i32>) -> Vec<u8> {
    let mut r = Reader::new(payload);
    let mut w = Writer::new();
    if connect {
        ConnectResponse::decode(&mut r).expect("connect response").encode(&mut w);
    } else {
        let h = ReplyHeader::decode(&mut r).expect("reply header");
        h.encode(&mut w);
        if h.xid == xid::NOTIFICATION {
            WatcherEvent::decode(&mut r).expect("event").encode(&mut w);
        } else if h.err == 0 {
            if let Some(&op) = ops.get(&h.xid) {
                Response::decode(op, &mut r).expect("response").encode(&mut w);
            }
        }
    }
    assert_eq!(r.remaining(), 0, "reply not fully consumed");
    w.into_inner()
}

#[test]
fn every_golden_frame_round_trips() {
    let mut files: Vec<_> = std::fs::read_dir(wire_dir())
        .expect("tests/data/wire")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "hex"))
        .collect();
    files.sort();
    assert!(files.len() >= 100, "expected the golden vectors, found {}", files.len());
    let mut frames = 0;
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let is_connect_file = text.lines().next().is_some_and(|l| l.contains("ConnectRequest"));
        let (mut first_c, mut first_s) = (true, true);
        let mut ops = HashMap::new();
        for line in text.lines() {
            let (dir, hex) = match line.split_once(' ') {
                Some((d @ ("C" | "S"), h)) if h != "EOF" => (d, h),
                _ => continue,
            };
            let frame = unhex(hex);
            let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
            if len != frame.len() - 4 {
                // The oversize vector records only a prefix of its frame.
                assert!(name.contains("oversize"), "{name}: length prefix {len} vs {}", frame.len() - 4);
                continue;
            }
            let payload = &frame[4..];
            let again = if dir == "C" {
                let connect = is_connect_file && std::mem::take(&mut first_c);
                match round_trip_request(payload, connect, &mut ops) {
                    Some(b) => b,
                    None => continue,
                }
            } else {
                let connect = is_connect_file && std::mem::take(&mut first_s);
                round_trip_reply(payload, connect, &ops)
            };
            assert_eq!(again, payload, "{name}: {dir} frame does not round-trip");
            frames += 1;
        }
    }
    assert!(frames > 200, "only {frames} frames checked");
}
