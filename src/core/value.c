/*
 * value.c — the mc_value tree a C host builds arguments with and reads
 * results from, and its conversion to and from the wire format.
 *
 * A value is a tagged struct. Containers hold a growable array of owned
 * child pointers (a dict keeps key, value, key, value... in insertion order),
 * and every child points back at its container. The back pointer is what
 * lets the API refuse to put one value in two places or a value inside
 * itself, lets mc_value_free ignore a value a container owns, and lets trees
 * of any depth be freed without recursion. Strings, bytes and pickles are
 * stored NUL-terminated with their length. Ints that fit int64 are stored as
 * such with their decimal text formatted at creation; bigger ones as minimal
 * two's complement bytes whose decimal text is computed on first request
 * (it is quadratic, and a decoded message must not pay for it unasked).
 *
 * Ownership rule of the adders (mc_value_append, mc_value_dict_set): they
 * take ownership of each item they are handed, also on failure, with two
 * exceptions where freeing would destroy something the caller still holds:
 * an item that already sits in a container stays owned by that container,
 * and an item that contains the target container (adding it would make a
 * cycle) is left alone. Both are reported as MC_EINVAL.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigint.h"
#include "error.h"
#include "shared.h"
#include "value.h"

struct mc_value {
    mc_type type;
    int is_big;        /* MC_TYPE_INT: stored as bytes in u.big */
    mc_value *parent;  /* the container owning this value, or NULL */
    union {
        int truth;
        double f;
        struct {
            int64_t v;
            char text[24]; /* "-9223372036854775808" and its NUL fit */
        } small;
        struct {
            unsigned char *bytes; /* minimal two's complement, little endian */
            size_t n;
            /* Decimal text, made on first mc_value_get_bigint. Published
             * with a compare-exchange so that concurrent readers of one
             * value (several threads reading a future's result) are safe. */
            _Atomic(char *) text;
        } big;
        struct {
            char *data; /* NUL-terminated; may hold NULs */
            size_t len;
        } blob;         /* STR, BYTES, OBJECT (a pickle) */
        struct {
            mc_value **items;
            size_t len; /* slots used; a dict uses two per pair */
            size_t cap;
        } seq;          /* LIST, TUPLE, SET, DICT */
        mc_shared *shared; /* SHARED: one reference, ours */
    } u;
};

/* ------------------------------------------------------------------------
 * Nodes
 * ------------------------------------------------------------------------ */

static int is_container(mc_type t)
{
    return t == MC_TYPE_LIST || t == MC_TYPE_TUPLE || t == MC_TYPE_SET || t == MC_TYPE_DICT;
}

static int is_blob(mc_type t)
{
    return t == MC_TYPE_STR || t == MC_TYPE_BYTES || t == MC_TYPE_OBJECT;
}

static mc_value *node_new(mc_type t)
{
    mc_value *v = calloc(1, sizeof *v);
    if (v)
        v->type = t;
    return v;
}

/* Frees v's own storage, not its children. */
static void node_free(mc_value *v)
{
    if (v->type == MC_TYPE_INT && v->is_big) {
        free(v->u.big.bytes);
        free(atomic_load(&v->u.big.text));
    } else if (is_blob(v->type)) {
        free(v->u.blob.data);
    } else if (is_container(v->type)) {
        free(v->u.seq.items);
    } else if (v->type == MC_TYPE_SHARED) {
        mc_shared_decref(v->u.shared);
    }
    free(v);
}

/* Frees root and everything below it, iteratively: descend by popping each
 * container's last child, climb back by the parent pointers. No recursion,
 * so a tree a host built a million levels deep frees like a flat one. */
static void tree_free(mc_value *root)
{
    mc_value *cur = root;
    while (cur) {
        if (is_container(cur->type) && cur->u.seq.len > 0) {
            cur = cur->u.seq.items[--cur->u.seq.len];
            continue;
        }
        mc_value *up = cur == root ? NULL : cur->parent;
        node_free(cur);
        cur = up;
    }
}

/* Whether a is v or one of v's containers. */
static int is_ancestor(const mc_value *a, const mc_value *v)
{
    for (; v; v = v->parent)
        if (v == a)
            return 1;
    return 0;
}

/* Whether an adder that failed to add item should free it: not when that
 * would destroy a value the caller still holds (see the file comment). */
static int releasable(const mc_value *container, const mc_value *item)
{
    return item && !item->parent && !is_ancestor(item, container);
}

static int seq_reserve(mc_value *c, size_t extra)
{
    if (extra <= c->u.seq.cap - c->u.seq.len)
        return 0;
    size_t cap = c->u.seq.cap ? c->u.seq.cap : 4;
    while (cap - c->u.seq.len < extra) {
        if (cap > SIZE_MAX / 2 / sizeof(mc_value *))
            return mc_fail(MC_ENOMEM, "container of %zu items cannot grow", c->u.seq.len);
        cap *= 2;
    }
    mc_value **items = realloc(c->u.seq.items, cap * sizeof *items);
    if (!items)
        return mc_fail(MC_ENOMEM, "out of memory growing a container to %zu items", cap);
    c->u.seq.items = items;
    c->u.seq.cap = cap;
    return 0;
}

/* Appends after seq_reserve made room. */
static void seq_push(mc_value *c, mc_value *item)
{
    c->u.seq.items[c->u.seq.len++] = item;
    item->parent = c;
}

/* ------------------------------------------------------------------------
 * Scalar constructors shared by the public API and the decoder
 * ------------------------------------------------------------------------ */

static int check_out(mc_value **out, const char *fn)
{
    if (!out)
        return mc_fail(MC_EINVAL, "%s: out is NULL", fn);
    return 0;
}

static int out_of_memory(const char *what)
{
    return mc_fail(MC_ENOMEM, "out of memory creating %s", what);
}

/* Decimal text of v, written without snprintf's cost per decoded int. */
static void format_int64(int64_t v, char *out)
{
    char tmp[24];
    int n = 0;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    if (v < 0)
        *out++ = '-';
    while (n > 0)
        *out++ = tmp[--n];
    *out = '\0';
}

static int make_int(int64_t i, mc_value **out)
{
    mc_value *v = node_new(MC_TYPE_INT);
    if (!v)
        return out_of_memory("an int");
    v->u.small.v = i;
    format_int64(i, v->u.small.text);
    *out = v;
    return 0;
}

/* Takes ownership of bytes (malloc'd, n >= 1, minimal). */
static int make_big_owned(unsigned char *bytes, size_t n, mc_value **out)
{
    int64_t small;
    if (mc_bigint_fits_int64(bytes, n, &small)) {
        free(bytes);
        return make_int(small, out);
    }
    mc_value *v = node_new(MC_TYPE_INT);
    if (!v) {
        free(bytes);
        return out_of_memory("a big int");
    }
    v->is_big = 1;
    v->u.big.bytes = bytes;
    v->u.big.n = n;
    atomic_init(&v->u.big.text, NULL);
    *out = v;
    return 0;
}

static int make_blob(mc_type t, const void *data, size_t len, mc_value **out)
{
    if (len == SIZE_MAX)
        return mc_fail(MC_ENOMEM, "%s of %zu bytes is too large", mc_type_name(t), len);
    mc_value *v = node_new(t);
    char *copy = malloc(len + 1);
    if (!v || !copy) {
        free(v);
        free(copy);
        return out_of_memory(mc_type_name(t));
    }
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    v->u.blob.data = copy;
    v->u.blob.len = len;
    *out = v;
    return 0;
}

static int make_node(mc_type t, mc_value **out)
{
    mc_value *v = node_new(t);
    if (!v)
        return out_of_memory(mc_type_name(t));
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------------
 * Public constructors
 * ------------------------------------------------------------------------ */

int mc_value_new_none(mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_none");
    return rc ? rc : make_node(MC_TYPE_NONE, out);
}

int mc_value_new_bool(int truth, mc_value **out)
{
    mc_clear_error();
    mc_value *v = NULL;
    int rc = check_out(out, "mc_value_new_bool");
    if (!rc)
        rc = make_node(MC_TYPE_BOOL, &v);
    if (rc)
        return rc;
    v->u.truth = truth != 0;
    *out = v;
    return 0;
}

int mc_value_new_int(int64_t i, mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_int");
    return rc ? rc : make_int(i, out);
}

int mc_value_new_bigint(const char *decimal, mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_bigint");
    if (rc)
        return rc;
    if (!decimal)
        return mc_fail(MC_EINVAL, "mc_value_new_bigint: decimal is NULL");
    unsigned char *bytes;
    size_t n = 0;
    rc = mc_bigint_from_decimal(decimal, strlen(decimal), &bytes, &n);
    return rc ? rc : make_big_owned(bytes, n, out);
}

int mc_value_new_float(double f, mc_value **out)
{
    mc_clear_error();
    mc_value *v = NULL;
    int rc = check_out(out, "mc_value_new_float");
    if (!rc)
        rc = make_node(MC_TYPE_FLOAT, &v);
    if (rc)
        return rc;
    v->u.f = f;
    *out = v;
    return 0;
}

int mc_value_new_str(const char *utf8, size_t len, mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_str");
    if (rc)
        return rc;
    if (!utf8)
        return mc_fail(MC_EINVAL, "mc_value_new_str: utf8 is NULL");
    if (len == MC_NUL_TERMINATED)
        len = strlen(utf8);
    if (!mc_utf8_valid((const unsigned char *)utf8, len))
        return mc_fail(MC_EINVAL, "mc_value_new_str: the %zu bytes are not valid UTF-8", len);
    return make_blob(MC_TYPE_STR, utf8, len, out);
}

int mc_value_new_bytes(const void *data, size_t len, mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_bytes");
    if (rc)
        return rc;
    if (!data && len > 0)
        return mc_fail(MC_EINVAL, "mc_value_new_bytes: data is NULL but len is %zu", len);
    return make_blob(MC_TYPE_BYTES, data, len, out);
}

int mc_value_new_list(mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_list");
    return rc ? rc : make_node(MC_TYPE_LIST, out);
}

int mc_value_new_tuple(mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_tuple");
    return rc ? rc : make_node(MC_TYPE_TUPLE, out);
}

int mc_value_new_dict(mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_dict");
    return rc ? rc : make_node(MC_TYPE_DICT, out);
}

int mc_value_new_set(mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_set");
    return rc ? rc : make_node(MC_TYPE_SET, out);
}

/* ------------------------------------------------------------------------
 * Adding to containers
 * ------------------------------------------------------------------------ */

/* Checks that item may go into container; the failures here are the ones
 * where item must not be freed (or there is nothing to free). */
static int check_addable(const mc_value *container, const mc_value *item, const char *fn,
                         const char *what)
{
    if (!item)
        return mc_fail(MC_EINVAL, "%s: %s is NULL", fn, what);
    if (item->parent)
        return mc_fail(MC_EINVAL, "%s: %s is already in a container (a value may be in only "
                       "one; it stays there and is not freed)", fn, what);
    if (is_ancestor(item, container))
        return mc_fail(MC_EINVAL, "%s: %s contains the container it would be added to (it is "
                       "not freed)", fn, what);
    return 0;
}

static int check_target(const mc_value *c, int dict, const char *fn)
{
    if (!c)
        return mc_fail(MC_EINVAL, "%s: container is NULL", fn);
    int ok = dict ? c->type == MC_TYPE_DICT : is_container(c->type) && c->type != MC_TYPE_DICT;
    if (!ok)
        return mc_fail(MC_ETYPE, "%s: cannot add to type %s (expected %s)", fn,
                       mc_type_name(c->type), dict ? "a dict" : "a list, tuple or set");
    return 0;
}

int mc_value_append(mc_value *container, mc_value *item)
{
    mc_clear_error();
    int rc = check_addable(container, item, "mc_value_append", "item");
    if (rc)
        return rc;
    rc = check_target(container, 0, "mc_value_append");
    if (!rc)
        rc = seq_reserve(container, 1);
    if (rc) {
        if (releasable(container, item))
            tree_free(item);
        return rc;
    }
    seq_push(container, item);
    return 0;
}

int mc_value_dict_set(mc_value *dict, mc_value *key, mc_value *val)
{
    mc_clear_error();
    int rc = 0;
    if (key && key == val)
        rc = mc_fail(MC_EINVAL, "mc_value_dict_set: key and val are the same value");
    if (!rc)
        rc = check_addable(dict, key, "mc_value_dict_set", "key");
    if (!rc)
        rc = check_addable(dict, val, "mc_value_dict_set", "val");
    if (!rc)
        rc = check_target(dict, 1, "mc_value_dict_set");
    if (!rc)
        rc = seq_reserve(dict, 2);
    if (rc) {
        /* Decide both before freeing either: one may sit inside the other. */
        int free_key = releasable(dict, key);
        int free_val = val != key && releasable(dict, val);
        if (free_key)
            tree_free(key);
        if (free_val)
            tree_free(val);
        return rc;
    }
    seq_push(dict, key);
    seq_push(dict, val);
    return 0;
}

/* ------------------------------------------------------------------------
 * Freeing and types
 * ------------------------------------------------------------------------ */

void mc_value_free(mc_value *v)
{
    /* A value a container owns is freed with its container; freeing it here
     * too would leave the container pointing at freed memory. */
    if (v && !v->parent)
        tree_free(v);
}

void mc_free(void *p)
{
    free(p);
}

int mc_value_is_owned(const mc_value *v)
{
    return v && v->parent;
}

mc_type mc_value_type(const mc_value *v)
{
    return v ? v->type : MC_TYPE_NONE;
}

const char *mc_type_name(mc_type t)
{
    switch (t) {
    case MC_TYPE_NONE: return "NoneType";
    case MC_TYPE_BOOL: return "bool";
    case MC_TYPE_INT: return "int";
    case MC_TYPE_FLOAT: return "float";
    case MC_TYPE_STR: return "str";
    case MC_TYPE_BYTES: return "bytes";
    case MC_TYPE_LIST: return "list";
    case MC_TYPE_TUPLE: return "tuple";
    case MC_TYPE_DICT: return "dict";
    case MC_TYPE_SET: return "set";
    case MC_TYPE_OBJECT: return "object";
    case MC_TYPE_SHARED: return "shared";
    default: return "unknown";
    }
}

/* ------------------------------------------------------------------------
 * Readers
 * ------------------------------------------------------------------------ */

/* The argument check every reader starts with. */
static int check_read(const mc_value *v, const void *out, mc_type want, const char *fn)
{
    if (!v)
        return mc_fail(MC_EINVAL, "%s: value is NULL", fn);
    if (!out)
        return mc_fail(MC_EINVAL, "%s: out pointer is NULL", fn);
    if (v->type != want)
        return mc_fail(MC_ETYPE, "%s: value has type %s, expected %s", fn,
                       mc_type_name(v->type), mc_type_name(want));
    return 0;
}

int mc_value_get_bool(const mc_value *v, int *out)
{
    mc_clear_error();
    int rc = check_read(v, out, MC_TYPE_BOOL, "mc_value_get_bool");
    if (rc)
        return rc;
    *out = v->u.truth;
    return 0;
}

int mc_value_get_int(const mc_value *v, int64_t *out)
{
    mc_clear_error();
    int rc = check_read(v, out, MC_TYPE_INT, "mc_value_get_int");
    if (rc)
        return rc;
    if (v->is_big)
        return mc_fail(MC_ERANGE, "mc_value_get_int: the int (%zu bytes) does not fit int64_t; "
                       "read it with mc_value_get_bigint", v->u.big.n);
    *out = v->u.small.v;
    return 0;
}

/* Safe from several threads at once: whoever publishes first wins, the
 * others free their copy and use the published one. */
static int big_text(mc_value *v, const char **out)
{
    char *text = atomic_load_explicit(&v->u.big.text, memory_order_acquire);
    if (!text) {
        char *mine;
        int rc = mc_bigint_to_decimal(v->u.big.bytes, v->u.big.n, &mine);
        if (rc)
            return rc;
        if (atomic_compare_exchange_strong_explicit(&v->u.big.text, &text, mine,
                                                    memory_order_acq_rel, memory_order_acquire))
            text = mine;
        else
            free(mine);
    }
    *out = text;
    return 0;
}

int mc_value_get_bigint(const mc_value *v, const char **decimal)
{
    mc_clear_error();
    int rc = check_read(v, decimal, MC_TYPE_INT, "mc_value_get_bigint");
    if (rc)
        return rc;
    if (!v->is_big) {
        *decimal = v->u.small.text;
        return 0;
    }
    /* The cache is the one field a reader writes; every value is malloc'd,
     * so writing through the cast is defined. */
    return big_text((mc_value *)v, decimal);
}

int mc_value_get_float(const mc_value *v, double *out)
{
    mc_clear_error();
    if (v && v->type == MC_TYPE_INT && out) {
        if (!v->is_big) {
            *out = (double)v->u.small.v;
            return 0;
        }
        return mc_bigint_to_double(v->u.big.bytes, v->u.big.n, out);
    }
    int rc = check_read(v, out, MC_TYPE_FLOAT, "mc_value_get_float");
    if (rc)
        return rc;
    *out = v->u.f;
    return 0;
}

int mc_value_get_str(const mc_value *v, const char **utf8, size_t *len)
{
    mc_clear_error();
    int rc = check_read(v, utf8, MC_TYPE_STR, "mc_value_get_str");
    if (rc)
        return rc;
    *utf8 = v->u.blob.data;
    if (len)
        *len = v->u.blob.len;
    return 0;
}

int mc_value_get_bytes(const mc_value *v, const void **data, size_t *len)
{
    mc_clear_error();
    int rc = check_read(v, data, MC_TYPE_BYTES, "mc_value_get_bytes");
    if (rc)
        return rc;
    if (!len)
        return mc_fail(MC_EINVAL, "mc_value_get_bytes: len is NULL");
    *data = v->u.blob.data;
    *len = v->u.blob.len;
    return 0;
}

size_t mc_value_len(const mc_value *v)
{
    if (!v || !is_container(v->type))
        return 0;
    return v->type == MC_TYPE_DICT ? v->u.seq.len / 2 : v->u.seq.len;
}

int mc_value_get_item(const mc_value *v, size_t i, const mc_value **out)
{
    mc_clear_error();
    if (!v || !out)
        return mc_fail(MC_EINVAL, "mc_value_get_item: %s is NULL", v ? "out" : "value");
    if (!is_container(v->type) || v->type == MC_TYPE_DICT)
        return mc_fail(MC_ETYPE, "mc_value_get_item: value has type %s, expected list, tuple "
                       "or set%s", mc_type_name(v->type),
                       v->type == MC_TYPE_DICT ? " (use mc_value_get_pair)" : "");
    if (i >= v->u.seq.len)
        return mc_fail(MC_ERANGE, "mc_value_get_item: index %zu is past the end of a %s of %zu",
                       i, mc_type_name(v->type), v->u.seq.len);
    *out = v->u.seq.items[i];
    return 0;
}

int mc_value_get_pair(const mc_value *dict, size_t i, const mc_value **key, const mc_value **val)
{
    mc_clear_error();
    int rc = check_read(dict, key, MC_TYPE_DICT, "mc_value_get_pair");
    if (rc)
        return rc;
    if (!val)
        return mc_fail(MC_EINVAL, "mc_value_get_pair: val is NULL");
    if (i >= dict->u.seq.len / 2)
        return mc_fail(MC_ERANGE, "mc_value_get_pair: index %zu is past the end of a dict of %zu",
                       i, dict->u.seq.len / 2);
    *key = dict->u.seq.items[2 * i];
    *val = dict->u.seq.items[2 * i + 1];
    return 0;
}

int mc_value_dict_get(const mc_value *dict, const char *key, const mc_value **out)
{
    mc_clear_error();
    int rc = check_read(dict, out, MC_TYPE_DICT, "mc_value_dict_get");
    if (rc)
        return rc;
    if (!key)
        return mc_fail(MC_EINVAL, "mc_value_dict_get: key is NULL");
    size_t klen = strlen(key);
    /* From the end: with duplicate keys the receiving interpreter keeps the
     * last, so this agrees with what Python would see. */
    for (size_t i = dict->u.seq.len; i >= 2; i -= 2) {
        const mc_value *k = dict->u.seq.items[i - 2];
        if (k->type == MC_TYPE_STR && k->u.blob.len == klen && !memcmp(k->u.blob.data, key, klen)) {
            *out = dict->u.seq.items[i - 1];
            return 0;
        }
    }
    return mc_fail(MC_ENOTFOUND, "mc_value_dict_get: no key \"%.200s\"", key);
}

/* ------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------ */

static int container_tag(mc_type t)
{
    switch (t) {
    case MC_TYPE_LIST: return MC_TAG_LIST;
    case MC_TYPE_TUPLE: return MC_TAG_TUPLE;
    case MC_TYPE_SET: return MC_TAG_SET;
    default: return MC_TAG_DICT;
    }
}

static int blob_tag(mc_type t)
{
    return t == MC_TYPE_STR ? MC_TAG_STR : t == MC_TYPE_BYTES ? MC_TAG_BYTES : MC_TAG_PICKLE;
}

static int write_value(mc_buf *b, const mc_value *v, int depth);

static int write_container(mc_buf *b, const mc_value *v, int depth)
{
    /* Checked before recursing, so a host-built tree of any depth costs at
     * most MC_WIRE_MAX_DEPTH frames and gets a clean error. */
    if (depth >= MC_WIRE_MAX_DEPTH)
        return mc_fail(MC_EENCODE, "value nests deeper than %d containers, the wire format's "
                       "limit", MC_WIRE_MAX_DEPTH);
    int rc = mc_wire_put_container(b, container_tag(v->type), mc_value_len(v));
    for (size_t i = 0; !rc && i < v->u.seq.len; i++)
        rc = write_value(b, v->u.seq.items[i], depth + 1);
    return rc;
}

static int write_value(mc_buf *b, const mc_value *v, int depth)
{
    switch (v->type) {
    case MC_TYPE_NONE:
        return mc_wire_put_tag(b, MC_TAG_NONE);
    case MC_TYPE_BOOL:
        return mc_wire_put_tag(b, v->u.truth ? MC_TAG_TRUE : MC_TAG_FALSE);
    case MC_TYPE_INT:
        if (v->is_big)
            return mc_wire_put_blob(b, MC_TAG_BIGINT, v->u.big.bytes, v->u.big.n);
        return mc_wire_put_int(b, v->u.small.v);
    case MC_TYPE_FLOAT:
        return mc_wire_put_float(b, v->u.f);
    case MC_TYPE_STR: case MC_TYPE_BYTES: case MC_TYPE_OBJECT:
        return mc_wire_put_blob(b, blob_tag(v->type), v->u.blob.data, v->u.blob.len);
    case MC_TYPE_SHARED:
        return mc_wire_put_handle(b, v->u.shared);
    default:
        return write_container(b, v, depth);
    }
}

int mc_value_write(mc_buf *b, const mc_value *v)
{
    if (!b || !v)
        return mc_fail(MC_EINVAL, "mc_value_write: %s is NULL", b ? "value" : "buffer");
    size_t old_len = b->len;
    int rc = write_value(b, v, 0);
    if (rc)
        b->len = old_len;
    return rc;
}

int mc_value_encode(const mc_value *v, void **data, size_t *len)
{
    mc_clear_error();
    if (!v || !data || !len)
        return mc_fail(MC_EINVAL, "mc_value_encode: %s is NULL",
                       !v ? "value" : !data ? "data" : "len");
    mc_buf b = {0};
    int rc = mc_wire_put_version(&b);
    if (!rc)
        rc = mc_value_write(&b, v);
    if (!rc && b.nhandles)
        rc = mc_fail(MC_EENCODE, "the value holds shared objects, which travel only in tasks and "
                                 "channels, not as plain bytes");
    if (rc) {
        mc_buf_free(&b);
        return rc;
    }
    *data = mc_buf_detach(&b, len);
    return 0;
}

int mc_value_to_msg(const mc_value *v, mc_msg *out)
{
    mc_buf b = {0};
    int rc = mc_wire_put_version(&b);
    if (!rc)
        rc = mc_value_write(&b, v);
    if (rc) {
        mc_buf_free(&b);
        return rc;
    }
    mc_buf_to_msg(&b, out);
    return MC_OK;
}

/* ------------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------------ */

/* The reader of one decode. fail_at remembers where the innermost failing
 * read stood, since every level restores its cursor on the way out. */
typedef struct decoder {
    mc_wire_reader *r;
    const unsigned char *fail_at;
} decoder;

/* Records the position of a failed wire read (the first one wins). */
static int wire_failed(decoder *d, int rc)
{
    if (rc == MC_EWIRE && !d->fail_at)
        d->fail_at = d->r->p;
    return rc;
}

static int read_value(decoder *d, mc_value **out);

static int read_items(decoder *d, int tag, mc_value **out)
{
    uint64_t count = 0;
    int rc = wire_failed(d, mc_wire_read_count(d->r, tag, &count));
    if (rc)
        return rc;
    mc_type t = tag == MC_TAG_LIST ? MC_TYPE_LIST : tag == MC_TAG_TUPLE ? MC_TYPE_TUPLE
              : tag == MC_TAG_SET ? MC_TYPE_SET : MC_TYPE_DICT;
    mc_value *c = NULL;
    rc = make_node(t, &c);
    if (rc)
        return rc;
    /* Grown as items arrive rather than sized from the count: a count is
     * only bounded by the bytes left, and nested containers could each
     * claim the whole message. */
    uint64_t slots = tag == MC_TAG_DICT ? 2 * count : count;
    for (uint64_t i = 0; i < slots; i++) {
        mc_value *item = NULL;
        rc = read_value(d, &item);
        if (!rc) {
            rc = seq_reserve(c, 1);
            if (rc)
                tree_free(item);
        }
        if (rc) {
            tree_free(c);
            return rc;
        }
        seq_push(c, item);
    }
    mc_wire_leave(d->r);
    *out = c;
    return 0;
}

static int read_blob_value(decoder *d, int tag, mc_value **out)
{
    const unsigned char *data = NULL;
    size_t n = 0;
    int rc = wire_failed(d, mc_wire_read_blob(d->r, tag, &data, &n));
    if (rc)
        return rc;
    if (tag == MC_TAG_BIGINT) {
        unsigned char *copy = malloc(n);
        if (!copy)
            return out_of_memory("a big int");
        memcpy(copy, data, n);
        return make_big_owned(copy, n, out);
    }
    mc_type t = tag == MC_TAG_STR ? MC_TYPE_STR : tag == MC_TAG_BYTES ? MC_TYPE_BYTES
              : MC_TYPE_OBJECT;
    return make_blob(t, data, n, out);
}

static int read_scalar(decoder *d, int tag, mc_value **out)
{
    int64_t i = 0;
    double f = 0.0;
    int rc;
    switch (tag) {
    case MC_TAG_NONE:
        return make_node(MC_TYPE_NONE, out);
    case MC_TAG_TRUE: case MC_TAG_FALSE:
        rc = make_node(MC_TYPE_BOOL, out);
        if (!rc)
            (*out)->u.truth = tag == MC_TAG_TRUE;
        return rc;
    case MC_TAG_INT:
        rc = wire_failed(d, mc_wire_read_int(d->r, &i));
        return rc ? rc : make_int(i, out);
    case MC_TAG_FLOAT:
        rc = wire_failed(d, mc_wire_read_float(d->r, &f));
        if (!rc)
            rc = make_node(MC_TYPE_FLOAT, out);
        if (!rc)
            (*out)->u.f = f;
        return rc;
    case MC_TAG_HANDLE: {
        mc_shared *obj = NULL;
        rc = wire_failed(d, mc_wire_read_handle(d->r, &obj));
        if (!rc)
            rc = make_node(MC_TYPE_SHARED, out);
        if (!rc)
            (*out)->u.shared = mc_shared_incref(obj);
        return rc;
    }
    default:
        return read_blob_value(d, tag, out);
    }
}

static int read_value(decoder *d, mc_value **out)
{
    int tag = 0;
    int rc = wire_failed(d, mc_wire_read_tag(d->r, &tag));
    if (rc)
        return rc;
    if (tag == MC_TAG_TUPLE || tag == MC_TAG_LIST || tag == MC_TAG_SET || tag == MC_TAG_DICT)
        return read_items(d, tag, out);
    return read_scalar(d, tag, out);
}

int mc_value_read(mc_wire_reader *r, mc_value **out)
{
    if (!r || !out)
        return mc_fail(MC_EINVAL, "mc_value_read: %s is NULL", r ? "out" : "reader");
    mc_wire_reader saved = *r;
    decoder d = {r, NULL};
    int rc = read_value(&d, out);
    if (rc)
        *r = saved;
    return rc;
}

int mc_value_from_msg(const mc_msg *msg, mc_value **out)
{
    mc_wire_reader r;
    int rc = mc_wire_reader_init_msg(&r, msg);
    if (rc)
        return rc;
    mc_value *v = NULL;
    rc = mc_value_read(&r, &v);
    if (!rc && (rc = mc_wire_reader_finish(&r)) != 0)
        mc_value_free(v);
    if (!rc)
        *out = v;
    return rc;
}

int mc_value_new_shared(mc_shared *obj, mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_new_shared");
    if (rc)
        return rc;
    if (!mc_shared_valid(obj, 0))
        return mc_fail(MC_EINVAL, "mc_value_new_shared: not a shared object (NULL or freed handle)");
    rc = make_node(MC_TYPE_SHARED, out);
    if (!rc)
        (*out)->u.shared = mc_shared_incref(obj);
    return rc;
}

int mc_value_get_shared(const mc_value *v, mc_shared **obj)
{
    int rc = check_read(v, obj, MC_TYPE_SHARED, "mc_value_get_shared");
    if (rc)
        return rc;
    *obj = v->u.shared;
    return MC_OK;
}

/* Appends the failure's offset in the message to the wire layer's detail,
 * which cannot know it (the reader holds no start pointer). */
static int fail_at_offset(int rc, const unsigned char *start, const unsigned char *at)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s", mc_errmsg());
    return mc_fail(rc, "%s at offset %zu", detail, (size_t)(at - start));
}

int mc_value_decode(const void *data, size_t len, mc_value **out)
{
    mc_clear_error();
    int rc = check_out(out, "mc_value_decode");
    if (rc)
        return rc;
    if (!data && len > 0)
        return mc_fail(MC_EINVAL, "mc_value_decode: data is NULL but len is %zu", len);
    mc_wire_reader r;
    rc = mc_wire_reader_init(&r, data, len);
    if (rc)
        return rc;
    decoder d = {&r, NULL};
    mc_value *v = NULL;
    rc = read_value(&d, &v);
    if (rc)
        return rc == MC_EWIRE && d.fail_at ? fail_at_offset(rc, data, d.fail_at) : rc;
    rc = mc_wire_reader_finish(&r);
    if (rc) {
        mc_value_free(v);
        return fail_at_offset(rc, data, r.p);
    }
    *out = v;
    return 0;
}
