//! A counting TCP proxy between the clients and a server: every byte both ways, and the round trips.
//!
//! Both systems are measured through it in the same way, so "bytes on the wire" means TCP payload
//! (HTTP upgrade, WebSocket framing and all) and the comparison is fair whatever each side's own
//! counters would say. A round trip is a burst from the client followed by the server's answer:
//! counted, per connection, each time data flows client → server after flowing server → client
//! (or first).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct Counters {
    up: AtomicU64,
    down: AtomicU64,
    round_trips: AtomicU64,
    connections: AtomicU64,
}

/// What went through the proxy since it started or since the last [`Proxy::reset`].
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Traffic {
    /// Client → server bytes.
    pub bytes_up: u64,
    /// Server → client bytes.
    pub bytes_down: u64,
    pub round_trips: u64,
    pub connections: u64,
}

impl Traffic {
    pub fn bytes(&self) -> u64 {
        self.bytes_up + self.bytes_down
    }
}

pub struct Proxy {
    address: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on `127.0.0.1:0` and forwards every connection to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let shared = counters.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counters = shared.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        counters.connections.fetch_add(1, Ordering::Relaxed);
                        relay(client, server, counters).await;
                    }
                });
            }
        });
        Ok(Proxy { address, counters, task })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn traffic(&self) -> Traffic {
        Traffic {
            bytes_up: self.counters.up.load(Ordering::Relaxed),
            bytes_down: self.counters.down.load(Ordering::Relaxed),
            round_trips: self.counters.round_trips.load(Ordering::Relaxed),
            connections: self.counters.connections.load(Ordering::Relaxed),
        }
    }

    /// Starts counting afresh (connections already open keep being relayed).
    pub fn reset(&self) {
        self.counters.up.store(0, Ordering::Relaxed);
        self.counters.down.store(0, Ordering::Relaxed);
        self.counters.round_trips.store(0, Ordering::Relaxed);
        self.counters.connections.store(0, Ordering::Relaxed);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const NONE: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

async fn relay(client: TcpStream, server: TcpStream, counters: Arc<Counters>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let last = Arc::new(AtomicU8::new(NONE));
    let up = pump(client_read, server_write, counters.clone(), last.clone(), UP);
    let down = pump(server_read, client_write, counters, last, DOWN);
    let _ = tokio::join!(up, down);
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counters: Arc<Counters>,
    last: Arc<AtomicU8>,
    direction: u8,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if direction == UP {
            counters.up.fetch_add(n as u64, Ordering::Relaxed);
            if last.swap(UP, Ordering::Relaxed) != UP {
                counters.round_trips.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            counters.down.fetch_add(n as u64, Ordering::Relaxed);
            last.store(DOWN, Ordering::Relaxed);
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_bytes_and_round_trips() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = echo.accept().await.unwrap();
            let mut buffer = [0u8; 16];
            loop {
                let n = socket.read(&mut buffer).await.unwrap();
                if n == 0 {
                    break;
                }
                socket.write_all(&buffer[..n]).await.unwrap();
            }
        });
        let proxy = Proxy::start(target).await.unwrap();
        let mut client = TcpStream::connect(proxy.address()).await.unwrap();
        for message in [&b"hello"[..], b"world!"] {
            client.write_all(message).await.unwrap();
            let mut answer = vec![0u8; message.len()];
            client.read_exact(&mut answer).await.unwrap();
            assert_eq!(answer, message);
        }
        drop(client);
        let traffic = proxy.traffic();
        assert_eq!(traffic, Traffic { bytes_up: 11, bytes_down: 11, round_trips: 2, connections: 1 });
        proxy.reset();
        assert_eq!(proxy.traffic().bytes(), 0);
    }
}
