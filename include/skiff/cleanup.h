/* Scope-bound cleanup helpers (__attribute__((cleanup))) and explicit hand-over. */
#ifndef SKIFF_CLEANUP_H
#define SKIFF_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hands a pointer or fd over to the caller: the cleanup attribute then sees NULL / -1. */
#define TAKE_PTR(p)                          \
	({                                   \
		__typeof__(p) _take_ = (p);  \
		(p) = NULL;                  \
		_take_;                      \
	})
#define TAKE_FD(fd)                  \
	({                           \
		int _take_ = (fd);   \
		(fd) = -1;           \
		_take_;              \
	})

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
