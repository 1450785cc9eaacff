/* Macros, a switch, loops, a folded `while (1)`, skipped code and a header
 * function shared with multi_b.c (scripts/gen-llvm-samples). */
#include <stdio.h>
#include <stdlib.h>
#include "multi.h"

#define LOG_HITS 0

static int kind(int x)
{
    switch (x & 3) {
    case 0:
        return 1;
    case 1:
    case 2:
        return IS_ODD(x) ? 2 : 3;
    default:
        break;
    }
    return 4;
}

int work_a(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++) {
        s += CLAMP(kind(i) * scale(i, 2), 1, 12);
#if LOG_HITS
        printf("hit %d\n", i);
#endif
    }
    int j = 0;
    while (1) {
        if (++j > n / 2)
            break;
        s += TWICE(j);
    }
    do {
        s--;
    } while (s > 1000);
    return s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5;
    int r = work_a(n) + work_b(n);
    if (r < 0 && n > 100)
        return 1;
    printf("%d\n", r);
    return 0;
}
