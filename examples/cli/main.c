/* main.c - subcommand dispatch and --help for the agentinfer program. */
#include "cli.h"

#include <string.h>

static const cli_cmd commands[] = {
    {"info", "print a model's architecture, shape and tensor types", cmd_info},
    {"quantize", "rewrite a model with its weight matrices in another type", cmd_quantize},
    {"toolcalls", "parse a model output into content, reasoning and tool calls", cmd_toolcalls},
    {"bench-toolcalls", "measure tool-call parse throughput (MB/s, us per 4 kB)", cmd_bench_toolcalls},
    {"bench-kernels", "measure the compute kernels (GB/s, GOP/s)", cmd_bench_kernels},
    {"tokenize", "print the token ids (or pieces) of a text", cmd_tokenize},
    {"detokenize", "print the text of token ids", cmd_detokenize},
    {"chat-render", "render a conversation with the model's chat template", cmd_chat_render},
    {"chat", "interactive chat with the model's template, tool calls shown", cmd_chat},
    {"generate", "stream a model's continuation of a prompt", cmd_generate},
    {"embed", "print the embedding of a text (or of each line of a file) as JSON", cmd_embed},
    {"similarity", "print the cosine similarity of two texts' embeddings", cmd_similarity},
    {"logits", "print a prompt's logits and greedy steps as JSON (the refs schema)", cmd_logits},
    {"bench", "measure prompt processing and generation speed", cmd_bench},
    {"bench-agent", "time a scripted agent conversation with and without prefix reuse",
     cmd_bench_agent},
    /* later subcommands are added here, one line each */
};

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer COMMAND [ARGS...]\n\n"
               "libagentinfer %s: local inference for AI agents.\n\ncommands:\n",
            ai_version_string());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'agentinfer COMMAND --help' for a command's options.\n"
               "Exit status: 0 ok, 1 usage error, 2 bad input.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("agentinfer %s\n", ai_version_string());
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "agentinfer: unknown command '%s' (see agentinfer --help)\n", argv[1]);
    return EXIT_USAGE;
}
