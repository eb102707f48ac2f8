//! The typed value encoding (`cfv1`) of everything that crosses an instance boundary as data:
//! inputs, outputs, expression values and literals.
//!
//! Encoding reads each object's native payload and never runs Python code: no `__eq__`,
//! `__repr__`, `__hash__`, `__iter__` or `__bool__` of the object is called, so a returned
//! object cannot act while it is encoded. An instance of a subclass of a supported type is
//! encoded as its base type's contents; anything else is "unjudgeable" and named by its type.
//! Depth and total size are capped. The format is documented in `docs/security.md` and
//! decoded strictly by the host (`harness/lib/src/value.rs`) before a trusted instance decodes it
//! again here.
//!
//! Counts and lengths are unsigned LEB128 varints (`n` below); little-endian otherwise.
//!
//! ```text
//! 'N' None | 'T' True | 'F' False
//! 'i' zigzag varint            int that fits an i64
//! 'I' n, n bytes               int, two's complement little-endian
//! 'f' 8 bytes                  float, IEEE-754 bits
//! 'c' 8 bytes, 8 bytes         complex (real, imaginary bits)
//! 's' n, n bytes               str, WTF-8 (UTF-8 plus lone surrogates); one of at most
//!                              SHORT_STR bytes also joins the string table
//! 'r' k                        the k-th string of the table (equal short strings after the
//!                              first: outputs of millions of repeated names stay small)
//! 'b' n, n bytes               bytes
//! 'l' | 't' | 'S' | 'z' n, n values    list, tuple, set, frozenset (iteration order)
//! 'd' n, n (key, value)        dict (insertion order)
//! ```

use rustpython_vm::builtins::{
    PyBytes, PyComplex, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyStr, PyTuple,
};
use rustpython_vm::common::wtf8::Wtf8Buf;
use rustpython_vm::function::{FuncArgs, KwArgs};
use rustpython_vm::{AsObject, PyObject, PyObjectRef, PyResult, VirtualMachine};

/// Deepest nesting encoded; deeper values are unjudgeable (as CPython's `==` on them would
/// raise `RecursionError` long before).
pub(crate) const MAX_DEPTH: usize = 256;

/// Why a value could not be encoded.
pub(crate) enum EncodeError {
    /// An object of a type outside the encoding (its type name).
    Unsupported(String),
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Larger than the byte cap.
    TooLarge,
}

impl EncodeError {
    /// The reason, as the host reports it after `unjudgeable_output:`.
    pub(crate) fn describe(&self) -> String {
        match self {
            EncodeError::Unsupported(name) => name.clone(),
            EncodeError::TooDeep => format!("nested deeper than {MAX_DEPTH}"),
            EncodeError::TooLarge => "too large".into(),
        }
    }
}

/// Strings of at most this many bytes join the string table ('r' refers back to them).
pub(crate) const SHORT_STR: usize = 256;

/// Appends the encoding of `obj` to `out`, which may then hold at most `max_bytes` more.
pub(crate) fn encode_into(
    out: &mut Vec<u8>,
    obj: &PyObject,
    max_bytes: usize,
    vm: &VirtualMachine,
) -> Result<(), EncodeError> {
    let limit = out.len().saturating_add(max_bytes);
    Encoder {
        out,
        limit,
        strings: std::collections::HashMap::new(),
        vm,
    }
    .value(obj, 0)
}

/// Appends `n` as an unsigned LEB128 varint.
fn varint(out: &mut Vec<u8>, mut n: u64) {
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

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    /// The length `out` may not pass.
    limit: usize,
    /// Short strings already encoded, with their table index.
    strings: std::collections::HashMap<Vec<u8>, u64>,
    vm: &'a VirtualMachine,
}

impl Encoder<'_> {
    fn check(&self) -> Result<(), EncodeError> {
        if self.out.len() > self.limit {
            return Err(EncodeError::TooLarge);
        }
        Ok(())
    }

    fn tagged(&mut self, tag: u8, n: usize) -> Result<(), EncodeError> {
        self.out.push(tag);
        varint(self.out, n as u64);
        self.check()
    }

    fn bytes(&mut self, tag: u8, bytes: &[u8]) -> Result<(), EncodeError> {
        if self.out.len().saturating_add(bytes.len()) > self.limit {
            return Err(EncodeError::TooLarge);
        }
        self.tagged(tag, bytes.len())?;
        self.out.extend_from_slice(bytes);
        self.check()
    }

    fn seq(&mut self, tag: u8, items: &[PyObjectRef], depth: usize) -> Result<(), EncodeError> {
        self.tagged(tag, items.len())?;
        items
            .iter()
            .try_for_each(|item| self.value(item, depth + 1))
    }

    fn value(&mut self, obj: &PyObject, depth: usize) -> Result<(), EncodeError> {
        if depth > MAX_DEPTH {
            return Err(EncodeError::TooDeep);
        }
        let vm = self.vm;
        if vm.is_none(obj) {
            self.out.push(b'N');
            return self.check();
        }
        if obj.class().is(vm.ctx.types.bool_type) {
            self.out.push(if obj.is(&vm.ctx.true_value) {
                b'T'
            } else {
                b'F'
            });
            return self.check();
        }
        if let Some(int) = obj.downcast_ref::<PyInt>() {
            let big = int.as_bigint();
            return match i64::try_from(big) {
                Ok(small) => {
                    self.out.push(b'i');
                    varint(self.out, ((small << 1) ^ (small >> 63)) as u64);
                    self.check()
                }
                Err(_) => self.bytes(b'I', &big.to_signed_bytes_le()),
            };
        }
        if let Some(float) = obj.downcast_ref::<PyFloat>() {
            self.out.push(b'f');
            self.out
                .extend_from_slice(&float.to_f64().to_bits().to_le_bytes());
            return self.check();
        }
        if let Some(complex) = obj.downcast_ref::<PyComplex>() {
            let c = complex.to_complex();
            self.out.push(b'c');
            self.out.extend_from_slice(&c.re.to_bits().to_le_bytes());
            self.out.extend_from_slice(&c.im.to_bits().to_le_bytes());
            return self.check();
        }
        if let Some(s) = obj.downcast_ref::<PyStr>() {
            let bytes = s.as_bytes();
            if bytes.len() <= SHORT_STR {
                if let Some(&k) = self.strings.get(bytes) {
                    self.out.push(b'r');
                    varint(self.out, k);
                    return self.check();
                }
                let k = self.strings.len() as u64;
                self.strings.insert(bytes.to_vec(), k);
            }
            return self.bytes(b's', bytes);
        }
        if let Some(b) = obj.downcast_ref::<PyBytes>() {
            return self.bytes(b'b', b.as_bytes());
        }
        if let Some(list) = obj.downcast_ref::<PyList>() {
            // A snapshot of the items: nothing runs while they are encoded.
            let items: Vec<PyObjectRef> = list.borrow_vec().to_vec();
            return self.seq(b'l', &items, depth);
        }
        if let Some(tuple) = obj.downcast_ref::<PyTuple>() {
            return self.seq(b't', tuple.as_slice(), depth);
        }
        if let Some(dict) = obj.downcast_ref::<PyDict>() {
            let items = dict.items_vec();
            self.tagged(b'd', items.len())?;
            for (key, value) in &items {
                self.value(key, depth + 1)?;
                self.value(value, depth + 1)?;
            }
            return Ok(());
        }
        if let Some(set) = obj.downcast_ref::<PySet>() {
            return self.seq(b'S', &set.elements(), depth);
        }
        if let Some(set) = obj.downcast_ref::<PyFrozenSet>() {
            return self.seq(b'z', &set.elements(), depth);
        }
        Err(EncodeError::Unsupported(obj.class().name().to_string()))
    }
}

/// Decodes a whole buffer holding exactly one value.
pub(crate) fn decode_all(data: &[u8], vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    let mut reader = Reader {
        data,
        strings: Vec::new(),
        vm,
    };
    let value = reader.value(0)?;
    if !reader.data.is_empty() {
        return Err(vm.new_value_error("trailing bytes after an encoded value"));
    }
    Ok(value)
}

struct Reader<'d, 'v> {
    data: &'d [u8],
    /// The string table: short strings in order of first appearance.
    strings: Vec<PyObjectRef>,
    vm: &'v VirtualMachine,
}

impl<'d> Reader<'d, '_> {
    fn take(&mut self, n: usize) -> PyResult<&'d [u8]> {
        if self.data.len() < n {
            return Err(self.vm.new_value_error("truncated encoded value"));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn varint(&mut self) -> PyResult<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(self.vm.new_value_error("an overlong varint"))
    }

    /// A length or count; every item takes at least one byte, so one past the data is malformed.
    fn count(&mut self) -> PyResult<usize> {
        let n = self.varint()?;
        if n > self.data.len() as u64 {
            return Err(self.vm.new_value_error("encoded count past the end"));
        }
        Ok(n as usize)
    }

    fn f64(&mut self) -> PyResult<f64> {
        let bytes = self.take(8)?;
        Ok(f64::from_bits(u64::from_le_bytes(
            bytes.try_into().expect("8 bytes"),
        )))
    }

    fn items(&mut self, depth: usize) -> PyResult<Vec<PyObjectRef>> {
        let n = self.count()?;
        (0..n).map(|_| self.value(depth + 1)).collect()
    }

    fn value(&mut self, depth: usize) -> PyResult<PyObjectRef> {
        let vm = self.vm;
        if depth > MAX_DEPTH {
            return Err(vm.new_value_error("encoded value nested too deep"));
        }
        let tag = self.take(1)?[0];
        Ok(match tag {
            b'N' => vm.ctx.none(),
            b'T' => vm.ctx.new_bool(true).into(),
            b'F' => vm.ctx.new_bool(false).into(),
            b'i' => {
                let z = self.varint()?;
                vm.ctx.new_int(((z >> 1) as i64) ^ -((z & 1) as i64)).into()
            }
            b'I' => {
                let n = self.count()?;
                let bytes = vm.ctx.new_bytes(self.take(n)?.to_vec());
                let from_bytes = vm
                    .ctx
                    .types
                    .int_type
                    .as_object()
                    .get_attr("from_bytes", vm)?;
                let kwargs: KwArgs = [("signed", vm.ctx.new_bool(true).into())]
                    .into_iter()
                    .collect();
                let args: Vec<PyObjectRef> = vec![bytes.into(), vm.ctx.new_str("little").into()];
                from_bytes.call(FuncArgs::new(args, kwargs), vm)?
            }
            b'f' => vm.ctx.new_float(self.f64()?).into(),
            b'c' => {
                let (re, im) = (self.f64()?, self.f64()?);
                let complex_type = vm.ctx.types.complex_type.as_object();
                complex_type.call((vm.ctx.new_float(re), vm.ctx.new_float(im)), vm)?
            }
            b's' => {
                let n = self.count()?;
                let text = Wtf8Buf::from_bytes(self.take(n)?.to_vec())
                    .map_err(|_| vm.new_value_error("encoded str is not WTF-8"))?;
                let s: PyObjectRef = vm.ctx.new_str(text).into();
                if n <= SHORT_STR {
                    self.strings.push(s.clone());
                }
                s
            }
            b'r' => {
                let k = self.varint()?;
                self.strings
                    .get(k as usize)
                    .cloned()
                    .ok_or_else(|| vm.new_value_error("a string reference past the table"))?
            }
            b'b' => {
                let n = self.count()?;
                vm.ctx.new_bytes(self.take(n)?.to_vec()).into()
            }
            b'l' => vm.ctx.new_list(self.items(depth)?).into(),
            b't' => vm.ctx.new_tuple(self.items(depth)?).into(),
            b'S' | b'z' => {
                let items = vm.ctx.new_list(self.items(depth)?);
                let ty = if tag == b'S' {
                    vm.ctx.types.set_type
                } else {
                    vm.ctx.types.frozenset_type
                };
                ty.as_object().call((items,), vm)?
            }
            b'd' => {
                let n = self.count()?;
                let dict = vm.ctx.new_dict();
                for _ in 0..n {
                    let key = self.value(depth + 1)?;
                    let value = self.value(depth + 1)?;
                    dict.set_item(&*key, value, vm)?;
                }
                dict.into()
            }
            other => {
                return Err(vm.new_value_error(format!("unknown encoded tag {other:#04x}")));
            }
        })
    }
}
