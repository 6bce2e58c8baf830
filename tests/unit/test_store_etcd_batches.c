/* Writes that outgrow etcd's txn limits (128 ops, 1.5 MiB) through the registry on a real
 * etcd: the scheduler's batched binds split into txns of store_max_txn_ops, and a write that
 * cannot be split answers 413 RequestEntityTooLarge with nothing written. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/registry_bind.h"
#include "lib/etcd_kit.h"
#include "lib/registry_kit.h"
#include "store/store.h"

#define PODS 300 /* three txns of at most 128 */

static struct etcd_kit etcd;

static void setup(void)
{
	struct store_options o;

	etcd_kit_start(&etcd);
	store_options_init(&o);
	o.compact_interval_seconds = 0;
	kit_store = store_open_etcd(etcd.endpoint, "/skiff", &o);
	cr_assert_not_null(kit_store, "store_open_etcd: %s", strerror(errno));
	kit_reg = registry_new(kit_store, NULL);
	cr_assert_not_null(kit_reg, "registry_new: %s", strerror(errno));
}

static void teardown(void)
{
	kit_close();
	api_status_clear(&kit_st);
	etcd_kit_stop(&etcd);
}

TestSuite(store_etcd_batches, .init = setup, .fini = teardown);

Test(store_etcd_batches, the_limit_is_etcds)
{
	cr_assert_eq(store_max_txn_ops(kit_store), 128);
}

Test(store_etcd_batches, bind_many_splits_into_txns_the_store_takes)
{
	static struct registry_binding b[PODS];
	static char names[PODS][16];
	char body[256];
	int64_t before;

	for (int i = 0; i < PODS; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d", i);
		snprintf(body, sizeof(body), KIT_POD("%s", ""), names[i]);
		json_object_put(kit_create("pods", "default", body));
		b[i] = (struct registry_binding){ "default", names[i], i % 2 ? "n1" : "n2", 1 };
	}
	before = store_revision(kit_store);
	cr_assert_eq(registry_bind_many(kit_reg, b, PODS, &kit_wo), PODS);
	/* Each txn is one revision: 3 for 128 + 128 + 44, not 300 lone binds nor one refused txn. */
	cr_assert_eq(store_revision(kit_store) - before, 3, "revisions %lld -> %lld", (long long)before,
		     (long long)store_revision(kit_store));
	for (int i = 0; i < PODS; i++) {
		_cleanup_json_ json_object *pod = NULL;

		cr_assert_eq(b[i].rc, 0, "%s", names[i]);
		cr_assert_eq(registry_get(kit_reg, kit_res("pods"), "default", names[i], NULL, &pod, &kit_st), 0);
		cr_assert_str_eq(kit_str(pod, "spec.nodeName"), b[i].node, "%s", names[i]);
	}
}

/* 40 pods of 48 KiB: 1.9 MiB in one txn is over etcd's 1.5 MiB, so the batch is written in
 * halves (2 revisions), not pod by pod. */
Test(store_etcd_batches, a_batch_over_the_request_size_is_written_in_halves)
{
	enum { BIG = 40, PAD = 48 << 10 };
	static struct registry_binding b[BIG];
	static char names[BIG][16];
	_cleanup_free_ char *pad = malloc(PAD + 1);
	int64_t before;

	cr_assert_not_null(pad);
	memset(pad, 'x', PAD);
	pad[PAD] = '\0';
	for (int i = 0; i < BIG; i++) {
		_cleanup_json_ json_object *pod = kit_json(KIT_POD("big", "")), *out = NULL;
		json_object *ann = json_object_new_object();

		snprintf(names[i], sizeof(names[i]), "big%d", i);
		json_object_object_add(json_get_path(pod, "metadata"), "name", json_object_new_string(names[i]));
		json_object_object_add(ann, "pad", json_object_new_string(pad));
		json_object_object_add(json_get_path(pod, "metadata"), "annotations", ann);
		cr_assert_eq(registry_create(kit_reg, kit_res("pods"), "default", NULL, NULL, pod, &kit_wo, &out,
					     &kit_st), 0, "%s", kit_st.message ? kit_st.message : "");
		b[i] = (struct registry_binding){ "default", names[i], "n1", 1 };
	}
	before = store_revision(kit_store);
	cr_assert_eq(registry_bind_many(kit_reg, b, BIG, &kit_wo), BIG);
	cr_assert_eq(store_revision(kit_store) - before, 2, "revisions %lld -> %lld", (long long)before,
		     (long long)store_revision(kit_store));
	for (int i = 0; i < BIG; i++)
		cr_assert_eq(b[i].rc, 0, "%s", names[i]);
}

/* A NodePort Service with 130 ports: its create writes the object, a cluster IP and 130
 * node ports in one txn, which etcd cannot take and which cannot be split. */
static json_object *service_with_ports(int n)
{
	json_object *svc = kit_json("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"wide\"},"
				    "\"spec\":{\"type\":\"NodePort\",\"selector\":{\"app\":\"x\"},\"ports\":[]}}");
	json_object *ports = json_get_path(svc, "spec.ports");

	for (int i = 0; i < n; i++) {
		json_object *p = json_object_new_object();
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		json_object_object_add(p, "name", json_object_new_string(name));
		json_object_object_add(p, "port", json_object_new_int(1000 + i));
		json_object_array_add(ports, p);
	}
	return svc;
}

Test(store_etcd_batches, an_unsplittable_write_over_128_ops_is_413_and_writes_nothing)
{
	_cleanup_json_ json_object *svc = service_with_ports(130), *out = NULL, *got = NULL;
	int64_t before = store_revision(kit_store);
	int r;

	r = registry_create(kit_reg, kit_res("services"), "default", NULL, NULL, svc, &kit_wo, &out, &kit_st);
	cr_assert_lt(r, 0);
	cr_assert_eq(kit_st.code, 413, "code %d: %s", kit_st.code, kit_st.message ? kit_st.message : "");
	cr_assert_str_eq(kit_st.reason, "RequestEntityTooLarge");
	cr_assert_null(out);
	cr_assert_eq(store_revision(kit_store), before, "nothing written");
	api_status_clear(&kit_st);
	cr_assert_neq(registry_get(kit_reg, kit_res("services"), "default", "wide", NULL, &got, &kit_st), 0);
	cr_assert_eq(kit_st.code, 404);
	/* The same Service with fewer ports fits and is written whole. */
	json_object_put(out), out = NULL;
	json_object_put(svc);
	svc = service_with_ports(100);
	api_status_clear(&kit_st);
	r = registry_create(kit_reg, kit_res("services"), "default", NULL, NULL, svc, &kit_wo, &out, &kit_st);
	cr_assert_eq(r, 0, "%s", kit_st.message ? kit_st.message : "");
}

Test(store_etcd_batches, an_object_over_etcds_request_size_is_413_and_writes_nothing)
{
	size_t n = 2u << 20;
	_cleanup_free_ char *arg = malloc(n + 1);
	_cleanup_json_ json_object *pod = kit_json(KIT_POD("huge", "")), *out = NULL, *got = NULL;
	json_object *args = json_object_new_array();
	int64_t before = store_revision(kit_store);
	int r;

	cr_assert_not_null(arg);
	memset(arg, 'x', n);
	arg[n] = '\0';
	json_object_array_add(args, json_object_new_string(arg));
	json_object_object_add(json_object_array_get_idx(json_get_path(pod, "spec.containers"), 0), "args", args);
	r = registry_create(kit_reg, kit_res("pods"), "default", NULL, NULL, pod, &kit_wo, &out, &kit_st);
	cr_assert_lt(r, 0);
	cr_assert_eq(kit_st.code, 413, "code %d: %s", kit_st.code, kit_st.message ? kit_st.message : "");
	cr_assert_str_eq(kit_st.reason, "RequestEntityTooLarge");
	cr_assert_eq(store_revision(kit_store), before, "nothing written");
	api_status_clear(&kit_st);
	cr_assert_neq(registry_get(kit_reg, kit_res("pods"), "default", "huge", NULL, &got, &kit_st), 0);
	cr_assert_eq(kit_st.code, 404);
}
