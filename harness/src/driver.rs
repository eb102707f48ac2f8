//! The host half of the in-guest test driver (`guests/python/driver/codefuel_driver.py`).
//!
//! Builds the payload a driver run reads (`u32` header length, JSON header, blobs) and gives
//! typed access to the records it emits. The driver's program is always the same one line.

use anyhow::{Context, Result, bail};
use codefuel_runtime::Record;
use serde::Serialize;

/// The program of every driver run.
pub const DRIVER_PROGRAM: &str = "import codefuel_driver\ncodefuel_driver.main()\n";

/// Builds a driver payload from a JSON header and named binary blobs.
pub fn payload(header: &impl Serialize, blobs: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let mut offsets = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, bytes) in blobs {
        offsets.insert((*name).into(), serde_json::json!([offset, bytes.len()]));
        offset += bytes.len();
    }
    let mut header = serde_json::to_value(header)?;
    let Some(object) = header.as_object_mut() else {
        bail!("driver header must be a JSON object");
    };
    object.insert("blobs".into(), offsets.into());
    let header = serde_json::to_vec(&header)?;
    let mut out = Vec::with_capacity(4 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    for (_, bytes) in blobs {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// The records of one driver run, with lookups by kind.
pub struct Records<'a>(pub &'a [Record]);

impl<'a> Records<'a> {
    /// The first record of `kind`, if any.
    pub fn first(&self, kind: &str) -> Option<&'a [u8]> {
        self.0
            .iter()
            .find(|r| r.kind == kind)
            .map(|r| r.data.as_slice())
    }

    /// Every record of `kind`, in order.
    pub fn all(&self, kind: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .iter()
            .filter(move |r| r.kind == kind)
            .map(|r| r.data.as_slice())
    }

    /// The first record of `kind`, required, parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self, kind: &str) -> Result<T> {
        let data = self
            .first(kind)
            .with_context(|| format!("the driver sent no {kind:?} record"))?;
        serde_json::from_slice(data).with_context(|| format!("bad {kind:?} record"))
    }

    /// True when the driver ran to its end.
    pub fn done(&self) -> bool {
        self.first("done").is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_layout() {
        let bytes = payload(
            &serde_json::json!({"mode": "x"}),
            &[("a", b"12"), ("b", b"345")],
        )
        .unwrap();
        let len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[4..4 + len]).unwrap();
        assert_eq!(header["mode"], "x");
        assert_eq!(header["blobs"]["a"], serde_json::json!([0, 2]));
        assert_eq!(header["blobs"]["b"], serde_json::json!([2, 3]));
        assert_eq!(&bytes[4 + len..], b"12345");
    }
}
