/*
 * The limit: libsecp256k1 (the system library, Debian libsecp256k1-dev) signing and verifying
 * from C, with nothing in between. Every other signer in bench/ is reported as a ratio to these
 * figures, measured in the same run.
 *
 * Operations, on a ring of 64 (key, digest) pairs over 8 keys, as a binding sees them (bytes in,
 * bytes out):
 *   sign           secp256k1_ecdsa_sign (RFC 6979, low-S) + serialize to r||s (64 bytes)
 *   verify         parse a 33-byte compressed key + parse r||s + secp256k1_ecdsa_verify
 *   verify-parsed  the same with the key parsed once beforehand (what a batch by one key costs)
 * One context, randomized once, shared read-only by all threads, as voltrail's addon does.
 *
 * Usage: secp256k1-bench [--threads N] [--runs R] [--run-ms MS] [--warmup-ms MS]
 * Output (stdout, one JSON object): per operation, the ops/s of each run, summed over threads:
 *   {"library":"libsecp256k1","threads":N,"runs":{"sign":[...],"verify":[...],"verify-parsed":[...]}}
 * Threads start each run together (a barrier) so that "all cores" means all cores at once.
 *
 * secp256k1-bench --serve [--threads N]: runs one timed run per command read from stdin, so the
 * bench can interleave reference runs with the runs of what it compares (both then see the
 * same load on a shared machine). Commands, one a line: `run OP MS [wall|cpu]` (answers
 * {"op":"OP","rate":ops/s} on one line; `cpu`: per second of the process's CPU time) and
 * `quit`. A `run` used as warm-up is just a run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <secp256k1.h>

#define RING 64
#define KEYS 8
#define MAX_RUNS 64
#define MAX_THREADS 256

enum op { OP_SIGN, OP_VERIFY, OP_VERIFY_PARSED, OP_COUNT };
static const char *const OP_NAMES[OP_COUNT] = {"sign", "verify", "verify-parsed"};

static secp256k1_context *ctx;
static unsigned char privs[KEYS][32];
static unsigned char pubs[KEYS][33];
static secp256k1_pubkey parsed[KEYS];
static unsigned char digests[RING][32];
static unsigned char sigs[RING][64];

static int threads = 1, runs = 5;
static double run_ms = 1000, warmup_ms = 300;
static pthread_barrier_t barrier;
static double rates[OP_COUNT][MAX_RUNS][MAX_THREADS];

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A small deterministic generator (splitmix64): the same keys and digests every run. */
static unsigned long long seed = 0x766f6c747261696cULL;
static unsigned long long next64(void) {
  unsigned long long z = (seed += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static void fill(unsigned char *out, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    unsigned long long v = next64();
    memcpy(out + i, &v, n - i < 8 ? n - i : 8);
  }
}

static int do_op(enum op op, int i, unsigned char *sink) {
  const int k = i % KEYS;
  if (op == OP_SIGN) {
    secp256k1_ecdsa_signature sig;
    unsigned char out[64];
    if (!secp256k1_ecdsa_sign(ctx, &sig, digests[i], privs[k], NULL, NULL)) return 0;
    secp256k1_ecdsa_signature_serialize_compact(ctx, out, &sig);
    *sink ^= out[0];
    return 1;
  }
  secp256k1_ecdsa_signature sig;
  if (!secp256k1_ecdsa_signature_parse_compact(ctx, &sig, sigs[i])) return 0;
  if (op == OP_VERIFY) {
    secp256k1_pubkey key;
    if (!secp256k1_ec_pubkey_parse(ctx, &key, pubs[k], 33)) return 0;
    return secp256k1_ecdsa_verify(ctx, &sig, digests[i], &key);
  }
  return secp256k1_ecdsa_verify(ctx, &sig, digests[i], &parsed[k]);
}

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs `op` for `ms` milliseconds; returns ops/s. On the CPU clock (use_cpu), per second of the
 * process's CPU time, as the bench's workers count it; the run then also ends after 2 * ms of
 * wall time, since CPU time advances slowly on a busy machine. */
static double timed_on(enum op op, double ms, int use_cpu, unsigned char *sink) {
  long done = 0;
  double (*clock_ms)(void) = use_cpu ? cpu_ms : now_ms;
  const double start = clock_ms(), wall_start = now_ms();
  double t = start;
  while (t - start < ms && (!use_cpu || now_ms() - wall_start < 2 * ms)) {
    for (int i = 0; i < RING; i++) {
      if (!do_op(op, i, sink)) {
        fprintf(stderr, "secp256k1-bench: %s failed on ring entry %d\n", OP_NAMES[op], i);
        exit(3);
      }
    }
    done += RING;
    t = clock_ms();
  }
  return done / ((t - start) / 1e3);
}

static double timed(enum op op, double ms, unsigned char *sink) { return timed_on(op, ms, 0, sink); }

static void *worker(void *arg) {
  const int id = (int)(long)arg;
  unsigned char sink = 0;
  for (int op = 0; op < OP_COUNT; op++) {
    pthread_barrier_wait(&barrier);
    timed(op, warmup_ms, &sink);
    for (int r = 0; r < runs; r++) {
      pthread_barrier_wait(&barrier);
      rates[op][r][id] = timed(op, run_ms, &sink);
    }
  }
  return (void *)(long)sink;
}

/* --serve: one command at a time from stdin; all threads run each command together. */
static int serve = 0;
static volatile int serve_quit = 0;
static enum op serve_op;
static double serve_ms;
static int serve_cpu;
static double serve_rates[MAX_THREADS];

static void *serve_worker(void *arg) {
  const int id = (int)(long)arg;
  unsigned char sink = 0;
  for (;;) {
    pthread_barrier_wait(&barrier);
    if (serve_quit) break;
    serve_rates[id] = timed_on(serve_op, serve_ms, serve_cpu, &sink);
    pthread_barrier_wait(&barrier);
  }
  return (void *)(long)sink;
}

static int serve_commands(void) {
  pthread_barrier_init(&barrier, NULL, (unsigned)threads);
  pthread_t tids[MAX_THREADS];
  for (long t = 1; t < threads; t++) pthread_create(&tids[t], NULL, serve_worker, (void *)t);
  char line[256];
  unsigned char sink = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    char name[32], clock_name[8] = "wall";
    double ms;
    if (!strncmp(line, "quit", 4)) break;
    if (sscanf(line, "run %31s %lf %7s", name, &ms, clock_name) < 2 || ms <= 0 || (strcmp(clock_name, "wall") && strcmp(clock_name, "cpu"))) {
      printf("{\"error\":\"expected: run OP MS [wall|cpu] | quit\"}\n");
      continue;
    }
    serve_cpu = !strcmp(clock_name, "cpu");
    int op = -1;
    for (int o = 0; o < OP_COUNT; o++)
      if (!strcmp(name, OP_NAMES[o])) op = o;
    if (op < 0) {
      printf("{\"error\":\"unknown operation\"}\n");
      continue;
    }
    serve_op = (enum op)op;
    serve_ms = ms;
    pthread_barrier_wait(&barrier);
    serve_rates[0] = timed_on(serve_op, serve_ms, serve_cpu, &sink);
    pthread_barrier_wait(&barrier);
    double total = 0;
    for (int t = 0; t < threads; t++) total += serve_rates[t];
    printf("{\"op\":\"%s\",\"rate\":%.1f}\n", OP_NAMES[op], total);
  }
  serve_quit = 1;
  pthread_barrier_wait(&barrier);
  for (int t = 1; t < threads; t++) pthread_join(tids[t], NULL);
  secp256k1_context_destroy(ctx);
  return (int)(sink & 0);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc && strcmp(argv[i], "--serve")) {
      fprintf(stderr, "secp256k1-bench: %s needs a value\n", argv[i]);
      return 2;
    }
    if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--run-ms")) run_ms = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--warmup-ms")) warmup_ms = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--serve")) {
      serve = 1;
      i--; /* a flag without a value */
    }
    else {
      fprintf(stderr, "secp256k1-bench: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (threads < 1 || threads > MAX_THREADS || runs < 1 || runs > MAX_RUNS || run_ms <= 0 || warmup_ms < 0) {
    fprintf(stderr, "secp256k1-bench: --threads 1..%d, --runs 1..%d, --run-ms > 0, --warmup-ms >= 0\n", MAX_THREADS, MAX_RUNS);
    return 2;
  }

  ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  unsigned char blind[32];
  if (getrandom(blind, sizeof blind, 0) != (ssize_t)sizeof blind || !secp256k1_context_randomize(ctx, blind)) {
    fprintf(stderr, "secp256k1-bench: cannot randomize the context\n");
    return 3;
  }
  for (int k = 0; k < KEYS; k++) {
    do fill(privs[k], 32);
    while (!secp256k1_ec_seckey_verify(ctx, privs[k]));
    secp256k1_pubkey pub;
    size_t len = 33;
    if (!secp256k1_ec_pubkey_create(ctx, &pub, privs[k]) ||
        !secp256k1_ec_pubkey_serialize(ctx, pubs[k], &len, &pub, SECP256K1_EC_COMPRESSED) ||
        !secp256k1_ec_pubkey_parse(ctx, &parsed[k], pubs[k], 33)) return 3;
  }
  for (int i = 0; i < RING; i++) {
    fill(digests[i], 32);
    secp256k1_ecdsa_signature sig;
    if (!secp256k1_ecdsa_sign(ctx, &sig, digests[i], privs[i % KEYS], NULL, NULL)) return 3;
    secp256k1_ecdsa_signature_serialize_compact(ctx, sigs[i], &sig);
  }

  if (serve) return serve_commands();

  pthread_barrier_init(&barrier, NULL, (unsigned)threads);
  pthread_t tids[MAX_THREADS];
  for (long t = 1; t < threads; t++) pthread_create(&tids[t], NULL, worker, (void *)t);
  worker((void *)0);
  for (int t = 1; t < threads; t++) pthread_join(tids[t], NULL);

  printf("{\"library\":\"libsecp256k1\",\"threads\":%d,\"runs\":{", threads);
  for (int op = 0; op < OP_COUNT; op++) {
    printf("%s\"%s\":[", op ? "," : "", OP_NAMES[op]);
    for (int r = 0; r < runs; r++) {
      double total = 0;
      for (int t = 0; t < threads; t++) total += rates[op][r][t];
      printf("%s%.1f", r ? "," : "", total);
    }
    printf("]");
  }
  printf("}}\n");
  secp256k1_context_destroy(ctx);
  return 0;
}
