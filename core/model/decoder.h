#pragma once
// The Llama / Qwen2 decoder forward in libtorch (float32, CPU or CUDA): RMSNorm, rotate-half
// RoPE with rope_theta, grouped-query attention, SwiGLU MLP, optional q/k/v biases, tied
// embeddings.
//
// Two ways to hold the weights:
// - resident (load(dir)): every weight converted to float32 once; fast repeated forwards of a
//   small model. Copies of a DecoderModel share the tensors until one is replaced
//   (setLinearWeight).
// - streamed (load(dir, Residency::Streamed)): weights stay in their file dtype in the mapped
//   checkpoint; a layer's weights are converted to float32 when asked for (layerWeights) and
//   the mapped pages given back afterwards, the embedding is gathered row by row and lm_head
//   applied in vocabulary chunks. Resident memory then does not grow with depth. Streamed
//   models are meant for the layer-wise runs of pipeline/streaming.h (every batch through layer
//   l, then l+1); forward() works too but converts each layer once per call.
// A weight transform (setWeightTransform: simulated weight quantization) is applied whenever a
// Linear weight is materialized, so a quantized streamed model costs no memory up front.
// Thread-safety: forward(), layerWeights() and the other const methods may run concurrently.
#include <ATen/ATen.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/hf_config.h"
#include "model/forward_hook.h"
#include "session.h"

namespace mq::core {

class Checkpoint;

enum class Residency { Resident, Streamed };

// The float32 weights of one decoder layer, as materialized for a forward.
struct LayerWeights {
    static constexpr int kLinears = 7; // q, k, v, o, gate, up, down
    int layer = -1;
    int firstModule = 0;               // module index of q_proj; the others follow in order
    at::Tensor inNorm, postNorm;
    std::array<at::Tensor, kLinears> w, b; // b undefined where the Linear has no bias
    const at::Tensor& weight(int module) const { return w[size_t(module - firstModule)]; }
    const at::Tensor& bias(int module) const { return b[size_t(module - firstModule)]; }
};

// A decoder layer's forward taken in steps, one per input group, so that a layer-wise run can
// stop at a group's input, work on it (MDQFO) and go on later without computing the start of
// the layer again. Stages: 0 at the layer's input; 1..4 at the input of the layer's group
// stage-1 (qkv_in, o_in, gate_up_in, down_in), before the hook has seen it; 5 done.
struct LayerCursor {
    int stage = 0;
    at::Tensor residual; // [B, T, hidden]: the layer input (stages 0-2), after attention (3-4), the output (5)
    at::Tensor pending;  // [B*T, K]: stages 1-4, the group's input as computed (not yet hooked)
};

// The last elementwise step of a group input, which the decoder does itself, row range by row
// range, so that a hook can take the rows as they are made (ForwardHook::observeAsMade):
// RMSNorm's (x * s) * w, s = rsqrt(mean(x^2) + eps) one per row and w one per channel, or
// SwiGLU's silu(gate) * up. Each element is the same float32 products in the same order as
// LibTorch's `x * s * w` and `a * b`, so the bits are LibTorch's (tst_forward checks them).
struct RowProduct {
    at::Tensor a;        // [rows, K] float32, contiguous, on the CPU
    at::Tensor rowScale; // [rows] float32, or undefined
    at::Tensor colScale; // [K] float32, or undefined
    at::Tensor b;        // [rows, K] float32, or undefined
    // (x * rowScale) * colScale, or a * b; from tensors of any float dtype on any device (null
    // where they are not on the CPU or not float32 after an exact conversion: the caller then
    // uses LibTorch's expression).
    static std::unique_ptr<RowProduct> scaled(const at::Tensor& x2d, const at::Tensor& rowScale,
                                              const at::Tensor& colScale);
    static std::unique_ptr<RowProduct> product(const at::Tensor& a2d, const at::Tensor& b2d);
    int64_t rows() const { return a.size(0); }
    int64_t channels() const { return a.size(1); }
    // Rows r0..r1-1 of the product into out ([rows, K], row-major).
    void compute(float* out, int64_t r0, int64_t r1) const;
    // The whole product, over the forward's threads: a new tensor, or into out ([rows, K]).
    at::Tensor compute() const;
    void computeAll(float* out) const;
};

// cos / sin tables [B, 1, T, headDim] float32 for one batch's positions.
struct Rotary {
    at::Tensor cos, sin;
};

// One batch's input to the decoder.
struct DecoderInput {
    at::Tensor embeds;    // [B, T, hidden] float32
    at::Tensor modality;  // [B, T] uint8, or undefined (all text)
    at::Tensor positions; // [B, T] or [3, B, T] int64, or undefined (0..T-1)
    at::Tensor ids;       // [B, T] int64 where the input came from token ids (evaluation targets)
};

// Sums of the next-token negative log-likelihood over a batch (float64).
struct NllSum {
    double nll = 0.0;   // sum over predicted tokens
    int64_t tokens = 0; // predicted tokens
};

// The same for a reference and another model on one batch, with the sum of the per-token
// KL(reference || other) of their next-token distributions.
struct NllPairSum {
    NllSum ref, other;
    double kl = 0.0;
    // The KL sums and predicted positions by the modality of the position whose next-token
    // distribution is compared (when tags were given; text otherwise).
    std::array<double, kNumModalities> klByModality{};
    std::array<int64_t, kNumModalities> tokensByModality{};
};

class DecoderModel {
public:
    // Loads config.json and checks every tensor the architecture needs in dir; throws
    // InputError naming the file and tensor on a missing tensor or a shape that does not match
    // the config. Resident converts every weight to float32 now; Streamed reads them per layer.
    // prepare (optional) runs on the opened checkpoint first (packed exports add their Linear
    // weights as derived tensors there: Checkpoint::addDerived).
    static DecoderModel load(const std::string& dir, Residency residency = Residency::Resident,
                             const std::function<void(Checkpoint&)>& prepare = {});
    // Builds a resident model from an already parsed config and a tensor source (tests use it).
    static DecoderModel fromCheckpoint(const ModelConfig& cfg, Checkpoint& ckpt, const std::string& source);

    const ModelConfig& config() const { return m_cfg; }
    const std::string& dir() const { return m_dir; }
    bool streamed() const { return m_source != nullptr; }
    int numLayers() const { return int(m_layers.size()); }
    // Every Linear in network order, and the input groups they form (four per layer: qkv_in,
    // o_in, gate_up_in, down_in; group g belongs to layer g / 4).
    const std::vector<ModuleInfo>& modules() const { return m_modules; }
    const std::vector<std::string>& groups() const { return m_groups; }
    int groupOfModule(int module) const { return m_moduleGroup[size_t(module)]; }
    std::vector<int> groupMembers(int group) const;
    // Group channel count K.
    int64_t groupChannels(int group) const;
    // The four input groups of a layer, in network order.
    std::array<int, 4> layerGroups(int layer) const;

    // Linear weight [out, in] float32 (materialized and transformed for a streamed model).
    at::Tensor linearWeight(int module) const;
    // Bias [out] float32, undefined if none.
    const at::Tensor& linearBias(int module) const { return m_linB[size_t(module)]; }
    // Replaces one weight (kept resident from now on).
    void setLinearWeight(int module, const at::Tensor& w);
    // fn(module, weight) -> weight, applied to every Linear weight materialized from now on
    // (after any earlier transform). Resident weights are transformed at once.
    using WeightTransform = std::function<at::Tensor(int module, const at::Tensor& w)>;
    void setWeightTransform(const WeightTransform& fn);

    // ids [B, T] int64 -> logits [B, T, vocab] float32. hook may be null.
    // modality [B, T] uint8 (null: all text). positions: [B, T] or, for multimodal RoPE,
    // [3, B, T] int64 (t, h, w rows; null: 0..T-1 on every row).
    at::Tensor forward(const at::Tensor& ids, ForwardHook* hook = nullptr,
                       const at::Tensor& modality = at::Tensor(), const at::Tensor& positions = at::Tensor()) const;
    // The same from input embeddings [B, T, hidden] (encoder features already placed).
    at::Tensor forwardEmbeds(const at::Tensor& embeds, ForwardHook* hook = nullptr,
                             const at::Tensor& modality = at::Tensor(), const at::Tensor& positions = at::Tensor()) const;
    // Token embeddings [B, T, hidden] float32 of ids [B, T].
    at::Tensor embed(const at::Tensor& ids) const;

    // Layer-wise pieces of the forward (what forwardEmbeds chains):
    // the float32 weights of layer l (streamed: read now, the mapped pages given back);
    LayerWeights layerWeights(int layer) const;
    // the rotary tables of one batch (positions as in forward());
    Rotary rotary(const at::Tensor& positions, int64_t B, int64_t T) const;
    // one decoder layer on hidden [B, T, H] float32 with the batch's modality tags [B*T] uint8;
    // the hook sees the layer's four Linear inputs (group indices as groups()).
    at::Tensor layerForward(const LayerWeights& w, const at::Tensor& hidden, ForwardHook* hook, const at::Tensor& tags,
                            const Rotary& rot) const;
    // The same in steps: advances c to stage `until` (c.stage < until <= 5). layerForward is
    // layerAdvance from stage 0 to 5; stopping and resuming gives the same result bit for bit.
    void layerAdvance(const LayerWeights& w, LayerCursor& c, int until, ForwardHook* hook, const at::Tensor& tags,
                      const Rotary& rot) const;
    // Layer w.layer's weights as this model materializes them, from baseWeights (that layer as
    // `base` materialized it): when this model is a copy of `base` with weight transforms added
    // (quantizeWeights) and streams from the same mapped checkpoint, only the added transforms
    // are applied to baseWeights instead of reading the checkpoint again; otherwise (a resident
    // model, another folder) it is layerWeights().
    LayerWeights layerWeightsFrom(const DecoderModel& base, const LayerWeights& baseWeights) const;
    // Final norm and lm_head: logits [B, T, vocab] float32.
    at::Tensor logits(const at::Tensor& hidden) const;
    // Final norm, then the next-token NLL of ids [B, T] with lm_head applied in vocabulary chunks
    // (log-sum-exp kept in float64), never holding the full logits.
    NllSum nextTokenNll(const at::Tensor& hidden, const at::Tensor& ids) const;
    // Both at once from the final hidden states of this model (the reference) and of another
    // whose final norm and lm_head are this model's (a quantized copy: only decoder Linears and
    // activations differ), in one sweep over the vocabulary: the NLL of each and
    // KL(p_ref || p_other) = E_ref[l_ref - l_other] - lse_ref + lse_other per token, every sum
    // in float64 with the running maximum rescaled as the chunks go.
    // tags [B*T] or [B, T] uint8 (modality of each position; undefined: all text).
    NllPairSum nextTokenNllPair(const at::Tensor& hiddenRef, const at::Tensor& hiddenOther, const at::Tensor& ids,
                                const at::Tensor& tags = at::Tensor()) const;
    // A copy computing the same function in a rotated basis (quant/rotation.h): RMSNorm scales
    // folded into the Linears after them (the norms become 1), the residual stream turned by the
    // orthogonal q (the embedding rows times q, every Linear reading the stream W q, o_proj and
    // down_proj q^T W, the final hidden turned back before the final norm and lm_head), and
    // down_proj's input turned online by the orthogonal h (its weight times h). With `head`
    // [head_dim, head_dim] defined, each key/value head's values are turned too (v_proj's rows
    // and bias per head times head, o_proj's input columns per attention head times head^T:
    // merged into the weights, attention mixes tokens, not channels). key names the rotation
    // ("hadamard:SEED", "hadamard-heads:SEED"). Throws Error for a model already rotated, an o_proj or
    // down_proj with a bias, or an intermediate size past 8192 (the online h is dense here).
    // weightsInBasis: the Linear weights are in the rotated basis already (an export of a rotated
    // plan stores them so); everything else (norms, v_proj's biases, q, h) is as above.
    DecoderModel rotated(const at::Tensor& q, const at::Tensor& h, const std::string& key,
                         const at::Tensor& head = at::Tensor(), bool weightsInBasis = false) const;
    // "" when not rotated.
    const std::string& rotationKey() const { return m_rotationKey; }
    // A copy whose RMSNorm weights are divided by per-layer factors (float32; an undefined
    // factor keeps that norm): SmoothQuant's 1/s folded into the norm before a group, exactly as
    // an export stores it (export/hf_export.h smoothedNorms).
    DecoderModel withNormsDividedBy(const std::vector<at::Tensor>& inputNorm,
                                    const std::vector<at::Tensor>& postNorm) const;
    // Layer `layer`'s RMSNorm weights (input, post-attention) as this model holds them (resident).
    std::pair<at::Tensor, at::Tensor> layerNorms(int layer) const;
    // x [..., hidden] in the model's residual basis: x q when rotated, else x (encoder features
    // placed among the token embeddings go through it).
    at::Tensor toResidualBasis(const at::Tensor& x) const;
    // The first of the model's tensors (embedding, each layer's norms, weights and biases, the
    // final norm, lm_head) holding NaN or Inf, by its checkpoint name; "" when none does. Reads
    // every weight once (a streamed model layer by layer): for explaining a non-finite result.
    std::string nonFiniteTensor() const;
    // Prefix of the decoder's tensor names: "" or "thinker." (Qwen2.5-Omni).
    const std::string& tensorPrefix() const { return m_prefix; }

    // The tensors of an HF checkpoint with the current (possibly quantized) Linear weights
    // (resident copies: for small models and tests).
    std::map<std::string, at::Tensor> stateDict() const;

private:
    struct Layer {
        at::Tensor inNorm, postNorm;
        int q = 0, k = 0, v = 0, o = 0, gate = 0, up = 0, down = 0; // module indices
        int gQkv = 0, gO = 0, gGateUp = 0, gDown = 0;                // group indices
    };
    struct Source; // the mapped checkpoint of a streamed model
    static DecoderModel build(const ModelConfig& cfg, Checkpoint& ck, const std::string& source, bool resident);
    at::Tensor rmsScale(const at::Tensor& x) const; // rsqrt(mean(x^2) + eps) over the last dim, kept
    at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w) const;
    int addModule(int layer, const std::string& name, const std::string& kind, int group, int64_t out, int64_t in,
                  const at::Tensor& w, const at::Tensor& b);
    int addGroup(const std::string& name);
    // lm_head rows [begin, begin + n) as float32.
    // The residual stream back in the model's own basis (x q^T when rotated; toResidualBasis's
    // inverse), and the final norm of positions 0..T-2 as [B*(T-1), hidden]: lm_head's inputs
    // for next-token prediction.
    at::Tensor fromResidualBasis(const at::Tensor& x) const;
    at::Tensor headInputs(const at::Tensor& hidden) const;
    at::Tensor headRows(int64_t begin, int64_t n) const;

    ModelConfig m_cfg;
    std::string m_dir;
    std::string m_prefix;
    at::Tensor m_embed, m_finalNorm, m_lmHead; // resident; m_lmHead aliases m_embed when tied
    std::string m_embedName, m_headName;       // tensor names (streamed)
    std::vector<Layer> m_layers;
    std::vector<ModuleInfo> m_modules;
    std::vector<std::string> m_groups;
    std::vector<int> m_moduleGroup;
    std::vector<at::Tensor> m_linW, m_linB;    // m_linW[i] undefined: streamed from the source
    std::shared_ptr<Source> m_source;
    std::vector<WeightTransform> m_transforms;
    at::Tensor m_rotQ, m_rotDown; // rotated(): residual and down_proj-input rotations
    std::string m_rotationKey;
};

} // namespace mq::core
