/* Starts and stops every controller of skiff-control (see controllers.h), with the one
 * place their defaults are set. */
#include "controllers/controllers.h"

#include <errno.h>
#include <stdlib.h>

#include <skiff/log.h>

#include "controllers/endpoints.h"
#include "controllers/gc.h"
#include "controllers/nodeipam.h"
#include "controllers/nodelifecycle.h"
#include "controllers/rc.h"

struct controllers {
	struct rc_controller *rc;
	struct endpoints_controller *endpoints;
	struct nodelifecycle_controller *nodelifecycle;
	struct nodeipam_controller *nodeipam;
	struct gc_controller *gc;
};

void controllers_options_init(struct controllers_options *o)
{
	*o = (struct controllers_options){
		.node_monitor_grace_period_s = 20,
		.pod_eviction_timeout_s = 30,
		.cluster_cidr = "10.244.0.0/16",
		.node_cidr_mask_size = 24,
		.node_eviction_rate = 10,
		.unhealthy_zone_threshold = 0.55,
	};
}

static int check(const struct controllers_options *o)
{
	if (o->node_monitor_grace_period_s <= 0 || o->pod_eviction_timeout_s < 0 || o->node_eviction_rate <= 0 ||
	    o->unhealthy_zone_threshold <= 0 || o->unhealthy_zone_threshold > 1 || !o->cluster_cidr)
		return -EINVAL;
	return 0;
}

struct controllers *controllers_start(struct registry *reg, const struct controllers_options *opts)
{
	struct controllers_options defaults;
	struct controllers *c;
	int err;

	if (!opts) {
		controllers_options_init(&defaults);
		opts = &defaults;
	}
	if (check(opts) < 0) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (!(c->nodeipam = nodeipam_controller_start(reg, opts->cluster_cidr, opts->node_cidr_mask_size)) ||
	    !(c->nodelifecycle = nodelifecycle_controller_start(reg, opts)) ||
	    !(c->rc = rc_controller_start(reg)) || !(c->endpoints = endpoints_controller_start(reg)) ||
	    !(c->gc = gc_controller_start(reg))) {
		err = errno ?: ENOMEM;
		log_error_errno(-err, "controllers: cannot start: %m");
		controllers_stop(c);
		errno = err;
		return NULL;
	}
	return c;
}

void controllers_stop(struct controllers *c)
{
	if (!c)
		return;
	gc_controller_stop(c->gc);
	endpoints_controller_stop(c->endpoints);
	rc_controller_stop(c->rc);
	nodelifecycle_controller_stop(c->nodelifecycle);
	nodeipam_controller_stop(c->nodeipam);
	free(c);
}
