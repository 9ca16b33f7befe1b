/*
 * LD_PRELOAD interposer for tests/shim_process.rs: counts heap allocations until the
 * process calls an exec function, then reports the count on stderr and execs.
 *
 *   allocs_before_execve=N\n        written to fd 2 (one write) just before the exec
 *
 * The allocator is a bump allocator over one anonymous mapping: it never touches the real
 * heap, `free` does nothing, and it is complete enough for the programs exec'd under it
 * (a shell, cat, grep) to run normally. Nothing here calls a libc function that could
 * allocate: output is formatted by hand, the exec is a raw system call.
 *
 * Build: cc -shared -fPIC -O1 -o alloc_counter.so alloc_counter.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static unsigned long alloc_calls;

#define ARENA_SIZE (1UL << 32) /* 4 GiB of address space, MAP_NORESERVE: pages on touch */
#define HEADER 16              /* the block size, kept just before every block */

static unsigned char *arena;
static size_t arena_used;

static int owned(const void *p) {
    return arena != NULL && (const unsigned char *)p >= arena && (const unsigned char *)p < arena + ARENA_SIZE;
}

static void *bump(size_t size, size_t align) {
    if (arena == NULL) {
        void *m = (void *)syscall(SYS_mmap, NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            errno = ENOMEM;
            return NULL;
        }
        arena = m;
    }
    if (align < HEADER) {
        align = HEADER;
    }
    if (align & (align - 1)) {
        errno = EINVAL;
        return NULL;
    }
    size_t start = (arena_used + HEADER + align - 1) & ~(align - 1);
    if (size > ARENA_SIZE || start + size > ARENA_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    arena_used = start + size;
    *(size_t *)(arena + start - HEADER) = size;
    return arena + start;
}

static size_t block_size(const void *p) {
    return *(const size_t *)((const unsigned char *)p - HEADER);
}

void *malloc(size_t size) {
    alloc_calls++;
    return bump(size, HEADER);
}

void *calloc(size_t n, size_t size) {
    alloc_calls++;
    if (size != 0 && n > (size_t)-1 / size) {
        errno = ENOMEM;
        return NULL;
    }
    return bump(n * size, HEADER); /* fresh mapping pages are zero, never reused */
}

static void *grow(void *old, size_t size) {
    if (old != NULL && !owned(old)) {
        /* Memory from another allocator (the dynamic loader's start-up one): we cannot know
         * its size, and a bump allocator never needs this. Fail loudly. */
        static const char msg[] = "alloc_counter: realloc of a foreign pointer\n";
        syscall(SYS_write, 2, msg, sizeof msg - 1);
        syscall(SYS_exit_group, 99);
    }
    void *p = bump(size, HEADER);
    if (p != NULL && old != NULL) {
        size_t have = block_size(old);
        memcpy(p, old, have < size ? have : size);
    }
    return p;
}

void *realloc(void *old, size_t size) {
    alloc_calls++;
    return grow(old, size);
}

void *reallocarray(void *old, size_t n, size_t size) {
    alloc_calls++;
    if (size != 0 && n > (size_t)-1 / size) {
        errno = ENOMEM;
        return NULL;
    }
    return grow(old, n * size);
}

int posix_memalign(void **out, size_t align, size_t size) {
    alloc_calls++;
    if (align < sizeof(void *) || (align & (align - 1))) {
        return EINVAL;
    }
    void *p = bump(size, align);
    if (p == NULL) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t size) {
    alloc_calls++;
    return bump(size, align);
}

void *memalign(size_t align, size_t size) {
    alloc_calls++;
    return bump(size, align);
}

void *valloc(size_t size) {
    alloc_calls++;
    return bump(size, 4096);
}

void *pvalloc(size_t size) {
    alloc_calls++;
    return bump((size + 4095) & ~(size_t)4095, 4096);
}

void free(void *p) {
    (void)p;
}

void cfree(void *p) {
    (void)p;
}

size_t malloc_usable_size(void *p) {
    return p != NULL && owned(p) ? block_size(p) : 0;
}

/* "allocs_before_execve=N\n" in one write(2). */
static void report(void) {
    char buf[64];
    static const char key[] = "allocs_before_execve=";
    size_t n = sizeof key - 1;
    memcpy(buf, key, n);
    char digits[24];
    size_t d = 0;
    unsigned long v = alloc_calls;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (d > 0) {
        buf[n++] = digits[--d];
    }
    buf[n++] = '\n';
    syscall(SYS_write, 2, buf, n);
}

int execve(const char *path, char *const argv[], char *const envp[]) {
    report();
    return (int)syscall(SYS_execve, path, argv, envp);
}

int execv(const char *path, char *const argv[]) {
    report();
    return (int)syscall(SYS_execve, path, argv, environ);
}

/* PATH searching: report, then let the real function do the search. */
int execvp(const char *file, char *const argv[]) {
    report();
    int (*real)(const char *, char *const[]) = (int (*)(const char *, char *const[]))dlsym(RTLD_NEXT, "execvp");
    return real(file, argv);
}

int execvpe(const char *file, char *const argv[], char *const envp[]) {
    report();
    int (*real)(const char *, char *const[], char *const[]) =
        (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execvpe");
    return real(file, argv, envp);
}

int fexecve(int fd, char *const argv[], char *const envp[]) {
    report();
    return (int)syscall(SYS_execveat, fd, "", argv, envp, 0x1000 /* AT_EMPTY_PATH */);
}

int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags) {
    report();
    return (int)syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}
