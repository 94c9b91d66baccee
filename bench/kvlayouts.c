// Issue 13: three KV layouts for one context and N candidates, measured on libllama alone (no server), so the
// numbers are the layouts' own. Run by bench/kvlayouts.sh, one process per layout (so VmHWM is the layout's).
//
//   stream     one KV stream for the context; candidates decoded one per llama_decode after it, each removed
//              with llama_memory_seq_rm (what Session does today); f16, flash attention off.
//   stream-fa  the same with flash attention on (to tell flash attention's effect from quantization's).
//   q8         the same with K and V in q8_0 (needs flash attention).
//   unified    llama.cpp's unified KV: the context in sequence 0, copied by llama_memory_seq_cp to sequences
//              1..N (the copies share the context's cells), and all N candidates in one llama_decode.
//   separate   the reference: each candidate computed alone, context + candidate in a cleared cache.
//
// A candidate's reward is its mean token log-probability given the context (the likelihood method).
// Usage: kvlayouts MODEL LAYOUT CONTEXT_TOKENS N CANDIDATE_TOKENS THREADS
// Prints one JSON object: layout, KV bytes llama.cpp allocated, VmHWM, prefill and candidate seconds, rewards.
#include <ggml-backend.h>
#include <llama.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double kv_mib = 0;  // sum of "llama_kv_cache: size = X MiB" lines

static void on_log(enum ggml_log_level level, const char *text, void *user) {
    (void)level; (void)user;
    const char *p = strstr(text, "llama_kv_cache: size =");
    if (p) kv_mib += atof(p + strlen("llama_kv_cache: size ="));
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static long vm_hwm_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kib = atol(line + 6);
    if (f) fclose(f);
    return kib;
}

// Deterministic token ids away from the special ids at both ends of the vocabulary.
static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static llama_token next_token(int n_vocab) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (llama_token)(100 + rng % (unsigned long long)(n_vocab / 2));
}

static double log_prob(const float *logits, int n_vocab, llama_token token) {
    double max = logits[0], sum = 0;
    for (int i = 1; i < n_vocab; i++) if (logits[i] > max) max = logits[i];
    for (int i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - max);
    return (double)logits[token] - max - log(sum);
}

static void add(struct llama_batch *b, llama_token t, int pos, int seq, int logits) {
    b->token[b->n_tokens] = t; b->pos[b->n_tokens] = pos; b->n_seq_id[b->n_tokens] = 1;
    b->seq_id[b->n_tokens][0] = seq; b->logits[b->n_tokens] = (int8_t)logits; b->n_tokens++;
}

static void decode(struct llama_context *ctx, struct llama_batch *b) {
    if (llama_decode(ctx, *b) != 0) { fprintf(stderr, "llama_decode failed\n"); exit(1); }
}

// The context in `seq`, in chunks of n_batch; the last token's logits stay readable at batch index last.
static int prefill(struct llama_context *ctx, struct llama_batch *b, const llama_token *t, int n, int seq, int n_batch) {
    int last = 0;
    for (int start = 0; start < n; start += n_batch) {
        b->n_tokens = 0;
        for (int i = start; i < n && i < start + n_batch; i++) add(b, t[i], i, seq, i == n - 1);
        last = b->n_tokens - 1;
        decode(ctx, b);
    }
    return last;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: %s MODEL LAYOUT CONTEXT N CANDIDATE_TOKENS THREADS\n", argv[0]); return 2; }
    const char *layout = argv[2];
    int n_ctx_tokens = atoi(argv[3]), n = atoi(argv[4]), len = atoi(argv[5]), threads = atoi(argv[6]);
    int unified = strcmp(layout, "unified") == 0, q8 = strcmp(layout, "q8") == 0;
    int fa = q8 || strcmp(layout, "stream-fa") == 0, separate = strcmp(layout, "separate") == 0;
    if (!unified && !q8 && !fa && !separate && strcmp(layout, "stream") != 0) { fprintf(stderr, "bad layout\n"); return 2; }
    llama_log_set(on_log, NULL);
    const char *dir = getenv("LLAMA_MODULES");
    if (dir) ggml_backend_load_all_from_path(dir); else ggml_backend_load_all();
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.use_extra_bufts = false;  // the server's default (--repack off)
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

    struct llama_context_params cp = llama_context_default_params();
    int cells = unified ? n_ctx_tokens + n * len : n_ctx_tokens + len;
    cp.n_ctx = (uint32_t)((cells + 255) / 256 * 256);
    // KVL_CELLS: allocate a larger cache, like a server whose window is longer than this request.
    if (getenv("KVL_CELLS") && atoi(getenv("KVL_CELLS")) > (int)cp.n_ctx) cp.n_ctx = (uint32_t)atoi(getenv("KVL_CELLS"));
    cp.n_batch = 2048; cp.n_ubatch = 512;
    cp.n_seq_max = unified ? (uint32_t)(n + 1) : 1;
    cp.kv_unified = unified;
    cp.swa_full = false;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.flash_attn_type = fa ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    if (q8) { cp.type_k = GGML_TYPE_Q8_0; cp.type_v = GGML_TYPE_Q8_0; }
    cp.no_perf = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "cannot create the context\n"); return 1; }
    llama_memory_t mem = llama_get_memory(ctx);
    if (n * len > 2048 || len < 2) { fprintf(stderr, "need 2 <= candidate tokens, N x tokens <= 2048\n"); return 2; }

    llama_token *context = malloc(sizeof *context * n_ctx_tokens), *cand = malloc(sizeof *cand * n * len);
    for (int i = 0; i < n_ctx_tokens; i++) context[i] = next_token(n_vocab);
    for (int i = 0; i < n * len; i++) cand[i] = next_token(n_vocab);
    struct llama_batch b = llama_batch_init(2048, 0, 1);
    double *reward = calloc(n, sizeof *reward), prefill_s = 0, cand_s = 0, t0;
    float *first = malloc(sizeof *first * n_vocab);  // the context's next-token logits: scores candidate token 0

    if (!separate) {
        t0 = now();
        int last = prefill(ctx, &b, context, n_ctx_tokens, 0, 2048);
        memcpy(first, llama_get_logits_ith(ctx, last), sizeof *first * n_vocab);
        prefill_s = now() - t0;
    }
    t0 = now();
    if (unified) {
        for (int c = 0; c < n; c++) llama_memory_seq_cp(mem, 0, c + 1, -1, -1);
        b.n_tokens = 0;
        for (int c = 0; c < n; c++)
            for (int i = 0; i < len; i++) add(&b, cand[c * len + i], n_ctx_tokens + i, c + 1, i < len - 1);
        decode(ctx, &b);
        for (int c = 0; c < n; c++) {
            double sum = log_prob(first, n_vocab, cand[c * len]);
            for (int i = 0; i < len - 1; i++) sum += log_prob(llama_get_logits_ith(ctx, c * len + i), n_vocab, cand[c * len + i + 1]);
            reward[c] = sum / len;
        }
    } else {
        for (int c = 0; c < n; c++) {
            if (separate) {
                double s = now();
                llama_memory_clear(mem, true);
                int last = prefill(ctx, &b, context, n_ctx_tokens, 0, 2048);
                memcpy(first, llama_get_logits_ith(ctx, last), sizeof *first * n_vocab);
                prefill_s += now() - s;
            }
            double s = now();
            b.n_tokens = 0;
            for (int i = 0; i < len; i++) add(&b, cand[c * len + i], n_ctx_tokens + i, 0, i < len - 1);
            decode(ctx, &b);
            double sum = log_prob(first, n_vocab, cand[c * len]);
            for (int i = 0; i < len - 1; i++) sum += log_prob(llama_get_logits_ith(ctx, i), n_vocab, cand[c * len + i + 1]);
            reward[c] = sum / len;
            llama_memory_seq_rm(mem, 0, n_ctx_tokens, -1);
            if (separate) cand_s += now() - s;
        }
    }
    if (!separate) cand_s = now() - t0;

    printf("{\"layout\": \"%s\", \"context_tokens\": %d, \"n\": %d, \"candidate_tokens\": %d, \"threads\": %d, "
           "\"cells\": %u, \"kv_bytes\": %.0f, \"vm_hwm_kib\": %ld, \"prefill_s\": %.4f, \"candidates_s\": %.4f, \"rewards\": [",
           layout, n_ctx_tokens, n, len, threads, cp.n_ctx, kv_mib * 1048576.0, vm_hwm_kib(), prefill_s, cand_s);
    for (int c = 0; c < n; c++) printf("%s%.17g", c ? ", " : "", reward[c]);
    printf("]}\n");
    llama_batch_free(b);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
