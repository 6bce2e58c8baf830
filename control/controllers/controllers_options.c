/* The controllers' flags: parsing a value per flag, and their --help lines with the defaults
 * from controllers_options_init (the one place they are set). */
#include "controllers/controllers.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/nodeipam.h"

/* "90", "90s", "5m", "1m30s", "1h": whole seconds, at most a day. */
static int parse_duration(const char *s, int *ret)
{
	long total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		char *end;
		long v, unit = 1;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v < 0)
			return -EINVAL;
		if (*end == 'h')
			unit = 3600;
		else if (*end == 'm')
			unit = 60;
		else if (*end != 's' && *end != '\0')
			return -EINVAL;
		/* A bare number is seconds, and only as the whole value. */
		if (*end == '\0' && p != s)
			return -EINVAL;
		total += v * unit;
		if (total > 86400)
			return -EINVAL;
		p = *end ? end + 1 : end;
	}
	*ret = (int)total;
	return 0;
}

static int parse_double(const char *s, double min, double max, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int controllers_options_set(struct controllers_options *o, const char *flag, const char *value)
{
	struct ipam_range r;
	double d;
	int rc;

	if (!value)
		return -EINVAL;
	if (strcmp(flag, "node-monitor-grace-period") == 0) {
		rc = parse_duration(value, &o->node_monitor_grace_period_s);
		return rc == 0 && o->node_monitor_grace_period_s == 0 ? -EINVAL : rc;
	}
	if (strcmp(flag, "pod-eviction-timeout") == 0)
		return parse_duration(value, &o->pod_eviction_timeout_s);
	if (strcmp(flag, "cluster-cidr") == 0) {
		if (ipam_range_parse(value, o->node_cidr_mask_size, &r) < 0)
			return -EINVAL;
		o->cluster_cidr = value;
		return 0;
	}
	if (strcmp(flag, "node-cidr-mask-size") == 0) {
		rc = parse_double(value, 1, 32, &d);
		if (rc < 0 || d != (int)d || ipam_range_parse(o->cluster_cidr, (int)d, &r) < 0)
			return -EINVAL;
		o->node_cidr_mask_size = (int)d;
		return 0;
	}
	if (strcmp(flag, "node-eviction-rate") == 0) {
		rc = parse_double(value, 0.001, 1e6, &d);
		if (rc == 0)
			o->node_eviction_rate = d;
		return rc;
	}
	if (strcmp(flag, "unhealthy-zone-threshold") == 0) {
		rc = parse_double(value, 0.01, 1, &d);
		if (rc == 0)
			o->unhealthy_zone_threshold = d;
		return rc;
	}
	return -ENOENT;
}

void controllers_options_print_help(FILE *out)
{
	struct controllers_options d;

	controllers_options_init(&d);
	fprintf(out,
		"  --node-monitor-grace-period D   no node heartbeat for this long: Ready Unknown (default %ds)\n"
		"  --pod-eviction-timeout D        pods leave a NoExecute-tainted node after this (default %ds)\n"
		"  --cluster-cidr CIDR             pod addresses, one block per node (default %s)\n"
		"  --node-cidr-mask-size N         each node's block is a /N (default %d)\n"
		"  --node-eviction-rate R          nodes evicted per second at most (default %g)\n"
		"  --unhealthy-zone-threshold F    more dead nodes than this share stops evictions (default %g)\n",
		d.node_monitor_grace_period_s, d.pod_eviction_timeout_s, d.cluster_cidr, d.node_cidr_mask_size,
		d.node_eviction_rate, d.unhealthy_zone_threshold);
}
