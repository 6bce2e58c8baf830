/* Resource quantities ("100m", "1.5Gi", "1e3"): the three parsers agree on what is valid. */
#include <assert.h>

#include "api/quantity.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int64_t v;

	if (size > 4096)
		return 0;
	s = fuzz_str(data, size);
	if (!s)
		return 0;
	if (quantity_parse_milli(s, &v) == 0 || quantity_parse_value(s, &v) == 0)
		assert(quantity_valid(s));
	free(s);
	return 0;
}
