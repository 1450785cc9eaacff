/* Calls some of what markers.c and gcovr.c define (tests/exclude.rs). */
#include <stdio.h>

int classify(int x);
int pick(int a, int b);
int odd(int x);
int debug_dump(int x);
int g_clamp(int x);
int g_sum(int n);

int main(int argc, char **argv)
{
	int t = 0;
	for (int i = -2; i < 20; i++)
		t += classify(i) + pick(i & 1, i & 2) + odd(i);
	if (argc > 5)
		t += debug_dump(argc);
	t += g_clamp(argc) + g_sum(argc + 6);
	printf("%d\n", t);
	return 0;
}
