/*
 * fuzz_wire.c — libFuzzer target for the wire decoder. Arbitrary bytes go to
 * mc_value_decode; whatever it accepts must re-encode to a canonical message
 * that decodes again and re-encodes to the very same bytes. Along the way it
 * checks that mc_wire_skip accepts exactly what the decoder accepts, that
 * every failure carries a detail, and that big ints survive a trip through
 * their decimal text. Any disagreement aborts.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude
 *        -Isrc/core src/core/{error,wire,bigint,value,value_pack}.c
 *        tests/fuzz/fuzz_wire.c -o fuzz_wire
 * Seeds: tests/fuzz/corpus/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manycore.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* The skip path must agree with the decoder on what is well formed. */
static int skip_accepts(const uint8_t *data, size_t size)
{
    mc_wire_reader r;
    if (mc_wire_reader_init(&r, data, size) != 0)
        return 0;
    return mc_wire_skip(&r) == 0 && mc_wire_reader_finish(&r) == 0;
}

/* A big int's decimal text must rebuild the same int. */
static void check_int(const mc_value *v)
{
    const char *text;
    check(mc_value_get_bigint(v, &text) == MC_OK);
    mc_value *again;
    check(mc_value_new_bigint(text, &again) == MC_OK);
    void *a, *b;
    size_t na, nb;
    check(mc_value_encode(v, &a, &na) == MC_OK);
    check(mc_value_encode(again, &b, &nb) == MC_OK);
    check(na == nb && memcmp(a, b, na) == 0);
    double d;
    int rc = mc_value_get_float(v, &d);
    check(rc == MC_OK || rc == MC_ERANGE);
    mc_free(a);
    mc_free(b);
    mc_value_free(again);
}

/* Reads every part of the tree back through the public readers. */
static void walk(const mc_value *v)
{
    const mc_value *k, *item;
    const char *text;
    size_t len;
    switch (mc_value_type(v)) {
    case MC_TYPE_INT:
        check_int(v);
        break;
    case MC_TYPE_STR:
        check(mc_value_get_str(v, &text, &len) == MC_OK && text[len] == '\0');
        break;
    case MC_TYPE_DICT:
        for (size_t i = 0; i < mc_value_len(v); i++) {
            check(mc_value_get_pair(v, i, &k, &item) == MC_OK);
            walk(k);
            walk(item);
            if (mc_value_get_str(k, &text, &len) == MC_OK && strlen(text) == len)
                check(mc_value_dict_get(v, text, &item) == MC_OK);
        }
        break;
    case MC_TYPE_LIST: case MC_TYPE_TUPLE: case MC_TYPE_SET:
        for (size_t i = 0; i < mc_value_len(v); i++) {
            check(mc_value_get_item(v, i, &item) == MC_OK);
            walk(item);
        }
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_value *v = NULL;
    int rc = mc_value_decode(data, size, &v);
    check(skip_accepts(data, size) == (rc == MC_OK));
    if (rc != MC_OK) {
        check(rc == MC_EWIRE && v == NULL && mc_errmsg()[0] != '\0');
        return 0;
    }
    walk(v);
    void *first, *second;
    size_t n1, n2;
    mc_value *copy = NULL;
    check(mc_value_encode(v, &first, &n1) == MC_OK);
    check(mc_value_decode(first, n1, &copy) == MC_OK);
    check(mc_value_encode(copy, &second, &n2) == MC_OK);
    check(n1 == n2 && memcmp(first, second, n1) == 0);
    check(n1 <= size); /* canonical form is never longer than the input */
    mc_free(first);
    mc_free(second);
    mc_value_free(copy);
    mc_value_free(v);
    return 0;
}
