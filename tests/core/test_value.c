/*
 * test_value.c — the mc_value API a C host relies on: building values,
 * reading them back, ownership when adding to containers, round trips of
 * every type through the wire format, big ints, and mc_value_pack.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bigint.h"
#include "manycore.h"
#include "wire.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* Encodes v, decodes the bytes, re-encodes the copy and checks both
 * encodings agree. Returns the decoded copy (the caller frees it). */
static mc_value *round_trip(const mc_value *v)
{
    void *a, *b;
    size_t na, nb;
    mc_value *copy = NULL;
    assert_int_equal(mc_value_encode(v, &a, &na), MC_OK);
    assert_int_equal(mc_value_decode(a, na, &copy), MC_OK);
    assert_int_equal(mc_value_encode(copy, &b, &nb), MC_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    mc_free(a);
    mc_free(b);
    assert_int_equal(mc_value_type(copy), mc_value_type(v));
    return copy;
}

static mc_value *new_int(int64_t i)
{
    mc_value *v;
    assert_int_equal(mc_value_new_int(i, &v), MC_OK);
    return v;
}

static mc_value *new_str(const char *s)
{
    mc_value *v;
    assert_int_equal(mc_value_new_str(s, MC_NUL_TERMINATED, &v), MC_OK);
    return v;
}

static mc_value *new_list(void)
{
    mc_value *v;
    assert_int_equal(mc_value_new_list(&v), MC_OK);
    return v;
}

static mc_value *new_bigint(const char *text)
{
    mc_value *v;
    assert_int_equal(mc_value_new_bigint(text, &v), MC_OK);
    return v;
}

static const char *bigint_text(const mc_value *v)
{
    const char *text;
    assert_int_equal(mc_value_get_bigint(v, &text), MC_OK);
    return text;
}

/* Wraps leaf in `depth` one-item lists. */
static mc_value *nest(mc_value *leaf, int depth)
{
    mc_value *v = leaf;
    for (int i = 0; i < depth; i++) {
        mc_value *outer = new_list();
        assert_int_equal(mc_value_append(outer, v), MC_OK);
        v = outer;
    }
    return v;
}

/* Decimal text of 2^k, by repeated doubling (independent of bigint.c). */
static char *power_of_two_text(int k, int negative)
{
    char *digits = calloc(400, 1); /* little-endian digit values */
    int n = 1;
    digits[0] = 1;
    for (int i = 0; i < k; i++) {
        int carry = 0;
        for (int d = 0; d < n; d++) {
            int x = digits[d] * 2 + carry;
            digits[d] = (char)(x % 10);
            carry = x / 10;
        }
        if (carry)
            digits[n++] = (char)carry;
    }
    char *text = malloc((size_t)n + 2);
    int p = 0;
    if (negative)
        text[p++] = '-';
    for (int d = n - 1; d >= 0; d--)
        text[p++] = (char)('0' + digits[d]);
    text[p] = '\0';
    free(digits);
    return text;
}

/* The 'I' payload of an encoded big int. */
static void encoded_bigint_bytes(const mc_value *v, unsigned char *out, size_t *n)
{
    void *data;
    size_t len;
    assert_int_equal(mc_value_encode(v, &data, &len), MC_OK);
    mc_wire_reader r;
    assert_int_equal(mc_wire_reader_init(&r, data, len), 0);
    int tag;
    const unsigned char *payload;
    assert_int_equal(mc_wire_read_tag(&r, &tag), 0);
    assert_int_equal(tag, 'I');
    assert_int_equal(mc_wire_read_blob(&r, tag, &payload, n), 0);
    memcpy(out, payload, *n);
    mc_free(data);
}

/* ------------------------------------------------------------------------
 * Scalars
 * ------------------------------------------------------------------------ */

static void none_and_bools_round_trip(void **state)
{
    (void)state;
    mc_value *vals[3];
    assert_int_equal(mc_value_new_none(&vals[0]), MC_OK);
    assert_int_equal(mc_value_new_bool(1, &vals[1]), MC_OK);
    assert_int_equal(mc_value_new_bool(42, &vals[2]), MC_OK);
    for (int i = 0; i < 3; i++) {
        mc_value *copy = round_trip(vals[i]);
        if (i > 0) {
            int truth;
            assert_int_equal(mc_value_get_bool(copy, &truth), MC_OK);
            assert_int_equal(truth, 1);
        }
        mc_value_free(copy);
        mc_value_free(vals[i]);
    }
    mc_value *f;
    int truth = 7;
    assert_int_equal(mc_value_new_bool(0, &f), MC_OK);
    assert_int_equal(mc_value_get_bool(f, &truth), MC_OK);
    assert_int_equal(truth, 0);
    mc_value_free(f);
}

static void int64_edges_round_trip(void **state)
{
    (void)state;
    const int64_t vals[] = {0, 1, -1, 127, -128, INT32_MIN, INT64_MAX, INT64_MIN};
    const char *texts[] = {"0", "1", "-1", "127", "-128", "-2147483648",
                           "9223372036854775807", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        mc_value *v = new_int(vals[i]);
        mc_value *copy = round_trip(v);
        int64_t got;
        assert_int_equal(mc_value_get_int(copy, &got), MC_OK);
        assert_true(got == vals[i]);
        assert_string_equal(bigint_text(copy), texts[i]);
        mc_value_free(copy);
        mc_value_free(v);
    }
}

static void floats_round_trip_including_nan_and_infinity(void **state)
{
    (void)state;
    const double vals[] = {0.0, -0.0, 1.5, -1e308, DBL_MIN, DBL_TRUE_MIN, INFINITY,
                           -INFINITY, NAN};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        mc_value *v;
        assert_int_equal(mc_value_new_float(vals[i], &v), MC_OK);
        mc_value *copy = round_trip(v);
        double got;
        assert_int_equal(mc_value_get_float(copy, &got), MC_OK);
        assert_memory_equal(&got, &vals[i], sizeof got);
        mc_value_free(copy);
        mc_value_free(v);
    }
}

static void str_with_embedded_nul_round_trips(void **state)
{
    (void)state;
    static const char text[] = "a\0b\xc3\xa9\0";
    mc_value *v;
    assert_int_equal(mc_value_new_str(text, sizeof text - 1, &v), MC_OK);
    mc_value *copy = round_trip(v);
    const char *got;
    size_t len;
    assert_int_equal(mc_value_get_str(copy, &got, &len), MC_OK);
    assert_int_equal(len, sizeof text - 1);
    assert_memory_equal(got, text, len);
    assert_int_equal(got[len], '\0');
    mc_value_free(copy);
    mc_value_free(v);
}

static void bytes_with_embedded_nul_round_trip(void **state)
{
    (void)state;
    static const unsigned char data[] = {0, 0xff, 0, 0x80, 'x'};
    mc_value *v;
    assert_int_equal(mc_value_new_bytes(data, sizeof data, &v), MC_OK);
    mc_value *copy = round_trip(v);
    const void *got;
    size_t len;
    assert_int_equal(mc_value_get_bytes(copy, &got, &len), MC_OK);
    assert_int_equal(len, sizeof data);
    assert_memory_equal(got, data, len);
    mc_value_free(copy);
    mc_value_free(v);
}

static void empty_str_and_bytes_read_back_as_non_null(void **state)
{
    (void)state;
    mc_value *s, *b;
    assert_int_equal(mc_value_new_str("", 0, &s), MC_OK);
    assert_int_equal(mc_value_new_bytes(NULL, 0, &b), MC_OK);
    const char *text;
    const void *data;
    size_t len = 99;
    assert_int_equal(mc_value_get_str(s, &text, NULL), MC_OK);
    assert_string_equal(text, "");
    assert_int_equal(mc_value_get_bytes(b, &data, &len), MC_OK);
    assert_non_null(data);
    assert_int_equal(len, 0);
    mc_value *cs = round_trip(s), *cb = round_trip(b);
    mc_value_free(cs);
    mc_value_free(cb);
    mc_value_free(s);
    mc_value_free(b);
}

static void new_str_rejects_invalid_utf8(void **state)
{
    (void)state;
    mc_value *v = NULL;
    assert_int_equal(mc_value_new_str("\xed\xa0\x80", MC_NUL_TERMINATED, &v), MC_EINVAL);
    assert_int_equal(mc_value_new_str("ok\xc0\x80", 4, &v), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "UTF-8"));
    assert_null(v);
}

/* ------------------------------------------------------------------------
 * Big ints
 * ------------------------------------------------------------------------ */

static void bigint_round_trips_through_decimal_text(void **state)
{
    (void)state;
    char hundreds[702];
    hundreds[0] = '-';
    for (int i = 1; i < 701; i++)
        hundreds[i] = (char)('1' + i % 9);
    hundreds[701] = '\0';
    const char *texts[] = {
        "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "-18446744073709551616", "1000000000000000000000000000000",
        "-1000000000000000000000000000000", hundreds, hundreds + 1,
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        mc_value *v = new_bigint(texts[i]);
        assert_string_equal(bigint_text(v), texts[i]);
        int64_t small;
        assert_int_equal(mc_value_get_int(v, &small), MC_ERANGE);
        mc_value *copy = round_trip(v);
        assert_string_equal(bigint_text(copy), texts[i]);
        mc_value_free(copy);
        mc_value_free(v);
    }
}

static void bigint_is_minimal_twos_complement_on_the_wire(void **state)
{
    (void)state;
    static const unsigned char e30[] = {0x00, 0x00, 0x00, 0x40, 0xea, 0xed, 0x74,
                                        0x46, 0xd0, 0x9c, 0x2c, 0x9f, 0x0c};
    static const unsigned char me30[] = {0x00, 0x00, 0x00, 0xc0, 0x15, 0x12, 0x8b,
                                         0xb9, 0x2f, 0x63, 0xd3, 0x60, 0xf3};
    unsigned char got[64];
    size_t n;
    mc_value *v = new_bigint("1000000000000000000000000000000");
    encoded_bigint_bytes(v, got, &n);
    assert_int_equal(n, sizeof e30);
    assert_memory_equal(got, e30, n);
    mc_value_free(v);
    v = new_bigint("-1000000000000000000000000000000");
    encoded_bigint_bytes(v, got, &n);
    assert_int_equal(n, sizeof me30);
    assert_memory_equal(got, me30, n);
    mc_value_free(v);
}

static void powers_of_two_convert_exactly_both_ways(void **state)
{
    (void)state;
    for (int k = 63; k <= 1100; k++) {
        for (int neg = 0; neg <= 1; neg++) {
            if (neg && k == 63)
                continue; /* -2^63 is an int64 */
            char *text = power_of_two_text(k, neg);
            mc_value *v = new_bigint(text);
            unsigned char got[160];
            size_t n;
            encoded_bigint_bytes(v, got, &n);
            size_t top = (size_t)k / 8;
            unsigned char top_byte = neg ? (unsigned char)(0xff << (k % 8))
                                         : (unsigned char)(1u << (k % 8));
            size_t want_n = top + 1 + (!neg && k % 8 == 7);
            assert_int_equal(n, want_n);
            for (size_t i = 0; i < top; i++)
                assert_int_equal(got[i], 0);
            assert_int_equal(got[top], top_byte);
            assert_string_equal(bigint_text(v), text);
            mc_value_free(v);
            free(text);
        }
    }
}

static void bigint_text_is_canonical(void **state)
{
    (void)state;
    const char *in[] = {"+0", "-0", "007", "+123", "-000000000000000000000000000042",
                        "+00000000000000000000018446744073709551616"};
    const char *out[] = {"0", "0", "7", "123", "-42", "18446744073709551616"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        mc_value *v = new_bigint(in[i]);
        assert_string_equal(bigint_text(v), out[i]);
        mc_value_free(v);
    }
}

static void bigint_that_fits_reads_as_int64(void **state)
{
    (void)state;
    mc_value *v = new_bigint("-9223372036854775808");
    int64_t got;
    assert_int_equal(mc_value_get_int(v, &got), MC_OK);
    assert_true(got == INT64_MIN);
    void *data;
    size_t len;
    assert_int_equal(mc_value_encode(v, &data, &len), MC_OK);
    assert_int_equal(((unsigned char *)data)[1], 'i');
    mc_free(data);
    mc_value_free(v);
}

static void bigint_rejects_malformed_text(void **state)
{
    (void)state;
    const char *bad[] = {"", "-", "+", "12a", " 1", "1 ", "--1", "+-1", "1e5", "0x10", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc_value *v = NULL;
        assert_int_equal(mc_value_new_bigint(bad[i], &v), MC_EINVAL);
        assert_null(v);
        assert_true(strlen(mc_errmsg()) > 0);
    }
    mc_value *v = NULL;
    assert_int_equal(mc_value_new_bigint(NULL, &v), MC_EINVAL);
}

static void bigint_helpers_say_what_fits_int64(void **state)
{
    (void)state;
    static const unsigned char max_padded[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                               0x7f, 0x00, 0x00};
    static const unsigned char min[] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    static const unsigned char two64[] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char minus1[] = {0xff};
    int64_t v;
    assert_true(mc_bigint_fits_int64(max_padded, sizeof max_padded, &v));
    assert_true(v == INT64_MAX);
    assert_true(mc_bigint_fits_int64(min, sizeof min, &v));
    assert_true(v == INT64_MIN);
    assert_true(mc_bigint_fits_int64(minus1, 1, &v));
    assert_true(v == -1);
    assert_false(mc_bigint_fits_int64(two64, sizeof two64, &v));
}

static void get_float_converts_ints_with_correct_rounding(void **state)
{
    (void)state;
    struct { const char *text; double want; } cases[] = {
        {"18446744073709551616", 18446744073709551616.0},
        {"18446744073709553664", 18446744073709551616.0}, /* tie: to even */
        {"18446744073709553665", 18446744073709555712.0}, /* just above: up */
        {"-18446744073709553665", -18446744073709555712.0},
        {"179769313486231570814527423731704356798070567525844996598917476803157260780028538"
         "760589558632766878171540458953514382464234321326889464182768467546703537516986049"
         "910576551282076245490090389328944075868508455133942304583236903222948165808559332"
         "123348274797826204144723168738177180919299881250404026184124858368", DBL_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mc_value *v = new_bigint(cases[i].text);
        double got;
        assert_int_equal(mc_value_get_float(v, &got), MC_OK);
        assert_true(got == cases[i].want);
        mc_value_free(v);
    }
    mc_value *small = new_int(-42);
    double got;
    assert_int_equal(mc_value_get_float(small, &got), MC_OK);
    assert_true(got == -42.0);
    mc_value_free(small);
}

static void get_float_of_huge_int_is_range_error(void **state)
{
    (void)state;
    char text[402];
    text[0] = '1';
    memset(text + 1, '0', 400);
    text[401] = '\0';
    mc_value *v = new_bigint(text);
    double got;
    assert_int_equal(mc_value_get_float(v, &got), MC_ERANGE);
    mc_value_free(v);
}

static void *read_bigint_text(void *arg)
{
    const char *text = NULL;
    if (mc_value_get_bigint(arg, &text) != MC_OK)
        return NULL;
    return (void *)text;
}

static void bigint_text_is_safe_to_read_from_many_threads(void **state)
{
    (void)state;
    mc_value *v = new_bigint("-123456789012345678901234567890123456789");
    pthread_t threads[8];
    void *results[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, read_bigint_text, v), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_join(threads[i], &results[i]), 0);
    for (int i = 0; i < 8; i++) {
        assert_non_null(results[i]);
        assert_ptr_equal(results[i], results[0]); /* one published copy */
    }
    assert_string_equal(results[0], "-123456789012345678901234567890123456789");
    mc_value_free(v);
}

/* ------------------------------------------------------------------------
 * Containers
 * ------------------------------------------------------------------------ */

static void empty_containers_round_trip(void **state)
{
    (void)state;
    int (*makers[])(mc_value **) = {mc_value_new_list, mc_value_new_tuple, mc_value_new_dict,
                                    mc_value_new_set};
    for (int i = 0; i < 4; i++) {
        mc_value *v;
        assert_int_equal(makers[i](&v), MC_OK);
        assert_int_equal(mc_value_len(v), 0);
        mc_value *copy = round_trip(v);
        assert_int_equal(mc_value_len(copy), 0);
        mc_value_free(copy);
        mc_value_free(v);
    }
}

static void nested_value_of_every_type_round_trips(void **state)
{
    (void)state;
    mc_value *v;
    assert_int_equal(mc_value_pack(&v, "(n b i d s y I [i i] {s:(s) s:n} )", 1, (int64_t)-7,
                                   0.25, "h\xc3\xa9", "\0z", (size_t)2,
                                   "-99999999999999999999999", (int64_t)1, (int64_t)2,
                                   "k", "t", "none"), MC_OK);
    mc_value *copy = round_trip(v);
    assert_int_equal(mc_value_len(copy), 9);
    const mc_value *item, *inner;
    assert_int_equal(mc_value_get_item(copy, 6, &item), MC_OK);
    assert_string_equal(bigint_text(item), "-99999999999999999999999");
    assert_int_equal(mc_value_get_item(copy, 8, &item), MC_OK);
    assert_int_equal(mc_value_dict_get(item, "k", &inner), MC_OK);
    assert_int_equal(mc_value_type(inner), MC_TYPE_TUPLE);
    mc_value_free(copy);
    mc_value_free(v);
}

static void deep_but_legal_nesting_round_trips(void **state)
{
    (void)state;
    mc_value *v = nest(new_int(5), MC_WIRE_MAX_DEPTH);
    mc_value *copy = round_trip(v);
    const mc_value *cur = copy;
    for (int i = 0; i < MC_WIRE_MAX_DEPTH; i++)
        assert_int_equal(mc_value_get_item(cur, 0, &cur), MC_OK);
    int64_t got;
    assert_int_equal(mc_value_get_int(cur, &got), MC_OK);
    assert_true(got == 5);
    mc_value_free(copy);
    mc_value_free(v);
}

static void encode_rejects_nesting_deeper_than_limit(void **state)
{
    (void)state;
    mc_value *v = nest(new_int(5), MC_WIRE_MAX_DEPTH + 1);
    void *data = NULL;
    size_t len;
    assert_int_equal(mc_value_encode(v, &data, &len), MC_EENCODE);
    assert_null(data);
    assert_non_null(strstr(mc_errmsg(), "128"));
    mc_value_free(v);
}

static void very_deep_tree_encodes_to_an_error_and_frees(void **state)
{
    (void)state;
    mc_value *leaf = new_list();
    mc_value *v = nest(leaf, 200000);
    void *data;
    size_t len;
    assert_int_equal(mc_value_encode(v, &data, &len), MC_EENCODE);
    mc_value_free(v); /* must not recurse 200000 frames */
}

static void set_items_are_not_deduplicated(void **state)
{
    (void)state;
    mc_value *s;
    assert_int_equal(mc_value_new_set(&s), MC_OK);
    assert_int_equal(mc_value_append(s, new_int(1)), MC_OK);
    assert_int_equal(mc_value_append(s, new_int(1)), MC_OK);
    assert_int_equal(mc_value_len(s), 2);
    mc_value *copy = round_trip(s);
    assert_int_equal(mc_value_len(copy), 2);
    mc_value_free(copy);
    mc_value_free(s);
}

static void dict_keeps_insertion_order(void **state)
{
    (void)state;
    mc_value *d;
    assert_int_equal(mc_value_new_dict(&d), MC_OK);
    const char *keys[] = {"zeta", "alpha", "mid"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(mc_value_dict_set(d, new_str(keys[i]), new_int(i)), MC_OK);
    mc_value *copy = round_trip(d);
    assert_int_equal(mc_value_len(copy), 3);
    for (size_t i = 0; i < 3; i++) {
        const mc_value *k, *v;
        const char *text;
        int64_t n;
        assert_int_equal(mc_value_get_pair(copy, i, &k, &v), MC_OK);
        assert_int_equal(mc_value_get_str(k, &text, NULL), MC_OK);
        assert_string_equal(text, keys[i]);
        assert_int_equal(mc_value_get_int(v, &n), MC_OK);
        assert_true(n == (int64_t)i);
    }
    const mc_value *k, *v;
    assert_int_equal(mc_value_get_pair(copy, 3, &k, &v), MC_ERANGE);
    mc_value_free(copy);
    mc_value_free(d);
}

static void dict_get_finds_str_key(void **state)
{
    (void)state;
    mc_value *d;
    assert_int_equal(mc_value_pack(&d, "{i:n s:i s:i}", (int64_t)1, "a", (int64_t)10, "b",
                                   (int64_t)20), MC_OK);
    const mc_value *v;
    int64_t n;
    assert_int_equal(mc_value_dict_get(d, "b", &v), MC_OK);
    assert_int_equal(mc_value_get_int(v, &n), MC_OK);
    assert_true(n == 20);
    mc_value_free(d);
}

static void dict_get_sees_the_last_of_duplicate_keys(void **state)
{
    (void)state;
    mc_value *d;
    assert_int_equal(mc_value_pack(&d, "{s:i s:i}", "k", (int64_t)1, "k", (int64_t)2), MC_OK);
    const mc_value *v;
    int64_t n;
    assert_int_equal(mc_value_dict_get(d, "k", &v), MC_OK);
    assert_int_equal(mc_value_get_int(v, &n), MC_OK);
    assert_true(n == 2);
    mc_value_free(d);
}

static void dict_get_compares_keys_byte_wise(void **state)
{
    (void)state;
    mc_value *d, *key;
    assert_int_equal(mc_value_new_dict(&d), MC_OK);
    assert_int_equal(mc_value_new_str("ab\0c", 4, &key), MC_OK);
    assert_int_equal(mc_value_dict_set(d, key, new_int(1)), MC_OK);
    assert_int_equal(mc_value_dict_set(d, new_str("A"), new_int(2)), MC_OK);
    const mc_value *v;
    assert_int_equal(mc_value_dict_get(d, "ab", &v), MC_ENOTFOUND);
    assert_int_equal(mc_value_dict_get(d, "a", &v), MC_ENOTFOUND);
    assert_non_null(strstr(mc_errmsg(), "\"a\""));
    assert_int_equal(mc_value_dict_get(d, "A", &v), MC_OK);
    mc_value_free(d);
}

static void get_item_past_the_end_is_range_error(void **state)
{
    (void)state;
    mc_value *l;
    assert_int_equal(mc_value_pack(&l, "[i]", (int64_t)1), MC_OK);
    const mc_value *item;
    assert_int_equal(mc_value_get_item(l, 0, &item), MC_OK);
    assert_int_equal(mc_value_get_item(l, 1, &item), MC_ERANGE);
    assert_int_equal(mc_value_get_item(l, SIZE_MAX, &item), MC_ERANGE);
    mc_value_free(l);
}

/* ------------------------------------------------------------------------
 * Ownership
 * ------------------------------------------------------------------------ */

static void append_takes_ownership_on_failure(void **state)
{
    (void)state;
    /* Under LeakSanitizer, a leak of any of these items fails the test. */
    mc_value *i = new_int(1), *d;
    assert_int_equal(mc_value_append(NULL, new_str("x")), MC_EINVAL);
    assert_int_equal(mc_value_append(i, new_str("y")), MC_ETYPE);
    assert_int_equal(mc_value_new_dict(&d), MC_OK);
    assert_int_equal(mc_value_append(d, new_list()), MC_ETYPE);
    assert_int_equal(mc_value_dict_set(NULL, new_str("k"), new_int(2)), MC_EINVAL);
    assert_int_equal(mc_value_dict_set(d, new_str("k"), NULL), MC_EINVAL);
    assert_int_equal(mc_value_dict_set(i, new_str("k"), new_int(3)), MC_ETYPE);
    assert_int_equal(mc_value_len(d), 0);
    mc_value_free(d);
    mc_value_free(i);
}

static void adding_a_value_twice_is_rejected_without_freeing_it(void **state)
{
    (void)state;
    mc_value *a = new_list(), *b = new_list(), *x = new_int(7), *d;
    assert_int_equal(mc_value_append(a, x), MC_OK);
    assert_int_equal(mc_value_append(b, x), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "already in a container"));
    assert_int_equal(mc_value_new_dict(&d), MC_OK);
    assert_int_equal(mc_value_dict_set(d, new_str("k"), x), MC_EINVAL);
    assert_int_equal(mc_value_len(b), 0);
    const mc_value *got;
    int64_t n;
    assert_int_equal(mc_value_get_item(a, 0, &got), MC_OK);
    assert_int_equal(mc_value_get_int(got, &n), MC_OK); /* still alive */
    assert_true(n == 7);
    mc_value_free(a);
    mc_value_free(b);
    mc_value_free(d);
}

static void adding_a_container_into_itself_is_rejected(void **state)
{
    (void)state;
    mc_value *outer = new_list(), *inner = new_list(), *d;
    assert_int_equal(mc_value_append(outer, inner), MC_OK);
    assert_int_equal(mc_value_append(outer, outer), MC_EINVAL);
    assert_int_equal(mc_value_append(inner, outer), MC_EINVAL);
    assert_int_equal(mc_value_new_dict(&d), MC_OK);
    assert_int_equal(mc_value_dict_set(d, new_str("k"), d), MC_EINVAL);
    assert_int_equal(mc_value_len(inner), 0);
    mc_value_free(outer);
    mc_value_free(d);
}

static void dict_set_with_same_key_and_value_frees_it_once(void **state)
{
    (void)state;
    mc_value *d, *x = new_str("same");
    assert_int_equal(mc_value_new_dict(&d), MC_OK);
    assert_int_equal(mc_value_dict_set(d, x, x), MC_EINVAL);
    assert_int_equal(mc_value_len(d), 0);
    mc_value_free(d);
}

static void dict_set_failure_frees_a_key_that_holds_the_value_once(void **state)
{
    (void)state;
    /* val sits inside key: the failed call frees key, and val with it. */
    mc_value *d, *key, *val = new_str("inner");
    assert_int_equal(mc_value_new_tuple(&key), MC_OK);
    assert_int_equal(mc_value_append(key, val), MC_OK);
    assert_int_equal(mc_value_new_dict(&d), MC_OK);
    assert_int_equal(mc_value_dict_set(d, key, val), MC_EINVAL);
    /* And the mirror image: key sits inside val. */
    mc_value *k2 = new_str("k"), *v2 = new_list();
    assert_int_equal(mc_value_append(v2, k2), MC_OK);
    assert_int_equal(mc_value_dict_set(d, k2, v2), MC_EINVAL);
    assert_int_equal(mc_value_len(d), 0);
    mc_value_free(d);
}

static void freeing_a_value_a_container_owns_is_ignored(void **state)
{
    (void)state;
    mc_value *l = new_list(), *x = new_str("kept");
    assert_int_equal(mc_value_append(l, x), MC_OK);
    mc_value_free(x);
    const mc_value *got;
    const char *text;
    assert_int_equal(mc_value_get_item(l, 0, &got), MC_OK);
    assert_int_equal(mc_value_get_str(got, &text, NULL), MC_OK);
    assert_string_equal(text, "kept");
    mc_value_free(l);
    mc_value_free(NULL);
}

/* ------------------------------------------------------------------------
 * Type checks and arguments
 * ------------------------------------------------------------------------ */

static void readers_reject_the_wrong_type(void **state)
{
    (void)state;
    mc_value *s = new_str("text"), *i = new_int(1);
    int truth;
    int64_t n;
    double d;
    const char *text;
    const void *data;
    size_t len;
    const mc_value *item, *k, *v;
    assert_int_equal(mc_value_get_bool(i, &truth), MC_ETYPE);
    assert_int_equal(mc_value_get_int(s, &n), MC_ETYPE);
    assert_int_equal(mc_value_get_bigint(s, &text), MC_ETYPE);
    assert_int_equal(mc_value_get_float(s, &d), MC_ETYPE);
    assert_int_equal(mc_value_get_str(i, &text, &len), MC_ETYPE);
    assert_int_equal(mc_value_get_bytes(s, &data, &len), MC_ETYPE);
    assert_non_null(strstr(mc_errmsg(), "str"));
    assert_int_equal(mc_value_get_item(s, 0, &item), MC_ETYPE);
    assert_int_equal(mc_value_get_pair(s, 0, &k, &v), MC_ETYPE);
    assert_int_equal(mc_value_dict_get(s, "k", &v), MC_ETYPE);
    assert_int_equal(mc_value_len(s), 0);
    mc_value_free(s);
    mc_value_free(i);
}

static void null_arguments_are_rejected_not_crashed(void **state)
{
    (void)state;
    mc_value *v = new_int(1), *out = NULL;
    const mc_value *cv;
    int truth;
    int64_t n;
    double d;
    const char *text;
    const void *data;
    size_t len;
    void *buf;
    assert_int_equal(mc_value_new_none(NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_bool(1, NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_int(1, NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_bigint("1", NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_float(1, NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_str(NULL, 0, &out), MC_EINVAL);
    assert_int_equal(mc_value_new_str("a", 1, NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_bytes(NULL, 1, &out), MC_EINVAL);
    assert_int_equal(mc_value_new_list(NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_tuple(NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_dict(NULL), MC_EINVAL);
    assert_int_equal(mc_value_new_set(NULL), MC_EINVAL);
    assert_int_equal(mc_value_append(NULL, NULL), MC_EINVAL);
    assert_int_equal(mc_value_dict_set(NULL, NULL, NULL), MC_EINVAL);
    assert_int_equal(mc_value_get_bool(NULL, &truth), MC_EINVAL);
    assert_int_equal(mc_value_get_int(NULL, &n), MC_EINVAL);
    assert_int_equal(mc_value_get_int(v, NULL), MC_EINVAL);
    assert_int_equal(mc_value_get_bigint(v, NULL), MC_EINVAL);
    assert_int_equal(mc_value_get_float(v, NULL), MC_EINVAL);
    assert_int_equal(mc_value_get_float(NULL, &d), MC_EINVAL);
    assert_int_equal(mc_value_get_str(NULL, &text, &len), MC_EINVAL);
    assert_int_equal(mc_value_get_bytes(NULL, &data, &len), MC_EINVAL);
    assert_int_equal(mc_value_get_item(NULL, 0, &cv), MC_EINVAL);
    assert_int_equal(mc_value_get_pair(NULL, 0, &cv, &cv), MC_EINVAL);
    assert_int_equal(mc_value_dict_get(NULL, "k", &cv), MC_EINVAL);
    assert_int_equal(mc_value_encode(NULL, &buf, &len), MC_EINVAL);
    assert_int_equal(mc_value_encode(v, NULL, &len), MC_EINVAL);
    assert_int_equal(mc_value_encode(v, &buf, NULL), MC_EINVAL);
    assert_int_equal(mc_value_decode(NULL, 3, &out), MC_EINVAL);
    assert_int_equal(mc_value_decode("\1N", 2, NULL), MC_EINVAL);
    assert_int_equal(mc_value_pack(NULL, "n"), MC_EINVAL);
    assert_int_equal(mc_value_pack(&out, NULL), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "NULL"));
    assert_int_equal(mc_value_type(NULL), MC_TYPE_NONE);
    assert_int_equal(mc_value_len(NULL), 0);
    assert_null(out);
    mc_free(NULL);
    mc_value_free(v);
}

static void success_clears_the_previous_error_message(void **state)
{
    (void)state;
    mc_value *v;
    assert_int_equal(mc_value_new_bigint("x", &v), MC_EINVAL);
    assert_true(strlen(mc_errmsg()) > 0);
    assert_int_equal(mc_value_new_bigint("1", &v), MC_OK);
    assert_string_equal(mc_errmsg(), "");
    mc_value_free(v);
}

static void type_names_match_python(void **state)
{
    (void)state;
    assert_string_equal(mc_type_name(MC_TYPE_NONE), "NoneType");
    assert_string_equal(mc_type_name(MC_TYPE_INT), "int");
    assert_string_equal(mc_type_name(MC_TYPE_DICT), "dict");
    assert_string_equal(mc_type_name(MC_TYPE_OBJECT), "object");
    assert_string_equal(mc_type_name((mc_type)99), "unknown");
}

static void pickled_object_is_opaque_but_round_trips(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION, 'P', 4, 0x80, 0x05, 'N', '.'};
    mc_value *v;
    assert_int_equal(mc_value_decode(msg, sizeof msg, &v), MC_OK);
    assert_int_equal(mc_value_type(v), MC_TYPE_OBJECT);
    const void *data;
    size_t len;
    assert_int_equal(mc_value_get_bytes(v, &data, &len), MC_ETYPE);
    void *out;
    size_t n;
    assert_int_equal(mc_value_encode(v, &out, &n), MC_OK);
    assert_int_equal(n, sizeof msg);
    assert_memory_equal(out, msg, n);
    mc_free(out);
    mc_value_free(v);
}

/* ------------------------------------------------------------------------
 * mc_value_pack
 * ------------------------------------------------------------------------ */

static void pack_builds_nested_tuple(void **state)
{
    (void)state;
    mc_value *v;
    assert_int_equal(mc_value_pack(&v, "(is{s:d})", (int64_t)1, "a", "x", 2.0), MC_OK);
    assert_int_equal(mc_value_type(v), MC_TYPE_TUPLE);
    assert_int_equal(mc_value_len(v), 3);
    const mc_value *dict, *x;
    double d;
    assert_int_equal(mc_value_get_item(v, 2, &dict), MC_OK);
    assert_int_equal(mc_value_dict_get(dict, "x", &x), MC_OK);
    assert_int_equal(mc_value_get_float(x, &d), MC_OK);
    assert_true(d == 2.0);
    mc_value_free(v);
}

static void pack_builds_a_lone_scalar(void **state)
{
    (void)state;
    mc_value *v;
    int64_t n;
    assert_int_equal(mc_value_pack(&v, "  i ", (int64_t)INT64_MIN), MC_OK);
    assert_int_equal(mc_value_get_int(v, &n), MC_OK);
    assert_true(n == INT64_MIN);
    mc_value_free(v);
}

static void pack_takes_ownership_of_v_arguments(void **state)
{
    (void)state;
    mc_value *inner = new_str("owned"), *v;
    assert_int_equal(mc_value_pack(&v, "[V, y, I]", inner, "\0\1", (size_t)2,
                                   "123456789012345678901234567890"), MC_OK);
    assert_int_equal(mc_value_len(v), 3);
    const mc_value *item;
    assert_int_equal(mc_value_get_item(v, 0, &item), MC_OK);
    assert_ptr_equal(item, inner);
    mc_value_free(v); /* frees inner too */
}

static void pack_rejects_unknown_code_with_its_position(void **state)
{
    (void)state;
    mc_value *v = NULL;
    assert_int_equal(mc_value_pack(&v, "(iq)", (int64_t)1), MC_EINVAL);
    assert_null(v);
    assert_non_null(strstr(mc_errmsg(), "'q'"));
    assert_non_null(strstr(mc_errmsg(), "position 2"));
}

static void pack_rejects_mismatched_brackets(void **state)
{
    (void)state;
    mc_value *v = NULL;
    assert_int_equal(mc_value_pack(&v, "(i]", (int64_t)1), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "position 2"));
    assert_int_equal(mc_value_pack(&v, "[i", (int64_t)1), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "ends inside"));
    assert_int_equal(mc_value_pack(&v, ")"), MC_EINVAL);
    assert_int_equal(mc_value_pack(&v, "{s}", "k"), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "no value"));
    assert_null(v);
}

static void pack_rejects_a_format_of_zero_or_two_values(void **state)
{
    (void)state;
    mc_value *v = NULL;
    assert_int_equal(mc_value_pack(&v, " , "), MC_EINVAL);
    assert_int_equal(mc_value_pack(&v, "ii", (int64_t)1, (int64_t)2), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "position 1"));
    assert_null(v);
}

static void pack_frees_v_arguments_on_failure(void **state)
{
    (void)state;
    /* The error is at ']'; both V values (before and after it) are freed,
     * as LeakSanitizer would report otherwise. */
    mc_value *v = NULL;
    assert_int_equal(mc_value_pack(&v, "(V] V", new_str("a"), new_str("b")), MC_EINVAL);
    assert_int_equal(mc_value_pack(&v, "(s V)", "\xff", new_str("c")), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "UTF-8"));
    assert_int_equal(mc_value_pack(&v, "[I V]", "12x", new_list()), MC_EINVAL);
    assert_int_equal(mc_value_pack(NULL, "[V]", new_list()), MC_EINVAL);
    assert_int_equal(mc_value_pack(&v, "(V V)", new_int(1), NULL), MC_EINVAL);
    assert_null(v);
}

static void pack_refuses_a_v_argument_another_container_owns(void **state)
{
    (void)state;
    mc_value *l = new_list(), *x = new_int(3), *v = NULL;
    assert_int_equal(mc_value_append(l, x), MC_OK);
    assert_int_equal(mc_value_pack(&v, "(V)", x), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "already in a container"));
    assert_int_equal(mc_value_pack(&v, "(VV)", new_str("once"), NULL), MC_EINVAL);
    assert_int_equal(mc_value_len(l), 1); /* x survived */
    mc_value_free(l);
}

static void pack_bounds_format_nesting(void **state)
{
    (void)state;
    char fmt[2 * 130 + 2];
    int k = 0;
    for (int i = 0; i < 129; i++)
        fmt[k++] = '[';
    fmt[k++] = 'n';
    for (int i = 0; i < 129; i++)
        fmt[k++] = ']';
    fmt[k] = '\0';
    mc_value *v = NULL;
    assert_int_equal(mc_value_pack(&v, fmt), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "deeper"));
    assert_int_equal(mc_value_pack(&v, fmt + 1), MC_EINVAL); /* unbalanced */
    memmove(fmt, fmt + 1, (size_t)k);
    fmt[k - 2] = '\0';
    assert_int_equal(mc_value_pack(&v, fmt), MC_OK);
    mc_value *copy = round_trip(v);
    mc_value_free(copy);
    mc_value_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(none_and_bools_round_trip),
        cmocka_unit_test(int64_edges_round_trip),
        cmocka_unit_test(floats_round_trip_including_nan_and_infinity),
        cmocka_unit_test(str_with_embedded_nul_round_trips),
        cmocka_unit_test(bytes_with_embedded_nul_round_trip),
        cmocka_unit_test(empty_str_and_bytes_read_back_as_non_null),
        cmocka_unit_test(new_str_rejects_invalid_utf8),
        cmocka_unit_test(bigint_round_trips_through_decimal_text),
        cmocka_unit_test(bigint_is_minimal_twos_complement_on_the_wire),
        cmocka_unit_test(powers_of_two_convert_exactly_both_ways),
        cmocka_unit_test(bigint_text_is_canonical),
        cmocka_unit_test(bigint_that_fits_reads_as_int64),
        cmocka_unit_test(bigint_rejects_malformed_text),
        cmocka_unit_test(bigint_helpers_say_what_fits_int64),
        cmocka_unit_test(get_float_converts_ints_with_correct_rounding),
        cmocka_unit_test(get_float_of_huge_int_is_range_error),
        cmocka_unit_test(bigint_text_is_safe_to_read_from_many_threads),
        cmocka_unit_test(empty_containers_round_trip),
        cmocka_unit_test(nested_value_of_every_type_round_trips),
        cmocka_unit_test(deep_but_legal_nesting_round_trips),
        cmocka_unit_test(encode_rejects_nesting_deeper_than_limit),
        cmocka_unit_test(very_deep_tree_encodes_to_an_error_and_frees),
        cmocka_unit_test(set_items_are_not_deduplicated),
        cmocka_unit_test(dict_keeps_insertion_order),
        cmocka_unit_test(dict_get_finds_str_key),
        cmocka_unit_test(dict_get_sees_the_last_of_duplicate_keys),
        cmocka_unit_test(dict_get_compares_keys_byte_wise),
        cmocka_unit_test(get_item_past_the_end_is_range_error),
        cmocka_unit_test(append_takes_ownership_on_failure),
        cmocka_unit_test(adding_a_value_twice_is_rejected_without_freeing_it),
        cmocka_unit_test(adding_a_container_into_itself_is_rejected),
        cmocka_unit_test(dict_set_with_same_key_and_value_frees_it_once),
        cmocka_unit_test(dict_set_failure_frees_a_key_that_holds_the_value_once),
        cmocka_unit_test(freeing_a_value_a_container_owns_is_ignored),
        cmocka_unit_test(readers_reject_the_wrong_type),
        cmocka_unit_test(null_arguments_are_rejected_not_crashed),
        cmocka_unit_test(success_clears_the_previous_error_message),
        cmocka_unit_test(type_names_match_python),
        cmocka_unit_test(pickled_object_is_opaque_but_round_trips),
        cmocka_unit_test(pack_builds_nested_tuple),
        cmocka_unit_test(pack_builds_a_lone_scalar),
        cmocka_unit_test(pack_takes_ownership_of_v_arguments),
        cmocka_unit_test(pack_rejects_unknown_code_with_its_position),
        cmocka_unit_test(pack_rejects_mismatched_brackets),
        cmocka_unit_test(pack_rejects_a_format_of_zero_or_two_values),
        cmocka_unit_test(pack_frees_v_arguments_on_failure),
        cmocka_unit_test(pack_refuses_a_v_argument_another_container_owns),
        cmocka_unit_test(pack_bounds_format_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
