/* libFuzzer target: the HTTP query directives, split from the input at NUL
 * bytes into _HLS_msn, _HLS_part and _HLS_skip. */
#include "directives.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 3);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = s[size + 1] = s[size + 2] = 0;
    const char *msn = s;
    const char *part = msn + strlen(msn) + 1;
    const char *skip = part <= s + size ? part + strlen(part) + 1 : s + size + 2;
    llhls_directives_t d;
    const char *why;
    if (llhls_directives_parse(&d, *msn ? msn : NULL, *part ? part : NULL, *skip ? skip : NULL, &why) == 0) {
        llhls_position_t pos = {.has_parts = 1, .last_msn = 100, .last_part = 3};
        llhls_block_decide(&d, &pos, 333340, &why);
    }
    free(s);
    return 0;
}
