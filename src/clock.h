/* Clock readings in the units the code works in: the monotonic clock for
 * timeouts and intervals, the wall clock for what is shown or stored
 * (PROGRAM-DATE-TIME, report times). */
#ifndef LLHLS_CLOCK_H
#define LLHLS_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t llhls_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t llhls_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t llhls_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
