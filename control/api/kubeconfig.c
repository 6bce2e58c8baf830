/* admin.kubeconfig as YAML through libyaml's emitter, so quoting is the library's business. */
#include "api/certs.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include <skiff/cleanup.h>

static int emit(yaml_emitter_t *e, yaml_event_t *ev, int ok)
{
	if (!ok)
		return -ENOMEM;
	return yaml_emitter_emit(e, ev) ? 0 : -EIO; /* the emitter frees ev either way */
}

static int emit_scalar(yaml_emitter_t *e, const char *s)
{
	yaml_event_t ev;

	return emit(e, &ev,
		    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
						 YAML_ANY_SCALAR_STYLE));
}

static int emit_map_start(yaml_emitter_t *e)
{
	yaml_event_t ev;

	return emit(e, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

static int emit_map_end(yaml_emitter_t *e)
{
	yaml_event_t ev;

	return emit(e, &ev, yaml_mapping_end_event_initialize(&ev));
}

/* "key: value" pairs from a NULL-terminated list, inside the current mapping. */
static int emit_pairs(yaml_emitter_t *e, const char *const *kv)
{
	int r = 0;

	for (; kv[0] && r == 0; kv += 2)
		if ((r = emit_scalar(e, kv[0])) == 0)
			r = emit_scalar(e, kv[1]);
	return r;
}

/* "list: [{name: NAME, key: {pairs}}]": the shape of kubeconfig's clusters, users, contexts. */
static int emit_named_list(yaml_emitter_t *e, const char *list, const char *name, const char *key,
			   const char *const *kv)
{
	yaml_event_t ev;
	int r;

	if ((r = emit_scalar(e, list)) < 0 ||
	    (r = emit(e, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))) < 0 ||
	    (r = emit_map_start(e)) < 0 || (r = emit_pairs(e, (const char *const[]){ "name", name, NULL })) < 0 ||
	    (r = emit_scalar(e, key)) < 0 || (r = emit_map_start(e)) < 0 || (r = emit_pairs(e, kv)) < 0 ||
	    (r = emit_map_end(e)) < 0 || (r = emit_map_end(e)) < 0)
		return r;
	return emit(e, &ev, yaml_sequence_end_event_initialize(&ev));
}

static int emit_kubeconfig(yaml_emitter_t *e, const char *server_url, const char *ca_b64, const char *user,
			   const char *token)
{
	yaml_event_t ev;
	int r;

	if ((r = emit(e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))) < 0 ||
	    (r = emit(e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))) < 0 ||
	    (r = emit_map_start(e)) < 0 ||
	    (r = emit_pairs(e, (const char *const[]){ "apiVersion", "v1", "kind", "Config", NULL })) < 0 ||
	    (r = emit_named_list(e, "clusters", "skiff", "cluster",
				 (const char *const[]){ "server", server_url, "certificate-authority-data", ca_b64,
							NULL })) < 0 ||
	    (r = emit_named_list(e, "users", user, "user", (const char *const[]){ "token", token, NULL })) < 0 ||
	    (r = emit_named_list(e, "contexts", "skiff", "context",
				 (const char *const[]){ "cluster", "skiff", "user", user, NULL })) < 0 ||
	    (r = emit_pairs(e, (const char *const[]){ "current-context", "skiff", NULL })) < 0 ||
	    (r = emit_map_end(e)) < 0 || (r = emit(e, &ev, yaml_document_end_event_initialize(&ev, 1))) < 0)
		return r;
	return emit(e, &ev, yaml_stream_end_event_initialize(&ev));
}

static int base64(const char *s, char **ret)
{
	gnutls_datum_t in = { (unsigned char *)s, (unsigned)strlen(s) }, out = { NULL, 0 };
	char *b;

	if (gnutls_base64_encode2(&in, &out) < 0)
		return -ENOMEM;
	b = strndup((const char *)out.data, out.size);
	gnutls_free(out.data);
	if (!b)
		return -ENOMEM;
	*ret = b;
	return 0;
}

static int render(const char *server_url, const char *ca_b64, const char *user, const char *token, char **ret_yaml)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	yaml_emitter_t e;
	size_t len = 0;
	int r;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output_file(&e, f);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1); /* never fold the long base64 line */
	r = emit_kubeconfig(&e, server_url, ca_b64, user, token);
	yaml_emitter_delete(&e);
	if (r < 0)
		return r;
	if (fclose(TAKE_PTR(f)) != 0)
		return -ENOMEM;
	*ret_yaml = TAKE_PTR(buf);
	return 0;
}

int kubeconfig_render(const char *server_url, const char *ca_pem, const char *user, const char *token,
		      char **ret_yaml)
{
	char *ca_b64 = NULL;
	int r;

	r = base64(ca_pem, &ca_b64);
	if (r < 0)
		return r;
	r = render(server_url, ca_b64, user, token, ret_yaml);
	free(ca_b64);
	return r;
}
