/*
 * The HTML templates of the login portal: a strict subset of Mustache,
 * read from ui_dir (etc/ui/, installed to /etc/warden/ui/) so that an
 * operator can rebrand the pages without a rebuild.
 *
 *   {{name}} {{a.b.c}} {{.}}   a value of the view, always HTML-escaped
 *   {{#name}}...{{/name}}      a section: once, once per element, or never
 *   {{^name}}...{{/name}}      an inverted section
 *   {{> partial}}              another template of the set
 *   {{! comment }}             nothing
 *
 * There is no unescaped output ({{{x}}} and {{&x}} are load errors: a
 * page that needs markup takes it from a partial), no set-delimiter and no
 * lambdas.  Section, inverted, closing, partial and comment tags alone on
 * their line take the line with them, as in Mustache (a partial's lines
 * are not re-indented).  Templates are parsed once, at load; rendering
 * walks the parsed nodes.
 */
#ifndef WARDEN_UI_TMPL_H
#define WARDEN_UI_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct evbuffer;

#define TMPL_FILE_MAX		(64 * 1024)	/* bytes of one template */
#define TMPL_FILES_MAX		64		/* templates of one set */
#define TMPL_DEPTH_MAX		8		/* partials within partials */
#define TMPL_SECTION_MAX	16		/* sections within sections */
#define TMPL_NAME_MAX		32		/* bytes of a template's name */
#define TMPL_KEY_MAX		64		/* bytes of a {{name}} */
#define TMPL_OUTPUT_MAX		(1024 * 1024)	/* bytes of one rendering */

/* The parsed templates of one directory, immutable once loaded (so one set
 * may serve every request until a reload replaces it). */
struct tmpl_set;

/*
 * Loads every NAME.html of dir (NAME is [a-z0-9_-]{1,32}; other entries
 * are ignored), at most TMPL_FILE_MAX bytes each and TMPL_FILES_MAX files,
 * parses them, and checks that every partial a template names exists and
 * that partials neither recurse nor nest deeper than TMPL_DEPTH_MAX.
 * Returns a new set (free with tmpl_set_free()), or NULL with a reason
 * naming the file and the line in err.
 */
struct tmpl_set	*tmpl_set_load(const char *dir, char *err, size_t errlen);

/*
 * The same from memory, for tests and fuzzing: n templates, names[i]
 * (without ".html") with the NUL-terminated text texts[i].  The set keeps
 * copies.  NULL with "NAME.html:LINE: reason" in err.
 */
struct tmpl_set	*tmpl_set_from(const char *const *names,
		    const char *const *texts, size_t n, char *err,
		    size_t errlen);

/* Frees s and everything it holds (NULL is fine). */
void		 tmpl_set_free(struct tmpl_set *s);

/* True when s holds a template called name. */
bool		 tmpl_set_has(const struct tmpl_set *s, const char *name);

/*
 * Renders template name of s with view (a cJSON object, or NULL for an
 * empty one) and appends the HTML to out.  Returns 0, or -1 (unknown name,
 * output past TMPL_OUTPUT_MAX, sections over arrays past a bound of work
 * even with no output, out of memory) with out left as it was.
 */
int		 tmpl_render(const struct tmpl_set *s, const char *name,
		    const cJSON *view, struct evbuffer *out);

#endif
