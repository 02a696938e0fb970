// Shared assembly macros of package amd64.

// HSUMPD(y, x, t) adds the four float64 lanes of Y register y into the low
// lane of x, the X half of y, in the order (l0+l2) + (l1+l3); t is an X
// temporary.
#define HSUMPD(y, x, t) \
	VEXTRACTF128 $1, y, t; \
	VADDPD       t, x, x; \
	VUNPCKHPD    x, x, t; \
	VADDSD       t, x, x
