/*
 * ref.c - the reference kernel set: every supported type, scalar code only.
 */
#include "ref.h"

#define OPS(T, ACT) {ACT, ai__ref_dequant_##T, ai__ref_quant_##T, ai__ref_dot_##T, 0, 0}

const ai__kset ai__kset_ref = {
    "ref",
    0,
    {ai__ref_act_f32, ai__ref_act_f16, ai__ref_act_bf16, ai__ref_act_q8_32, ai__ref_act_q8_256},
    {
        [AI_TYPE_F32] = OPS(f32, ACT_F32),
        [AI_TYPE_F16] = OPS(f16, ACT_F16),
        [AI_TYPE_BF16] = OPS(bf16, ACT_BF16),
        [AI_TYPE_Q4_0] = OPS(q4_0, ACT_Q8_32),
        [AI_TYPE_Q4_1] = OPS(q4_1, ACT_Q8_32),
        [AI_TYPE_Q5_0] = OPS(q5_0, ACT_Q8_32),
        [AI_TYPE_Q5_1] = OPS(q5_1, ACT_Q8_32),
        [AI_TYPE_Q8_0] = OPS(q8_0, ACT_Q8_32),
        [AI_TYPE_IQ4_NL] = OPS(iq4_nl, ACT_Q8_32),
        [AI_TYPE_Q2_K] = OPS(q2_k, ACT_Q8_256),
        [AI_TYPE_Q3_K] = OPS(q3_k, ACT_Q8_256),
        [AI_TYPE_Q4_K] = OPS(q4_k, ACT_Q8_256),
        [AI_TYPE_Q5_K] = OPS(q5_k, ACT_Q8_256),
        [AI_TYPE_Q6_K] = OPS(q6_k, ACT_Q8_256),
        [AI_TYPE_IQ4_XS] = OPS(iq4_xs, ACT_Q8_256),
    },
    ai__ref_axpy_f16,
    {ai__ref_peer_dot_f16, ai__ref_peer_mad_f16, ai__ref_peer_scale_f16, ai__ref_peer_exp,
     ai__ref_peer_swiglu, ai__ref_peer_kq, ai__ref_peer_pv, ai__ref_peer_dot_f16h,
     ai__ref_peer_attn_f16, ai__ref_peer_q4_0, ai__ref_peer_iq4_nl, ai__ref_peer_q4_k, NULL},
    ai__ref_gelu,
    ai__ref_layernorm,
    ai__ref_softmax,
    ai__ref_rope,
    NULL, /* act_ext_bytes: no extra act data */
    NULL, /* act_ext */
    NULL, /* attn_f16_rows: one query at a time */
    NULL, /* attn_f16_rows_scratch */
};
