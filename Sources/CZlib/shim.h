#ifndef PROBE_AGENT_CZLIB_SHIM_H
#define PROBE_AGENT_CZLIB_SHIM_H
#include <zlib.h>
// deflateInit2 is a macro; expose it as a function Swift can call.
static inline int pa_deflateInit2(z_streamp s, int level, int method, int windowBits, int memLevel, int strategy) {
    return deflateInit2(s, level, method, windowBits, memLevel, strategy);
}
static inline int pa_inflateInit2(z_streamp s, int windowBits) { return inflateInit2(s, windowBits); }
#endif
