/* libFuzzer target: YAML config files. */
#include "config.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    llhls_config_t c;
    char err[512];
    llhls_config_default(&c);
    llhls_config_load_string(&c, (const char *)data, size, "fuzz", err, sizeof(err));
    return 0;
}
