/* Sessions: the host calls the exported `codefuel_call` once per step (load a program, call
 * its function on one input, judge one output, ...) and measures and limits each call's fuel
 * itself. The CPython twin of guests/python/src/session.rs: the same requests, responses and
 * driver (guests/python/driver/codefuel_driver.py), so the host cannot tell the guests apart.
 *
 * Nothing here is reachable from Python: the request comes from the host (input_read), the
 * response goes back through report, and the state between calls lives in C statics. Python
 * code under test can change its own interpreter, but it cannot start, stop or move a fuel
 * measurement, write a record, or see an expected output: expected outputs only ever enter
 * trusted sessions, which never run untrusted code. Every value crosses as data in the typed
 * encoding of value.c.
 *
 * Requests are one op byte and its data; responses are one status byte and its data:
 * `O` ok, `R` a result, `E` + exception type name, `S` + syntax error type name, `U` + why a
 * value cannot be encoded.
 *
 * | op | data | response |
 * |----|------|----------|
 * | L | JSON {mode, code, entry_point, dataset, task_id, return_args} | O, E, S |
 * | C | u32 max output bytes, args blob | R blob(out) [blob(args after)], E, U |
 * | I | inputs JSON (trusted) | R u32 n, n blobs |
 * | J | blob(JSON {dataset, entry_point, atol}), blob(inp), blob(out), blob(exp) (trusted) | R JSON |
 * | M | - | re-runs the module body in a fresh namespace (matrix): O, E |
 * | P | u32 n, n length-framed expression sources | compiles them natively: O, S (matrix) |
 * | B | - | a fresh copy of the pristine builtins for the next X: O (matrix) |
 * | X | u32 max bytes, u32 expression index | R value, E, U (matrix) |
 * | T | test source | R status text (matrix, in process) |
 * | A | JSON list of tests (trusted) | R blob(JSON plans), u32 n, n literal blobs |
 * | K | blob(op), blob(a), blob(b) (trusted) | R 1/0, E |
 * | Q | blob(JSON check spec), u32 n, n blobs (trusted) | R 1/0, E |
 * A blob is a u32 length and `V` + an encoded value, or `P` + a pickle (trusted data only).
 */
#include "guest.h"

#include <string.h>

/* What a session keeps between calls (one session per instance). */
static struct {
    char mode[16];          /* check, trusted or matrix (set by L) */
    PyObject *function;     /* the function under test (check, trusted) */
    PyObject *module_code;  /* the compiled module of the code under test (matrix) */
    PyObject *namespace;    /* the namespace the module body last ran in (matrix) */
    PyObject *expressions;  /* list of the tests' expressions, compiled natively (matrix, P) */
    PyObject *builtins;     /* a fresh copy of the pristine builtins for the next X (matrix) */
    int return_args;        /* return the arguments after the call too (special oracles) */
    PyObject *dataset;      /* str */
    PyObject *task_id;      /* str */
} S;

/* A request being read: the rest of its data. A failed read sets a ValueError. */
typedef struct {
    const uint8_t *p;
    size_t n;
} req_t;

static int take_u32(req_t *r, uint32_t *v) {
    if (r->n < 4) {
        PyErr_SetString(PyExc_ValueError, "truncated request");
        return -1;
    }
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    r->n -= 4;
    return 0;
}

static int take_blob(req_t *r, req_t *blob) {
    uint32_t n;
    if (take_u32(r, &n) < 0) return -1;
    if (r->n < n) {
        PyErr_SetString(PyExc_ValueError, "truncated request");
        return -1;
    }
    *blob = (req_t){r->p, n};
    r->p += n;
    r->n -= n;
    return 0;
}

/* Text as a str (invalid UTF-8 replaced, as String::from_utf8_lossy). */
static PyObject *text(req_t r) { return PyUnicode_DecodeUTF8((const char *)r.p, r.n, "replace"); }

/* A blob as a Python object: V + encoded value, or P + pickle. */
static PyObject *load_blob(req_t r) {
    if (r.n && r.p[0] == 'V') return cf_decode(r.p + 1, r.n - 1);
    if (r.n && r.p[0] == 'P') {
        PyObject *bytes = PyBytes_FromStringAndSize((const char *)r.p + 1, r.n - 1);
        PyObject *v = bytes ? PyObject_CallOneArg(cf_pickle_loads, bytes) : NULL;
        Py_XDECREF(bytes);
        return v;
    }
    PyErr_SetString(PyExc_ValueError, "unknown blob kind");
    return NULL;
}

/* A driver function by name (borrowed); NULL with an exception when missing. */
static PyObject *driver(const char *name) {
    PyObject *f = cf_driver ? PyDict_GetItemString(cf_driver, name) : NULL;
    if (!f) PyErr_Format(PyExc_RuntimeError, "the driver has no %s", name);
    return f;
}

/* The pending exception, fetched and cleared (a new reference, or NULL if none). */
static PyObject *fetch_exception(void) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (!type) return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

/* `tag` + the pending exception's class name; for a ModuleNotFoundError, `:` and the
 * module's name (EModuleNotFoundError:numpy). Clears the exception. */
static void put_exception(buf_t *out, uint8_t tag) {
    PyObject *exc = fetch_exception();
    buf_byte(out, tag);
    if (!exc) {
        buf_str(out, "SystemError");
        return;
    }
    PyObject *name = PyType_GetName(Py_TYPE(exc));
    const char *utf8 = name ? PyUnicode_AsUTF8(name) : NULL;
    if (!utf8) {
        PyErr_Clear();
        utf8 = _PyType_Name(Py_TYPE(exc));
    }
    buf_str(out, utf8);
    Py_XDECREF(name);
    /* The C field, not getattr: no code of the exception runs. */
    if (PyObject_TypeCheck(exc, (PyTypeObject *)PyExc_ModuleNotFoundError) &&
        strcmp(_PyType_Name(Py_TYPE(exc)), "ModuleNotFoundError") == 0) {
        PyObject *mod = ((PyImportErrorObject *)exc)->name;
        const char *m = mod && PyUnicode_Check(mod) ? PyUnicode_AsUTF8(mod) : NULL;
        if (m) {
            buf_byte(out, ':');
            buf_str(out, m);
        }
        PyErr_Clear();
    }
    Py_DECREF(exc);
}

/* `U` and why a value cannot be encoded (value.rs EncodeError::describe). */
static void put_unjudgeable(buf_t *out, cf_enc_t why, const char *type_name) {
    char tmp[64];
    buf_byte(out, 'U');
    switch (why) {
    case CF_ENC_UNSUPPORTED: buf_str(out, type_name ? type_name : "?"); break;
    case CF_ENC_TOO_DEEP:
        snprintf(tmp, sizeof tmp, "nested deeper than %d", CF_MAX_DEPTH);
        buf_str(out, tmp);
        break;
    default: buf_str(out, "too large");
    }
}

/* Appends `obj` to `out` as a length-framed blob: encoded when it can be (V), in trusted
 * sessions pickled otherwise (P). On failure returns -1 with `fail` holding the response
 * that replaces the whole answer. */
static int put_value(buf_t *out, PyObject *obj, size_t max_bytes, int trusted, buf_t *fail) {
    size_t frame = out->len;
    buf_put(out, "\0\0\0\0V", 5);
    const char *type_name = NULL;
    cf_enc_t r = cf_encode(out, obj, max_bytes, &type_name);
    if (r == CF_ENC_UNSUPPORTED && trusted) {
        out->len = frame + 4;
        PyObject *pickled = PyObject_CallOneArg(cf_pickle_dumps, obj);
        if (!pickled) {
            put_exception(fail, 'E');
            return -1;
        }
        if (!PyBytes_Check(pickled)) {
            Py_DECREF(pickled);
            buf_str(fail, "Epickle");
            return -1;
        }
        buf_byte(out, 'P');
        buf_put(out, PyBytes_AS_STRING(pickled), (size_t)PyBytes_GET_SIZE(pickled));
        Py_DECREF(pickled);
    } else if (r) {
        put_unjudgeable(fail, r, type_name);
        return -1;
    }
    size_t len = out->len - frame - 4;
    if (len > UINT32_MAX) {
        put_unjudgeable(fail, CF_ENC_TOO_LARGE, NULL);
        return -1;
    }
    for (int i = 0; i < 4; i++) out->p[frame + i] = (uint8_t)(len >> (8 * i));
    return 0;
}

/* `R` + blob(value) [+ blob(also)], or the answer that replaces it when one cannot be sent. */
static void put_result(buf_t *out, PyObject *value, PyObject *also, size_t cap, int trusted) {
    buf_t response = {0}, fail = {0};
    buf_byte(&response, 'R');
    int bad = put_value(&response, value, cap, trusted, &fail) < 0 ||
              (also && put_value(&response, also, cap, trusted, &fail) < 0);
    buf_t *chosen = bad ? &fail : &response;
    buf_put(out, chosen->p, chosen->len);
    free(response.p);
    free(fail.p);
}

/* Appends a u32 count, then each of `list`'s items as a blob (values of trusted code: no
 * cap). -1 with a ValueError when one cannot be encoded. */
static int put_values(buf_t *out, PyObject *list, int trusted, const char *what) {
    PyObject *seq = PySequence_Fast(list, "expected a sequence");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    buf_u32(out, (uint32_t)n);
    for (Py_ssize_t i = 0; i < n; i++) {
        buf_t fail = {0};
        if (put_value(out, PySequence_Fast_GET_ITEM(seq, i), SIZE_MAX, trusted, &fail) < 0) {
            buf_byte(&fail, 0);
            PyErr_Format(PyExc_ValueError, "cannot encode %s: %s", what, (char *)fail.p);
            free(fail.p);
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

static void reset_state(void) {
    Py_CLEAR(S.function);
    Py_CLEAR(S.module_code);
    Py_CLEAR(S.namespace);
    Py_CLEAR(S.expressions);
    Py_CLEAR(S.builtins);
    Py_CLEAR(S.dataset);
    Py_CLEAR(S.task_id);
    S.mode[0] = 0;
    S.return_args = 0;
}

/* header[key] as a str ("" when absent or None); NULL with an exception. */
static PyObject *header_text(PyObject *header, const char *key) {
    PyObject *v = PyDict_Check(header) ? PyDict_GetItemString(header, key) : NULL;
    if (!v || v == Py_None) return PyUnicode_FromString("");
    return PyObject_Str(v);
}

/* Each op returns 0 when it wrote its response, -1 with a Python exception pending (the
 * response is then E + its type). */

static int reset_module(buf_t *out) {
    if (!S.module_code) {
        PyErr_SetString(PyExc_RuntimeError, "no module loaded");
        return -1;
    }
    /* The previous namespace is dropped before the module body runs again. */
    Py_CLEAR(S.namespace);
    PyObject *f = driver("matrix_exec");
    if (!f) return -1;
    PyObject *ns = PyObject_CallOneArg(f, S.module_code);
    if (!ns) {
        put_exception(out, 'E');
        return 0;
    }
    S.namespace = ns;
    buf_byte(out, 'O');
    return 0;
}

static int load(req_t r, buf_t *out) {
    PyObject *json = text(r);
    PyObject *header = json ? PyObject_CallOneArg(cf_json_loads, json) : NULL;
    Py_XDECREF(json);
    if (!header) return -1;
    reset_state();
    PyObject *mode = header_text(header, "mode");
    PyObject *code = header_text(header, "code");
    PyObject *entry = header_text(header, "entry_point");
    S.dataset = header_text(header, "dataset");
    S.task_id = header_text(header, "task_id");
    PyObject *ra = PyDict_Check(header) ? PyDict_GetItemString(header, "return_args") : NULL;
    int rc = -1;
    if (!mode || !code || !entry || !S.dataset || !S.task_id) goto done;
    if (ra && ra != Py_None) {
        int t = PyObject_IsTrue(ra);
        if (t < 0) goto done;
        S.return_args = t;
    }
    const char *m = PyUnicode_AsUTF8(mode);
    if (!m) goto done;
    snprintf(S.mode, sizeof S.mode, "%s", m);
    if (!strcmp(S.mode, "check") || !strcmp(S.mode, "trusted")) {
        if (PyUnicode_GET_LENGTH(code) == 0) {
            buf_byte(out, 'O');
            rc = 0;
            goto done;
        }
        PyObject *f = driver(!strcmp(S.mode, "check") ? "load_check" : "load_trusted");
        if (!f) goto done;
        PyObject *fn = PyObject_CallFunctionObjArgs(f, code, entry, S.dataset, NULL);
        if (fn) {
            S.function = fn;
            buf_byte(out, 'O');
        } else {
            put_exception(out, 'E');
        }
        rc = 0;
    } else if (!strcmp(S.mode, "matrix")) {
        PyObject *f = driver("matrix_compile");
        if (!f) goto done;
        PyObject *compiled = PyObject_CallOneArg(f, code);
        if (!compiled) {
            put_exception(out, 'S');
            rc = 0;
            goto done;
        }
        S.module_code = compiled;
        rc = reset_module(out);
    } else {
        buf_str(out, "Eunknown mode");
        rc = 0;
    }
done:
    Py_XDECREF(mode);
    Py_XDECREF(code);
    Py_XDECREF(entry);
    Py_DECREF(header);
    return rc;
}

static int call(req_t r, buf_t *out) {
    uint32_t max_bytes;
    if (take_u32(&r, &max_bytes) < 0) return -1;
    PyObject *args = load_blob(r);
    if (!args) return -1;
    if (!S.function) {
        Py_DECREF(args);
        PyErr_SetString(PyExc_RuntimeError, "no function loaded");
        return -1;
    }
    int trusted = !strcmp(S.mode, "trusted");
    PyObject *caller = driver(trusted ? "call_trusted" : "call_check");
    if (!caller) {
        Py_DECREF(args);
        return -1;
    }
    PyObject *result = PyObject_CallFunctionObjArgs(caller, S.function, args, NULL);
    if (!result) {
        Py_DECREF(args);
        put_exception(out, 'E');
        return 0;
    }
    put_result(out, result, S.return_args ? args : NULL, trusted ? SIZE_MAX : max_bytes, trusted);
    Py_DECREF(result);
    Py_DECREF(args);
    return 0;
}

static int inputs(req_t r, buf_t *out) {
    PyObject *f = driver("gt_inputs");
    PyObject *json = f ? text(r) : NULL;
    PyObject *list =
        json ? PyObject_CallFunctionObjArgs(f, S.dataset ? S.dataset : Py_None,
                                            S.task_id ? S.task_id : Py_None, json, NULL)
             : NULL;
    Py_XDECREF(json);
    if (!list) return -1;
    buf_byte(out, 'R');
    int rc = put_values(out, list, 1, "an input");
    Py_DECREF(list);
    return rc;
}

/* `R` + str(obj). */
static int put_text(buf_t *out, PyObject *obj) {
    PyObject *s = PyObject_Str(obj);
    const char *utf8 = s ? PyUnicode_AsUTF8(s) : NULL;
    if (!utf8) {
        Py_XDECREF(s);
        return -1;
    }
    buf_byte(out, 'R');
    buf_str(out, utf8);
    Py_DECREF(s);
    return 0;
}

static int judge(req_t r, buf_t *out) {
    req_t header, blobs[3];
    if (take_blob(&r, &header) < 0) return -1;
    for (int i = 0; i < 3; i++)
        if (take_blob(&r, &blobs[i]) < 0) return -1;
    PyObject *f = driver("judge");
    if (!f) return -1;
    PyObject *h = text(header);
    PyObject *inp = h ? load_blob(blobs[0]) : NULL;
    PyObject *got = inp ? load_blob(blobs[1]) : NULL;
    PyObject *exp = got ? load_blob(blobs[2]) : NULL;
    PyObject *verdict = exp ? PyObject_CallFunctionObjArgs(f, h, inp, got, exp, NULL) : NULL;
    Py_XDECREF(h);
    Py_XDECREF(inp);
    Py_XDECREF(got);
    Py_XDECREF(exp);
    if (!verdict) return -1;
    int rc = put_text(out, verdict);
    Py_DECREF(verdict);
    return rc;
}

static int prepare(req_t r, buf_t *out) {
    uint32_t n;
    if (take_u32(&r, &n) < 0) return -1;
    PyObject *expressions = PyList_New(0);
    if (!expressions) return -1;
    for (uint32_t i = 0; i < n; i++) {
        req_t src;
        if (take_blob(&r, &src) < 0) {
            Py_DECREF(expressions);
            return -1;
        }
        /* Compiled here, natively: the code under test may have replaced builtins.compile.
         * The C compiler reads a C string, so a NUL byte would silently end the source. */
        PyObject *code = NULL;
        if (memchr(src.p, 0, src.n)) {
            PyErr_SetString(PyExc_SyntaxError, "source code cannot contain null bytes");
        } else {
            char *c = malloc(src.n + 1);
            if (!c) abort();
            memcpy(c, src.p, src.n);
            c[src.n] = 0;
            code = Py_CompileStringExFlags(c, "<test>", Py_eval_input, NULL, -1);
            free(c);
        }
        if (!code || PyList_Append(expressions, code) < 0) {
            Py_XDECREF(code);
            Py_DECREF(expressions);
            put_exception(out, 'S');
            return 0;
        }
        Py_DECREF(code);
    }
    Py_XSETREF(S.expressions, expressions);
    buf_byte(out, 'O');
    return 0;
}

static int fresh_builtins(void) {
    if (!cf_pristine_builtins) {
        PyErr_SetString(PyExc_RuntimeError, "no pristine builtins");
        return -1;
    }
    PyObject *copy = PyDict_Copy(cf_pristine_builtins);
    if (!copy) return -1;
    Py_XSETREF(S.builtins, copy);
    return 0;
}

/* Evaluates one prepared expression natively, in a copy of the code's namespace whose
 * builtins are the copy B prepared (a fresh one of the builtins as they were before any
 * program ran): the code cannot swap eval, compile or the builtins a test reads. */
static int eval_expr(req_t r, buf_t *out) {
    uint32_t max_bytes, index;
    if (take_u32(&r, &max_bytes) < 0 || take_u32(&r, &index) < 0) return -1;
    if (!S.expressions || index >= (uint32_t)PyList_GET_SIZE(S.expressions)) {
        PyErr_SetString(PyExc_IndexError, "no such prepared expression");
        return -1;
    }
    if (!S.builtins && fresh_builtins() < 0) return -1;
    PyObject *builtins = S.builtins;
    S.builtins = NULL;
    if (!S.namespace || !PyDict_Check(S.namespace)) {
        Py_DECREF(builtins);
        PyErr_SetString(PyExc_TypeError, "the namespace is not a dict");
        return -1;
    }
    /* Read through the dict's storage: no method of a dict subclass runs. */
    PyObject *globals = PyDict_New();
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    int failed = !globals;
    while (!failed && PyDict_Next(S.namespace, &pos, &k, &v))
        failed = PyDict_SetItem(globals, k, v) < 0;
    failed = failed || PyDict_SetItemString(globals, "__builtins__", builtins) < 0;
    Py_DECREF(builtins);
    if (failed) {
        Py_XDECREF(globals);
        return -1;
    }
    /* Only where the expression's prints go; a code that replaced it changes nothing else. */
    PyObject *swallow = PyDict_GetItemString(cf_driver, "swallow_io");
    if (swallow) {
        PyObject *ok = PyObject_CallNoArgs(swallow);
        if (!ok) PyErr_Clear();
        Py_XDECREF(ok);
    }
    PyObject *code = PyList_GET_ITEM(S.expressions, (Py_ssize_t)index);
    Py_INCREF(code);
    PyObject *result = PyEval_EvalCode(code, globals, globals);
    Py_DECREF(code);
    Py_DECREF(globals);
    if (!result) {
        put_exception(out, 'E');
        return 0;
    }
    put_result(out, result, NULL, max_bytes, 0);
    Py_DECREF(result);
    return 0;
}

static int run_test(req_t r, buf_t *out) {
    if (!S.namespace) {
        PyErr_SetString(PyExc_RuntimeError, "no namespace");
        return -1;
    }
    PyObject *f = driver("matrix_test");
    PyObject *src = f ? text(r) : NULL;
    PyObject *status = src ? PyObject_CallFunctionObjArgs(f, src, S.namespace, NULL) : NULL;
    Py_XDECREF(src);
    if (!status) return -1;
    int rc = put_text(out, status);
    Py_DECREF(status);
    return rc;
}

static int plan(req_t r, buf_t *out) {
    PyObject *f = driver("plan_tests");
    PyObject *json = f ? text(r) : NULL;
    PyObject *result = json ? PyObject_CallOneArg(f, json) : NULL;
    Py_XDECREF(json);
    if (!result) return -1;
    int rc = -1;
    if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) != 2) {
        PyErr_SetString(PyExc_TypeError, "plan_tests returns (plans, literals)");
        goto done;
    }
    PyObject *plans = PyObject_Str(PyTuple_GET_ITEM(result, 0));
    Py_ssize_t n;
    const char *utf8 = plans ? PyUnicode_AsUTF8AndSize(plans, &n) : NULL;
    if (!utf8) {
        Py_XDECREF(plans);
        goto done;
    }
    buf_byte(out, 'R');
    buf_u32(out, (uint32_t)n);
    buf_put(out, utf8, (size_t)n);
    Py_DECREF(plans);
    rc = put_values(out, PyTuple_GET_ITEM(result, 1), 0, "a literal");
done:
    Py_DECREF(result);
    return rc;
}

/* The answer of a comparison: R1/R0 by `result`'s truth (a reference this steals), E + the
 * exception when it is NULL. -1 when the truth test itself raises. */
static int put_truth(buf_t *out, PyObject *result) {
    if (!result) {
        put_exception(out, 'E');
        return 0;
    }
    int t = PyObject_IsTrue(result);
    Py_DECREF(result);
    if (t < 0) return -1;
    buf_str(out, t ? "R1" : "R0");
    return 0;
}

static int compare(req_t r, buf_t *out) {
    req_t op, a, b;
    if (take_blob(&r, &op) < 0 || take_blob(&r, &a) < 0 || take_blob(&r, &b) < 0) return -1;
    PyObject *f = driver("compare");
    if (!f) return -1;
    PyObject *ops = text(op);
    PyObject *va = ops ? load_blob(a) : NULL;
    PyObject *vb = va ? load_blob(b) : NULL;
    if (!vb) {
        Py_XDECREF(ops);
        Py_XDECREF(va);
        return -1;
    }
    PyObject *result = PyObject_CallFunctionObjArgs(f, ops, va, vb, NULL);
    Py_DECREF(ops);
    Py_DECREF(va);
    Py_DECREF(vb);
    return put_truth(out, result);
}

/* A check whose operands have templates (the driver's evaluate_check), on decoded values. */
static int evaluate_check(req_t r, buf_t *out) {
    req_t spec;
    uint32_t n;
    if (take_blob(&r, &spec) < 0 || take_u32(&r, &n) < 0) return -1;
    PyObject *f = driver("evaluate_check");
    PyObject *values = f ? PyList_New(0) : NULL;
    if (!values) return -1;
    for (uint32_t i = 0; i < n; i++) {
        req_t blob;
        PyObject *v = take_blob(&r, &blob) < 0 ? NULL : load_blob(blob);
        if (!v || PyList_Append(values, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(values);
            return -1;
        }
        Py_DECREF(v);
    }
    PyObject *spec_text = text(spec);
    PyObject *result = spec_text ? PyObject_CallFunctionObjArgs(f, spec_text, values, NULL) : NULL;
    Py_XDECREF(spec_text);
    Py_DECREF(values);
    return put_truth(out, result);
}

void cf_session_handle(const uint8_t *request, size_t len, buf_t *out) {
    if (!len) {
        buf_str(out, "Eempty request");
        return;
    }
    req_t r = {request + 1, len - 1};
    size_t start = out->len;
    int rc;
    switch (request[0]) {
    case 'L': rc = load(r, out); break;
    case 'C': rc = call(r, out); break;
    case 'I': rc = inputs(r, out); break;
    case 'J': rc = judge(r, out); break;
    case 'M': rc = reset_module(out); break;
    case 'P': rc = prepare(r, out); break;
    case 'B':
        rc = fresh_builtins();
        if (!rc) buf_byte(out, 'O');
        break;
    case 'X': rc = eval_expr(r, out); break;
    case 'T': rc = run_test(r, out); break;
    case 'A': rc = plan(r, out); break;
    case 'K': rc = compare(r, out); break;
    case 'Q': rc = evaluate_check(r, out); break;
    default: buf_str(out, "Eunknown op"); return;
    }
    if (rc < 0) {
        out->len = start;
        put_exception(out, 'E');
    }
    PyErr_Clear();
}
