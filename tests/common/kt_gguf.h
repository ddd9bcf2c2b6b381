/*
 * kt_gguf.h - a minimal GGUF reader for the kernel tests: finds one tensor in
 * a small well-formed file (the fixtures under quants/).  It checks bounds so
 * a damaged fixture fails the test instead of crashing it, but it is not the
 * library's loader (lib/gguf.c) and validates far less.
 */
#ifndef AI_KT_GGUF_H
#define AI_KT_GGUF_H

#include <stddef.h>
#include <stdint.h>

/* Finds tensor `name` in the GGUF image buf[size]; returns 0 and sets type,
 * dims (ne[0] fastest) and a pointer to its data, or -1. */
int kt_gguf_tensor(const uint8_t *buf, size_t size, const char *name, uint32_t *type,
                   int64_t ne[4], const uint8_t **data);

#endif
