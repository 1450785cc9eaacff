#include <stdio.h>
#include <stdlib.h>
#include "mcdc.h"

int main(int argc, char **argv)
{
    int v[8];
    int n = 0;
    for (int i = 1; i < argc && n < 8; i++)
        v[n++] = atoi(argv[i]);
    int a = n > 0 ? v[0] : 0, b = n > 1 ? v[1] : 0, c = n > 2 ? v[2] : 0;
    int r = classify(a, b, c);
    int s = scan(v, n, 20);
    if (!clamp_ok(s, 0, 10) && (r > 0 || argc == 1))
        printf("big %d %d\n", r, s);
    else
        printf("small %d %d\n", r, s);
    return 0;
}
