/*
 * A growing string, and PostgreSQL array literals built in it: how import
 * passes a batch's columns as the parameters of one statement.
 */
#ifndef WARDEN_CTL_TEXTBUF_H
#define WARDEN_CTL_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialised is empty.  After an allocation failure every call does
 * nothing and textbuf_array_close() returns -1. */
struct textbuf {
	char	*s;
	size_t	 len, cap;
	bool	 failed, first;
};

/* Starts an array literal: "{". */
void	textbuf_array_open(struct textbuf *b);

/* Adds an element, double-quoted with '"' and '\' escaped; NULL adds the
 * SQL NULL element. */
void	textbuf_array_add(struct textbuf *b, const char *v);

/* Ends the literal: "}".  0, or -1 when memory ran out on the way. */
int	textbuf_array_close(struct textbuf *b);

/* Frees the buffer, wiping it first when wipe. */
void	textbuf_free(struct textbuf *b, bool wipe);

#endif
