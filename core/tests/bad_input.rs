//! Bad input gets a clear answer and loses nothing: oversize, garbage,
//! truncated and malformed frames, unknown opcodes, bad paths and bad ACLs.
//! After each, the server is still up and other clients are unaffected.

mod common;

use common::{create, Raw};
use corral::proto::{Acl, Code, Id, Request, RequestHeader, Writer};

/// Another client keeps working, and the data written before is intact.
fn assert_healthy(addr: std::net::SocketAddr) {
    let mut c = Raw::session(addr);
    let (h, _) = c.call(4, &Request::GetData { path: "/keep".into(), watch: false });
    assert_eq!(h.err, 0, "the data written before the bad input is still there");
}

async fn server_with_data() -> common::TestServer {
    let srv = common::start().await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        let mut c = Raw::session(addr);
        assert_eq!(c.call(1, &create("/keep", 0)).0.err, 0);
    })
    .await
    .unwrap();
    srv
}

fn frame(xid: i32, op: i32, body: &[u8]) -> Vec<u8> {
    let mut w = Writer::frame();
    RequestHeader { xid, op }.encode(&mut w);
    w.raw(body);
    w.finish_frame()
}

#[tokio::test(flavor = "multi_thread")]
async fn oversize_frame_closes_only_that_connection() {
    let srv = server_with_data().await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        let mut bystander = Raw::session(addr);
        let mut c = Raw::session(addr);
        // 1 048 576 > jute.maxbuffer (1 048 575): dropped without a reply.
        c.send_raw(&0x0010_0000u32.to_be_bytes());
        c.send_raw(&[0u8; 64]);
        assert!(c.closed(), "oversize frame must close the connection");
        // A negative length too.
        let mut c = Raw::session(addr);
        c.send_raw(&(-5i32).to_be_bytes());
        assert!(c.closed());
        assert_eq!(bystander.call(3, &Request::Exists { path: "/keep".into(), watch: false }).0.err, 0);
        assert_healthy(addr);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn configured_maxbuffer_is_enforced() {
    let srv = common::start_with(|c| c.jute_maxbuffer_bytes = 1024).await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        let mut c = Raw::session(addr);
        let mut req = create("/big", 0);
        if let Request::Create(cr) = &mut req {
            cr.data = Some(vec![7u8; 2000]);
        }
        let mut w = Writer::frame();
        RequestHeader { xid: 1, op: 1 }.encode(&mut w);
        req.encode(1, &mut w);
        c.send_raw(&w.finish_frame());
        assert!(c.closed(), "a frame over the configured jute.maxbuffer must close the connection");
        let mut c = Raw::session(addr);
        assert_eq!(c.call(1, &create("/small", 0)).0.err, 0);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_and_truncated_frames() {
    let srv = server_with_data().await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        // Garbage instead of a ConnectRequest: a small length and junk.
        let mut c = Raw::connect_tcp(addr);
        c.send_raw(&[0, 0, 0, 3, 0xde, 0xad, 0xbf]);
        assert!(c.closed(), "a first frame that is not a ConnectRequest closes the connection");
        // A ping as the first frame.
        let mut c = Raw::connect_tcp(addr);
        c.send_raw(&frame(-2, 11, &[]));
        assert!(c.closed());
        // A frame cut short, then the client goes away.
        let mut c = Raw::session(addr);
        let full = frame(5, 4, &[0, 0, 0, 5, b'/', b'k']);
        c.send_raw(&full[..7]);
        drop(c);
        // A frame too short to hold a request header.
        let mut c = Raw::session(addr);
        c.send_raw(&[0, 0, 0, 2, 0, 1]);
        assert!(c.closed());
        // Random bytes on an established session.
        let mut c = Raw::session(addr);
        let junk: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        c.send_raw(&junk);
        // Whatever it parses as, the server either answers or closes; it must not die.
        let _ = c.read_frame();
        assert_healthy(addr);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_body_gets_marshalling_error_and_connection_stays() {
    let srv = server_with_data().await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        let mut c = Raw::session(addr);
        // getData whose path claims 100 bytes but carries 3.
        c.send_raw(&frame(7, 4, &[0, 0, 0, 100, b'/', b'a', b'b']));
        match c.read_frame() {
            common::Frame::Reply(h, _) => {
                assert_eq!(h.xid, 7);
                assert_eq!(h.err, Code::MarshallingError.as_i32());
            }
            other => panic!("expected a MarshallingError reply, got {other:?}"),
        }
        // A write with a broken body also answers -5 (and consumes a zxid).
        c.send_raw(&frame(8, 5, &[0, 0, 0, 5, b'/', b'k']));
        match c.read_frame() {
            common::Frame::Reply(h, _) => assert_eq!(h.err, Code::MarshallingError.as_i32()),
            other => panic!("expected a MarshallingError reply, got {other:?}"),
        }
        // The connection is still usable.
        c.xid = 100;
        assert_eq!(c.call(3, &Request::Exists { path: "/keep".into(), watch: false }).0.err, 0);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_opcode_is_unimplemented_then_closed() {
    let srv = server_with_data().await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        for op in [99, 13, 0, -10, 1000] {
            let mut c = Raw::session(addr);
            c.send_raw(&frame(1, op, &[]));
            match c.read_frame() {
                common::Frame::Reply(h, _) => {
                    assert_eq!((h.xid, h.zxid, h.err), (1, -1, Code::Unimplemented.as_i32()), "op {op}");
                }
                other => panic!("op {op}: expected Unimplemented, got {other:?}"),
            }
            assert!(c.closed(), "op {op}: the connection must close after Unimplemented");
        }
        assert_healthy(addr);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_paths_get_zookeepers_codes() {
    let srv = server_with_data().await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        let mut c = Raw::session(addr);
        let cases: &[(&str, Code)] = &[
            ("/keep/", Code::BadArguments),
            ("/keep/.", Code::BadArguments),
            ("/keep/..", Code::BadArguments),
            ("/keep/./x", Code::NoNode),
            ("/keep//x", Code::NoNode),
            ("/keep/a\u{1}b", Code::BadArguments),
            ("/keep/a\0b", Code::BadArguments),
            ("/keep/\u{1F600}", Code::BadArguments),
            ("/keep/\u{E000}", Code::BadArguments),
            ("noslash", Code::BadArguments),
            ("/missing/child", Code::NoNode),
        ];
        for (path, want) in cases {
            let (h, _) = c.call(1, &create(path, 0));
            assert_eq!(h.err, want.as_i32(), "create {path:?}");
        }
        assert_eq!(c.call(1, &create("/keep/é", 0)).0.err, 0);
        for p in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
            let (h, _) = c.call(2, &Request::Delete { path: p.into(), version: -1 });
            assert_eq!(h.err, Code::BadArguments.as_i32(), "delete {p}");
        }
        // Reads do not validate: a bad path simply does not exist.
        assert_eq!(c.call(4, &Request::GetData { path: "/keep/".into(), watch: false }).0.err, Code::NoNode.as_i32());
        assert_eq!(
            c.call(3, &Request::Exists { path: "/a\0".into(), watch: false }).0.err,
            Code::BadArguments.as_i32()
        );
        // Bad create flags.
        assert_eq!(c.call(1, &create("/flags", 7)).0.err, Code::BadArguments.as_i32());
        assert_healthy(addr);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_acls_are_invalid_acl() {
    let srv = server_with_data().await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        let mut c = Raw::session(addr);
        let bad: Vec<Vec<Acl>> = vec![
            vec![],
            vec![Acl { perms: 31, id: Id::new("world", "foo") }],
            vec![Acl { perms: 31, id: Id::new("digest", "nocolon") }],
            vec![Acl { perms: 31, id: Id::new("ip", "notanip") }],
            vec![Acl { perms: 31, id: Id::new("ip", "10.0.0.0/99") }],
            vec![Acl { perms: 31, id: Id::new("nosuch", "x") }],
            vec![Acl { perms: 31, id: Id::new("auth", "") }],
        ];
        for acl in bad {
            let req = Request::Create(corral::proto::CreateRequest {
                path: "/acl".into(),
                data: None,
                acl: acl.clone(),
                flags: 0,
                ttl_ms: None,
            });
            assert_eq!(c.call(1, &req).0.err, Code::InvalidAcl.as_i32(), "create with {acl:?}");
            let set = Request::SetAcl { path: "/keep".into(), acl: Some(acl.clone()), version: -1 };
            assert_eq!(c.call(7, &set).0.err, Code::InvalidAcl.as_i32(), "setACL {acl:?}");
        }
        let set = Request::SetAcl { path: "/keep".into(), acl: None, version: -1 };
        assert_eq!(c.call(7, &set).0.err, Code::InvalidAcl.as_i32(), "setACL with a null vector");
        // Unknown auth scheme: AuthFailed, then closed.
        let mut a = Raw::session(addr);
        let mut w = Writer::frame();
        RequestHeader { xid: -4, op: 100 }.encode(&mut w);
        Request::Auth { auth_type: 0, scheme: "nosuch".into(), auth: b"x".to_vec() }.encode(100, &mut w);
        a.send_raw(&w.finish_frame());
        match a.read_frame() {
            common::Frame::Reply(h, _) => assert_eq!((h.xid, h.zxid, h.err), (-4, 0, Code::AuthFailed.as_i32())),
            other => panic!("expected AuthFailed, got {other:?}"),
        }
        assert!(a.closed());
        assert_healthy(addr);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn per_address_connection_limit() {
    let srv = common::start_with(|c| c.connections_per_address_max = 3).await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        let held: Vec<Raw> = (0..3).map(|_| Raw::session(addr)).collect();
        let mut extra = Raw::connect_tcp(addr);
        assert!(extra.closed(), "a fourth connection from one address is refused");
        drop(held);
        // Once the others are gone, new connections are accepted again.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let mut c = Raw::connect_tcp(addr);
            let mut w = Writer::frame();
            corral::proto::ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: 0,
                timeout_ms: 10_000,
                session_id: 0,
                passwd: None,
                read_only: None,
            }
            .encode(&mut w);
            c.send_raw(&w.finish_frame());
            if c.read_payload().is_some() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "connections never accepted again");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn ttl_nodes_switched_off_are_unimplemented() {
    let srv = common::start_with(|c| c.extended_types_enabled = false).await;
    let addr = srv.addr;
    tokio::task::spawn_blocking(move || {
        let mut c = Raw::session(addr);
        let ttl = Request::Create(corral::proto::CreateRequest {
            path: "/ttl".into(),
            data: Some(b"x".to_vec()),
            acl: Acl::open_unsafe(),
            flags: 5,
            ttl_ms: Some(1000),
        });
        let (before, _) = c.call(3, &Request::Exists { path: "/".into(), watch: false });
        let (h, _) = c.call(21, &ttl);
        assert_eq!(h.err, Code::Unimplemented.as_i32());
        assert_eq!(h.zxid, before.zxid + 1, "a refused write consumes one zxid, as in ZooKeeper");
        assert_eq!(c.call(3, &Request::Exists { path: "/ttl".into(), watch: false }).0.err, Code::NoNode.as_i32());
        // Other node kinds are unaffected.
        assert_eq!(c.call(1, &create("/plain", 0)).0.err, 0);
    })
    .await
    .unwrap();
}
