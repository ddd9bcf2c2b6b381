/* cmd_quantize.c - agentinfer quantize IN.gguf OUT.gguf TYPE. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer quantize [--threads N] IN.gguf OUT.gguf TYPE\n\n"
               "Writes a copy of IN with every weight matrix in TYPE (f32 f16 bf16 q4_0 q4_1 q5_0\n"
               "q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k iq4_nl iq4_xs); 1-D tensors become f32 and the\n"
               "metadata is copied.  The layout follows llama.cpp's quantizer run with --pure.\n");
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3];
    int np = 0;
    long long threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "--threads")) {
            char *end;
            if (i + 1 >= argc || (threads = strtoll(argv[i + 1], &end, 10)) < 1 || *end) {
                fprintf(stderr, "agentinfer quantize: --threads needs a positive number\n");
                return EXIT_USAGE;
            }
            i++;
            continue;
        }
        if (np == 3) {
            usage(stderr);
            return EXIT_USAGE;
        }
        pos[np++] = argv[i];
    }
    if (np != 3) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int32_t type = -1;
    for (int32_t t = 0; t < 64; t++) {
        const char *n = ai_type_name(t);
        if (n && !strcmp(n, pos[2])) type = t;
    }
    if (type < 0) {
        fprintf(stderr, "agentinfer quantize: unknown type '%s'\n", pos[2]);
        return EXIT_USAGE;
    }
    ai_opts *o = NULL;
    if (ai_opts_new(&o) != AI_OK) return EXIT_INPUT;
    if (threads > 0 && ai_opts_set_int(o, AI_OPT_N_THREADS, threads) != AI_OK) {
        fprintf(stderr, "agentinfer quantize: bad --threads value\n");
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    char err[512];
    ai_status st = ai_model_quantize(pos[0], pos[1], type, o, err, sizeof err);
    ai_opts_free(o);
    if (st != AI_OK) {
        fprintf(stderr, "agentinfer quantize: %s: %s\n", ai_status_string(st), err);
        return st == AI_E_UNSUPPORTED && !strncmp(err, "quantize: type", 14) ? EXIT_USAGE : EXIT_INPUT;
    }
    return EXIT_OK;
}
