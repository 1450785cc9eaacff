/* Division and modulo by run-time values. */
#include "vp.h"

unsigned long divide_all(const unsigned *values, int count, unsigned divisor)
{
    unsigned long sum = 0;
    int i;

    for (i = 0; i < count; i++)
        sum += values[i] / divisor;
    return sum;
}

unsigned long remainder_all(const unsigned *values, int count, unsigned modulus)
{
    unsigned long sum = 0;
    int i;

    for (i = 0; i < count; i++)
        sum += values[i] % modulus;
    return sum;
}
