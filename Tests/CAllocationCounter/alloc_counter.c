#define _GNU_SOURCE
// Interposes the C allocator for the test binary: the executable's definitions take precedence
// over glibc's for every shared library (the Swift runtime, Foundation, ONNX Runtime), so each
// heap allocation passes through here. Forwarding uses glibc's exported __libc_* functions rather
// than dlsym(RTLD_NEXT), which itself allocates and would recurse on first use.
#include "tether_alloc_counter.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <execinfo.h>
#include <link.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);

static _Thread_local int counting;
static _Thread_local uint64_t count;
static volatile int seen;  // set by the first interposed call: proof that the interposer is linked in

static _Thread_local int inside;

// Code ranges whose allocations are not counted (another library's own, e.g. ONNX Runtime's C++).
enum { max_ranges = 64 };
static uintptr_t range_start[max_ranges], range_end[max_ranges];
static int range_count;

static inline int ignored(uintptr_t address) {
    for (int i = 0; i < range_count; i++) {
        if (address >= range_start[i] && address < range_end[i]) return 1;
    }
    return 0;
}

static int add_ranges(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    const char *needle = data;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, needle) == NULL) return 0;
    for (int i = 0; i < info->dlpi_phnum && range_count < max_ranges; i++) {
        const ElfW(Phdr) *h = &info->dlpi_phdr[i];
        if (h->p_type == PT_LOAD && (h->p_flags & PF_X)) {
            range_start[range_count] = info->dlpi_addr + h->p_vaddr;
            range_end[range_count] = info->dlpi_addr + h->p_vaddr + h->p_memsz;
            range_count += 1;
        }
    }
    return 0;
}

int tether_alloc_counter_ignore(const char *library) {
    int before = range_count;
    dl_iterate_phdr(add_ranges, (void *)library);
    return range_count - before;
}
static int tracing = -1;  // TETHER_ALLOC_TRACE=1: a backtrace on stderr for each counted allocation

static inline void note(void *caller) {
    seen = 1;
    if (!counting || inside || ignored((uintptr_t)caller)) return;
    count += 1;
    if (tracing < 0) {
        const char *v = getenv("TETHER_ALLOC_TRACE");
        tracing = v != NULL && v[0] == '1';
    }
    if (tracing) {
        inside = 1;
        void *frames[24];
        int n = backtrace(frames, 24);
        write(2, "--- allocation\n", 15);
        backtrace_symbols_fd(frames, n, 2);
        inside = 0;
    }
}

void *malloc(size_t size) { note(__builtin_return_address(0)); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { note(__builtin_return_address(0)); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { note(__builtin_return_address(0)); return __libc_realloc(p, size); }
void *memalign(size_t alignment, size_t size) { note(__builtin_return_address(0)); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(__builtin_return_address(0)); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { note(__builtin_return_address(0)); return __libc_valloc(size); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    note(__builtin_return_address(0));
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(alignment, size);
    if (p == NULL && size != 0) return ENOMEM;
    *out = p;
    return 0;
}

void tether_alloc_counter_start(void) { count = 0; counting = 1; }
uint64_t tether_alloc_counter_stop(void) { counting = 0; return count; }
int tether_alloc_counter_active(void) { return seen; }
