/*
 * Logging: one line per event on stderr (journald takes it), logfmt
 * (key=value) by default, JSON lines with log_format json.  Text from
 * clients is escaped so that no CR, LF or control byte can split or forge
 * a line.  Never pass a password, stored hash or token to these functions.
 */
#ifndef WARDEN_LOG_H
#define WARDEN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define LOG_FATAL	0
#define LOG_ERROR	1
#define LOG_WARN	2
#define LOG_INFO	3
#define LOG_DEBUG	4

/* Longest line written, newline included; a longer one is cut and ends
 * with truncated=true (logfmt) or "truncated":true (JSON). */
#define LOG_LINE_MAX	8192

/* Sets the program name, level and format (json = true for JSON lines). */
void	log_init(const char *progname, int level, bool json);
void	log_set_level(int level);
void	log_set_json(bool json);
int	log_get_level(void);

/* "error", "warn", "info", "debug" -> LOG_*; -1 when unknown. */
int	log_level_from_name(const char *name);

/*
 * Writes one line: ts, level, prog, func (when func != NULL, on debug and
 * fatal lines and on every line while the level is debug), msg (printf
 * format, escaped).  Lines are written with one write(2); errno is kept.
 */
void	log_msg(int level, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_vmsg(int level, const char *func, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));

/* log_event(LOG_INFO, "access", "request_id", id, "status", "200", NULL):
 * msg=access and each key=value pair; values are escaped.  Values must not
 * be NULL (a NULL value ends the list).  Keys are kept to [A-Za-z0-9_.-]. */
void	log_event(int level, const char *event, ...)
	    __attribute__((sentinel));

/* Logs at LOG_FATAL and exits with status 1. */
void	log_fatal(const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* Arguments below the current level are not evaluated. */
#define log_at(lvl, ...) do {						\
	if ((lvl) <= log_get_level())					\
		log_msg((lvl), __func__, __VA_ARGS__);			\
} while (0)

#define fatal(...)	log_fatal(NULL, __VA_ARGS__)
#define fatal_f(...)	log_fatal(__func__, __VA_ARGS__)
#define log_error(...)	log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_at(LOG_DEBUG, __VA_ARGS__)

/*
 * Escapes src (srclen bytes, any content) for a log value into dst:
 * printable ASCII passes, '"' and '\\' are backslashed, \n \r \t are
 * written as such, any other byte as \xNN.  Always NUL-terminates; returns
 * the length the full escape needs (like strlcpy), so truncation shows.
 */
size_t	log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
