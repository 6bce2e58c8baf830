/* kubeconfig parsing: YAML to JSON (yaml_to_json), then the current context's cluster and user. */
#include "api/kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/yaml.h>

int kubeconfig_read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf && !(buf = calloc(1, 1)))
		return -ENOMEM;
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

static int fail(char **ret_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (ret_err && vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
	return -EINVAL;
}

/* The entry of a kubeconfig list ("clusters", "users", "contexts") with that name. */
static json_object *named(json_object *root, const char *list, const char *name)
{
	json_object *arr = json_get_path(root, list);

	if (!name || !json_object_is_type(arr, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *n = json_get_string(e, "name");

		if (n && strcmp(n, name) == 0)
			return e;
	}
	return NULL;
}

static char *resolve(const char *base_dir, const char *path)
{
	char *out;

	if (path[0] == '/' || !base_dir)
		return strdup(path);
	if (asprintf(&out, "%s/%s", base_dir, path) < 0)
		return NULL;
	return out;
}

static int b64_decode(const char *s, char **ret)
{
	gnutls_datum_t in = { (unsigned char *)s, (unsigned)strlen(s) }, out = { NULL, 0 };
	char *txt;

	if (gnutls_base64_decode2(&in, &out) < 0)
		return -EINVAL;
	txt = malloc(out.size + 1);
	if (txt) {
		memcpy(txt, out.data, out.size);
		txt[out.size] = '\0';
	}
	gnutls_free(out.data);
	if (!txt)
		return -ENOMEM;
	*ret = txt;
	return 0;
}

/* Inline data wins over a file, as kubectl does. */
static int load_ca(json_object *cluster, const char *base_dir, char **ret, char **ret_err)
{
	const char *data = json_get_string(cluster, "certificate-authority-data");
	const char *file = json_get_string(cluster, "certificate-authority");
	_cleanup_free_ char *path = NULL;
	int r;

	if (data) {
		if (b64_decode(data, ret) < 0)
			return fail(ret_err, "certificate-authority-data is not valid base64");
		return 0;
	}
	if (!file)
		return 0;
	path = resolve(base_dir, file);
	if (!path)
		return -ENOMEM;
	r = kubeconfig_read_file(path, ret, NULL);
	if (r < 0)
		return fail(ret_err, "certificate-authority %s: %s", path, strerror(-r));
	return 0;
}

static int load_token(json_object *user, const char *base_dir, char **ret, char **ret_err)
{
	const char *tok = json_get_string(user, "token"), *file = json_get_string(user, "tokenFile");
	_cleanup_free_ char *path = NULL, *buf = NULL;
	int r;

	if (tok)
		return (*ret = strdup(tok)) ? 0 : -ENOMEM;
	if (!file)
		return 0;
	path = resolve(base_dir, file);
	if (!path)
		return -ENOMEM;
	r = kubeconfig_read_file(path, &buf, NULL);
	if (r < 0)
		return fail(ret_err, "tokenFile %s: %s", path, strerror(-r));
	buf[strcspn(buf, "\r\n")] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The cluster's server, then those of the skiff.io/servers extension: kubectl reads only the
 * first, the agent fails over between all of them. */
static int cluster_servers(json_object *cluster, const char *server, char **ret, char **ret_err)
{
	json_object *exts = json_get_path(cluster, "extensions"), *list = NULL;
	_cleanup_free_ char *all = strdup(server);

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; json_object_is_type(exts, json_type_array) && i < json_object_array_length(exts); i++) {
		json_object *e = json_object_array_get_idx(exts, i);
		const char *n = json_get_string(e, "name");

		if (n && strcmp(n, KUBECONFIG_SERVERS_EXTENSION) == 0)
			list = json_get_path(e, "extension.servers");
	}
	if (list && !json_object_is_type(list, json_type_array))
		return fail(ret_err, "extension %s: servers is not a list", KUBECONFIG_SERVERS_EXTENSION);
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *u = json_object_array_get_idx(list, i);
		char *more;

		if (!json_object_is_type(u, json_type_string) || !*json_object_get_string(u))
			return fail(ret_err, "extension %s: server %zu is not a URL", KUBECONFIG_SERVERS_EXTENSION, i);
		if (asprintf(&more, "%s,%s", all, json_object_get_string(u)) < 0)
			return -ENOMEM;
		free(all);
		all = more;
	}
	*ret = TAKE_PTR(all);
	return 0;
}

int kubeconfig_parse(const char *buf, size_t len, const char *base_dir, struct kubeconfig *ret, char **ret_err)
{
	_cleanup_json_ json_object *root = NULL;
	struct kubeconfig k = { 0 };
	json_object *ctx, *cluster, *user;
	const char *cur, *server;
	int r;

	r = yaml_to_json(buf, len, &root, ret_err);
	if (r < 0)
		return r;
	if (!json_object_is_type(root, json_type_object))
		return fail(ret_err, "kubeconfig is not a mapping");
	cur = json_get_string(root, "current-context");
	ctx = named(root, "contexts", cur);
	/* Without a current-context, a kubeconfig with exactly one context is unambiguous. */
	if (!ctx && !cur && json_object_array_length(json_get_path(root, "contexts")) == 1)
		ctx = json_object_array_get_idx(json_get_path(root, "contexts"), 0);
	if (!ctx)
		return fail(ret_err, "context \"%s\" not found", cur ? cur : "");
	cluster = json_get_path(named(root, "clusters", json_get_string(ctx, "context.cluster")), "cluster");
	if (!cluster)
		return fail(ret_err, "cluster \"%s\" not found", json_get_string(ctx, "context.cluster") ?: "");
	server = json_get_string(cluster, "server");
	if (!server || !*server)
		return fail(ret_err, "cluster \"%s\" has no server", json_get_string(ctx, "context.cluster"));
	user = json_get_path(named(root, "users", json_get_string(ctx, "context.user")), "user");
	r = cluster_servers(cluster, server, &k.server, ret_err);
	if (r < 0)
		return r;
	r = load_ca(cluster, base_dir, &k.ca_pem, ret_err);
	if (r >= 0 && user)
		r = load_token(user, base_dir, &k.token, ret_err);
	if (r < 0) {
		kubeconfig_done(&k);
		return r;
	}
	*ret = k;
	return 0;
}

int kubeconfig_load(const char *path, struct kubeconfig *ret, char **ret_err)
{
	_cleanup_free_ char *buf = NULL, *dir_copy = NULL;
	size_t len = 0;
	int r;

	r = kubeconfig_read_file(path, &buf, &len);
	if (r < 0)
		return r;
	dir_copy = strdup(path);
	if (!dir_copy)
		return -ENOMEM;
	return kubeconfig_parse(buf, len, dirname(dir_copy), ret, ret_err);
}

void kubeconfig_done(struct kubeconfig *k)
{
	if (!k)
		return;
	free(k->server);
	free(k->ca_pem);
	if (k->token)
		explicit_bzero(k->token, strlen(k->token));
	free(k->token);
	*k = (struct kubeconfig){ 0 };
}
