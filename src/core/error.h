/*
 * error.h — result codes' detail messages, kept per thread.
 *
 * mc_fail() records a printf-style detail for mc_errmsg() and returns the
 * code, so a failing path reads `return mc_fail(MC_EINVAL, "...", ...);`.
 * The detail is thread-local: the one piece of process-wide mutable state the
 * core has, and it is per thread, so threads never see each other's.
 */
#ifndef MC_ERROR_H
#define MC_ERROR_H

#include "manycore.h"

#if defined(__GNUC__)
#define MC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MC_PRINTF(f, a)
#endif

/* Records the detail for mc_errmsg() and returns code. */
int mc_fail(int code, const char *fmt, ...) MC_PRINTF(2, 3);
/* Clears the detail (a call that succeeds leaves it empty). */
void mc_clear_error(void);

#endif /* MC_ERROR_H */
