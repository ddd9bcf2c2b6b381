/*
 * log.c - the process-wide log sink.  Silent by default.  A mutex makes the
 * (fn, level, user_data) triple change atomically and serialises calls into
 * the sink, as the header promises.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static ai_log_fn log_fn;
static int32_t log_level;
static void *log_ud;

void ai_log_set(ai_log_fn fn, int32_t max_level, void *user_data) {
    pthread_mutex_lock(&log_mu);
    log_fn = fn;
    log_level = max_level;
    log_ud = user_data;
    pthread_mutex_unlock(&log_mu);
}

void ai__log(int level, const char *fmt, ...) {
    char line[1024];
    pthread_mutex_lock(&log_mu);
    if (log_fn && level <= log_level) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        log_fn(level, line, log_ud);
    }
    pthread_mutex_unlock(&log_mu);
}
