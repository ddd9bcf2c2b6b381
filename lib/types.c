/*
 * types.c - the table of GGUF tensor types.  Block sizes and byte counts come
 * from the public GGUF format description; a block of a quantized type packs
 * its scales and quants as documented in kernels/ref/.
 */
#include "types.h"

#include "agentinfer.h"

static const ai__type_traits table[AI__TYPE_COUNT] = {
    [AI_TYPE_F32] = {"f32", 1, 4},
    [AI_TYPE_F16] = {"f16", 1, 2},
    [AI_TYPE_Q4_0] = {"q4_0", 32, 18},     /* f16 d, 16 B of nibbles      */
    [AI_TYPE_Q4_1] = {"q4_1", 32, 20},     /* f16 d, f16 m, 16 B          */
    [AI_TYPE_Q5_0] = {"q5_0", 32, 22},     /* f16 d, 4 B high bits, 16 B  */
    [AI_TYPE_Q5_1] = {"q5_1", 32, 24},     /* f16 d, f16 m, 4 B, 16 B     */
    [AI_TYPE_Q8_0] = {"q8_0", 32, 34},     /* f16 d, 32 int8              */
    [AI_TYPE_Q8_1] = {"q8_1", 32, 36},     /* f16 d, f16 s, 32 int8       */
    [AI_TYPE_Q2_K] = {"q2_k", 256, 84},
    [AI_TYPE_Q3_K] = {"q3_k", 256, 110},
    [AI_TYPE_Q4_K] = {"q4_k", 256, 144},
    [AI_TYPE_Q5_K] = {"q5_k", 256, 176},
    [AI_TYPE_Q6_K] = {"q6_k", 256, 210},
    [AI_TYPE_Q8_K] = {"q8_k", 256, 292},   /* f32 d, 256 int8, 16 int16   */
    [AI_TYPE_IQ2_XXS] = {"iq2_xxs", 256, 66},
    [AI_TYPE_IQ2_XS] = {"iq2_xs", 256, 74},
    [AI_TYPE_IQ3_XXS] = {"iq3_xxs", 256, 98},
    [AI_TYPE_IQ1_S] = {"iq1_s", 256, 50},
    [AI_TYPE_IQ4_NL] = {"iq4_nl", 32, 18},
    [AI_TYPE_IQ3_S] = {"iq3_s", 256, 110},
    [AI_TYPE_IQ2_S] = {"iq2_s", 256, 82},
    [AI_TYPE_IQ4_XS] = {"iq4_xs", 256, 136},
    [AI_TYPE_I8] = {"i8", 1, 1},
    [AI_TYPE_I16] = {"i16", 1, 2},
    [AI_TYPE_I32] = {"i32", 1, 4},
    [AI_TYPE_I64] = {"i64", 1, 8},
    [AI_TYPE_F64] = {"f64", 1, 8},
    [AI_TYPE_IQ1_M] = {"iq1_m", 256, 56},
    [AI_TYPE_BF16] = {"bf16", 1, 2},
    [AI_TYPE_TQ1_0] = {"tq1_0", 256, 54},
    [AI_TYPE_TQ2_0] = {"tq2_0", 256, 66},
    [AI_TYPE_MXFP4] = {"mxfp4", 32, 17},
};

const ai__type_traits *ai__type_get(uint32_t type) {
    if (type >= AI__TYPE_COUNT || !table[type].name) return 0;
    return &table[type];
}

size_t ai__row_size(uint32_t type, int64_t n) {
    const ai__type_traits *t = ai__type_get(type);
    if (!t || n < 0 || n % t->block_size) return 0;
    return (size_t)(n / t->block_size) * t->type_size;
}

const char *ai_type_name(int32_t type) {
    const ai__type_traits *t = type < 0 ? 0 : ai__type_get((uint32_t)type);
    return t ? t->name : 0;
}
