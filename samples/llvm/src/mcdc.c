/* Decisions with several conditions, built with -fcoverage-mcdc
 * (scripts/gen-llvm-samples): each decision gets MC/DC bitmap bytes. */
#include <stdio.h>
#include <stdlib.h>

static int decide(int a, int b, int c)
{
    if ((a && b) || c)
        return 1;
    return 0;
}

static int range(int x)
{
    return x > 2 && x < 9 && x != 5;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    int hits = 0;
    for (int i = 0; i < n; i++)
        hits += decide(i & 1, i & 2, i > 2) + range(i);
    printf("%d\n", hits);
    return 0;
}
