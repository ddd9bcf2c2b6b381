/* version.c - runtime twins of the AI_VERSION_* macros. */
#include "agentinfer.h"

const char *ai_version_string(void) { return AI_VERSION_STRING; }

int32_t ai_version_number(void) { return AI_VERSION_NUMBER; }
