// Umbrella header: exposes llama.cpp's C API (installed by scripts/setup.sh) to Swift, and ggml's GGUF reader for
// metadata llama.cpp itself does not interpret (a sequence-classification head stored as `longrm.head.*` keys).
#include <llama.h>
#include <gguf.h>
