/*
 * bigint.h — integers of any size, converted between the two forms manycore
 * meets: decimal text (what a C host writes and reads) and minimal little
 * endian two's complement bytes (what the wire format's 'I' carries and what
 * Python's int.to_bytes / int.from_bytes speak). Core: no Python headers.
 *
 * Conversions are schoolbook O(n^2); numbers big enough for that to matter
 * are rare in arguments and results.
 */
#ifndef MC_BIGINT_H
#define MC_BIGINT_H

#include <stddef.h>
#include <stdint.h>

/* Parses decimal text of len bytes: an optional '-' or '+', then one or more
 * ASCII digits, nothing else. On success *bytes gets a malloc'd array of *n
 * (>= 1) bytes, the minimal two's complement of the number, little endian.
 * MC_EINVAL (with a detail) for malformed text, MC_ENOMEM. */
int mc_bigint_from_decimal(const char *text, size_t len, unsigned char **bytes, size_t *n);

/* Formats n (>= 1) bytes of little-endian two's complement (minimal or not)
 * as canonical decimal text: '-' for negatives, no '+', no leading zeros.
 * On success *text gets a malloc'd NUL-terminated string. MC_ENOMEM,
 * MC_EINVAL for n == 0. */
int mc_bigint_to_decimal(const unsigned char *bytes, size_t n, char **text);

/* Returns 1 and sets *v when the n bytes of two's complement fit int64_t,
 * else 0 (*v untouched). n == 0 counts as zero. */
int mc_bigint_fits_int64(const unsigned char *bytes, size_t n, int64_t *v);

/* The nearest double to the n bytes of two's complement (correctly rounded,
 * ties to even). MC_ERANGE when the magnitude exceeds DBL_MAX. */
int mc_bigint_to_double(const unsigned char *bytes, size_t n, double *out);

#endif /* MC_BIGINT_H */
