/* hiredis through reborn-proxy: SET/GET, MGET/MSET split across slots (and
 * so across groups), INCR, hash-tagged multi-key commands, and a deep
 * pipeline with redisAppendCommand/redisGetReply whose replies must come back
 * in order. Exits non-zero on the first mismatch.
 *
 *   hiredis_client HOST PORT
 */
#include <hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static redisContext *ctx;
static int checks;

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static const char *type_name(int type) {
  switch (type) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "?";
  }
}

static redisReply *must(redisReply *r, const char *what) {
  if (r == NULL) fail("%s: no reply (%s)", what, ctx->errstr);
  return r;
}

/* Checks a string/status reply's text, or nil when `want` is NULL. */
static void expect_str(redisReply *r, int type, const char *want,
                       const char *what) {
  must(r, what);
  if (want == NULL) {
    if (r->type != REDIS_REPLY_NIL)
      fail("%s: want nil, got %s", what, type_name(r->type));
  } else if (r->type != type || r->len != strlen(want) ||
             memcmp(r->str, want, r->len) != 0) {
    fail("%s: want %s '%s', got %s '%s'", what, type_name(type), want,
         type_name(r->type), r->str ? r->str : "");
  }
  ++checks;
}

static void expect_int(redisReply *r, long long want, const char *what) {
  must(r, what);
  if (r->type != REDIS_REPLY_INTEGER || r->integer != want)
    fail("%s: want integer %lld, got %s %lld '%s'", what, want,
         type_name(r->type), r->integer, r->str ? r->str : "");
  ++checks;
}

static void cmd_str(int type, const char *want, const char *what,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(ctx, fmt, ap);
  va_end(ap);
  expect_str(r, type, want, what);
  freeReplyObject(r);
}

static void cmd_int(long long want, const char *what, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(ctx, fmt, ap);
  va_end(ap);
  expect_int(r, want, what);
  freeReplyObject(r);
}

#define NKEYS 64
#define NPIPE 300

int main(int argc, char **argv) {
  const char *host = argc > 1 ? argv[1] : "127.0.0.1";
  int port = argc > 2 ? atoi(argv[2]) : 19000;
  struct timeval tv = {10, 0};
  char key[64], val[64], what[128];
  int i;

  ctx = redisConnectWithTimeout(host, port, tv);
  if (ctx == NULL || ctx->err)
    fail("connect %s:%d: %s", host, port, ctx ? ctx->errstr : "no memory");
  redisSetTimeout(ctx, tv);

  cmd_str(REDIS_REPLY_STATUS, "PONG", "PING", "PING");
  cmd_str(REDIS_REPLY_STATUS, "OK", "FLUSHALL", "FLUSHALL");

  /* SET/GET, binary-safe values. */
  cmd_str(REDIS_REPLY_STATUS, "OK", "SET", "SET hi:greeting %s", "hello");
  cmd_str(REDIS_REPLY_STRING, "hello", "GET", "GET hi:greeting");
  cmd_str(REDIS_REPLY_STATUS, "OK", "SET binary", "SET hi:bin %b", "a\0b", 3);
  {
    redisReply *r = must(redisCommand(ctx, "GET hi:bin"), "GET binary");
    if (r->type != REDIS_REPLY_STRING || r->len != 3 ||
        memcmp(r->str, "a\0b", 3) != 0)
      fail("GET binary: wrong value");
    freeReplyObject(r);
    ++checks;
  }
  cmd_str(REDIS_REPLY_STRING, NULL, "GET missing", "GET hi:missing");

  /* MSET/MGET over many slots: the proxy splits and merges them. */
  {
    const char *argv_set[1 + 2 * NKEYS];
    size_t lens_set[1 + 2 * NKEYS];
    char keys[NKEYS][32], vals[NKEYS][32];
    argv_set[0] = "MSET";
    lens_set[0] = 4;
    for (i = 0; i < NKEYS; ++i) {
      snprintf(keys[i], sizeof(keys[i]), "hi:m:%d", i);
      snprintf(vals[i], sizeof(vals[i]), "v%d", i * 7);
      argv_set[1 + 2 * i] = keys[i];
      lens_set[1 + 2 * i] = strlen(keys[i]);
      argv_set[2 + 2 * i] = vals[i];
      lens_set[2 + 2 * i] = strlen(vals[i]);
    }
    redisReply *r = redisCommandArgv(ctx, 1 + 2 * NKEYS, argv_set, lens_set);
    expect_str(r, REDIS_REPLY_STATUS, "OK", "MSET");
    freeReplyObject(r);

    /* MGET of every key plus a missing one in the middle. */
    const char *argv_get[2 + NKEYS];
    size_t lens_get[2 + NKEYS];
    argv_get[0] = "MGET";
    lens_get[0] = 4;
    for (i = 0; i < NKEYS; ++i) {
      argv_get[1 + i] = keys[i];
      lens_get[1 + i] = strlen(keys[i]);
    }
    argv_get[1 + NKEYS] = "hi:m:none";
    lens_get[1 + NKEYS] = strlen("hi:m:none");
    r = must(redisCommandArgv(ctx, 2 + NKEYS, argv_get, lens_get), "MGET");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != NKEYS + 1)
      fail("MGET: want %d elements, got %s of %zu", NKEYS + 1,
           type_name(r->type), r->elements);
    for (i = 0; i < NKEYS; ++i) {
      snprintf(what, sizeof(what), "MGET element %d", i);
      expect_str(r->element[i], REDIS_REPLY_STRING, vals[i], what);
    }
    expect_str(r->element[NKEYS], REDIS_REPLY_NIL, NULL, "MGET missing");
    freeReplyObject(r);

    /* DEL and EXISTS are split too: the counts are summed. */
    cmd_int(3, "EXISTS 3 keys", "EXISTS hi:m:1 hi:m:2 hi:m:none hi:m:3");
    cmd_int(2, "DEL 2 keys", "DEL hi:m:1 hi:m:2 hi:m:none");
    cmd_int(1, "EXISTS after DEL", "EXISTS hi:m:1 hi:m:2 hi:m:3");
  }

  /* INCR. */
  cmd_int(1, "INCR 1", "INCR hi:counter");
  cmd_int(2, "INCR 2", "INCR hi:counter");
  cmd_int(12, "INCRBY", "INCRBY hi:counter 10");
  cmd_str(REDIS_REPLY_STRING, "12", "GET counter", "GET hi:counter");

  /* Multi-key commands with one hash tag stay on one slot and pass. */
  cmd_str(REDIS_REPLY_STATUS, "OK", "SET tagged", "SET {hi:t}a 1");
  cmd_str(REDIS_REPLY_STATUS, "OK", "RENAME same slot",
          "RENAME {hi:t}a {hi:t}b");
  cmd_str(REDIS_REPLY_STRING, "1", "GET renamed", "GET {hi:t}b");

  /* A deep pipeline: SET, GET and INCR for many keys, in flight together;
   * the replies must come back in order. */
  for (i = 0; i < NPIPE; ++i) {
    snprintf(key, sizeof(key), "hi:p:%d", i);
    snprintf(val, sizeof(val), "pv%d", i);
    if (redisAppendCommand(ctx, "SET %s %s", key, val) != REDIS_OK ||
        redisAppendCommand(ctx, "GET %s", key) != REDIS_OK ||
        redisAppendCommand(ctx, "INCR hi:pipe") != REDIS_OK)
      fail("redisAppendCommand: %s", ctx->errstr);
  }
  for (i = 0; i < NPIPE; ++i) {
    redisReply *r = NULL;
    snprintf(val, sizeof(val), "pv%d", i);
    snprintf(what, sizeof(what), "pipelined SET %d", i);
    if (redisGetReply(ctx, (void **)&r) != REDIS_OK) fail("%s", ctx->errstr);
    expect_str(r, REDIS_REPLY_STATUS, "OK", what);
    freeReplyObject(r);
    snprintf(what, sizeof(what), "pipelined GET %d", i);
    if (redisGetReply(ctx, (void **)&r) != REDIS_OK) fail("%s", ctx->errstr);
    expect_str(r, REDIS_REPLY_STRING, val, what);
    freeReplyObject(r);
    snprintf(what, sizeof(what), "pipelined INCR %d", i);
    if (redisGetReply(ctx, (void **)&r) != REDIS_OK) fail("%s", ctx->errstr);
    expect_int(r, i + 1, what);
    freeReplyObject(r);
  }

  /* A pipelined MGET over the pipeline's keys, behind other commands. */
  redisAppendCommand(ctx, "MGET hi:p:0 hi:p:150 hi:p:299 hi:p:nope");
  redisAppendCommand(ctx, "GET hi:pipe");
  {
    redisReply *r = NULL;
    if (redisGetReply(ctx, (void **)&r) != REDIS_OK) fail("%s", ctx->errstr);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
      fail("pipelined MGET: want 4 elements, got %s", type_name(r->type));
    expect_str(r->element[0], REDIS_REPLY_STRING, "pv0", "pipelined MGET 0");
    expect_str(r->element[1], REDIS_REPLY_STRING, "pv150", "pipelined MGET 1");
    expect_str(r->element[2], REDIS_REPLY_STRING, "pv299", "pipelined MGET 2");
    expect_str(r->element[3], REDIS_REPLY_NIL, NULL, "pipelined MGET 3");
    freeReplyObject(r);
    if (redisGetReply(ctx, (void **)&r) != REDIS_OK) fail("%s", ctx->errstr);
    snprintf(val, sizeof(val), "%d", NPIPE);
    expect_str(r, REDIS_REPLY_STRING, val, "GET pipe counter");
    freeReplyObject(r);
  }

  /* Cluster-wide DBSIZE fans out to every group. */
  cmd_int(2 + NKEYS - 2 + 1 + 1 + NPIPE + 1, "DBSIZE", "DBSIZE");

  redisFree(ctx);
  printf("hiredis_client: %d checks passed\n", checks);
  return 0;
}
