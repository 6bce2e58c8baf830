/* The event table: LAST SEEN (series, lastTimestamp, firstTimestamp or eventTime), TYPE,
 * REASON, OBJECT ("pod/web"), MESSAGE, and the wide source, first-seen and count columns. */
#include "api/table.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

static bool has_time(json_object *ev, const char *path)
{
	const char *s = json_get_string(ev, path);

	return s && *s;
}

static void event_times(json_object *ev, time_t now, char *last, char *first, size_t len)
{
	if (has_time(ev, "firstTimestamp"))
		table_age_at(ev, "firstTimestamp", now, first, len);
	else
		table_age_at(ev, "eventTime", now, first, len);
	if (json_object_object_get(ev, "series"))
		table_age_at(ev, "series.lastObservedTime", now, last, len);
	else if (has_time(ev, "lastTimestamp"))
		table_age_at(ev, "lastTimestamp", now, last, len);
	else
		snprintf(last, len, "%s", first);
}

static int64_t event_count(json_object *ev)
{
	int64_t count = table_get_int(ev, "count");

	if (json_object_object_get(ev, "series"))
		return table_get_int(ev, "series.count");
	/* Singleton events of the new API carry no count. */
	return count ? count : 1;
}

static const char *first_non_empty(const char *a, const char *b)
{
	return a && *a ? a : b && *b ? b : "";
}

static char *event_target(json_object *ev)
{
	const char *kind = json_get_string(ev, "involvedObject.kind");
	const char *name = json_get_string(ev, "involvedObject.name");
	char *out = NULL;

	if (asprintf(&out, "%s%s%s", kind ? kind : "", name && *name ? "/" : "", name && *name ? name : "") < 0)
		return NULL;
	for (char *p = out; *p && *p != '/'; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

static char *event_source(json_object *ev)
{
	const char *comp = first_non_empty(json_get_string(ev, "source.component"),
					   json_get_string(ev, "reportingComponent"));
	const char *inst = first_non_empty(json_get_string(ev, "source.host"), json_get_string(ev, "reportingInstance"));
	char *out = NULL;

	if (asprintf(&out, "%s%s%s", comp, *inst ? ", " : "", inst) < 0)
		return NULL;
	return out;
}

/* strings.TrimSpace of the message. */
static char *trimmed(const char *s)
{
	size_t len;

	if (!s)
		s = "";
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return strndup(s, len);
}

static int event_cells(json_object *ev, time_t now, json_object *cells)
{
	_cleanup_free_ char *target = event_target(ev), *source = event_source(ev);
	_cleanup_free_ char *msg = trimmed(json_get_string(ev, "message"));
	char last[32], first[32];

	if (!target || !source || !msg)
		return -ENOMEM;
	event_times(ev, now, last, first, sizeof(last));
	if (table_add_str(cells, last) < 0 || table_add_str(cells, json_get_string(ev, "type")) < 0 ||
	    table_add_str(cells, json_get_string(ev, "reason")) < 0 || table_add_str(cells, target) < 0 ||
	    table_add_str(cells, json_get_string(ev, "involvedObject.fieldPath")) < 0 ||
	    table_add_str(cells, source) < 0 || table_add_str(cells, msg) < 0 || table_add_str(cells, first) < 0 ||
	    table_add_int(cells, event_count(ev)) < 0 || table_add_str(cells, json_get_string(ev, "metadata.name")) < 0)
		return -ENOMEM;
	return 0;
}

static const struct table_column event_columns[] = {
	{ "Last Seen", "string", "", "The time at which the most recent occurrence of this event was recorded.", 0 },
	{ "Type", "string", "", "Type of this event (Normal, Warning), new types could be added in the future", 0 },
	{ "Reason", "string", "",
	  "This should be a short, machine understandable string that gives the reason for the transition into "
	  "the object's current status.",
	  0 },
	{ "Object", "string", "", "The object that this event is about.", 0 },
	{ "Subobject", "string", "",
	  "If referring to a piece of an object instead of an entire object, this string should contain a valid "
	  "JSON/Go field access statement, such as desiredState.manifest.containers[2].",
	  1 },
	{ "Source", "string", "",
	  "The component reporting this event. Should be a short machine understandable string.", 1 },
	{ "Message", "string", "", "A human-readable description of the status of this operation.", 0 },
	{ "First Seen", "string", "",
	  "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1 },
	{ "Count", "string", "", "The number of times this event has occurred.", 1 },
	{ "Name", "string", "name", TABLE_DOC_NAME, 1 },
};

const struct table_kind table_kind_events = { "events", event_columns, sizeof(event_columns) / sizeof(event_columns[0]),
					      event_cells };
