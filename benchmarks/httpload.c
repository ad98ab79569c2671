/* A closed-loop HTTP GET load generator for machines without wrk (benchmarks/dashboard.py builds it
 * with the system C compiler). C, like wrk, so that it leaves the CPU to the server: a Python client
 * costs as much CPU per request as a small Django view and flatters every ratio to a bare view.
 *
 *   httpload HOST PORT SECONDS CONNECTIONS REQUEST_FILE
 *
 * Each of CONNECTIONS threads, until SECONDS have passed: connect, send the request (the file's
 * bytes, which end the headers and ask for "Connection: close", as gunicorn's sync workers close
 * every connection anyway), read until the server closes, record the status and the latency.
 * Prints one JSON object: requests, non_2xx, seconds, latencies_ms (every one, for percentiles).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PER_THREAD 200000

static const char *host;
static int port;
static double seconds;
static char *request;
static size_t request_len;

typedef struct {
    int count, non_2xx, errors;
    float latencies_ms[MAX_PER_THREAD];
} Tally;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int one(void) { /* the status, or -1 on a connection error */
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    size_t sent = 0;
    while (sent < request_len) {
        ssize_t n = write(fd, request + sent, request_len - sent);
        if (n <= 0) { close(fd); return -1; }
        sent += n;
    }
    char buf[65536], head[16] = {0};
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n && got < sizeof head - 1; i++) head[got++] = buf[i];
    }
    close(fd);
    int status = 0;
    if (sscanf(head, "HTTP/%*s %d", &status) != 1) return -1;
    return status;
}

static void *worker(void *arg) {
    Tally *t = arg;
    double deadline = now_s() + seconds;
    while (now_s() < deadline && t->count < MAX_PER_THREAD) {
        double started = now_s();
        int status = one();
        if (status < 0) { t->errors++; continue; }
        t->latencies_ms[t->count++] = (float)((now_s() - started) * 1000.0);
        if (status < 200 || status >= 400) t->non_2xx++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT SECONDS CONNECTIONS REQUEST_FILE\n", argv[0]);
        return 2;
    }
    host = argv[1], port = atoi(argv[2]), seconds = atof(argv[3]);
    int connections = atoi(argv[4]);
    FILE *f = fopen(argv[5], "rb");
    if (!f) { perror(argv[5]); return 2; }
    fseek(f, 0, SEEK_END);
    request_len = ftell(f);
    rewind(f);
    request = malloc(request_len);
    if (fread(request, 1, request_len, f) != request_len) { perror("read"); return 2; }
    fclose(f);
    pthread_t threads[connections];
    Tally *tallies = calloc(connections, sizeof(Tally));
    double started = now_s();
    for (int i = 0; i < connections; i++) pthread_create(&threads[i], NULL, worker, &tallies[i]);
    for (int i = 0; i < connections; i++) pthread_join(threads[i], NULL);
    double elapsed = now_s() - started;
    int total = 0, non_2xx = 0, errors = 0;
    for (int i = 0; i < connections; i++) total += tallies[i].count, non_2xx += tallies[i].non_2xx,
                                          errors += tallies[i].errors;
    printf("{\"requests\": %d, \"non_2xx\": %d, \"errors\": %d, \"seconds\": %.4f, \"latencies_ms\": [",
           total, non_2xx, errors, elapsed);
    int first = 1;
    for (int i = 0; i < connections; i++)
        for (int j = 0; j < tallies[i].count; j++) printf(first ? "%.3f" : ",%.3f", tallies[i].latencies_ms[j]), first = 0;
    printf("]}\n");
    return 0;
}
