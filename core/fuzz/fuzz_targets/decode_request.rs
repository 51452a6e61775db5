//! One client frame payload (after the 4-byte length prefix), decoded as the
//! server does: RequestHeader, then the body with the server's field limit.
//! A body that decodes must re-encode to bytes that decode to the same value.
#![no_main]

use corral::proto::{Reader, Request, RequestHeader, Writer};
use libfuzzer_sys::fuzz_target;

/// The server's field bound: 2 × jute.maxbuffer (default 1,048,575).
const LIMIT: usize = 2 * 1_048_575;

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::with_limit(data, LIMIT);
    let Ok(h) = RequestHeader::decode(&mut r) else { return };
    let Ok(first) = Request::decode(h.op, &mut r) else { return };

    let mut w = Writer::new();
    h.encode(&mut w);
    first.encode(h.op, &mut w);
    let bytes = w.into_inner();

    let mut r2 = Reader::with_limit(&bytes, LIMIT);
    let h2 = RequestHeader::decode(&mut r2).expect("re-encoded header decodes");
    assert_eq!(h2, h);
    let second = Request::decode(h.op, &mut r2).expect("re-encoded request decodes");
    assert_eq!(second, first, "decode(encode(decode(x))) != decode(x) for op {}", h.op);
    assert_eq!(r2.remaining(), 0, "re-encoded request not fully consumed (op {})", h.op);
});
