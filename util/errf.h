/* A message into a caller's error buffer (char *err, size_t errlen), the way the libraries here
 * answer "why not": formatted like printf, cut to fit, nothing written when err is NULL or
 * errlen 0. */
#ifndef OFFRX_ERRF_H
#define OFFRX_ERRF_H

#include <stddef.h>

void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* OFFRX_ERRF_H */
