//! A hostile "Ottu" on loopback for the sync tests: answers every request with what the
//! test's function says (any status, headers and body, or silence), and logs each request
//! it read (path, Tracking-Key, body). It proves the client and the worker against exactly
//! the bad answer, which the sandbox (a faithful Ottu) never gives.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub tracking_key: Option<String>,
    pub body: serde_json::Value,
}

/// What to do with one request.
pub enum Act {
    /// Status line (e.g. `"302 Found"`), headers, body; then close.
    Answer(&'static str, Vec<(String, String)>, String),
    /// Say nothing and keep the connection open until the client goes.
    Hang,
}

pub fn json(status: &'static str, body: serde_json::Value) -> Act {
    Act::Answer(
        status,
        vec![("Content-Type".into(), "application/json".into())],
        body.to_string(),
    )
}

pub fn text(status: &'static str, content_type: &str, body: &str) -> Act {
    Act::Answer(
        status,
        vec![("Content-Type".into(), content_type.into())],
        body.to_string(),
    )
}

type Responder = dyn Fn(&Seen) -> Act + Send + Sync;

pub struct Hostile {
    pub base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    respond: Arc<Mutex<Arc<Responder>>>,
}

impl Hostile {
    pub fn start(respond: impl Fn(&Seen) -> Act + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Mutex<Arc<Responder>>> = Arc::new(Mutex::new(Arc::new(respond)));
        let (log, script) = (Arc::clone(&seen), Arc::clone(&respond));
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, script) = (Arc::clone(&log), Arc::clone(&script));
                thread::spawn(move || serve(stream, &log, &script));
            }
        });
        Hostile {
            base_url,
            seen,
            respond,
        }
    }

    /// Answers differently from now on.
    pub fn set(&self, respond: impl Fn(&Seen) -> Act + Send + Sync + 'static) {
        *self.respond.lock().unwrap() = Arc::new(respond);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (polling, with a deadline) until `n` requests have been read.
    pub fn wait_for(&self, n: usize, deadline: Duration) -> Vec<Seen> {
        let until = Instant::now() + deadline;
        loop {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                Instant::now() < until,
                "only {} of {n} requests came",
                seen.len()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One request per connection (every answer says `Connection: close`).
fn serve(mut stream: TcpStream, log: &Mutex<Vec<Seen>>, script: &Mutex<Arc<Responder>>) {
    let Some(seen) = read_request(&mut stream) else {
        return;
    };
    log.lock().unwrap().push(seen.clone());
    let respond = Arc::clone(&script.lock().unwrap());
    match respond(&seen) {
        Act::Answer(status, headers, body) => {
            let mut out = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = stream.write_all(out.as_bytes());
        }
        Act::Hang => {
            // Read until the client closes: the connection stays open, unanswered.
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        }
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let mut length = 0;
    let mut tracking_key = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "tracking-key" => tracking_key = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body = serde_json::from_slice(&data[head_end..head_end + length])
        .unwrap_or(serde_json::Value::Null);
    Some(Seen {
        method,
        path,
        tracking_key,
        body,
    })
}
