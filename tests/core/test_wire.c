/*
 * test_wire.c — the wire format at the byte level: what the writers emit,
 * and how the reader (and mc_value_decode above it) treats untrusted bytes.
 * Every malformed message must fail with MC_EWIRE and a useful detail,
 * never crash, never read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "manycore.h"
#include "wire.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* Decodes n bytes and expects MC_EWIRE; returns the detail for checks. */
static const char *decode_fails(const void *msg, size_t n)
{
    mc_value *v = NULL;
    assert_int_equal(mc_value_decode(msg, n, &v), MC_EWIRE);
    assert_null(v);
    assert_true(strlen(mc_errmsg()) > 0);
    return mc_errmsg();
}

static void decode_succeeds(const void *msg, size_t n)
{
    mc_value *v = NULL;
    assert_int_equal(mc_value_decode(msg, n, &v), MC_OK);
    assert_non_null(v);
    mc_value_free(v);
}

static void reader_over(mc_wire_reader *r, const unsigned char *bytes, size_t n)
{
    r->p = bytes;
    r->end = bytes + n;
    r->depth = 0;
}

/* A message nesting `depth` one-item lists around None. */
static unsigned char *nested_lists(int depth, size_t *n)
{
    unsigned char *msg = malloc((size_t)depth * 2 + 2);
    size_t k = 0;
    msg[k++] = MC_WIRE_VERSION;
    for (int i = 0; i < depth; i++) {
        msg[k++] = 'l';
        msg[k++] = 1;
    }
    msg[k++] = 'N';
    *n = k;
    return msg;
}

/* A message that exercises every tag, nested. */
static void complex_message(mc_buf *b)
{
    static const unsigned char big[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1}; /* 2^64 */
    assert_int_equal(mc_wire_put_version(b), 0);
    assert_int_equal(mc_wire_put_container(b, 't', 4), 0);
    assert_int_equal(mc_wire_put_tag(b, 'N'), 0);
    assert_int_equal(mc_wire_put_container(b, 'l', 5), 0);
    assert_int_equal(mc_wire_put_tag(b, 'T'), 0);
    assert_int_equal(mc_wire_put_tag(b, 'F'), 0);
    assert_int_equal(mc_wire_put_int(b, -300), 0);
    assert_int_equal(mc_wire_put_float(b, 2.5), 0);
    assert_int_equal(mc_wire_put_blob(b, 'I', big, sizeof big), 0);
    assert_int_equal(mc_wire_put_container(b, 'D', 2), 0);
    assert_int_equal(mc_wire_put_blob(b, 's', "k\xc3\xa9y", 4), 0);
    assert_int_equal(mc_wire_put_blob(b, 'b', "\0\1\2", 3), 0);
    assert_int_equal(mc_wire_put_int(b, INT64_MIN), 0);
    assert_int_equal(mc_wire_put_blob(b, 'P', "\x80\x05N.", 4), 0);
    assert_int_equal(mc_wire_put_container(b, 'S', 2), 0);
    assert_int_equal(mc_wire_put_blob(b, 's', "", 0), 0);
    assert_int_equal(mc_wire_put_container(b, 't', 0), 0);
}

/* ------------------------------------------------------------------------
 * Buffer and writers
 * ------------------------------------------------------------------------ */

static void buffer_grows_and_detaches_its_bytes(void **state)
{
    (void)state;
    mc_buf b = {0};
    for (int i = 0; i < 10000; i++) {
        unsigned char c = (unsigned char)i;
        assert_int_equal(mc_buf_put(&b, &c, 1), 0);
    }
    assert_int_equal(b.len, 10000);
    assert_true(b.cap >= b.len);
    size_t n;
    unsigned char *data = mc_buf_detach(&b, &n);
    assert_int_equal(n, 10000);
    assert_int_equal(data[9999], (unsigned char)9999);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(data);
    mc_buf_free(&b); /* harmless after detach */
}

static void buffer_reserve_refuses_size_overflow(void **state)
{
    (void)state;
    mc_buf b = {0};
    assert_int_equal(mc_buf_put(&b, "abc", 3), 0);
    assert_int_equal(mc_buf_reserve(&b, SIZE_MAX - 1), MC_ENOMEM);
    assert_int_equal(b.len, 3);
    mc_buf_free(&b);
}

static void uvarint_round_trips_at_every_length(void **state)
{
    (void)state;
    for (int bits = 0; bits <= 64; bits++) {
        uint64_t vals[3];
        vals[0] = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
        vals[1] = bits == 64 ? UINT64_MAX - 1 : (uint64_t)1 << bits;
        vals[2] = vals[1] + 1;
        for (int k = 0; k < 3; k++) {
            mc_buf b = {0};
            assert_int_equal(mc_wire_put_uvarint(&b, vals[k]), 0);
            assert_true(b.len >= 1 && b.len <= 10);
            mc_wire_reader r;
            reader_over(&r, b.data, b.len);
            uint64_t got;
            assert_int_equal(mc_wire_read_uvarint(&r, &got), 0);
            assert_true(got == vals[k]);
            assert_ptr_equal(r.p, r.end);
            mc_buf_free(&b);
        }
    }
}

static void int64_edges_round_trip_through_zigzag(void **state)
{
    (void)state;
    const int64_t vals[] = {0, 1, -1, 63, -64, 64, -65, INT32_MAX, INT32_MIN,
                            INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        mc_buf b = {0};
        assert_int_equal(mc_wire_put_int(&b, vals[i]), 0);
        mc_wire_reader r;
        reader_over(&r, b.data, b.len);
        int tag;
        int64_t got;
        assert_int_equal(mc_wire_read_tag(&r, &tag), 0);
        assert_int_equal(tag, 'i');
        assert_int_equal(mc_wire_read_int(&r, &got), 0);
        assert_true(got == vals[i]);
        mc_buf_free(&b);
    }
}

static void small_negative_ints_take_one_byte(void **state)
{
    (void)state;
    mc_buf b = {0};
    assert_int_equal(mc_wire_put_int(&b, -1), 0);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.data[1], 1);
    mc_buf_free(&b);
}

static void floats_are_little_endian_on_the_wire(void **state)
{
    (void)state;
    static const unsigned char one[9] = {'d', 0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    mc_buf b = {0};
    assert_int_equal(mc_wire_put_float(&b, 1.0), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, one, 9);
    mc_wire_reader r;
    reader_over(&r, one + 1, 8);
    double d;
    assert_int_equal(mc_wire_read_float(&r, &d), 0);
    assert_true(d == 1.0);
    mc_buf_free(&b);
}

static void floats_keep_nan_payload_and_infinities(void **state)
{
    (void)state;
    uint64_t nan_bits = 0x7ff8000000abcdefULL;
    double vals[4];
    memcpy(&vals[0], &nan_bits, 8);
    vals[1] = INFINITY;
    vals[2] = -INFINITY;
    vals[3] = -0.0;
    for (int i = 0; i < 4; i++) {
        mc_buf b = {0};
        assert_int_equal(mc_wire_put_float(&b, vals[i]), 0);
        mc_wire_reader r;
        reader_over(&r, b.data + 1, 8);
        double got;
        assert_int_equal(mc_wire_read_float(&r, &got), 0);
        assert_memory_equal(&got, &vals[i], 8);
        mc_buf_free(&b);
    }
}

/* ------------------------------------------------------------------------
 * Varints
 * ------------------------------------------------------------------------ */

static void ten_byte_varint_of_uint64_max_is_accepted(void **state)
{
    (void)state;
    static const unsigned char max[10] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0x01};
    mc_wire_reader r;
    reader_over(&r, max, 10);
    uint64_t v;
    assert_int_equal(mc_wire_read_uvarint(&r, &v), 0);
    assert_true(v == UINT64_MAX);
}

static void overlong_varint_is_rejected(void **state)
{
    (void)state;
    unsigned char bytes[12];
    memset(bytes, 0x80, sizeof bytes);
    bytes[11] = 0;
    mc_wire_reader r;
    reader_over(&r, bytes, sizeof bytes);
    uint64_t v;
    assert_int_equal(mc_wire_read_uvarint(&r, &v), MC_EWIRE);
    assert_ptr_equal(r.p, bytes);
    assert_non_null(strstr(mc_errmsg(), "varint"));
}

static void varint_beyond_64_bits_is_rejected(void **state)
{
    (void)state;
    static const unsigned char over[10] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0x02};
    mc_wire_reader r;
    reader_over(&r, over, 10);
    uint64_t v;
    assert_int_equal(mc_wire_read_uvarint(&r, &v), MC_EWIRE);
    assert_non_null(strstr(mc_errmsg(), "64 bits"));
}

static void truncated_varint_is_rejected(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION, 's', 0x80, 0x80};
    const char *err = decode_fails(msg, sizeof msg);
    assert_non_null(strstr(err, "truncated"));
}

/* ------------------------------------------------------------------------
 * Framing: version, tags, trailing bytes
 * ------------------------------------------------------------------------ */

static void empty_message_is_rejected(void **state)
{
    (void)state;
    decode_fails("", 0);
    decode_fails(NULL, 0);
    static const unsigned char only_version[] = {MC_WIRE_VERSION};
    decode_fails(only_version, 1);
}

static void bad_version_is_rejected(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION + 1, 'N'};
    const char *err = decode_fails(msg, sizeof msg);
    assert_non_null(strstr(err, "version"));
}

static void unknown_tag_is_rejected(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION, 'l', 2, 'N', 'z'};
    const char *err = decode_fails(msg, sizeof msg);
    assert_non_null(strstr(err, "unknown tag 0x7a"));
    assert_non_null(strstr(err, "offset 4"));
}

static void trailing_bytes_are_rejected(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION, 'N', 'N', 'N'};
    const char *err = decode_fails(msg, sizeof msg);
    assert_non_null(strstr(err, "2 trailing bytes"));
}

/* ------------------------------------------------------------------------
 * Lengths and counts
 * ------------------------------------------------------------------------ */

static void truncated_str_is_rejected_with_offset(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION, 't', 2, 'N', 's', 0xe8, 0x07,
                                        'a', 'b', 'c'};
    const char *err = decode_fails(msg, sizeof msg);
    assert_non_null(strstr(err, "str length 1000 exceeds the 3 bytes left"));
    assert_non_null(strstr(err, "at offset 5"));
}

static void count_larger_than_bytes_left_is_rejected(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION, 'l', 0xe8, 0x07, 'N', 'N', 'N'};
    const char *err = decode_fails(msg, sizeof msg);
    assert_non_null(strstr(err, "count 1000"));
}

static void huge_count_is_rejected_before_any_allocation(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION, 'S', 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0x01};
    decode_fails(msg, sizeof msg);
}

static void dict_count_needs_two_bytes_per_pair(void **state)
{
    (void)state;
    /* Three bytes left: one pair fits, two pairs cannot. */
    static const unsigned char two[] = {MC_WIRE_VERSION, 'D', 2, 'N', 'N', 'N'};
    const char *err = decode_fails(two, sizeof two);
    assert_non_null(strstr(err, "dict count 2"));
    static const unsigned char one[] = {MC_WIRE_VERSION, 'D', 1, 'N', 'N'};
    decode_succeeds(one, sizeof one);
}

static void every_prefix_of_a_message_is_rejected(void **state)
{
    (void)state;
    mc_buf b = {0};
    complex_message(&b);
    decode_succeeds(b.data, b.len);
    for (size_t n = 0; n < b.len; n++) {
        /* A copy of exactly n bytes, so ASan catches any read past it. */
        unsigned char *prefix = malloc(n ? n : 1);
        memcpy(prefix, b.data, n);
        decode_fails(prefix, n);
        free(prefix);
    }
    mc_buf_free(&b);
}

static void every_prefix_fails_skip_and_keeps_the_cursor(void **state)
{
    (void)state;
    mc_buf b = {0};
    complex_message(&b);
    for (size_t n = 1; n < b.len; n++) {
        mc_wire_reader r;
        reader_over(&r, b.data + 1, n - 1);
        assert_int_equal(mc_wire_skip(&r), MC_EWIRE);
        assert_ptr_equal(r.p, b.data + 1);
        assert_int_equal(r.depth, 0);
    }
    mc_buf_free(&b);
}

static void skip_passes_over_one_whole_value(void **state)
{
    (void)state;
    mc_buf b = {0};
    complex_message(&b);
    assert_int_equal(mc_wire_put_tag(&b, 'T'), 0); /* a second value after */
    mc_wire_reader r;
    reader_over(&r, b.data + 1, b.len - 1);
    assert_int_equal(mc_wire_skip(&r), 0);
    assert_int_equal(r.depth, 0);
    assert_ptr_equal(r.p, b.data + b.len - 1);
    assert_int_equal(mc_wire_reader_finish(&r), MC_EWIRE);
    int tag;
    assert_int_equal(mc_wire_read_tag(&r, &tag), 0);
    assert_int_equal(tag, 'T');
    assert_int_equal(mc_wire_reader_finish(&r), 0);
    mc_buf_free(&b);
}

/* ------------------------------------------------------------------------
 * Payload checks: UTF-8, big ints, blob and container tags
 * ------------------------------------------------------------------------ */

static void invalid_utf8_is_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\x80",             /* lone continuation byte */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x9f\xbf",     /* overlong below U+0800 */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf0\x8f\xbf\xbf", /* overlong below U+10000 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80", /* lead byte past F4 */
        "\xff",
        "\xe2\x82",         /* truncated sequence */
        "a\xe2\x28\xa1",    /* bad continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        assert_false(mc_utf8_valid((const unsigned char *)bad[i], n));
        unsigned char msg[16] = {MC_WIRE_VERSION, 's', (unsigned char)n};
        memcpy(msg + 3, bad[i], n);
        const char *err = decode_fails(msg, 3 + n);
        assert_non_null(strstr(err, "UTF-8"));
    }
}

static void valid_utf8_edges_are_accepted(void **state)
{
    (void)state;
    static const char *const good[] = {
        "", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(mc_utf8_valid((const unsigned char *)good[i], strlen(good[i])));
}

static void bigint_that_fits_int64_is_rejected(void **state)
{
    (void)state;
    static const unsigned char msg[] = {MC_WIRE_VERSION, 'I', 8, 0, 0, 0, 0, 0, 0, 0, 0x40};
    const char *err = decode_fails(msg, sizeof msg);
    assert_non_null(strstr(err, "fits int64"));
    static const unsigned char empty[] = {MC_WIRE_VERSION, 'I', 0};
    decode_fails(empty, sizeof empty);
}

static void non_minimal_bigint_is_rejected(void **state)
{
    (void)state;
    /* 2^64 with a redundant zero byte on top. */
    static const unsigned char pos[] = {MC_WIRE_VERSION, 'I', 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    assert_non_null(strstr(decode_fails(pos, sizeof pos), "not minimally"));
    /* -2^71 (minimal: nine bytes, top 0x80) with a redundant 0xff. */
    static const unsigned char neg[] = {MC_WIRE_VERSION, 'I', 10, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0x80, 0xff};
    assert_non_null(strstr(decode_fails(neg, sizeof neg), "not minimally"));
    static const unsigned char ok[] = {MC_WIRE_VERSION, 'I', 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
    decode_succeeds(ok, sizeof ok);
}

static void blob_read_refuses_a_non_blob_tag(void **state)
{
    (void)state;
    static const unsigned char bytes[] = {1, 'x'};
    mc_wire_reader r;
    reader_over(&r, bytes, sizeof bytes);
    const unsigned char *data;
    size_t n;
    uint64_t count;
    assert_int_equal(mc_wire_read_blob(&r, 'l', &data, &n), MC_EWIRE);
    assert_int_equal(mc_wire_read_count(&r, 's', &count), MC_EWIRE);
    assert_ptr_equal(r.p, bytes);
}

/* ------------------------------------------------------------------------
 * Depth
 * ------------------------------------------------------------------------ */

static void nesting_at_the_limit_is_accepted(void **state)
{
    (void)state;
    size_t n;
    unsigned char *msg = nested_lists(MC_WIRE_MAX_DEPTH, &n);
    decode_succeeds(msg, n);
    mc_wire_reader r;
    reader_over(&r, msg + 1, n - 1);
    assert_int_equal(mc_wire_skip(&r), 0);
    assert_int_equal(r.depth, 0);
    free(msg);
}

static void nesting_deeper_than_limit_is_rejected(void **state)
{
    (void)state;
    size_t n;
    unsigned char *msg = nested_lists(MC_WIRE_MAX_DEPTH + 1, &n);
    const char *err = decode_fails(msg, n);
    assert_non_null(strstr(err, "deeper than 128"));
    mc_wire_reader r;
    reader_over(&r, msg + 1, n - 1);
    assert_int_equal(mc_wire_skip(&r), MC_EWIRE);
    assert_ptr_equal(r.p, msg + 1);
    free(msg);
}

static void very_deep_nesting_is_rejected_without_recursing_far(void **state)
{
    (void)state;
    size_t n;
    unsigned char *msg = nested_lists(1000000, &n);
    decode_fails(msg, n);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buffer_grows_and_detaches_its_bytes),
        cmocka_unit_test(buffer_reserve_refuses_size_overflow),
        cmocka_unit_test(uvarint_round_trips_at_every_length),
        cmocka_unit_test(int64_edges_round_trip_through_zigzag),
        cmocka_unit_test(small_negative_ints_take_one_byte),
        cmocka_unit_test(floats_are_little_endian_on_the_wire),
        cmocka_unit_test(floats_keep_nan_payload_and_infinities),
        cmocka_unit_test(ten_byte_varint_of_uint64_max_is_accepted),
        cmocka_unit_test(overlong_varint_is_rejected),
        cmocka_unit_test(varint_beyond_64_bits_is_rejected),
        cmocka_unit_test(truncated_varint_is_rejected),
        cmocka_unit_test(empty_message_is_rejected),
        cmocka_unit_test(bad_version_is_rejected),
        cmocka_unit_test(unknown_tag_is_rejected),
        cmocka_unit_test(trailing_bytes_are_rejected),
        cmocka_unit_test(truncated_str_is_rejected_with_offset),
        cmocka_unit_test(count_larger_than_bytes_left_is_rejected),
        cmocka_unit_test(huge_count_is_rejected_before_any_allocation),
        cmocka_unit_test(dict_count_needs_two_bytes_per_pair),
        cmocka_unit_test(every_prefix_of_a_message_is_rejected),
        cmocka_unit_test(every_prefix_fails_skip_and_keeps_the_cursor),
        cmocka_unit_test(skip_passes_over_one_whole_value),
        cmocka_unit_test(invalid_utf8_is_rejected),
        cmocka_unit_test(valid_utf8_edges_are_accepted),
        cmocka_unit_test(bigint_that_fits_int64_is_rejected),
        cmocka_unit_test(non_minimal_bigint_is_rejected),
        cmocka_unit_test(blob_read_refuses_a_non_blob_tag),
        cmocka_unit_test(nesting_at_the_limit_is_accepted),
        cmocka_unit_test(nesting_deeper_than_limit_is_rejected),
        cmocka_unit_test(very_deep_nesting_is_rejected_without_recursing_far),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
