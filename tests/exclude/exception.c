/* lcov's exception-branch marker (tests/exclude.rs). C has no exception
   branches: lcov 2 and gcovr leave this line's branches alone, Debian's
   lcov 1.16 drops them all (formats/exclusion-markers.md). */
int odd(int x)
{
	if (x % 2) /* LCOV_EXCL_EXCEPTION_BR_LINE */
		return 1;
	return 0;
}
