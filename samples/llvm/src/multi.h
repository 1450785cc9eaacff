/* Shared by multi_a.c and multi_b.c (scripts/gen-llvm-samples): a static
 * inline function compiled into both units, and macros with branches. */
#ifndef MULTI_H
#define MULTI_H

#define CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))
#define IS_ODD(v) ((v) & 1)
#define TWICE(v) (IS_ODD(v) ? (v) * 2 + 1 : (v) * 2)

static inline int scale(int x, int k)
{
    if (x < 0)
        return -x * k;
    return x * k;
}

int work_a(int n);
int work_b(int n);

#endif
