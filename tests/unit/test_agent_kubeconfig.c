/* kubeconfig parsing: current context, inline and file CA, token and tokenFile, several servers,
 * errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/kubeconfig.h"

/* "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n" in base64 */
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClRFU1QKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
#define CA_PEM "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n"

static const char two_contexts[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"clusters:\n"
	"- name: other\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443\n"
	"- name: skiff\n"
	"  cluster:\n"
	"    server: https://127.0.0.1:6443\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    token: s3cret\n"
	"- name: nobody\n"
	"  user: {}\n"
	"contexts:\n"
	"- name: a\n"
	"  context: {cluster: other, user: nobody}\n"
	"- name: b\n"
	"  context: {cluster: skiff, user: admin}\n"
	"current-context: b\n";

Test(agent_kubeconfig, current_context_picks_cluster_and_user)
{
	struct kubeconfig k = { 0 };
	char *err = NULL;

	cr_assert_eq(kubeconfig_parse(two_contexts, strlen(two_contexts), NULL, &k, &err), 0, "%s", err);
	cr_assert_str_eq(k.server, "https://127.0.0.1:6443");
	cr_assert_str_eq(k.ca_pem, CA_PEM);
	cr_assert_str_eq(k.token, "s3cret");
	kubeconfig_done(&k);
}

Test(agent_kubeconfig, other_context_has_no_ca_and_no_token)
{
	char *text = strdup(two_contexts);
	struct kubeconfig k = { 0 };
	char *err = NULL;

	*strstr(text, "current-context: b") = '\0';
	strcat(text, "current-context: a\n");
	cr_assert_eq(kubeconfig_parse(text, strlen(text), NULL, &k, &err), 0, "%s", err);
	cr_assert_str_eq(k.server, "https://10.0.0.1:6443");
	cr_assert_null(k.ca_pem);
	cr_assert_null(k.token);
	kubeconfig_done(&k);
	free(text);
}

Test(agent_kubeconfig, files_relative_to_the_kubeconfig)
{
	char dir[] = "/tmp/skiff-test-kubeconfig-XXXXXX", path[128];
	struct kubeconfig k = { 0 };
	char *err = NULL;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	f = fopen(path, "w");
	fputs(CA_PEM, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/token", dir);
	f = fopen(path, "w");
	fputs("file-token\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/kubeconfig", dir);
	f = fopen(path, "w");
	fputs("clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1', certificate-authority: ca.crt}\n"
	      "users:\n- name: u\n  user: {tokenFile: token}\n"
	      "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
	      f);
	fclose(f);
	cr_assert_eq(kubeconfig_load(path, &k, &err), 0, "%s", err);
	cr_assert_str_eq(k.ca_pem, CA_PEM);
	cr_assert_str_eq(k.token, "file-token", "the newline is not part of the token");
	kubeconfig_done(&k);
	unlink(path);
	snprintf(path, sizeof(path), "%s/token", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	unlink(path);
	rmdir(dir);
}

static void expect_error(const char *text, const char *needle)
{
	struct kubeconfig k = { 0 };
	char *err = NULL;

	cr_assert_eq(kubeconfig_parse(text, strlen(text), NULL, &k, &err), -EINVAL);
	cr_assert_not_null(err);
	cr_assert_not_null(strstr(err, needle), "expected \"%s\" in: %s", needle, err);
	cr_assert_null(k.server, "nothing is filled on failure");
	free(err);
}

Test(agent_kubeconfig, errors_say_what_is_missing)
{
	expect_error("current-context: nope\ncontexts: []\n", "context \"nope\" not found");
	expect_error("contexts:\n- name: x\n  context: {cluster: gone}\ncurrent-context: x\n",
		     "cluster \"gone\" not found");
	expect_error("clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c}\n"
		     "current-context: x\n",
		     "has no server");
	expect_error("clusters:\n- name: c\n  cluster: {server: 'https://h', certificate-authority-data: '%%%'}\n"
		     "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
		     "not valid base64");
	expect_error("- just\n- a list\n", "not a mapping");
	expect_error("a: [\n", "yaml");
}

Test(agent_kubeconfig, missing_file_is_an_errno)
{
	struct kubeconfig k = { 0 };
	char *err = NULL;

	cr_assert_eq(kubeconfig_load("/nonexistent/kubeconfig", &k, &err), -ENOENT);
}

/* Several API servers: a comma list in server (the agent's own syntax), or server plus the
 * skiff.io/servers extension, which kubectl reads past. */
static const char several[] =
	"clusters:\n"
	"- name: c\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443\n"
	"    extensions:\n"
	"    - name: someone.else/thing\n"
	"      extension: {servers: [https://nope:1]}\n"
	"    - name: skiff.io/servers\n"
	"      extension:\n"
	"        servers:\n"
	"        - https://10.0.0.2:6443\n"
	"        - https://10.0.0.3:6443\n"
	"contexts:\n"
	"- name: x\n"
	"  context: {cluster: c}\n"
	"current-context: x\n";

Test(agent_kubeconfig, several_servers)
{
	const char comma[] = "clusters:\n- name: c\n  cluster: {server: 'https://a:6443,https://b:6443'}\n"
			     "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
	struct kubeconfig k = { 0 };
	char *err = NULL;

	cr_assert_eq(kubeconfig_parse(several, strlen(several), NULL, &k, &err), 0, "%s", err);
	cr_assert_str_eq(k.server, "https://10.0.0.1:6443,https://10.0.0.2:6443,https://10.0.0.3:6443");
	kubeconfig_done(&k);
	cr_assert_eq(kubeconfig_parse(comma, strlen(comma), NULL, &k, &err), 0, "%s", err);
	cr_assert_str_eq(k.server, "https://a:6443,https://b:6443");
	kubeconfig_done(&k);
	expect_error("clusters:\n- name: c\n  cluster:\n    server: https://a\n    extensions:\n"
		     "    - {name: skiff.io/servers, extension: {servers: https://b}}\n"
		     "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
		     "servers is not a list");
	expect_error("clusters:\n- name: c\n  cluster:\n    server: https://a\n    extensions:\n"
		     "    - {name: skiff.io/servers, extension: {servers: ['']}}\n"
		     "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
		     "server 0 is not a URL");
}
