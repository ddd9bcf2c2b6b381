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
int cmd_bench_kernels(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_chat_render(int argc, char **argv);

/* Helpers (util.c). */
void cli_json_str(FILE *f, const char *s);          /* a JSON string literal */
int cli_load_model(const char *path, ai_model **out); /* prints the error line */

#endif
