#include "model/audio_encoder.h"

#include "common/error.h"
#include "io/checkpoint.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace mq::core {

namespace {

// Python's // for the token-count formulas: (L-2)//2 is -1 for L = 1, not 0.
int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Exact (erf) GELU, as HF's "gelu" activation.
at::Tensor geluExact(const at::Tensor& x) { return at::gelu(x, "none"); }

at::Tensor layerNorm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b)
{
    return at::layer_norm(x, {x.size(-1)}, w, b, 1e-5);
}

} // namespace

struct AudioEncoder::Impl {
    struct Layer {
        at::Tensor lnAttnW, lnAttnB, qW, qB, kW, vW, vB, oW, oB, lnFfnW, lnFfnB, fc1W, fc1B, fc2W, fc2B;
    };
    at::Tensor conv1W, conv1B, conv2W, conv2B, lnPostW, lnPostB, projW, projB;
    at::Tensor positions; // [maxSourcePositions, dModel]
    std::vector<Layer> layers;
};

AudioConfig AudioConfig::fromJson(const nlohmann::json& j, const std::string& source)
{
    if (!j.is_object())
        throw InputError(describe(source, "audio_config", std::string("expected an object, found ") + j.type_name()));
    AudioConfig c;
    auto read = [&](const char* key, int* out) {
        auto it = j.find(key);
        if (it == j.end())
            return; // HF's Qwen2_5OmniAudioEncoderConfig default applies
        if (!it->is_number_integer())
            throw InputError(describe(source, std::string("audio_config.") + key,
                                      std::string("expected an integer, found ") + it->type_name() + " " + it->dump()));
        const int64_t v = it->get<int64_t>();
        if (v <= 0 || v > (1 << 30))
            throw InputError(describe(source, std::string("audio_config.") + key,
                                      "expected a positive integer, found " + std::to_string(v)));
        *out = int(v);
    };
    read("num_mel_bins", &c.numMelBins);
    read("d_model", &c.dModel);
    read("encoder_layers", &c.encoderLayers);
    read("encoder_attention_heads", &c.encoderAttentionHeads);
    read("encoder_ffn_dim", &c.encoderFfnDim);
    read("max_source_positions", &c.maxSourcePositions);
    read("n_window", &c.nWindow);
    read("output_dim", &c.outputDim);
    if (c.dModel % c.encoderAttentionHeads != 0)
        throw InputError(describe(source, "audio_config.d_model",
                                  "expected a multiple of encoder_attention_heads ("
                                      + std::to_string(c.encoderAttentionHeads) + "), found "
                                      + std::to_string(c.dModel)));
    if (c.dModel % 2 != 0 || c.dModel < 4)
        throw InputError(
            describe(source, "audio_config.d_model",
                     "expected an even size of at least 4 (sin/cos positions), found " + std::to_string(c.dModel)));
    if (c.nWindow > c.maxSourcePositions) // a chunk of 2*n_window frames gives
                                          // n_window positions
        throw InputError(describe(source, "audio_config.n_window",
                                  "expected at most max_source_positions (" + std::to_string(c.maxSourcePositions)
                                      + "), found " + std::to_string(c.nWindow)));
    return c;
}

AudioEncoder AudioEncoder::load(const AudioConfig& cfg, Checkpoint& ck, const std::string& prefix)
{
    const int64_t D = cfg.dModel, F = cfg.encoderFfnDim, M = cfg.numMelBins;
    auto impl = std::make_shared<Impl>();
    const std::string& p = prefix;
    impl->conv1W = ck.loadFloatChecked(p + "conv1.weight", {D, M, 3}, "audio_config");
    impl->conv1B = ck.loadFloatChecked(p + "conv1.bias", {D}, "audio_config");
    impl->conv2W = ck.loadFloatChecked(p + "conv2.weight", {D, D, 3}, "audio_config");
    impl->conv2B = ck.loadFloatChecked(p + "conv2.bias", {D}, "audio_config");
    for (int i = 0; i < cfg.encoderLayers; ++i) {
        const std::string l = p + "layers." + std::to_string(i) + ".";
        Impl::Layer L;
        L.lnAttnW = ck.loadFloatChecked(l + "self_attn_layer_norm.weight", {D}, "audio_config");
        L.lnAttnB = ck.loadFloatChecked(l + "self_attn_layer_norm.bias", {D}, "audio_config");
        L.qW = ck.loadStoredChecked(l + "self_attn.q_proj.weight", {D, D}, "audio_config");
        L.qB = ck.loadFloatChecked(l + "self_attn.q_proj.bias", {D}, "audio_config");
        // Whisper: k_proj has no bias
        L.kW = ck.loadStoredChecked(l + "self_attn.k_proj.weight", {D, D}, "audio_config");
        L.vW = ck.loadStoredChecked(l + "self_attn.v_proj.weight", {D, D}, "audio_config");
        L.vB = ck.loadFloatChecked(l + "self_attn.v_proj.bias", {D}, "audio_config");
        L.oW = ck.loadStoredChecked(l + "self_attn.out_proj.weight", {D, D}, "audio_config");
        L.oB = ck.loadFloatChecked(l + "self_attn.out_proj.bias", {D}, "audio_config");
        L.lnFfnW = ck.loadFloatChecked(l + "final_layer_norm.weight", {D}, "audio_config");
        L.lnFfnB = ck.loadFloatChecked(l + "final_layer_norm.bias", {D}, "audio_config");
        L.fc1W = ck.loadStoredChecked(l + "fc1.weight", {F, D}, "audio_config");
        L.fc1B = ck.loadFloatChecked(l + "fc1.bias", {F}, "audio_config");
        L.fc2W = ck.loadStoredChecked(l + "fc2.weight", {D, F}, "audio_config");
        L.fc2B = ck.loadFloatChecked(l + "fc2.bias", {D}, "audio_config");
        impl->layers.push_back(std::move(L));
    }
    impl->lnPostW = ck.loadFloatChecked(p + "ln_post.weight", {D}, "audio_config");
    impl->lnPostB = ck.loadFloatChecked(p + "ln_post.bias", {D}, "audio_config");
    impl->projW = ck.loadFloatChecked(p + "proj.weight", {cfg.outputDim, D}, "audio_config");
    impl->projB = ck.loadFloatChecked(p + "proj.bias", {cfg.outputDim}, "audio_config");

    // Whisper's sinusoids(length, channels): not stored in the checkpoint.
    // Computed in double and rounded once, as the table HF builds in float32 from
    // numpy's float64 np.exp.
    const int64_t half = D / 2;
    const double inc = std::log(10000.0) / double(half - 1);
    at::Tensor inv = at::exp(at::arange(half, at::kDouble) * -inc);
    at::Tensor t = at::arange(cfg.maxSourcePositions, at::kDouble).unsqueeze(1) * inv.unsqueeze(0);
    impl->positions = at::cat({at::sin(t), at::cos(t)}, 1).to(at::kFloat).contiguous();

    AudioEncoder e;
    e.m_cfg = cfg;
    e.m_impl = std::move(impl);
    return e;
}

std::vector<std::string> AudioEncoder::groups() const
{
    std::vector<std::string> g;
    for (int i = 0; i < m_cfg.encoderLayers; ++i) {
        const std::string l = "audio.layers." + std::to_string(i) + ".";
        for (const char* n : {"qkv_in", "out_in", "fc1_in", "fc2_in"})
            g.push_back(l + n);
    }
    g.push_back("audio.proj_in");
    return g;
}

AudioEncoder AudioEncoder::withLinearWeights(const LinearWeightMap& f, int first, int end) const
{
    auto impl = std::make_shared<Impl>(*m_impl);
    auto map = [&](int group, const std::vector<std::string>& names, const std::vector<at::Tensor*>& weights) {
        if (group >= first && group < end) // other groups keep their tensors (no float32 copy)
            mapLinearGroup(f, group, names, weights, "audio");
    };
    for (size_t i = 0; i < impl->layers.size(); ++i) {
        Impl::Layer& l = impl->layers[i];
        const std::string p = "layers." + std::to_string(i) + ".";
        const int g = int(i) * 4;
        map(g, {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"},
            {&l.qW, &l.kW, &l.vW});
        map(g + 1, {p + "self_attn.out_proj.weight"}, {&l.oW});
        map(g + 2, {p + "fc1.weight"}, {&l.fc1W});
        map(g + 3, {p + "fc2.weight"}, {&l.fc2W});
    }
    map(int(impl->layers.size()) * 4, {"proj.weight"}, {&impl->projW});
    AudioEncoder e;
    e.m_cfg = m_cfg;
    e.m_impl = std::move(impl);
    return e;
}

int64_t AudioEncoder::tokenCount(int64_t melFrames)
{
    if (melFrames < 0)
        throw InputError(describe("", "audio mel", "expected a frame count >= 0, found " + std::to_string(melFrames)));
    const int64_t a = floorDiv(melFrames - 1, 2) + 1;
    return std::max<int64_t>(0, floorDiv(a - 2, 2) + 1);
}

namespace {

// One clip's pass through the audio tower: the stem (chunked convolutions and positions) runs
// when the pass is made; step i < layers runs layer i, the last step pools and projects.
class AudioPass : public TowerPass {
public:
    using Step = std::function<at::Tensor(const AudioPass&, const void* weights, int, const at::Tensor&, ForwardHook*)>;
    AudioPass(const AudioEncoder& enc, at::Tensor x, std::vector<int64_t> segLens, int64_t nFull, int groupOffset,
              uint8_t modality, Step step)
        : segLens(std::move(segLens)), nFull(nFull), m_enc(enc), m_weights(enc.weightsHandle()), m_input(std::move(x)),
          m_offset(groupOffset), m_modality(modality), m_step(std::move(step))
    {
    }
    int steps() const override { return m_enc.config().encoderLayers + 1; }
    at::Tensor input() const override { return m_input; }
    at::Tensor run(int step, const at::Tensor& x, ForwardHook* hook) const override
    {
        return m_step(*this, m_weights.get(), step, x, hook);
    }
    void useWeights(const AudioEncoder& weights) override
    {
        m_enc = weights;
        m_weights = weights.weightsHandle();
    }
    void useWeights(const VisionEncoder&) override { throw Error("an audio encoder pass cannot take vision weights"); }
    int firstGroup(int step) const override
    {
        const int layers = m_enc.config().encoderLayers;
        return m_offset + (step <= layers ? step * 4 : layers * 4 + 1);
    }
    // The hook's view of tower-local group `group`'s input.
    at::Tensor observe(ForwardHook* hook, int group, const at::Tensor& in) const
    {
        at::Tensor v = in.contiguous();
        if (!hook)
            return v;
        const int g = m_offset + group;
        at::Tensor tags = at::full({v.size(0)}, int64_t(m_modality), at::TensorOptions().dtype(at::kByte));
        at::Tensor r = hook->onLinearInput(g, v, tags);
        if (!r.defined() || r.sizes() != v.sizes())
            throw Error("audio encoder: the forward hook must return a tensor of shape " + shapeText(v.sizes())
                        + " for group " + std::to_string(g));
        return r.to(at::kFloat).contiguous();
    }

    std::vector<int64_t> segLens; // tokens per chunk: the blocks of the block-diagonal attention
    int64_t nFull = 0;            // full chunks (the last chunk, if shorter, follows them)

private:
    AudioEncoder m_enc; // a copy sharing the weights: they outlive the pass
    std::shared_ptr<const void> m_weights;
    at::Tensor m_input;
    int m_offset;
    uint8_t m_modality;
    Step m_step;
};

} // namespace

std::shared_ptr<const void> AudioEncoder::weightsHandle() const { return m_impl; }

std::unique_ptr<TowerPass> AudioEncoder::pass(const at::Tensor& melIn, int groupOffset, uint8_t modality) const
{
    const AudioConfig& c = m_cfg;
    const Impl& w = *m_impl;
    if (melIn.dim() != 2 || melIn.size(0) != c.numMelBins)
        throw InputError(describe("", "audio mel",
                                  "expected shape [" + std::to_string(c.numMelBins) + ", frames], found "
                                      + shapeText(melIn.sizes())));
    const int64_t L = melIn.size(1);
    if (tokenCount(L) < 1) // AvgPool1d(2) needs two frames after the CNN
        throw InputError(
            describe("", "audio mel", "expected at least 3 frames (one output token), found " + std::to_string(L)));
    const at::Tensor mel = melIn.to(at::kFloat).contiguous();
    const int64_t D = c.dModel;
    const int64_t chunk = 2 * int64_t(c.nWindow);

    // Chunks of 2*n_window frames, the last one the remainder. Each chunk is
    // convolved alone at its own length: the zero padding of conv1/conv2 is then
    // exactly what HF gets by padding the chunk batch and masking conv1's output
    // (QWEN25_OMNI.md §3).
    const int64_t nFull = L / chunk; // a remainder of 0 leaves the last chunk full
    const int64_t tail = L - nFull * chunk;
    auto stem = [&](const at::Tensor& x) { // [B, mels, n] -> [B, m, D] with positions 0..m-1
        at::Tensor h = geluExact(at::conv1d(x, w.conv1W, w.conv1B, 1, 1));
        h = geluExact(at::conv1d(h, w.conv2W, w.conv2B, 2, 1)).transpose(1, 2);
        return h + w.positions.narrow(0, 0, h.size(1)).unsqueeze(0);
    };
    std::vector<at::Tensor> parts;
    std::vector<int64_t> segLens;
    if (nFull > 0) {
        at::Tensor x = mel.narrow(1, 0, nFull * chunk).reshape({c.numMelBins, nFull, chunk}).transpose(0, 1);
        at::Tensor h = stem(x.contiguous());
        for (int64_t i = 0; i < nFull; ++i)
            segLens.push_back(h.size(1));
        parts.push_back(h.reshape({-1, D}));
    }
    if (tail > 0) {
        at::Tensor h = stem(mel.narrow(1, nFull * chunk, tail).unsqueeze(0));
        segLens.push_back(h.size(1));
        parts.push_back(h.reshape({-1, D}));
    }
    at::Tensor x = at::cat(parts, 0).contiguous(); // [T, D]
    if (x.size(0) != floorDiv(L - 1, 2) + 1)
        throw Error("audio encoder: CNN gave " + std::to_string(x.size(0)) + " frames for " + std::to_string(L)
                    + " mel frames, expected (L-1)//2+1");
    const int64_t mels = L;
    auto step = [c, mels](const AudioPass& p, const void* weights, int i, const at::Tensor& xIn,
                          ForwardHook* hook) -> at::Tensor {
        const Impl& w = *static_cast<const Impl*>(weights);
        const int64_t D = c.dModel, nh = c.encoderAttentionHeads, hd = D / nh, T = xIn.size(0);
        if (i < int(w.layers.size())) {
            // Attention within each chunk only. Full chunks share one length, so they run
            // as a batch.
            const int64_t fullTok = p.nFull > 0 ? p.segLens.front() : 0;
            const bool tail = int64_t(p.segLens.size()) > p.nFull;
            auto attend = [&](const at::Tensor& q, const at::Tensor& k,
                              const at::Tensor& v) { // [T, nh, hd]
                auto block = [&](int64_t start, int64_t batch, int64_t len) {
                    auto view = [&](const at::Tensor& t) {
                        return t.narrow(0, start, batch * len).reshape({batch, len, nh, hd}).transpose(1, 2);
                    };
                    at::Tensor att = at::matmul(view(q), view(k).transpose(-1, -2)) * (1.0 / std::sqrt(double(hd)));
                    return at::matmul(at::softmax(att, -1), view(v)).transpose(1, 2).reshape({batch * len, D});
                };
                std::vector<at::Tensor> out;
                if (p.nFull > 0)
                    out.push_back(block(0, p.nFull, fullTok));
                if (tail)
                    out.push_back(block(p.nFull * fullTok, 1, T - p.nFull * fullTok));
                return at::cat(out, 0);
            };
            const Impl::Layer& l = w.layers[size_t(i)];
            const int g = i * 4;
            at::Tensor x = xIn;
            at::Tensor h = p.observe(hook, g, layerNorm(x, l.lnAttnW, l.lnAttnB));
            at::Tensor q = at::linear(h, asFloat(l.qW), l.qB).reshape({T, nh, hd});
            at::Tensor k = at::linear(h, asFloat(l.kW)).reshape({T, nh, hd});
            at::Tensor v = at::linear(h, asFloat(l.vW), l.vB).reshape({T, nh, hd});
            x = x + at::linear(p.observe(hook, g + 1, attend(q, k, v)), asFloat(l.oW), l.oB);
            at::Tensor f =
                geluExact(at::linear(p.observe(hook, g + 2, layerNorm(x, l.lnFfnW, l.lnFfnB)), asFloat(l.fc1W), l.fc1B));
            return x + at::linear(p.observe(hook, g + 3, f), asFloat(l.fc2W), l.fc2B);
        }
        // AvgPool1d(2, 2) over the whole clip, as HF splits the encoder output per
        // clip (not per chunk) before avg_pooler. With an even n_window (100) no
        // window crosses a chunk boundary.
        const int64_t N = T / 2;
        if (N != tokenCount(mels))
            throw Error("audio encoder: pooled " + std::to_string(N) + " tokens, tokenCount says "
                        + std::to_string(tokenCount(mels)));
        at::Tensor pooled = xIn.narrow(0, 0, 2 * N).reshape({N, 2, D}).mean(1);
        at::Tensor y = p.observe(hook, int(w.layers.size()) * 4, layerNorm(pooled, w.lnPostW, w.lnPostB));
        return at::linear(y, w.projW, w.projB).contiguous();
    };
    return std::make_unique<AudioPass>(*this, x, segLens, nFull, groupOffset, modality, step);
}

at::Tensor AudioEncoder::forward(const at::Tensor& mel, ForwardHook* hook, int groupOffset, uint8_t modality) const
{
    const std::unique_ptr<TowerPass> p = pass(mel, groupOffset, modality);
    return runAllSteps(*p, hook);
}

} // namespace mq::core
