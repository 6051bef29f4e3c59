/*
 * wire.c — the byte-level half of the wire format: the growable buffer the
 * writers append to, the writers themselves, and the reader that walks
 * untrusted messages. It knows tags, varints and lengths, never mc_value or
 * PyObject; value.c and src/interp/convert.c build on it so both sides of an
 * interpreter boundary agree byte for byte.
 *
 * The reader trusts nothing: every length is checked against the bytes left
 * before it is used, and every failing read leaves the cursor where it was,
 * so a caller can report the position of the item that failed.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "shared.h"
#include "wire.h"

/* ------------------------------------------------------------------------
 * mc_buf
 * ------------------------------------------------------------------------ */

int mc_buf_reserve(mc_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - b->len)
        return mc_fail(MC_ENOMEM, "buffer of %zu bytes cannot grow by %zu more", b->len, extra);
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *data = realloc(b->data, cap);
    if (!data)
        return mc_fail(MC_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = data;
    b->cap = cap;
    return 0;
}

int mc_buf_put(mc_buf *b, const void *data, size_t n)
{
    if (n == 0)
        return 0;
    int rc = mc_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return 0;
}

static void drop_handles(struct mc_shared **handles, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mc_shared_decref(handles[i]);
    free(handles);
}

void mc_buf_free(mc_buf *b)
{
    free(b->data);
    drop_handles(b->handles, b->nhandles);
    b->data = NULL;
    b->handles = NULL;
    b->len = b->cap = b->nhandles = b->hcap = 0;
}

void mc_buf_to_msg(mc_buf *b, mc_msg *msg)
{
    msg->data = b->data;
    msg->len = b->len;
    msg->handles = b->handles;
    msg->nhandles = b->nhandles;
    b->data = NULL;
    b->handles = NULL;
    b->len = b->cap = b->nhandles = b->hcap = 0;
}

void mc_msg_clear(mc_msg *msg)
{
    free(msg->data);
    drop_handles(msg->handles, msg->nhandles);
    msg->data = NULL;
    msg->handles = NULL;
    msg->len = msg->nhandles = 0;
}

unsigned char *mc_buf_detach(mc_buf *b, size_t *len)
{
    /* Plain bytes cannot carry references: a caller that detaches bytes
     * must have refused handles already; drop any so nothing leaks. */
    drop_handles(b->handles, b->nhandles);
    b->handles = NULL;
    b->nhandles = b->hcap = 0;
    unsigned char *data = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}

/* ------------------------------------------------------------------------
 * Writers
 *
 * Each reserves its whole item before writing a byte, so a failure (only
 * MC_ENOMEM is possible) leaves the buffer as it was.
 * ------------------------------------------------------------------------ */

/* Encodes v into out (at least 10 bytes) and returns the length used. */
static size_t uvarint_encode(unsigned char *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (unsigned char)v;
    return n;
}

int mc_wire_put_uvarint(mc_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    return mc_buf_put(b, tmp, uvarint_encode(tmp, v));
}

int mc_wire_put_version(mc_buf *b)
{
    unsigned char v = MC_WIRE_VERSION;
    return mc_buf_put(b, &v, 1);
}

int mc_wire_put_tag(mc_buf *b, int tag)
{
    unsigned char t = (unsigned char)tag;
    return mc_buf_put(b, &t, 1);
}

/* Writes a tag and a varint as one item, so neither lands without the other. */
static int put_tag_uvarint(mc_buf *b, int tag, uint64_t v)
{
    unsigned char tmp[11];
    tmp[0] = (unsigned char)tag;
    return mc_buf_put(b, tmp, 1 + uvarint_encode(tmp + 1, v));
}

int mc_wire_put_int(mc_buf *b, int64_t v)
{
    /* Zigzag keeps small negative numbers short; done on uint64_t because
     * shifting a negative int64_t left is undefined. */
    uint64_t u = (uint64_t)v;
    uint64_t zz = (u << 1) ^ (v < 0 ? UINT64_MAX : 0);
    return put_tag_uvarint(b, MC_TAG_INT, zz);
}

int mc_wire_put_float(mc_buf *b, double v)
{
    uint64_t bits;
    unsigned char tmp[9];
    memcpy(&bits, &v, sizeof bits);
    tmp[0] = MC_TAG_FLOAT;
    for (int i = 0; i < 8; i++)
        tmp[1 + i] = (unsigned char)(bits >> (8 * i));
    return mc_buf_put(b, tmp, sizeof tmp);
}

int mc_wire_put_blob(mc_buf *b, int tag, const void *data, size_t n)
{
    if (n > SIZE_MAX - 11)
        return mc_fail(MC_ENOMEM, "blob of %zu bytes is too large", n);
    int rc = mc_buf_reserve(b, 11 + n);
    if (rc)
        return rc;
    put_tag_uvarint(b, tag, (uint64_t)n); /* cannot fail: reserved */
    mc_buf_put(b, data, n);
    return 0;
}

int mc_wire_put_handle(mc_buf *b, struct mc_shared *obj)
{
    size_t i = 0;
    while (i < b->nhandles && b->handles[i] != obj)
        i++;
    if (i == b->nhandles) {
        if (b->nhandles == b->hcap) {
            size_t cap = b->hcap ? 2 * b->hcap : 4;
            struct mc_shared **h = realloc(b->handles, cap * sizeof *h);
            if (!h)
                return mc_fail(MC_ENOMEM, "out of memory adding a handle to a message");
            b->handles = h;
            b->hcap = cap;
        }
        b->handles[b->nhandles++] = mc_shared_incref(obj);
    }
    return put_tag_uvarint(b, MC_TAG_HANDLE, (uint64_t)i);
}

int mc_wire_put_container(mc_buf *b, int tag, uint64_t count)
{
    return put_tag_uvarint(b, tag, count);
}

/* ------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------ */

static size_t bytes_left(const mc_wire_reader *r)
{
    return (size_t)(r->end - r->p);
}

static const char *tag_name(int tag)
{
    switch (tag) {
    case MC_TAG_INT: return "int";
    case MC_TAG_BIGINT: return "big int";
    case MC_TAG_FLOAT: return "float";
    case MC_TAG_STR: return "str";
    case MC_TAG_BYTES: return "bytes";
    case MC_TAG_PICKLE: return "pickle";
    case MC_TAG_TUPLE: return "tuple";
    case MC_TAG_LIST: return "list";
    case MC_TAG_SET: return "set";
    case MC_TAG_DICT: return "dict";
    case MC_TAG_HANDLE: return "handle";
    default: return "value";
    }
}

static int is_known_tag(int tag)
{
    switch (tag) {
    case MC_TAG_NONE: case MC_TAG_TRUE: case MC_TAG_FALSE:
    case MC_TAG_INT: case MC_TAG_BIGINT: case MC_TAG_FLOAT:
    case MC_TAG_STR: case MC_TAG_BYTES: case MC_TAG_PICKLE:
    case MC_TAG_TUPLE: case MC_TAG_LIST: case MC_TAG_SET: case MC_TAG_DICT:
    case MC_TAG_HANDLE:
        return 1;
    default:
        return 0;
    }
}

int mc_wire_reader_init(mc_wire_reader *r, const void *data, size_t len)
{
    if (!data || len == 0)
        return mc_fail(MC_EWIRE, "wire: empty message (no version byte)");
    const unsigned char *p = data;
    if (p[0] != MC_WIRE_VERSION)
        return mc_fail(MC_EWIRE, "wire: unsupported version %u (expected %u)",
                       (unsigned)p[0], (unsigned)MC_WIRE_VERSION);
    if (len == 1)
        return mc_fail(MC_EWIRE, "wire: message has a version byte but no value");
    r->p = p + 1;
    r->end = p + len;
    r->depth = 0;
    r->handles = NULL;
    r->nhandles = 0;
    return 0;
}

int mc_wire_reader_init_msg(mc_wire_reader *r, const mc_msg *msg)
{
    int rc = mc_wire_reader_init(r, msg->data, msg->len);
    if (rc)
        return rc;
    r->handles = (struct mc_shared *const *)msg->handles;
    r->nhandles = msg->nhandles;
    return 0;
}

int mc_wire_read_handle(mc_wire_reader *r, struct mc_shared **obj)
{
    const unsigned char *saved = r->p;
    uint64_t i;
    int rc = mc_wire_read_uvarint(r, &i);
    if (rc)
        return rc;
    if (i >= r->nhandles) {
        r->p = saved;
        return mc_fail(MC_EWIRE, "wire: handle %llu but the message carries %zu", (unsigned long long)i,
                       r->nhandles);
    }
    *obj = r->handles[i];
    return 0;
}

int mc_wire_reader_finish(const mc_wire_reader *r)
{
    if (r->p != r->end)
        return mc_fail(MC_EWIRE, "wire: %zu trailing bytes after the value", bytes_left(r));
    return 0;
}

int mc_wire_read_tag(mc_wire_reader *r, int *tag)
{
    if (r->p >= r->end)
        return mc_fail(MC_EWIRE, "wire: message ends where a value's tag should be");
    int t = *r->p;
    if (!is_known_tag(t))
        return mc_fail(MC_EWIRE, "wire: unknown tag 0x%02x with %zu bytes left", (unsigned)t,
                       bytes_left(r));
    r->p++;
    *tag = t;
    return 0;
}

int mc_wire_read_uvarint(mc_wire_reader *r, uint64_t *v)
{
    uint64_t acc = 0;
    const unsigned char *p = r->p;
    for (int i = 0; i < 10; i++) {
        if (p >= r->end)
            return mc_fail(MC_EWIRE, "wire: varint truncated after %d bytes", i);
        unsigned char byte = *p++;
        /* The tenth byte holds only bit 63; anything more overflows 64 bits. */
        if (i == 9 && byte > 1)
            return mc_fail(MC_EWIRE, "wire: varint does not fit 64 bits with %zu bytes left",
                           bytes_left(r));
        acc |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            r->p = p;
            *v = acc;
            return 0;
        }
    }
    return mc_fail(MC_EWIRE, "wire: varint longer than 10 bytes with %zu bytes left",
                   bytes_left(r));
}

int mc_wire_read_int(mc_wire_reader *r, int64_t *v)
{
    uint64_t zz;
    int rc = mc_wire_read_uvarint(r, &zz);
    if (rc)
        return rc;
    /* Undo zigzag in unsigned arithmetic, then convert without overflow. */
    uint64_t u = (zz >> 1) ^ (0 - (zz & 1));
    *v = u <= INT64_MAX ? (int64_t)u : -(int64_t)(UINT64_MAX - u) - 1;
    return 0;
}

int mc_wire_read_float(mc_wire_reader *r, double *v)
{
    if (bytes_left(r) < 8)
        return mc_fail(MC_EWIRE, "wire: float needs 8 bytes but %zu are left", bytes_left(r));
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)r->p[i] << (8 * i);
    memcpy(v, &bits, sizeof *v);
    r->p += 8;
    return 0;
}

/* Minimal two's complement: the top byte must carry information beyond
 * sign-extending the byte below it. */
static int bigint_is_minimal(const unsigned char *d, size_t n)
{
    if (n < 2)
        return n == 1;
    unsigned char top = d[n - 1], below_sign = d[n - 2] & 0x80;
    return !((top == 0x00 && !below_sign) || (top == 0xff && below_sign));
}

static int check_blob(int tag, const unsigned char *d, size_t n)
{
    if (tag == MC_TAG_STR && !mc_utf8_valid(d, n))
        return mc_fail(MC_EWIRE, "wire: str of %zu bytes is not valid UTF-8", n);
    if (tag == MC_TAG_BIGINT) {
        if (!bigint_is_minimal(d, n))
            return mc_fail(MC_EWIRE, "wire: big int of %zu bytes is not minimally encoded", n);
        /* Minimal and at most 8 bytes means it fits int64: 'i' is mandatory. */
        if (n <= 8)
            return mc_fail(MC_EWIRE, "wire: big int of %zu bytes fits int64 (must use 'i')", n);
    }
    return 0;
}

int mc_wire_read_blob(mc_wire_reader *r, int tag, const unsigned char **data, size_t *n)
{
    if (tag != MC_TAG_STR && tag != MC_TAG_BYTES && tag != MC_TAG_PICKLE && tag != MC_TAG_BIGINT)
        return mc_fail(MC_EWIRE, "wire: tag 0x%02x has no length-prefixed payload",
                       (unsigned)tag & 0xffu);
    mc_wire_reader at = *r;
    uint64_t len;
    int rc = mc_wire_read_uvarint(&at, &len);
    if (rc)
        return rc;
    if (len > bytes_left(&at))
        return mc_fail(MC_EWIRE, "wire: %s length %llu exceeds the %zu bytes left",
                       tag_name(tag), (unsigned long long)len, bytes_left(&at));
    rc = check_blob(tag, at.p, (size_t)len);
    if (rc)
        return rc;
    *data = at.p;
    *n = (size_t)len;
    r->p = at.p + len;
    return 0;
}

int mc_wire_read_count(mc_wire_reader *r, int tag, uint64_t *count)
{
    if (tag != MC_TAG_TUPLE && tag != MC_TAG_LIST && tag != MC_TAG_SET && tag != MC_TAG_DICT)
        return mc_fail(MC_EWIRE, "wire: tag 0x%02x is not a container", (unsigned)tag & 0xffu);
    if (r->depth >= MC_WIRE_MAX_DEPTH)
        return mc_fail(MC_EWIRE, "wire: containers nest deeper than %d", MC_WIRE_MAX_DEPTH);
    mc_wire_reader at = *r;
    uint64_t c;
    int rc = mc_wire_read_uvarint(&at, &c);
    if (rc)
        return rc;
    /* Every value takes at least one byte, so a count beyond the bytes left
     * is a lie; rejecting it here bounds what a caller preallocates. */
    uint64_t per_item = tag == MC_TAG_DICT ? 2 : 1;
    if (c > bytes_left(&at) / per_item)
        return mc_fail(MC_EWIRE, "wire: %s count %llu exceeds what the %zu bytes left can hold",
                       tag_name(tag), (unsigned long long)c, bytes_left(&at));
    r->p = at.p;
    r->depth++;
    *count = c;
    return 0;
}

void mc_wire_leave(mc_wire_reader *r)
{
    if (r->depth > 0)
        r->depth--;
}

static int skip_payload(mc_wire_reader *r, int tag);

static int skip_items(mc_wire_reader *r, int tag)
{
    uint64_t count = 0;
    int rc = mc_wire_read_count(r, tag, &count);
    if (rc)
        return rc;
    if (tag == MC_TAG_DICT)
        count *= 2; /* cannot overflow: count <= bytes left / 2 */
    for (uint64_t i = 0; i < count; i++) {
        rc = mc_wire_skip(r);
        if (rc)
            return rc;
    }
    mc_wire_leave(r);
    return 0;
}

static int skip_payload(mc_wire_reader *r, int tag)
{
    int64_t i = 0;
    double d;
    const unsigned char *data = NULL;
    size_t n = 0;
    switch (tag) {
    case MC_TAG_NONE: case MC_TAG_TRUE: case MC_TAG_FALSE:
        return 0;
    case MC_TAG_INT:
        return mc_wire_read_int(r, &i);
    case MC_TAG_FLOAT:
        return mc_wire_read_float(r, &d);
    case MC_TAG_STR: case MC_TAG_BYTES: case MC_TAG_PICKLE: case MC_TAG_BIGINT:
        return mc_wire_read_blob(r, tag, &data, &n);
    case MC_TAG_HANDLE: {
        struct mc_shared *obj;
        return mc_wire_read_handle(r, &obj);
    }
    default:
        return skip_items(r, tag);
    }
}

int mc_wire_skip(mc_wire_reader *r)
{
    mc_wire_reader saved = *r;
    int tag = 0;
    int rc = mc_wire_read_tag(r, &tag);
    if (!rc)
        rc = skip_payload(r, tag);
    if (rc)
        *r = saved;
    return rc;
}

/* ------------------------------------------------------------------------
 * UTF-8
 * ------------------------------------------------------------------------ */

/* Length of the sequence starting with lead, and the allowed range of its
 * second byte (which is what rules out overlongs, surrogates and values
 * above U+10FFFF); 0 for a byte that cannot start a sequence. */
static int utf8_lead(unsigned char lead, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf)
        return 2;
    if (lead >= 0xe0 && lead <= 0xef) {
        if (lead == 0xe0)
            *lo = 0xa0; /* overlong below U+0800 */
        if (lead == 0xed)
            *hi = 0x9f; /* surrogates U+D800..U+DFFF */
        return 3;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
        if (lead == 0xf0)
            *lo = 0x90; /* overlong below U+10000 */
        if (lead == 0xf4)
            *hi = 0x8f; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

int mc_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        unsigned char lo, hi;
        size_t len = (size_t)utf8_lead(s[i], &lo, &hi);
        if (len == 0 || len > n - i)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}
