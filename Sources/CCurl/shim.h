// Typed wrappers for libcurl's variadic calls, which Swift cannot call directly.
#ifndef PROBE_AGENT_CCURL_SHIM_H
#define PROBE_AGENT_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode pa_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pa_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pa_easy_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pa_easy_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pa_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pa_easy_setopt_write_cb(CURL *h, CURLoption o, size_t (*cb)(char *, size_t, size_t, void *)) { return curl_easy_setopt(h, o, cb); }
static inline CURLcode pa_easy_setopt_xfer_cb(CURL *h, int (*cb)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb); }
static inline CURLcode pa_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode pa_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode pa_easy_getinfo_str(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode pa_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode pa_easy_getinfo_certinfo(CURL *h, struct curl_certinfo **v) { return curl_easy_getinfo(h, CURLINFO_CERTINFO, v); }
static inline CURLMcode pa_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
// The event loop drives curl_multi_socket_action from an epoll set, woken through an eventfd.
#include <sys/epoll.h>
#include <sys/eventfd.h>
// The multi_socket API: libcurl tells us which sockets to watch and when to call it back.
static inline CURLMcode pa_multi_set_socket_callback(CURLM *m, int (*cb)(CURL *, curl_socket_t, int, void *, void *), void *userp) {
    CURLMcode rc = curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, cb);
    return rc != CURLM_OK ? rc : curl_multi_setopt(m, CURLMOPT_SOCKETDATA, userp);
}
static inline CURLMcode pa_multi_set_timer_callback(CURLM *m, int (*cb)(CURLM *, long, void *), void *userp) {
    CURLMcode rc = curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, cb);
    return rc != CURLM_OK ? rc : curl_multi_setopt(m, CURLMOPT_TIMERDATA, userp);
}
#endif
