/* calc: evaluate each command-line word as a reverse-Polish token. */
#include <stdio.h>
#include "calc.h"

static long stack[CALC_STACK_MAX];
static int depth;

static int push(long v)
{
    if (depth >= CALC_STACK_MAX)
        return 0;
    stack[depth++] = v;
    return 1;
}

static int pop(long *v)
{
    if (depth == 0)
        return 0;
    *v = stack[--depth];
    return 1;
}

static int evaluate(const struct token *tok)
{
    long a, b;
    int ok = 1;

    switch (tok->kind) {
    case TOKEN_NUMBER:
        return push(tok->value);
    case TOKEN_UNARY:
        if (!pop(&a))
            return 0;
        a = apply_unary(tok->op, a, &ok);
        return ok && push(a);
    case TOKEN_BINARY:
        if (!pop(&b) || !pop(&a))
            return 0;
        a = apply_binary(tok->op, a, b, &ok);
        return ok && push(a);
    default:
        return 0;
    }
}

int main(int argc, char **argv)
{
    struct token tok;
    long magnitude = 0;
    int i, errors = 0;

    for (i = 1; i < argc; i++) {
        if (!parse_token(argv[i], &tok) || !evaluate(&tok)) {
            printf("error at word %d: %s\n", i, argv[i]);
            errors++;
        }
    }

    for (i = 0; i < depth; i++) {
        printf("[%d] %ld\n", i, stack[i]);
        magnitude += calc_abs(stack[i]);
    }
    printf("magnitude %ld, errors %d\n", magnitude, errors);

    /* Never true for the arguments used to generate the samples; it keeps
     * unused.c linked in so that its counters exist and stay zero. */
    if (argc > 1000) {
        unused_report(stack, depth);
        return (int)(unused_checksum(stack, depth) & 0x7f);
    }
    /* Bad words are reported above but do not change the exit status. */
    return 0;
}
