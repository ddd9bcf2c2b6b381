/* session_file.c - `--session FILE` for generate: load a session state file
 * when it exists, save it after the run. */
#include "cli.h"

#include <errno.h>
#include <sys/stat.h>

int cli_session_load(ai_session *s, const char *path, const char *cmd) {
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT) return EXIT_OK; /* first run */
    ai_status st = ai_session_load(s, path);
    if (st == AI_OK) return EXIT_OK;
    fprintf(stderr, "agentinfer %s: --session %s: %s (%s); the file was left as it is\n", cmd,
            path, ai_session_errmsg(s)[0] ? ai_session_errmsg(s) : "cannot load",
            ai_status_string(st));
    return EXIT_INPUT;
}

int cli_session_save(ai_session *s, const char *path, const char *cmd) {
    ai_status st = ai_session_save(s, path);
    if (st == AI_OK) return EXIT_OK;
    fprintf(stderr, "agentinfer %s: --session %s: %s (%s)\n", cmd, path,
            ai_session_errmsg(s)[0] ? ai_session_errmsg(s) : "cannot save", ai_status_string(st));
    return EXIT_INPUT;
}
