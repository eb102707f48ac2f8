/* The typed value encoding (cfv1) of everything that crosses an instance boundary as data:
 * inputs, outputs, expression values and literals. The CPython twin of the RustPython
 * guest's guests/python/src/value.rs; the format is documented there and in
 * docs/security.md, and decoded strictly by the host (harness/lib/src/value.rs).
 *
 * Encoding reads each object's C payload and never runs Python code: no __eq__, __repr__,
 * __hash__, __iter__ or __bool__ of the object is called, so a returned object cannot act
 * while it is encoded. An instance of a subclass of a supported type is encoded as its base
 * type's contents; anything else is "unjudgeable" and named by its type. Depth and total
 * size are capped.
 *
 *   'N' None | 'T' True | 'F' False
 *   'i' zigzag varint            int that fits an i64
 *   'I' n, n bytes               int, two's complement little-endian (minimal)
 *   'f' 8 bytes                  float, IEEE-754 bits
 *   'c' 8 bytes, 8 bytes         complex (real, imaginary bits)
 *   's' n, n bytes               str, WTF-8; one of at most CF_SHORT_STR bytes joins the table
 *   'r' k                        the k-th string of the table
 *   'b' n, n bytes               bytes
 *   'l' | 't' | 'S' | 'z' n, n values    list, tuple, set, frozenset (iteration order)
 *   'd' n, n (key, value)        dict (insertion order)
 */
#include "guest.h"

#include <string.h>

/* ---- encoding ------------------------------------------------------------------------- */

/* The string table: open addressing over (offset, length) of each short string's first
 * occurrence in the output buffer, which only grows while a value is encoded. */
typedef struct {
    size_t off, len;
    uint64_t index;
    int used;
} slot_t;

typedef struct {
    buf_t *out;
    size_t limit;
    slot_t *slots;
    size_t nslots, count;
    const char *type_name;
} enc_t;

static void varint(buf_t *out, uint64_t n) {
    for (;;) {
        uint8_t byte = n & 0x7f;
        n >>= 7;
        if (!n) {
            buf_byte(out, byte);
            return;
        }
        buf_byte(out, byte | 0x80);
    }
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* The table index of the short string `p[..n]` if seen before, else -1 after adding it at
 * output offset `off` (where its bytes are about to be written). */
static int64_t intern(enc_t *e, const uint8_t *p, size_t n, size_t off) {
    if (e->count * 2 >= e->nslots) {
        size_t nslots = e->nslots ? e->nslots * 2 : 64;
        slot_t *slots = calloc(nslots, sizeof *slots);
        if (!slots) abort();
        for (size_t i = 0; i < e->nslots; i++) {
            if (!e->slots[i].used) continue;
            size_t j = fnv1a(e->out->p + e->slots[i].off, e->slots[i].len) & (nslots - 1);
            while (slots[j].used) j = (j + 1) & (nslots - 1);
            slots[j] = e->slots[i];
        }
        free(e->slots);
        e->slots = slots;
        e->nslots = nslots;
    }
    size_t j = fnv1a(p, n) & (e->nslots - 1);
    while (e->slots[j].used) {
        slot_t *s = &e->slots[j];
        if (s->len == n && memcmp(e->out->p + s->off, p, n) == 0) return (int64_t)s->index;
        j = (j + 1) & (e->nslots - 1);
    }
    e->slots[j] = (slot_t){.off = off, .len = n, .index = e->count, .used = 1};
    e->count++;
    return -1;
}

static cf_enc_t check(enc_t *e) { return e->out->len > e->limit ? CF_ENC_TOO_LARGE : CF_ENC_OK; }

static cf_enc_t tagged(enc_t *e, uint8_t tag, size_t n) {
    buf_byte(e->out, tag);
    varint(e->out, n);
    return check(e);
}

/* tag, length, bytes; `table`: a str that may join the string table. */
static cf_enc_t blob(enc_t *e, uint8_t tag, const uint8_t *p, size_t n, int table) {
    if (table && n <= CF_SHORT_STR) {
        /* The bytes' offset once the tag and the length's varint are written. */
        size_t header = 2;
        for (uint64_t m = n; m >= 0x80; m >>= 7) header++;
        int64_t k = intern(e, p, n, e->out->len + header);
        if (k >= 0) {
            buf_byte(e->out, 'r');
            varint(e->out, (uint64_t)k);
            return check(e);
        }
    }
    if (e->out->len + n > e->limit || e->out->len + n < n) return CF_ENC_TOO_LARGE;
    cf_enc_t r = tagged(e, tag, n);
    if (r) return r;
    buf_put(e->out, p, n);
    return check(e);
}

static cf_enc_t value(enc_t *e, PyObject *obj, int depth);

static cf_enc_t items(enc_t *e, uint8_t tag, PyObject *const *v, Py_ssize_t n, int depth) {
    cf_enc_t r = tagged(e, tag, (size_t)n);
    for (Py_ssize_t i = 0; !r && i < n; i++) r = value(e, v[i], depth + 1);
    return r;
}

static cf_enc_t big_int(enc_t *e, PyObject *obj) {
    size_t bits = _PyLong_NumBits(obj);
    if (bits == (size_t)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return CF_ENC_TOO_LARGE;
    }
    size_t n = bits / 8 + 1;
    if (e->out->len + n > e->limit) return CF_ENC_TOO_LARGE;
    uint8_t *bytes = malloc(n);
    if (!bytes) abort();
    if (_PyLong_AsByteArray((PyLongObject *)obj, bytes, n, 1, 1) < 0) {
        PyErr_Clear();
        free(bytes);
        return CF_ENC_TOO_LARGE;
    }
    /* Minimal two's complement, as Rust's to_signed_bytes_le. */
    while (n > 1 && ((bytes[n - 1] == 0x00 && !(bytes[n - 2] & 0x80)) ||
                     (bytes[n - 1] == 0xff && (bytes[n - 2] & 0x80))))
        n--;
    cf_enc_t r = blob(e, 'I', bytes, n, 0);
    free(bytes);
    return r;
}

static void put_f64(buf_t *out, double x) {
    uint64_t bits;
    memcpy(&bits, &x, 8);
    for (int i = 0; i < 8; i++) buf_byte(out, (uint8_t)(bits >> (8 * i)));
}

static cf_enc_t value(enc_t *e, PyObject *obj, int depth) {
    if (depth > CF_MAX_DEPTH) return CF_ENC_TOO_DEEP;
    if (obj == Py_None) {
        buf_byte(e->out, 'N');
        return check(e);
    }
    if (Py_IS_TYPE(obj, &PyBool_Type)) {
        buf_byte(e->out, obj == Py_True ? 'T' : 'F');
        return check(e);
    }
    if (PyLong_Check(obj)) {
        int overflow = 0;
        long long small = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (small == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            overflow = 1;
        }
        if (overflow) return big_int(e, obj);
        buf_byte(e->out, 'i');
        varint(e->out, ((uint64_t)small << 1) ^ (uint64_t)(small >> 63));
        return check(e);
    }
    if (PyFloat_Check(obj)) {
        buf_byte(e->out, 'f');
        put_f64(e->out, PyFloat_AS_DOUBLE(obj));
        return check(e);
    }
    if (PyComplex_Check(obj)) {
        Py_complex c = ((PyComplexObject *)obj)->cval;
        buf_byte(e->out, 'c');
        put_f64(e->out, c.real);
        put_f64(e->out, c.imag);
        return check(e);
    }
    if (PyUnicode_Check(obj)) {
        if (PyUnicode_READY(obj) < 0) {
            PyErr_Clear();
            return CF_ENC_TOO_LARGE;
        }
        Py_ssize_t n;
        const char *utf8 = PyUnicode_AsUTF8AndSize(obj, &n);
        if (utf8) return blob(e, 's', (const uint8_t *)utf8, (size_t)n, 1);
        /* Lone surrogates: WTF-8 (the host accepts surrogate code points). */
        PyErr_Clear();
        PyObject *bytes = PyUnicode_AsEncodedString(obj, "utf-8", "surrogatepass");
        if (!bytes) {
            PyErr_Clear();
            return CF_ENC_TOO_LARGE;
        }
        cf_enc_t r = blob(e, 's', (const uint8_t *)PyBytes_AS_STRING(bytes),
                          (size_t)PyBytes_GET_SIZE(bytes), 1);
        Py_DECREF(bytes);
        return r;
    }
    if (PyBytes_Check(obj))
        return blob(e, 'b', (const uint8_t *)PyBytes_AS_STRING(obj),
                    (size_t)PyBytes_GET_SIZE(obj), 0);
    if (PyList_Check(obj)) {
        /* Encoding runs no Python code, so the list cannot change under the loop. */
        return items(e, 'l', ((PyListObject *)obj)->ob_item, PyList_GET_SIZE(obj), depth);
    }
    if (PyTuple_Check(obj))
        return items(e, 't', ((PyTupleObject *)obj)->ob_item, PyTuple_GET_SIZE(obj), depth);
    if (PyDict_Check(obj)) {
        cf_enc_t r = tagged(e, 'd', (size_t)PyDict_GET_SIZE(obj));
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (!r && PyDict_Next(obj, &pos, &k, &v)) {
            r = value(e, k, depth + 1);
            if (!r) r = value(e, v, depth + 1);
        }
        return r;
    }
    if (PyAnySet_Check(obj)) {
        cf_enc_t r = tagged(e, PyFrozenSet_Check(obj) ? 'z' : 'S', (size_t)PySet_GET_SIZE(obj));
        Py_ssize_t pos = 0;
        PyObject *k;
        Py_hash_t hash;
        while (!r && _PySet_NextEntry(obj, &pos, &k, &hash)) r = value(e, k, depth + 1);
        return r;
    }
    e->type_name = _PyType_Name(Py_TYPE(obj));
    return CF_ENC_UNSUPPORTED;
}

cf_enc_t cf_encode(buf_t *out, PyObject *obj, size_t max_bytes, const char **type_name) {
    enc_t e = {.out = out};
    e.limit = out->len + max_bytes < out->len ? SIZE_MAX : out->len + max_bytes;
    cf_enc_t r = value(&e, obj, 0);
    free(e.slots);
    if (type_name) *type_name = e.type_name;
    return r;
}

/* ---- decoding (the host checked the data; this is strict anyway) ----------------------- */

typedef struct {
    const uint8_t *p, *end;
    PyObject *strings; /* list: the string table */
} dec_t;

static PyObject *malformed(const char *why) {
    PyErr_SetString(PyExc_ValueError, why);
    return NULL;
}

static const uint8_t *take(dec_t *d, size_t n) {
    if ((size_t)(d->end - d->p) < n) {
        malformed("truncated encoded value");
        return NULL;
    }
    const uint8_t *head = d->p;
    d->p += n;
    return head;
}

static int read_varint(dec_t *d, uint64_t *n) {
    *n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const uint8_t *b = take(d, 1);
        if (!b) return -1;
        *n |= (uint64_t)(*b & 0x7f) << shift;
        if (!(*b & 0x80)) return 0;
    }
    malformed("an overlong varint");
    return -1;
}

/* A length or count: every item takes at least one byte, so one past the data is malformed. */
static int read_count(dec_t *d, size_t *n) {
    uint64_t v;
    if (read_varint(d, &v) < 0) return -1;
    if (v > (uint64_t)(d->end - d->p)) {
        malformed("encoded count past the end");
        return -1;
    }
    *n = (size_t)v;
    return 0;
}

static int read_f64(dec_t *d, double *x) {
    const uint8_t *b = take(d, 8);
    if (!b) return -1;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits |= (uint64_t)b[i] << (8 * i);
    memcpy(x, &bits, 8);
    return 0;
}

static PyObject *decode(dec_t *d, int depth);

/* A list of n decoded values. */
static PyObject *decode_items(dec_t *d, int depth) {
    size_t n;
    if (read_count(d, &n) < 0) return NULL;
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (!list) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *item = decode(d, depth + 1);
        if (!item) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *decode(dec_t *d, int depth) {
    if (depth > CF_MAX_DEPTH) return malformed("encoded value nested too deep");
    const uint8_t *tag = take(d, 1);
    if (!tag) return NULL;
    size_t n;
    double re, im;
    switch (*tag) {
    case 'N': Py_RETURN_NONE;
    case 'T': Py_RETURN_TRUE;
    case 'F': Py_RETURN_FALSE;
    case 'i': {
        uint64_t z;
        if (read_varint(d, &z) < 0) return NULL;
        return PyLong_FromLongLong((long long)(z >> 1) ^ -(long long)(z & 1));
    }
    case 'I': {
        if (read_count(d, &n) < 0) return NULL;
        const uint8_t *b = take(d, n);
        if (!b) return NULL;
        return _PyLong_FromByteArray(b, n, 1, 1);
    }
    case 'f':
        if (read_f64(d, &re) < 0) return NULL;
        return PyFloat_FromDouble(re);
    case 'c':
        if (read_f64(d, &re) < 0 || read_f64(d, &im) < 0) return NULL;
        return PyComplex_FromDoubles(re, im);
    case 's': {
        if (read_count(d, &n) < 0) return NULL;
        const uint8_t *b = take(d, n);
        if (!b) return NULL;
        PyObject *s = PyUnicode_DecodeUTF8((const char *)b, (Py_ssize_t)n, "surrogatepass");
        if (!s) {
            PyErr_Clear();
            return malformed("encoded str is not WTF-8");
        }
        if (n <= CF_SHORT_STR && PyList_Append(d->strings, s) < 0) {
            Py_DECREF(s);
            return NULL;
        }
        return s;
    }
    case 'r': {
        uint64_t k;
        if (read_varint(d, &k) < 0) return NULL;
        if (k >= (uint64_t)PyList_GET_SIZE(d->strings))
            return malformed("a string reference past the table");
        return Py_NewRef(PyList_GET_ITEM(d->strings, (Py_ssize_t)k));
    }
    case 'b': {
        if (read_count(d, &n) < 0) return NULL;
        const uint8_t *b = take(d, n);
        if (!b) return NULL;
        return PyBytes_FromStringAndSize((const char *)b, (Py_ssize_t)n);
    }
    case 'l': return decode_items(d, depth);
    case 't': {
        PyObject *list = decode_items(d, depth);
        if (!list) return NULL;
        PyObject *tuple = PyList_AsTuple(list);
        Py_DECREF(list);
        return tuple;
    }
    case 'S':
    case 'z': {
        PyObject *list = decode_items(d, depth);
        if (!list) return NULL;
        PyObject *set = *tag == 'S' ? PySet_New(list) : PyFrozenSet_New(list);
        Py_DECREF(list);
        return set;
    }
    case 'd': {
        if (read_count(d, &n) < 0) return NULL;
        PyObject *dict = PyDict_New();
        if (!dict) return NULL;
        for (size_t i = 0; i < n; i++) {
            PyObject *key = decode(d, depth + 1);
            PyObject *val = key ? decode(d, depth + 1) : NULL;
            int failed = !val || PyDict_SetItem(dict, key, val) < 0;
            Py_XDECREF(key);
            Py_XDECREF(val);
            if (failed) {
                Py_DECREF(dict);
                return NULL;
            }
        }
        return dict;
    }
    default:
        PyErr_Format(PyExc_ValueError, "unknown encoded tag 0x%02x", *tag);
        return NULL;
    }
}

PyObject *cf_decode(const uint8_t *data, size_t len) {
    dec_t d = {.p = data, .end = data + len, .strings = PyList_New(0)};
    if (!d.strings) return NULL;
    PyObject *v = decode(&d, 0);
    Py_DECREF(d.strings);
    if (v && d.p != d.end) {
        Py_DECREF(v);
        return malformed("trailing bytes after an encoded value");
    }
    return v;
}
