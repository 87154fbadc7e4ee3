#ifndef PROBE_AGENT_CISAL_SHIM_H
#define PROBE_AGENT_CISAL_SHIM_H
#include <stdint.h>
#include <isa-l/igzip_lib.h>

// ISA-L's level-1 buffer size is a computed macro Swift cannot import.
static const uint32_t pa_isal_level1_buffer_size = ISAL_DEF_LVL1_DEFAULT;

// One whole gzip member (RFC 1952) of `in`. Returns the compressed size, 0 when `out` was too
// small (call again with more room), -1 on error.
static inline int64_t pa_isal_gzip(struct isal_zstream *s, uint8_t *level_buf, uint32_t level_buf_size,
                                   const uint8_t *in, uint32_t in_size, uint8_t *out, uint32_t out_size) {
    isal_deflate_init(s);
    s->gzip_flag = IGZIP_GZIP;
    s->level = 1;
    s->level_buf = level_buf;
    s->level_buf_size = level_buf_size;
    s->end_of_stream = 1;
    s->flush = NO_FLUSH;
    s->next_in = (uint8_t *)in;  // ISA-L never writes through next_in
    s->avail_in = in_size;
    s->next_out = out;
    s->avail_out = out_size;
    if (isal_deflate(s) != COMP_OK) return -1;
    return s->internal_state.state == ZSTATE_END ? (int64_t)s->total_out : 0;
}
#endif
