#pragma once
// The subset of a Hugging Face config.json that the Llama / Qwen2 decoder needs.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace mq::core {

enum class Architecture { Llama, Qwen2 };
const char* architectureName(Architecture a);

// A field added here changes what a checkpoint means: the launcher's evaluation without LibTorch
// (eval/plain_eval.cpp, loadPlainModel) must then handle it or hand such checkpoints to the engine.
struct ModelConfig {
    Architecture arch = Architecture::Llama;
    std::string modelType;          // "llama", "qwen2"
    int hiddenSize = 0;
    int intermediateSize = 0;
    int numLayers = 0;
    int numHeads = 0;
    int numKvHeads = 0;
    int headDim = 0;                // hidden / heads unless given
    int vocabSize = 0;
    int maxPositions = 0;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    bool tieWordEmbeddings = false;
    bool attentionBias = false;     // q/k/v biases (Qwen2: true)
    std::string hiddenAct = "silu";
    std::string torchDtype = "float32";
    // Multimodal rotary sections (t, h, w) over head_dim/2 frequencies; empty = plain RoPE.
    std::vector<int> mropeSection;
    // "qwen2_5_omni" when the decoder is the thinker of a Qwen2.5-Omni checkpoint: its tensors
    // live under "thinker.model." and "thinker.lm_head.", beside the vision and audio towers.
    std::string container;
};

// Parses and validates (positive sizes, heads divide hidden, kv heads divide heads, supported
// model_type and activation). `source` names the file in error messages.
ModelConfig parseModelConfig(const nlohmann::json& j, const std::string& source);
ModelConfig loadModelConfig(const std::string& configPath);

// The first of `names` that belongs to a decoder layer numLayers or later (PREFIX + "model.layers." +
// index + ...), or "" when none does: a checkpoint with more layers than its config.json says is
// not what the config describes (the extra layers would be silently left out).
std::string tensorPastLastLayer(const std::vector<std::string>& names, const std::string& prefix, int numLayers);

} // namespace mq::core
