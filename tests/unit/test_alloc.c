/* ClusterIP and NodePort allocation: unique across restarts, released on delete and on
 * type changes, nothing left behind by a failed create. Real SQLite store, small ranges. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/alloc.h"
#include "api/registry.h"
#include "lib/registry_kit.h"

/* Small ranges, so exhaustion and reuse are quick to reach. */
static const struct registry_options small_ranges = {
	.service_cidr = "10.96.0.0/28", .node_port_min = 30000, .node_port_max = 30009,
};

static void setup(void)
{
	kit_setup("alloc", &small_ranges);
}

TestSuite(alloc, .init = setup, .fini = kit_teardown);


#define SVC(name, spec) "{\"metadata\":{\"name\":\"" name "\"},\"spec\":{" spec "}}"

static bool allocated(const char *prefix, const char *value)
{
	char key[128];
	struct store_kv kv = { 0 };
	int r;

	snprintf(key, sizeof(key), "%s%s", prefix, value);
	r = store_get(kit_store, key, &kv);
	store_kv_clear(&kv);
	return r == 0;
}

static size_t n_allocated(void)
{
	size_t n = 0;

	cr_assert_eq(store_count(kit_store, "/registry/ranges/", &n), 0);
	return n;
}

static int node_port(json_object *svc, size_t i)
{
	return json_object_get_int(json_object_object_get(json_object_array_get_idx(json_get_path(svc, "spec.ports"), i),
							  "nodePort"));
}

static void del(const char *name)
{
	struct delete_options d = { .grace_period_seconds = -1 };
	json_object *out = NULL;
	int code = 0;

	cr_assert_eq(registry_delete(kit_reg, kit_res("services"), "default", name, &d, &out, &code, &kit_st), 0, "%s", kit_st.message);
	json_object_put(out);
}

Test(alloc, bad_ranges)
{
	cr_assert_null(alloc_new("10.96.0.0", 30000, 32767));
	cr_assert_null(alloc_new("10.96.0.0/33", 30000, 32767));
	cr_assert_null(alloc_new("nonsense/12", 30000, 32767));
	cr_assert_null(alloc_new("10.96.0.0/12", 32767, 30000));
}

Test(alloc, cluster_ip_in_range_and_unique)
{
	char seen[16][16] = { { 0 } };

	/* A /28 has 14 usable addresses: all of them are handed out, each once. */
	for (int i = 0; i < 14; i++) {
		char body[128];
		_cleanup_json_ json_object *svc = NULL;
		const char *ip;

		snprintf(body, sizeof(body), SVC("s%d", "\"ports\":[{\"port\":80}]"), i);
		svc = kit_create("services", "default", body);
		ip = kit_str(svc, "spec.clusterIP");
		cr_assert(strncmp(ip, "10.96.0.", 8) == 0, "%s", ip);
		cr_assert_neq(strcmp(ip, "10.96.0.0"), 0);
		cr_assert_neq(strcmp(ip, "10.96.0.15"), 0);
		cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(json_get_path(svc, "spec.clusterIPs"), 0)),
				 ip);
		cr_assert(allocated(ALLOC_IP_PREFIX, ip));
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(seen[j], ip, "%s handed out twice", ip);
		snprintf(seen[i], sizeof(seen[i]), "%s", ip);
	}
	cr_assert_eq(kit_create_fails("services", "default", SVC("full", "\"ports\":[{\"port\":80}]")), 500);
	cr_assert(strstr(kit_st.message, "range is full"), "%s", kit_st.message);
	cr_assert_eq(n_allocated(), 14);
}

Test(alloc, requested_ip_conflicts_survive_reopen)
{
	_cleanup_json_ json_object *a = kit_create("services", "default",
					       SVC("a", "\"clusterIP\":\"10.96.0.5\",\"ports\":[{\"port\":80}]"));

	cr_assert_str_eq(kit_str(a, "spec.clusterIP"), "10.96.0.5");
	kit_close();
	kit_open(&small_ranges);
	cr_assert_eq(kit_create_fails("services", "default", SVC("b", "\"clusterIP\":\"10.96.0.5\",\"ports\":[{\"port\":80}]")),
		     422);
	cr_assert_str_eq(kit_st.message, "The Service \"b\" is invalid: spec.clusterIPs: Invalid value: [\"10.96.0.5\"]: failed "
				     "to allocate IP 10.96.0.5: provided IP is already allocated");
	cr_assert_eq(kit_create_fails("services", "default", SVC("c", "\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"port\":80}]")),
		     422);
	cr_assert(strstr(kit_st.message, "is not in the valid range"), "%s", kit_st.message);
	cr_assert_eq(n_allocated(), 1);
}

Test(alloc, headless_and_external_name_hold_nothing)
{
	_cleanup_json_ json_object *h = kit_create("services", "default",
					       SVC("h", "\"clusterIP\":\"None\",\"ports\":[{\"port\":80}]"));
	_cleanup_json_ json_object *e = kit_create("services", "default",
					       SVC("e", "\"type\":\"ExternalName\",\"externalName\":\"example.com\""));

	cr_assert_str_eq(kit_str(h, "spec.clusterIP"), "None");
	cr_assert_eq(n_allocated(), 0);
	del("h");
	del("e");
}

Test(alloc, node_ports)
{
	_cleanup_json_ json_object *a = kit_create(
		"services", "default",
		SVC("np", "\"type\":\"NodePort\",\"ports\":[{\"name\":\"a\",\"port\":80},{\"name\":\"b\",\"port\":81,"
			  "\"nodePort\":30005}]"));
	int p0 = node_port(a, 0);
	char buf[16];

	cr_assert(p0 >= 30000 && p0 <= 30009 && p0 != 30005, "%d", p0);
	cr_assert_eq(node_port(a, 1), 30005);
	snprintf(buf, sizeof(buf), "%d", p0);
	cr_assert(allocated(ALLOC_PORT_PREFIX, buf));
	cr_assert(allocated(ALLOC_PORT_PREFIX, "30005"));
	cr_assert_eq(kit_create_fails("services", "default",
				  SVC("np2", "\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30005}]")),
		     422);
	cr_assert_str_eq(kit_st.message, "The Service \"np2\" is invalid: spec.ports[0].nodePort: Invalid value: 30005: provided "
				     "port is already allocated");
	cr_assert_eq(kit_create_fails("services", "default",
				  SVC("np3", "\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":80}]")),
		     422);
	/* Neither failed create left its ClusterIP behind. */
	cr_assert_eq(n_allocated(), 3);
	del("np");
	cr_assert_eq(n_allocated(), 0);
}

Test(alloc, failed_create_leaves_nothing)
{
	/* A fixed IP for the first, so a random pick can never be the one the second asks for. */
	_cleanup_json_ json_object *a = kit_create("services", "default",
						   SVC("same", "\"clusterIP\":\"10.96.0.3\",\"ports\":[{\"port\":80}]"));

	/* The name is taken: the requested IP must not stay allocated. */
	cr_assert_eq(kit_create_fails("services", "default",
				  SVC("same", "\"clusterIP\":\"10.96.0.9\",\"type\":\"NodePort\",\"ports\":[{\"port\":80}]")),
		     409);
	cr_assert_not(allocated(ALLOC_IP_PREFIX, "10.96.0.9"));
	cr_assert_eq(n_allocated(), 1);
}

Test(alloc, update_keeps_and_releases)
{
	_cleanup_json_ json_object *a = kit_create("services", "default",
					       SVC("u", "\"type\":\"NodePort\",\"ports\":[{\"port\":80}]"));
	_cleanup_json_ json_object *b1 = NULL, *out1 = NULL, *b2 = NULL, *out2 = NULL, *b3 = NULL, *out3 = NULL;
	bool created = false;
	int np = node_port(a, 0);

	/* An update that leaves clusterIP and nodePort out keeps both (kubectl replace / apply). */
	b1 = kit_json(SVC("u", "\"type\":\"NodePort\",\"ports\":[{\"port\":80}]"));
	cr_assert_eq(registry_update(kit_reg, kit_res("services"), "default", "u", NULL, b1, &kit_wo, &out1, &created, &kit_st), 0, "%s",
		     kit_st.message);
	cr_assert_str_eq(kit_str(out1, "spec.clusterIP"), kit_str(a, "spec.clusterIP"));
	cr_assert_eq(node_port(out1, 0), np);
	cr_assert_eq(n_allocated(), 2);
	/* NodePort → ClusterIP releases the port. */
	b2 = kit_json(SVC("u", "\"type\":\"ClusterIP\",\"ports\":[{\"port\":80}]"));
	cr_assert_eq(registry_update(kit_reg, kit_res("services"), "default", "u", NULL, b2, &kit_wo, &out2, &created, &kit_st), 0, "%s",
		     kit_st.message);
	cr_assert_eq(n_allocated(), 1);
	cr_assert(allocated(ALLOC_IP_PREFIX, kit_str(a, "spec.clusterIP")));
	/* And back: a new port is allocated. */
	b3 = kit_json(SVC("u", "\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30009}]"));
	cr_assert_eq(registry_update(kit_reg, kit_res("services"), "default", "u", NULL, b3, &kit_wo, &out3, &created, &kit_st), 0, "%s",
		     kit_st.message);
	cr_assert(allocated(ALLOC_PORT_PREFIX, "30009"));
	cr_assert_eq(n_allocated(), 2);
}

Test(alloc, release_on_delete_makes_ip_available)
{
	_cleanup_json_ json_object *a = kit_create("services", "default",
					       SVC("r", "\"clusterIP\":\"10.96.0.7\",\"ports\":[{\"port\":80}]"));
	_cleanup_json_ json_object *b = NULL;

	del("r");
	cr_assert_not(allocated(ALLOC_IP_PREFIX, "10.96.0.7"));
	b = kit_create("services", "default", SVC("r2", "\"clusterIP\":\"10.96.0.7\",\"ports\":[{\"port\":80}]"));
	cr_assert_str_eq(kit_str(b, "spec.clusterIP"), "10.96.0.7");
}

struct racer {
	int id;
	int failures;
};

static void *race(void *arg)
{
	struct racer *rc = arg;
	struct api_status local = { 0 };

	for (int i = 0; i < 4; i++) {
		char body[128];
		json_object *b, *out = NULL;

		snprintf(body, sizeof(body), SVC("race-%d-%d", "\"ports\":[{\"port\":80}]"), rc->id, i);
		b = kit_json(body);
		if (registry_create(kit_reg, kit_res("services"), "default", NULL, NULL, b, &kit_wo, &out, &local) < 0)
			rc->failures++;
		api_status_clear(&local);
		json_object_put(out);
		json_object_put(b);
	}
	return NULL;
}

Test(alloc, concurrent_creates_never_share_an_ip)
{
	struct racer rs[2] = { { .id = 0 }, { .id = 1 } };
	pthread_t t[2];
	_cleanup_json_ json_object *l = NULL;
	struct list_options lo = { 0 };
	json_object *items;

	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, race, &rs[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(rs[0].failures + rs[1].failures, 0);
	cr_assert_eq(registry_list(kit_reg, kit_res("services"), "default", &lo, &l, &kit_st), 0);
	items = json_get_path(l, "items");
	cr_assert_eq(json_object_array_length(items), 8);
	for (size_t i = 0; i < 8; i++)
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(kit_str(json_object_array_get_idx(items, i), "spec.clusterIP"),
					  kit_str(json_object_array_get_idx(items, j), "spec.clusterIP"));
	cr_assert_eq(n_allocated(), 8);
}
