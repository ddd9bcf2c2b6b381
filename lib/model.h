/*
 * model.h - what an ai_model holds (private).  A model is read-only after
 * ai_model_load() returns; everything here is shared by all sessions.
 *
 * Parts are owned by the files that build them:
 *   gguf     lib/gguf.c      the parsed file (tensor data used in place)
 *   vocab    tokenizer       NULL when the file has no tokenizer metadata
 *   weights  runtime         hyperparameters and tensor bindings; NULL for a
 *                            vocabulary-only file or an unsupported arch
 *   encoder  encoder.c       BERT-family weights (bert, nomic-bert), else NULL
 * Each part has its own load/free pair called from lib/model.c.
 */
#ifndef AI_MODEL_H
#define AI_MODEL_H

#include "gguf.h"

struct ai__vocab;
struct ai__weights;
struct ai__encoder;

struct ai_model {
    ai__gguf *gguf;
    char *path;                 /* as given to ai_model_load               */
    const char *arch;           /* general.architecture (NUL-terminated copy
                                   owned by the model), "" when absent     */
    struct ai__vocab *vocab;
    struct ai__weights *weights;
    struct ai__encoder *encoder;
};

#endif /* AI_MODEL_H */
