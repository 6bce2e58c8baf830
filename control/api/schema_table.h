/* Private to the schema module: the shape of the field tables (schema_*.c) that
 * schema.c walks. One struct descriptor per Go struct, one line per JSON field. */
#ifndef SKIFF_API_SCHEMA_TABLE_H
#define SKIFF_API_SCHEMA_TABLE_H

#include <stddef.h>

enum schema_kind {
	SK_STRING,
	SK_INT32,
	SK_INT64,
	SK_FLOAT,
	SK_BOOL,
	SK_QUANTITY, /* resource.Quantity: string or number */
	SK_INTSTR,   /* intstr.IntOrString: string or integer */
	SK_TIME,     /* metav1.Time / MicroTime: string */
	SK_ANY,      /* raw JSON (FieldsV1, RawExtension): anything */
	SK_STRUCT,   /* an object described by a struct descriptor */
};

enum schema_shape {
	SH_ONE,
	SH_ARRAY, /* []T */
	SH_MAP,   /* map[string]T */
};

struct schema_struct;

struct schema_field {
	const char *name; /* JSON name; NULL ends a table */
	unsigned char kind;
	unsigned char shape;
	const struct schema_struct *sub; /* SK_STRUCT only */
};

struct schema_struct {
	const char *go_name;               /* "PodSpec": named in type errors */
	const struct schema_field *fields; /* NULL: opaque, any keys allowed */
};

/* One line per field: the macro says the JSON type, the argument the JSON name. */
#define F_(n, k, s, sub) { (n), (k), (s), (sub) }
#define STR(n) F_(n, SK_STRING, SH_ONE, NULL)
#define I32(n) F_(n, SK_INT32, SH_ONE, NULL)
#define I64(n) F_(n, SK_INT64, SH_ONE, NULL)
#define FLT(n) F_(n, SK_FLOAT, SH_ONE, NULL)
#define BOOL(n) F_(n, SK_BOOL, SH_ONE, NULL)
#define QTY(n) F_(n, SK_QUANTITY, SH_ONE, NULL)
#define IOS(n) F_(n, SK_INTSTR, SH_ONE, NULL)
#define TIME(n) F_(n, SK_TIME, SH_ONE, NULL)
#define ANY(n) F_(n, SK_ANY, SH_ONE, NULL)
#define OBJ(n, t) F_(n, SK_STRUCT, SH_ONE, &schema_##t)
#define ARR_STR(n) F_(n, SK_STRING, SH_ARRAY, NULL)
#define ARR_I64(n) F_(n, SK_INT64, SH_ARRAY, NULL)
#define ARR_OBJ(n, t) F_(n, SK_STRUCT, SH_ARRAY, &schema_##t)
#define MAP_STR(n) F_(n, SK_STRING, SH_MAP, NULL)
#define MAP_QTY(n) F_(n, SK_QUANTITY, SH_MAP, NULL)

/* Defines schema_<Go name> from its field lines: SCHEMA_STRUCT file-local, SCHEMA_SHARED
 * for the descriptors declared below. */
#define SCHEMA_DEFINE_(linkage, t, ...)                                                        \
	static const struct schema_field t##_fields[] = { __VA_ARGS__, { NULL, 0, 0, NULL } }; \
	linkage const struct schema_struct schema_##t = { #t, t##_fields }
#define SCHEMA_STRUCT(t, ...) SCHEMA_DEFINE_(static, t, __VA_ARGS__)
#define SCHEMA_SHARED(t, ...) SCHEMA_DEFINE_(, t, __VA_ARGS__)
/* A struct whose insides are not described: any keys are accepted. */
#define SCHEMA_OPAQUE(t) static const struct schema_struct schema_##t = { #t, NULL }

/* Shared descriptors, by the file that defines them. */
/* schema_meta.c */
extern const struct schema_struct schema_ObjectMeta, schema_ObjectReference, schema_LabelSelector,
	schema_Condition, schema_Scale, schema_Binding, schema_DeleteOptions, schema_Event;
/* schema_pod.c */
extern const struct schema_struct schema_Pod, schema_PodTemplateSpec, schema_ResourceRequirements,
	schema_ObjectFieldSelector, schema_ResourceFieldSelector, schema_SELinuxOptions, schema_SeccompProfile,
	schema_AppArmorProfile, schema_WindowsSecurityContextOptions;
/* schema_container.c */
extern const struct schema_struct schema_Container, schema_EphemeralContainer, schema_ContainerStatus;
/* schema_lease.c */
extern const struct schema_struct schema_Lease;
/* schema_volume.c */
extern const struct schema_struct schema_Volume;
/* schema_service.c */
extern const struct schema_struct schema_Service, schema_Endpoints, schema_ReplicationController;
/* schema_node.c */
extern const struct schema_struct schema_Node, schema_Namespace;

/* The top-level descriptor of a kind ("Pod", "Scale", "DeleteOptions"); NULL if unknown. */
const struct schema_struct *schema_struct_by_kind(const char *kind);

#endif
