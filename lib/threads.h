/*
 * threads.h - a persistent thread pool (private).  Threads are created once
 * with the pool and wait on a barrier between jobs; no thread is created per
 * operation.
 */
#ifndef AI_THREADS_H
#define AI_THREADS_H

#include "agentinfer.h"

typedef struct ai__pool ai__pool;

/* A job: called once on each of the nth threads (the calling thread is
 * thread 0), with ith in [0, nth). */
typedef void (*ai__task_fn)(void *ctx, int ith, int nth);

ai_status ai__pool_new(int n_threads, ai__pool **out);
void ai__pool_free(ai__pool *p);          /* NULL is fine */
int ai__pool_size(const ai__pool *p);     /* 1 for NULL */
/* Runs fn on every thread and returns when all have finished.  A NULL pool
 * runs fn(ctx, 0, 1) on the caller. */
void ai__pool_run(ai__pool *p, ai__task_fn fn, void *ctx);

#endif /* AI_THREADS_H */
