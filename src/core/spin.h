/*
 * spin.h — the clock and the pause instruction of the core's bounded spins.
 *
 * Waits in the core (futures, the task queue, channels) spin for a few
 * tens of microseconds before they sleep, yielding the CPU every few dozen
 * rounds (see future.c for why); these are the two primitives they share.
 */
#ifndef MC_SPIN_H
#define MC_SPIN_H

#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline long long mc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Tells the CPU this is a spin-wait (cheaper for a sibling hyper-thread). */
static inline void mc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif /* MC_SPIN_H */
