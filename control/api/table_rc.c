/* The replication controller table: DESIRED/CURRENT/READY as integers, and the wide
 * CONTAINERS, IMAGES and SELECTOR of the pod template. */
#include "api/table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

/* layoutContainerCells: names and images, comma-joined. */
static int container_cells(json_object *rc, char **ret_names, char **ret_images)
{
	json_object *cs = json_get_path(rc, "spec.template.spec.containers");
	size_t n = cs && json_object_is_type(cs, json_type_array) ? json_object_array_length(cs) : 0;
	char *names = NULL, *images = NULL;
	size_t nl = 0, il = 0;
	FILE *fn = open_memstream(&names, &nl), *fi = open_memstream(&images, &il);

	for (size_t i = 0; fn && fi && i < n; i++) {
		json_object *c = json_object_array_get_idx(cs, i);
		const char *name = json_get_string(c, "name"), *image = json_get_string(c, "image");

		fprintf(fn, "%s%s", i ? "," : "", name ? name : "");
		fprintf(fi, "%s%s", i ? "," : "", image ? image : "");
	}
	if ((fn && fclose(fn) != 0) || (fi && fclose(fi) != 0) || !fn || !fi) {
		free(names);
		free(images);
		return -ENOMEM;
	}
	*ret_names = names;
	*ret_images = images;
	return 0;
}

static int rc_cells(json_object *rc, time_t now, json_object *cells)
{
	_cleanup_free_ char *names = NULL, *images = NULL;
	_cleanup_free_ char *selector = table_format_labels(json_get_path(rc, "spec.selector"));
	char age[32];

	if (!selector || container_cells(rc, &names, &images) < 0)
		return -ENOMEM;
	table_age_at(rc, "metadata.creationTimestamp", now, age, sizeof(age));
	if (table_add_str(cells, json_get_string(rc, "metadata.name")) < 0 ||
	    table_add_int(cells, table_get_int(rc, "spec.replicas")) < 0 ||
	    table_add_int(cells, table_get_int(rc, "status.replicas")) < 0 ||
	    table_add_int(cells, table_get_int(rc, "status.readyReplicas")) < 0 || table_add_str(cells, age) < 0 ||
	    table_add_str(cells, names) < 0 || table_add_str(cells, images) < 0 || table_add_str(cells, selector) < 0)
		return -ENOMEM;
	return 0;
}

static const struct table_column rc_columns[] = {
	TABLE_COL_NAME,
	{ "Desired", "integer", "",
	  "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and "
	  "unspecified. Defaults to 1. More info: "
	  "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller",
	  0 },
	{ "Current", "integer", "",
	  "Replicas is the most recently observed number of replicas. More info: "
	  "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller",
	  0 },
	{ "Ready", "integer", "", "The number of ready replicas for this replication controller.", 0 },
	TABLE_COL_AGE,
	{ "Containers", "string", "", "Names of each container in the template.", 1 },
	{ "Images", "string", "", "Images referenced by each container in the template.", 1 },
	{ "Selector", "string", "",
	  "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is "
	  "defaulted to the labels present on the Pod template. Label keys and values that must match in order to "
	  "be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: "
	  "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
	  1 },
};

const struct table_kind table_kind_replicationcontrollers = { "replicationcontrollers", rc_columns,
							      sizeof(rc_columns) / sizeof(rc_columns[0]), rc_cells };
