/*
 * task_queue.h — the tasks of one pool, waiting for a worker.
 *
 * One FIFO shared by all workers of a pool (any worker takes the next task,
 * so a slow task never holds others back behind it). A mutex and a condition
 * variable; workers sleep on real wake-ups, never by polling.
 */
#ifndef MC_TASK_QUEUE_H
#define MC_TASK_QUEUE_H

#include <pthread.h>
#include <stddef.h>

#include "future.h"
#include "wire.h"

typedef enum mc_task_kind { MC_TASK_CALL = 1, MC_TASK_EXEC = 2, MC_TASK_STOP = 3 } mc_task_kind;

/* One unit of work. `target` is the callable name or the source text;
 * `args` and `kwargs` are wire messages (empty, len 0, when absent). The
 * task owns one reference to its future and all its buffers and handles. */
typedef struct mc_task {
    struct mc_task *next;
    mc_task_kind kind;
    mc_future *future;
    char *target;
    mc_msg args;
    mc_msg kwargs;
    long timeout_ms; /* > 0: interrupted with MC_ETIMEDOUT after running this long */
} mc_task;

void mc_task_free(mc_task *task);

typedef struct mc_task_queue {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    mc_task *head;
    mc_task *tail;
    size_t length;
    int idle;        /* workers asleep in mc_task_queue_pop */
    int stopping;    /* pop returns NULL once the queue is empty */
} mc_task_queue;

int mc_task_queue_init(mc_task_queue *q);
void mc_task_queue_destroy(mc_task_queue *q);
/* Appends a task; -1 (and nothing queued) once the queue is stopping, so a
 * task can never slip in after the workers have drained the queue. */
int mc_task_queue_push(mc_task_queue *q, mc_task *task);
/* The next task, sleeping until there is one; NULL once stopping and empty. */
mc_task *mc_task_queue_pop(mc_task_queue *q);
/* Takes every queued task out at once (for cancellation at shutdown). */
mc_task *mc_task_queue_take_all(mc_task_queue *q);
/* Makes pop return NULL when the queue is empty, and wakes every sleeper. */
void mc_task_queue_stop(mc_task_queue *q);

#endif /* MC_TASK_QUEUE_H */
