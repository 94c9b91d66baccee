// SwiftPM needs one source file per C target; the API itself lives in libllama. Also two helpers Swift
// cannot write itself.
#define _GNU_SOURCE  // dladdr
#include <dlfcn.h>

#include "CLlama.h"

const char *longrm_ggml_library_path(void) {
    Dl_info info;
    if (dladdr((void *)&ggml_backend_load, &info) == 0) return NULL;
    return info.dli_fname;
}

#if defined(__linux__) && defined(__x86_64__)
#include <errno.h>
#include <immintrin.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Configures one tile, zeroes it and releases it: the least AMX work that still executes AMX instructions.
__attribute__((target("amx-tile"))) static void amx_probe(void) {
    unsigned char config[64] __attribute__((aligned(64)));
    memset(config, 0, sizeof config);
    config[0] = 1;    // palette 1
    config[16] = 64;  // tile 0: 64 bytes per row
    config[48] = 16;  // tile 0: 16 rows
    _tile_loadconfig(config);
    _tile_zero(0);
    _tile_release();
}

int longrm_amx_works(void) {
    // ARCH_REQ_XCOMP_PERM (0x1023) for XFEATURE_XTILEDATA (18): the kernel must enable the tile state...
    if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) return 0;
    // ...and the instructions must really run: some virtual machines grant the state and still trap them.
    // The child dies of SIGILL (without a core file) if they do; it inherits the permission.
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        amx_probe();
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
#else
int longrm_amx_works(void) { return 0; }
#endif
