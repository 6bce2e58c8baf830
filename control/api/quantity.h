/* Kubernetes resource quantities: "100m", "1.5", "512Mi", "1e3", "2G". */
#ifndef SKIFF_API_QUANTITY_H
#define SKIFF_API_QUANTITY_H

#include <stdbool.h>
#include <stdint.h>

/* Parses a quantity into thousandths of a unit (milli), rounding up as Kubernetes does
 * for sub-milli values. -EINVAL on bad syntax, -ERANGE when it does not fit. */
int quantity_parse_milli(const char *s, int64_t *ret_milli);
/* Whole units, rounded up (memory bytes, GPU counts). */
int quantity_parse_value(const char *s, int64_t *ret_value);
bool quantity_valid(const char *s);

#endif
