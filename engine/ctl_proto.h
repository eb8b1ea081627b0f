/* The control protocol: JSON lines shared by jaild and jailctl. */
#ifndef JAILD_CTL_PROTO_H
#define JAILD_CTL_PROTO_H

#include <stddef.h>

#include <jansson.h>

#define CTL_PROTO_VERSION 1
#define CTL_PROTO_MAXLINE 65536 /* a request line, '\n' included */
/* Replies may be longer: "list" with 100,000 bans is about 12 MiB. */
#define CTL_PROTO_MAXREPLY (64 * 1024 * 1024)

/* {"v":1,"id":id,"cmd":cmd,"args":args}; steals args (may be NULL). */
json_t *ctl_proto_request(long id, const char *cmd, json_t *args);
/* {"v":1,"id":id,"ok":true,"result":result}; steals result. */
json_t *ctl_proto_reply_ok(long id, json_t *result);
/* {"v":1,"id":id,"ok":false,"error":{"code":code,"msg":...}} */
json_t *ctl_proto_reply_error(long id, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One compact line ending in '\n'; NULL if it would exceed MAXLINE. */
char *ctl_proto_encode(const json_t *msg);
/* The same with a limit of max bytes, '\n' included. */
char *ctl_proto_encode_max(const json_t *msg, size_t max);
/*
 * Parse one line; NULL with *cause on bad JSON, not an object, wrong v.
 * "id" must be an integer.  A message with "ok" is a reply ("ok" a
 * boolean, then "result", or "error" with string "code" and "msg"); any
 * other is a request ("cmd" a string, "args" an object or absent).  The
 * caller frames lines and limits their length.
 */
json_t *ctl_proto_decode(const char *line, size_t len, char **cause);
/* The same for the server: only a request ("cmd" a string) passes. */
json_t *ctl_proto_decode_request(const char *line, size_t len, char **cause);

#endif
