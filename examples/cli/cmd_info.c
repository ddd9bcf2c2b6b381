/*
 * cmd_info.c - `agentinfer info MODEL [--json]`: what a GGUF file holds,
 * computed from the public metadata and tensor calls only.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Metadata "<arch>.<suffix>" as an integer; -1 when absent or not an integer. */
static int64_t arch_int(const ai_model *m, const char *arch, const char *suffix) {
    char key[256];
    int64_t v;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return ai_model_meta_int(m, key, &v) == AI_OK ? v : -1;
}

/* A string value into buf ("" when absent; truncated when long). */
static const char *meta_str(const ai_model *m, const char *key, char *buf, size_t cap) {
    size_t need;
    buf[0] = '\0';
    if (ai_model_meta_str(m, key, buf, cap, &need) == AI_E_RANGE) {
        char *tmp = malloc(need);
        if (tmp && ai_model_meta_str(m, key, tmp, need, &need) == AI_OK) {
            snprintf(buf, cap, "%s", tmp);
        }
        free(tmp);
    }
    return buf;
}

typedef struct info {
    char arch[128], name[256], tokenizer[64];
    int64_t n_params, n_vocab, n_ctx, n_embd, n_layer, n_head, n_head_kv;
    int has_template;
    size_t type_count[64]; /* by ai_type */
} info;

static void gather(const ai_model *m, info *in) {
    memset(in, 0, sizeof *in);
    meta_str(m, "general.architecture", in->arch, sizeof in->arch);
    meta_str(m, "general.name", in->name, sizeof in->name);
    meta_str(m, "tokenizer.ggml.model", in->tokenizer, sizeof in->tokenizer);
    uint64_t nv = 0;
    in->n_vocab = ai_model_meta_arr_len(m, "tokenizer.ggml.tokens", &nv) == AI_OK ? (int64_t)nv
                                                                                   : arch_int(m, in->arch, "vocab_size");
    in->n_ctx = arch_int(m, in->arch, "context_length");
    in->n_embd = arch_int(m, in->arch, "embedding_length");
    in->n_layer = arch_int(m, in->arch, "block_count");
    in->n_head = arch_int(m, in->arch, "attention.head_count");
    in->n_head_kv = arch_int(m, in->arch, "attention.head_count_kv");
    if (in->n_head_kv < 0) in->n_head_kv = in->n_head;
    int32_t t;
    in->has_template = ai_model_meta_type(m, "tokenizer.chat_template", &t, NULL, NULL) == AI_OK;
    for (size_t i = 0; i < ai_model_tensor_count(m); i++) {
        int32_t type;
        int64_t d[4];
        if (ai_model_tensor_info(m, i, NULL, &type, NULL, d) != AI_OK) continue;
        in->n_params += d[0] * d[1] * d[2] * d[3];
        if (type >= 0 && type < 64) in->type_count[type]++;
    }
}

static void print_num(FILE *f, int64_t v) {
    if (v < 0) fputs("null", f);
    else fprintf(f, "%" PRId64, v);
}

static void print_json(const info *in) {
    printf("{\"arch\": ");
    cli_json_str(stdout, in->arch);
    printf(", \"name\": ");
    cli_json_str(stdout, in->name);
    printf(", \"n_params\": %" PRId64 ", \"n_vocab\": ", in->n_params);
    print_num(stdout, in->n_vocab);
    printf(", \"n_ctx_train\": ");
    print_num(stdout, in->n_ctx);
    printf(", \"n_embd\": ");
    print_num(stdout, in->n_embd);
    printf(", \"n_layer\": ");
    print_num(stdout, in->n_layer);
    printf(", \"n_head\": ");
    print_num(stdout, in->n_head);
    printf(", \"n_head_kv\": ");
    print_num(stdout, in->n_head_kv);
    printf(", \"tokenizer\": ");
    cli_json_str(stdout, in->tokenizer);
    printf(", \"has_chat_template\": %s, \"tensor_types\": {", in->has_template ? "true" : "false");
    int first = 1;
    for (int t = 0; t < 64; t++) {
        if (!in->type_count[t]) continue;
        printf("%s", first ? "" : ", ");
        cli_json_str(stdout, ai_type_name(t) ? ai_type_name(t) : "unknown");
        printf(": %zu", in->type_count[t]);
        first = 0;
    }
    printf("}}\n");
}

static void print_text(const char *path, const info *in) {
    printf("model:            %s\n", path);
    printf("architecture:     %s\n", in->arch[0] ? in->arch : "(none)");
    printf("name:             %s\n", in->name[0] ? in->name : "(none)");
    printf("parameters:       %" PRId64 " (%.2f M)\n", in->n_params, (double)in->n_params / 1e6);
    printf("context length:   ");
    print_num(stdout, in->n_ctx);
    printf("\nembedding length: ");
    print_num(stdout, in->n_embd);
    printf("\nlayers:           ");
    print_num(stdout, in->n_layer);
    printf("\nheads:            ");
    print_num(stdout, in->n_head);
    printf("\nkv heads:         ");
    print_num(stdout, in->n_head_kv);
    printf("\nvocabulary:       ");
    print_num(stdout, in->n_vocab);
    printf(" (%s)\n", in->tokenizer[0] ? in->tokenizer : "no tokenizer");
    printf("chat template:    %s\n", in->has_template ? "yes" : "no");
    printf("tensor types:    ");
    for (int t = 0; t < 64; t++)
        if (in->type_count[t])
            printf(" %s x %zu", ai_type_name(t) ? ai_type_name(t) : "unknown", in->type_count[t]);
    printf("\n");
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: agentinfer info MODEL [--json]\n");
            return EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "agentinfer info: unknown option '%s'\n", argv[i]);
            return EXIT_USAGE;
        } else if (path) {
            fprintf(stderr, "agentinfer info: one model at a time\n");
            return EXIT_USAGE;
        } else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: agentinfer info MODEL [--json]\n");
        return EXIT_USAGE;
    }
    ai_model *m;
    int rc = cli_load_model(path, &m);
    if (rc) return rc;
    info *in = malloc(sizeof *in);
    if (!in) {
        ai_model_free(m);
        fprintf(stderr, "agentinfer info: out of memory\n");
        return EXIT_INPUT;
    }
    gather(m, in);
    if (json) print_json(in);
    else print_text(path, in);
    free(in);
    ai_model_free(m);
    return EXIT_OK;
}
