#ifndef PROBE_AGENT_CCRYPT_SHIM_H
#define PROBE_AGENT_CCRYPT_SHIM_H
// libxcrypt (Debian's libcrypt1): crypt_r hashes with the method the setting names, bcrypt
// ($2a$, $2b$, $2y$) among them. struct crypt_data is large (32 KiB): callers allocate it.
#include <crypt.h>
#include <stddef.h>
static inline size_t pa_crypt_data_size(void) { return sizeof(struct crypt_data); }
#endif
