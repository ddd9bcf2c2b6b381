/*
 * threads.c - the persistent thread pool of threads.h.
 *
 * Workers are created once.  A job is published by bumping a generation
 * counter; workers spin briefly on it (a job usually follows the previous
 * one within microseconds during generation) and then sleep on a condition
 * variable, so an idle pool costs nothing.
 *
 * The machine may have fewer free cores than the pool has threads, and a
 * worker that is not scheduled must not stall the caller.  So each share
 * (ith) of a job has a slot that whoever starts it first claims: a worker
 * when it wakes, or the caller once it has finished its own share.  The
 * caller runs every share nobody has claimed yet itself and waits only for
 * shares that are already running.  Every ith still runs exactly once.
 * Slot value: generation * 4 + state (0 open, 1 running on the worker,
 * 2 finished, 3 taken by the caller).
 *
 * One thread at a time may call ai__pool_run on a pool, and fn must not call
 * it again (no nesting).
 */
#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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
    _Alignas(64) atomic_ullong slot; /* own cache line: claimed by two threads */
} worker;

enum { OPEN = 0, RUNNING = 1, FINISHED = 2, TAKEN = 3 };

struct ai__pool {
    int n;                  /* threads including the caller */
    worker *w;              /* n - 1 workers */
    ai__task_fn fn;         /* the current job, written before gen moves */
    void *ctx;
    atomic_uint gen;        /* bumped once per job */
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
        unsigned long long open = (unsigned long long)g * 4 + OPEN;
        if (atomic_compare_exchange_strong_explicit(&me->slot, &open, open + RUNNING, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            p->fn(p->ctx, me->ith, p->n);
            atomic_store_explicit(&me->slot, (unsigned long long)g * 4 + FINISHED, memory_order_release);
        }
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
        size_t bytes = ((size_t)n_threads - 1) * sizeof *p->w; /* a multiple of 64 */
        p->w = aligned_alloc(64, bytes);
        if (p->w) memset(p->w, 0, bytes);
        if (!p->w) {
            ai__pool_free(p);
            return AI_E_NOMEM;
        }
        /* p->n counts only the threads that really started, so that a
         * failure half-way leaves a pool ai__pool_free can take apart. */
        for (int i = 1; i < n_threads; i++) {
            p->w[i - 1].pool = p;
            p->w[i - 1].ith = i;
            atomic_init(&p->w[i - 1].slot, FINISHED); /* generation 0: nothing to do */
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
    unsigned g = atomic_load_explicit(&p->gen, memory_order_relaxed) + 1;
    unsigned long long base = (unsigned long long)g * 4;
    for (int i = 1; i < p->n; i++) atomic_store_explicit(&p->w[i - 1].slot, base + OPEN, memory_order_relaxed);
    atomic_store_explicit(&p->gen, g, memory_order_release);
    wake_all(p);
    fn(ctx, 0, p->n);
    for (int i = 1; i < p->n; i++) {
        worker *w = &p->w[i - 1];
        unsigned long long open = base + OPEN;
        if (atomic_compare_exchange_strong_explicit(&w->slot, &open, base + TAKEN, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            fn(ctx, i, p->n); /* the worker has not started: do its share here */
            continue;
        }
        for (int spin = 0; atomic_load_explicit(&w->slot, memory_order_acquire) != base + FINISHED; spin++) {
            if (spin < SPIN_CALLER) cpu_relax();
            else sched_yield();
        }
    }
}
