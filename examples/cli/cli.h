/*
 * cli.h - the agentinfer command-line program.  It uses only the public
 * header, as any application would.  Each subcommand lives in cmd_<name>.c.
 *
 * Exit status of every subcommand: 0 ok, 1 usage error, 2 bad input (one
 * line on stderr saying what and where).
 */
#ifndef AI_CLI_H
#define AI_CLI_H

#include <agentinfer.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_INPUT = 2 };

typedef struct cli_cmd {
    const char *name;
    const char *summary;  /* one line for --help */
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_cmd;

/* Subcommands (one per file). */
int cmd_info(int argc, char **argv);
int cmd_toolcalls(int argc, char **argv);
int cmd_bench_toolcalls(int argc, char **argv);
int cmd_bench_kernels(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_chat_render(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_bench_agent(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_similarity(int argc, char **argv);

/* Helpers (util.c). */
double cli_wall_seconds(void); /* monotonic clock */
/* CPU seconds of the whole process (all threads): on a shared machine this
 * moves less with the load than the wall clock does. */
double cli_cpu_seconds(void);
void cli_json_str(FILE *f, const char *s);          /* a JSON string literal */
int cli_load_model(const char *path, ai_model **out); /* prints the error line */
/* The shipped default model when -m is absent (says which on stderr), or
 * NULL after saying that none was found. */
const char *cli_default_model(void);

/* Session options (sessopt.c).  cli_session_opt() consumes argv[*i] (and
 * its value) when it is -m/-t/-c/-b/-n or a sampling flag: returns 1 when it
 * did, 0 when the flag is not one of these, -1 on a bad value. */
int cli_session_opt(int argc, char **argv, int *i, ai_opts *o, const char **model);
/* Loads the model and opens a session; prints the error line on failure. */
int cli_open_session(const char *path, const ai_opts *o, ai_model **m, ai_session **s);
/* "1,2,3" into a malloc'd array; -1 when malformed or empty. */
int cli_parse_tokens(const char *list, int32_t **out, size_t *n);
/* ai_tokenize into a malloc'd array (free with free). */
ai_status cli_tokenize(const ai_model *m, const char *text, uint32_t flags, int32_t **out,
                       size_t *n);

/* Session state files (session_file.c).  Load: a missing file is fine (a
 * first run); an invalid one prints the reason and gives EXIT_INPUT.  Save:
 * prints the reason on failure.  cmd names the subcommand in messages. */
int cli_session_load(ai_session *s, const char *path, const char *cmd);
int cli_session_save(ai_session *s, const char *path, const char *cmd);

#endif
