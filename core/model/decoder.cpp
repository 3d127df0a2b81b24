#include "model/decoder.h"

#include "common/error.h"
#include "io/checkpoint.h"

#include <cmath>

namespace mq::core {

namespace {

at::Tensor rotateHalf(const at::Tensor& x)
{
    const int64_t half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

} // namespace

DecoderModel DecoderModel::load(const std::string& dir)
{
    ModelConfig cfg = loadModelConfig(dir + "/config.json");
    Checkpoint ck(dir);
    DecoderModel m = fromCheckpoint(cfg, ck, dir);
    m.m_dir = dir;
    return m;
}

int DecoderModel::addGroup(const std::string& name)
{
    m_groups.push_back(name);
    return int(m_groups.size()) - 1;
}

int DecoderModel::addModule(int layer, const std::string& name, const std::string& kind, int group,
                            const at::Tensor& w, const at::Tensor& b)
{
    ModuleInfo mi;
    mi.name = name;
    mi.layer = layer;
    mi.kind = kind;
    mi.inputGroup = m_groups[size_t(group)];
    mi.outFeatures = w.size(0);
    mi.inFeatures = w.size(1);
    m_modules.push_back(mi);
    m_moduleGroup.push_back(group);
    m_linW.push_back(w);
    m_linB.push_back(b);
    return int(m_modules.size()) - 1;
}

DecoderModel DecoderModel::fromCheckpoint(const ModelConfig& cfg, Checkpoint& ck, const std::string& source)
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
    m.m_embed = ck.loadFloatChecked(P + "model.embed_tokens.weight", {cfg.vocabSize, h}, "config.json");
    for (int i = 0; i < cfg.numLayers; ++i) {
        const std::string p = P + "model.layers." + std::to_string(i) + ".";
        const std::string g = "layers." + std::to_string(i) + ".";
        Layer L;
        L.inNorm = ck.loadFloatChecked(p + "input_layernorm.weight", {h}, "config.json");
        L.postNorm = ck.loadFloatChecked(p + "post_attention_layernorm.weight", {h}, "config.json");
        auto lin = [&](const std::string& sub, const std::string& kind, int group, int64_t out, int64_t in,
                       bool bias) {
            at::Tensor w = ck.loadFloatChecked(p + sub + ".weight", {out, in}, "config.json");
            at::Tensor b = bias ? ck.loadFloatChecked(p + sub + ".bias", {out}, "config.json") : at::Tensor();
            return m.addModule(i, p + sub, kind, group, w, b);
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
    m.m_finalNorm = ck.loadFloatChecked(P + "model.norm.weight", {h}, "config.json");
    if (cfg.tieWordEmbeddings && !ck.contains(P + "lm_head.weight"))
        m.m_lmHead = m.m_embed;
    else
        m.m_lmHead = ck.loadFloatChecked(P + "lm_head.weight", {cfg.vocabSize, h}, "config.json");
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

void DecoderModel::setLinearWeight(int module, const at::Tensor& w)
{
    const at::Tensor& old = m_linW.at(size_t(module));
    if (w.sizes() != old.sizes())
        throw Error("setLinearWeight: " + m_modules[size_t(module)].name + " expects the same shape");
    m_linW[size_t(module)] = w.to(old.options()).contiguous();
}

at::Tensor DecoderModel::linear(int module, const at::Tensor& x) const
{
    const at::Tensor& b = m_linB[size_t(module)];
    return b.defined() ? at::linear(x, m_linW[size_t(module)], b) : at::linear(x, m_linW[size_t(module)]);
}

at::Tensor DecoderModel::rmsNorm(const at::Tensor& x, const at::Tensor& w) const
{
    return x * at::rsqrt(x.pow(2).mean(-1, true) + m_cfg.rmsNormEps) * w;
}

at::Tensor DecoderModel::embed(const at::Tensor& ids) const
{
    if (ids.dim() != 2)
        throw InputError("forward expects token ids of shape [batch, tokens]");
    return m_embed.index_select(0, ids.reshape({-1}).to(m_embed.device())).reshape({ids.size(0), ids.size(1), -1});
}

at::Tensor DecoderModel::forward(const at::Tensor& ids, ForwardHook* hook, const at::Tensor& modality,
                                 const at::Tensor& positions) const
{
    return forwardEmbeds(embed(ids), hook, modality, positions);
}

std::pair<at::Tensor, at::Tensor> DecoderModel::rotaryTables(const at::Tensor& positions, int64_t B, int64_t T) const
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
    const auto dev = m_embed.device();
    return {emb.cos().to(at::kFloat).to(dev), emb.sin().to(at::kFloat).to(dev)};
}

at::Tensor DecoderModel::forwardEmbeds(const at::Tensor& embeds, ForwardHook* hook, const at::Tensor& modality,
                                       const at::Tensor& positions) const
{
    if (embeds.dim() != 3 || embeds.size(2) != m_cfg.hiddenSize)
        throw InputError("forward expects embeddings of shape [batch, tokens, " + std::to_string(m_cfg.hiddenSize) + "]");
    const int64_t B = embeds.size(0), T = embeds.size(1), H = m_cfg.hiddenSize;
    const int64_t nh = m_cfg.numHeads, nkv = m_cfg.numKvHeads, hd = m_cfg.headDim;
    const auto dev = m_embed.device();
    at::Tensor tags = modality.defined() ? modality.reshape({B * T}).to(at::kByte)
                                         : at::zeros({B * T}, at::TensorOptions().dtype(at::kByte));
    auto input = [&](int group, const at::Tensor& x2d) {
        at::Tensor x = x2d.contiguous();
        return hook ? hook->onLinearInput(group, x, tags) : x;
    };
    auto [cos, sin] = rotaryTables(positions, B, T);
    at::Tensor causal = at::ones({T, T}, at::TensorOptions().dtype(at::kBool).device(dev)).triu(1);
    const double scale = 1.0 / std::sqrt(double(hd));

    at::Tensor x = embeds.to(dev, at::kFloat);
    for (const Layer& L : m_layers) {
        at::Tensor hIn = input(L.gQkv, rmsNorm(x, L.inNorm).reshape({B * T, H}));
        at::Tensor q = linear(L.q, hIn).reshape({B, T, nh, hd}).transpose(1, 2);
        at::Tensor k = linear(L.k, hIn).reshape({B, T, nkv, hd}).transpose(1, 2);
        at::Tensor v = linear(L.v, hIn).reshape({B, T, nkv, hd}).transpose(1, 2);
        q = q * cos + rotateHalf(q) * sin;
        k = k * cos + rotateHalf(k) * sin;
        if (nkv != nh) {
            k = k.repeat_interleave(nh / nkv, 1);
            v = v.repeat_interleave(nh / nkv, 1);
        }
        at::Tensor att = at::matmul(q, k.transpose(-2, -1)).mul_(scale).masked_fill_(causal, -INFINITY);
        at::Tensor ctx = at::matmul(at::softmax(att, -1), v).transpose(1, 2).reshape({B * T, nh * hd});
        x = x + linear(L.o, input(L.gO, ctx)).reshape({B, T, H});

        at::Tensor hMlp = input(L.gGateUp, rmsNorm(x, L.postNorm).reshape({B * T, H}));
        at::Tensor act = at::silu(linear(L.gate, hMlp)) * linear(L.up, hMlp);
        x = x + linear(L.down, input(L.gDown, act)).reshape({B, T, H});
    }
    return at::linear(rmsNorm(x, m_finalNorm), m_lmHead);
}

std::map<std::string, at::Tensor> DecoderModel::stateDict() const
{
    std::map<std::string, at::Tensor> sd;
    sd[m_prefix + "model.embed_tokens.weight"] = m_embed;
    sd[m_prefix + "model.norm.weight"] = m_finalNorm;
    if (!(m_cfg.tieWordEmbeddings && m_lmHead.is_same(m_embed)))
        sd[m_prefix + "lm_head.weight"] = m_lmHead;
    for (size_t li = 0; li < m_layers.size(); ++li) {
        const std::string p = m_prefix + "model.layers." + std::to_string(li) + ".";
        sd[p + "input_layernorm.weight"] = m_layers[li].inNorm;
        sd[p + "post_attention_layernorm.weight"] = m_layers[li].postNorm;
    }
    for (size_t i = 0; i < m_modules.size(); ++i) {
        sd[m_modules[i].name + ".weight"] = m_linW[i];
        if (m_linB[i].defined())
            sd[m_modules[i].name + ".bias"] = m_linB[i];
    }
    return sd;
}

} // namespace mq::core
