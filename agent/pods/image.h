/* The node's image store: <root>/images/<name>/{rootfs/,config.json}. Shared by the agent
 * (lookup) and skiffctl (import). config.json: {"entrypoint":[..],"cmd":[..],"env":["K=V"],
 * "workingDir":"/"}. */
#ifndef SKIFF_AGENT_PODS_IMAGE_H
#define SKIFF_AGENT_PODS_IMAGE_H

#include <json-c/json.h>

/* The agent's and skiffctl's root dir unless told otherwise. */
#define IMAGE_DEFAULT_ROOT "/var/lib/skiff/agent"

struct image_import_options {
	const char *const *entrypoint; /* NULL-terminated; NULL: none */
	const char *const *cmd;        /* NULL-terminated; NULL: none */
	const char *const *env;        /* NULL-terminated "K=V"; NULL: none */
	const char *working_dir;       /* NULL: "/" */
};

/* <root>/images: where the store lives. Caller frees. */
char *image_store_dir(const char *root_dir);
/* -EINVAL for a name that cannot be an image name (empty, "..", odd characters). */
int image_name_check(const char *name);

/* Imports source (a rootfs directory, or a tarball in any format/compression libarchive reads)
 * as image name, replacing an older one of that name only once the new one is complete. The
 * older tree is moved to <root>/images/.replaced/ (running containers may still have it as
 * their lower layer), not deleted. */
int image_import(const char *root_dir, const char *name, const char *source,
		 const struct image_import_options *opts);

/* Finds image name ("busybox" and "busybox:latest" are the same image). On success
 * *ret_rootfs (caller frees) is its rootfs dir and *ret_config its parsed config.json (caller
 * puts). -ENOENT when it is not in the store. */
int image_lookup(const char *root_dir, const char *name, char **ret_rootfs, json_object **ret_config);

/* Takes the image out of the store (its tree goes to .replaced/, as on replacement). */
int image_remove(const char *root_dir, const char *name);

#endif
