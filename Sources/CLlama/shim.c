// SwiftPM needs one source file per C target; the API itself lives in libllama.
#include "CLlama.h"
