//! The first client frame payload (after the length prefix), decoded as the
//! server does. A ConnectRequest that decodes must re-encode to bytes that
//! decode to the same value.
#![no_main]

use corral::proto::{ConnectRequest, Reader, Writer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(first) = ConnectRequest::decode(&mut Reader::new(data)) else { return };

    let mut w = Writer::new();
    first.encode(&mut w);
    let bytes = w.into_inner();

    let mut r2 = Reader::new(&bytes);
    let second = ConnectRequest::decode(&mut r2).expect("re-encoded connect request decodes");
    assert_eq!(second, first);
    assert_eq!(r2.remaining(), 0, "re-encoded connect request not fully consumed");
});
