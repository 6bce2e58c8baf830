/* The registry tests' shared fixture (see registry_kit.h). */
#include "registry_kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

struct store *kit_store;
struct registry *kit_reg;
struct api_status kit_st;
const struct write_options kit_wo = { .strict = true, .field_manager = "test" };

static char kit_dir[128];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

void kit_rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void kit_open(const struct registry_options *ro)
{
	struct store_options o;
	char path[256];

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	o.durable = false;
	snprintf(path, sizeof(path), "%s/db", kit_dir);
	kit_store = store_open_sqlite(path, &o);
	cr_assert_not_null(kit_store, "store_open_sqlite %s: %s", path, strerror(errno));
	kit_reg = registry_new(kit_store, ro);
	cr_assert_not_null(kit_reg, "registry_new: %s", strerror(errno));
}

void kit_setup(const char *name, const struct registry_options *ro)
{
	snprintf(kit_dir, sizeof(kit_dir), "/tmp/skiff-test-%s-XXXXXX", name);
	cr_assert_not_null(mkdtemp(kit_dir), "mkdtemp: %s", strerror(errno));
	kit_open(ro);
}

void kit_close(void)
{
	registry_free(kit_reg);
	store_close(kit_store);
	kit_reg = NULL;
	kit_store = NULL;
}

void kit_teardown(void)
{
	kit_close();
	api_status_clear(&kit_st);
	kit_rm_tree(kit_dir);
}

json_object *kit_json(const char *s)
{
	const char *err;
	json_object *o = json_parse_buffer(s, strlen(s), &err);

	cr_assert_not_null(o, "bad test JSON (%s): %s", err, s);
	return o;
}

const char *kit_str(json_object *o, const char *path)
{
	const char *v = json_get_string(o, path);

	return v ? v : "";
}

json_object *kit_create(const char *res, const char *ns, const char *body)
{
	_cleanup_json_ json_object *b = kit_json(body);
	json_object *out = NULL;
	int r = registry_create(kit_reg, resource_by_name(res), ns, NULL, NULL, b, &kit_wo, &out, &kit_st);

	cr_assert_eq(r, 0, "create %s: %d %s", body, r, kit_st.message ? kit_st.message : "");
	return out;
}

int kit_create_fails(const char *res, const char *ns, const char *body)
{
	_cleanup_json_ json_object *b = kit_json(body), *out = NULL;
	int r;

	api_status_clear(&kit_st);
	r = registry_create(kit_reg, resource_by_name(res), ns, NULL, NULL, b, &kit_wo, &out, &kit_st);
	cr_assert_lt(r, 0, "create should fail: %s", body);
	cr_assert_null(out);
	return kit_st.code;
}
