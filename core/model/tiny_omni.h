#pragma once
// A tiny Qwen2.5-Omni checkpoint for tests and demos: the released models' config keys
// (thinker_config with text/vision/audio configs, talker_config, token2wav_config), tensor
// names and layouts (thinker.model.*, thinker.visual.*, thinker.audio_tower.*,
// thinker.lm_head.*, talker.*, token2wav.*), bf16 tensors in two shards with
// model.safetensors.index.json, and a small byte-level BPE tokenizer.json whose special tokens
// carry the ids the config names. Sizes are tiny (hidden 64) so CI runs it in seconds.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mq::core {

struct TinyOmniSummary {
    std::string dir;
    int64_t tensors = 0;
    int64_t parameters = 0;
    int shards = 0;
};

// Writes the folder atomically (writeFolderAtomic); weights are N(0, 0.02) from `seed`, norms 1.
TinyOmniSummary writeTinyOmni(const std::string& outDir, uint64_t seed = 0, bool overwrite = false);

// The tiny byte-level BPE tokenizer.json (256 bytes, 16 merges, the Qwen special tokens at
// ids 500..510), as written beside the tiny model.
std::string tinyTokenizerJson();

// The same byte-level BPE with the given special tokens and ids (make-synthetic's Omni shapes
// use Qwen2.5-Omni's own ids, qwenSpecialTokens()).
std::string byteLevelTokenizerJson(const std::vector<std::pair<std::string, int>>& specials);
std::vector<std::pair<std::string, int>> qwenSpecialTokens();

} // namespace mq::core
