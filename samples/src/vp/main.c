/* vp PATTERN SIZE DIVISOR LENGTH ROUNDS */
#include <stdio.h>
#include <stdlib.h>
#include "vp.h"

#define VALUE_COUNT 48

int main(int argc, char **argv)
{
    unsigned values[VALUE_COUNT];
    unsigned divisor;
    long size;
    size_t length;
    int rounds, i;

    if (argc != 6) {
        fprintf(stderr, "usage: vp PATTERN SIZE DIVISOR LENGTH ROUNDS\n");
        return 2;
    }
    size = atol(argv[2]);
    divisor = (unsigned)strtoul(argv[3], NULL, 10);
    length = (size_t)strtoul(argv[4], NULL, 10);
    rounds = atoi(argv[5]);
    if (divisor == 0)
        divisor = 1;

    for (i = 0; i < VALUE_COUNT; i++)
        values[i] = (unsigned)(i * 37 + size);

    printf("shapes %ld\n", run_shapes(argv[1], size));
    printf("quotients %lu\n", divide_all(values, VALUE_COUNT, divisor));
    printf("remainders %lu\n", remainder_all(values, VALUE_COUNT, divisor));
    printf("copies %lu\n", copy_rounds(length, rounds));
    return 0;
}
