/*
 * test_channel.c — what a host relies on from channels: values round-trip
 * in order, full and empty channels time out, close drains then reports
 * closed and wakes every waiter, many producers and consumers lose,
 * duplicate and reorder nothing, select picks whichever channel is ready,
 * handles inside messages stay alive, and bad handles are refused.
 *
 * Plain C without Python, so these run under ThreadSanitizer. Timing is
 * only ever checked as a generous lower bound on a timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel.h"
#include "manycore.h"
#include "value.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static mc_shared *new_channel(size_t capacity)
{
    mc_shared *ch = NULL;
    assert_int_equal(mc_channel_new(capacity, &ch), MC_OK);
    assert_non_null(ch);
    return ch;
}

/* These two run on helper threads too, so they report through their result
 * code rather than cmocka's asserts (which only work on the main thread). */
static int send_int(mc_shared *ch, int64_t i, long timeout_ms)
{
    mc_value *v = NULL;
    int rc = mc_value_new_int(i, &v);
    if (rc == MC_OK)
        rc = mc_channel_send(ch, v, timeout_ms);
    mc_value_free(v);
    return rc;
}

/* Receives one int; returns the result code, *got set on success. */
static int recv_int(mc_shared *ch, int64_t *got, long timeout_ms)
{
    mc_value *v = NULL;
    int rc = mc_channel_recv(ch, &v, timeout_ms);
    if (rc == MC_OK) {
        rc = mc_value_get_int(v, got);
        mc_value_free(v);
    }
    return rc;
}

static int64_t expect_int(mc_shared *ch)
{
    int64_t got = -1;
    assert_int_equal(recv_int(ch, &got, 0), MC_OK);
    return got;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A thread doing one blocking call, and what it got. */
typedef struct blocked_call {
    pthread_t thread;
    mc_shared *ch;
    mc_shared *const *chs;
    size_t n;
    long timeout_ms;
    int64_t value;
    size_t index;
    int rc;
} blocked_call;

static void *do_recv(void *arg)
{
    blocked_call *b = arg;
    b->rc = recv_int(b->ch, &b->value, b->timeout_ms);
    return NULL;
}

static void *do_send(void *arg)
{
    blocked_call *b = arg;
    b->rc = send_int(b->ch, b->value, b->timeout_ms);
    return NULL;
}

static void *do_select(void *arg)
{
    blocked_call *b = arg;
    mc_value *v = NULL;
    b->rc = mc_channel_select(b->chs, b->n, b->timeout_ms, &b->index, &v);
    if (b->rc == MC_OK) {
        b->rc = mc_value_get_int(v, &b->value);
        mc_value_free(v);
    }
    return NULL;
}

/* An encoded message, as the Python bridge would hand one over. */
static mc_msg msg_of(const mc_value *v)
{
    mc_buf b = {0};
    mc_msg msg = {0};
    assert_int_equal(mc_wire_put_version(&b), MC_OK);
    assert_int_equal(mc_value_write(&b, v), MC_OK);
    mc_buf_to_msg(&b, &msg);
    return msg;
}

static mc_value *value_of(const mc_msg *msg)
{
    mc_wire_reader r;
    mc_value *v = NULL;
    assert_int_equal(mc_wire_reader_init_msg(&r, msg), MC_OK);
    assert_int_equal(mc_value_read(&r, &v), MC_OK);
    assert_int_equal(mc_wire_reader_finish(&r), MC_OK);
    return v;
}

static void start(blocked_call *b, void *(*fn)(void *))
{
    b->rc = 1; /* not a result code: "has not returned" */
    assert_int_equal(pthread_create(&b->thread, NULL, fn, b), 0);
}

static void join(blocked_call *b)
{
    assert_int_equal(pthread_join(b->thread, NULL), 0);
}

/* ------------------------------------------------------------------------
 * Sending and receiving
 * ------------------------------------------------------------------------ */

static void send_then_recv_round_trips_values(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(4);
    mc_value *sent;
    assert_int_equal(mc_value_pack(&sent, "(is[d n]{s:y})", (int64_t)-7, "héllo", 2.5, "k", "\0x", (size_t)2),
                     MC_OK);
    assert_int_equal(mc_channel_send(ch, sent, -1), MC_OK);
    assert_int_equal(send_int(ch, 42, 0), MC_OK);

    mc_value *got = NULL;
    assert_int_equal(mc_channel_recv(ch, &got, -1), MC_OK);
    void *a, *b;
    size_t na, nb;
    assert_int_equal(mc_value_encode(sent, &a, &na), MC_OK);
    assert_int_equal(mc_value_encode(got, &b, &nb), MC_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    assert_int_equal(expect_int(ch), 42);
    mc_free(a);
    mc_free(b);
    mc_value_free(got);
    mc_value_free(sent);
    mc_shared_free(ch);
}

static void len_reports_queued_messages(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(8);
    assert_int_equal(mc_channel_len(ch), 0);
    assert_int_equal(mc_channel_capacity(ch), 8);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_int(ch, i, 0), MC_OK);
    assert_int_equal(mc_channel_len(ch), 3);
    expect_int(ch);
    assert_int_equal(mc_channel_len(ch), 2);
    mc_shared_free(ch);
}

static void messages_stay_in_order_as_the_ring_grows_and_wraps(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(100);
    int64_t next_sent = 0, next_recv = 0;
    /* Move the head off zero first, so growing has to unwrap the ring. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(send_int(ch, next_sent++, 0), MC_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(expect_int(ch), next_recv++);
    while (next_sent - next_recv < 100)
        assert_int_equal(send_int(ch, next_sent++, 0), MC_OK);
    assert_int_equal(send_int(ch, -1, 0), MC_ETIMEDOUT);
    while (next_recv < next_sent)
        assert_int_equal(expect_int(ch), next_recv++);
    assert_int_equal(mc_channel_len(ch), 0);
    mc_shared_free(ch);
}

static void full_channel_send_times_out(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(2);
    assert_int_equal(send_int(ch, 1, 0), MC_OK);
    assert_int_equal(send_int(ch, 2, 0), MC_OK);
    assert_int_equal(send_int(ch, 3, 0), MC_ETIMEDOUT);
    double t0 = now_ms();
    assert_int_equal(send_int(ch, 3, 60), MC_ETIMEDOUT);
    assert_true(now_ms() - t0 >= 50);
    assert_int_equal(mc_channel_len(ch), 2);
    assert_int_equal(expect_int(ch), 1);
    assert_int_equal(expect_int(ch), 2);
    mc_shared_free(ch);
}

static void empty_channel_recv_times_out(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(1);
    int64_t got;
    assert_int_equal(recv_int(ch, &got, 0), MC_ETIMEDOUT);
    double t0 = now_ms();
    assert_int_equal(recv_int(ch, &got, 100), MC_ETIMEDOUT);
    double waited = now_ms() - t0;
    assert_true(waited >= 90);
    assert_true(waited < 5000);
    mc_shared_free(ch);
}

static void blocked_receiver_gets_a_later_message(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(1);
    blocked_call r = {.ch = ch, .timeout_ms = -1};
    start(&r, do_recv);
    sleep_ms(20);
    assert_int_equal(send_int(ch, 99, -1), MC_OK);
    join(&r);
    assert_int_equal(r.rc, MC_OK);
    assert_int_equal(r.value, 99);
    mc_shared_free(ch);
}

static void huge_timeout_waits_like_forever(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(1);
    blocked_call r = {.ch = ch, .timeout_ms = LONG_MAX};
    start(&r, do_recv);
    sleep_ms(20);
    assert_int_equal(send_int(ch, 5, LONG_MAX), MC_OK);
    join(&r);
    assert_int_equal(r.rc, MC_OK);
    assert_int_equal(r.value, 5);
    mc_shared_free(ch);
}

static void blocked_sender_proceeds_once_a_receiver_makes_room(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(1);
    assert_int_equal(send_int(ch, 1, 0), MC_OK);
    blocked_call s = {.ch = ch, .timeout_ms = -1, .value = 2};
    start(&s, do_send);
    sleep_ms(20);
    assert_int_equal(expect_int(ch), 1);
    join(&s);
    assert_int_equal(s.rc, MC_OK);
    assert_int_equal(expect_int(ch), 2);
    mc_shared_free(ch);
}

static void send_msg_takes_the_message_only_on_success(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(1);
    mc_value *v;
    assert_int_equal(mc_value_new_str("payload", MC_NUL_TERMINATED, &v), MC_OK);
    mc_msg first = msg_of(v), second = msg_of(v);

    assert_int_equal(mc_channel_send_msg(ch, &first, 0), MC_OK);
    assert_null(first.data); /* moved into the channel */
    unsigned char *kept = second.data;
    assert_int_equal(mc_channel_send_msg(ch, &second, 0), MC_ETIMEDOUT);
    assert_ptr_equal(second.data, kept); /* still the caller's */
    mc_msg_clear(&second);

    mc_msg got = {0};
    assert_int_equal(mc_channel_recv_msg(ch, &got, 0), MC_OK);
    mc_value *back = value_of(&got);
    const char *text;
    assert_int_equal(mc_value_get_str(back, &text, NULL), MC_OK);
    assert_string_equal(text, "payload");
    mc_msg_clear(&got);
    mc_value_free(back);
    mc_value_free(v);
    mc_shared_free(ch);
}

static void unencodable_value_is_refused_and_nothing_is_queued(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(1);
    mc_value *deep = NULL;
    assert_int_equal(mc_value_new_list(&deep), MC_OK);
    for (int i = 0; i < MC_WIRE_MAX_DEPTH + 10; i++) {
        mc_value *outer = NULL;
        assert_int_equal(mc_value_new_list(&outer), MC_OK);
        assert_int_equal(mc_value_append(outer, deep), MC_OK);
        deep = outer;
    }
    assert_int_equal(mc_channel_send(ch, deep, 0), MC_EENCODE);
    assert_int_equal(mc_channel_len(ch), 0);
    assert_int_equal(send_int(ch, 1, 0), MC_OK); /* the slot is still free */
    mc_value_free(deep);
    mc_shared_free(ch);
}

/* ------------------------------------------------------------------------
 * Closing
 * ------------------------------------------------------------------------ */

static void close_lets_receivers_drain_then_reports_closed(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(4);
    assert_int_equal(send_int(ch, 1, 0), MC_OK);
    assert_int_equal(send_int(ch, 2, 0), MC_OK);
    assert_int_equal(mc_channel_close(ch), MC_OK);
    assert_int_equal(mc_channel_is_closed(ch), 1);
    int64_t got;
    assert_int_equal(recv_int(ch, &got, -1), MC_OK);
    assert_int_equal(got, 1);
    assert_int_equal(recv_int(ch, &got, -1), MC_OK);
    assert_int_equal(got, 2);
    assert_int_equal(recv_int(ch, &got, -1), MC_ECLOSED);
    assert_int_equal(recv_int(ch, &got, 0), MC_ECLOSED);
    mc_shared_free(ch);
}

static void send_on_closed_channel_fails(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(4);
    assert_int_equal(mc_channel_is_closed(ch), 0);
    assert_int_equal(mc_channel_close(ch), MC_OK);
    assert_int_equal(send_int(ch, 1, 0), MC_ECLOSED);
    assert_int_equal(send_int(ch, 1, -1), MC_ECLOSED);
    assert_int_equal(mc_channel_len(ch), 0);
    mc_shared_free(ch);
}

static void close_is_idempotent(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(1);
    assert_int_equal(mc_channel_close(ch), MC_OK);
    assert_int_equal(mc_channel_close(ch), MC_OK);
    assert_int_equal(mc_channel_is_closed(ch), 1);
    mc_shared_free(ch);
}

static void close_wakes_blocked_receivers_and_senders(void **state)
{
    (void)state;
    mc_shared *empty = new_channel(1), *full = new_channel(1);
    assert_int_equal(send_int(full, 0, 0), MC_OK);
    blocked_call r[3], s[3];
    for (int i = 0; i < 3; i++) {
        r[i] = (blocked_call){.ch = empty, .timeout_ms = -1};
        s[i] = (blocked_call){.ch = full, .timeout_ms = -1, .value = i + 1};
        start(&r[i], do_recv);
        start(&s[i], do_send);
    }
    sleep_ms(50); /* let them block; the outcome is the same if they have not */
    assert_int_equal(mc_channel_close(empty), MC_OK);
    assert_int_equal(mc_channel_close(full), MC_OK);
    for (int i = 0; i < 3; i++) {
        join(&r[i]);
        join(&s[i]);
        assert_int_equal(r[i].rc, MC_ECLOSED);
        assert_int_equal(s[i].rc, MC_ECLOSED);
    }
    assert_int_equal(expect_int(full), 0); /* what was queued before the close */
    mc_shared_free(empty);
    mc_shared_free(full);
}

/* ------------------------------------------------------------------------
 * Many producers, many consumers
 * ------------------------------------------------------------------------ */

#define STRESS_PER_PRODUCER 50000
#define STRESS_PRODUCERS 4
#define STRESS_CONSUMERS 3

typedef struct stress {
    mc_shared *ch;
    atomic_uchar seen[STRESS_PRODUCERS][STRESS_PER_PRODUCER];
    atomic_long received;
    atomic_int failures;
} stress;

typedef struct stress_role {
    pthread_t thread;
    stress *st;
    int id;
} stress_role;

static void *stress_produce(void *arg)
{
    stress_role *p = arg;
    for (int64_t seq = 0; seq < STRESS_PER_PRODUCER; seq++) {
        mc_value *v;
        if (mc_value_pack(&v, "(ii)", (int64_t)p->id, seq) != MC_OK ||
            mc_channel_send(p->st->ch, v, -1) != MC_OK)
            atomic_fetch_add(&p->st->failures, 1);
        mc_value_free(v);
    }
    return NULL;
}

static void *stress_consume(void *arg)
{
    stress_role *c = arg;
    stress *st = c->st;
    int64_t last[STRESS_PRODUCERS];
    for (int i = 0; i < STRESS_PRODUCERS; i++)
        last[i] = -1;
    for (;;) {
        mc_value *v = NULL;
        int rc = mc_channel_recv(st->ch, &v, -1);
        if (rc == MC_ECLOSED)
            break;
        const mc_value *pv, *sv;
        int64_t producer, seq;
        if (rc != MC_OK || mc_value_get_item(v, 0, &pv) != MC_OK || mc_value_get_item(v, 1, &sv) != MC_OK ||
            mc_value_get_int(pv, &producer) != MC_OK || mc_value_get_int(sv, &seq) != MC_OK ||
            producer < 0 || producer >= STRESS_PRODUCERS || seq < 0 || seq >= STRESS_PER_PRODUCER ||
            seq <= last[producer] || atomic_exchange(&st->seen[producer][seq], 1) != 0) {
            atomic_fetch_add(&st->failures, 1);
        } else {
            last[producer] = seq;
            atomic_fetch_add(&st->received, 1);
        }
        mc_value_free(v);
    }
    return NULL;
}

static void mpmc_stress_loses_duplicates_and_reorders_nothing_per_producer(void **state)
{
    (void)state;
    stress *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->ch = new_channel(64);
    stress_role producers[STRESS_PRODUCERS], consumers[STRESS_CONSUMERS];
    for (int i = 0; i < STRESS_CONSUMERS; i++) {
        consumers[i] = (stress_role){.st = st, .id = i};
        assert_int_equal(pthread_create(&consumers[i].thread, NULL, stress_consume, &consumers[i]), 0);
    }
    for (int i = 0; i < STRESS_PRODUCERS; i++) {
        producers[i] = (stress_role){.st = st, .id = i};
        assert_int_equal(pthread_create(&producers[i].thread, NULL, stress_produce, &producers[i]), 0);
    }
    for (int i = 0; i < STRESS_PRODUCERS; i++)
        assert_int_equal(pthread_join(producers[i].thread, NULL), 0);
    assert_int_equal(mc_channel_close(st->ch), MC_OK);
    for (int i = 0; i < STRESS_CONSUMERS; i++)
        assert_int_equal(pthread_join(consumers[i].thread, NULL), 0);

    assert_int_equal(atomic_load(&st->failures), 0);
    assert_int_equal(atomic_load(&st->received), (long)STRESS_PRODUCERS * STRESS_PER_PRODUCER);
    for (int p = 0; p < STRESS_PRODUCERS; p++)
        for (int s = 0; s < STRESS_PER_PRODUCER; s++)
            if (!atomic_load(&st->seen[p][s]))
                fail_msg("message (%d, %d) never arrived", p, s);
    assert_int_equal(mc_channel_len(st->ch), 0);
    mc_shared_free(st->ch);
    free(st);
}

/* ------------------------------------------------------------------------
 * Select
 * ------------------------------------------------------------------------ */

static void select_receives_from_whichever_is_ready(void **state)
{
    (void)state;
    mc_shared *chs[3] = {new_channel(1), new_channel(1), new_channel(1)};
    assert_int_equal(send_int(chs[2], 22, 0), MC_OK);
    size_t index = 99;
    mc_value *v = NULL;
    assert_int_equal(mc_channel_select(chs, 3, 0, &index, &v), MC_OK);
    assert_int_equal(index, 2);
    int64_t got;
    assert_int_equal(mc_value_get_int(v, &got), MC_OK);
    assert_int_equal(got, 22);
    mc_value_free(v);
    for (int i = 0; i < 3; i++)
        mc_shared_free(chs[i]);
}

static void select_wakes_when_a_message_arrives(void **state)
{
    (void)state;
    mc_shared *chs[3] = {new_channel(1), new_channel(1), new_channel(1)};
    blocked_call sel = {.chs = chs, .n = 3, .timeout_ms = -1};
    start(&sel, do_select);
    sleep_ms(20);
    assert_int_equal(send_int(chs[1], 11, -1), MC_OK);
    join(&sel);
    assert_int_equal(sel.rc, MC_OK);
    assert_int_equal(sel.index, 1);
    assert_int_equal(sel.value, 11);
    for (int i = 0; i < 3; i++)
        mc_shared_free(chs[i]);
}

static void select_over_many_channels_wakes_on_any(void **state)
{
    (void)state;
    enum { N = 40 };
    mc_shared *chs[N];
    for (int i = 0; i < N; i++)
        chs[i] = new_channel(1);
    blocked_call sel = {.chs = chs, .n = N, .timeout_ms = 10000};
    start(&sel, do_select);
    sleep_ms(20);
    assert_int_equal(send_int(chs[37], 37, -1), MC_OK);
    join(&sel);
    assert_int_equal(sel.rc, MC_OK);
    assert_int_equal(sel.index, 37);
    assert_int_equal(sel.value, 37);
    for (int i = 0; i < N; i++)
        mc_shared_free(chs[i]);
}

static void several_selects_on_one_channel_each_get_a_message(void **state)
{
    (void)state;
    mc_shared *chs[2] = {new_channel(4), new_channel(4)};
    blocked_call sel[3];
    for (int i = 0; i < 3; i++) {
        sel[i] = (blocked_call){.chs = chs, .n = 2, .timeout_ms = -1};
        start(&sel[i], do_select);
    }
    sleep_ms(20);
    assert_int_equal(send_int(chs[1], 1, -1), MC_OK);
    assert_int_equal(send_int(chs[0], 2, -1), MC_OK);
    assert_int_equal(send_int(chs[1], 4, -1), MC_OK);
    int64_t sum = 0;
    for (int i = 0; i < 3; i++) {
        join(&sel[i]);
        assert_int_equal(sel[i].rc, MC_OK);
        assert_int_equal(sel[i].index, sel[i].value == 2 ? 0 : 1);
        sum += sel[i].value;
    }
    assert_int_equal(sum, 7); /* each message went to exactly one select */
    for (int i = 0; i < 2; i++)
        mc_shared_free(chs[i]);
}

static void select_serves_every_ready_channel(void **state)
{
    (void)state;
    mc_shared *chs[2] = {new_channel(64), new_channel(64)};
    for (int i = 0; i < 10; i++) {
        assert_int_equal(send_int(chs[0], i, 0), MC_OK);
        assert_int_equal(send_int(chs[1], 100 + i, 0), MC_OK);
    }
    int picked[2] = {0, 0};
    for (int i = 0; i < 10; i++) {
        size_t index;
        mc_value *v;
        assert_int_equal(mc_channel_select(chs, 2, 0, &index, &v), MC_OK);
        picked[index]++;
        mc_value_free(v);
    }
    /* Both always have a message, so neither may starve the other. */
    assert_true(picked[0] > 0);
    assert_true(picked[1] > 0);
    for (int i = 0; i < 2; i++)
        mc_shared_free(chs[i]);
}

#define SELECT_STRESS_PER_PRODUCER 20000

typedef struct select_stress {
    mc_shared *chs[2];
    atomic_uchar seen[2][SELECT_STRESS_PER_PRODUCER];
    atomic_long received;
    atomic_int failures;
} select_stress;

typedef struct select_role {
    pthread_t thread;
    select_stress *st;
    int id;
} select_role;

static void *select_stress_produce(void *arg)
{
    select_role *p = arg;
    for (int64_t seq = 0; seq < SELECT_STRESS_PER_PRODUCER; seq++)
        if (send_int(p->st->chs[p->id], seq, -1) != MC_OK)
            atomic_fetch_add(&p->st->failures, 1);
    return NULL;
}

static void *select_stress_consume(void *arg)
{
    select_role *c = arg;
    select_stress *st = c->st;
    int64_t last[2] = {-1, -1};
    for (;;) {
        size_t index = 0;
        mc_value *v = NULL;
        int64_t seq = -1;
        int rc = mc_channel_select(st->chs, 2, -1, &index, &v);
        if (rc == MC_ECLOSED)
            break;
        if (rc != MC_OK || index > 1 || mc_value_get_int(v, &seq) != MC_OK || seq < 0 ||
            seq >= SELECT_STRESS_PER_PRODUCER || seq <= last[index] ||
            atomic_exchange(&st->seen[index][seq], 1) != 0) {
            atomic_fetch_add(&st->failures, 1);
        } else {
            last[index] = seq;
            atomic_fetch_add(&st->received, 1);
        }
        mc_value_free(v);
    }
    return NULL;
}

static void select_stress_loses_and_duplicates_nothing(void **state)
{
    (void)state;
    select_stress *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->chs[0] = new_channel(8);
    st->chs[1] = new_channel(8);
    select_role producers[2], consumers[3];
    for (int i = 0; i < 3; i++) {
        consumers[i] = (select_role){.st = st, .id = i};
        assert_int_equal(pthread_create(&consumers[i].thread, NULL, select_stress_consume, &consumers[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        producers[i] = (select_role){.st = st, .id = i};
        assert_int_equal(pthread_create(&producers[i].thread, NULL, select_stress_produce, &producers[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(producers[i].thread, NULL), 0);
        assert_int_equal(mc_channel_close(st->chs[i]), MC_OK);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(consumers[i].thread, NULL), 0);
    assert_int_equal(atomic_load(&st->failures), 0);
    assert_int_equal(atomic_load(&st->received), 2L * SELECT_STRESS_PER_PRODUCER);
    for (int i = 0; i < 2; i++)
        mc_shared_free(st->chs[i]);
    free(st);
}

static void select_reports_closed_only_when_all_closed_and_drained(void **state)
{
    (void)state;
    mc_shared *chs[2] = {new_channel(2), new_channel(2)};
    size_t index;
    mc_value *v = NULL;
    assert_int_equal(mc_channel_close(chs[0]), MC_OK);
    assert_int_equal(mc_channel_select(chs, 2, 0, &index, &v), MC_ETIMEDOUT); /* chs[1] is open */

    assert_int_equal(send_int(chs[1], 5, 0), MC_OK);
    assert_int_equal(mc_channel_close(chs[1]), MC_OK);
    assert_int_equal(mc_channel_select(chs, 2, -1, &index, &v), MC_OK); /* drains first */
    assert_int_equal(index, 1);
    mc_value_free(v);
    v = NULL;
    assert_int_equal(mc_channel_select(chs, 2, -1, &index, &v), MC_ECLOSED);
    assert_null(v);
    for (int i = 0; i < 2; i++)
        mc_shared_free(chs[i]);
}

static void close_wakes_a_blocked_select(void **state)
{
    (void)state;
    mc_shared *chs[2] = {new_channel(1), new_channel(1)};
    assert_int_equal(mc_channel_close(chs[0]), MC_OK);
    blocked_call sel = {.chs = chs, .n = 2, .timeout_ms = -1};
    start(&sel, do_select);
    sleep_ms(20);
    assert_int_equal(mc_channel_close(chs[1]), MC_OK);
    join(&sel);
    assert_int_equal(sel.rc, MC_ECLOSED);
    for (int i = 0; i < 2; i++)
        mc_shared_free(chs[i]);
}

static void select_times_out(void **state)
{
    (void)state;
    mc_shared *chs[2] = {new_channel(1), new_channel(1)};
    size_t index;
    mc_value *v = NULL;
    assert_int_equal(mc_channel_select(chs, 2, 0, &index, &v), MC_ETIMEDOUT);
    double t0 = now_ms();
    assert_int_equal(mc_channel_select(chs, 2, 80, &index, &v), MC_ETIMEDOUT);
    assert_true(now_ms() - t0 >= 70);
    assert_null(v);
    for (int i = 0; i < 2; i++)
        mc_shared_free(chs[i]);
}

/* ------------------------------------------------------------------------
 * Handles and lifetime
 * ------------------------------------------------------------------------ */

static void handles_inside_messages_are_kept_alive(void **state)
{
    (void)state;
    mc_shared *outer = new_channel(1), *inner = new_channel(1);
    assert_int_equal(send_int(inner, 7, 0), MC_OK);
    mc_value *v;
    assert_int_equal(mc_value_new_shared(inner, &v), MC_OK);
    assert_int_equal(mc_channel_send(outer, v, 0), MC_OK);
    mc_value_free(v);
    mc_shared_free(inner); /* only the queued message holds it now */
    inner = NULL;

    mc_value *got = NULL;
    assert_int_equal(mc_channel_recv(outer, &got, 0), MC_OK);
    assert_int_equal(mc_value_type(got), MC_TYPE_SHARED);
    mc_shared *obj = NULL;
    assert_int_equal(mc_value_get_shared(got, &obj), MC_OK);
    assert_int_equal(mc_shared_get_kind(obj), MC_SHARED_CHANNEL);
    assert_int_equal(expect_int(obj), 7);
    assert_int_equal(send_int(obj, 8, 0), MC_OK);
    assert_int_equal(expect_int(obj), 8);
    mc_value_free(got); /* the last reference: destroys the inner channel */
    mc_shared_free(outer);
}

static void note_release(void *ctx, void *data)
{
    (void)data;
    atomic_fetch_add((atomic_int *)ctx, 1);
}

static void destroying_a_channel_with_queued_messages_frees_them(void **state)
{
    (void)state;
    atomic_int released = 0;
    static unsigned char memory[16];
    mc_buffer_options o = {.data = memory, .len = sizeof memory, .release = note_release,
                           .release_ctx = &released};
    mc_shared *buf = NULL;
    assert_int_equal(mc_buffer_wrap(&o, &buf), MC_OK);

    mc_shared *ch = new_channel(4);
    for (int i = 0; i < 3; i++) { /* move the head, so the queue wraps */
        assert_int_equal(send_int(ch, i, 0), MC_OK);
        expect_int(ch);
    }
    mc_value *v;
    assert_int_equal(mc_value_new_shared(buf, &v), MC_OK);
    assert_int_equal(mc_channel_send(ch, v, 0), MC_OK);
    mc_value_free(v);
    assert_int_equal(mc_value_pack(&v, "[s y]", "some text", "bytes", (size_t)5), MC_OK);
    assert_int_equal(mc_channel_send(ch, v, 0), MC_OK);
    mc_value_free(v);
    assert_int_equal(send_int(ch, 3, 0), MC_OK);
    mc_shared_free(buf);
    assert_int_equal(atomic_load(&released), 0); /* the message still holds it */

    mc_shared_free(ch); /* ASan reports the message bytes if they leak */
    assert_int_equal(atomic_load(&released), 1);
}

/* ------------------------------------------------------------------------
 * Argument checks
 * ------------------------------------------------------------------------ */

static void null_and_foreign_handles_are_rejected(void **state)
{
    (void)state;
    mc_shared *ch = new_channel(1), *array = NULL;
    assert_int_equal(mc_array_new('i', 4, &array), MC_OK);
    /* Zeroed memory that is not a shared object at all. */
    union { mc_shared s; unsigned char bytes[256]; } stranger;
    memset(&stranger, 0, sizeof stranger);
    mc_shared *bad[] = {NULL, array, &stranger.s};
    mc_value *v = NULL;
    assert_int_equal(mc_value_new_int(1, &v), MC_OK);
    mc_msg msg = {0};

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(mc_channel_send(bad[i], v, 0), MC_EINVAL);
        assert_string_not_equal(mc_errmsg(), "");
        mc_value *out = NULL;
        assert_int_equal(mc_channel_recv(bad[i], &out, 0), MC_EINVAL);
        assert_int_equal(mc_channel_close(bad[i]), MC_EINVAL);
        assert_int_equal(mc_channel_len(bad[i]), 0);
        assert_int_equal(mc_channel_capacity(bad[i]), 0);
        assert_int_equal(mc_channel_is_closed(bad[i]), MC_EINVAL);
        assert_int_equal(mc_channel_send_msg(bad[i], &msg, 0), MC_EINVAL);
        assert_int_equal(mc_channel_recv_msg(bad[i], &msg, 0), MC_EINVAL);
        mc_shared *mixed[2] = {ch, bad[i]};
        size_t index;
        assert_int_equal(mc_channel_select(mixed, 2, 0, &index, &out), MC_EINVAL);
    }

    assert_int_equal(mc_channel_send(ch, NULL, 0), MC_EINVAL);
    assert_int_equal(mc_channel_recv(ch, NULL, 0), MC_EINVAL);
    assert_int_equal(mc_channel_send_msg(ch, NULL, 0), MC_EINVAL);
    assert_int_equal(mc_channel_recv_msg(ch, NULL, 0), MC_EINVAL);
    size_t index;
    mc_value *out = NULL;
    assert_int_equal(mc_channel_select(NULL, 1, 0, &index, &out), MC_EINVAL);
    assert_int_equal(mc_channel_select(&ch, 0, 0, &index, &out), MC_EINVAL);
    assert_int_equal(mc_channel_select(&ch, 1, 0, NULL, &out), MC_EINVAL);
    assert_int_equal(mc_channel_select(&ch, 1, 0, &index, NULL), MC_EINVAL);
    assert_int_equal(mc_channel_select_msg(&ch, 1, 0, NULL, &msg), MC_EINVAL);
    assert_int_equal(mc_channel_select_msg(&ch, 1, 0, &index, NULL), MC_EINVAL);
    assert_int_equal(mc_channel_new(4, NULL), MC_EINVAL);

    /* None of that touched the real channel. */
    assert_int_equal(mc_channel_len(ch), 0);
    assert_int_equal(mc_channel_is_closed(ch), 0);
    mc_value_free(v);
    mc_shared_free(array);
    mc_shared_free(ch);
}

static void zero_capacity_is_rejected(void **state)
{
    (void)state;
    mc_shared *ch = NULL;
    assert_int_equal(mc_channel_new(0, &ch), MC_EINVAL);
    assert_null(ch);
    assert_string_not_equal(mc_errmsg(), "");
    assert_int_equal(mc_channel_new((size_t)-1, &ch), MC_EINVAL);
    assert_null(ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(send_then_recv_round_trips_values),
        cmocka_unit_test(len_reports_queued_messages),
        cmocka_unit_test(messages_stay_in_order_as_the_ring_grows_and_wraps),
        cmocka_unit_test(full_channel_send_times_out),
        cmocka_unit_test(empty_channel_recv_times_out),
        cmocka_unit_test(blocked_receiver_gets_a_later_message),
        cmocka_unit_test(huge_timeout_waits_like_forever),
        cmocka_unit_test(blocked_sender_proceeds_once_a_receiver_makes_room),
        cmocka_unit_test(send_msg_takes_the_message_only_on_success),
        cmocka_unit_test(unencodable_value_is_refused_and_nothing_is_queued),
        cmocka_unit_test(close_lets_receivers_drain_then_reports_closed),
        cmocka_unit_test(send_on_closed_channel_fails),
        cmocka_unit_test(close_is_idempotent),
        cmocka_unit_test(close_wakes_blocked_receivers_and_senders),
        cmocka_unit_test(mpmc_stress_loses_duplicates_and_reorders_nothing_per_producer),
        cmocka_unit_test(select_receives_from_whichever_is_ready),
        cmocka_unit_test(select_wakes_when_a_message_arrives),
        cmocka_unit_test(select_over_many_channels_wakes_on_any),
        cmocka_unit_test(several_selects_on_one_channel_each_get_a_message),
        cmocka_unit_test(select_serves_every_ready_channel),
        cmocka_unit_test(select_stress_loses_and_duplicates_nothing),
        cmocka_unit_test(select_reports_closed_only_when_all_closed_and_drained),
        cmocka_unit_test(close_wakes_a_blocked_select),
        cmocka_unit_test(select_times_out),
        cmocka_unit_test(handles_inside_messages_are_kept_alive),
        cmocka_unit_test(destroying_a_channel_with_queued_messages_frees_them),
        cmocka_unit_test(null_and_foreign_handles_are_rejected),
        cmocka_unit_test(zero_capacity_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
