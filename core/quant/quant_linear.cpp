#include "quant/quant_linear.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>

#include "common/error.h"
#include "common/runtime.h"
#include "quant/act_quant.h"
#include "quant/dabc.h"
#include "quant/formats.h"
#include "quant/gptq.h"
#include "quant/weight_quant.h"

namespace mq::core {

QuantSimHook::QuantSimHook(const QuantSettings& settings, std::vector<GroupQuant> groups)
    : m_settings(settings), m_groups(std::move(groups))
{
}

bool QuantSimHook::concurrent() const
{
    return !cudaKernelsEnabled();
}

at::Tensor QuantSimHook::onLinearInput(int group, const at::Tensor& xIn, const at::Tensor&)
{
    // SmoothQuant: the Linear's weight carries the factors, its input is divided by them (also
    // past the active limit: the weights are smoothed whether or not the input is quantized yet).
    const bool smoothed = group >= 0 && size_t(group) < m_groups.size() && m_groups[size_t(group)].smooth.defined();
    const at::Tensor x = smoothed ? xIn / m_groups[size_t(group)].smooth : xIn;
    // Groups past the plan (encoder towers, which stay full precision) pass through.
    if (group >= m_limit || size_t(group) >= m_groups.size() || m_settings.abits >= 16)
        return x;
    switch (m_settings.act) {
    case ActScheme::None:
        return x;
    case ActScheme::PerTokenDynamic:
        switch (m_settings.actFormat) {
        case ActFormat::Int:
            break;
        case ActFormat::HiF8: {
            const at::Tensor xf = x.to(at::kFloat).contiguous();
            at::Tensor out = at::empty_like(xf);
            const float* src = xf.data_ptr<float>();
            float* dst = out.data_ptr<float>();
            for (int64_t i = 0; i < xf.numel(); ++i)
                dst[i] = fmt::hif8Decode(fmt::hif8Encode(src[i], true));
            return out;
        }
        case ActFormat::NVFP4: {
            const GroupQuant& q = m_groups[size_t(group)];
            const float gs = q.actGlobalScale > 0.f ? q.actGlobalScale
                                                    : (q.actAmax > 0.f ? fmt::nvfp4GlobalScale(q.actAmax) : 0.f);
            return fakeQuantBlockFormat(x, WeightFormat::NVFP4, gs);
        }
        case ActFormat::MXFP4:
            return fakeQuantBlockFormat(x, WeightFormat::MXFP4);
        case ActFormat::HiF4:
            return fakeQuantBlockFormat(x, WeightFormat::HiF4);
        }
        [[fallthrough]]; // integers
    case ActScheme::PerTensorDynamic:
    case ActScheme::PerTensorStatic: {
        const GroupQuant& q = m_groups[size_t(group)]; // (group < m_groups.size(): checked above)
        return fakeQuantIntActivations(x, m_settings, q, effectiveClip(q, m_settings));
    }
    case ActScheme::PerChannelStatic: {
        const GroupQuant& q = m_groups.at(size_t(group));
        if (!q.alpha.defined())
            throw Error("static activation quantization of input group " + std::to_string(group)
                        + " has no clipping bounds: calibrate first");
        return fakeQuantPerChannelCompensated(x, q.alpha, m_settings.abits, q.mask, m_settings.dabc.rho);
    }
    }
    return x;
}

double effectiveClip(const GroupQuant& g, const QuantSettings& st)
{
    // float32, as exports store the ratio: the plan is then the export exactly
    return double(float(g.tokenClip > 0.0 ? g.tokenClip : st.actClip));
}

at::Tensor fakeQuantIntActivations(const at::Tensor& x, const QuantSettings& st, const GroupQuant& g, double clip)
{
    switch (st.act) {
    case ActScheme::PerTensorDynamic:
        return fakeQuantPerTensorDynamic(x, st.abits, clip, st.actAsym);
    case ActScheme::PerTensorStatic:
        if (!g.channelMin.defined())
            throw Error("static per-tensor activation quantization of an input group without a calibration range: "
                        "calibrate first");
        return fakeQuantPerTensor(x, st.abits, g.rangeMin, g.rangeMax, clip, st.actAsym);
    default: // per token, whole or in groups of channels
        return fakeQuantPerTokenGroups(x, st.abits, clip, st.actAsym, st.actGroupSize);
    }
}

std::vector<at::Tensor> foldScales(const std::vector<GroupQuant>& groups, int abits)
{
    const double qmax = double((1 << (abits - 1)) - 1);
    std::vector<at::Tensor> out;
    for (const GroupQuant& g : groups)
        out.push_back(g.alpha.defined() ? (g.alpha.to(at::kFloat) / qmax).contiguous() : at::Tensor());
    return out;
}

at::Tensor foldQuantWeight(const at::Tensor& w, const at::Tensor& s, const WeightQuantSpec& spec)
{
    const at::Tensor sf = s.to(at::kFloat).unsqueeze(0);
    return (fakeQuantWeight(w.to(at::kFloat) * sf, spec) / sf).contiguous();
}

DecoderModel quantizeWeights(const DecoderModel& model, const WeightQuantSpec& spec,
                             const std::map<std::string, StoredWeight>* storedIn,
                             const std::vector<at::Tensor>* smoothByGroup, const std::vector<at::Tensor>* foldByGroup)
{
    DecoderModel q = model;
    bool anySmooth = false;
    if (smoothByGroup)
        for (const at::Tensor& t : *smoothByGroup)
            anySmooth = anySmooth || t.defined();
    if (spec.format == WeightFormat::None && (!storedIn || storedIn->empty()) && !anySmooth)
        return q; // (nothing to fold either: folding needs quantized weights)
    // Each module's smoothing factors and folded activation scales (its input group's), or undefined.
    std::vector<at::Tensor> smooth(model.modules().size()), fold(model.modules().size());
    if (foldByGroup)
        for (size_t i = 0; i < fold.size(); ++i)
            fold[i] = (*foldByGroup)[size_t(model.groupOfModule(int(i)))];
    if (anySmooth)
        for (size_t i = 0; i < smooth.size(); ++i)
            smooth[i] = (*smoothByGroup)[size_t(model.groupOfModule(int(i)))];
    std::vector<std::string> names;
    for (const ModuleInfo& m : model.modules())
        names.push_back(m.name);
    // The stored weights of this model's Linears, by module index.
    auto stored = std::make_shared<std::vector<const StoredWeight*>>(names.size(), nullptr);
    std::shared_ptr<const std::map<std::string, StoredWeight>> keep;
    if (storedIn && !storedIn->empty()) {
        keep = std::make_shared<const std::map<std::string, StoredWeight>>(*storedIn);
        for (size_t i = 0; i < names.size(); ++i) {
            auto it = keep->find(names[i]);
            if (it != keep->end())
                (*stored)[i] = &it->second;
        }
    }
    // NVFP4: the Linears of one input group (fused q/k/v, gate/up) share one global scale, as a
    // serving stack fuses them (vLLM takes one global scale per fused weight). The group's
    // maximum is found when its first weight is quantized, from the others as `base` gives them.
    struct SharedScales {
        std::mutex mutex;
        std::map<int, float> byGroup;
    };
    auto shared = std::make_shared<SharedScales>();
    const bool nvfp4 = spec.format == WeightFormat::NVFP4;
    const DecoderModel base = model;
    std::vector<int> groupOf(names.size());
    for (size_t i = 0; i < names.size(); ++i)
        groupOf[i] = model.groupOfModule(int(i));
    auto sharedScale = [shared, base, groupOf, smooth](int module, const at::Tensor& w) {
        const int g = groupOf[size_t(module)];
        std::lock_guard<std::mutex> lock(shared->mutex);
        auto it = shared->byGroup.find(g);
        if (it != shared->byGroup.end())
            return it->second;
        float amax = w.abs().max().item<float>();
        for (int m : base.groupMembers(g)) {
            if (m == module)
                continue;
            at::Tensor o = base.linearWeight(m);
            const at::Tensor& s = smooth[size_t(m)];
            if (s.defined())
                o = o * s.unsqueeze(0);
            amax = std::max(amax, o.abs().max().item<float>());
        }
        const float gs = fmt::nvfp4GlobalScale(amax);
        shared->byGroup[g] = gs;
        return gs;
    };
    // Resident weights are quantized now; a streamed model quantizes each layer as it is read.
    q.setWeightTransform([spec, names, stored, keep, smooth, fold, nvfp4, sharedScale](int module, const at::Tensor& wIn) {
        if (const StoredWeight* sw = (*stored)[size_t(module)]) {
            if (sw->rows != wIn.size(0) || sw->cols != wIn.size(1))
                throw Error(names[size_t(module)] + ": the plan's stored weight is [" + std::to_string(sw->rows) + ", "
                            + std::to_string(sw->cols) + "], the model's [" + std::to_string(wIn.size(0)) + ", "
                            + std::to_string(wIn.size(1)) + "]");
            return dequantize(*sw);
        }
        const at::Tensor& s = smooth[size_t(module)];
        const at::Tensor w = s.defined() ? wIn * s.unsqueeze(0) : wIn;
        try {
            if (fold[size_t(module)].defined())
                return foldQuantWeight(w, fold[size_t(module)], spec);
            return fakeQuantWeight(w, spec, nvfp4 ? sharedScale(module, w) : 0.f);
        } catch (const InputError& e) {
            throw InputError(names[size_t(module)] + ": " + e.what());
        }
    });
    return q;
}

float nvfp4SharedGlobalScale(const std::vector<at::Tensor>& weights)
{
    float amax = 0.f;
    for (const at::Tensor& w : weights)
        amax = std::max(amax, w.abs().max().item<float>());
    return fmt::nvfp4GlobalScale(amax);
}

std::vector<GroupQuant> groupQuantFromStats(const DecoderModel& model, const Session& s)
{
    std::vector<GroupQuant> out(model.groups().size());
    for (size_t g = 0; g < out.size(); ++g) {
        auto it = s.stats.find(model.groups()[g]);
        if (it == s.stats.end())
            continue;
        const auto f32 = at::TensorOptions().dtype(at::kFloat);
        out[g].channelMin = at::tensor(it->second.pooled.min, f32);
        out[g].channelMax = at::tensor(it->second.pooled.max, f32);
        setInputRange(out[g]);
    }
    return out;
}

void setInputRange(GroupQuant& g)
{
    if (!g.channelMin.defined() || !g.channelMax.defined() || g.channelMin.numel() == 0)
        return;
    at::Tensor lo = g.channelMin, hi = g.channelMax;
    if (g.smooth.defined() && g.smooth.numel() == lo.numel()) { // x / s with s > 0 keeps each channel's order
        lo = lo / g.smooth;
        hi = hi / g.smooth;
    }
    g.rangeMin = lo.min().item<double>();
    g.rangeMax = hi.max().item<double>();
    g.actAmax = float(std::max(std::fabs(g.rangeMin), std::fabs(g.rangeMax)));
}

std::vector<GroupQuant> groupQuantFromPlan(const DecoderModel& model, const Session& s)
{
    std::vector<GroupQuant> out = groupQuantFromStats(model, s);
    for (size_t g = 0; g < out.size(); ++g) {
        auto it = s.plans.find(model.groups()[g]);
        if (it == s.plans.end())
            continue;
        out[g].tokenClip = it->second.tokenClip;
        if (!it->second.smooth.empty()) {
            if (int64_t(it->second.smooth.size()) != model.groupChannels(int(g)))
                throw Error("plan of group '" + model.groups()[g] + "' has " + std::to_string(it->second.smooth.size())
                            + " smoothing factors, the model " + std::to_string(model.groupChannels(int(g))) + " channels");
            out[g].smooth = at::tensor(it->second.smooth, at::TensorOptions().dtype(at::kFloat));
            setInputRange(out[g]);
        }
        if (it->second.alpha.empty())
            continue;
        const GroupPlan& p = it->second;
        const int64_t k = model.groupChannels(int(g));
        if (int64_t(p.alpha.size()) != k || int64_t(p.mask.size()) != k)
            throw Error("plan of group '" + model.groups()[g] + "' has " + std::to_string(p.alpha.size())
                        + " channels, the model " + std::to_string(k));
        out[g].alpha = at::tensor(p.alpha, at::TensorOptions().dtype(at::kFloat));
        std::vector<float> m(p.mask.begin(), p.mask.end());
        out[g].mask = at::tensor(m, at::TensorOptions().dtype(at::kFloat));
    }
    return out;
}

} // namespace mq::core
