/* Watch responses: a chunked HTTP body of newline-terminated {"type","object"} events
 * read from a registry watch, ended by timeoutSeconds, a gone client, a compacted start
 * revision (ERROR 410) or server shutdown. */
#ifndef SKIFF_API_WATCH_STREAM_H
#define SKIFF_API_WATCH_STREAM_H

#include <microhttpd.h>
#include <stdbool.h>

#include "api/registry.h"

struct watch_stream_params {
	struct registry *reg;
	const struct resource *res;
	struct registry_watch *watch; /* owned by the stream from now on; NULL: only the 410 event */
	const char *start_rv;         /* the resourceVersion asked for (copied) */
	long long known_rv;           /* a store revision the client will have seen once the
				       * initial events are out (read before the watch began): the
				       * first bookmarks' resourceVersion; 0 = none */
	bool table;                   /* events as one-row Tables */
	bool bookmarks;               /* allowWatchBookmarks */
	int timeout_s;                /* <= 0: until the client leaves */
	int conn_fd;                  /* the client's socket, polled for hang-up; -1 if unknown */
	int stop_fd;                  /* readable at server shutdown */
};

/* The response to queue. NULL with errno set (the watch is then freed). */
struct MHD_Response *watch_stream_response(const struct watch_stream_params *p);

#endif
