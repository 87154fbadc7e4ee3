/* The floor of a libcurl prober: N GETs, each on a fresh connection (as probe-agent's probes),
 * C = at a time through one multi handle, with the options and headers of an HTTP probe. Prints the CPU
 * (user + system) this process spent per request. No tracing, metrics, export or scheduling.
 * With PACE_MS, C requests start together every PACE_MS milliseconds (the daemon's rhythm: 1,000
 * targets at 1 s start 20 at a time every 20 ms) instead of a new one as soon as one ends.
 * Usage: curl_floor URL [N=20000] [C=20] [PACE_MS=0] */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

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

static CURLM *multi;
static CURL **easies;
static struct curl_slist **headers;
static const char *url;

static void start(long slot) {
    headers[slot] = probe_headers();
    prepare(easies[slot], url, headers[slot]);
    curl_easy_setopt(easies[slot], CURLOPT_PRIVATE, (void *)slot);
    curl_multi_add_handle(multi, easies[slot]);
}

/* Drives the multi handle until a transfer ends; returns its slot, and counts a failure. */
static long next_finished(long *failed) {
    for (;;) {
        int running, left;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            if (m->data.result != CURLE_OK) (*failed)++;
            long slot;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
            curl_multi_remove_handle(multi, m->easy_handle);
            curl_slist_free_all(headers[slot]);
            return slot;
        }
        curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s URL [N] [C] [PACE_MS]\n", argv[0]); return 2; }
    url = argv[1];
    long total = argc > 2 ? atol(argv[2]) : 20000, concurrency = argc > 3 ? atol(argv[3]) : 20;
    long pace_ms = argc > 4 ? atol(argv[4]) : 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi = curl_multi_init();
    easies = calloc(concurrency, sizeof *easies);
    headers = calloc(concurrency, sizeof *headers);
    for (long i = 0; i < concurrency; i++) easies[i] = curl_easy_init();
    long started = 0, done = 0, failed = 0;
    double cpu0 = cpu_seconds();
    if (pace_ms == 0) {
        for (; started < concurrency && started < total; started++) start(started);
        while (done < total) {
            long slot = next_finished(&failed);
            done++;
            if (started < total) { start(slot); started++; }
        }
    } else {
        struct timespec due;
        clock_gettime(CLOCK_MONOTONIC, &due);
        while (started < total) {
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
            due.tv_nsec += pace_ms * 1000000L;
            due.tv_sec += due.tv_nsec / 1000000000L;
            due.tv_nsec %= 1000000000L;
            long batch = total - started < concurrency ? total - started : concurrency;
            for (long i = 0; i < batch; i++) start(i);
            started += batch;
            for (long i = 0; i < batch; i++) { next_finished(&failed); done++; }
        }
    }
    double cpu = cpu_seconds() - cpu0;
    printf("%ld requests (%ld failed), %.2f s CPU, %.0f us per request\n", total, failed, cpu, cpu / total * 1e6);
    for (long i = 0; i < concurrency; i++) curl_easy_cleanup(easies[i]);
    curl_multi_cleanup(multi);
    return failed ? 1 : 0;
}
