/*
 * cmd_bench_agent.c - `agentinfer bench-agent -m MODEL`: a scripted agent
 * conversation, timed with and without prefix reuse (issue 9).
 *
 * The script: a system prompt of --system tokens (tool definitions as
 * JSON), then --turns turns, each adding a tool result of --result tokens
 * and generating --gen tokens greedily.  Every turn re-sends the whole
 * conversation through ai_session_prompt(), as an agent does.  Reported
 * per turn: the prompt length, the tokens reused, and the time to the first
 * token (prompt evaluation plus one sample) with reuse and with
 * AI_OPT_PREFIX_REUSE = 0; then total wall times, and the state file of the
 * final conversation: size, save and load time against the raw state size.
 * The no-reuse run can be limited to the first --baseline-turns turns
 * (it re-evaluates the whole conversation every turn).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer bench-agent -m MODEL [-t THREADS] [-c CTX] [-b BATCH]\n"
               "         [--kv-type f16|f32|q8_0] [--turns 10] [--system 1500] [--result 60]\n"
               "         [--gen 40] [--baseline-turns N] [--state FILE]\n"
               "Times a scripted agent conversation with and without prefix reuse.\n");
}

typedef struct tokbuf {
    int32_t *t;
    size_t n, cap;
} tokbuf;

static int push(tokbuf *b, const int32_t *t, size_t n) {
    if (b->n + n > b->cap) {
        size_t nc = (b->n + n) * 2;
        int32_t *p = realloc(b->t, nc * sizeof *p);
        if (!p) return -1;
        b->t = p;
        b->cap = nc;
    }
    memcpy(b->t + b->n, t, n * sizeof *t);
    b->n += n;
    return 0;
}

/* Exactly `want` tokens of text made by repeating `text` (tokenized once);
 * synthetic ids when the model has no tokenizer. */
static int tokens_of(ai_model *m, size_t nv, const char *text, size_t want, int32_t salt,
                     tokbuf *out) {
    int32_t *t = NULL;
    size_t n = 0;
    if (cli_tokenize(m, text, 0, &t, &n) != AI_OK || n == 0) {
        free(t);
        if (nv < 2) nv = 2;
        for (size_t i = 0; i < want; i++) {
            int32_t id = (int32_t)((i * 7919u + (size_t)salt * 104729u) % (nv - 1) + 1);
            if (push(out, &id, 1)) return -1;
        }
        return 0;
    }
    for (size_t done = 0; done < want;) {
        size_t k = want - done < n ? want - done : n;
        if (push(out, t, k)) {
            free(t);
            return -1;
        }
        done += k;
    }
    free(t);
    return 0;
}

static int is_eog(ai_model *m, int32_t t) {
    uint32_t a = 0;
    return ai_token_attr(m, t, &a) == AI_OK && (a & (AI_TOKEN_ATTR_EOG | AI_TOKEN_ATTR_CONTROL));
}

static ai_session *open_bench_session(ai_model *m, ai_opts *o, int reuse) {
    ai_opts_set_int(o, AI_OPT_PREFIX_REUSE, reuse);
    ai_session *s = NULL;
    char err[256];
    if (ai_session_new(m, o, &s, err, sizeof err) != AI_OK) {
        fprintf(stderr, "agentinfer bench-agent: %s\n", err);
        return NULL;
    }
    return s;
}

/* Runs the script on s.  Each turn's conversation goes to ai_session_prompt;
 * the generated tokens are greedy, except that an end-of-generation or
 * control token is replaced so that every turn has `gen` tokens.  When
 * `script` already holds the tokens of a previous run (forced), those are
 * used instead, so both runs see the same conversation.  ttft[i] gets each
 * turn's time to first token. */
static int run(ai_session *s, ai_model *m, const tokbuf *sys, const tokbuf *results,
               size_t result_len, int turns, size_t gen, tokbuf *script, int forced,
               double *ttft, double *ttft_cpu, int32_t *reused, size_t *plen) {
    tokbuf conv = {0};
    if (push(&conv, sys->t, sys->n)) return -1;
    size_t gpos = 0;
    for (int turn = 0; turn < turns; turn++) {
        if (push(&conv, results->t + (size_t)turn * result_len, result_len)) return -1;
        double t0 = cli_wall_seconds(), c0 = cli_cpu_seconds();
        ai_status st = ai_session_prompt(s, conv.t, conv.n, 0);
        int32_t tok = -1;
        if (st == AI_OK) st = ai_session_sample(s, &tok);
        ttft[turn] = cli_wall_seconds() - t0;
        ttft_cpu[turn] = cli_cpu_seconds() - c0;
        if (st != AI_OK) {
            fprintf(stderr, "agentinfer bench-agent: turn %d: %s\n", turn + 1,
                    ai_session_errmsg(s));
            free(conv.t);
            return -1;
        }
        reused[turn] = ai_session_n_reused(s);
        plen[turn] = conv.n;
        /* progress on stderr: a slow machine shows where it is */
        fprintf(stderr, "  %s turn %d: prompt %zu, reused %d, ttft %.1f ms (cpu %.1f ms)\n",
                forced ? "no-reuse" : "reuse", turn + 1, conv.n, reused[turn], ttft[turn] * 1e3,
                ttft_cpu[turn] * 1e3);
        for (size_t k = 0; k < gen; k++) {
            if (k > 0 && ai_session_sample(s, &tok) != AI_OK) break;
            if (forced) {
                tok = script->t[gpos];
            } else {
                size_t nv = ai_vocab_size(m) ? ai_vocab_size(m) : (size_t)ai_session_n_vocab(s);
                for (size_t guard = 0; is_eog(m, tok) && guard < nv; guard++)
                    tok = (int32_t)(((size_t)tok + 1) % nv);
                if (push(script, &tok, 1)) return -1;
            }
            gpos++;
            if (push(&conv, &tok, 1) || ai_session_eval(s, &tok, 1, 0) != AI_OK) {
                fprintf(stderr, "agentinfer bench-agent: turn %d: %s\n", turn + 1,
                        ai_session_errmsg(s));
                free(conv.t);
                return -1;
            }
        }
    }
    free(conv.t);
    return 0;
}

int cmd_bench_agent(int argc, char **argv) {
    const char *model = NULL, *state = NULL;
    long turns = 10, sys_n = 1500, res_n = 60, gen_n = 40, base_turns = -1;
    ai_opts *o = NULL;
    if (ai_opts_new(&o) != AI_OK) return EXIT_INPUT;
    ai_opts_set_double(o, AI_OPT_TEMPERATURE, 0.0);
    for (int i = 1; i < argc; i++) {
        int r = cli_session_opt(argc, argv, &i, o, &model);
        if (r == 1) continue;
        long *num = NULL;
        if (r == 0 && !strcmp(argv[i], "--turns")) num = &turns;
        else if (r == 0 && !strcmp(argv[i], "--system")) num = &sys_n;
        else if (r == 0 && !strcmp(argv[i], "--result")) num = &res_n;
        else if (r == 0 && !strcmp(argv[i], "--gen")) num = &gen_n;
        else if (r == 0 && !strcmp(argv[i], "--baseline-turns")) num = &base_turns;
        if (num && i + 1 < argc) {
            char *end;
            *num = strtol(argv[++i], &end, 10);
            if (*end || *num < 0 || *num > 1000000) r = -1;
            else continue;
        } else if (r == 0 && !strcmp(argv[i], "--state") && i + 1 < argc) {
            state = argv[++i];
            continue;
        } else if (r == 0 && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
            usage(stdout);
            ai_opts_free(o);
            return EXIT_OK;
        }
        fprintf(stderr, "agentinfer bench-agent: bad or incomplete option '%s'\n", argv[i]);
        usage(stderr);
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    if (!model || turns < 1 || sys_n < 1 || res_n < 1) {
        usage(stderr);
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    if (base_turns < 0 || base_turns > turns) base_turns = turns;
    ai_model *m = NULL;
    if (cli_load_model(model, &m)) {
        ai_opts_free(o);
        return EXIT_INPUT;
    }
    int rc = EXIT_INPUT;
    tokbuf sys = {0}, results = {0}, script = {0};
    double *t_reuse = calloc((size_t)turns, sizeof *t_reuse);
    double *t_base = calloc((size_t)turns, sizeof *t_base);
    double *c_reuse = calloc((size_t)turns, sizeof *c_reuse);
    double *c_base = calloc((size_t)turns, sizeof *c_base);
    int32_t *r_reuse = calloc((size_t)turns, sizeof *r_reuse);
    int32_t *r_base = calloc((size_t)turns, sizeof *r_base);
    size_t *plen = calloc((size_t)turns, sizeof *plen);
    ai_session *s = NULL, *b = NULL, *l = NULL;
    char tmpl[64] = "";
    if (!t_reuse || !t_base || !c_reuse || !c_base || !r_reuse || !r_base || !plen) goto out;

    /* the script's text */
    static const char sys_text[] =
        "You are a coding agent. Use the tools to answer. Tools: "
        "{\"type\": \"function\", \"function\": {\"name\": \"read_file\", \"description\": "
        "\"Read a file of the repository\", \"parameters\": {\"type\": \"object\", "
        "\"properties\": {\"path\": {\"type\": \"string\"}}, \"required\": [\"path\"]}}} "
        "{\"type\": \"function\", \"function\": {\"name\": \"search\", \"description\": "
        "\"Search the code for a pattern\", \"parameters\": {\"type\": \"object\", "
        "\"properties\": {\"pattern\": {\"type\": \"string\"}, \"max_results\": {\"type\": "
        "\"integer\"}}}}} ";
    if (!(s = open_bench_session(m, o, 1))) goto out;
    size_t nv = (size_t)ai_session_n_vocab(s);
    if (tokens_of(m, nv, sys_text, (size_t)sys_n, 1, &sys)) goto out;
    for (long t = 0; t < turns; t++) {
        char res[256];
        snprintf(res, sizeof res, "<tool_response>{\"turn\": %ld, \"matches\": [\"lib/session.c:%ld\", "
                 "\"lib/forward.c:%ld\"], \"truncated\": false}</tool_response> ", t + 1,
                 40 + 7 * t, 100 + 13 * t);
        if (tokens_of(m, nv, res, (size_t)res_n, (int32_t)t + 2, &results)) goto out;
    }
    size_t total = (size_t)sys_n + (size_t)turns * (size_t)(res_n + gen_n);

    printf("bench-agent: %s\n  script: system %ld tokens, %ld turns of +%ld tool-result tokens "
           "and %ld generated; final context %zu tokens\n", model, sys_n, turns, res_n, gen_n,
           total);
    if ((size_t)ai_session_n_ctx(s) < total) {
        fprintf(stderr, "agentinfer bench-agent: the script needs %zu positions; the context "
                "has %d (use -c)\n", total, ai_session_n_ctx(s));
        goto out;
    }
    double w0 = cli_wall_seconds();
    if (run(s, m, &sys, &results, (size_t)res_n, (int)turns, (size_t)gen_n, &script, 0, t_reuse,
            c_reuse, r_reuse, plen))
        goto out;
    double wall_reuse = cli_wall_seconds() - w0;
    double wall_base = 0;
    if (base_turns > 0) {
        if (!(b = open_bench_session(m, o, 0))) goto out;
        w0 = cli_wall_seconds();
        if (run(b, m, &sys, &results, (size_t)res_n, (int)base_turns, (size_t)gen_n, &script, 1,
                t_base, c_base, r_base, plen))
            goto out;
        wall_base = cli_wall_seconds() - w0;
    }
    printf("  time to first token, wall ms (CPU ms of all threads)\n"
           "  turn  prompt  reused  with reuse          without reuse       speedup (CPU)\n");
    for (long t = 0; t < turns; t++) {
        char ca[40], cb[40] = "-", cc[40] = "-";
        snprintf(ca, sizeof ca, "%.1f (%.1f)", t_reuse[t] * 1e3, c_reuse[t] * 1e3);
        if (t < base_turns) {
            snprintf(cb, sizeof cb, "%.1f (%.1f)", t_base[t] * 1e3, c_base[t] * 1e3);
            snprintf(cc, sizeof cc, "%.1fx (%.1fx)", t_base[t] / t_reuse[t], c_base[t] / c_reuse[t]);
        }
        printf("  %4ld  %6zu  %6d  %-18s  %-18s  %s\n", t + 1, plen[t], r_reuse[t], ca, cb, cc);
    }
    printf("  wall time, %ld turns with reuse: %.2f s\n", turns, wall_reuse);
    if (base_turns > 0) {
        printf("  wall time, %ld turns without reuse: %.2f s%s\n", base_turns, wall_base,
               base_turns < turns ? " (first turns only; see --baseline-turns)" : "");
    }

    /* the state of the final conversation */
    if (!state) {
        const char *td = getenv("TMPDIR");
        snprintf(tmpl, sizeof tmpl, "%s/agentinfer-bench-XXXXXX", td && strlen(td) < 32 ? td : "/tmp");
        int fd = mkstemp(tmpl);
        if (fd < 0) {
            fprintf(stderr, "agentinfer bench-agent: cannot create a temporary file\n");
            goto out;
        }
        close(fd);
        state = tmpl;
    }
    double t0 = cli_wall_seconds();
    if (ai_session_save(s, state) != AI_OK) {
        fprintf(stderr, "agentinfer bench-agent: %s\n", ai_session_errmsg(s));
        goto out;
    }
    double t_save = cli_wall_seconds() - t0;
    FILE *f = fopen(state, "rb");
    long fsize = -1;
    if (f) {
        fseek(f, 0, SEEK_END);
        fsize = ftell(f);
        fclose(f);
    }
    if (!(l = open_bench_session(m, o, 1))) goto out;
    t0 = cli_wall_seconds();
    if (ai_session_load(l, state) != AI_OK) {
        fprintf(stderr, "agentinfer bench-agent: %s\n", ai_session_errmsg(l));
        goto out;
    }
    double t_load = cli_wall_seconds() - t0;
    int32_t a1 = -1, a2 = -2;
    ai_session_sample(s, &a1);
    ai_session_sample(l, &a2);
    double raw = (double)ai_session_state_size(s);
    printf("  state file: %d tokens, %.1f MiB raw (KV cache, tokens, logits), %.1f MiB on disk "
           "(%.0f%%), save %.0f ms, load %.0f ms; next token after load %s\n",
           ai_session_n_past(s), raw / 1048576.0, (double)fsize / 1048576.0,
           100.0 * (double)fsize / raw, t_save * 1e3, t_load * 1e3,
           a1 == a2 ? "matches" : "DIFFERS");
    rc = a1 == a2 ? EXIT_OK : EXIT_INPUT;
out:
    if (tmpl[0]) remove(tmpl);
    ai_session_free(l);
    ai_session_free(b);
    ai_session_free(s);
    free(sys.t);
    free(results.t);
    free(script.t);
    free(t_reuse);
    free(t_base);
    free(c_reuse);
    free(c_base);
    free(r_reuse);
    free(r_base);
    free(plen);
    ai_model_free(m);
    ai_opts_free(o);
    return rc;
}
