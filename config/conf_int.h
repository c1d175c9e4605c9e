/* config/conf_int.h: what the parts of the config parser share (lexer,
 * value parsers, directive table, load). Only the config/ sources include
 * it; the contract for everyone else is conf.h.
 */
#ifndef PORTICO_CONF_INT_H
#define PORTICO_CONF_INT_H

#include "conf.h"

#define CONF_MAX_DEPTH  8       /* include nesting, stops include loops */
#define STMT_MAX        33      /* words kept (trusted_proxies takes 32
				 * arguments); more only count */

#define IN_MAIN         0x01    /* allowed at top level */
#define IN_BACKEND      0x02    /* allowed inside backend { } */
#define HAS_BLOCK       0x04    /* needs "{" */
#define IS_MULTI        0x08    /* may appear more than once */
#define IN_TLS          0x10    /* allowed inside tls { } */

#define OFF(f)          offsetof(struct conf, f)
#define NELEMS(a)       (sizeof(a) / sizeof((a)[0]))
#define KIB             1024ULL
#define MIB             (1024ULL * 1024)
#define ALPN_DEFAULT    "\x02h2\x08http/1.1"

struct parser;
struct stmt;
struct directive;

typedef int directive_fn(struct parser *p, const struct directive *d,
    struct stmt *st);

struct directive {
	const char *name;
	directive_fn *run;
	int min, max;           /* arguments after the name */
	unsigned flags;
	size_t off;             /* field in struct conf, for generic handlers */
	uint64_t lo, hi;        /* accepted range, for sizes and counts */
};

/* Room for the single directives' first sightings in struct parser;
 * conf_directives.c checks that the table fits. */
#define CONF_NDIRECTIVES_MAX 96

enum tok {
	TOK_WORD = 0,
	TOK_END,                /* newline or ";" */
	TOK_OPEN,               /* "{" */
	TOK_CLOSE,              /* "}" */
	TOK_EOF,
	TOK_ERR,                /* parser error already set */
};

struct lex {
	const char *file;       /* owned by parser.files */
	const char *s, *end;
	int line;               /* of the next byte */
	int tokline;            /* of the last token */
	char *buf;              /* the last word, NUL-terminated */
	size_t len, cap;
};

struct stmt {
	char *argv[STMT_MAX];   /* the first words, malloc'd */
	int nwords;             /* all words, even those not kept */
	int line;
	const char *file;
	enum tok term;          /* what ended it */
};

struct conf_file {
	struct conf_file *next;
	char name[];
};

/* A route's backend by name, resolved once every backend is known. */
struct pending {
	char *backend;
	const char *file;
};

struct parser {
	struct conf *cf;
	char *err;
	struct lex *lx;                 /* the file being read */
	bool is_backend;                /* inside backend { } */
	bool is_tls;                    /* inside tls { } */
	size_t cur;                     /* that backend's index */
	int depth;                      /* include nesting */
	int main_last_line;
	const char *main_file;
	const char **listen_file;       /* per listen */
	const char **backend_file;      /* per backend */
	struct pending *pending;        /* per route */
	/* Single directives: where each was first used, by table index. */
	int seen_line[CONF_NDIRECTIVES_MAX];
	const char *seen_file[CONF_NDIRECTIVES_MAX];
};

/* conf_lex.c: errors, small helpers and the lexer */

/* Sets P's error to "FILE:LINE: message" unless one is set; returns -1. */
int fail_at(struct parser *p, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define fail(p, st, ...)        fail_at(p, (st)->file, (st)->line, __VA_ARGS__)
/* "line N", or "FILE:N" when the first sighting was in another file. */
const char *first_at(char *buf, size_t size, const char *file, int line,
    const char *cur);
/* ARR of N elements grown by one zeroed element; NULL when out of memory. */
void *grow(void *arr, size_t n, size_t size);
/* NAME, kept as long as the conf: struct conf_at points to it. */
const char *keep_name(struct parser *p, const char *name);
/* Frees ST's words. */
void stmt_clear(struct stmt *st);
/* The next statement from P's lexer; 0, or -1 with P's error set. */
int stmt_read(struct parser *p, struct stmt *st);

/* conf_value.c: sizes, durations, counts, addresses */

/* A plain decimal number; 0, or -1 when S is not one. */
int parse_number(const char *s, uint64_t *v);
/* A size with an optional k/m/g suffix; 0 or -1. */
int parse_size(const char *s, uint64_t *v);
/* Milliseconds; a plain number is seconds. 0 or -1. */
int parse_duration(const char *s, unsigned *ms);
/* V as written in a message ("64k"), in BUF. */
const char *fmt_size(char *buf, size_t size, uint64_t v);
/* S, an argument of ST, as an address into A; 0, or -1 with P's error set. */
int addr_arg(struct parser *p, struct stmt *st, struct conf_addr *a,
    const char *s);

/* conf_directives.c: the directive table, its handlers and dispatch */

/* Runs the directive ST names, after checking its place and arguments. */
int stmt_run(struct parser *p, struct stmt *st);
/* The table index of NAME, a directive the table has (for seen_line). */
size_t directive_index(const char *name);

/* conf.c: files, includes, whole-file checks, lifetime */

/* Statements up to the end of the file, or up to "}" when IN_BLOCK. */
int parse_body(struct parser *p, bool in_block, int open_line);
/* GLOB relative to FILE's directory, malloc'd; NULL when out of memory. */
char *include_pattern(const char *file, const char *glb);
/* The "include" directive: parses the files in place. */
int run_include(struct parser *p, const struct directive *d, struct stmt *st);

#endif
