//! The host half of the guest's session protocol (`guests/python/src/session.rs`, which calls
//! the Python in `guests/python/driver/codefuel_driver.py`).
//!
//! A request is one op byte and its data; a response is one status byte and its data. Values
//! travel as blobs (`V` + typed value, see [`crate::value`]; `P` + pickle from trusted ground
//! truth only), each framed with a `u32` little-endian length. Every response from an untrusted
//! session is parsed strictly by its caller: a malformed one is the code's fault.

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
