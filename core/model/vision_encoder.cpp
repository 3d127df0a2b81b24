#include "model/vision_encoder.h"

#include "common/error.h"
#include "io/checkpoint.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace mq::core {

namespace {

using nlohmann::json;

constexpr double kRmsEps = 1e-6;
constexpr double kRopeTheta = 10000.0;

// First key of keys present in j, as a positive int; absent keys leave *out as it is.
void readInt(const json& j, std::initializer_list<const char*> keys, const std::string& source, int* out)
{
    for (const char* k : keys) {
        auto it = j.find(k);
        if (it == j.end())
            continue;
        if (!it->is_number_integer() || it->get<int64_t>() <= 0)
            throw InputError(describe(source, "", std::string("vision_config.") + k
                                                      + " must be a positive integer, found " + it->dump()));
        *out = it->get<int>();
        return;
    }
}

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w)
{
    return x * at::rsqrt(x.pow(2).mean(-1, true) + kRmsEps) * w;
}

at::Tensor rotateHalf(const at::Tensor& x)
{
    const int64_t half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// Bidirectional attention inside contiguous segments of the token axis. q, k, v: [N, heads, hd].
// Consecutive segments of one length run as one batched matmul (most windows are full size).
at::Tensor segmentAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const std::vector<int64_t>& segments, double scale)
{
    const int64_t heads = q.size(1), hd = q.size(2);
    std::vector<at::Tensor> parts;
    int64_t start = 0;
    for (size_t s = 0; s < segments.size();) {
        const int64_t len = segments[s];
        size_t e = s;
        while (e < segments.size() && segments[e] == len)
            ++e;
        const int64_t n = int64_t(e - s);
        auto batch = [&](const at::Tensor& t) {
            return t.narrow(0, start, n * len).view({n, len, heads, hd}).permute({0, 2, 1, 3});
        };
        const at::Tensor scores = at::matmul(batch(q), batch(k).transpose(-1, -2)) * scale;
        const at::Tensor ctx = at::matmul(at::softmax(scores, -1), batch(v)); // [n, heads, len, hd]
        parts.push_back(ctx.permute({0, 2, 1, 3}).reshape({n * len, heads * hd}));
        start += n * len;
        s = e;
    }
    return parts.size() == 1 ? parts[0] : at::cat(parts, 0);
}

} // namespace

VisionConfig VisionConfig::fromJson(const json& j, const std::string& source)
{
    if (!j.is_object())
        throw InputError(describe(source, "", "vision_config must be an object, found " + j.dump()));
    VisionConfig c;
    readInt(j, {"depth"}, source, &c.depth);
    // Qwen2.5-VL names the ViT width hidden_size; the older Qwen2-VL layout called it embed_dim
    // and used hidden_size for the merger output, so embed_dim wins when both are given.
    readInt(j, {"embed_dim", "hidden_size"}, source, &c.hiddenSize);
    readInt(j, {"num_heads"}, source, &c.numHeads);
    readInt(j, {"intermediate_size"}, source, &c.intermediateSize);
    readInt(j, {"in_channels", "in_chans"}, source, &c.inChannels);
    readInt(j, {"patch_size", "spatial_patch_size"}, source, &c.patchSize);
    readInt(j, {"temporal_patch_size"}, source, &c.temporalPatchSize);
    readInt(j, {"spatial_merge_size"}, source, &c.spatialMergeSize);
    readInt(j, {"window_size"}, source, &c.windowSize);
    readInt(j, {"out_hidden_size"}, source, &c.outHiddenSize);
    if (auto it = j.find("fullatt_block_indexes"); it != j.end()) {
        if (!it->is_array())
            throw InputError(describe(source, "", "vision_config.fullatt_block_indexes must be an array of integers, found "
                                                      + it->dump()));
        c.fullAttBlockIndexes.clear();
        for (const json& v : *it) {
            if (!v.is_number_integer() || v.get<int64_t>() < 0)
                throw InputError(describe(source, "", "vision_config.fullatt_block_indexes must hold non-negative "
                                                      "integers, found " + v.dump()));
            c.fullAttBlockIndexes.push_back(v.get<int>());
        }
    }
    if (c.hiddenSize % c.numHeads != 0 || (c.hiddenSize / c.numHeads) % 4 != 0)
        throw InputError(describe(source, "", "vision_config: hidden_size " + std::to_string(c.hiddenSize)
                                                  + " over num_heads " + std::to_string(c.numHeads)
                                                  + " must give a head_dim divisible by 4 (2D rotary)"));
    if (c.windowSize / c.patchSize / c.spatialMergeSize < 1)
        throw InputError(describe(source, "", "vision_config: window_size " + std::to_string(c.windowSize)
                                                  + " must be at least patch_size * spatial_merge_size"));
    return c;
}

struct VisionEncoder::Impl {
    struct Block {
        at::Tensor norm1, norm2, qW, qB, kW, kB, vW, vB, projW, projB, gateW, gateB, upW, upB, downW, downB;
        bool full = false;
    };
    at::Tensor patchW; // [D, C*Tp*P*P]
    std::vector<Block> blocks;
    at::Tensor lnQ, mlp0W, mlp0B, mlp2W, mlp2B;
};

VisionEncoder VisionEncoder::load(const VisionConfig& cfg, Checkpoint& ck, const std::string& prefix)
{
    const int64_t d = cfg.hiddenSize, inter = cfg.intermediateSize, merged = d * cfg.spatialMergeSize * cfg.spatialMergeSize;
    auto impl = std::make_shared<Impl>();
    impl->patchW = ck.loadFloatChecked(prefix + "patch_embed.proj.weight",
                                       {d, cfg.inChannels, cfg.temporalPatchSize, cfg.patchSize, cfg.patchSize},
                                       "vision_config")
                       .reshape({d, -1})
                       .contiguous();
    for (int i = 0; i < cfg.depth; ++i) {
        const std::string p = prefix + "blocks." + std::to_string(i) + ".";
        Impl::Block b;
        b.norm1 = ck.loadFloatChecked(p + "norm1.weight", {d}, "vision_config");
        b.norm2 = ck.loadFloatChecked(p + "norm2.weight", {d}, "vision_config");
        b.qW = ck.loadStoredChecked(p + "attn.q.weight", {d, d}, "vision_config");
        b.qB = ck.loadFloatChecked(p + "attn.q.bias", {d}, "vision_config");
        b.kW = ck.loadStoredChecked(p + "attn.k.weight", {d, d}, "vision_config");
        b.kB = ck.loadFloatChecked(p + "attn.k.bias", {d}, "vision_config");
        b.vW = ck.loadStoredChecked(p + "attn.v.weight", {d, d}, "vision_config");
        b.vB = ck.loadFloatChecked(p + "attn.v.bias", {d}, "vision_config");
        b.projW = ck.loadStoredChecked(p + "attn.proj.weight", {d, d}, "vision_config");
        b.projB = ck.loadFloatChecked(p + "attn.proj.bias", {d}, "vision_config");
        b.gateW = ck.loadStoredChecked(p + "mlp.gate_proj.weight", {inter, d}, "vision_config");
        b.gateB = ck.loadFloatChecked(p + "mlp.gate_proj.bias", {inter}, "vision_config");
        b.upW = ck.loadStoredChecked(p + "mlp.up_proj.weight", {inter, d}, "vision_config");
        b.upB = ck.loadFloatChecked(p + "mlp.up_proj.bias", {inter}, "vision_config");
        b.downW = ck.loadStoredChecked(p + "mlp.down_proj.weight", {d, inter}, "vision_config");
        b.downB = ck.loadFloatChecked(p + "mlp.down_proj.bias", {d}, "vision_config");
        for (int f : cfg.fullAttBlockIndexes)
            b.full = b.full || f == i;
        impl->blocks.push_back(b);
    }
    impl->lnQ = ck.loadFloatChecked(prefix + "merger.ln_q.weight", {d}, "vision_config");
    impl->mlp0W = ck.loadStoredChecked(prefix + "merger.mlp.0.weight", {merged, merged}, "vision_config");
    impl->mlp0B = ck.loadFloatChecked(prefix + "merger.mlp.0.bias", {merged}, "vision_config");
    impl->mlp2W = ck.loadStoredChecked(prefix + "merger.mlp.2.weight", {cfg.outHiddenSize, merged}, "vision_config");
    impl->mlp2B = ck.loadFloatChecked(prefix + "merger.mlp.2.bias", {cfg.outHiddenSize}, "vision_config");
    VisionEncoder e;
    e.m_cfg = cfg;
    e.m_impl = impl;
    return e;
}

std::vector<std::string> VisionEncoder::groups() const
{
    std::vector<std::string> g;
    for (int i = 0; i < m_cfg.depth; ++i) {
        const std::string p = "visual.blocks." + std::to_string(i) + ".";
        for (const char* n : {"qkv_in", "proj_in", "gate_up_in", "down_in"})
            g.push_back(p + n);
    }
    g.push_back("visual.merger.mlp0_in");
    g.push_back("visual.merger.mlp2_in");
    return g;
}

void mapLinearGroup(const LinearWeightMap& f, int group, const std::vector<std::string>& names,
              const std::vector<at::Tensor*>& weights, const char* tower)
{
    std::vector<at::Tensor> in;
    for (const at::Tensor* w : weights)
        in.push_back(asFloat(*w).contiguous());
    std::vector<at::Tensor> out = f(group, names, in);
    if (out.size() != weights.size())
        throw Error(std::string(tower) + ": the weight map returned " + std::to_string(out.size()) + " weights for group "
                    + std::to_string(group) + ", expected " + std::to_string(weights.size()));
    for (size_t i = 0; i < out.size(); ++i) {
        if (!out[i].defined() || out[i].sizes() != in[i].sizes())
            throw Error(std::string(tower) + ": the weight map changed the shape of " + names[i]);
        *weights[i] = out[i].to(at::kFloat).contiguous();
    }
}

VisionEncoder VisionEncoder::withLinearWeights(const LinearWeightMap& f, int first, int end) const
{
    auto impl = std::make_shared<Impl>(*m_impl);
    auto map = [&](int g, const std::vector<std::string>& names, const std::vector<at::Tensor*>& weights) {
        if (g >= first && g < end) // other groups keep their tensors (no float32 copy)
            mapLinearGroup(f, g, names, weights, "vision");
    };
    for (size_t i = 0; i < impl->blocks.size(); ++i) {
        Impl::Block& b = impl->blocks[i];
        const std::string p = "blocks." + std::to_string(i) + ".";
        const int g = int(i) * 4;
        map(g, {p + "attn.q.weight", p + "attn.k.weight", p + "attn.v.weight"}, {&b.qW, &b.kW, &b.vW});
        map(g + 1, {p + "attn.proj.weight"}, {&b.projW});
        map(g + 2, {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"}, {&b.gateW, &b.upW});
        map(g + 3, {p + "mlp.down_proj.weight"}, {&b.downW});
    }
    const int gm = int(impl->blocks.size()) * 4;
    map(gm, {"merger.mlp.0.weight"}, {&impl->mlp0W});
    map(gm + 1, {"merger.mlp.2.weight"}, {&impl->mlp2W});
    VisionEncoder e;
    e.m_cfg = m_cfg;
    e.m_impl = std::move(impl);
    return e;
}

std::vector<int64_t> VisionEncoder::windowOrder(const VisionConfig& cfg, int64_t gridT, int64_t gridH, int64_t gridW,
                                                std::vector<int64_t>* windowPatches)
{
    const int64_t m = cfg.spatialMergeSize, ws = cfg.windowSize / cfg.patchSize / m;
    const int64_t lh = gridH / m, lw = gridW / m, unit = m * m;
    std::vector<int64_t> order;
    order.reserve(size_t(gridT * lh * lw));
    if (windowPatches)
        windowPatches->clear();
    for (int64_t t = 0; t < gridT; ++t)
        for (int64_t wy = 0; wy * ws < lh; ++wy)
            for (int64_t wx = 0; wx * ws < lw; ++wx) {
                // The last row and column of windows are cut short: HF pads them and drops the pad.
                const int64_t y1 = std::min(lh, (wy + 1) * ws), x1 = std::min(lw, (wx + 1) * ws);
                for (int64_t y = wy * ws; y < y1; ++y)
                    for (int64_t x = wx * ws; x < x1; ++x)
                        order.push_back((t * lh + y) * lw + x);
                if (windowPatches)
                    windowPatches->push_back((y1 - wy * ws) * (x1 - wx * ws) * unit);
            }
    return order;
}

namespace {

// One input's pass through the vision tower: the grid's tables (window order, rotary) built once;
// step i < depth runs block i on the window-ordered hidden state, the last step the merger.
class VisionPass : public TowerPass {
public:
    using Step = std::function<at::Tensor(const VisionPass&, const void* weights, int, const at::Tensor&, ForwardHook*)>;
    VisionPass(const VisionEncoder& enc, const VisionConfig& c, const at::Tensor& patchW,
               const at::Tensor& patches, int64_t gridT, int64_t gridH, int64_t gridW, int groupOffset,
               uint8_t modality, Step step)
        : m_enc(enc), m_weights(enc.weightsHandle()), m_cfg(c), m_offset(groupOffset), m_step(std::move(step))
    {
        const int64_t m = c.spatialMergeSize, d = c.hiddenSize;
        unit = m * m;
        heads = c.numHeads;
        hd = d / heads;
        n = gridT * gridH * gridW;
        const int64_t cols = patchW.size(1);
        if (gridT <= 0 || gridH <= 0 || gridW <= 0 || gridH % m != 0 || gridW % m != 0)
            throw InputError("vision forward: grid (" + std::to_string(gridT) + ", " + std::to_string(gridH) + ", "
                             + std::to_string(gridW) + ") must be positive with h and w multiples of spatial_merge_size "
                             + std::to_string(m));
        if (patches.dim() != 2 || patches.size(0) != n || patches.size(1) != cols)
            throw InputError("vision forward: patches have shape " + shapeText(patches.sizes()) + ", expected "
                             + shapeText({n, cols}) + " for the grid");
        tags = at::full({n}, int64_t(modality), at::TensorOptions().dtype(at::kByte));
        at::Tensor x = at::matmul(patches.to(at::kFloat).contiguous(), patchW.t()); // [n, d]
        // Grid position of each row in the processor's (t, h/m, w/m, dy, dx) order.
        const at::Tensor r = at::arange(n, at::kLong);
        const at::Tensor inUnit = r.remainder(unit), mergeIdx = r.div(unit, "floor");
        const int64_t lw = gridW / m, lh = gridH / m;
        const at::Tensor hPos = mergeIdx.div(lw, "floor").remainder(lh) * m + inUnit.div(m, "floor");
        const at::Tensor wPos = mergeIdx.remainder(lw) * m + inUnit.remainder(m);
        const int64_t rotDim = hd / 2;
        const at::Tensor invFreq = 1.0 / at::pow(kRopeTheta, at::arange(0, rotDim, 2, at::kFloat) / double(rotDim));
        const at::Tensor angles =
            at::cat({at::outer(hPos.to(at::kFloat), invFreq), at::outer(wPos.to(at::kFloat), invFreq)}, 1); // [n, hd/2]
        const std::vector<int64_t> order = VisionEncoder::windowOrder(c, gridT, gridH, gridW, &windows);
        orderT = at::tensor(order, at::kLong);
        m_input = reorder(x);
        const at::Tensor emb = at::cat({reorder(angles), reorder(angles)}, 1);
        cosE = emb.cos().unsqueeze(1);
        sinE = emb.sin().unsqueeze(1); // [n, 1, hd]
        slices.assign(size_t(gridT), gridH * gridW);
        scale = 1.0 / std::sqrt(double(hd));
    }
    int steps() const override { return m_cfg.depth + 1; }
    at::Tensor input() const override { return m_input; }
    at::Tensor run(int step, const at::Tensor& x, ForwardHook* hook) const override
    {
        return m_step(*this, m_weights.get(), step, x, hook);
    }
    int firstGroup(int step) const override { return m_offset + (step <= m_cfg.depth ? step * 4 : m_cfg.depth * 4 + 2); }
    void useWeights(const VisionEncoder& weights) override
    {
        m_enc = weights;
        m_weights = weights.weightsHandle();
    }
    void useWeights(const AudioEncoder&) override { throw Error("a vision encoder pass cannot take audio weights"); }

    at::Tensor reorder(const at::Tensor& t) const
    {
        return t.view({n / unit, unit, t.size(1)}).index_select(0, orderT).reshape({n, t.size(1)});
    }
    // The hook's view of tower-local group `group`'s input x.
    at::Tensor observe(ForwardHook* hook, int group, const at::Tensor& x) const
    {
        if (!hook)
            return x;
        const at::Tensor& rowTags = x.size(0) == n ? tags : tags.narrow(0, 0, x.size(0));
        at::Tensor y = hook->onLinearInput(m_offset + group, x, rowTags);
        if (y.sizes() != x.sizes())
            throw InputError("vision forward: hook returned shape " + shapeText(y.sizes()) + " for group "
                             + m_enc.groups()[size_t(group)] + ", expected " + shapeText(x.sizes()));
        return y;
    }

    int64_t unit = 0, heads = 0, hd = 0, n = 0;
    at::Tensor tags, orderT, cosE, sinE;
    std::vector<int64_t> windows, slices;
    double scale = 1.0;

private:
    VisionEncoder m_enc; // a copy sharing the weights: they outlive the pass
    std::shared_ptr<const void> m_weights;
    VisionConfig m_cfg;
    int m_offset;
    at::Tensor m_input;
    Step m_step;
};

} // namespace

std::shared_ptr<const void> VisionEncoder::weightsHandle() const { return m_impl; }

std::unique_ptr<TowerPass> VisionEncoder::pass(const at::Tensor& patches, int64_t gridT, int64_t gridH, int64_t gridW,
                                               int groupOffset, uint8_t modality) const
{
    const VisionConfig c = m_cfg;
    auto step = [c](const VisionPass& p, const void* weights, int i, const at::Tensor& xIn, ForwardHook* hook) -> at::Tensor {
        const Impl& im = *static_cast<const Impl*>(weights);
        const int64_t n = p.n, heads = p.heads, hd = p.hd;
        if (i < int(im.blocks.size())) {
            const Impl::Block& b = im.blocks[size_t(i)];
            const int g = i * 4;
            at::Tensor x = xIn;
            const at::Tensor h = p.observe(hook, g, rmsNorm(x, b.norm1));
            auto rope = [&](const at::Tensor& t) {
                const at::Tensor v = t.view({n, heads, hd});
                return v * p.cosE + rotateHalf(v) * p.sinE;
            };
            const at::Tensor q = rope(at::linear(h, asFloat(b.qW), b.qB)), k = rope(at::linear(h, asFloat(b.kW), b.kB));
            const at::Tensor v = at::linear(h, asFloat(b.vW), b.vB).view({n, heads, hd});
            const at::Tensor ctx = segmentAttention(q, k, v, b.full ? p.slices : p.windows, p.scale);
            x = x + at::linear(p.observe(hook, g + 1, ctx), asFloat(b.projW), b.projB);
            const at::Tensor h2 = p.observe(hook, g + 2, rmsNorm(x, b.norm2));
            const at::Tensor act =
                at::silu(at::linear(h2, asFloat(b.gateW), b.gateB)) * at::linear(h2, asFloat(b.upW), b.upB);
            return x + at::linear(p.observe(hook, g + 3, act), asFloat(b.downW), b.downB);
        }
        const int gm = int(im.blocks.size()) * 4;
        const at::Tensor hm = p.observe(hook, gm, rmsNorm(xIn, im.lnQ).reshape({n / p.unit, p.unit * c.hiddenSize}));
        const at::Tensor y = at::linear(p.observe(hook, gm + 1, at::gelu(at::linear(hm, asFloat(im.mlp0W), im.mlp0B))),
                                        asFloat(im.mlp2W), im.mlp2B);
        // Undo the window order: row j of y belongs to merge unit order[j].
        return at::empty_like(y).index_copy_(0, p.orderT, y);
    };
    return std::make_unique<VisionPass>(*this, c, m_impl->patchW, patches, gridT, gridH, gridW, groupOffset,
                                        modality, step);
}

at::Tensor VisionEncoder::forward(const at::Tensor& patches, int64_t gridT, int64_t gridH, int64_t gridW,
                                  ForwardHook* hook, int groupOffset, uint8_t modality) const
{
    const std::unique_ptr<TowerPass> p = pass(patches, gridT, gridH, gridW, groupOffset, modality);
    return runAllSteps(*p, hook);
}

} // namespace mq::core
