#pragma once
// Synthetic checkpoints with the released models' layout and random weights, to measure the
// engine at real sizes without the real weights: config.json, bf16 tensors under the released
// names and shapes in shards of at most 2 GB with model.safetensors.index.json, a small
// byte-level BPE tokenizer.json, and calibration.jsonl / evaluation.jsonl of random token ids.
// Weights are N(0, 0.02) from the seed; a few hidden channels get RMSNorm weights of 8 and a
// few intermediate channels an up_proj row 10 times larger, so every input group has strong
// outlier channels (what DABC looks for). Written tensor by tensor: memory stays at one tensor.
#include <cstdint>
#include <string>
#include <vector>

#include "common/progress.h"
#include "io/safetensors.h"
#include "model/synthetic_shapes.h"

namespace mq::core {

struct SyntheticSpec {
    // "qwen2.5-7b" (hidden 3584, intermediate 18944, 28/4 heads, vocab 152064, q/k/v biases);
    // "qwen2.5-omni-7b" / "qwen2.5-omni-3b": the whole Qwen2.5-Omni checkpoint, the thinker
    // (decoder under "thinker.", vision and audio encoders at their released sizes) beside the
    // talker and token2wav (float32), with Qwen's special-token ids in config and tokenizer and a
    // mixed manifest.jsonl (text, images, audio, video frames under media/); or the test shapes
    // "test-wide" (hidden 256, intermediate 1024, 4/2 heads, vocab 1024) and "test-omni" (the
    // Omni layout at hidden 256 with small encoders).
    std::string shape = "qwen2.5-7b";
    int layers = 0;          // 0: the shape's own depth (28 for qwen2.5-7b)
    uint64_t seed = 0;
    int calibSequences = 8;  // rows of calibration.jsonl
    int evalSequences = 8;   // rows of evaluation.jsonl
    int sequenceLength = 256;
    int64_t shardBytes = int64_t(2) << 30;
};

struct SyntheticSummary {
    std::string dir;
    int64_t tensors = 0;
    int64_t parameters = 0;
    int64_t bytes = 0;
    int shards = 0;
    int layers = 0;
};

// The tensors writeSynthetic writes for spec, in file order (InputError for an unknown shape).
std::vector<TensorSpec> syntheticTensors(const SyntheticSpec& spec);

// Writes the folder atomically (writeFolderAtomic). InputError for an unknown shape or bad counts.
SyntheticSummary writeSynthetic(const std::string& outDir, const SyntheticSpec& spec, bool overwrite,
                                const ProgressSink& progress = {});

} // namespace mq::core
