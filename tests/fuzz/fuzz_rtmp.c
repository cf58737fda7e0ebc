/* libFuzzer target: the RTMP chunk stream and the AMF0 commands inside it,
 * everything a client sends after the handshake. */
#include "amf0.h"
#include "rtmp_chunk.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_message(void *opaque, const llhls_rtmp_message_t *m)
{
    llhls_amf0_command_t cmd;
    if (llhls_amf0_command_decode(m->payload, m->len, m->type == 18, &cmd) == 0)
        llhls_amf0_command_free(&cmd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    llhls_rtmp_chunk_limits_t limits = {.max_chunk_size = 1 << 16, .max_message_size = 1 << 20,
                                        .max_chunk_streams = 16};
    llhls_rtmp_chunk_reader_t *r;
    if (llhls_rtmp_chunk_reader_new(&limits, &r) != 0)
        return 0;
    /* Fed in two slices, as the network would. */
    size_t half = size / 2;
    if (llhls_rtmp_chunk_reader_feed(r, data, half, on_message, NULL) == 0)
        llhls_rtmp_chunk_reader_feed(r, data + half, size - half, on_message, NULL);
    llhls_rtmp_chunk_reader_free(r);
    return 0;
}
