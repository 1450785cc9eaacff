/* The second unit of multi (scripts/gen-llvm-samples): the header's
 * inline function again, a macro in a condition, a never-called function. */
#include "multi.h"

static int never(int x)
{
    return CLAMP(x, 0, 3);
}

int work_b(int n)
{
    int t = 0;
    for (int i = -n; i < n; i += 3)
        if (IS_ODD(i) && scale(i, 3) > 4)
            t += scale(i, 1);
        else
            t -= 1;
    return n > 1000 ? never(t) : t;
}
