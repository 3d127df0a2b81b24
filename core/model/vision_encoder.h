#pragma once
// The Qwen2.5-Omni thinker's vision encoder (Qwen2.5-VL ViT), float32, from a checkpoint's
// "thinker.visual.*" tensors and thinker_config.vision_config (QWEN25_OMNI.md §3).
// Linear inputs are reported to a ForwardHook (groups named "visual.blocks.N.qkv_in", ...),
// so the same statistics and quantization machinery applies to the encoder.
#include <ATen/ATen.h>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

#include "model/forward_hook.h"

namespace mq::core {

class Checkpoint;

struct VisionConfig {
    int depth = 32, hiddenSize = 1280, numHeads = 16, intermediateSize = 3420;
    int inChannels = 3, patchSize = 14, temporalPatchSize = 2, spatialMergeSize = 2;
    int windowSize = 112, outHiddenSize = 3584;
    std::vector<int> fullAttBlockIndexes{7, 15, 23, 31};
    static VisionConfig fromJson(const nlohmann::json& j, const std::string& source);
};

class VisionEncoder {
public:
    // Throws InputError naming the file and tensor on a missing tensor or a wrong shape.
    static VisionEncoder load(const VisionConfig& cfg, Checkpoint& ck, const std::string& prefix = "thinker.visual.");

    const VisionConfig& config() const { return m_cfg; }
    // patches [gridT*gridH*gridW, C*Tp*P*P] in the processor's row order (image_features.h);
    // returns merged tokens [gridT*gridH*gridW/4, outHiddenSize] in (t, h/2, w/2) raster order.
    at::Tensor forward(const at::Tensor& patches, int64_t gridT, int64_t gridH, int64_t gridW,
                       ForwardHook* hook = nullptr, int groupOffset = 0,
                       uint8_t modality = 0) const;
    // The same forward as steps (TowerPass): block by block, then the merger (the pass shares
    // this encoder's weights and keeps them alive).
    std::unique_ptr<TowerPass> pass(const at::Tensor& patches, int64_t gridT, int64_t gridH, int64_t gridW,
                                    int groupOffset = 0, uint8_t modality = 0) const;
    // The weights as an opaque handle (what a TowerPass of this encoder runs with).
    std::shared_ptr<const void> weightsHandle() const;
    // Names of the Linear input groups in forward order; the hook sees group index
    // groupOffset + i for groups()[i] (the caller numbers all towers of a model in one space).
    // Every token row passed to the hook is tagged with the modality the caller gives.
    std::vector<std::string> groups() const;
    // A copy whose Linear weights are f's, group by group (LinearWeightMap), for the tower's groups
    // first .. end - 1 only (the others, and everything else, shared as they are).
    VisionEncoder withLinearWeights(const LinearWeightMap& f, int first = 0, int end = 1 << 30) const;
    // The window order of the merge units: entry j is the (t, h/2, w/2) raster index of the j-th
    // merge unit after the reordering applied before block 0 (a permutation of 0..T*H*W/4-1).
    // windowPatches, if given, receives the patch count of each non-empty window in that order.
    static std::vector<int64_t> windowOrder(const VisionConfig& cfg, int64_t gridT, int64_t gridH, int64_t gridW,
                                            std::vector<int64_t>* windowPatches = nullptr);

private:
    VisionConfig m_cfg;
    struct Impl;
    std::shared_ptr<const Impl> m_impl;
};

} // namespace mq::core
