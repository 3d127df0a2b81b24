#pragma once
// The evaluation of a small full-precision Llama / Qwen2 checkpoint without LibTorch.
//
// Loading Debian's LibTorch costs a process about half a second before any work (286 shared
// libraries and the registration of its operators), which is most of a whole `eval` of a model
// like stories260K. The launcher (app/cli/launcher.cpp) therefore runs `eval` of such a model
// itself with this code: the same decoder forward (RMSNorm, rotate-half RoPE, grouped-query
// attention through the engine's own kernel, model/attention_kernel.h, SwiGLU MLP, q/k/v biases,
// tied embeddings) in float32 over the system BLAS (sgemm, loaded with dlopen after the launcher
// has set OpenBLAS's core type), the same batches (equal-length sequences, up to `batch` each)
// and the next-token NLL summed in float64. The figures agree with the engine's evaluateStreamed
// to float32 rounding (tst_forward states the bound); the thread count does not change them.
//
// It takes only what it is sure of: a model directory with config.json and one model.safetensors
// (F32, F16, BF16 or F64 tensors), no quantization_config, no multimodal container or rotary
// sections, every tensor finite, at most kPlainEvalMaxParams parameters, and a data file that
// loads. Anything else (including every malformed input) comes back with ran == false and the
// reason, and the engine runs the command, with its own messages.
#include "common/progress.h"

#include <cstdint>
#include <string>

namespace mq::core {

// The largest model the plain path takes, in parameters. It holds them as float32 (at most 16 MiB,
// well below the 200 MB or so that loading LibTorch alone costs the engine, so its peak memory
// stays below the engine's streamed one at any depth); past this size the engine's start-up is
// small next to the evaluation itself.
inline constexpr int64_t kPlainEvalMaxParams = int64_t(4) << 20;

struct PlainEvalRequest {
    std::string model, data;
    int threads = 0; // 0: every core
    int batch = 8;   // sequences per batch (of equal length)
};

struct PlainEvalResult {
    bool ran = false;
    std::string whyNot; // when !ran: why the engine has to run this evaluation
    double nll = 0.0;   // mean nats per predicted token
    double ppl = 0.0;
    int64_t tokens = 0; // predicted tokens
};

// Evaluates, reporting "eval" progress per batch (with tokens_per_s). Batches run side by side
// on up to `threads` threads, each with a one-thread BLAS; their sums are added in batch order,
// so the result is the same bits for every thread count.
PlainEvalResult plainEvaluate(const PlainEvalRequest& request, const ProgressSink& progress = {});

} // namespace mq::core
