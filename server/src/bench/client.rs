//! A blocking raw-protocol client for the benchmark: one session on one TCP
//! connection, synchronous calls, and pipelined creates with a bounded number
//! of requests in flight. Every reply's xid and error code are checked. The
//! session (id, password, last zxid seen) can be resumed on another server.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc::{self, TrySendError};
use std::time::{Duration, Instant};

use corral::proto::{
    xid, Acl, Code, ConnectRequest, ConnectResponse, CreateRequest, OpCode, Reader, ReplyHeader, Request,
    RequestHeader, Response, Writer,
};

use super::{Context, Error, Result};

/// Largest reply frame accepted (replies here are small; this bounds a bad length).
const FRAME_MAX: usize = 16 << 20;
/// Session timeout requested, in ms.
const SESSION_TIMEOUT_MS: i32 = 30_000;

/// What a client needs to resume its session on another server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The session id the server assigned.
    pub id: i64,
    /// The session password the server assigned.
    pub passwd: Vec<u8>,
    /// The highest zxid seen in a reply: a server behind it refuses the session.
    pub last_zxid: i64,
}

/// One session with a server.
pub struct Client {
    stream: TcpStream,
    addr: SocketAddr,
    xid: i32,
    session: Session,
}

impl Client {
    /// Connects and opens a new session; `timeout` bounds the connect and
    /// every later read or write.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<Client> {
        let new = Session { id: 0, passwd: vec![0; 16], last_zxid: 0 };
        Client::handshake(addr, timeout, &new)?.ok_or_else(|| Error::msg(format!("{addr} refused a new session")))
    }

    /// Connects and resumes `session` (as a client moving to another server
    /// does). `Ok(None)` when the server answers that the session expired.
    pub fn resume(addr: SocketAddr, timeout: Duration, session: &Session) -> Result<Option<Client>> {
        Client::handshake(addr, timeout, session)
    }

    /// The session handshake: a new session when `session.id` is 0.
    fn handshake(addr: SocketAddr, timeout: Duration, session: &Session) -> Result<Option<Client>> {
        let stream = TcpStream::connect_timeout(&addr, timeout).with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true).with_context(|| format!("setting TCP_NODELAY on {addr}"))?;
        let mut client = Client { stream, addr, xid: 0, session: session.clone() };
        client.set_timeout(timeout)?;
        let mut w = Writer::frame();
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: session.last_zxid,
            timeout_ms: SESSION_TIMEOUT_MS,
            session_id: session.id,
            passwd: Some(session.passwd.clone()),
            read_only: Some(false),
        }
        .encode(&mut w);
        client.stream.write_all(&w.finish_frame()).with_context(|| format!("sending the handshake to {addr}"))?;
        let payload =
            read_frame(&mut client.stream).with_context(|| format!("reading the handshake reply from {addr}"))?;
        let reply = ConnectResponse::decode(&mut Reader::new(&payload))
            .with_context(|| format!("decoding the handshake reply from {addr}"))?;
        if reply.timeout_ms <= 0 || reply.session_id == 0 {
            if session.id != 0 {
                return Ok(None);
            }
            return Err(Error::msg(format!("{addr} refused the session (timeout {} ms)", reply.timeout_ms)));
        }
        client.session.id = reply.session_id;
        client.session.passwd = reply.passwd;
        Ok(Some(client))
    }

    /// Bounds every later read and write on the connection.
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<()> {
        let addr = self.addr;
        self.stream.set_read_timeout(Some(timeout)).with_context(|| format!("setting a read timeout on {addr}"))?;
        self.stream.set_write_timeout(Some(timeout)).with_context(|| format!("setting a write timeout on {addr}"))
    }

    /// The session, to resume it elsewhere.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The server this client is connected to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the session (closeSession) and the connection.
    pub fn close(mut self) -> Result<()> {
        self.call(OpCode::CloseSession, &Request::Empty, "")?;
        Ok(())
    }

    /// Sends one request and waits for its reply; returns the body of a
    /// successful reply, fails on any error code.
    fn call(&mut self, op: OpCode, request: &Request, path: &str) -> Result<Vec<u8>> {
        let (err, body) = self.call_raw(op, request, path)?;
        if err != 0 {
            return Err(Error::msg(format!("{op:?} {path} failed: {}", code_name(err))));
        }
        Ok(body)
    }

    /// Sends one request and waits for its reply; returns the reply's error
    /// code (0 for success) and body. Fails only if the exchange does.
    fn call_raw(&mut self, op: OpCode, request: &Request, path: &str) -> Result<(i32, Vec<u8>)> {
        self.xid += 1;
        let xid = self.xid;
        self.stream
            .write_all(&encode(xid, op, request))
            .with_context(|| format!("sending {op:?} {path} to {}", self.addr))?;
        loop {
            let payload = read_frame(&mut self.stream)
                .with_context(|| format!("reading the reply to {op:?} {path} from {}", self.addr))?;
            let mut r = Reader::new(&payload);
            let header =
                ReplyHeader::decode(&mut r).with_context(|| format!("decoding a reply header from {}", self.addr))?;
            if header.zxid > 0 {
                self.session.last_zxid = self.session.last_zxid.max(header.zxid);
            }
            if header.xid == xid::NOTIFICATION || header.xid == xid::PING {
                continue;
            }
            if header.xid != xid {
                return Err(Error::msg(format!("{}: reply xid {} while waiting for {xid}", self.addr, header.xid)));
            }
            return Ok((header.err, r.rest().to_vec()));
        }
    }

    /// Creates a persistent znode.
    pub fn create(&mut self, path: &str, data: &[u8]) -> Result<()> {
        self.call(OpCode::Create, &create_request(path.to_owned(), data.to_vec()), path)?;
        Ok(())
    }

    /// Creates a persistent znode; returns the server's result code (0 for
    /// success) instead of failing on a non-zero one.
    pub fn try_create(&mut self, path: &str, data: &[u8]) -> Result<i32> {
        let (err, _) = self.call_raw(OpCode::Create, &create_request(path.to_owned(), data.to_vec()), path)?;
        Ok(err)
    }

    /// Reads a znode's data (no watch); a null buffer reads as empty.
    pub fn get_data(&mut self, path: &str) -> Result<Vec<u8>> {
        let request = Request::GetData { path: path.to_owned(), watch: false };
        let body = self.call(OpCode::GetData, &request, path)?;
        match Response::decode(OpCode::GetData as i32, &mut Reader::new(&body)) {
            Ok(Response::GetData { data, .. }) => Ok(data.unwrap_or_default()),
            Ok(other) => Err(Error::msg(format!("getData {path}: unexpected reply {other:?}"))),
            Err(e) => Err(Error::msg(format!("getData {path}: cannot decode the reply: {e}"))),
        }
    }

    /// Creates `count` persistent znodes `path_of(i)` with data `data_of(i)`,
    /// keeping up to `window` requests in flight; every reply must succeed.
    /// Returns the time from the first request sent to the last reply read.
    pub fn create_pipelined(
        &mut self,
        count: u32,
        window: u32,
        path_of: &dyn Fn(u32) -> String,
        data_of: &dyn Fn(u32) -> Vec<u8>,
    ) -> Result<Duration> {
        let first_xid = self.xid + 1;
        let addr = self.addr;
        let reader_stream = self.stream.try_clone().with_context(|| format!("cloning the socket to {addr}"))?;
        // One token per request sent and not yet answered: the channel's
        // capacity is the window.
        let (tokens, answered) = mpsc::sync_channel::<()>(window.max(1) as usize);
        let started = Instant::now();
        let reader = std::thread::Builder::new()
            .name("bench-replies".into())
            .spawn(move || -> Result<(u32, i64)> {
                let mut r = BufReader::with_capacity(64 * 1024, reader_stream);
                let mut last_zxid = 0;
                for i in 0..count {
                    let expected = first_xid.wrapping_add(i as i32);
                    loop {
                        let payload = read_frame(&mut r)
                            .with_context(|| format!("reading reply {} of {count} from {addr}", i + 1))?;
                        let header = ReplyHeader::decode(&mut Reader::new(&payload))
                            .with_context(|| format!("decoding a reply header from {addr}"))?;
                        last_zxid = last_zxid.max(header.zxid);
                        if header.xid == xid::NOTIFICATION || header.xid == xid::PING {
                            continue;
                        }
                        if header.xid != expected {
                            return Err(Error::msg(format!(
                                "{addr}: reply xid {} while expecting {expected}",
                                header.xid
                            )));
                        }
                        if header.err != 0 {
                            return Err(Error::msg(format!(
                                "pipelined create {} failed: {}",
                                i + 1,
                                code_name(header.err)
                            )));
                        }
                        break;
                    }
                    // Frees a slot; the token is there since the request was sent.
                    let _ = answered.recv();
                }
                Ok((count, last_zxid))
            })
            .with_context(|| "starting the reply reader thread".to_owned())?;

        let written = (|| -> Result<()> {
            let mut out = BufWriter::with_capacity(64 * 1024, &self.stream);
            for i in 0..count {
                match tokens.try_send(()) {
                    Ok(()) => {}
                    Err(TrySendError::Full(())) => {
                        // The window is full: push out what is buffered, then wait.
                        out.flush().with_context(|| format!("sending creates to {addr}"))?;
                        if tokens.send(()).is_err() {
                            return Ok(()); // the reader stopped; its error is the one to report
                        }
                    }
                    Err(TrySendError::Disconnected(())) => return Ok(()),
                }
                let request = create_request(path_of(i), data_of(i));
                out.write_all(&encode(first_xid.wrapping_add(i as i32), OpCode::Create, &request))
                    .with_context(|| format!("sending creates to {addr}"))?;
            }
            out.flush().with_context(|| format!("sending creates to {addr}"))
        })();
        drop(tokens);
        if written.is_err() {
            // Wake the reader instead of letting it wait for replies that will not come.
            let _ = self.stream.shutdown(Shutdown::Both);
        }
        let read = reader.join().map_err(|_| Error::msg("the reply reader thread panicked"))?;
        let elapsed = started.elapsed();
        self.xid = first_xid.wrapping_add(count as i32).wrapping_sub(1);
        written?;
        let (answered, last_zxid) = read?;
        self.session.last_zxid = self.session.last_zxid.max(last_zxid);
        if answered != count {
            return Err(Error::msg(format!("{addr}: {answered} replies to {count} creates")));
        }
        Ok(elapsed)
    }
}

/// A persistent, open-ACL create.
fn create_request(path: String, data: Vec<u8>) -> Request {
    Request::Create(CreateRequest { path, data: Some(data), acl: Acl::open_unsafe(), flags: 0, ttl_ms: None })
}

/// A request as a length-prefixed frame.
fn encode(xid: i32, op: OpCode, request: &Request) -> Vec<u8> {
    let mut w = Writer::frame();
    RequestHeader { xid, op: op as i32 }.encode(&mut w);
    request.encode(op as i32, &mut w);
    w.finish_frame()
}

/// Reads one length-prefixed frame's payload.
fn read_frame(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    let len = usize::try_from(len)
        .ok()
        .filter(|&n| n <= FRAME_MAX)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad frame length {len}")))?;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(payload)
}

/// A result code's ZooKeeper name and number.
pub fn code_name(err: i32) -> String {
    match Code::from_i32(err) {
        Some(code) => format!("{} ({err})", code.name()),
        None => format!("error {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_lengths_fail() {
        let frame = encode(7, OpCode::GetData, &Request::GetData { path: "/a".into(), watch: false });
        let payload = read_frame(&mut &frame[..]).expect("frame");
        let mut r = Reader::new(&payload);
        assert_eq!(RequestHeader::decode(&mut r).expect("header"), RequestHeader { xid: 7, op: 4 });
        assert!(read_frame(&mut &(-1i32).to_be_bytes()[..]).is_err());
        assert!(read_frame(&mut &[0u8, 0][..]).is_err());
    }

    #[test]
    fn codes_are_named() {
        assert_eq!(code_name(-110), "NodeExists (-110)");
        assert_eq!(code_name(-12345), "error -12345");
    }
}
