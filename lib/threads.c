/*
 * threads.c - the persistent thread pool of threads.h.
 *
 * Workers are created once.  A job is published by bumping a generation
 * counter; workers spin briefly on it (a job usually follows the previous
 * one within microseconds during generation) and then sleep on a condition
 * variable, so an idle pool costs nothing.  Completion is a counter the
 * caller spins on, yielding the CPU after a while: the machine may have
 * fewer free cores than the pool has threads.
 *
 * One thread at a time may call ai__pool_run on a pool, and fn must not call
 * it again (no nesting).
 */
#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() ((void)0)
#endif

enum { SPIN_WORKER = 20000, SPIN_CALLER = 2000 };

typedef struct worker {
    ai__pool *pool;
    int ith;
    pthread_t th;
} worker;

struct ai__pool {
    int n;                  /* threads including the caller */
    worker *w;              /* n - 1 workers */
    ai__task_fn fn;         /* the current job, written before gen moves */
    void *ctx;
    atomic_uint gen;        /* bumped once per job */
    atomic_int done;        /* workers finished with the current job */
    atomic_int stop;
    pthread_mutex_t mu;     /* guards sleepers and the sleeping itself */
    pthread_cond_t cv;
    int sleepers;
};

static void *worker_main(void *arg) {
    worker *me = arg;
    ai__pool *p = me->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        for (int i = 0; g == seen && i < SPIN_WORKER; i++) {
            cpu_relax();
            g = atomic_load_explicit(&p->gen, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
                   !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) break;
        seen = g;
        p->fn(p->ctx, me->ith, p->n);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
    return NULL;
}

static void wake_all(ai__pool *p) {
    pthread_mutex_lock(&p->mu);
    if (p->sleepers) pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

ai_status ai__pool_new(int n_threads, ai__pool **out) {
    if (!out || n_threads < 1 || n_threads > 1024) return AI_E_INVAL;
    *out = NULL;
    ai__pool *p = calloc(1, sizeof *p);
    if (!p) return AI_E_NOMEM;
    p->n = 1;
    atomic_init(&p->gen, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->stop, 0);
    if (pthread_mutex_init(&p->mu, NULL)) {
        free(p);
        return AI_E_NOMEM;
    }
    if (pthread_cond_init(&p->cv, NULL)) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return AI_E_NOMEM;
    }
    if (n_threads > 1) {
        p->w = calloc((size_t)n_threads - 1, sizeof *p->w);
        if (!p->w) {
            ai__pool_free(p);
            return AI_E_NOMEM;
        }
        /* p->n counts only the threads that really started, so that a
         * failure half-way leaves a pool ai__pool_free can take apart. */
        for (int i = 1; i < n_threads; i++) {
            p->w[i - 1].pool = p;
            p->w[i - 1].ith = i;
            if (pthread_create(&p->w[i - 1].th, NULL, worker_main, &p->w[i - 1])) {
                ai__pool_free(p);
                return AI_E_NOMEM;
            }
            p->n = i + 1;
        }
    }
    *out = p;
    return AI_OK;
}

void ai__pool_free(ai__pool *p) {
    if (!p) return;
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->w[i - 1].th, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->w);
    free(p);
}

int ai__pool_size(const ai__pool *p) { return p ? p->n : 1; }

void ai__pool_run(ai__pool *p, ai__task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    wake_all(p);
    fn(ctx, 0, p->n);
    int want = p->n - 1;
    for (int i = 0; atomic_load_explicit(&p->done, memory_order_acquire) < want; i++) {
        if (i < SPIN_CALLER) cpu_relax();
        else sched_yield();
    }
}
