//! Capped in-memory output capture for the guest's stdout and stderr.
//!
//! Unlike wasmtime-wasi's `MemoryOutputPipe`, writes past the cap succeed from the guest's
//! point of view: the bytes are dropped and the pipe remembers it truncated, so a chatty
//! but correct program is not turned into a crash.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{OutputStream, StreamResult};

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

/// A cloneable handle on one captured output stream.
#[derive(Clone)]
pub(crate) struct CappedPipe {
    cap: usize,
    inner: Arc<Mutex<Captured>>,
}

impl CappedPipe {
    pub(crate) fn new(cap: usize) -> Self {
        CappedPipe {
            cap,
            inner: Arc::default(),
        }
    }

    fn push(&self, data: &[u8]) {
        let mut captured = self.inner.lock().unwrap();
        let room = self.cap.saturating_sub(captured.bytes.len());
        if data.len() > room {
            captured.truncated = true;
        }
        captured
            .bytes
            .extend_from_slice(&data[..data.len().min(room)]);
    }

    /// The captured bytes and whether anything was dropped.
    pub(crate) fn take(&self) -> (Vec<u8>, bool) {
        let mut captured = self.inner.lock().unwrap();
        (std::mem::take(&mut captured.bytes), captured.truncated)
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always accept a full chunk: overflow is dropped in `push`.
        Ok(1 << 20)
    }
}

#[async_trait::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CappedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_prefix_and_flags_truncation() {
        let pipe = CappedPipe::new(5);
        pipe.push(b"abc");
        pipe.push(b"defg");
        assert_eq!(pipe.take(), (b"abcde".to_vec(), true));
    }

    #[test]
    fn exact_fit_is_not_truncated() {
        let pipe = CappedPipe::new(3);
        pipe.push(b"abc");
        assert_eq!(pipe.take(), (b"abc".to_vec(), false));
    }
}
