/* Token parsing for calc. */
#include "calc.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(const char *text, long *out)
{
    long value = 0;
    int negative = 0;

    if (*text == '-') {
        negative = 1;
        text++;
    }
    if (*text == '\0')
        return 0;
    while (*text != '\0') {
        if (!is_digit(*text))
            return 0;
        value = value * 10 + (*text - '0');
        text++;
    }
    *out = negative ? -value : value;
    return 1;
}

int parse_token(const char *text, struct token *out)
{
    out->value = 0;
    out->op = 0;

    if (text[0] != '\0' && text[1] == '\0') {
        switch (text[0]) {
        case '+':
        case '-':
        case '*':
        case '/':
        case '%':
        case '^':
            out->kind = TOKEN_BINARY;
            out->op = text[0];
            return 1;
        case '!':
        case 'F':
        case 'n':
            out->kind = TOKEN_UNARY;
            out->op = text[0];
            return 1;
        default:
            break;
        }
    }
    if (parse_number(text, &out->value)) {
        out->kind = TOKEN_NUMBER;
        return 1;
    }
    out->kind = TOKEN_INVALID;
    return 0;
}
