/*
 * blocking.c — the hooks run around the core's blocking waits (see
 * blocking.h). Atomic pointers: installed once, read by every waiter.
 */
#include <stdatomic.h>
#include <stddef.h>

#include "blocking.h"

static _Atomic(mc_block_begin_fn) hook_begin;
static _Atomic(mc_block_end_fn) hook_end;

void mc_set_blocking_hooks(mc_block_begin_fn begin, mc_block_end_fn end)
{
    atomic_store(&hook_end, end);
    atomic_store(&hook_begin, begin);
}

void *mc_block_begin(void)
{
    mc_block_begin_fn f = atomic_load_explicit(&hook_begin, memory_order_acquire);
    return f ? f() : NULL;
}

void mc_block_end(void *token)
{
    mc_block_end_fn f = atomic_load_explicit(&hook_end, memory_order_acquire);
    if (f && token)
        f(token);
}
