/* A small program for real LLVM raw profiles (scripts/gen-llvm-samples).
 * Branches, a loop, a switch and an uncalled function, so that the
 * counters differ between runs with different arguments. */
#include <stdio.h>
#include <stdlib.h>

static int classify(int x)
{
    switch (x % 4) {
    case 0:
        return 10;
    case 1:
        return 20;
    default:
        return x < 0 ? -1 : 30;
    }
}

static int unused(int x)
{
    return x * 7;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum += classify(i);
    if (sum > 1000)
        sum = unused((int)sum);
    printf("%ld\n", sum);
    return 0;
}
