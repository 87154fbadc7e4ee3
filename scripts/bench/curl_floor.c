/* The floor of a libcurl prober: N GETs, each on a fresh connection (as probe-agent's probes),
 * C = at a time through one multi handle, with the options and headers of an HTTP probe. Prints the CPU
 * (user + system) this process spent per request. No tracing, metrics, export or scheduling.
 * Usage: curl_floor URL [N=20000] [C=20] */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static size_t discard(char *p, size_t s, size_t n, void *u) { (void)p; (void)u; return s * n; }

/* A probe's request headers: a traceparent and a user agent, built anew per request as the agent does. */
static struct curl_slist *probe_headers(void) {
    struct curl_slist *list = curl_slist_append(NULL, "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    return curl_slist_append(list, "User-Agent: probe-agent/0.1.0");
}

static void prepare(CURL *easy, const char *url, struct curl_slist *headers) {
    curl_easy_reset(easy);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 800L);
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(1 << 20));
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s URL [N] [C]\n", argv[0]); return 2; }
    const char *url = argv[1];
    long total = argc > 2 ? atol(argv[2]) : 20000, concurrency = argc > 3 ? atol(argv[3]) : 20;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    long started = 0, done = 0, failed = 0;
    double cpu0 = cpu_seconds();
    struct curl_slist **headers = calloc(concurrency, sizeof *headers);
    for (; started < concurrency && started < total; started++) {
        CURL *easy = curl_easy_init();
        headers[started] = probe_headers();
        prepare(easy, url, headers[started]);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)started);  /* its slot in headers */
        curl_multi_add_handle(multi, easy);
    }
    int running = 1;
    while (done < total) {
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            CURL *easy = m->easy_handle;
            if (m->data.result != CURLE_OK) failed++;
            done++;
            curl_multi_remove_handle(multi, easy);
            long slot;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&slot);
            curl_slist_free_all(headers[slot]);
            headers[slot] = NULL;
            if (started < total) {
                headers[slot] = probe_headers();
                prepare(easy, url, headers[slot]);
                curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)slot);
                curl_multi_add_handle(multi, easy);
                started++;
            } else curl_easy_cleanup(easy);
        }
        if (done < total) curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double cpu = cpu_seconds() - cpu0;
    printf("%ld requests (%ld failed), %.2f s CPU, %.0f us per request\n", total, failed, cpu, cpu / total * 1e6);
    curl_multi_cleanup(multi);
    free(headers);
    return failed ? 1 : 0;
}
