/* The dual-backend store tests' shared fixture (see store_kit.h). */
#include "store_kit.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

bool store_kit_on_etcd;
char store_kit_dbpath[128];
struct etcd_kit store_kit_etcd;

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void store_kit_setup(void)
{
	strcpy(dir, "/tmp/skiff-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(store_kit_dbpath, sizeof(store_kit_dbpath), "%s/store.db", dir);
}

void store_kit_setup_etcd(void)
{
	store_kit_on_etcd = true;
	store_kit_setup();
	etcd_kit_start(&store_kit_etcd);
}

void store_kit_teardown(void)
{
	if (store_kit_on_etcd)
		etcd_kit_stop(&store_kit_etcd);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

struct store *store_kit_open(const struct store_options *o)
{
	struct store *s = store_kit_on_etcd ? store_open_etcd(store_kit_etcd.endpoint, "/skiff", o)
					    : store_open_sqlite(store_kit_dbpath, o);

	cr_assert_not_null(s, "open %s: %s", store_kit_on_etcd ? store_kit_etcd.endpoint : store_kit_dbpath,
			   strerror(errno));
	return s;
}
