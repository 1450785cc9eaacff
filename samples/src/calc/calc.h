/* calc: a tiny reverse-Polish calculator driven by its command line.
 * Sample program for xencov-rs coverage test data. */
#ifndef CALC_H
#define CALC_H

#define CALC_STACK_MAX 32

enum token_kind {
    TOKEN_NUMBER,
    TOKEN_BINARY,
    TOKEN_UNARY,
    TOKEN_INVALID
};

struct token {
    enum token_kind kind;
    long value;
    char op;
};

/* Used from both main.c and ops.c, so each unit gets its own copy. */
static inline long calc_abs(long v)
{
    if (v < 0)
        return -v;
    return v;
}

/* parse.c */
int parse_token(const char *text, struct token *out);

/* ops.c */
long apply_binary(char op, long lhs, long rhs, int *ok);
long apply_unary(char op, long arg, int *ok);
long factorial(long n);
long fibonacci(long n);

/* unused.c: linked in, but only reachable on a path that never runs */
long unused_checksum(const long *values, int count);
void unused_report(const long *values, int count);

#endif
