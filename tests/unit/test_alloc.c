/* ClusterIP and NodePort allocation: unique across restarts, released on delete and on
 * type changes, nothing left behind by a failed create. Real SQLite store, small ranges. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/alloc.h"
#include "api/registry.h"

static char dir[] = "/tmp/skiff-test-alloc-XXXXXX";
static struct store *st_store;
static struct registry *reg;
static struct api_status st;
static const struct write_options wo = { .strict = true, .field_manager = "test" };

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void open_all(void)
{
	struct registry_options ro = { .service_cidr = "10.96.0.0/28", .node_port_min = 30000, .node_port_max = 30009 };
	struct store_options o;
	char path[128];

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	o.durable = false;
	snprintf(path, sizeof(path), "%s/db", dir);
	st_store = store_open_sqlite(path, &o);
	cr_assert_not_null(st_store);
	reg = registry_new(st_store, &ro);
	cr_assert_not_null(reg, "registry_new: %s", strerror(errno));
}

static void close_all(void)
{
	registry_free(reg);
	store_close(st_store);
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	open_all();
}

static void teardown(void)
{
	close_all();
	api_status_clear(&st);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	strcpy(dir, "/tmp/skiff-test-alloc-XXXXXX");
}

TestSuite(alloc, .init = setup, .fini = teardown);

static const struct resource *R(const char *name)
{
	return resource_by_name(name);
}

static json_object *J(const char *s)
{
	const char *err;
	json_object *o = json_parse_buffer(s, strlen(s), &err);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

static const char *S(json_object *o, const char *path)
{
	const char *v = json_get_string(o, path);

	return v ? v : "";
}

#define POD(name, labels)                                                                                     \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"labels\":{" labels "}},"     \
	"\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"

static json_object *create(const char *res, const char *ns, const char *body)
{
	_cleanup_json_ json_object *b = J(body);
	json_object *out = NULL;
	int r = registry_create(reg, R(res), ns, NULL, NULL, b, &wo, &out, &st);

	cr_assert_eq(r, 0, "create %s: %d %s", body, r, st.message ? st.message : "");
	return out;
}

static int create_fails(const char *res, const char *ns, const char *body)
{
	_cleanup_json_ json_object *b = J(body), *out = NULL;
	int r;

	api_status_clear(&st);
	r = registry_create(reg, R(res), ns, NULL, NULL, b, &wo, &out, &st);
	cr_assert_lt(r, 0, "create should fail: %s", body);
	cr_assert_null(out);
	return st.code;
}


#define SVC(name, spec) "{\"metadata\":{\"name\":\"" name "\"},\"spec\":{" spec "}}"

static bool allocated(const char *prefix, const char *value)
{
	char key[128];
	struct store_kv kv = { 0 };
	int r;

	snprintf(key, sizeof(key), "%s%s", prefix, value);
	r = store_get(st_store, key, &kv);
	store_kv_clear(&kv);
	return r == 0;
}

static size_t n_allocated(void)
{
	size_t n = 0;

	cr_assert_eq(store_count(st_store, "/registry/ranges/", &n), 0);
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

	cr_assert_eq(registry_delete(reg, R("services"), "default", name, &d, &out, &code, &st), 0, "%s", st.message);
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
		svc = create("services", "default", body);
		ip = S(svc, "spec.clusterIP");
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
	cr_assert_eq(create_fails("services", "default", SVC("full", "\"ports\":[{\"port\":80}]")), 500);
	cr_assert(strstr(st.message, "range is full"), "%s", st.message);
	cr_assert_eq(n_allocated(), 14);
}

Test(alloc, requested_ip_conflicts_survive_reopen)
{
	_cleanup_json_ json_object *a = create("services", "default",
					       SVC("a", "\"clusterIP\":\"10.96.0.5\",\"ports\":[{\"port\":80}]"));

	cr_assert_str_eq(S(a, "spec.clusterIP"), "10.96.0.5");
	close_all();
	open_all();
	cr_assert_eq(create_fails("services", "default", SVC("b", "\"clusterIP\":\"10.96.0.5\",\"ports\":[{\"port\":80}]")),
		     422);
	cr_assert_str_eq(st.message, "The Service \"b\" is invalid: spec.clusterIPs: Invalid value: [\"10.96.0.5\"]: failed "
				     "to allocate IP 10.96.0.5: provided IP is already allocated");
	cr_assert_eq(create_fails("services", "default", SVC("c", "\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"port\":80}]")),
		     422);
	cr_assert(strstr(st.message, "is not in the valid range"), "%s", st.message);
	cr_assert_eq(n_allocated(), 1);
}

Test(alloc, headless_and_external_name_hold_nothing)
{
	_cleanup_json_ json_object *h = create("services", "default",
					       SVC("h", "\"clusterIP\":\"None\",\"ports\":[{\"port\":80}]"));
	_cleanup_json_ json_object *e = create("services", "default",
					       SVC("e", "\"type\":\"ExternalName\",\"externalName\":\"example.com\""));

	cr_assert_str_eq(S(h, "spec.clusterIP"), "None");
	cr_assert_eq(n_allocated(), 0);
	del("h");
	del("e");
}

Test(alloc, node_ports)
{
	_cleanup_json_ json_object *a = create(
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
	cr_assert_eq(create_fails("services", "default",
				  SVC("np2", "\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30005}]")),
		     422);
	cr_assert_str_eq(st.message, "The Service \"np2\" is invalid: spec.ports[0].nodePort: Invalid value: 30005: provided "
				     "port is already allocated");
	cr_assert_eq(create_fails("services", "default",
				  SVC("np3", "\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":80}]")),
		     422);
	/* Neither failed create left its ClusterIP behind. */
	cr_assert_eq(n_allocated(), 3);
	del("np");
	cr_assert_eq(n_allocated(), 0);
}

Test(alloc, failed_create_leaves_nothing)
{
	_cleanup_json_ json_object *a = create("services", "default", SVC("same", "\"ports\":[{\"port\":80}]"));

	/* The name is taken: the requested IP must not stay allocated. */
	cr_assert_eq(create_fails("services", "default",
				  SVC("same", "\"clusterIP\":\"10.96.0.9\",\"type\":\"NodePort\",\"ports\":[{\"port\":80}]")),
		     409);
	cr_assert_not(allocated(ALLOC_IP_PREFIX, "10.96.0.9"));
	cr_assert_eq(n_allocated(), 1);
}

Test(alloc, update_keeps_and_releases)
{
	_cleanup_json_ json_object *a = create("services", "default",
					       SVC("u", "\"type\":\"NodePort\",\"ports\":[{\"port\":80}]"));
	_cleanup_json_ json_object *b1 = NULL, *out1 = NULL, *b2 = NULL, *out2 = NULL, *b3 = NULL, *out3 = NULL;
	bool created = false;
	int np = node_port(a, 0);

	/* An update that leaves clusterIP and nodePort out keeps both (kubectl replace / apply). */
	b1 = J(SVC("u", "\"type\":\"NodePort\",\"ports\":[{\"port\":80}]"));
	cr_assert_eq(registry_update(reg, R("services"), "default", "u", NULL, b1, &wo, &out1, &created, &st), 0, "%s",
		     st.message);
	cr_assert_str_eq(S(out1, "spec.clusterIP"), S(a, "spec.clusterIP"));
	cr_assert_eq(node_port(out1, 0), np);
	cr_assert_eq(n_allocated(), 2);
	/* NodePort → ClusterIP releases the port. */
	b2 = J(SVC("u", "\"type\":\"ClusterIP\",\"ports\":[{\"port\":80}]"));
	cr_assert_eq(registry_update(reg, R("services"), "default", "u", NULL, b2, &wo, &out2, &created, &st), 0, "%s",
		     st.message);
	cr_assert_eq(n_allocated(), 1);
	cr_assert(allocated(ALLOC_IP_PREFIX, S(a, "spec.clusterIP")));
	/* And back: a new port is allocated. */
	b3 = J(SVC("u", "\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30009}]"));
	cr_assert_eq(registry_update(reg, R("services"), "default", "u", NULL, b3, &wo, &out3, &created, &st), 0, "%s",
		     st.message);
	cr_assert(allocated(ALLOC_PORT_PREFIX, "30009"));
	cr_assert_eq(n_allocated(), 2);
}

Test(alloc, release_on_delete_makes_ip_available)
{
	_cleanup_json_ json_object *a = create("services", "default",
					       SVC("r", "\"clusterIP\":\"10.96.0.7\",\"ports\":[{\"port\":80}]"));
	_cleanup_json_ json_object *b = NULL;

	del("r");
	cr_assert_not(allocated(ALLOC_IP_PREFIX, "10.96.0.7"));
	b = create("services", "default", SVC("r2", "\"clusterIP\":\"10.96.0.7\",\"ports\":[{\"port\":80}]"));
	cr_assert_str_eq(S(b, "spec.clusterIP"), "10.96.0.7");
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
		b = J(body);
		if (registry_create(reg, R("services"), "default", NULL, NULL, b, &wo, &out, &local) < 0)
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
	cr_assert_eq(registry_list(reg, R("services"), "default", &lo, &l, &st), 0);
	items = json_get_path(l, "items");
	cr_assert_eq(json_object_array_length(items), 8);
	for (size_t i = 0; i < 8; i++)
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(S(json_object_array_get_idx(items, i), "spec.clusterIP"),
					  S(json_object_array_get_idx(items, j), "spec.clusterIP"));
	cr_assert_eq(n_allocated(), 8);
}
