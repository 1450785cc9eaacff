/* Tiny program for a real LLVM raw profile (samples/llvm/). */
static int square(int x) { return x * x; }
static int never(int x) { return x + 1; }

int main(void)
{
    int i, sum = 0;
    for (i = 0; i < 5; i++)
        sum += square(i);
    if (sum < 0)
        sum = never(sum);
    return sum == 30 ? 0 : 1;
}
