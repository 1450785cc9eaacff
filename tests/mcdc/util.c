#include "mcdc.h"

int classify(int a, int b, int c)
{
    int r = 0;
    if (a && b)
        r |= 1;
    if (a || b || c)
        r |= 2;
    if (!(a && !b) && c)
        r |= 4;
    if ((a > 0 && b > 0) || (c > 0 && !(a == b)))
        r |= 8;
    if (a) { if (b || c) r |= 16; } else if (b && c) r |= 32;
    r |= (IN_RANGE(a, 1, 5) ? 64 : 0) | ((IN_RANGE(b, -1, 1) || c == 7) ? 128 : 0);
    return clamp_ok(r, 0, 200) ? r : -1;
}

int scan(const int *v, int n, int limit)
{
    int i = 0, sum = 0;
    while (i < n && (v[i] >= 0 || v[i] == -limit) && sum < limit) {
        sum += v[i] > 0 ? v[i] : -v[i];
        for (int j = 0; j < 2 && !(sum & 1); j++)
            sum++;
        i++;
    }
    return sum;
}
