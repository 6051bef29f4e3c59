/*
 * wire.h — manycore's wire format: the only thing that crosses between the
 * host and the interpreters (invariant 2 of docs/architecture.md).
 *
 * A message is one version byte (MC_WIRE_VERSION) followed by exactly one
 * value. A value is a one-byte tag and a payload:
 *
 *   'N' None          no payload
 *   'T' True, 'F' False
 *   'i' int64         zigzag-encoded LEB128 varint
 *   'I' big int       uvarint n, then n bytes: two's complement, little endian,
 *                     minimal length (used only when the int does not fit int64)
 *   'd' float         8 bytes, IEEE-754 binary64, little endian
 *   's' str           uvarint n, then n bytes of UTF-8 (strictly valid)
 *   'b' bytes         uvarint n, then n bytes
 *   't' tuple         uvarint count, then count values
 *   'l' list          uvarint count, then count values
 *   'S' set           uvarint count, then count values
 *   'D' dict          uvarint count, then count (key, value) pairs
 *   'P' pickle        uvarint n, then n bytes of a pickle (protocol 5) of
 *                     any other Python object; opaque to C (MC_TYPE_OBJECT)
 *   'H' handle        uvarint i: the i-th entry of the message's handle table,
 *                     a shared object (buffer, channel) the message holds a
 *                     reference to. The table travels beside the bytes (see
 *                     mc_msg), never inside them: bytes alone cannot name a
 *                     live object, so a forged message can at worst point
 *                     past the table, which the reader rejects.
 *
 * Varints are unsigned LEB128, at most 10 bytes, and must fit 64 bits.
 * A decoder checks every length against the bytes left, bounds nesting at
 * MC_WIRE_MAX_DEPTH, and rejects trailing bytes after the value.
 *
 * This file is core: no Python headers. The host's mc_value tree (value.c)
 * and the interpreters' object converter (src/interp/convert.c) both write
 * and read through these helpers, so both sides agree byte for byte.
 */
#ifndef MC_WIRE_H
#define MC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MC_WIRE_VERSION 1
#define MC_WIRE_MAX_DEPTH 128

enum mc_wire_tag {
    MC_TAG_NONE = 'N',
    MC_TAG_TRUE = 'T',
    MC_TAG_FALSE = 'F',
    MC_TAG_INT = 'i',
    MC_TAG_BIGINT = 'I',
    MC_TAG_FLOAT = 'd',
    MC_TAG_STR = 's',
    MC_TAG_BYTES = 'b',
    MC_TAG_TUPLE = 't',
    MC_TAG_LIST = 'l',
    MC_TAG_SET = 'S',
    MC_TAG_DICT = 'D',
    MC_TAG_PICKLE = 'P',
    MC_TAG_HANDLE = 'H'
};

/* A growable byte buffer. Zero-initialise; free with mc_buf_free. Every
 * put returns 0 or MC_ENOMEM (the buffer is then unchanged in length). */
typedef struct mc_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
    struct mc_shared **handles; /* references the message will carry */
    size_t nhandles;
    size_t hcap;
} mc_buf;

/* A complete message: bytes plus the references its 'H' values name. */
typedef struct mc_msg {
    unsigned char *data;
    size_t len;
    struct mc_shared **handles;
    size_t nhandles;
} mc_msg;

/* Moves b's bytes and handles into msg (b is reset). */
void mc_buf_to_msg(mc_buf *b, mc_msg *msg);
/* Frees the bytes and drops the references; msg is zeroed. */
void mc_msg_clear(mc_msg *msg);

int mc_buf_reserve(mc_buf *b, size_t extra);
int mc_buf_put(mc_buf *b, const void *data, size_t n);
void mc_buf_free(mc_buf *b);
/* Hands the bytes to the caller (who frees them with free()) and resets b;
 * any handles are dropped (use mc_buf_to_msg to keep them). */
unsigned char *mc_buf_detach(mc_buf *b, size_t *len);

/* Writers. Each appends one complete item (or header) to b. */
int mc_wire_put_version(mc_buf *b);
int mc_wire_put_tag(mc_buf *b, int tag);                 /* N, T, F */
int mc_wire_put_int(mc_buf *b, int64_t v);               /* 'i' */
int mc_wire_put_float(mc_buf *b, double v);              /* 'd' */
/* 's', 'b', 'P', 'I': tag, length, bytes. */
int mc_wire_put_blob(mc_buf *b, int tag, const void *data, size_t n);
/* 't', 'l', 'S', 'D': tag and count; the items follow. */
int mc_wire_put_container(mc_buf *b, int tag, uint64_t count);
int mc_wire_put_uvarint(mc_buf *b, uint64_t v);
/* 'H': takes a reference to obj for the message (one per distinct object). */
int mc_wire_put_handle(mc_buf *b, struct mc_shared *obj);

/* A cursor over untrusted bytes. Every read returns 0, or MC_EWIRE with a
 * detail in mc_errmsg() and the cursor left where it was. */
typedef struct mc_wire_reader {
    const unsigned char *p;
    const unsigned char *end;
    int depth;
    struct mc_shared *const *handles; /* the message's table; none by default */
    size_t nhandles;
} mc_wire_reader;

/* Checks the version byte and positions r at the value (no handles). */
int mc_wire_reader_init(mc_wire_reader *r, const void *data, size_t len);
/* The same for a whole message, handles included. */
int mc_wire_reader_init_msg(mc_wire_reader *r, const mc_msg *msg);
/* After 'H': the shared object, borrowed from the message. */
int mc_wire_read_handle(mc_wire_reader *r, struct mc_shared **obj);
/* Succeeds when every byte has been consumed (else: trailing bytes). */
int mc_wire_reader_finish(const mc_wire_reader *r);

int mc_wire_read_tag(mc_wire_reader *r, int *tag);
int mc_wire_read_uvarint(mc_wire_reader *r, uint64_t *v);
int mc_wire_read_int(mc_wire_reader *r, int64_t *v);        /* after 'i' */
int mc_wire_read_float(mc_wire_reader *r, double *v);       /* after 'd' */
/* After 's', 'b', 'P', 'I': the payload, borrowed from the message. For 's'
 * the bytes are checked to be valid UTF-8 (no surrogates, no overlongs);
 * for 'I' they must be minimal and not fit int64. */
int mc_wire_read_blob(mc_wire_reader *r, int tag, const unsigned char **data, size_t *n);
/* After 't', 'l', 'S', 'D': the item count (pairs for 'D'), checked against
 * the bytes left (each value takes at least one byte). Increments depth;
 * MC_EWIRE beyond MC_WIRE_MAX_DEPTH. Call mc_wire_leave after the items. */
int mc_wire_read_count(mc_wire_reader *r, int tag, uint64_t *count);
void mc_wire_leave(mc_wire_reader *r);

/* Skips one complete value (used to validate and to measure). */
int mc_wire_skip(mc_wire_reader *r);

/* Strict UTF-8 validation (RFC 3629: no surrogates, no overlongs, <= U+10FFFF). */
int mc_utf8_valid(const unsigned char *s, size_t n);

#endif /* MC_WIRE_H */
