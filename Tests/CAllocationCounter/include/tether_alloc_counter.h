#ifndef TETHER_ALLOC_COUNTER_H
#define TETHER_ALLOC_COUNTER_H
#include <stdint.h>

/// Test-only heap allocation counter. This target defines malloc, calloc, realloc, posix_memalign,
/// aligned_alloc, memalign and valloc for the whole test binary and forwards them to glibc's
/// __libc_* entry points; while counting is switched on for the calling thread, every call made
/// on that thread is counted. Other threads are never counted (a recorder's writer thread may
/// allocate; the control loop's thread must not).

/// Starts counting this thread's allocations from zero.
void tether_alloc_counter_start(void);
/// Stops counting and returns how many allocations this thread made since the start.
uint64_t tether_alloc_counter_stop(void);
/// Leaves out allocations called from the code of loaded libraries whose path contains `library`
/// (e.g. "libonnxruntime", "libstdc++": another library's internal allocations, which Tether
/// cannot change); returns how many code ranges were added (0: no such library is loaded).
int tether_alloc_counter_ignore(const char *library);
/// Whether the interposer is in effect (its malloc is the one the Swift runtime calls).
int tether_alloc_counter_active(void);

#endif
