// Umbrella header: exposes llama.cpp's C API (installed by scripts/setup.sh) to Swift, and ggml's GGUF reader for
// metadata llama.cpp itself does not interpret (a sequence-classification head stored as `longrm.head.*` keys).
#include <llama.h>
#include <gguf.h>

// The file libggml was loaded from (NULL if unknown): its CPU modules are installed beside it. dladdr(3) is
// a GNU extension Swift's Glibc module leaves out.
const char *longrm_ggml_library_path(void);

// 1 when AMX instructions really run in this process (Linux x86-64): the kernel grants the tile state and a
// child process executes a tile instruction without SIGILL. CPUID alone is not enough: some virtual
// machines report AMX without enabling it. In C because Swift has neither fork(2) nor the variadic syscall(2).
int longrm_amx_works(void);
