/*
 * task_queue.c — the FIFO of a pool's pending tasks.
 *
 * A worker that finds the queue empty spins for a few microseconds before it
 * sleeps: back-to-back small tasks then skip a futex sleep and wake-up each.
 */
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "spin.h"
#include "task_queue.h"

#define MC_POP_SPIN_NS 100000

void mc_task_free(mc_task *task)
{
    if (!task)
        return;
    if (task->future)
        mc_future_release(task->future);
    free(task->target);
    mc_msg_clear(&task->args);
    mc_msg_clear(&task->kwargs);
    free(task);
}

int mc_task_queue_init(mc_task_queue *q)
{
    q->head = q->tail = NULL;
    q->length = 0;
    q->idle = 0;
    q->stopping = 0;
    if (pthread_mutex_init(&q->lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(&q->nonempty, NULL) != 0) {
        pthread_mutex_destroy(&q->lock);
        return -1;
    }
    return 0;
}

void mc_task_queue_destroy(mc_task_queue *q)
{
    mc_task *t = q->head;
    while (t) {
        mc_task *next = t->next;
        mc_task_free(t);
        t = next;
    }
    pthread_cond_destroy(&q->nonempty);
    pthread_mutex_destroy(&q->lock);
}

int mc_task_queue_push(mc_task_queue *q, mc_task *task)
{
    task->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->stopping) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    if (q->tail)
        q->tail->next = task;
    else
        __atomic_store_n(&q->head, task, __ATOMIC_RELAXED);
    q->tail = task;
    q->length++;
    int wake = q->idle > 0;
    pthread_mutex_unlock(&q->lock);
    if (wake)
        pthread_cond_signal(&q->nonempty);
    return 0;
}

static mc_task *take_head(mc_task_queue *q)
{
    mc_task *t = q->head;
    __atomic_store_n(&q->head, t->next, __ATOMIC_RELAXED);
    if (!q->head)
        q->tail = NULL;
    q->length--;
    t->next = NULL;
    return t;
}

/* Peeks without the lock; a stale answer only costs one more spin round. */
static int looks_ready(mc_task_queue *q)
{
    return __atomic_load_n(&q->head, __ATOMIC_RELAXED) != NULL ||
           __atomic_load_n(&q->stopping, __ATOMIC_RELAXED);
}

mc_task *mc_task_queue_pop(mc_task_queue *q)
{
    pthread_mutex_lock(&q->lock);
    if (!q->head && !q->stopping) {
        pthread_mutex_unlock(&q->lock);
        long long until = mc_now_ns() + MC_POP_SPIN_NS;
        for (int i = 1; !looks_ready(q); i++) {
            mc_cpu_relax();
            if ((i & 63) == 0) {
                if (mc_now_ns() >= until)
                    break;
                sched_yield(); /* see future.c: let a co-located thread run */
            }
        }
        pthread_mutex_lock(&q->lock);
    }
    while (!q->head && !q->stopping) {
        q->idle++;
        pthread_cond_wait(&q->nonempty, &q->lock);
        q->idle--;
    }
    mc_task *t = q->head ? take_head(q) : NULL;
    pthread_mutex_unlock(&q->lock);
    return t;
}

mc_task *mc_task_queue_take_all(mc_task_queue *q)
{
    pthread_mutex_lock(&q->lock);
    mc_task *all = q->head;
    __atomic_store_n(&q->head, NULL, __ATOMIC_RELAXED);
    q->tail = NULL;
    q->length = 0;
    pthread_mutex_unlock(&q->lock);
    return all;
}

void mc_task_queue_stop(mc_task_queue *q)
{
    pthread_mutex_lock(&q->lock);
    __atomic_store_n(&q->stopping, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
}
