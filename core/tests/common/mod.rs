//! A raw-protocol test client and an in-process server on a free loopback
//! port with a temporary data directory.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use corral::proto::{
    ConnectRequest, ConnectResponse, Reader, ReplyHeader, Request, RequestHeader, Response, WatcherEvent, Writer,
};
use corral::server::{Config, Server};

/// A server on 127.0.0.1 with an ephemeral port and its own data directory.
pub struct TestServer {
    pub server: Server,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

pub async fn start_with(edit: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.client_port = 0;
    config.client_port_address = "127.0.0.1".parse().unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.set_data_log_dir(dir.path());
    edit(&mut config);
    let server = Server::start(config).await.expect("server starts");
    let addr = server.local_addr();
    TestServer { server, addr, dir }
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

/// A blocking raw client: one frame at a time, as the wire carries it.
pub struct Raw {
    pub s: TcpStream,
    pub xid: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
}

/// What the server sent back.
#[derive(Debug)]
pub enum Frame {
    Reply(ReplyHeader, Vec<u8>),
    Event(WatcherEvent),
    Eof,
}

impl Raw {
    pub fn connect_tcp(addr: SocketAddr) -> Raw {
        let s = TcpStream::connect(addr).expect("tcp connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw { s, xid: 0, session_id: 0, passwd: vec![] }
    }

    /// Opens a session.
    pub fn session(addr: SocketAddr) -> Raw {
        let mut c = Raw::connect_tcp(addr);
        let mut w = Writer::frame();
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms: 30_000,
            session_id: 0,
            passwd: Some(vec![0; 16]),
            read_only: Some(false),
        }
        .encode(&mut w);
        c.send_raw(&w.finish_frame());
        let payload = c.read_payload().expect("connect response");
        let resp = ConnectResponse::decode(&mut Reader::new(&payload)).expect("decode connect response");
        assert!(resp.timeout_ms > 0);
        c.session_id = resp.session_id;
        c.passwd = resp.passwd;
        c
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).expect("write");
    }

    /// Reads one frame's payload; `None` on EOF or reset.
    pub fn read_payload(&mut self) -> Option<Vec<u8>> {
        let mut len = [0u8; 4];
        self.s.read_exact(&mut len).ok()?;
        let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
        self.s.read_exact(&mut payload).ok()?;
        Some(payload)
    }

    pub fn read_frame(&mut self) -> Frame {
        match self.read_payload() {
            None => Frame::Eof,
            Some(p) => {
                let mut r = Reader::new(&p);
                let h = ReplyHeader::decode(&mut r).expect("reply header");
                if h.xid == -1 {
                    Frame::Event(WatcherEvent::decode(&mut r).expect("event"))
                } else {
                    Frame::Reply(h, r.rest().to_vec())
                }
            }
        }
    }

    /// Sends a request and returns the header and decoded body of its reply
    /// (notifications that come first are skipped).
    pub fn call(&mut self, op: i32, req: &Request) -> (ReplyHeader, Option<Response>) {
        self.xid += 1;
        let xid = self.xid;
        let mut w = Writer::frame();
        RequestHeader { xid, op }.encode(&mut w);
        req.encode(op, &mut w);
        self.send_raw(&w.finish_frame());
        loop {
            match self.read_frame() {
                Frame::Reply(h, body) => {
                    assert_eq!(h.xid, xid, "reply out of order");
                    let resp = (h.err == 0).then(|| Response::decode(op, &mut Reader::new(&body)).expect("body"));
                    return (h, resp);
                }
                Frame::Event(_) => continue,
                Frame::Eof => panic!("connection closed while waiting for xid {xid}"),
            }
        }
    }

    /// True if the server closes the connection (EOF or reset), reading and
    /// discarding frames it sends first; false if it stays silent for 5 s.
    pub fn closed(&mut self) -> bool {
        use std::io::ErrorKind::*;
        self.s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match self.s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => return false,
                Err(_) => return true,
            }
        }
    }
}

pub fn create(path: &str, flags: i32) -> Request {
    Request::Create(corral::proto::CreateRequest {
        path: path.into(),
        data: Some(b"x".to_vec()),
        acl: corral::proto::Acl::open_unsafe(),
        flags,
        ttl_ms: None,
    })
}
