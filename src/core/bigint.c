/*
 * bigint.c — arbitrary-size integers between decimal text and minimal two's
 * complement bytes, plus the int64 and double views of those bytes.
 *
 * Magnitudes are held as little-endian arrays of 32-bit limbs so that every
 * multiply-add and divide step fits a uint64_t; decimal goes in and out in
 * chunks of nine digits (10^9 < 2^32). Negatives are magnitude plus sign in
 * the arithmetic and only become two's complement at the byte boundary.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "bigint.h"
#include "error.h"

#define CHUNK 1000000000u /* 10^9: nine decimal digits per limb step */
#define CHUNK_DIGITS 9

/* Two's complement negation in place: invert, then add one. */
static void negate_bytes(unsigned char *b, size_t n)
{
    unsigned carry = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)(unsigned char)~b[i] + carry;
        b[i] = (unsigned char)v;
        carry = v >> 8;
    }
}

/* Drops top bytes that only repeat the sign of the byte below them. */
static size_t minimal_length(const unsigned char *b, size_t n)
{
    while (n > 1) {
        unsigned char top = b[n - 1], below_sign = b[n - 2] & 0x80;
        if (!((top == 0x00 && !below_sign) || (top == 0xff && below_sign)))
            break;
        n--;
    }
    return n;
}

/* ------------------------------------------------------------------------
 * Decimal text -> bytes
 * ------------------------------------------------------------------------ */

static int parse_sign(const char *text, size_t len, int *negative, size_t *start)
{
    *negative = 0;
    *start = 0;
    if (len > 0 && (text[0] == '-' || text[0] == '+')) {
        *negative = text[0] == '-';
        *start = 1;
    }
    if (*start == len)
        return mc_fail(MC_EINVAL, "integer text \"%.*s\" has no digits", (int)(len > 40 ? 40 : len),
                       text);
    for (size_t i = *start; i < len; i++)
        if (text[i] < '0' || text[i] > '9')
            return mc_fail(MC_EINVAL, "integer text has '%c' at position %zu (only digits may "
                           "follow the optional sign)", text[i] ? text[i] : '?', i);
    return 0;
}

/* mag (nl limbs) = mag * mul + add; the caller sized mag to never carry out. */
static void limbs_mul_add(uint32_t *mag, size_t nl, uint32_t mul, uint32_t add)
{
    uint64_t carry = add;
    for (size_t i = 0; i < nl; i++) {
        uint64_t v = (uint64_t)mag[i] * mul + carry;
        mag[i] = (uint32_t)v;
        carry = v >> 32;
    }
}

/* Writes the magnitude as little-endian bytes into out (4 * nl + 1 bytes, the
 * last a zero sign byte), negates if asked, and returns the minimal length. */
static size_t limbs_to_twos(const uint32_t *mag, size_t nl, int negative, unsigned char *out)
{
    size_t n = 4 * nl + 1;
    for (size_t i = 0; i < nl; i++)
        for (int k = 0; k < 4; k++)
            out[4 * i + (size_t)k] = (unsigned char)(mag[i] >> (8 * k));
    out[n - 1] = 0;
    if (negative)
        negate_bytes(out, n);
    return minimal_length(out, n);
}

int mc_bigint_from_decimal(const char *text, size_t len, unsigned char **bytes, size_t *n)
{
    if (!text || !bytes || !n)
        return mc_fail(MC_EINVAL, "mc_bigint_from_decimal: NULL argument");
    int negative;
    size_t start;
    int rc = parse_sign(text, len, &negative, &start);
    if (rc)
        return rc;
    size_t digits = len - start;
    /* Each nine-digit chunk adds under 30 bits, so one limb per chunk plus
     * one spare never overflows. */
    size_t nl = digits / CHUNK_DIGITS + 2;
    if (nl > (SIZE_MAX - 1) / 4 / sizeof(uint32_t))
        return mc_fail(MC_ENOMEM, "integer text of %zu digits is too long", digits);
    uint32_t *mag = calloc(nl, sizeof *mag);
    unsigned char *out = malloc(4 * nl + 1);
    if (!mag || !out) {
        free(mag);
        free(out);
        return mc_fail(MC_ENOMEM, "out of memory converting a %zu-digit integer", digits);
    }
    size_t i = start;
    size_t first = digits % CHUNK_DIGITS ? digits % CHUNK_DIGITS : CHUNK_DIGITS;
    while (i < len) {
        size_t take = i == start ? first : CHUNK_DIGITS;
        uint32_t chunk = 0, mul = 1;
        for (size_t k = 0; k < take; k++, i++) {
            chunk = chunk * 10 + (uint32_t)(text[i] - '0');
            mul *= 10;
        }
        limbs_mul_add(mag, nl, mul, chunk);
    }
    *n = limbs_to_twos(mag, nl, negative, out);
    free(mag);
    *bytes = out;
    return 0;
}

/* ------------------------------------------------------------------------
 * Bytes -> decimal text
 * ------------------------------------------------------------------------ */

/* The magnitude of n bytes of two's complement as nl 32-bit limbs. */
static uint32_t *magnitude_limbs(const unsigned char *bytes, size_t n, int *negative, size_t *nl)
{
    *negative = (bytes[n - 1] & 0x80) != 0;
    unsigned char *tmp = malloc(n);
    uint32_t *mag = calloc(n / 4 + 1, sizeof *mag);
    if (!tmp || !mag) {
        free(tmp);
        free(mag);
        return NULL;
    }
    memcpy(tmp, bytes, n);
    if (*negative)
        negate_bytes(tmp, n); /* as unsigned, -min comes out right */
    for (size_t i = 0; i < n; i++)
        mag[i / 4] |= (uint32_t)tmp[i] << (8 * (i % 4));
    free(tmp);
    *nl = n / 4 + 1;
    while (*nl > 0 && mag[*nl - 1] == 0)
        (*nl)--;
    return mag;
}

/* mag /= CHUNK; returns the remainder and drops top zero limbs. */
static uint32_t limbs_divmod_chunk(uint32_t *mag, size_t *nl)
{
    uint64_t rem = 0;
    for (size_t i = *nl; i-- > 0;) {
        uint64_t cur = (rem << 32) | mag[i];
        mag[i] = (uint32_t)(cur / CHUNK);
        rem = cur % CHUNK;
    }
    while (*nl > 0 && mag[*nl - 1] == 0)
        (*nl)--;
    return (uint32_t)rem;
}

/* Writes chunks (least significant first) as decimal after an optional '-'. */
static void format_chunks(const uint32_t *chunks, size_t nc, int negative, char *out)
{
    char *p = out;
    if (negative)
        *p++ = '-';
    char head[CHUNK_DIGITS + 1];
    int h = 0;
    uint32_t top = chunks[nc - 1];
    do {
        head[h++] = (char)('0' + top % 10);
        top /= 10;
    } while (top);
    while (h > 0)
        *p++ = head[--h];
    for (size_t c = nc - 1; c-- > 0;) {
        uint32_t v = chunks[c];
        for (int k = CHUNK_DIGITS - 1; k >= 0; k--) {
            p[k] = (char)('0' + v % 10);
            v /= 10;
        }
        p += CHUNK_DIGITS;
    }
    *p = '\0';
}

int mc_bigint_to_decimal(const unsigned char *bytes, size_t n, char **text)
{
    if (!bytes || n == 0 || !text)
        return mc_fail(MC_EINVAL, "mc_bigint_to_decimal: no bytes to convert");
    /* A byte is under three decimal digits, so this bounds the chunk count. */
    if (n > (SIZE_MAX - 32) / 3 / sizeof(uint32_t))
        return mc_fail(MC_ENOMEM, "integer of %zu bytes is too large to format", n);
    size_t max_chunks = (3 * n) / CHUNK_DIGITS + 2;
    int negative = 0;
    size_t nl = 0;
    uint32_t *mag = magnitude_limbs(bytes, n, &negative, &nl);
    uint32_t *chunks = malloc(max_chunks * sizeof *chunks);
    char *out = malloc(max_chunks * CHUNK_DIGITS + 2);
    if (!mag || !chunks || !out) {
        free(mag);
        free(chunks);
        free(out);
        return mc_fail(MC_ENOMEM, "out of memory formatting a %zu-byte integer", n);
    }
    size_t nc = 0;
    do {
        chunks[nc++] = limbs_divmod_chunk(mag, &nl);
    } while (nl > 0);
    format_chunks(chunks, nc, negative && !(nc == 1 && chunks[0] == 0), out);
    free(mag);
    free(chunks);
    *text = out;
    return 0;
}

/* ------------------------------------------------------------------------
 * Views: int64 and double
 * ------------------------------------------------------------------------ */

int mc_bigint_fits_int64(const unsigned char *bytes, size_t n, int64_t *v)
{
    if (n == 0) {
        *v = 0;
        return 1;
    }
    unsigned char fill = (bytes[n - 1] & 0x80) ? 0xff : 0x00;
    /* Beyond eight bytes, everything must be sign extension of byte 7. */
    if (n > 8) {
        if (((bytes[7] & 0x80) ? 0xff : 0x00) != fill)
            return 0;
        for (size_t i = 8; i < n; i++)
            if (bytes[i] != fill)
                return 0;
    }
    uint64_t u = 0;
    for (size_t i = 0; i < 8; i++)
        u |= (uint64_t)(i < n ? bytes[i] : fill) << (8 * i);
    *v = u <= INT64_MAX ? (int64_t)u : -(int64_t)(UINT64_MAX - u) - 1;
    return 1;
}

static int bit_at(const unsigned char *mag, size_t n, size_t bit)
{
    size_t byte = bit / 8;
    return byte < n ? (mag[byte] >> (bit % 8)) & 1 : 0;
}

/* Bit length of an unsigned little-endian magnitude. */
static size_t bit_length(const unsigned char *mag, size_t n)
{
    while (n > 0 && mag[n - 1] == 0)
        n--;
    if (n == 0)
        return 0;
    size_t bits = 8 * (n - 1);
    for (unsigned char top = mag[n - 1]; top; top >>= 1)
        bits++;
    return bits;
}

/* Rounds the magnitude to double: keep its top 64 bits with a sticky bit for
 * everything below, let the uint64 -> double conversion round once, then
 * scale by powers of two (exact until it overflows). */
static int magnitude_to_double(const unsigned char *mag, size_t n, double *out)
{
    size_t len = bit_length(mag, n);
    size_t shift = len > 64 ? len - 64 : 0;
    uint64_t top = 0;
    for (size_t k = 0; k < 64; k++)
        top |= (uint64_t)bit_at(mag, n, shift + k) << k;
    for (size_t k = 0; k < shift && !(top & 1); k++)
        top |= (uint64_t)bit_at(mag, n, k);
    double d = (double)top;
    for (; shift >= 32; shift -= 32) {
        d *= 4294967296.0;
        if (d > DBL_MAX)
            return mc_fail(MC_ERANGE, "integer of %zu bits is too large for a float", len);
    }
    d *= (double)((uint64_t)1 << shift);
    if (d > DBL_MAX)
        return mc_fail(MC_ERANGE, "integer of %zu bits is too large for a float", len);
    *out = d;
    return 0;
}

int mc_bigint_to_double(const unsigned char *bytes, size_t n, double *out)
{
    if (n == 0) {
        *out = 0.0;
        return 0;
    }
    int negative = (bytes[n - 1] & 0x80) != 0;
    unsigned char *mag = malloc(n);
    if (!mag)
        return mc_fail(MC_ENOMEM, "out of memory converting an integer to float");
    memcpy(mag, bytes, n);
    if (negative)
        negate_bytes(mag, n);
    double d = 0.0;
    int rc = magnitude_to_double(mag, n, &d);
    free(mag);
    if (rc)
        return rc;
    *out = negative ? -d : d;
    return 0;
}
