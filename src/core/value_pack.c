/*
 * value_pack.c — mc_value_pack: builds a value tree from a Py_BuildValue-like
 * format, by recursive descent over the format with the variadic arguments
 * consumed as the codes are reached.
 *
 * 'V' arguments are owned by the call in every case. When building fails the
 * partial tree is freed (with the V values already placed in it), and the
 * rest of the format is walked only to consume the remaining arguments and
 * free the V values among them. That walk must stop at a character that is
 * not a format code, since it cannot know what arguments such a character
 * stands for: V arguments after an unknown character are not freed. A V
 * argument that already sits in a container is never freed (its container
 * owns it), as with mc_value_append.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "value.h"

typedef struct packer {
    const char *fmt;
    const char *p;   /* the next format character */
    va_list *ap;
    int depth;
} packer;

static int is_ignored(char c)
{
    return c == ' ' || c == ',' || c == ':' || c == '\t' || c == '\n' || c == '\r';
}

static int is_scalar_code(char c)
{
    return c != '\0' && strchr("nbidsyIV", c) != NULL;
}

static void skip_ignored(packer *pk)
{
    while (is_ignored(*pk->p))
        pk->p++;
}

static size_t pos(const packer *pk, const char *at)
{
    return (size_t)(at - pk->fmt);
}

/* Puts the position of a failed code in front of the constructor's detail. */
static int fail_code(const packer *pk, int rc, const char *at)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s", mc_errmsg());
    return mc_fail(rc, "mc_value_pack: '%c' at position %zu in \"%.100s\": %s", *at,
                   pos(pk, at), pk->fmt, detail);
}

static int fail_format(const packer *pk, const char *why, const char *at)
{
    return mc_fail(MC_EINVAL, "mc_value_pack: %s at position %zu in \"%.100s\"", why,
                   pos(pk, at), pk->fmt);
}

/* ------------------------------------------------------------------------
 * Scalars
 * ------------------------------------------------------------------------ */

static int take_value_arg(packer *pk, const char *at, mc_value **out)
{
    mc_value *v = va_arg(*pk->ap, mc_value *);
    if (!v)
        return fail_format(pk, "'V' argument is NULL", at);
    /* Its container owns it: report, never free (see the file comment). */
    if (mc_value_is_owned(v))
        return fail_format(pk, "'V' argument is already in a container (it is not freed)", at);
    *out = v;
    return 0;
}

static int pack_scalar(packer *pk, mc_value **out)
{
    const char *at = pk->p++;
    const char *s;
    const void *data;
    size_t len;
    int rc;
    switch (*at) {
    case 'n': rc = mc_value_new_none(out); break;
    case 'b': rc = mc_value_new_bool(va_arg(*pk->ap, int), out); break;
    case 'i': rc = mc_value_new_int(va_arg(*pk->ap, int64_t), out); break;
    case 'd': rc = mc_value_new_float(va_arg(*pk->ap, double), out); break;
    case 's':
        s = va_arg(*pk->ap, const char *);
        rc = mc_value_new_str(s, MC_NUL_TERMINATED, out);
        break;
    case 'I':
        s = va_arg(*pk->ap, const char *);
        rc = mc_value_new_bigint(s, out);
        break;
    case 'y':
        data = va_arg(*pk->ap, const void *);
        len = va_arg(*pk->ap, size_t);
        rc = mc_value_new_bytes(data, len, out);
        break;
    default: /* 'V' */
        return take_value_arg(pk, at, out);
    }
    return rc ? fail_code(pk, rc, at) : 0;
}

/* ------------------------------------------------------------------------
 * Containers
 * ------------------------------------------------------------------------ */

static int pack_value(packer *pk, mc_value **out);

static char closer_of(char open)
{
    return open == '(' ? ')' : open == '[' ? ']' : '}';
}

static int new_container(char open, mc_value **out)
{
    if (open == '(')
        return mc_value_new_tuple(out);
    if (open == '[')
        return mc_value_new_list(out);
    return mc_value_new_dict(out);
}

/* Checks what follows an item inside a container: its closer (consumed,
 * *done set), another item, or an error. */
static int at_item_boundary(packer *pk, const char *open, int *done)
{
    char close = closer_of(*open);
    skip_ignored(pk);
    *done = 0;
    if (*pk->p == close) {
        pk->p++;
        *done = 1;
        return 0;
    }
    if (*pk->p == '\0') {
        char why[64];
        snprintf(why, sizeof why, "format ends inside the '%c' opened", *open);
        return fail_format(pk, why, open);
    }
    if (*pk->p == ')' || *pk->p == ']' || *pk->p == '}') {
        char why[96];
        snprintf(why, sizeof why, "'%c' closes the '%c' opened at position %zu", *pk->p, *open,
                 pos(pk, open));
        return fail_format(pk, why, pk->p);
    }
    return 0;
}

/* Packs one item and adds it to c (for a dict, one key and its value). */
static int pack_item(packer *pk, mc_value *c, const char *open)
{
    mc_value *key, *val;
    int rc = pack_value(pk, &key);
    if (rc)
        return rc;
    if (*open != '{') {
        rc = mc_value_append(c, key);
        return rc ? fail_code(pk, rc, open) : 0;
    }
    int done;
    rc = at_item_boundary(pk, open, &done);
    if (!rc && done)
        rc = fail_format(pk, "dict key has no value before the '}'", pk->p - 1);
    if (!rc)
        rc = pack_value(pk, &val);
    if (rc) {
        mc_value_free(key);
        return rc;
    }
    rc = mc_value_dict_set(c, key, val);
    return rc ? fail_code(pk, rc, open) : 0;
}

static int pack_container(packer *pk, mc_value **out)
{
    const char *open = pk->p++;
    if (pk->depth >= MC_WIRE_MAX_DEPTH)
        return fail_format(pk, "format nests deeper than the wire format's 128 containers",
                           open);
    mc_value *c;
    int rc = new_container(*open, &c);
    if (rc)
        return fail_code(pk, rc, open);
    pk->depth++;
    int done = 0;
    while (!rc) {
        rc = at_item_boundary(pk, open, &done);
        if (rc || done)
            break;
        rc = pack_item(pk, c, open);
    }
    pk->depth--;
    if (rc) {
        mc_value_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int pack_value(packer *pk, mc_value **out)
{
    skip_ignored(pk);
    char c = *pk->p;
    if (c == '(' || c == '[' || c == '{')
        return pack_container(pk, out);
    if (is_scalar_code(c))
        return pack_scalar(pk, out);
    if (c == '\0')
        return fail_format(pk, "format ends where a value should be", pk->p);
    if (c == ')' || c == ']' || c == '}')
        return fail_format(pk, "unmatched closing bracket", pk->p);
    char why[64];
    snprintf(why, sizeof why, "unknown format character '%c'", c);
    return fail_format(pk, why, pk->p);
}

/* ------------------------------------------------------------------------
 * Failure: consume the remaining arguments, freeing the V values
 * ------------------------------------------------------------------------ */

static void drain(packer *pk)
{
    for (;; pk->p++) {
        switch (*pk->p) {
        case '\0': return;
        case 'n': break;
        case 'b': (void)va_arg(*pk->ap, int); break;
        case 'i': (void)va_arg(*pk->ap, int64_t); break;
        case 'd': (void)va_arg(*pk->ap, double); break;
        case 's': case 'I': (void)va_arg(*pk->ap, const char *); break;
        case 'y':
            (void)va_arg(*pk->ap, const void *);
            (void)va_arg(*pk->ap, size_t);
            break;
        case 'V': mc_value_free(va_arg(*pk->ap, mc_value *)); break;
        default:
            if (!is_ignored(*pk->p) && !strchr("()[]{}", *pk->p))
                return; /* unknown: cannot tell what arguments follow */
        }
    }
}

int mc_value_pack(mc_value **out, const char *format, ...)
{
    mc_clear_error();
    if (!format)
        return mc_fail(MC_EINVAL, "mc_value_pack: format is NULL");
    va_list ap;
    va_start(ap, format);
    packer pk = {format, format, &ap, 0};
    mc_value *v = NULL;
    int rc;
    if (!out) {
        rc = mc_fail(MC_EINVAL, "mc_value_pack: out is NULL");
    } else {
        rc = pack_value(&pk, &v);
        skip_ignored(&pk);
        if (!rc && *pk.p)
            rc = fail_format(&pk, "format describes more than one value: extra text", pk.p);
    }
    if (rc) {
        mc_value_free(v);
        drain(&pk);
    } else {
        *out = v;
    }
    va_end(ap);
    return rc;
}
