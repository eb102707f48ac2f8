//! The host half of the guest's session protocol (`guests/python/src/session.rs`, which calls
//! the Python in `guests/python/driver/codefuel_driver.py`).
//!
//! A request is one op byte and its data; a response is one status byte and its data. Values
//! travel as blobs (`V` + typed value, see [`crate::value`]; `P` + pickle from trusted ground
//! truth only), each framed with a `u32` little-endian length. Every response from an untrusted
//! session is parsed strictly by its caller: a malformed one is the code's fault.

use anyhow::{Result, bail};
use codefuel_runtime::{Lease, Limits, Sandbox, Session};

/// What one worker thread keeps across its work items (splits, problems): its pool slot, and
/// a trusted session opened when first needed. The trusted session never runs code under
/// test and is stateless between calls, so one serves all the worker's items.
pub struct Worker<'s> {
    lease: Lease<'s>,
    trusted: Option<Session<'s>>,
}

impl<'s> Worker<'s> {
    /// A worker's state: a lease on one of `sandbox`'s slots (waits for a free one).
    pub fn new(sandbox: &'s Sandbox) -> Self {
        Worker {
            lease: sandbox.lease(),
            trusted: None,
        }
    }

    /// The worker's pool slot, for the untrusted sessions of its items.
    pub fn lease(&self) -> &Lease<'s> {
        &self.lease
    }

    /// The worker's trusted session, (re)opened when it has none or the last one ended.
    pub fn trusted(&mut self) -> Result<&mut Session<'s>> {
        if self.trusted.as_ref().is_none_or(|s| !s.is_alive()) {
            self.trusted = None;
            self.trusted = Some(trusted_session(&self.lease)?);
        }
        Ok(self.trusted.as_mut().expect("opened above"))
    }

    /// Drops the worker's trusted session (the next [`trusted`](Self::trusted) opens a fresh
    /// one), giving back the memory a call made it grow.
    pub fn end_trusted(&mut self) {
        self.trusted = None;
    }
}

/// How much a trusted session may grow in one template evaluation before the worker drops it
/// ([`Worker::end_trusted`]): 16 MiB, far above what applying a template to decoded values
/// needs, and a wasm memory never shrinks.
pub const TEMPLATE_GROWTH_KEPT: u64 = 16 << 20;

/// Fuel of one call of a trusted session (trusted code, charged to no sample): 2 T, about
/// ten times the dearest canonical solution's split (MBPP+'s largest is ~0.2 T).
pub const TRUSTED_FUEL: u64 = 2_000_000_000_000;

/// Wall-clock backstop of a trusted session: 30 min, far above any trusted call (fuel ends a
/// runaway one first).
pub const TRUSTED_BACKSTOP: std::time::Duration = std::time::Duration::from_secs(1800);

/// Limits of a trusted session (ground truth, judging, planning): all the memory a guest can
/// address and [`TRUSTED_BACKSTOP`]; fuel is given per call ([`TRUSTED_FUEL`]).
pub fn trusted_limits() -> Limits {
    Limits::default()
        .with_memory_bytes(codefuel_runtime::MAX_MEMORY_BYTES)
        .with_timeout(TRUSTED_BACKSTOP)
}

/// Opens a trusted session (ground truth, judging, planning): it loads no code under test.
pub fn trusted_session<'s>(lease: &Lease<'s>) -> Result<Session<'s>> {
    let mut session = lease.session(&trusted_limits())?;
    let load = session.call(br#"L{"mode": "trusted", "code": ""}"#, TRUSTED_FUEL);
    match load.result {
        Ok(response) if response == b"O" => Ok(session),
        other => bail!("a trusted session did not start: {other:?}"),
    }
}

/// One call of a trusted session that must succeed: its data (after the status byte) and fuel.
pub fn trusted_call(
    session: &mut Session<'_>,
    request: &[u8],
    fuel: u64,
) -> Result<(Vec<u8>, u64)> {
    let answer = session.call(request, fuel);
    match answer.result {
        Ok(response) => match response.split_first() {
            Some((b'R' | b'O', data)) => Ok((data.to_vec(), answer.fuel)),
            _ => bail!("{}", String::from_utf8_lossy(&response)),
        },
        Err(verdict) => bail!("the trusted session ended: {verdict:?}"),
    }
}

/// Appends `bytes` with its `u32` little-endian length in front.
pub fn put_blob(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("a blob under 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Splits one length-framed blob off the front of `data`; `None` when it is truncated.
pub fn take_blob<'d>(data: &mut &'d [u8]) -> Option<&'d [u8]> {
    let len = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let blob = data.get(4..4 + len)?;
    *data = &data[4 + len..];
    Some(blob)
}

/// Splits a `u32` count off the front of `data`, then that many blobs; `None` when the data
/// is truncated or longer.
pub fn take_blobs(mut data: &[u8]) -> Option<(Vec<&[u8]>, &[u8])> {
    let count = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    data = &data[4..];
    let mut blobs = Vec::with_capacity(count.min(data.len() / 4));
    for _ in 0..count {
        blobs.push(take_blob(&mut data)?);
    }
    Some((blobs, data))
}

/// The exception class in a session's `E` response (`ModuleNotFoundError:numpy` →
/// `ModuleNotFoundError`; the guest adds the missing module's name after a colon).
pub fn exception_type(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.split_once(':') {
        Some((type_name, _)) => type_name.to_owned(),
        None => name.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_framing_round_trips_and_refuses_truncation() {
        let mut out = 2u32.to_le_bytes().to_vec();
        put_blob(&mut out, b"ab");
        put_blob(&mut out, b"");
        out.extend_from_slice(b"tail");
        let (blobs, rest) = take_blobs(&out).unwrap();
        assert_eq!(blobs, vec![b"ab".as_slice(), b""]);
        assert_eq!(rest, b"tail");
        assert!(take_blobs(&out[..7]).is_none());
        let mut short: &[u8] = &[9, 0, 0, 0, 1];
        assert!(take_blob(&mut short).is_none());
        assert!(take_blobs(&[255, 255, 255, 255]).is_none());
    }
}
