/* The authorizer's rules: admin may do anything; a node identity reads what an agent needs and
 * writes only its own Node, Lease, bound pods' status and deletion, and Events. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/authz.h"
#include "api/resources.h"

static const struct auth_identity admin = { "kubernetes-admin", { "system:masters", "system:authenticated" }, 2, NULL, NULL };
static const struct auth_identity n1 = { "system:node:n1", { "system:nodes", "system:authenticated" }, 2, "n1", NULL };
static const struct auth_identity stranger = { "someone", { "system:authenticated" }, 1, NULL, NULL };

/* Pods p-mine on n1, p-other on n2, p-free unbound. */
static int pod_node(void *ud, const char *ns, const char *name, char **ret)
{
	(void)ud;
	(void)ns;
	*ret = NULL;
	if (strcmp(name, "p-mine") == 0)
		*ret = strdup("n1");
	else if (strcmp(name, "p-other") == 0)
		*ret = strdup("n2");
	else if (strcmp(name, "p-free") != 0)
		return -ENOENT;
	return 0;
}

static int check(const struct auth_identity *who, const char *res, enum route_verb verb, const char *ns,
		 const char *name, const char *sub, const char *body, struct api_status *st)
{
	struct route rt = { .kind = ROUTE_RESOURCE, .verb = verb, .res = resource_by_name(res), .ns = ns,
			    .name = name, .sub = sub };
	struct authz_input in = { body, body ? strlen(body) : 0, NULL, pod_node };

	cr_assert_not_null(rt.res, "%s", res);
	return authz_check(who, &rt, &in, st);
}

static int allowed(const struct auth_identity *who, const char *res, enum route_verb verb, const char *ns,
		   const char *name, const char *sub, const char *body)
{
	struct api_status st = { 0 };
	int r = check(who, res, verb, ns, name, sub, body, &st);

	api_status_clear(&st);
	return r == 0;
}

Test(authz, admin_everything)
{
	cr_assert(allowed(&admin, "replicationcontrollers", VERB_DELETE_COLLECTION, "default", NULL, NULL, NULL));
	cr_assert(allowed(&admin, "nodes", VERB_DELETE, NULL, "n2", NULL, NULL));
}

Test(authz, stranger_nothing_but_documents)
{
	struct route disc = { .kind = ROUTE_API_V1, .verb = VERB_GET };
	struct api_status st = { 0 };

	cr_assert_eq(authz_check(&stranger, &disc, NULL, &st), 0);
	cr_assert_not(allowed(&stranger, "pods", VERB_LIST, NULL, NULL, NULL, NULL));
}

Test(authz, node_reads)
{
	const char *readable[] = { "nodes", "pods", "services", "endpoints", "namespaces", "leases" };

	for (size_t i = 0; i < sizeof(readable) / sizeof(readable[0]); i++) {
		cr_assert(allowed(&n1, readable[i], VERB_LIST, NULL, NULL, NULL, NULL), "%s", readable[i]);
		cr_assert(allowed(&n1, readable[i], VERB_WATCH, NULL, NULL, NULL, NULL), "%s", readable[i]);
	}
	cr_assert_not(allowed(&n1, "replicationcontrollers", VERB_LIST, NULL, NULL, NULL, NULL));
	cr_assert_not(allowed(&n1, "pods", VERB_GET, "default", "p-mine", "log", NULL));
}

Test(authz, node_own_node_and_lease)
{
	cr_assert(allowed(&n1, "nodes", VERB_CREATE, NULL, NULL, NULL, "{\"metadata\":{\"name\":\"n1\"}}"));
	cr_assert_not(allowed(&n1, "nodes", VERB_CREATE, NULL, NULL, NULL, "{\"metadata\":{\"name\":\"n2\"}}"));
	cr_assert_not(allowed(&n1, "nodes", VERB_CREATE, NULL, NULL, NULL, "not json"));
	cr_assert(allowed(&n1, "nodes", VERB_PATCH, NULL, "n1", "status", NULL));
	cr_assert(allowed(&n1, "nodes", VERB_UPDATE, NULL, "n1", NULL, NULL));
	cr_assert_not(allowed(&n1, "nodes", VERB_PATCH, NULL, "n2", "status", NULL));
	cr_assert_not(allowed(&n1, "nodes", VERB_DELETE, NULL, "n1", NULL, NULL));
	cr_assert(allowed(&n1, "leases", VERB_UPDATE, "kube-node-lease", "n1", NULL, NULL));
	cr_assert(allowed(&n1, "leases", VERB_CREATE, "kube-node-lease", NULL, NULL, "{\"metadata\":{\"name\":\"n1\"}}"));
	cr_assert_not(allowed(&n1, "leases", VERB_UPDATE, "kube-node-lease", "n2", NULL, NULL));
	cr_assert_not(allowed(&n1, "leases", VERB_UPDATE, "default", "n1", NULL, NULL));
}

Test(authz, node_bound_pods_only)
{
	cr_assert(allowed(&n1, "pods", VERB_PATCH, "default", "p-mine", "status", NULL));
	cr_assert(allowed(&n1, "pods", VERB_DELETE, "default", "p-mine", NULL, NULL));
	cr_assert_not(allowed(&n1, "pods", VERB_PATCH, "default", "p-other", "status", NULL));
	cr_assert_not(allowed(&n1, "pods", VERB_DELETE, "default", "p-other", NULL, NULL));
	cr_assert_not(allowed(&n1, "pods", VERB_DELETE, "default", "p-free", NULL, NULL));
	cr_assert_not(allowed(&n1, "pods", VERB_DELETE, "default", "p-gone", NULL, NULL));
	cr_assert_not(allowed(&n1, "pods", VERB_PATCH, "default", "p-mine", NULL, NULL));
	cr_assert_not(allowed(&n1, "pods", VERB_CREATE, "default", NULL, NULL, "{\"metadata\":{\"name\":\"n1\"}}"));
	cr_assert_not(allowed(&n1, "pods", VERB_CREATE, "default", "p-mine", "binding", NULL));
}

Test(authz, node_events)
{
	cr_assert(allowed(&n1, "events", VERB_CREATE, "default", NULL, NULL, NULL));
	cr_assert(allowed(&n1, "events", VERB_PATCH, "default", "e1", NULL, NULL));
	cr_assert_not(allowed(&n1, "events", VERB_DELETE, "default", "e1", NULL, NULL));
}

Test(authz, forbidden_status_words)
{
	struct api_status st = { 0 };

	cr_assert_eq(check(&n1, "nodes", VERB_PATCH, NULL, "n2", NULL, NULL, &st), -EACCES);
	cr_assert_eq(st.code, 403);
	cr_assert_str_eq(st.reason, "Forbidden");
	cr_assert_str_eq(st.message, "nodes \"n2\" is forbidden: User \"system:node:n1\" cannot patch resource \"nodes\" "
				     "in API group \"\" at the cluster scope");
	api_status_clear(&st);
	cr_assert_eq(check(&n1, "services", VERB_CREATE, "default", NULL, NULL, NULL, &st), -EACCES);
	cr_assert_str_eq(st.message, "services is forbidden: User \"system:node:n1\" cannot create resource \"services\" "
				     "in API group \"\" in the namespace \"default\"");
	api_status_clear(&st);
	cr_assert_eq(check(&n1, "pods", VERB_PATCH, "default", "p-other", "status", NULL, &st), -EACCES);
	cr_assert_str_eq(st.message, "pods \"p-other\" is forbidden: User \"system:node:n1\" cannot patch resource "
				     "\"pods/status\" in API group \"\" in the namespace \"default\"");
	api_status_clear(&st);
}
