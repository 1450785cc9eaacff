/* Arithmetic operators for calc. */
#include "calc.h"

static long power(long base, long exponent)
{
    long result = 1;

    while (exponent > 0) {
        if (exponent & 1)
            result *= base;
        base *= base;
        exponent >>= 1;
    }
    return result;
}

long factorial(long n)
{
    if (n <= 1)
        return 1;
    return n * factorial(n - 1);
}

long fibonacci(long n)
{
    if (n < 2)
        return n;
    return fibonacci(n - 1) + fibonacci(n - 2);
}

long apply_binary(char op, long lhs, long rhs, int *ok)
{
    *ok = 1;
    switch (op) {
    case '+':
        return lhs + rhs;
    case '-':
        return lhs - rhs;
    case '*':
        return lhs * rhs;
    case '/':
        if (rhs == 0)
            break;
        return lhs / rhs;
    case '%':
        if (rhs == 0)
            break;
        return calc_abs(lhs) % calc_abs(rhs);
    case '^':
        if (rhs < 0)
            break;
        return power(lhs, rhs);
    default:
        break;
    }
    *ok = 0;
    return 0;
}

long apply_unary(char op, long arg, int *ok)
{
    *ok = 1;
    switch (op) {
    case '!':
        if (arg < 0 || arg > 20)
            break;
        return factorial(arg);
    case 'F':
        if (arg < 0 || arg > 25)
            break;
        return fibonacci(arg);
    case 'n':
        return -arg;
    default:
        break;
    }
    *ok = 0;
    return 0;
}
