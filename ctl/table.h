/*
 * wardenctl's output: aligned tables for people, JSON for scripts.
 *
 * A table buffers rows and prints them with each column as wide as its
 * widest cell so far (the last column unpadded), under a header row.  A
 * long listing prints in batches (table_print after each page): the
 * widths are set by the first batch and only ever grow, so a later, wider
 * cell pushes its own row out rather than holding the whole list in
 * memory.
 *
 * A JSON list streams: table_json_begin, one table_json_item per element,
 * table_json_end make one array, whatever its length.
 */
#ifndef WARDEN_CTL_TABLE_H
#define WARDEN_CTL_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

struct table;

/* A table of ncols columns with these headers (copied), or NULL after
 * saying "out of memory". */
struct table	*table_new(size_t ncols, const char *const *headers);

/* Adds a row of ncols cells (copied; NULL or "" is shown as "-").  0, or
 * -1 after saying "out of memory". */
int		 table_add(struct table *t, const char *const *cells);

/* Prints the header (the first time) and the rows buffered, then forgets
 * them.  A table with no rows ever prints nothing.  0, or -1 on a write
 * error (said). */
int		 table_print(struct table *t, FILE *fp);

/* Frees t and its rows; NULL is fine. */
void		 table_free(struct table *t);

/* Prints key/value lines, the keys aligned: n pairs of keys[i], values[i]
 * (NULL or "" shown as "-").  0, or -1 on a write error. */
int		 table_pairs(FILE *fp, size_t n, const char *const *keys,
		    const char *const *values);

/*
 * A streamed JSON array on fp: begin writes "[", item writes the element
 * (then frees it; NULL is "out of memory") with the separator it needs,
 * end writes "]" and a newline.  Each returns 0 or -1 after saying why.
 */
int		 table_json_begin(FILE *fp, bool *first);
int		 table_json_item(FILE *fp, cJSON *item, bool *first);
int		 table_json_end(FILE *fp);

/* Prints one JSON value and a newline, then frees it (NULL: "out of
 * memory").  0 or -1. */
int		 table_json_print(FILE *fp, cJSON *v);

/* Adds member name to o: the string s, or null when s is NULL. */
void		 table_json_string_or_null(cJSON *o, const char *name,
		    const char *s);

#endif
