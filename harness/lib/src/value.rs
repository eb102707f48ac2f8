//! The host side of the typed value encoding (`cfv1`, written by the guest's
//! `guests/python/src/value.rs`; the format is in `docs/security.md`).
//!
//! Everything an untrusted session hands back as a value is checked here, strictly, before
//! it goes anywhere else: known tags only, lengths inside the buffer, depth and size under
//! their caps, text that is WTF-8, hashable dict keys and set elements, nothing after the
//! value. A blob that fails is the code's fault (its input's verdict says so), never a host
//! error. The walk also gives what the host needs to judge without a trusted session: whether
//! a value holds a NaN (then equal bytes do not mean `==`), evalplus's `is_floats`, and Python
//! truthiness.

use std::fmt;

/// Deepest nesting accepted (the guest encodes no deeper).
pub const MAX_DEPTH: usize = 256;

/// Default cap on one encoded output of code under test: 64 MiB, or twice the expected
/// output's size when that is larger (evalplus's largest expected outputs are a few MB).
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 64 << 20;

/// The kind byte of a blob holding an encoded value.
pub const BLOB_VALUE: u8 = b'V';
/// The kind byte of a blob holding a pickle (trusted ground truth only, for the few types
/// outside the encoding).
pub const BLOB_PICKLE: u8 = b'P';

/// Why a blob was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed encoded value: {}", self.0)
    }
}

impl std::error::Error for Malformed {}

/// What the host learns from a valid value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Some float or complex part inside is a NaN (NaN != NaN, so equal bytes are not `==`).
    pub has_nan: bool,
    /// evalplus `is_floats`: a float, or a non-empty list/tuple of floats only.
    pub is_floats: bool,
    /// Python's `bool(value)`.
    pub truthy: bool,
    /// Made of None, int, str, bytes, list and tuple only: for two such values, `==` is
    /// equality of their (canonical) encodings. (No bool, which equals 1 and 0; no float or
    /// complex, which equal ints; no set or dict, whose order may differ.)
    pub plain: bool,
}

/// Checks a blob: a `V` value always; a `P` pickle only when `allow_pickle` (trusted data).
/// A pickle's summary is conservative: it is never equal by bytes.
pub fn check_blob(blob: &[u8], allow_pickle: bool) -> Result<Summary, Malformed> {
    match blob.split_first() {
        Some((&BLOB_VALUE, value)) => check(value),
        Some((&BLOB_PICKLE, _)) if allow_pickle => Ok(Summary {
            has_nan: true,
            is_floats: false,
            truthy: true,
            plain: false,
        }),
        Some((&BLOB_PICKLE, _)) => Err(Malformed("a pickle from untrusted code".into())),
        Some((kind, _)) => Err(Malformed(format!("unknown blob kind {kind:#04x}"))),
        None => Err(Malformed("empty blob".into())),
    }
}

/// Checks one encoded value that fills `bytes` exactly.
pub fn check(bytes: &[u8]) -> Result<Summary, Malformed> {
    let mut walker = Walker {
        data: bytes,
        has_nan: false,
        strings: Vec::new(),
    };
    let top = walker.value(0)?;
    if !walker.data.is_empty() {
        return Err(Malformed(format!(
            "{} bytes after the value",
            walker.data.len()
        )));
    }
    Ok(Summary {
        has_nan: walker.has_nan,
        is_floats: top.is_floats,
        truthy: top.truthy,
        plain: top.plain,
    })
}

/// Whether two blobs certainly hold `==` values: the same bytes and no NaN. (Different bytes
/// may still be equal: `1 == 1.0`, sets in another order; a trusted session decides those.)
pub fn identical(a: &[u8], b: &[u8], b_summary: &Summary) -> bool {
    a == b && a.first() == Some(&BLOB_VALUE) && !b_summary.has_nan
}

/// Whether two blobs certainly hold values that are not `==`: both [`Summary::plain`] and
/// different bytes. An honest guest encodes equal plain values to equal bytes (ints and
/// strings canonically, the string table by value); a dishonest one can only make its own
/// equal value look unequal, never an unequal one look equal.
pub fn plainly_different(a: &[u8], a_summary: &Summary, b: &[u8], b_summary: &Summary) -> bool {
    a_summary.plain && b_summary.plain && a != b
}

/// Facts about one walked value.
struct Node {
    hashable: bool,
    is_float: bool,
    is_floats: bool,
    truthy: bool,
    plain: bool,
}

impl Node {
    /// None, an int, a str or bytes.
    fn scalar(truthy: bool) -> Self {
        Node {
            hashable: true,
            is_float: false,
            is_floats: false,
            truthy,
            plain: true,
        }
    }

    /// A bool, float or complex: equal to values of other types.
    fn numeric(truthy: bool, is_float: bool) -> Self {
        Node {
            is_float,
            is_floats: is_float,
            plain: false,
            ..Node::scalar(truthy)
        }
    }
}

struct Walker<'d> {
    data: &'d [u8],
    has_nan: bool,
    /// The string table, as the truthiness of each string (`r` refers back to it).
    strings: Vec<bool>,
}

/// Strings of at most this many bytes join the string table (the guest's `SHORT_STR`).
const SHORT_STR: usize = 256;

impl<'d> Walker<'d> {
    fn take(&mut self, n: usize) -> Result<&'d [u8], Malformed> {
        if self.data.len() < n {
            return Err(Malformed("truncated".into()));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn varint(&mut self) -> Result<u64, Malformed> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(Malformed("an overlong varint".into()))
    }

    fn f64(&mut self) -> Result<f64, Malformed> {
        let b = self.take(8)?;
        let mut bits = [0u8; 8];
        bits.copy_from_slice(b);
        let x = f64::from_bits(u64::from_le_bytes(bits));
        self.has_nan |= x.is_nan();
        Ok(x)
    }

    /// A length or count of items, each at least one byte long.
    fn count(&mut self) -> Result<usize, Malformed> {
        let n = self.varint()?;
        if n > self.data.len() as u64 {
            return Err(Malformed("a count past the end".into()));
        }
        Ok(n as usize)
    }

    /// The items of a sequence: their count, and whether all are hashable, floats, plain.
    fn items(&mut self, depth: usize, must_hash: bool) -> Result<(usize, [bool; 3]), Malformed> {
        let n = self.count()?;
        let (mut hashable, mut all_floats, mut plain) = (true, true, true);
        for _ in 0..n {
            let node = self.value(depth + 1)?;
            if must_hash && !node.hashable {
                return Err(Malformed("an unhashable set element".into()));
            }
            hashable &= node.hashable;
            all_floats &= node.is_float;
            plain &= node.plain;
        }
        Ok((n, [hashable, all_floats, plain]))
    }

    fn value(&mut self, depth: usize) -> Result<Node, Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed(format!("nested deeper than {MAX_DEPTH}")));
        }
        let tag = self.take(1)?[0];
        Ok(match tag {
            b'N' => Node::scalar(false),
            b'T' => Node::numeric(true, false),
            b'F' => Node::numeric(false, false),
            b'i' => Node::scalar(self.varint()? != 0),
            b'I' => {
                let n = self.count()?;
                let b = self.take(n)?;
                Node::scalar(b.iter().any(|&x| x != 0))
            }
            b'f' => {
                let x = self.f64()?;
                Node::numeric(x != 0.0, true)
            }
            b'c' => {
                let (re, im) = (self.f64()?, self.f64()?);
                Node::numeric(re != 0.0 || im != 0.0, false)
            }
            b's' => {
                let n = self.count()?;
                let b = self.take(n)?;
                if !is_wtf8(b) {
                    return Err(Malformed("a str that is not WTF-8".into()));
                }
                if n <= SHORT_STR {
                    self.strings.push(n > 0);
                }
                Node::scalar(n > 0)
            }
            b'r' => {
                let k = self.varint()?;
                match self.strings.get(k as usize) {
                    Some(&truthy) => Node::scalar(truthy),
                    None => return Err(Malformed("a string reference past the table".into())),
                }
            }
            b'b' => {
                let n = self.count()?;
                self.take(n)?;
                Node::scalar(n > 0)
            }
            b'l' | b't' => {
                let (n, [hashable, all_floats, plain]) = self.items(depth, false)?;
                Node {
                    hashable: tag == b't' && hashable,
                    is_float: false,
                    is_floats: n > 0 && all_floats,
                    truthy: n > 0,
                    plain,
                }
            }
            b'S' | b'z' => {
                let (n, _) = self.items(depth, true)?;
                Node {
                    hashable: tag == b'z',
                    plain: false,
                    ..Node::scalar(n > 0)
                }
            }
            b'd' => {
                let n = self.count()?;
                for _ in 0..n {
                    if !self.value(depth + 1)?.hashable {
                        return Err(Malformed("an unhashable dict key".into()));
                    }
                    self.value(depth + 1)?;
                }
                Node {
                    hashable: false,
                    plain: false,
                    ..Node::scalar(n > 0)
                }
            }
            other => return Err(Malformed(format!("unknown tag {other:#04x}"))),
        })
    }
}

/// UTF-8, except that surrogate code points (U+D800..U+DFFF, which Python strings may hold
/// alone) are allowed as their 3-byte generalized encoding.
fn is_wtf8(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(_) => return true,
            Err(e) => {
                let bad = &rest[e.valid_up_to()..];
                // ED A0..BF 80..BF: a surrogate.
                if bad.len() >= 3
                    && bad[0] == 0xED
                    && (0xA0..=0xBF).contains(&bad[1])
                    && (0x80..=0xBF).contains(&bad[2])
                {
                    rest = &bad[3..];
                } else {
                    return false;
                }
            }
        }
    }
}

/// The blob of `None` (the second operand of a truthiness check).
pub fn none_blob() -> Vec<u8> {
    vec![BLOB_VALUE, b'N']
}

/// Encodings of values the host builds itself (requests, tests), in the guest's format.
pub mod build {
    /// Appends `n` as an unsigned LEB128 varint.
    pub fn varint(out: &mut Vec<u8>, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    /// An int that fits an i64 (zigzag varint).
    pub fn int(x: i64) -> Vec<u8> {
        let mut out = vec![b'i'];
        varint(&mut out, ((x << 1) ^ (x >> 63)) as u64);
        out
    }

    /// A float.
    pub fn float(x: f64) -> Vec<u8> {
        let mut out = vec![b'f'];
        out.extend_from_slice(&x.to_bits().to_le_bytes());
        out
    }

    /// A str from its WTF-8 bytes.
    pub fn string(text: &[u8]) -> Vec<u8> {
        let mut out = vec![b's'];
        varint(&mut out, text.len() as u64);
        out.extend_from_slice(text);
        out
    }

    /// A list (`l`), tuple (`t`), set (`S`) or frozenset (`z`) of encoded items.
    pub fn seq(tag: u8, items: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![tag];
        varint(&mut out, items.len() as u64);
        for item in items {
            out.extend_from_slice(item);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::build::{float, int, seq, string};
    use super::*;

    fn v(bytes: &[u8]) -> Result<Summary, Malformed> {
        check(bytes)
    }

    #[test]
    fn accepts_every_kind_and_summarizes() {
        let s = v(&seq(b'l', &[float(1.0), float(2.5)])).unwrap();
        assert!(s.is_floats && s.truthy && !s.has_nan);
        let s = v(&seq(b't', &[float(1.0), int(2)])).unwrap();
        assert!(!s.is_floats);
        assert!(!v(&seq(b'l', &[])).unwrap().is_floats);
        assert!(v(&float(f64::NAN)).unwrap().has_nan);
        assert!(!v(&int(0)).unwrap().truthy);
        assert!(v(b"N").is_ok() && v(b"T").unwrap().truthy);
        // A dict's count is of pairs.
        let dict = [vec![b'd', 1], seq(b't', &[int(1)]), seq(b'l', &[])].concat();
        assert!(v(&dict).unwrap().truthy);
        assert!(v(&string(&[0xED, 0xA0, 0x80])).is_ok(), "a lone surrogate");
        assert!(!v(&int(0)).unwrap().truthy && v(&int(-300)).unwrap().truthy);
        // The string table: 'r' k is the k-th short string.
        let table = seq(
            b'l',
            &[string(b""), string(b"ab"), vec![b'r', 1], vec![b'r', 0]],
        );
        assert!(v(&table).is_ok());
        assert!(!v(&[b'r', 0]).is_ok(), "a reference before any string");
    }

    #[test]
    fn refuses_malformed_values() {
        assert!(v(b"").is_err());
        assert!(v(b"Q").is_err(), "unknown tag");
        assert!(v(&[b'f', 1, 2]).is_err(), "truncated");
        assert!(v(&[b'i', 0x80]).is_err(), "truncated varint");
        assert!(
            v(&[
                b'i', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ])
            .is_err()
        );
        assert!(
            v(&[b'l', 255, 255, 255, 255, 15]).is_err(),
            "count past the end"
        );
        assert!(v(b"NN").is_err(), "trailing bytes");
        assert!(v(&string(&[0xFF, 0xFE])).is_err(), "not WTF-8");
        assert!(
            v(&seq(b'l', &[string(b"a"), vec![b'r', 1]])).is_err(),
            "reference past the table"
        );
        let unhashable_key = [vec![b'd', 1], seq(b'l', &[]), int(1)].concat();
        assert!(v(&unhashable_key).is_err());
        let unhashable_element = seq(b'S', &[seq(b't', &[seq(b'l', &[])])]);
        assert!(v(&unhashable_element).is_err());
        let mut deep = b"N".to_vec();
        for _ in 0..=MAX_DEPTH + 1 {
            deep = seq(b'l', &[deep]);
        }
        assert!(v(&deep).is_err(), "too deep");
    }

    #[test]
    fn plain_values_differ_by_their_bytes() {
        let blob = |v: Vec<u8>| [vec![BLOB_VALUE], v].concat();
        let summary = |b: &[u8]| check_blob(b, false).unwrap();
        let different = |a: Vec<u8>, b: Vec<u8>| {
            let (a, b) = (blob(a), blob(b));
            plainly_different(&a, &summary(&a), &b, &summary(&b))
        };
        assert!(different(int(1), int(2)));
        assert!(
            different(seq(b'l', &[string(b"a")]), seq(b't', &[string(b"a")])),
            "list != tuple"
        );
        assert!(!different(int(1), int(1)));
        // Equal across types or orders: never decided by bytes.
        assert!(!different(int(1), vec![b'T']), "1 == True");
        assert!(!different(int(1), float(1.0)), "1 == 1.0");
        assert!(!different(
            seq(b'S', &[int(1), int(2)]),
            seq(b'S', &[int(2), int(1)])
        ));
        assert!(
            !different(seq(b'l', &[int(0)]), seq(b'l', &[vec![b'F']])),
            "[0] == [False]"
        );
    }

    #[test]
    fn blobs_and_identity() {
        assert!(check_blob(b"Pxyz", false).is_err());
        assert!(check_blob(b"Pxyz", true).is_ok());
        assert!(check_blob(b"", true).is_err());
        let a = [b"V".as_slice(), &float(1.0)].concat();
        let nan = [b"V".as_slice(), &float(f64::NAN)].concat();
        let sa = check_blob(&a, false).unwrap();
        let sn = check_blob(&nan, false).unwrap();
        assert!(identical(&a, &a, &sa));
        assert!(!identical(&nan, &nan, &sn), "NaN is not equal to itself");
        assert!(
            !identical(b"Pxyz", b"Pxyz", &sa),
            "pickles are never equal by bytes"
        );
    }
}
