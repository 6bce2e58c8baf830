/* The controllers' event recorder keeps client-go's spam filter: 25 events per source and
 * involved object, then one per 5 minutes; another object, or another source, has its own. */
#include "test_ctrl_harness.h"

#include "controllers/events.h"

static void store_only(void)
{
	open_store();
}

static void store_teardown(void)
{
	registry_free(reg);
	store_close(db);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	strcpy(dir, "/tmp/skiff-test-ctrl-XXXXXX");
}

Test(ctrl_events, spam_filter_per_object, .init = store_only, .fini = store_teardown)
{
	_cleanup_json_ json_object *a = J("{\"kind\":\"ReplicationController\",\"apiVersion\":\"v1\","
					  "\"metadata\":{\"name\":\"a\",\"namespace\":\"default\",\"uid\":\"uid-a\"}}");
	_cleanup_json_ json_object *b = J("{\"kind\":\"ReplicationController\",\"apiVersion\":\"v1\","
					  "\"metadata\":{\"name\":\"b\",\"namespace\":\"default\",\"uid\":\"uid-b\"}}");

	for (int i = 0; i < 40; i++)
		event_record(reg, a, "replication-controller", EVENT_NORMAL, "SuccessfulCreate", "Created pod: a-%d", i);
	cr_expect_eq(events_with("default", "SuccessfulCreate", "Created pod: a-"), 25, "object a: 25 of 40 recorded");
	for (int i = 0; i < 3; i++)
		event_record(reg, b, "replication-controller", EVENT_NORMAL, "SuccessfulCreate", "Created pod: b-%d", i);
	cr_expect_eq(events_with("default", "SuccessfulCreate", "Created pod: b-"), 3, "object b has its own budget");
	event_record(reg, a, "other-component", EVENT_NORMAL, "Other", "from another source");
	cr_expect_eq(events_with("default", "Other", "from another source"), 1, "another source has its own budget");
}
