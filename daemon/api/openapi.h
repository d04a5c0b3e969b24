/*
 * The OpenAPI 3.1 document of the HTTP API, the API's contract, served at
 * GET /openapi.json.  The text is daemon/api/openapi.json, compiled into
 * libdaemon by the build ($(BUILD)/gen/openapi.c).
 */
#ifndef WARDEN_OPENAPI_H
#define WARDEN_OPENAPI_H

#include <stddef.h>

/* The document's openapi_json_len bytes of UTF-8 JSON, followed by a NUL
 * that openapi_json_len does not count.  Static storage: never freed. */
extern const char	openapi_json[];
extern const size_t	openapi_json_len;

#endif
