/* Decisions for condition coverage (tests/mcdc.rs). The header's inline
   function is compiled into both units. */
#ifndef MCDC_H
#define MCDC_H

#define IN_RANGE(x, lo, hi) ((x) >= (lo) && (x) <= (hi))

static inline int clamp_ok(int v, int lo, int hi)
{
    if (lo <= hi && (v < lo || v > hi))
        return 0;
    return 1;
}

int classify(int a, int b, int c);
int scan(const int *v, int n, int limit);

#endif
