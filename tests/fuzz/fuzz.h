/* Shared by the libFuzzer harnesses: the input as a NUL-terminated string. */
#ifndef SKIFF_FUZZ_H
#define SKIFF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Inputs past this are not interesting: the API refuses bodies over 3 MiB anyway. */
#define FUZZ_MAX_INPUT (256 * 1024)

static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
