/*
 * blocking.h — what the core does around a wait that may block.
 *
 * The core never knows about Python, but a thread that holds a GIL and
 * blocks in manycore (a host embedding Python itself, Python code waiting on
 * a channel) must let go of it meanwhile: workers may need the main GIL for
 * a moment (import.c switches to the main interpreter for single-phase
 * built-ins), and other threads of that interpreter should run. The bridge
 * installs a pair of hooks once, when it starts or adopts Python; until then
 * (and in core-only tests) they are no-ops. This pair is, with the
 * thread-local error detail, the core's only process-wide state.
 */
#ifndef MC_BLOCKING_H
#define MC_BLOCKING_H

typedef void *(*mc_block_begin_fn)(void);
typedef void (*mc_block_end_fn)(void *token);

/* Installs the hooks (idempotent; later calls replace them). */
void mc_set_blocking_hooks(mc_block_begin_fn begin, mc_block_end_fn end);
/* Around each blocking wait: token = mc_block_begin(); ...; mc_block_end(token). */
void *mc_block_begin(void);
void mc_block_end(void *token);

#endif /* MC_BLOCKING_H */
