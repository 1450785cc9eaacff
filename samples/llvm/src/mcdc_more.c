/* MC/DC beyond samples/llvm/src/mcdc.c, built and run live by
 * tests/llvm_mcdc.rs (not stored): four conditions, a decision in a macro,
 * constant-folded conditions, and decisions nested in a conditional. */
#include <stdlib.h>

#define BOTH(x, y) ((x) && (y))

static int f(int a, int b, int c, int d)
{
    if ((a || b) && (c || d))
        return 1;
    if (BOTH(a, c) || d)
        return 2;
    if (a && 1 && b)
        return 3;
    if (0 || (a && c))
        return 4;
    return (a && b) ? (c || d) : (b && d);
}

int main(int argc, char **argv)
{
    int s = 0;
    for (int i = 1; i < argc; i++) {
        int v = atoi(argv[i]);
        s += f(v & 1, v & 2, v & 4, v & 8);
    }
    return s & 1;
}
