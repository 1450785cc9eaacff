/* Helpers that calc links in but never calls for ordinary input. */
#include <stdio.h>
#include "calc.h"

static unsigned long mix(unsigned long h, long v)
{
    h ^= (unsigned long)v;
    h *= 1099511628211UL;
    return h;
}

long unused_checksum(const long *values, int count)
{
    unsigned long h = 14695981039346656037UL;
    int i;

    for (i = 0; i < count; i++)
        h = mix(h, values[i]);
    return (long)(h >> 1);
}

void unused_report(const long *values, int count)
{
    int i;

    for (i = 0; i < count; i++) {
        if (values[i] % 2 == 0)
            printf("even %ld\n", values[i]);
        else
            printf("odd %ld\n", values[i]);
    }
}
