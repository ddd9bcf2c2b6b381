/*
 * types.h - traits of the GGUF tensor element types: name, elements per block
 * and bytes per block.  Used by the loader (sizes, validation), the kernels
 * and the quantizer.
 */
#ifndef AI_TYPES_H
#define AI_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef struct ai__type_traits {
    const char *name;    /* lower-case, as in GGUF tools ("q4_k") */
    uint32_t block_size; /* elements per block (1 for plain types) */
    uint32_t type_size;  /* bytes per block */
} ai__type_traits;

/* Number of slots in the traits table (type ids are below this). */
#define AI__TYPE_COUNT 40

/* Traits of a type id, or NULL for an id the format does not define (the
 * removed ids 4, 5, 31-33, 36-38 included). */
const ai__type_traits *ai__type_get(uint32_t type);

/* Bytes of a row of n elements; 0 if n is not a multiple of the block size
 * or the type is unknown. */
size_t ai__row_size(uint32_t type, int64_t n);

#endif /* AI_TYPES_H */
