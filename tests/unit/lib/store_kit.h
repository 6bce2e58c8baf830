/* Shared fixture of the store tests that run on both backends: each test's body runs once in
 * SUITE (SQLite in a temp dir) and once in SUITE_on_etcd (a real etcd-server of its own). */
#ifndef SKIFF_TEST_STORE_KIT_H
#define SKIFF_TEST_STORE_KIT_H

#include <criterion/criterion.h>
#include <stdbool.h>

#include "etcd_kit.h"
#include "store/store.h"

extern bool store_kit_on_etcd;
extern char store_kit_dbpath[128]; /* the SQLite file (both backends get the temp dir) */
extern struct etcd_kit store_kit_etcd;

void store_kit_setup(void);      /* SQLite */
void store_kit_setup_etcd(void); /* etcd */
void store_kit_teardown(void);
/* Opens the test's backend (etcd: under /skiff); fails the test if it cannot. */
struct store *store_kit_open(const struct store_options *o);

/* The two suites of a file: TestSuite(suite) and TestSuite(suite_on_etcd). */
#define STORE_KIT_SUITES(suite)                                                     \
	TestSuite(suite, .init = store_kit_setup, .fini = store_kit_teardown); \
	TestSuite(suite##_on_etcd, .init = store_kit_setup_etcd, .fini = store_kit_teardown)

/* A test run on both backends: its body once in each suite. */
#define STORE_KIT_TEST(suite, name)      \
	static void name##_body(void);   \
	Test(suite, name)                \
	{                                \
		name##_body();           \
	}                                \
	Test(suite##_on_etcd, name)      \
	{                                \
		name##_body();           \
	}                                \
	static void name##_body(void)

#endif
