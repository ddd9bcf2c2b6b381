/* util.c - small helpers shared by the subcommands. */
#include "cli.h"

#include <string.h>
#include <time.h>

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
