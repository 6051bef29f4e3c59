/*
 * channel.c — channels: bounded multi-producer multi-consumer queues of
 * wire messages, their blocking send/receive with timeouts, close, and
 * select over several channels; plus the value-level public API on top.
 *
 * One mutex guards a ring of mc_msg; senders sleep on not_full, receivers
 * on not_empty. A select cannot sleep on n condition variables at once, so
 * it brings its own: a waiter (mutex, condvar, flag) on its stack, linked
 * into every channel it watches. A send or a close on a channel raises the
 * flag of each waiter linked there. Lock order is channel, then waiter: no
 * thread ever holds two channel locks, and a selecting thread holds no
 * channel lock while it holds its waiter's, so the order is never reversed.
 *
 * Like futures, a wait spins briefly before it sleeps: a ping-pong between
 * two threads then never pays a futex wake-up on either side, and the
 * counts of sleepers let a send skip the signal when the receiver is still
 * spinning. The spin yields every few dozen rounds (see future.c for why)
 * and is bounded, so an idle channel costs nothing after it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spin.h"
#include "blocking.h"
#include "channel.h"
#include "error.h"
#include "value.h"

#define MC_CHANNEL_MAX_CAPACITY ((size_t)1 << 24)
#define MC_CHANNEL_FIRST_SLOTS 16 /* the ring grows on demand up to capacity */
#define MC_CHANNEL_SPIN_NS 20000  /* how long a waiter spins before sleeping */
#define MC_CHANNEL_FOREVER_MS (100LL * 366 * 86400 * 1000) /* longer waits never end */
#define MC_SELECT_STACK_LINKS 8   /* selects over more channels allocate links */
#define WOULD_BLOCK 1             /* internal: neither done nor failed yet */

/* A select's private wake-up, on the selecting thread's stack. */
typedef struct sel_waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int fired; /* under lock: some watched channel changed since last looked */
} sel_waiter;

/* One waiter's membership in one channel's list (a waiter has one per
 * channel it watches, so it can sit in several lists at once). */
typedef struct sel_link {
    struct sel_link *prev, *next;
    sel_waiter *waiter;
} sel_link;

typedef struct mc_channel {
    mc_shared base;
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    size_t capacity;
    mc_msg *slots; /* ring of nslots, count of them queued from head */
    size_t nslots;
    size_t head;
    /* Written under lock; read without it by spinning waiters and
     * mc_channel_len, which only need a hint. */
    atomic_size_t count;
    atomic_int closed;
    int recv_sleepers; /* threads asleep on not_empty, under lock */
    int send_sleepers;
    sel_link *selectors;
    atomic_uint select_turn; /* where the next select starts, for fairness */
} mc_channel;

static mc_channel *channel_of(const mc_shared *ch)
{
    return mc_shared_valid(ch, MC_SHARED_CHANNEL) ? (mc_channel *)ch : NULL;
}

static int not_a_channel(const char *fn)
{
    return mc_fail(MC_EINVAL, "%s: not a channel (NULL, freed, or another kind of shared object)", fn);
}

static size_t count_of(const mc_channel *c)
{
    return atomic_load_explicit(&((mc_channel *)c)->count, memory_order_acquire);
}

static int is_closed(const mc_channel *c)
{
    return atomic_load_explicit(&((mc_channel *)c)->closed, memory_order_acquire);
}

/* ---- time ---------------------------------------------------------------- */

/* A wait's end, fixed once per call so wake-ups that find nothing to do
 * never stretch it. Only meaningful for timeout_ms > 0. */
typedef struct deadline {
    long timeout_ms;
    long long spin_until_ns;
    struct timespec at; /* CLOCK_MONOTONIC */
} deadline;

static void deadline_start(deadline *d, long timeout_ms)
{
    /* Beyond a century the nanosecond arithmetic would overflow; nobody
     * can tell such a wait from waiting for ever. */
    if ((long long)timeout_ms > MC_CHANNEL_FOREVER_MS)
        timeout_ms = -1;
    long long now = mc_now_ns();
    d->timeout_ms = timeout_ms;
    d->spin_until_ns = now + MC_CHANNEL_SPIN_NS;
    if (timeout_ms > 0) {
        long long end = now + (long long)timeout_ms * 1000000LL;
        if (end < d->spin_until_ns)
            d->spin_until_ns = end;
        d->at.tv_sec = (time_t)(end / 1000000000LL);
        d->at.tv_nsec = (long)(end % 1000000000LL);
    }
}

/* pthread_cond_wait or _timedwait; returns non-zero once the deadline has
 * passed. */
static int wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, const deadline *d)
{
    if (d->timeout_ms < 0) {
        pthread_cond_wait(cond, lock);
        return 0;
    }
    return pthread_cond_timedwait(cond, lock, &d->at) == ETIMEDOUT;
}

/* Spins until ready(arg) holds or the spin time is over; returns whether
 * it held. */
static int spin_for(int (*ready)(const void *), const void *arg, const deadline *d)
{
    for (int i = 0;; i++) {
        mc_cpu_relax();
        if (ready(arg))
            return 1;
        if ((i & 63) == 63) {
            if (mc_now_ns() >= d->spin_until_ns)
                return 0;
            /* The thread we wait for may have been woken onto our CPU. */
            sched_yield();
        }
    }
}

/* ---- the ring, under the channel's lock ------------------------------------ */

static void fire_selectors(mc_channel *c)
{
    for (sel_link *l = c->selectors; l; l = l->next) {
        pthread_mutex_lock(&l->waiter->lock);
        l->waiter->fired = 1;
        pthread_cond_signal(&l->waiter->cond);
        pthread_mutex_unlock(&l->waiter->lock);
    }
}

static int grow(mc_channel *c)
{
    size_t n = c->nslots * 2 < c->capacity ? c->nslots * 2 : c->capacity;
    mc_msg *slots = malloc(n * sizeof *slots);
    if (!slots)
        return mc_fail(MC_ENOMEM, "out of memory growing a channel to %zu slots", n);
    size_t queued = count_of(c);
    for (size_t i = 0, j = c->head; i < queued; i++) {
        slots[i] = c->slots[j];
        if (++j == c->nslots)
            j = 0;
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = n;
    c->head = 0;
    return MC_OK;
}

/* MC_OK (msg moved in and reset), MC_ECLOSED, MC_ENOMEM or WOULD_BLOCK. */
static int try_push(mc_channel *c, mc_msg *msg)
{
    if (is_closed(c))
        return mc_fail(MC_ECLOSED, "the channel is closed");
    size_t queued = count_of(c);
    if (queued == c->capacity)
        return WOULD_BLOCK;
    if (queued == c->nslots) {
        int rc = grow(c);
        if (rc != MC_OK)
            return rc;
    }
    size_t tail = c->head + queued;
    if (tail >= c->nslots)
        tail -= c->nslots;
    c->slots[tail] = *msg;
    memset(msg, 0, sizeof *msg);
    atomic_store_explicit(&c->count, queued + 1, memory_order_release);
    if (c->recv_sleepers)
        pthread_cond_signal(&c->not_empty);
    fire_selectors(c);
    return MC_OK;
}

/* MC_OK (the oldest message moved to *out), MC_ECLOSED once closed and
 * drained, or WOULD_BLOCK. */
static int try_pop(mc_channel *c, mc_msg *out)
{
    size_t queued = count_of(c);
    if (queued == 0)
        return is_closed(c) ? mc_fail(MC_ECLOSED, "the channel is closed and drained") : WOULD_BLOCK;
    *out = c->slots[c->head];
    memset(&c->slots[c->head], 0, sizeof *out);
    if (++c->head == c->nslots)
        c->head = 0;
    atomic_store_explicit(&c->count, queued - 1, memory_order_release);
    if (c->send_sleepers)
        pthread_cond_signal(&c->not_full);
    return MC_OK;
}

/* ---- life cycle ------------------------------------------------------------ */

static void channel_destroy(mc_shared *obj)
{
    mc_channel *c = (mc_channel *)obj;
    /* Queued messages hold references to the objects they carry; dropping
     * them may destroy other channels in turn, which is fine: no lock of
     * ours is held here. */
    size_t queued = count_of(c);
    for (size_t i = 0, j = c->head; i < queued; i++) {
        mc_msg_clear(&c->slots[j]);
        if (++j == c->nslots)
            j = 0;
    }
    free(c->slots);
    pthread_cond_destroy(&c->not_full);
    pthread_cond_destroy(&c->not_empty);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int monotonic_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int e = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (e == 0)
        e = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return e == 0 ? 0 : -1;
}

int mc_channel_new(size_t capacity, mc_shared **out)
{
    mc_clear_error();
    if (!out)
        return mc_fail(MC_EINVAL, "mc_channel_new: out is NULL");
    if (capacity == 0 || capacity > MC_CHANNEL_MAX_CAPACITY)
        return mc_fail(MC_EINVAL, "channel capacity %zu is out of 1..%zu", capacity, MC_CHANNEL_MAX_CAPACITY);
    mc_channel *c = calloc(1, sizeof *c);
    size_t nslots = capacity < MC_CHANNEL_FIRST_SLOTS ? capacity : MC_CHANNEL_FIRST_SLOTS;
    mc_msg *slots = calloc(nslots, sizeof *slots);
    if (!c || !slots) {
        free(c);
        free(slots);
        return mc_fail(MC_ENOMEM, "out of memory allocating a channel");
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(slots);
        free(c);
        return mc_fail(MC_ESYSTEM, "cannot create a mutex for a channel");
    }
    if (monotonic_cond_init(&c->not_empty) != 0) {
        pthread_mutex_destroy(&c->lock);
        free(slots);
        free(c);
        return mc_fail(MC_ESYSTEM, "cannot create a condition variable for a channel");
    }
    if (monotonic_cond_init(&c->not_full) != 0) {
        pthread_cond_destroy(&c->not_empty);
        pthread_mutex_destroy(&c->lock);
        free(slots);
        free(c);
        return mc_fail(MC_ESYSTEM, "cannot create a condition variable for a channel");
    }
    c->capacity = capacity;
    c->slots = slots;
    c->nslots = nslots;
    atomic_init(&c->count, 0);
    atomic_init(&c->closed, 0);
    atomic_init(&c->select_turn, 0);
    mc_shared_init(&c->base, MC_SHARED_CHANNEL, channel_destroy);
    *out = &c->base;
    return MC_OK;
}

int mc_channel_close(mc_shared *ch)
{
    mc_clear_error();
    mc_channel *c = channel_of(ch);
    if (!c)
        return not_a_channel("mc_channel_close");
    pthread_mutex_lock(&c->lock);
    if (!is_closed(c)) {
        atomic_store_explicit(&c->closed, 1, memory_order_release);
        pthread_cond_broadcast(&c->not_empty);
        pthread_cond_broadcast(&c->not_full);
        fire_selectors(c);
    }
    pthread_mutex_unlock(&c->lock);
    return MC_OK;
}

size_t mc_channel_len(const mc_shared *ch)
{
    const mc_channel *c = channel_of(ch);
    return c ? count_of(c) : 0;
}

size_t mc_channel_capacity(const mc_shared *ch)
{
    const mc_channel *c = channel_of(ch);
    return c ? c->capacity : 0;
}

int mc_channel_is_closed(const mc_shared *ch)
{
    const mc_channel *c = channel_of(ch);
    if (!c)
        return not_a_channel("mc_channel_is_closed");
    return is_closed(c);
}

/* ---- send and receive of messages ------------------------------------------ */

static int has_room(const void *arg)
{
    const mc_channel *c = arg;
    return count_of(c) < c->capacity || is_closed(c);
}

static int has_message(const void *arg)
{
    const mc_channel *c = arg;
    return count_of(c) > 0 || is_closed(c);
}

int mc_channel_send_msg(mc_shared *ch, mc_msg *msg, long timeout_ms)
{
    mc_clear_error();
    mc_channel *c = channel_of(ch);
    if (!c)
        return not_a_channel("mc_channel_send");
    if (!msg)
        return mc_fail(MC_EINVAL, "mc_channel_send: msg is NULL");
    pthread_mutex_lock(&c->lock);
    int rc = try_push(c, msg);
    pthread_mutex_unlock(&c->lock);
    if (rc != WOULD_BLOCK)
        return rc;
    if (timeout_ms == 0)
        return mc_fail(MC_ETIMEDOUT, "the channel is full (capacity %zu)", c->capacity);

    deadline d;
    deadline_start(&d, timeout_ms);
    if (spin_for(has_room, c, &d)) {
        pthread_mutex_lock(&c->lock);
        rc = try_push(c, msg);
        pthread_mutex_unlock(&c->lock);
        if (rc != WOULD_BLOCK)
            return rc;
    }
    void *token = mc_block_begin();
    pthread_mutex_lock(&c->lock);
    c->send_sleepers++;
    while ((rc = try_push(c, msg)) == WOULD_BLOCK) {
        if (wait_until(&c->not_full, &c->lock, &d)) {
            /* A timed-out wait may have taken the signal meant for a slot
             * that just freed: look once more rather than strand it. */
            rc = try_push(c, msg);
            break;
        }
    }
    c->send_sleepers--;
    pthread_mutex_unlock(&c->lock);
    mc_block_end(token);
    if (rc == WOULD_BLOCK)
        return mc_fail(MC_ETIMEDOUT, "the channel stayed full (capacity %zu) for %ld ms", c->capacity,
                       timeout_ms);
    return rc;
}

int mc_channel_recv_msg(mc_shared *ch, mc_msg *out, long timeout_ms)
{
    mc_clear_error();
    mc_channel *c = channel_of(ch);
    if (!c)
        return not_a_channel("mc_channel_recv");
    if (!out)
        return mc_fail(MC_EINVAL, "mc_channel_recv: out is NULL");
    pthread_mutex_lock(&c->lock);
    int rc = try_pop(c, out);
    pthread_mutex_unlock(&c->lock);
    if (rc != WOULD_BLOCK)
        return rc;
    if (timeout_ms == 0)
        return mc_fail(MC_ETIMEDOUT, "the channel is empty");

    deadline d;
    deadline_start(&d, timeout_ms);
    if (spin_for(has_message, c, &d)) {
        pthread_mutex_lock(&c->lock);
        rc = try_pop(c, out);
        pthread_mutex_unlock(&c->lock);
        if (rc != WOULD_BLOCK)
            return rc;
    }
    void *token = mc_block_begin();
    pthread_mutex_lock(&c->lock);
    c->recv_sleepers++;
    while ((rc = try_pop(c, out)) == WOULD_BLOCK) {
        if (wait_until(&c->not_empty, &c->lock, &d)) {
            rc = try_pop(c, out); /* as in send: never strand a message */
            break;
        }
    }
    c->recv_sleepers--;
    pthread_mutex_unlock(&c->lock);
    mc_block_end(token);
    if (rc == WOULD_BLOCK)
        return mc_fail(MC_ETIMEDOUT, "the channel stayed empty for %ld ms", timeout_ms);
    return rc;
}

/* ---- select ---------------------------------------------------------------- */

typedef struct select_set {
    mc_shared *const *chs; /* validated channels */
    size_t n;
} select_set;

static mc_channel *nth(const select_set *s, size_t i)
{
    return (mc_channel *)s->chs[i];
}

/* One pass over the channels from `start`: MC_OK with a message, MC_ECLOSED
 * when every channel is closed and drained, else WOULD_BLOCK. Reading the
 * count without the lock is safe: a message a pass misses was pushed after
 * it looked, so either the caller's waiter was registered by then (that
 * takes each lock) and the push fires it, or the caller registers later and
 * its next pass sees the message; and a closed, empty channel stays so. */
static int select_pass(const select_set *s, size_t start, size_t *index, mc_msg *out)
{
    size_t drained = 0;
    for (size_t k = 0; k < s->n; k++) {
        size_t i = (start + k) % s->n;
        mc_channel *c = nth(s, i);
        /* closed before count: a channel seen closed gets no more pushes,
         * so a count read after it that is 0 stays 0. */
        int closed = is_closed(c);
        if (count_of(c) == 0) {
            drained += closed != 0;
            continue;
        }
        pthread_mutex_lock(&c->lock);
        int rc = try_pop(c, out);
        pthread_mutex_unlock(&c->lock);
        if (rc == MC_OK) {
            *index = i;
            return MC_OK;
        }
        drained += rc == MC_ECLOSED;
    }
    return drained == s->n ? MC_ECLOSED : WOULD_BLOCK;
}

static int select_ready(const void *arg)
{
    const select_set *s = arg;
    size_t drained = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (count_of(nth(s, i)) > 0)
            return 1;
        drained += is_closed(nth(s, i)) != 0;
    }
    return drained == s->n;
}

static void link_in(mc_channel *c, sel_link *l, sel_waiter *w)
{
    l->waiter = w;
    l->prev = NULL;
    pthread_mutex_lock(&c->lock);
    l->next = c->selectors;
    if (c->selectors)
        c->selectors->prev = l;
    c->selectors = l;
    pthread_mutex_unlock(&c->lock);
}

/* After this no sender can reach the waiter: senders touch it only under
 * the channel's lock, while it is linked. */
static void link_out(mc_channel *c, sel_link *l)
{
    pthread_mutex_lock(&c->lock);
    if (l->prev)
        l->prev->next = l->next;
    else
        c->selectors = l->next;
    if (l->next)
        l->next->prev = l->prev;
    pthread_mutex_unlock(&c->lock);
}

/* The sleeping part of a select: registers a waiter on every channel, then
 * alternates passes and sleeps until a pass succeeds or time runs out. */
static int select_sleep(const select_set *s, size_t start, const deadline *d, size_t *index,
                        mc_msg *out)
{
    sel_link stack_links[MC_SELECT_STACK_LINKS];
    sel_link *links = stack_links;
    if (s->n > MC_SELECT_STACK_LINKS && !(links = malloc(s->n * sizeof *links)))
        return mc_fail(MC_ENOMEM, "out of memory selecting over %zu channels", s->n);
    sel_waiter w;
    w.fired = 0;
    if (pthread_mutex_init(&w.lock, NULL) != 0) {
        if (links != stack_links)
            free(links);
        return mc_fail(MC_ESYSTEM, "cannot create a mutex for a select");
    }
    if (monotonic_cond_init(&w.cond) != 0) {
        pthread_mutex_destroy(&w.lock);
        if (links != stack_links)
            free(links);
        return mc_fail(MC_ESYSTEM, "cannot create a condition variable for a select");
    }
    for (size_t i = 0; i < s->n; i++)
        link_in(nth(s, i), &links[i], &w);

    int rc;
    for (;;) {
        rc = select_pass(s, start, index, out);
        if (rc != WOULD_BLOCK)
            break;
        int timed_out = 0;
        void *token = mc_block_begin();
        pthread_mutex_lock(&w.lock);
        while (!w.fired && !timed_out)
            timed_out = wait_until(&w.cond, &w.lock, d);
        w.fired = 0;
        pthread_mutex_unlock(&w.lock);
        mc_block_end(token);
        if (timed_out) {
            rc = select_pass(s, start, index, out);
            break;
        }
    }

    for (size_t i = 0; i < s->n; i++)
        link_out(nth(s, i), &links[i]);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    if (links != stack_links)
        free(links);
    return rc;
}

int mc_channel_select_msg(mc_shared *const *chs, size_t n, long timeout_ms, size_t *index, mc_msg *out)
{
    mc_clear_error();
    if (!chs || n == 0)
        return mc_fail(MC_EINVAL, "mc_channel_select: no channels (chs is NULL or n is 0)");
    if (!index || !out)
        return mc_fail(MC_EINVAL, "mc_channel_select: index or out is NULL");
    for (size_t i = 0; i < n; i++)
        if (!channel_of(chs[i]))
            return mc_fail(MC_EINVAL, "mc_channel_select: entry %zu is not a channel", i);
    select_set s = {chs, n};
    mc_channel *first = nth(&s, 0);
    size_t start = atomic_fetch_add_explicit(&first->select_turn, 1, memory_order_relaxed) % n;

    int rc = select_pass(&s, start, index, out);
    if (rc == WOULD_BLOCK && timeout_ms != 0) {
        deadline d;
        deadline_start(&d, timeout_ms);
        if (spin_for(select_ready, &s, &d))
            rc = select_pass(&s, start, index, out);
        if (rc == WOULD_BLOCK)
            rc = select_sleep(&s, start, &d, index, out);
    }
    if (rc == WOULD_BLOCK)
        return mc_fail(MC_ETIMEDOUT, "none of the %zu channels had a message in %ld ms", n, timeout_ms);
    if (rc == MC_ECLOSED)
        return mc_fail(MC_ECLOSED, "all %zu channels are closed and drained", n);
    return rc;
}

/* ---- values ---------------------------------------------------------------- */

/* Decodes a received message into *out (set only on success) and clears
 * it either way: the value took its own references to any handles, so the
 * message's go. A message that does not decode is lost, not requeued. */
static int decode_and_clear(mc_msg *msg, mc_value **out)
{
    mc_wire_reader r;
    mc_value *v = NULL;
    int rc = mc_wire_reader_init_msg(&r, msg);
    if (rc == MC_OK)
        rc = mc_value_read(&r, &v);
    if (rc == MC_OK && (rc = mc_wire_reader_finish(&r)) != MC_OK) {
        mc_value_free(v);
        v = NULL;
    }
    mc_msg_clear(msg);
    if (rc == MC_OK)
        *out = v;
    return rc;
}

int mc_channel_send(mc_shared *ch, const mc_value *v, long timeout_ms)
{
    mc_clear_error();
    if (!channel_of(ch))
        return not_a_channel("mc_channel_send");
    if (!v)
        return mc_fail(MC_EINVAL, "mc_channel_send: value is NULL");
    mc_buf b = {0};
    int rc = mc_wire_put_version(&b);
    if (rc == MC_OK)
        rc = mc_value_write(&b, v);
    if (rc != MC_OK) {
        mc_buf_free(&b);
        return rc;
    }
    mc_msg msg;
    mc_buf_to_msg(&b, &msg);
    rc = mc_channel_send_msg(ch, &msg, timeout_ms);
    if (rc != MC_OK)
        mc_msg_clear(&msg);
    return rc;
}

int mc_channel_recv(mc_shared *ch, mc_value **out, long timeout_ms)
{
    mc_clear_error();
    if (!channel_of(ch))
        return not_a_channel("mc_channel_recv");
    if (!out)
        return mc_fail(MC_EINVAL, "mc_channel_recv: out is NULL");
    mc_msg msg;
    int rc = mc_channel_recv_msg(ch, &msg, timeout_ms);
    if (rc != MC_OK)
        return rc;
    return decode_and_clear(&msg, out);
}

int mc_channel_select(mc_shared *const *chs, size_t n, long timeout_ms, size_t *index, mc_value **out)
{
    mc_clear_error();
    if (!index || !out)
        return mc_fail(MC_EINVAL, "mc_channel_select: index or out is NULL");
    mc_msg msg;
    size_t i = 0;
    int rc = mc_channel_select_msg(chs, n, timeout_ms, &i, &msg);
    if (rc != MC_OK)
        return rc;
    rc = decode_and_clear(&msg, out);
    if (rc == MC_OK)
        *index = i;
    return rc;
}
