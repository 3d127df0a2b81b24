#pragma once
// The Qwen2.5-Omni thinker's audio encoder (Whisper-derived), float32, from a checkpoint's
// "thinker.audio_tower.*" tensors and thinker_config.audio_config (QWEN25_OMNI.md §3).
// Linear inputs are reported to a ForwardHook (groups named "audio.layers.N.qkv_in", ...).
#include <ATen/ATen.h>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

#include "model/forward_hook.h"

namespace mq::core {

class Checkpoint;

struct AudioConfig {
    int numMelBins = 128, dModel = 1280, encoderLayers = 32, encoderAttentionHeads = 20, encoderFfnDim = 5120;
    int maxSourcePositions = 1500, nWindow = 100, outputDim = 3584;
    static AudioConfig fromJson(const nlohmann::json& j, const std::string& source);
};

class AudioEncoder {
public:
    static AudioEncoder load(const AudioConfig& cfg, Checkpoint& ck, const std::string& prefix = "thinker.audio_tower.");

    const AudioConfig& config() const { return m_cfg; }
    // mel [numMelBins, L] of one clip (valid frames only) -> tokens [N, outputDim] with
    // a = (L-1)//2+1 and N = (a-2)//2+1.
    at::Tensor forward(const at::Tensor& mel, ForwardHook* hook = nullptr, int groupOffset = 0,
                       uint8_t modality = 0) const;
    // The same forward as steps (TowerPass): the stem runs at once, then layer by layer, then the
    // pooling and projection (the pass shares this encoder's weights and keeps them alive).
    std::unique_ptr<TowerPass> pass(const at::Tensor& mel, int groupOffset = 0, uint8_t modality = 0) const;
    // The weights as an opaque handle (what a TowerPass of this encoder runs with).
    std::shared_ptr<const void> weightsHandle() const;
    // Names of the Linear input groups in forward order; the hook sees group index
    // groupOffset + i for groups()[i] (the caller numbers all towers of a model in one space).
    // Every token row passed to the hook is tagged with the modality the caller gives.
    std::vector<std::string> groups() const;
    // A copy whose Linear weights are f's, group by group (LinearWeightMap), for the tower's groups
    // first .. end - 1 only (the others, and everything else, shared as they are).
    AudioEncoder withLinearWeights(const LinearWeightMap& f, int first = 0, int end = 1 << 30) const;
    static int64_t tokenCount(int64_t melFrames);

private:
    AudioConfig m_cfg;
    struct Impl;
    std::shared_ptr<const Impl> m_impl;
};

} // namespace mq::core
