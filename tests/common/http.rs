//! A static HTTP server on 127.0.0.1 for the tests: serves the files it was given,
//! 404 for the rest, and counts the requests. Real sockets, real HTTP/1.1.
#![allow(dead_code, clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type Headers = Arc<Mutex<BTreeMap<String, Vec<(String, String)>>>>;

pub struct Server {
    pub base: String,
    pub requests: Arc<AtomicUsize>,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    headers: Headers,
}

impl Server {
    pub fn start(files: BTreeMap<String, Vec<u8>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let files = Arc::new(Mutex::new(files));
        let requests = Arc::new(AtomicUsize::new(0));
        let headers: Headers = Arc::new(Mutex::new(BTreeMap::new()));
        let (f, r, h) = (files.clone(), requests.clone(), headers.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                r.fetch_add(1, Ordering::SeqCst);
                let head_only = first.starts_with("HEAD ");
                let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
                let body = f.lock().unwrap().get(&path).cloned();
                let extra: String = h
                    .lock()
                    .unwrap()
                    .get(&path)
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k}: {v}\r\n"))
                    .collect();
                let _ = match body {
                    Some(body) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
                            body.len()
                        );
                        stream.write_all(head.as_bytes()).and_then(|_| {
                            if head_only {
                                Ok(())
                            } else {
                                stream.write_all(&body)
                            }
                        })
                    }
                    None => stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
            }
        });
        Server {
            base,
            requests,
            files,
            headers,
        }
    }

    pub fn set(&self, path: &str, body: Vec<u8>) {
        self.files.lock().unwrap().insert(path.to_string(), body);
    }

    /// Extra response headers for `path` (`X-Linked-Etag`, as Hugging Face sends).
    pub fn set_headers(&self, path: &str, headers: &[(&str, &str)]) {
        self.headers.lock().unwrap().insert(
            path.to_string(),
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    }

    /// Serve a model file as Hugging Face does: its sha256 in `X-Linked-Etag`.
    pub fn set_model(&self, path: &str, body: Vec<u8>) {
        let etag = format!("\"{}\"", super::sha256_hex(&body));
        self.set_headers(path, &[("X-Linked-Etag", &etag)]);
        self.set(path, body);
    }

    pub fn remove(&self, path: &str) {
        self.files.lock().unwrap().remove(path);
    }
}
