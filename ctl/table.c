/*
 * wardenctl's output (table.h): aligned tables and streamed JSON.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "table.h"

struct table {
	size_t	  ncols;
	char	**header;	/* ncols */
	size_t	 *width;	/* ncols */
	char	**cells;	/* nrows * ncols */
	size_t	  nrows, cap;
	bool	  printed;	/* the header is out */
};

static const char *
shown(const char *s)
{
	return s == NULL || *s == '\0' ? "-" : s;
}

/* Display width: the code points of UTF-8 text (no wide characters in
 * what we print: names, addresses, times, ids). */
static size_t
text_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
oom(void)
{
	fprintf(stderr, PROG ": out of memory\n");
}

struct table *
table_new(size_t ncols, const char *const *headers)
{
	struct table	*t;
	size_t		 i;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->header = calloc(ncols, sizeof(*t->header))) == NULL ||
	    (t->width = calloc(ncols, sizeof(*t->width))) == NULL)
		goto fail;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		if ((t->header[i] = strdup(headers[i])) == NULL)
			goto fail;
		t->width[i] = text_width(headers[i]);
	}
	return t;
fail:
	oom();
	table_free(t);
	return NULL;
}

int
table_add(struct table *t, const char *const *cells)
{
	char	**grown;
	size_t	  i, w, at;

	if (t->nrows == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap * 2;

		if ((grown = reallocarray(t->cells, cap * t->ncols,
		    sizeof(*grown))) == NULL) {
			oom();
			return -1;
		}
		t->cells = grown;
		t->cap = cap;
	}
	at = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		if ((t->cells[at + i] = strdup(shown(cells[i]))) == NULL) {
			while (i-- > 0)
				free(t->cells[at + i]);
			oom();
			return -1;
		}
	}
	/* Widths grow only while nothing is printed: printed rows stay
	 * aligned with the header. */
	if (!t->printed)
		for (i = 0; i < t->ncols; i++)
			if ((w = text_width(t->cells[at + i])) > t->width[i])
				t->width[i] = w;
	t->nrows++;
	return 0;
}

static void
print_row(FILE *fp, const struct table *t, char *const *cells)
{
	size_t i, w;

	for (i = 0; i < t->ncols; i++) {
		if (i + 1 == t->ncols) {
			fprintf(fp, "%s\n", cells[i]);
			break;
		}
		w = text_width(cells[i]);
		fprintf(fp, "%s%*s", cells[i],
		    (int)(t->width[i] > w ? t->width[i] - w : 0) + 2, "");
	}
}

int
table_print(struct table *t, FILE *fp)
{
	size_t	 r, i;

	if (t->nrows == 0 && !t->printed)
		return 0;
	if (!t->printed) {
		print_row(fp, t, t->header);
		t->printed = true;
	}
	for (r = 0; r < t->nrows; r++) {
		print_row(fp, t, &t->cells[r * t->ncols]);
		for (i = 0; i < t->ncols; i++)
			free(t->cells[r * t->ncols + i]);
	}
	t->nrows = 0;
	if (fflush(fp) == EOF || ferror(fp)) {
		fprintf(stderr, PROG ": writing the output failed\n");
		return -1;
	}
	return 0;
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	for (i = 0; t->header != NULL && i < t->ncols; i++)
		free(t->header[i]);
	free(t->header);
	free(t->width);
	free(t);
}

int
table_pairs(FILE *fp, size_t n, const char *const *keys,
    const char *const *values)
{
	size_t	 i, w = 0;

	for (i = 0; i < n; i++)
		if (text_width(keys[i]) > w)
			w = text_width(keys[i]);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s:%*s%s\n", keys[i],
		    (int)(w - text_width(keys[i])) + 2, "", shown(values[i]));
	if (fflush(fp) == EOF || ferror(fp)) {
		fprintf(stderr, PROG ": writing the output failed\n");
		return -1;
	}
	return 0;
}

int
table_json_begin(FILE *fp, bool *first)
{
	*first = true;
	return fputs("[", fp) == EOF ? -1 : 0;
}

int
table_json_item(FILE *fp, cJSON *item, bool *first)
{
	char	*s;

	if (item == NULL || (s = cJSON_PrintUnformatted(item)) == NULL) {
		cJSON_Delete(item);
		oom();
		return -1;
	}
	cJSON_Delete(item);
	fprintf(fp, "%s%s", *first ? "" : ",\n", s);
	*first = false;
	free(s);
	if (ferror(fp)) {
		fprintf(stderr, PROG ": writing the output failed\n");
		return -1;
	}
	return 0;
}

int
table_json_end(FILE *fp)
{
	fputs("]\n", fp);
	if (fflush(fp) == EOF || ferror(fp)) {
		fprintf(stderr, PROG ": writing the output failed\n");
		return -1;
	}
	return 0;
}

int
table_json_print(FILE *fp, cJSON *v)
{
	char	*s;

	if (v == NULL || (s = cJSON_PrintUnformatted(v)) == NULL) {
		cJSON_Delete(v);
		oom();
		return -1;
	}
	cJSON_Delete(v);
	fprintf(fp, "%s\n", s);
	free(s);
	if (fflush(fp) == EOF || ferror(fp)) {
		fprintf(stderr, PROG ": writing the output failed\n");
		return -1;
	}
	return 0;
}

void
table_json_string_or_null(cJSON *o, const char *name, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(o, name, s);
	else
		cJSON_AddNullToObject(o, name);
}
