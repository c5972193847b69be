/* Seeded faults for the verifier's mutation suite (tests/verify/run_mutants.sh): each
 * OFFRX_MUTANT(n) in the core is a one-line fault that is 0 in every normal build. Only a
 * build with -DOFFRX_MUTANTS (the offrx_mutant library of tests/verify, CMake option
 * OFFRX_MUTANTS) can turn one on, and then only fault n = the OFFRX_MUTANT environment
 * variable. The list of faults and the rule each breaks is tests/verify/mutants.txt. */
#ifndef OFFRX_MUTANT_H
#define OFFRX_MUTANT_H

#ifdef OFFRX_MUTANTS
#include <stdlib.h>

static inline int offrx_mutant_selected(void)
{
	static int n = -1;
	if (n < 0) {
		const char *s = getenv("OFFRX_MUTANT");
		n = s ? atoi(s) : 0;
	}
	return n;
}
#define OFFRX_MUTANT(n) (offrx_mutant_selected() == (n))
#else
#define OFFRX_MUTANT(n) 0
#endif

#endif
