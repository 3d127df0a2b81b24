#include "model/decoder.h"

#include "model/attention.h"

#include "common/error.h"
#include "io/checkpoint.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace mq::core {

struct DecoderModel::Source {
    std::mutex mutex; // Checkpoint opens shards lazily and is not thread-safe
    std::unique_ptr<Checkpoint> ck;

    at::Tensor loadFloat(const std::string& name)
    {
        std::lock_guard<std::mutex> lock(mutex);
        at::Tensor t = ck->loadFloat(name);
        ck->release(name);
        return t;
    }
    // rows [begin, begin + n) of a 2-D tensor as float32; the mapped pages given back.
    at::Tensor rows(const std::string& name, int64_t begin, int64_t n)
    {
        std::lock_guard<std::mutex> lock(mutex);
        at::Tensor t = ck->view(name).narrow(0, begin, n).to(at::kFloat).contiguous();
        ck->release(name);
        return t;
    }
    at::Tensor gather(const std::string& name, const at::Tensor& index)
    {
        std::lock_guard<std::mutex> lock(mutex);
        at::Tensor t = ck->view(name).index_select(0, index).to(at::kFloat);
        ck->release(name);
        return t;
    }
};

DecoderModel DecoderModel::load(const std::string& dir, Residency residency,
                                const std::function<void(Checkpoint&)>& prepare)
{
    ModelConfig cfg = loadModelConfig(dir + "/config.json");
    if (residency == Residency::Resident) {
        Checkpoint ck(dir);
        if (prepare)
            prepare(ck);
        DecoderModel m = build(cfg, ck, dir, true);
        m.m_dir = dir;
        return m;
    }
    auto src = std::make_shared<Source>();
    src->ck = std::make_unique<Checkpoint>(dir);
    if (prepare)
        prepare(*src->ck);
    DecoderModel m = build(cfg, *src->ck, dir, false);
    m.m_dir = dir;
    m.m_source = std::move(src);
    return m;
}

DecoderModel DecoderModel::fromCheckpoint(const ModelConfig& cfg, Checkpoint& ck, const std::string& source)
{
    return build(cfg, ck, source, true);
}

int DecoderModel::addGroup(const std::string& name)
{
    m_groups.push_back(name);
    return int(m_groups.size()) - 1;
}

int DecoderModel::addModule(int layer, const std::string& name, const std::string& kind, int group, int64_t out,
                            int64_t in, const at::Tensor& w, const at::Tensor& b)
{
    ModuleInfo mi;
    mi.name = name;
    mi.layer = layer;
    mi.kind = kind;
    mi.inputGroup = m_groups[size_t(group)];
    mi.outFeatures = out;
    mi.inFeatures = in;
    m_modules.push_back(mi);
    m_moduleGroup.push_back(group);
    m_linW.push_back(w);
    m_linB.push_back(b);
    return int(m_modules.size()) - 1;
}

DecoderModel DecoderModel::build(const ModelConfig& cfg, Checkpoint& ck, const std::string& source, bool resident)
{
    DecoderModel m;
    m.m_cfg = cfg;
    m.m_dir = source;
    // Qwen2.5-Omni keeps the thinker's decoder under "thinker."; a thinker-only config may too.
    if (cfg.container == "qwen2_5_omni" || ck.contains("thinker.model.embed_tokens.weight"))
        m.m_prefix = "thinker.";
    const std::string& P = m.m_prefix;
    const int64_t h = cfg.hiddenSize, inter = cfg.intermediateSize, hd = cfg.headDim;
    const int64_t qOut = int64_t(cfg.numHeads) * hd, kvOut = int64_t(cfg.numKvHeads) * hd;
    // A streamed model checks names, shapes and dtypes now and reads the bytes later.
    auto big = [&](const std::string& name, const std::vector<int64_t>& shape) {
        if (resident)
            return ck.loadFloatChecked(name, shape, "config.json");
        ck.infoChecked(name, shape, "config.json");
        return at::Tensor();
    };
    auto small = [&](const std::string& name, const std::vector<int64_t>& shape) {
        return ck.loadFloatChecked(name, shape, "config.json");
    };
    // A checkpoint with more decoder layers than config.json says is not what the config describes
    // (the extra layers would be silently left out).
    const std::string past = tensorPastLastLayer(ck.tensorNames(), P, cfg.numLayers);
    if (!past.empty())
        throw InputError(source + ": the checkpoint holds " + past + " but config.json says num_hidden_layers "
                         + std::to_string(cfg.numLayers) + " (layers 0.." + std::to_string(cfg.numLayers - 1)
                         + "); the config does not describe this checkpoint");
    m.m_embedName = P + "model.embed_tokens.weight";
    m.m_embed = big(m.m_embedName, {cfg.vocabSize, h});
    for (int i = 0; i < cfg.numLayers; ++i) {
        const std::string p = P + "model.layers." + std::to_string(i) + ".";
        const std::string g = "layers." + std::to_string(i) + ".";
        Layer L;
        L.inNorm = small(p + "input_layernorm.weight", {h});
        L.postNorm = small(p + "post_attention_layernorm.weight", {h});
        auto lin = [&](const std::string& sub, const std::string& kind, int group, int64_t out, int64_t in,
                       bool bias) {
            at::Tensor w = big(p + sub + ".weight", {out, in});
            at::Tensor b = bias ? small(p + sub + ".bias", {out}) : at::Tensor();
            return m.addModule(i, p + sub, kind, group, out, in, w, b);
        };
        L.gQkv = m.addGroup(g + "qkv_in");
        L.q = lin("self_attn.q_proj", "q_proj", L.gQkv, qOut, h, cfg.attentionBias);
        L.k = lin("self_attn.k_proj", "k_proj", L.gQkv, kvOut, h, cfg.attentionBias);
        L.v = lin("self_attn.v_proj", "v_proj", L.gQkv, kvOut, h, cfg.attentionBias);
        L.gO = m.addGroup(g + "o_in");
        L.o = lin("self_attn.o_proj", "o_proj", L.gO, h, qOut, false);
        L.gGateUp = m.addGroup(g + "gate_up_in");
        L.gate = lin("mlp.gate_proj", "gate_proj", L.gGateUp, inter, h, false);
        L.up = lin("mlp.up_proj", "up_proj", L.gGateUp, inter, h, false);
        L.gDown = m.addGroup(g + "down_in");
        L.down = lin("mlp.down_proj", "down_proj", L.gDown, h, inter, false);
        m.m_layers.push_back(L);
    }
    m.m_finalNorm = small(P + "model.norm.weight", {h});
    if (cfg.tieWordEmbeddings && !ck.contains(P + "lm_head.weight")) {
        m.m_headName = m.m_embedName;
        m.m_lmHead = m.m_embed;
    } else {
        m.m_headName = P + "lm_head.weight";
        m.m_lmHead = big(m.m_headName, {cfg.vocabSize, h});
    }
    return m;
}

std::vector<int> DecoderModel::groupMembers(int group) const
{
    std::vector<int> out;
    for (size_t i = 0; i < m_moduleGroup.size(); ++i)
        if (m_moduleGroup[i] == group)
            out.push_back(int(i));
    return out;
}

int64_t DecoderModel::groupChannels(int group) const
{
    for (size_t i = 0; i < m_moduleGroup.size(); ++i)
        if (m_moduleGroup[i] == group)
            return m_modules[i].inFeatures;
    return 0;
}

std::array<int, 4> DecoderModel::layerGroups(int layer) const
{
    const Layer& L = m_layers.at(size_t(layer));
    return {L.gQkv, L.gO, L.gGateUp, L.gDown};
}

at::Tensor DecoderModel::linearWeight(int module) const
{
    const at::Tensor& w = m_linW.at(size_t(module));
    if (w.defined())
        return w;
    at::Tensor t = m_source->loadFloat(m_modules[size_t(module)].name + ".weight").contiguous();
    for (const WeightTransform& fn : m_transforms)
        t = fn(module, t);
    return t;
}

void DecoderModel::setLinearWeight(int module, const at::Tensor& w)
{
    const ModuleInfo& mi = m_modules.at(size_t(module));
    if (w.dim() != 2 || w.size(0) != mi.outFeatures || w.size(1) != mi.inFeatures)
        throw Error("setLinearWeight: " + mi.name + " expects the same shape");
    m_linW[size_t(module)] = w.to(m_finalNorm.device(), at::kFloat).contiguous();
}

void DecoderModel::setWeightTransform(const WeightTransform& fn)
{
    // Resident weights are transformed now; streamed ones each time they are read.
    for (size_t i = 0; i < m_linW.size(); ++i)
        if (m_linW[i].defined())
            m_linW[i] = fn(int(i), m_linW[i]).to(at::kFloat).contiguous();
    if (m_source)
        m_transforms.push_back(fn);
}

at::Tensor DecoderModel::toResidualBasis(const at::Tensor& x) const
{
    return m_rotQ.defined() ? at::matmul(x, m_rotQ.to(x.device(), x.scalar_type())) : x;
}

DecoderModel DecoderModel::rotated(const at::Tensor& qIn, const at::Tensor& hIn, const std::string& key,
                                   const at::Tensor& headIn, bool weightsInBasis) const
{
    if (m_rotQ.defined())
        throw Error("the model is rotated already (" + m_rotationKey + ")");
    const int64_t H = m_cfg.hiddenSize, I = m_cfg.intermediateSize;
    if (qIn.sizes() != at::IntArrayRef({H, H}) || hIn.sizes() != at::IntArrayRef({I, I}))
        throw Error("rotation matrices must be [hidden, hidden] and [intermediate, intermediate]");
    if (I > 8192)
        throw InputError("rotation: intermediate size " + std::to_string(I)
                         + " is past 8192; the online down_proj rotation is a dense product here (a fast "
                           "Hadamard transform for real model sizes is not written yet)");
    std::vector<at::Tensor> inNorm, postNorm;
    for (const Layer& L : m_layers) {
        inNorm.push_back(L.inNorm.to(at::kFloat));
        postNorm.push_back(L.postNorm.to(at::kFloat));
    }
    std::vector<std::string> kinds;
    std::vector<int> layers;
    for (size_t i = 0; i < m_modules.size(); ++i) {
        const ModuleInfo& m = m_modules[i];
        if ((m.kind == "o_proj" || m.kind == "down_proj") && m_linB[i].defined())
            throw InputError(m.name + " has a bias: the rotation of the residual stream does not handle one yet");
        kinds.push_back(m.kind);
        layers.push_back(m.layer);
    }
    DecoderModel r = *this;
    const at::Tensor q = qIn.to(m_finalNorm.device(), at::kFloat).contiguous();
    const at::Tensor h = hIn.to(m_finalNorm.device(), at::kFloat).contiguous();
    r.m_rotQ = q;
    r.m_rotDown = h;
    r.m_rotationKey = key;
    for (Layer& L : r.m_layers) {
        L.inNorm = at::ones_like(L.inNorm);
        L.postNorm = at::ones_like(L.postNorm);
    }
    // Per-head value rotation: [heads * d, K] rows of v_proj times head block by block, and
    // o_proj's [N, heads * d] columns times head^T.
    at::Tensor hd;
    const int64_t d = m_cfg.headDim;
    if (headIn.defined()) {
        if (headIn.sizes() != at::IntArrayRef({d, d}))
            throw Error("the head rotation must be [head_dim, head_dim]");
        hd = headIn.to(m_finalNorm.device(), at::kFloat).contiguous();
        for (size_t i = 0; i < m_modules.size(); ++i)
            if (m_modules[i].kind == "v_proj" && m_linB[i].defined())
                r.m_linB[i] = at::matmul(m_linB[i].to(at::kFloat).reshape({-1, d}), hd.t()).reshape({-1});
    }
    if (weightsInBasis)
        return r;
    auto turnRows = [hd, d](const at::Tensor& w) { // each head's d rows times hd
        return hd.defined() ? at::matmul(hd, w.reshape({-1, d, w.size(1)})).reshape(w.sizes()) : w;
    };
    auto turnCols = [hd, d](const at::Tensor& w) { // each head's d columns times hd^T
        return hd.defined() ? at::matmul(w.reshape({w.size(0), -1, d}), hd.t()).reshape(w.sizes()) : w;
    };
    r.setWeightTransform([q, h, kinds, layers, inNorm, postNorm, turnRows, turnCols](int module, const at::Tensor& w) {
        const std::string& kind = kinds[size_t(module)];
        const size_t l = size_t(layers[size_t(module)]);
        if (kind == "q_proj" || kind == "k_proj")
            return at::matmul(w * inNorm[l].unsqueeze(0), q);
        if (kind == "v_proj")
            return turnRows(at::matmul(w * inNorm[l].unsqueeze(0), q));
        if (kind == "gate_proj" || kind == "up_proj")
            return at::matmul(w * postNorm[l].unsqueeze(0), q);
        if (kind == "o_proj")
            return at::matmul(q.t(), turnCols(w));
        if (kind == "down_proj")
            return at::matmul(at::matmul(q.t(), w), h);
        throw Error("rotation: unknown module kind '" + kind + "'");
    });
    return r;
}

DecoderModel DecoderModel::withNormsDividedBy(const std::vector<at::Tensor>& inputNorm,
                                              const std::vector<at::Tensor>& postNorm) const
{
    if (inputNorm.size() != m_layers.size() || postNorm.size() != m_layers.size())
        throw Error("withNormsDividedBy: one factor (or none) per layer");
    DecoderModel r = *this;
    for (size_t l = 0; l < m_layers.size(); ++l) {
        Layer& L = r.m_layers[l];
        if (inputNorm[l].defined())
            L.inNorm = (L.inNorm.to(at::kFloat) / inputNorm[l].to(L.inNorm.device(), at::kFloat)).contiguous();
        if (postNorm[l].defined())
            L.postNorm = (L.postNorm.to(at::kFloat) / postNorm[l].to(L.postNorm.device(), at::kFloat)).contiguous();
    }
    return r;
}

std::pair<at::Tensor, at::Tensor> DecoderModel::layerNorms(int layer) const
{
    const Layer& L = m_layers.at(size_t(layer));
    return {L.inNorm, L.postNorm};
}

LayerWeights DecoderModel::layerWeightsFrom(const DecoderModel& base, const LayerWeights& baseWeights) const
{
    if (!m_source || m_source != base.m_source || base.m_transforms.size() > m_transforms.size())
        return layerWeights(baseWeights.layer);
    LayerWeights w = baseWeights;
    const Layer& own = m_layers.at(size_t(w.layer)); // this model's norms (folded ones differ from base's)
    w.inNorm = own.inNorm;
    w.postNorm = own.postNorm;
    for (int i = 0; i < LayerWeights::kLinears; ++i) {
        const int module = w.firstModule + i;
        at::Tensor t = w.w[size_t(i)];
        for (size_t k = base.m_transforms.size(); k < m_transforms.size(); ++k)
            t = m_transforms[k](module, t);
        w.w[size_t(i)] = t;
    }
    return w;
}

LayerWeights DecoderModel::layerWeights(int layer) const
{
    const Layer& L = m_layers.at(size_t(layer));
    LayerWeights w;
    w.layer = layer;
    w.firstModule = L.q;
    w.inNorm = L.inNorm;
    w.postNorm = L.postNorm;
    for (int i = 0; i < LayerWeights::kLinears; ++i) {
        w.w[size_t(i)] = linearWeight(L.q + i);
        w.b[size_t(i)] = m_linB[size_t(L.q + i)];
    }
    return w;
}

at::Tensor DecoderModel::rmsScale(const at::Tensor& x) const
{
    return at::rsqrt(x.pow(2).mean(-1, true) + m_cfg.rmsNormEps);
}

at::Tensor DecoderModel::rmsNorm(const at::Tensor& x, const at::Tensor& w) const
{
    return x * rmsScale(x) * w;
}

namespace {

// t as float32 on the CPU where that is exact (float32, bfloat16, float16 there), else undefined.
at::Tensor cpuFloat(const at::Tensor& t)
{
    if (!t.defined() || !t.is_cpu())
        return at::Tensor();
    const auto d = t.scalar_type();
    if (d != at::kFloat && d != at::kBFloat16 && d != at::kHalf)
        return at::Tensor();
    return t.to(at::kFloat).contiguous();
}

} // namespace

std::unique_ptr<RowProduct> RowProduct::scaled(const at::Tensor& x2d, const at::Tensor& rowScale,
                                               const at::Tensor& colScale)
{
    // LibTorch's `x * s * w` is float32 only where x and s are (a float32 tensor times a
    // bfloat16 or float16 one is float32); w may be either.
    if (x2d.scalar_type() != at::kFloat || rowScale.scalar_type() != at::kFloat || x2d.dim() != 2)
        return nullptr;
    auto p = std::make_unique<RowProduct>();
    p->a = cpuFloat(x2d);
    p->rowScale = cpuFloat(rowScale.reshape({-1}));
    p->colScale = cpuFloat(colScale.reshape({-1}));
    if (!p->a.defined() || !p->rowScale.defined() || !p->colScale.defined() || p->rowScale.numel() != p->rows()
        || p->colScale.numel() != p->channels())
        return nullptr;
    return p;
}

std::unique_ptr<RowProduct> RowProduct::product(const at::Tensor& a2d, const at::Tensor& b2d)
{
    if (a2d.scalar_type() != at::kFloat || b2d.scalar_type() != at::kFloat || a2d.dim() != 2
        || a2d.sizes() != b2d.sizes())
        return nullptr;
    auto p = std::make_unique<RowProduct>();
    p->a = cpuFloat(a2d);
    p->b = cpuFloat(b2d);
    if (!p->a.defined() || !p->b.defined())
        return nullptr;
    return p;
}

void RowProduct::compute(float* out, int64_t r0, int64_t r1) const
{
    const int64_t k = channels();
    const float* pa = a.data_ptr<float>();
    if (b.defined()) {
        const float* pb = b.data_ptr<float>();
        for (int64_t i = r0 * k; i < r1 * k; ++i)
            out[i] = pa[i] * pb[i];
        return;
    }
    const float* s = rowScale.data_ptr<float>();
    const float* w = colScale.data_ptr<float>();
    for (int64_t r = r0; r < r1; ++r) {
        const float sr = s[r];
        const float* x = pa + r * k;
        float* y = out + r * k;
        for (int64_t c = 0; c < k; ++c)
            y[c] = (x[c] * sr) * w[c]; // two roundings, as LibTorch's two multiplications
    }
}

at::Tensor RowProduct::compute() const
{
    at::Tensor out = at::empty({rows(), channels()}, at::kFloat);
    computeAll(out.data_ptr<float>());
    return out;
}

void RowProduct::computeAll(float* po) const
{
    // LibTorch's grain for elementwise work (at::internal::GRAIN_SIZE): smaller inputs stay on
    // one thread, as LibTorch's multiplication keeps them.
    constexpr int64_t kGrain = 32768;
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, channels()));
    at::parallel_for(0, rows(), grain, [&](int64_t r0, int64_t r1) { compute(po, r0, r1); });
}

at::Tensor DecoderModel::embed(const at::Tensor& ids) const
{
    if (ids.dim() != 2)
        throw InputError("forward expects token ids of shape [batch, tokens]");
    const at::Tensor flat = ids.reshape({-1}).to(at::kCPU, at::kLong);
    if (flat.numel() > 0) {
        const int64_t lo = flat.min().item<int64_t>(), hi = flat.max().item<int64_t>();
        if (lo < 0 || hi >= m_cfg.vocabSize)
            throw InputError("token id " + std::to_string(lo < 0 ? lo : hi) + " is outside the vocabulary (0.."
                             + std::to_string(m_cfg.vocabSize - 1) + ")");
    }
    at::Tensor rows = m_embed.defined() ? m_embed.index_select(0, flat.to(m_embed.device()))
                                        : m_source->gather(m_embedName, flat);
    return toResidualBasis(rows.reshape({ids.size(0), ids.size(1), -1}));
}

at::Tensor DecoderModel::forward(const at::Tensor& ids, ForwardHook* hook, const at::Tensor& modality,
                                 const at::Tensor& positions) const
{
    return forwardEmbeds(embed(ids), hook, modality, positions);
}

Rotary DecoderModel::rotary(const at::Tensor& positions, int64_t B, int64_t T) const
{
    // Rotate-half convention: angle(p, i) = p * theta^(-2i/hd), i < hd/2, duplicated to hd lanes.
    const int64_t hd = m_cfg.headDim;
    const auto dbl = at::TensorOptions().dtype(at::kDouble);
    at::Tensor invFreq = at::pow(m_cfg.ropeTheta, -at::arange(0, hd, 2, dbl) / double(hd)); // [hd/2]
    at::Tensor pos = positions.defined() ? positions.to(at::kCPU, at::kDouble) : at::arange(T, dbl);
    at::Tensor freqs;
    if (pos.dim() == 3) {
        if (pos.size(0) != 3 || pos.size(1) != B || pos.size(2) != T)
            throw InputError("multimodal positions must be [3, batch, tokens]");
        at::Tensor all = pos.unsqueeze(-1) * invFreq; // [3, B, T, hd/2]
        if (m_cfg.mropeSection.empty()) {
            freqs = all[0];
        } else {
            // Frequency j takes its position from row t, h or w by the configured sections.
            std::vector<at::Tensor> parts;
            int64_t start = 0;
            for (size_t r = 0; r < m_cfg.mropeSection.size(); ++r) {
                const int64_t len = m_cfg.mropeSection[r];
                parts.push_back(all[int64_t(r)].narrow(-1, start, len));
                start += len;
            }
            freqs = at::cat(parts, -1); // [B, T, hd/2]
        }
    } else {
        freqs = (pos.dim() == 2 ? pos : pos.unsqueeze(0).expand({B, T})).unsqueeze(-1) * invFreq; // [B, T, hd/2]
    }
    at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(1); // [B, 1, T, hd]
    const auto dev = m_finalNorm.device();
    return {emb.cos().to(at::kFloat).to(dev), emb.sin().to(at::kFloat).to(dev)};
}

at::Tensor DecoderModel::layerForward(const LayerWeights& W, const at::Tensor& x, ForwardHook* hook,
                                      const at::Tensor& tags, const Rotary& rot) const
{
    LayerCursor c;
    c.residual = x;
    layerAdvance(W, c, 5, hook, tags, rot);
    return c.residual;
}

void DecoderModel::layerAdvance(const LayerWeights& W, LayerCursor& c, int until, ForwardHook* hook,
                                const at::Tensor& tags, const Rotary& rot) const
{
    if (until <= c.stage || until > 5)
        throw Error("layerAdvance: stage " + std::to_string(c.stage) + " cannot advance to " + std::to_string(until));
    const int64_t B = c.residual.size(0), T = c.residual.size(1), H = m_cfg.hiddenSize;
    const int64_t nh = m_cfg.numHeads, nkv = m_cfg.numKvHeads;
    const Layer& L = m_layers.at(size_t(W.layer));
    auto input = [&](int group, const at::Tensor& x2d) {
        at::Tensor in = x2d.contiguous();
        return hook ? hook->onLinearInput(group, in, tags) : in;
    };
    // A group input the decoder makes itself (RowProduct) is made by the stage that consumes
    // it when this call goes on to that stage, so that the hook can take its rows as they are
    // made (ForwardHook::observeAsMade); where the call stops before, it is made at once into
    // c.pending. Either way the same bits.
    std::unique_ptr<RowProduct> next;
    auto produce = [&](std::unique_ptr<RowProduct> p) {
        if (c.stage + 1 < until) {
            next = std::move(p);
            c.pending = at::Tensor();
        } else
            c.pending = p->compute();
    };
    auto groupInput = [&](int group) {
        if (!next)
            return input(group, c.pending);
        const std::unique_ptr<RowProduct> p = std::move(next);
        at::Tensor out = at::empty({p->rows(), p->channels()}, at::kFloat);
        float* po = out.data_ptr<float>();
        if (hook && hook->observeAsMade(group, out, tags, [&](int64_t r0, int64_t r1) { p->compute(po, r0, r1); }))
            return out;
        p->computeAll(po);
        return input(group, out);
    };
    // RMSNorm of the residual as the next group's input.
    auto normed = [&](const at::Tensor& norm) {
        const at::Tensor s = rmsScale(c.residual);
        if (auto p = RowProduct::scaled(c.residual.reshape({B * T, H}), s, norm))
            produce(std::move(p));
        else
            c.pending = (c.residual * s * norm).reshape({B * T, H});
    };
    auto linear = [&](int module, const at::Tensor& in) {
        const at::Tensor& b = W.bias(module);
        at::Tensor y = b.defined() ? at::linear(in, W.weight(module), b) : at::linear(in, W.weight(module));
        if (hook)
            hook->onLinearOutput(module, in, y);
        return y;
    };
    while (c.stage < until) {
        switch (c.stage) {
        case 0: // -> the attention block's input
            normed(W.inNorm);
            break;
        case 1: { // attention -> o_proj's input
            const at::Tensor hIn = groupInput(L.gQkv);
            const at::Tensor q = linear(L.q, hIn); // in this order for the hook
            const at::Tensor k = linear(L.k, hIn);
            const at::Tensor v = linear(L.v, hIn);
            c.pending = causalSelfAttention(q, k, v, rot.cos, rot.sin, AttentionShape{B, T, nh, nkv});
            break;
        }
        case 2: // o_proj and the residual -> the MLP's input
            c.residual = c.residual + linear(L.o, input(L.gO, c.pending)).reshape({B, T, H});
            normed(W.postNorm);
            break;
        case 3: { // gate / up -> down_proj's input
            const at::Tensor hMlp = groupInput(L.gGateUp);
            const at::Tensor gate = at::silu(linear(L.gate, hMlp));
            const at::Tensor up = linear(L.up, hMlp);
            if (m_rotDown.defined()) // the online rotation of down_proj's input
                c.pending = at::matmul(gate * up, m_rotDown);
            else if (auto p = RowProduct::product(gate, up))
                produce(std::move(p));
            else
                c.pending = gate * up;
            break;
        }
        case 4: // down_proj and the residual -> the layer's output
            c.residual = c.residual + linear(L.down, groupInput(L.gDown)).reshape({B, T, H});
            c.pending = at::Tensor();
            break;
        }
        ++c.stage;
    }
}

at::Tensor DecoderModel::forwardEmbeds(const at::Tensor& embeds, ForwardHook* hook, const at::Tensor& modality,
                                       const at::Tensor& positions) const
{
    if (embeds.dim() != 3 || embeds.size(2) != m_cfg.hiddenSize)
        throw InputError("forward expects embeddings of shape [batch, tokens, " + std::to_string(m_cfg.hiddenSize) + "]");
    const int64_t B = embeds.size(0), T = embeds.size(1);
    at::Tensor tags = modality.defined() ? modality.reshape({B * T}).to(at::kByte)
                                         : at::zeros({B * T}, at::TensorOptions().dtype(at::kByte));
    const Rotary rot = rotary(positions, B, T);
    at::Tensor x = embeds.to(m_finalNorm.device(), at::kFloat);
    for (int l = 0; l < numLayers(); ++l)
        x = layerForward(layerWeights(l), x, hook, tags, rot);
    return logits(x);
}

std::string DecoderModel::nonFiniteTensor() const
{
    auto bad = [](const at::Tensor& t) { return t.defined() && !at::isfinite(t.to(at::kFloat)).all().item<bool>(); };
    constexpr int64_t kRows = 4096;
    const int64_t V = m_cfg.vocabSize;
    for (int64_t r0 = 0; r0 < V; r0 += kRows) {
        const int64_t n = std::min(kRows, V - r0);
        if (bad(m_embed.defined() ? m_embed.narrow(0, r0, n)
                                  : m_source->gather(m_embedName, at::arange(r0, r0 + n, at::TensorOptions().dtype(at::kLong)))))
            return m_embedName;
    }
    for (int l = 0; l < numLayers(); ++l) {
        const LayerWeights w = layerWeights(l);
        const std::string layer = m_prefix + "model.layers." + std::to_string(l) + ".";
        if (bad(w.inNorm))
            return layer + "input_layernorm.weight";
        if (bad(w.postNorm))
            return layer + "post_attention_layernorm.weight";
        for (int i = 0; i < LayerWeights::kLinears; ++i) {
            const std::string& name = m_modules[size_t(w.firstModule + i)].name;
            if (bad(w.w[size_t(i)]))
                return name + ".weight";
            if (bad(w.b[size_t(i)]))
                return name + ".bias";
        }
    }
    if (bad(m_finalNorm))
        return m_prefix + "model.norm.weight";
    if (m_headName != m_embedName) // a tied lm_head is the embedding, checked above
        for (int64_t r0 = 0; r0 < V; r0 += kRows)
            if (bad(headRows(r0, std::min(kRows, V - r0))))
                return m_headName;
    return "";
}

at::Tensor DecoderModel::headRows(int64_t begin, int64_t n) const
{
    if (m_lmHead.defined())
        return m_lmHead.narrow(0, begin, n);
    return m_source->rows(m_headName, begin, n);
}

at::Tensor DecoderModel::logits(const at::Tensor& hidden) const
{
    const at::Tensor h = rmsNorm(fromResidualBasis(hidden), m_finalNorm);
    if (m_lmHead.defined())
        return at::linear(h, m_lmHead);
    return at::linear(h, headRows(0, m_cfg.vocabSize));
}

NllPairSum DecoderModel::nextTokenNllPair(const at::Tensor& refIn, const at::Tensor& otherIn,
                                          const at::Tensor& ids, const at::Tensor& tagsIn) const
{
    NllPairSum r;
    const int64_t T = refIn.size(1), V = m_cfg.vocabSize;
    if (T < 2)
        return r;
    const at::Tensor hf = headInputs(refIn), hq = headInputs(otherIn);
    const at::Tensor target = ids.narrow(1, 1, T - 1).reshape({-1}).to(hf.device(), at::kLong);
    const int64_t rows = hf.size(0);
    // The modality of each compared position (0..T-2 of every sequence).
    const at::Tensor rowTags = tagsIn.defined()
        ? tagsIn.reshape({refIn.size(0), T}).narrow(1, 0, T - 1).reshape({-1}).to(at::kCPU, at::kLong)
        : at::zeros({rows}, at::TensorOptions().dtype(at::kLong));
    constexpr int64_t kRowBlock = 1024, kVocabChunk = 8192;
    const auto dbl = hf.options().dtype(at::kDouble);
    double nllF = 0.0, nllQ = 0.0, kl = 0.0;
    for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const int64_t nr = std::min(kRowBlock, rows - r0);
        const at::Tensor fb = hf.narrow(0, r0, nr), qb = hq.narrow(0, r0, nr);
        const at::Tensor tb = target.narrow(0, r0, nr);
        // Running max and sum of exp for both; S = sum exp(lf - maxF) (lf - lq) for E_ref[lf - lq].
        at::Tensor maxF = at::full({nr}, -INFINITY, dbl), sumF = at::zeros({nr}, dbl), S = at::zeros({nr}, dbl);
        at::Tensor maxQ = at::full({nr}, -INFINITY, dbl), sumQ = at::zeros({nr}, dbl);
        at::Tensor tf = at::zeros({nr}, dbl), tq = at::zeros({nr}, dbl);
        for (int64_t v0 = 0; v0 < V; v0 += kVocabChunk) {
            const int64_t nv = std::min(kVocabChunk, V - v0);
            const at::Tensor w = headRows(v0, nv);
            const at::Tensor lf = at::linear(fb, w).to(at::kDouble), lq = at::linear(qb, w).to(at::kDouble);
            const at::Tensor newF = at::maximum(maxF, std::get<0>(lf.max(1)));
            const at::Tensor scaleF = (maxF - newF).exp();
            const at::Tensor ef = (lf - newF.unsqueeze(1)).exp();
            sumF = sumF * scaleF + ef.sum(1);
            S = S * scaleF + (ef * (lf - lq)).sum(1);
            maxF = newF;
            const at::Tensor newQ = at::maximum(maxQ, std::get<0>(lq.max(1)));
            sumQ = sumQ * (maxQ - newQ).exp() + (lq - newQ.unsqueeze(1)).exp().sum(1);
            maxQ = newQ;
            const at::Tensor inChunk = tb.ge(v0).logical_and(tb.lt(v0 + nv));
            const at::Tensor local = (tb - v0).clamp(0, nv - 1).unsqueeze(1);
            tf += at::where(inChunk, lf.gather(1, local).squeeze(1), at::zeros_like(tf));
            tq += at::where(inChunk, lq.gather(1, local).squeeze(1), at::zeros_like(tq));
        }
        const at::Tensor lseF = maxF + sumF.log(), lseQ = maxQ + sumQ.log();
        nllF += (lseF - tf).sum().item<double>();
        nllQ += (lseQ - tq).sum().item<double>();
        // KL >= 0 in exact arithmetic; rounding can leave -1e-16 on identical rows.
        const at::Tensor klRows = (S / sumF - lseF + lseQ).clamp_min(0.0).to(at::kCPU).contiguous();
        kl += klRows.sum().item<double>();
        const at::Tensor tg = rowTags.narrow(0, r0, nr).contiguous();
        const double* kp = klRows.data_ptr<double>();
        const int64_t* gp = tg.data_ptr<int64_t>();
        for (int64_t i = 0; i < nr; ++i) {
            const int64_t m = gp[i] >= 0 && gp[i] < kNumModalities ? gp[i] : 0;
            r.klByModality[size_t(m)] += kp[i];
            ++r.tokensByModality[size_t(m)];
        }
    }
    r.ref = {nllF, rows};
    r.other = {nllQ, rows};
    r.kl = kl;
    return r;
}

at::Tensor DecoderModel::fromResidualBasis(const at::Tensor& x) const
{
    return m_rotQ.defined() ? at::matmul(x, m_rotQ.t()) : x;
}

at::Tensor DecoderModel::headInputs(const at::Tensor& hidden) const
{
    const int64_t B = hidden.size(0), T = hidden.size(1), H = m_cfg.hiddenSize;
    return rmsNorm(fromResidualBasis(hidden).narrow(1, 0, T - 1), m_finalNorm).reshape({B * (T - 1), H}).contiguous();
}

NllSum DecoderModel::nextTokenNll(const at::Tensor& hidden, const at::Tensor& ids) const
{
    NllSum r;
    const int64_t T = hidden.size(1), V = m_cfg.vocabSize;
    if (T < 2)
        return r;
    const at::Tensor h = headInputs(hidden);
    const at::Tensor target = ids.narrow(1, 1, T - 1).reshape({-1}).to(h.device(), at::kLong);
    const int64_t rows = h.size(0);
    // Rows and vocabulary in blocks: a [rows, chunk] float64 block at a time (64 MB), never [rows, V].
    constexpr int64_t kRowBlock = 1024, kVocabChunk = 8192;
    const auto dbl = h.options().dtype(at::kDouble);
    double sum = 0.0;
    for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const int64_t nr = std::min(kRowBlock, rows - r0);
        const at::Tensor hb = h.narrow(0, r0, nr);
        const at::Tensor tb = target.narrow(0, r0, nr);
        at::Tensor runMax = at::full({nr}, -INFINITY, dbl), runSum = at::zeros({nr}, dbl), tl = at::zeros({nr}, dbl);
        for (int64_t v0 = 0; v0 < V; v0 += kVocabChunk) {
            const int64_t nv = std::min(kVocabChunk, V - v0);
            const at::Tensor l = at::linear(hb, headRows(v0, nv)).to(at::kDouble); // [nr, nv]
            const at::Tensor newMax = at::maximum(runMax, std::get<0>(l.max(1)));
            runSum = runSum * (runMax - newMax).exp() + (l - newMax.unsqueeze(1)).exp().sum(1);
            runMax = newMax;
            const at::Tensor inChunk = tb.ge(v0).logical_and(tb.lt(v0 + nv));
            const at::Tensor local = (tb - v0).clamp(0, nv - 1).unsqueeze(1);
            tl += at::where(inChunk, l.gather(1, local).squeeze(1), at::zeros_like(tl));
        }
        sum += (runMax + runSum.log() - tl).sum().item<double>();
    }
    r.nll = sum;
    r.tokens = rows;
    return r;
}

std::map<std::string, at::Tensor> DecoderModel::stateDict() const
{
    if (m_rotQ.defined())
        throw InputError("the plan works in a rotated basis (" + m_rotationKey
                         + "); exporting a rotated model is not written yet");
    std::map<std::string, at::Tensor> sd;
    sd[m_embedName] = m_embed.defined() ? m_embed : m_source->loadFloat(m_embedName);
    sd[m_prefix + "model.norm.weight"] = m_finalNorm;
    if (m_headName != m_embedName)
        sd[m_headName] = m_lmHead.defined() ? m_lmHead : m_source->loadFloat(m_headName);
    for (size_t li = 0; li < m_layers.size(); ++li) {
        const std::string p = m_prefix + "model.layers." + std::to_string(li) + ".";
        sd[p + "input_layernorm.weight"] = m_layers[li].inNorm;
        sd[p + "post_attention_layernorm.weight"] = m_layers[li].postNorm;
    }
    for (size_t i = 0; i < m_modules.size(); ++i) {
        sd[m_modules[i].name + ".weight"] = linearWeight(int(i));
        if (m_linB[i].defined())
            sd[m_modules[i].name + ".bias"] = m_linB[i];
    }
    return sd;
}

} // namespace mq::core
