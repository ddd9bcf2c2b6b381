/* util.c - small helpers shared by the subcommands. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p == '\r') fputs("\\r", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

int cli_load_model(const char *path, ai_model **out) {
    char err[512];
    ai_status st = ai_model_load(path, NULL, out, err, sizeof err);
    if (st == AI_OK) return EXIT_OK;
    fprintf(stderr, "agentinfer: %s\n", err[0] ? err : ai_status_string(st));
    return st == AI_E_INVAL ? EXIT_USAGE : EXIT_INPUT;
}

double cli_wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cli_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The default model (issue 11): the small agent model trained by us and
 * shipped in the repository as models/default.gguf.  Looked for, in order:
 * $AGENTINFER_MODEL; models/default.gguf under the current folder (running
 * from a checkout); relative to this program's own file: ../../models/ (the
 * checkout's build/bin/agentinfer) and ../share/agentinfer/ (an install,
 * relocatable with its prefix).  Says on stderr which file it took, so a
 * user never mistakes it for their own. */
static int readable(const char *path) { return access(path, R_OK) == 0; }

const char *cli_default_model(void) {
    static char buf[4096];
    static const char *const rel[] = {"/../../models/default.gguf",
                                      "/../share/agentinfer/default.gguf"};
    const char *env = getenv("AGENTINFER_MODEL");
    const char *found = NULL;
    if (env && *env) {
        found = env;
    } else if (readable("models/default.gguf")) {
        found = "models/default.gguf";
    } else {
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 64);
        char *slash = n > 0 ? memchr(buf, '/', (size_t)n) : NULL;
        if (slash) {
            buf[n] = '\0';
            slash = strrchr(buf, '/');
            for (size_t k = 0; k < sizeof rel / sizeof rel[0] && !found; k++) {
                strcpy(slash, rel[k]); /* fits: 64 bytes were kept free */
                if (readable(buf)) found = buf;
            }
        }
    }
    if (found)
        fprintf(stderr, "agentinfer: no -m given, using the default model %s\n", found);
    else
        fprintf(stderr, "agentinfer: no -m MODEL given and no default model found "
                        "(models/default.gguf, $AGENTINFER_MODEL)\n");
    return found;
}
