/* cmd_bench_kernels.c - agentinfer bench-kernels: kernel throughput table. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer bench-kernels [--threads N] [--mib N] [--batch N] [--type NAME]...\n\n"
               "Measures the compute kernels: read bandwidth, matrix-vector GB/s on --mib MiB of\n"
               "weights (default 64, more than the L3 cache), and matrix-matrix GOP/s for a batch of\n"
               "--batch rows (default 512) next to a per-column loop and a BLAS sgemm path.\n"
               "--type limits the run to the named types (repeatable).  Run it on an idle machine.\n");
}

static int type_by_name(const char *name) {
    for (int32_t t = 0; t < 64; t++) {
        const char *n = ai_type_name(t);
        if (n && !strcmp(n, name)) return t;
    }
    return -1;
}

int cmd_bench_kernels(int argc, char **argv) {
    ai_opts *o = NULL;
    if (ai_opts_new(&o)) return EXIT_INPUT;
    int64_t types = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            ai_opts_free(o);
            return EXIT_OK;
        }
        ai_opt key;
        if (!strcmp(a, "--threads")) key = AI_OPT_N_THREADS;
        else if (!strcmp(a, "--mib")) key = AI_OPT_BENCH_MIB;
        else if (!strcmp(a, "--batch")) key = AI_OPT_BENCH_BATCH;
        else if (!strcmp(a, "--type")) key = AI_OPT_BENCH_TYPES;
        else {
            fprintf(stderr, "agentinfer bench-kernels: unknown argument '%s'\n", a);
            usage(stderr);
            ai_opts_free(o);
            return EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "agentinfer bench-kernels: %s needs a value\n", a);
            ai_opts_free(o);
            return EXIT_USAGE;
        }
        const char *v = argv[++i];
        if (key == AI_OPT_BENCH_TYPES) {
            int t = type_by_name(v);
            if (t < 0) {
                fprintf(stderr, "agentinfer bench-kernels: unknown type '%s'\n", v);
                ai_opts_free(o);
                return EXIT_USAGE;
            }
            types |= (int64_t)1 << t;
            continue;
        }
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end || end == v || ai_opts_set_int(o, key, n) != AI_OK) {
            fprintf(stderr, "agentinfer bench-kernels: bad value '%s' for %s\n", v, a);
            ai_opts_free(o);
            return EXIT_USAGE;
        }
    }
    if (types) ai_opts_set_int(o, AI_OPT_BENCH_TYPES, types);
    char info[512];
    if (ai_system_info(info, sizeof info, NULL) == AI_OK) printf("%s\n", info);
    fflush(stdout);
    char *report = NULL;
    ai_status st = ai_system_bench(o, &report);
    ai_opts_free(o);
    if (st) {
        fprintf(stderr, "agentinfer bench-kernels: %s\n", ai_status_string(st));
        return EXIT_INPUT;
    }
    fputs(report, stdout);
    ai_free(report);
    return EXIT_OK;
}
