#pragma once
// The Llama / Qwen2 decoder forward in libtorch (float32, CPU or CUDA): RMSNorm, rotate-half
// RoPE with rope_theta, grouped-query attention, SwiGLU MLP, optional q/k/v biases, tied
// embeddings. Weights are held as float32 tensors; copies of a DecoderModel share them until a
// weight is replaced (setLinearWeight), which is how quantized variants are made cheaply.
// Thread-safety: forward() is const and may run concurrently on different hooks.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "io/hf_config.h"
#include "model/forward_hook.h"
#include "session.h"

namespace mq::core {

class Checkpoint;

class DecoderModel {
public:
    // Loads config.json and every tensor the architecture needs from dir; throws InputError
    // naming the file and tensor on a missing tensor or a shape that does not match the config.
    static DecoderModel load(const std::string& dir);
    // Builds from an already parsed config and a tensor source (tests use it).
    static DecoderModel fromCheckpoint(const ModelConfig& cfg, Checkpoint& ckpt, const std::string& source);

    const ModelConfig& config() const { return m_cfg; }
    const std::string& dir() const { return m_dir; }
    // Every Linear in network order, and the input groups they form.
    const std::vector<ModuleInfo>& modules() const { return m_modules; }
    const std::vector<std::string>& groups() const { return m_groups; }
    int groupOfModule(int module) const { return m_moduleGroup[size_t(module)]; }
    std::vector<int> groupMembers(int group) const;
    // Group channel count K.
    int64_t groupChannels(int group) const;

    const at::Tensor& linearWeight(int module) const { return m_linW[size_t(module)]; }
    const at::Tensor& linearBias(int module) const { return m_linB[size_t(module)]; } // undefined if none
    void setLinearWeight(int module, const at::Tensor& w);

    // ids [B, T] int64 -> logits [B, T, vocab] float32. hook may be null.
    // modality [B, T] uint8 (null: all text). positions: [B, T] or, for multimodal RoPE,
    // [3, B, T] int64 (t, h, w rows; null: 0..T-1 on every row).
    at::Tensor forward(const at::Tensor& ids, ForwardHook* hook = nullptr,
                       const at::Tensor& modality = at::Tensor(), const at::Tensor& positions = at::Tensor()) const;
    // The same from input embeddings [B, T, hidden] (encoder features already placed).
    at::Tensor forwardEmbeds(const at::Tensor& embeds, ForwardHook* hook = nullptr,
                             const at::Tensor& modality = at::Tensor(), const at::Tensor& positions = at::Tensor()) const;
    // Token embeddings [B, T, hidden] of ids [B, T].
    at::Tensor embed(const at::Tensor& ids) const;
    // Prefix of the decoder's tensor names: "" or "thinker." (Qwen2.5-Omni).
    const std::string& tensorPrefix() const { return m_prefix; }

    // The tensors of an HF checkpoint with the current (possibly quantized) Linear weights.
    std::map<std::string, at::Tensor> stateDict() const;

private:
    struct Layer {
        at::Tensor inNorm, postNorm;
        int q = 0, k = 0, v = 0, o = 0, gate = 0, up = 0, down = 0; // module indices
        int gQkv = 0, gO = 0, gGateUp = 0, gDown = 0;                // group indices
    };
    at::Tensor linear(int module, const at::Tensor& x) const;
    at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w) const;
    // cos, sin [B, 1, T, headDim] for the positions (see forward()).
    std::pair<at::Tensor, at::Tensor> rotaryTables(const at::Tensor& positions, int64_t B, int64_t T) const;
    int addModule(int layer, const std::string& name, const std::string& kind, int group,
                  const at::Tensor& w, const at::Tensor& b);
    int addGroup(const std::string& name);

    ModelConfig m_cfg;
    std::string m_dir;
    std::string m_prefix;
    at::Tensor m_embed, m_finalNorm, m_lmHead; // m_lmHead aliases m_embed when tied
    std::vector<Layer> m_layers;
    std::vector<ModuleInfo> m_modules;
    std::vector<std::string> m_groups;
    std::vector<int> m_moduleGroup;
    std::vector<at::Tensor> m_linW, m_linB;
};

} // namespace mq::core
