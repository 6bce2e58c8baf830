/* Pod spec translation without a kernel: command/args over entrypoint/cmd, env order and
 * fieldRefs, $(VAR) references, working dir, ids, volume mounts and the errors a bad spec gets. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "pods/podspec.h"

static const struct podspec_context ctx = { .pod_dir = "/r/pods/u1", .pod_ip = "10.244.1.7", .node_name = "n1" };

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert(o, "bad JSON: %s", s);
	return o;
}

static char *join(char **v)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	for (; v && *v; v++)
		fprintf(f, "%s%s", *v, v[1] ? "|" : "");
	fclose(f);
	return out;
}

/* Builds the pod's first container with image config img; returns the error or 0. */
static int build(const char *pod_json, const char *img_json, struct podspec_container *pc, char **err)
{
	_cleanup_json_ json_object *pod = parse(pod_json), *img = parse(img_json);
	json_object *c = json_object_array_get_idx(json_get_path(pod, "spec.containers"), 0);

	*err = NULL;
	return podspec_container_build(pod, c, img, &ctx, pc, err);
}

static void expect_argv(const char *containers_extra, const char *img, const char *want)
{
	char pod[2048];
	struct podspec_container pc;
	_cleanup_free_ char *err = NULL, *got = NULL;

	snprintf(pod, sizeof(pod), "{\"metadata\":{\"name\":\"p\",\"uid\":\"u1\"},\"spec\":{\"containers\":[{\"name\":\"c\"%s}]}}",
		 containers_extra);
	cr_assert_eq(build(pod, img, &pc, &err), 0, "%s", err ? err : "");
	got = join(pc.argv);
	cr_expect_str_eq(got, want, "for %s over %s", containers_extra, img);
	podspec_container_done(&pc);
}

Test(agent_podspec, argv_rules)
{
	const char *img = "{\"entrypoint\":[\"/ep\",\"-x\"],\"cmd\":[\"default\"]}";

	expect_argv("", img, "/ep|-x|default");
	expect_argv(",\"args\":[\"a\",\"b\"]", img, "/ep|-x|a|b");
	expect_argv(",\"command\":[\"sh\"]", img, "sh");
	expect_argv(",\"command\":[\"sh\"],\"args\":[\"-c\",\"true\"]", img, "sh|-c|true");
	expect_argv("", "{\"cmd\":[\"only-cmd\"]}", "only-cmd");
	expect_argv(",\"command\":[\"echo\",\"$(NAME)\",\"$$(NAME)\",\"$(UNSET)\"],"
		    "\"env\":[{\"name\":\"NAME\",\"value\":\"v\"}]",
		    img, "echo|v|$(NAME)|$(UNSET)");
}

Test(agent_podspec, no_command_is_an_error)
{
	struct podspec_container pc;
	_cleanup_free_ char *err = NULL;

	cr_expect_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]}}", "{}", &pc, &err),
		     -EINVAL);
	cr_expect(err && strstr(err, "container c: no command"), "%s", err ? err : "(null)");
}

Test(agent_podspec, env_and_field_refs)
{
	struct podspec_container pc;
	_cleanup_free_ char *err = NULL, *env = NULL;

	cr_assert_eq(build("{\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\",\"uid\":\"u1\"},"
			   "\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],\"env\":["
			   "{\"name\":\"A\",\"value\":\"from-pod\"},"
			   "{\"name\":\"B\",\"value\":\"$(A)-and-$(IMG)\"},"
			   "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
			   "{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
			   "{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}}]}]}}",
			   "{\"env\":[\"A=from-image\",\"IMG=i\",\"PATH=/bin\"]}", &pc, &err),
		     0, "%s", err ? err : "");
	env = join(pc.envp);
	cr_expect_str_eq(env, "PATH=/bin|A=from-pod|IMG=i|HOSTNAME=web|B=from-pod-and-i|IP=10.244.1.7|NODE=n1|NS=prod");
	cr_expect_str_eq(pc.path_env, "/bin");
	cr_expect_str_eq(pc.cwd, "/");
	podspec_container_done(&pc);
}

Test(agent_podspec, unsupported_field_ref)
{
	struct podspec_container pc;
	_cleanup_free_ char *err = NULL;

	cr_expect_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],"
			   "\"env\":[{\"name\":\"L\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}}}]}]}}",
			   "{}", &pc, &err),
		     -EINVAL);
	cr_expect(err && strstr(err, "env L: fieldRef metadata.labels is not supported"), "%s", err ? err : "");
}

Test(agent_podspec, security_context_and_workdir)
{
	struct podspec_container pc;
	_cleanup_free_ char *err = NULL;

	cr_assert_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"securityContext\":{\"runAsUser\":5,\"runAsGroup\":6},"
			   "\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],\"securityContext\":{\"runAsUser\":7}}]}}",
			   "{\"workingDir\":\"/srv\"}", &pc, &err),
		     0);
	cr_expect(pc.set_uid && pc.uid == 7, "container runAsUser wins");
	cr_expect(pc.set_gid && pc.gid == 6, "pod runAsGroup applies");
	cr_expect(!pc.privileged);
	cr_expect_str_eq(pc.cwd, "/srv");
	podspec_container_done(&pc);
	cr_assert_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],"
			   "\"workingDir\":\"/w\",\"securityContext\":{\"privileged\":true}}]}}",
			   "{\"workingDir\":\"/srv\"}", &pc, &err),
		     0);
	cr_expect(!pc.set_uid && !pc.set_gid && pc.privileged);
	cr_expect_str_eq(pc.cwd, "/w");
	podspec_container_done(&pc);
}

Test(agent_podspec, volume_mounts)
{
	struct podspec_container pc;
	_cleanup_free_ char *err = NULL;
	char got[2048] = "";

	cr_assert_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"volumes\":["
			   "{\"name\":\"cache\",\"emptyDir\":{}},{\"name\":\"host\",\"hostPath\":{\"path\":\"/srv/data\"}}],"
			   "\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],\"volumeMounts\":["
			   "{\"name\":\"cache\",\"mountPath\":\"/cache\"},"
			   "{\"name\":\"host\",\"mountPath\":\"/data\",\"readOnly\":true,\"subPath\":\"sub\"}]}]}}",
			   "{}", &pc, &err),
		     0, "%s", err ? err : "");
	for (size_t i = 0; i < pc.n_mounts; i++) {
		char one[512];

		snprintf(one, sizeof(one), "%s>%s%s;", pc.mounts[i].source, pc.mounts[i].target,
			 pc.mounts[i].readonly ? ":ro" : "");
		strcat(got, one);
	}
	cr_expect_str_eq(got, "/r/pods/u1/etc/hosts>/etc/hosts;/r/pods/u1/etc/hostname>/etc/hostname;"
			      "/r/pods/u1/etc/resolv.conf>/etc/resolv.conf;/r/pods/u1/volumes/cache>/cache;"
			      "/srv/data/sub>/data:ro;");
	podspec_container_done(&pc);
}

Test(agent_podspec, bad_volume_mounts)
{
	static const char *const cases[][2] = {
		{ "{\"name\":\"nope\",\"mountPath\":\"/x\"}", "volumeMount nope: no such volume" },
		{ "{\"name\":\"v\",\"mountPath\":\"rel\"}", "mountPath must be absolute" },
		{ "{\"name\":\"v\",\"mountPath\":\"/a/../b\"}", "mountPath must be absolute" },
		{ "{\"name\":\"cm\",\"mountPath\":\"/x\"}", "volume cm: only emptyDir and hostPath" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char pod[2048];
		struct podspec_container pc;
		_cleanup_free_ char *err = NULL;

		snprintf(pod, sizeof(pod),
			 "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}},"
			 "{\"name\":\"cm\",\"configMap\":{\"name\":\"x\"}}],"
			 "\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],\"volumeMounts\":[%s]}]}}",
			 cases[i][0]);
		cr_expect_eq(build(pod, "{}", &pc, &err), -EINVAL, "%s", cases[i][0]);
		cr_expect(err && strstr(err, cases[i][1]), "%s: got %s", cases[i][0], err ? err : "(null)");
	}
}

Test(agent_podspec, capabilities)
{
	struct podspec_container pc;
	_cleanup_free_ char *err = NULL;

	cr_assert_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"x\"]}]}}",
			   "{}", &pc, &err),
		     0);
	cr_expect_eq(pc.caps, 0xa80425fbULL, "Docker's 14: %#llx", pc.caps);
	cr_expect(!pc.readonly_rootfs);
	podspec_container_done(&pc);
	cr_assert_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],"
			   "\"securityContext\":{\"readOnlyRootFilesystem\":true,\"capabilities\":"
			   "{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\",\"CAP_sys_time\"]}}}]}}",
			   "{}", &pc, &err),
		     0, "%s", err ? err : "");
	cr_expect_eq(pc.caps, (1ULL << 10) | (1ULL << 25), "%#llx", pc.caps);
	cr_expect(pc.readonly_rootfs);
	podspec_container_done(&pc);
	cr_assert_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],"
			   "\"securityContext\":{\"capabilities\":{\"drop\":[\"NET_RAW\"],\"add\":[\"ALL\"]}}}]}}",
			   "{}", &pc, &err),
		     0);
	cr_expect_eq(pc.caps, (1ULL << 41) - 1);
	podspec_container_done(&pc);
	cr_expect_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"x\"],"
			   "\"securityContext\":{\"capabilities\":{\"add\":[\"FLY\"]}}}]}}",
			   "{}", &pc, &err),
		     -EINVAL);
	cr_expect(err && strstr(err, "capability FLY is not known"), "%s", err ? err : "");
}

Test(agent_podspec, names_are_dns_labels)
{
	struct podspec_container pc;
	_cleanup_free_ char *err = NULL;

	cr_expect(podspec_name_ok("web-1"));
	cr_expect(!podspec_name_ok("../x"));
	cr_expect(!podspec_name_ok("-a"));
	cr_expect(!podspec_name_ok("A"));
	cr_expect(!podspec_name_ok(""));
	cr_expect(!podspec_name_ok(NULL));
	cr_expect_eq(build("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"../../etc\",\"command\":[\"x\"]}]}}",
			   "{}", &pc, &err),
		     -EINVAL);
	cr_expect(err && strstr(err, "is not a DNS label"), "%s", err ? err : "");
}
