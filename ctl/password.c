/*
 * Passwords typed by the operator: create-admin's twice at the terminal
 * (readpassphrase), or two lines of standard input read byte by byte, so
 * that no stdio buffer keeps a copy; --password-stdin's one line; and the
 * rules of a registration that each must pass.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <sodium.h>

#include "ctl.h"
#include "fields.h"

#include "api/blocklist.h"
#include "api/validate.h"

/*
 * Reads one line of standard input into pw, byte by byte with read(2), so
 * that no stdio buffer keeps a copy of it.  Returns 0, or -1 after saying
 * why (end of input before any byte, a read error, a line too long).
 */
static int
read_line(struct secret *pw, const char *what)
{
	ssize_t	 n;
	char	 c;

	pw->len = 0;
	for (;;) {
		n = read(STDIN_FILENO, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, PROG ": reading %s: %s\n", what,
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			if (pw->len == 0) {
				fprintf(stderr, PROG ": no %s on standard "
				    "input\n", what);
				return -1;
			}
			break;
		}
		if (c == '\n')
			break;
		if (pw->len + 1 >= sizeof(pw->s)) {
			/* Drain the rest of the line, then refuse. */
			while ((n = read(STDIN_FILENO, &c, 1)) == 1 ||
			    (n == -1 && errno == EINTR))
				if (n == 1 && c == '\n')
					break;
			c = 0;
			fprintf(stderr, PROG ": %s: longer than %d bytes\n",
			    what, FIELD_PASSWORD_MAX);
			return -1;
		}
		pw->s[pw->len++] = c;
	}
	c = 0;
	pw->s[pw->len] = '\0';
	return 0;
}

/* Reads the password at a terminal prompt: 0, or -1 after saying why. */
static int
read_tty(struct secret *pw, const char *prompt)
{
	if (readpassphrase(prompt, pw->s, sizeof(pw->s),
	    RPP_REQUIRE_TTY) == NULL) {
		fprintf(stderr, PROG ": reading the password: %s\n",
		    strerror(errno));
		return -1;
	}
	pw->len = strlen(pw->s);
	if (pw->len > FIELD_PASSWORD_MAX) {
		fprintf(stderr, PROG ": the password is longer than %d bytes\n",
		    FIELD_PASSWORD_MAX);
		return -1;
	}
	return 0;
}

int
ctl_read_password(struct secret *pw, struct secret *again)
{
	bool	 tty = isatty(STDIN_FILENO);

	if ((tty ? read_tty(pw, "Password: ") :
	    read_line(pw, "password")) == -1)
		return -1;
	if ((tty ? read_tty(again, "Password again: ") :
	    read_line(again, "password confirmation")) == -1)
		return -1;
	if (pw->len != again->len ||
	    sodium_memcmp(pw->s, again->s, pw->len) != 0) {
		fprintf(stderr, PROG ": the passwords do not match\n");
		return -1;
	}
	return 0;
}

int
ctl_read_password_line(struct secret *pw)
{
	return read_line(pw, "password");
}

int
ctl_vet_password(const struct cfg *cfg, const struct secret *pw,
    const char *username, const char *email)
{
	char			 msg[VALIDATE_MSG_MAX], err[512];
	struct blocklist	*bl;
	bool			 ok;

	if ((bl = blocklist_load(cfg->password_blocklist, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": password_blocklist: %s\n", err);
		return -1;
	}
	ok = validate_password(pw->s, pw->len, cfg->password_min_length,
	    username, email, bl, msg);
	blocklist_free(bl);
	if (!ok) {
		fprintf(stderr, PROG ": password: %s\n", msg);
		return -1;
	}
	return 0;
}
