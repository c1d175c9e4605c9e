/* config/conf_lex.c: a configuration file's bytes as statements.
 *
 * The lexer turns the text into words, "{", "}" and ends of statement (a
 * newline or ";"); a statement is its words up to one of those. Also the
 * parser's error and small helpers the other parts share.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* asprintf, vasprintf */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"


int
fail_at(struct parser *p, const char *file, int line, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int rc;

	if (p->err != NULL)
		return -1;
	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;      /* parse_main then reports "out of memory" */
	if (asprintf(&p->err, "%s:%d: %s", file, line, msg) == -1)
		p->err = NULL;
	free(msg);
	return -1;
}

/* "line N", or "FILE:N" when the first sighting was in another file. */
const char *
first_at(char *buf, size_t size, const char *file, int line, const char *cur)
{
	if (strcmp(file, cur) == 0)
		snprintf(buf, size, "line %d", line);
	else
		snprintf(buf, size, "%s:%d", file, line);
	return buf;
}

/* ARR of N elements grown by one zeroed element; NULL when out of memory,
 * ARR then unchanged. */
void *
grow(void *arr, size_t n, size_t size)
{
	char *a;

	if ((a = realloc(arr, (n + 1) * size)) == NULL)
		return NULL;
	memset(a + n * size, 0, size);
	return a;
}

/* NAME, kept as long as the conf: struct conf_at points to it. */
const char *
keep_name(struct parser *p, const char *name)
{
	size_t len = strlen(name);
	struct conf_file *f;

	if ((f = malloc(sizeof(*f) + len + 1)) == NULL)
		return NULL;
	memcpy(f->name, name, len + 1);
	f->next = p->cf->files;
	p->cf->files = f;
	return f->name;
}

/* Lexer */

static int
lex_push(struct parser *p, struct lex *lx, char c)
{
	char *b;

	if (lx->len + 1 >= lx->cap) {
		if ((b = realloc(lx->buf, lx->cap * 2 + 64)) == NULL)
			return fail_at(p, lx->file, lx->line, "out of memory");
		lx->buf = b;
		lx->cap = lx->cap * 2 + 64;
	}
	lx->buf[lx->len++] = c;
	lx->buf[lx->len] = '\0';
	return 0;
}

static bool
is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	    c == '{' || c == '}';
}

static enum tok
lex_quoted(struct parser *p, struct lex *lx)
{
	char c;

	for (lx->s++; lx->s < lx->end && *lx->s != '\n'; lx->s++) {
		c = *lx->s;
		if (c == '"') {
			lx->s++;
			if (lx->s < lx->end && !is_delim(*lx->s) &&
			    *lx->s != '#') {
				fail_at(p, lx->file, lx->line,
				    "missing space after string");
				return TOK_ERR;
			}
			return TOK_WORD;
		}
		if (c == '\\') {
			if (lx->s + 1 == lx->end ||
			    (lx->s[1] != '"' && lx->s[1] != '\\')) {
				fail_at(p, lx->file, lx->line,
				    "invalid escape in string");
				return TOK_ERR;
			}
			c = *++lx->s;
		}
		if (lex_push(p, lx, c) == -1)
			return TOK_ERR;
	}
	fail_at(p, lx->file, lx->line, "unterminated string");
	return TOK_ERR;
}

static enum tok
lex_bare(struct parser *p, struct lex *lx)
{
	for (; lx->s < lx->end && !is_delim(*lx->s); lx->s++)
		if (lex_push(p, lx, *lx->s) == -1)
			return TOK_ERR;
	return TOK_WORD;
}

static enum tok
lex_next(struct parser *p, struct lex *lx)
{
	for (;;) {
		while (lx->s < lx->end && (*lx->s == ' ' || *lx->s == '\t' ||
		    *lx->s == '\r'))
			lx->s++;
		lx->tokline = lx->line;
		if (lx->s == lx->end)
			return TOK_EOF;
		if (*lx->s != '#')
			break;
		while (lx->s < lx->end && *lx->s != '\n')
			lx->s++;
	}
	lx->len = 0;
	switch (*lx->s) {
	case '\n':
		lx->line++;
		/* FALLTHROUGH */
	case ';':
		lx->s++;
		return TOK_END;
	case '{':
		lx->s++;
		return TOK_OPEN;
	case '}':
		lx->s++;
		return TOK_CLOSE;
	case '"':
		return lex_quoted(p, lx);
	default:
		return lex_bare(p, lx);
	}
}

void
stmt_clear(struct stmt *st)
{
	int i;

	for (i = 0; i < st->nwords && i < STMT_MAX; i++)
		free(st->argv[i]);
	memset(st, 0, sizeof(*st));
}

/* The next statement: its words and what ended it.  Skips empty ones. */
int
stmt_read(struct parser *p, struct stmt *st)
{
	struct lex *lx = p->lx;
	enum tok t;

	st->file = lx->file;
	for (;;) {
		if ((t = lex_next(p, lx)) == TOK_ERR)
			return -1;
		if (st->nwords == 0)
			st->line = lx->tokline;
		if (t == TOK_END && st->nwords == 0)
			continue;
		if (t != TOK_WORD)
			break;
		if (lx->len == 0)
			return fail_at(p, lx->file, lx->tokline,
			    "empty string");
		if (st->nwords < STMT_MAX &&
		    (st->argv[st->nwords] = strdup(lx->buf)) == NULL)
			return fail_at(p, lx->file, lx->tokline,
			    "out of memory");
		st->nwords++;
	}
	st->term = t;
	return 0;
}

