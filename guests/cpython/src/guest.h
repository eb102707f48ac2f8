/* What guest.c, session.c and value.c share: the host imports, a growable byte buffer, the
 * driver and the pristine builtins. See guest.c for the guest's lifecycle. */
#ifndef CODEFUEL_GUEST_H
#define CODEFUEL_GUEST_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>

/* ---- host functions, implemented by codefuel-runtime (module `codefuel`) ---------------- */
#define CODEFUEL_IMPORT(name) __attribute__((import_module("codefuel"), import_name(name)))
/* Length in bytes of the job: a run's source (after a workspace header) or a session request. */
CODEFUEL_IMPORT("input_len") extern uint32_t cf_input_len(void);
/* Copies the job into guest memory at `ptr` (which holds `cf_input_len()` bytes). */
CODEFUEL_IMPORT("input_read") extern void cf_input_read(uint8_t *ptr);
/* Hands the host the run's outcome (one JSON object) or a session call's response. */
CODEFUEL_IMPORT("report") extern void cf_report(const uint8_t *ptr, uint32_t len);
/* Fuel this run has consumed so far. */
CODEFUEL_IMPORT("fuel_consumed") extern uint64_t cf_fuel_consumed(void);
/* Moves the virtual clock forward; never blocks. */
CODEFUEL_IMPORT("sleep") extern void cf_sleep(uint64_t nanos);

/* ---- a growable byte buffer (aborts when memory runs out: the host reports the kill) ---- */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf_t;

/* Makes room for `n` more bytes. */
void buf_reserve(buf_t *b, size_t n);
/* Appends `n` bytes. */
void buf_put(buf_t *b, const void *s, size_t n);
/* Appends one byte. */
void buf_byte(buf_t *b, uint8_t c);
/* Appends a NUL-terminated string (without the NUL). */
void buf_str(buf_t *b, const char *s);
/* Appends a little-endian u32. */
void buf_u32(buf_t *b, uint32_t n);

/* ---- state set up at snapshot time (guest.c) ---------------------------------------------- */
/* The driver's globals (guests/python/driver/codefuel_driver.py; never in sys.modules). */
extern PyObject *cf_driver;
/* A copy of builtins.__dict__ taken at snapshot time, before any program ran. */
extern PyObject *cf_pristine_builtins;
/* json.loads, pickle.loads and pickle.dumps as they were at snapshot time. */
extern PyObject *cf_json_loads, *cf_pickle_loads, *cf_pickle_dumps;

/* Builds the interpreter once (snapshot time, or the first call of a module never snapshotted). */
void cf_initialize(void);
/* Flushes sys.stdout and sys.stderr, ignoring errors. */
void cf_flush_stdio(void);

/* ---- sessions (session.c) ----------------------------------------------------------------- */
/* Handles one session request; appends the response to `out`. */
void cf_session_handle(const uint8_t *request, size_t len, buf_t *out);

/* ---- the typed value encoding cfv1 (value.c) ---------------------------------------------- */
/* Deepest nesting encoded (value.rs MAX_DEPTH). */
#define CF_MAX_DEPTH 256
/* Strings of at most this many bytes join the string table (value.rs SHORT_STR). */
#define CF_SHORT_STR 256

/* Why a value could not be encoded. */
typedef enum { CF_ENC_OK = 0, CF_ENC_UNSUPPORTED, CF_ENC_TOO_DEEP, CF_ENC_TOO_LARGE } cf_enc_t;

/* Appends the encoding of `obj` to `out`, which may then hold at most `max_bytes` more. Runs
 * no Python code. On CF_ENC_UNSUPPORTED, `*type_name` is the offending type's name. */
cf_enc_t cf_encode(buf_t *out, PyObject *obj, size_t max_bytes, const char **type_name);
/* Decodes a buffer holding exactly one encoded value; NULL with a ValueError when malformed. */
PyObject *cf_decode(const uint8_t *data, size_t len);

#endif
