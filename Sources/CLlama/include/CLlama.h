// Umbrella header: exposes llama.cpp's C API (installed by scripts/setup.sh) to Swift.
#include <llama.h>
