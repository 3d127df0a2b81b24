#include "export/packed_export.h"

#include "common/error.h"
#include "export/check_export.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/session_store.h"
#include "quant/formats.h"
#include "quant/gptq.h"
#include "quant/quant_linear.h"
#include "quant/weight_quant.h"
#include "pipeline.h"
#include "quant/act_quant.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace mq::core {

namespace {

using ojson = nlohmann::ordered_json;

constexpr int kMorphoquantVersion = 1;

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One Linear's weight as the export stores it.
struct Packed {
    bool nvfp4 = false;
    int64_t rows = 0, cols = 0, groupSize = 0; // int: inputs per scale
    int bits = 4;
    std::vector<int8_t> q;        // int: signed codes [rows * cols]
    std::vector<float> scales;    // int: [rows * groups]
    std::vector<int8_t> zp;       // int asymmetric: signed zero points [rows * groups]
    fmt::Nvfp4 nv;                // nvfp4: codes, scale bytes, global scale
};

int64_t groupsOf(const Packed& p) { return p.nvfp4 ? p.cols / 16 : (p.cols + p.groupSize - 1) / p.groupSize; }

// The weight p stands for, float32 [rows, cols], with the arithmetic of the simulation
// (fakeQuantWeight / fmt::nvfp4Dequantize), so that a round trip is exact.
at::Tensor dequantizePacked(const Packed& p)
{
    at::Tensor out = at::empty({p.rows, p.cols}, at::kFloat);
    float* o = out.data_ptr<float>();
    if (p.nvfp4) {
        fmt::nvfp4Dequantize(p.nv, o);
        return out;
    }
    const int64_t groups = groupsOf(p);
    for (int64_t r = 0; r < p.rows; ++r)
        for (int64_t c = 0; c < p.cols; ++c) {
            const size_t gi = size_t(r * groups + c / p.groupSize);
            const float z = p.zp.empty() ? 0.f : float(p.zp[gi]);
            o[r * p.cols + c] = (float(p.q[size_t(r * p.cols + c)]) - z) * p.scales[gi];
        }
    return out;
}

// Codes of w [N, K] under spec exactly as fakeQuantWeight rounds it (nvgs: NVFP4's shared
// global scale).
Packed packRtn(const at::Tensor& wIn, const WeightQuantSpec& spec, float nvgs)
{
    const at::Tensor w = wIn.to(at::kFloat).contiguous();
    Packed p;
    p.rows = w.size(0);
    p.cols = w.size(1);
    if (spec.format == WeightFormat::NVFP4) {
        p.nvfp4 = true;
        p.nv = fmt::nvfp4Quantize(w.data_ptr<float>(), p.rows, p.cols, nvgs);
        return p;
    }
    p.bits = spec.bits;
    p.groupSize = spec.groupSize > 0 ? spec.groupSize : p.cols;
    const int64_t g = p.groupSize, groups = p.cols / g;
    p.q.resize(size_t(p.rows * p.cols));
    p.scales.resize(size_t(p.rows * groups));
    const float* src = w.data_ptr<float>();
    if (spec.symmetric) { // fakeQuantInt's fused arithmetic
        const float qmax = float((1 << (spec.bits - 1)) - 1);
        for (int64_t gi = 0; gi < p.rows * groups; ++gi) {
            const float* a = src + gi * g;
            float m = 0.f;
            for (int64_t i = 0; i < g; ++i)
                m = std::max(m, std::fabs(a[i]));
            const float scale = roundScale(std::max(float(double(m) / double(qmax)), 1e-12f), spec.scaleDtype);
            p.scales[size_t(gi)] = scale;
            for (int64_t i = 0; i < g; ++i) {
                float q = std::nearbyint(a[i] / scale);
                q = q < -qmax ? -qmax : (q > qmax ? qmax : q);
                p.q[size_t(gi * g + i)] = int8_t(q);
            }
        }
        return p;
    }
    // fakeQuantInt's ATen expression for asymmetric weights
    const double qmax = double((1 << spec.bits) - 1);
    const at::Tensor x = w.reshape({p.rows, groups, g});
    const at::Tensor lo = x.amin(-1, true).clamp_max(0.0), hi = x.amax(-1, true).clamp_min(0.0);
    at::Tensor scale = (hi - lo).div(qmax).clamp_min(1e-12).contiguous();
    if (spec.scaleDtype != ScaleDtype::F32) {
        float* s = scale.data_ptr<float>();
        for (int64_t i = 0; i < scale.numel(); ++i)
            s[i] = roundScale(s[i], spec.scaleDtype);
    }
    const at::Tensor zero = at::round(-lo / scale).clamp(0.0, qmax).contiguous();
    const at::Tensor u = at::clamp(at::round(x / scale) + zero, 0.0, qmax).contiguous();
    const int off = 1 << (spec.bits - 1);
    const float* us = u.data_ptr<float>();
    const float* zs = zero.data_ptr<float>();
    std::copy(scale.data_ptr<float>(), scale.data_ptr<float>() + scale.numel(), p.scales.begin());
    p.zp.resize(p.scales.size());
    for (int64_t i = 0; i < p.rows * p.cols; ++i)
        p.q[size_t(i)] = int8_t(int(us[i]) - off);
    for (size_t i = 0; i < p.zp.size(); ++i) {
        const int z = int(zs[i]) - off;
        if (z < -off || z > off - 1)
            throw InputError("a zero point of " + std::to_string(int(zs[i])) + " is outside the " + std::to_string(spec.bits)
                             + "-bit range (a weight group of one sign): compressed-tensors stores zero points in "
                             + std::to_string(spec.bits) + " bits");
        p.zp[i] = int8_t(z);
    }
    return p;
}

// The plan's stored (GPTQ) weight as packed codes.
Packed packStored(const StoredWeight& sw)
{
    Packed p;
    p.rows = sw.rows;
    p.cols = sw.cols;
    if (sw.format == "nvfp4") {
        p.nvfp4 = true;
        p.nv.rows = sw.rows;
        p.nv.cols = sw.cols;
        p.nv.globalScale = sw.globalScale;
        p.nv.codes = sw.codes;
        p.nv.scales.resize(sw.scales.size());
        for (size_t i = 0; i < sw.scales.size(); ++i)
            p.nv.scales[i] = fmt::e4m3Encode(sw.scales[i] * sw.globalScale);
        return p;
    }
    if (sw.format != "int")
        throw InputError("the plan's " + sw.format + " weights have no packed layout here");
    p.bits = sw.bits;
    p.groupSize = sw.groupSize;
    p.scales = sw.scales;
    const int off = 1 << (sw.bits - 1);
    p.q.resize(sw.codes.size());
    for (size_t i = 0; i < sw.codes.size(); ++i)
        p.q[i] = int8_t(int(sw.codes[i]) - off); // symmetric: u = q + off; asymmetric: u in [0, 2^b - 1]
    if (!sw.symmetric) {
        p.zp.resize(sw.zeros.size());
        for (size_t i = 0; i < sw.zeros.size(); ++i) {
            const int z = int(sw.zeros[i]) - off;
            if (z < -off || z > off - 1)
                throw InputError("a GPTQ zero point of " + std::to_string(int(sw.zeros[i])) + " is outside the "
                                 + std::to_string(sw.bits) + "-bit range");
            p.zp[i] = int8_t(z);
        }
    }
    return p;
}

at::Tensor int32Tensor(std::vector<int32_t> v, std::vector<int64_t> shape)
{
    return at::tensor(v, at::TensorOptions().dtype(at::kInt)).reshape(shape);
}

at::Tensor scaleTensor(const std::vector<float>& v, int64_t rows, int64_t cols, DType dt)
{
    at::Tensor t = at::tensor(v, at::TensorOptions().dtype(at::kFloat)).reshape({rows, cols});
    return t.to(toScalarType(dt)); // the scales are on the dtype's grid already (ScaleDtype)
}

DType scaleDType(ScaleDtype d)
{
    return d == ScaleDtype::BF16 ? DType::BF16 : d == ScaleDtype::F16 ? DType::F16 : DType::F32;
}

// The "ignore" list: every module that stays unquantized, as names or "re:" patterns.
std::vector<std::string> ignoreList(Checkpoint& src, const DecoderModel& fp)
{
    const std::string& P = fp.tensorPrefix();
    std::set<std::string> out;
    out.insert(P + "lm_head");
    std::set<std::string> comps;
    for (const std::string& name : src.tensorNames()) {
        if (name.rfind(P + "model.", 0) == 0 || name.rfind(P + "lm_head", 0) == 0)
            continue;
        // The component: up to the second dot ("thinker.visual", "talker.model", "token2wav.code2wav_dit_model")
        const size_t a = name.find('.');
        const size_t b = a == std::string::npos ? std::string::npos : name.find('.', a + 1);
        std::string comp = name.substr(0, b == std::string::npos ? a : b);
        if (!P.empty() && name.rfind(P, 0) != 0) // outside the thinker: the top-level component
            comp = name.substr(0, a);
        comps.insert(comp);
    }
    for (const std::string& c : comps) {
        std::string re = "re:^";
        for (char ch : c) {
            if (ch == '.')
                re += "\\.";
            else
                re += ch;
        }
        out.insert(re + "\\..*");
    }
    return {out.begin(), out.end()};
}

ojson ctWeightArgs(const WeightQuantSpec& w)
{
    if (w.format == WeightFormat::NVFP4)
        return ojson{{"num_bits", 4}, {"type", "float"}, {"symmetric", true}, {"group_size", 16},
                     {"strategy", "tensor_group"}, {"block_structure", nullptr}, {"dynamic", false},
                     {"actorder", nullptr}, {"scale_dtype", "float8_e4m3fn"}, {"observer", "static_minmax"},
                     {"observer_kwargs", ojson::object()}};
    return ojson{{"num_bits", w.bits},
                 {"type", "int"},
                 {"symmetric", w.symmetric},
                 {"group_size", w.groupSize > 0 ? ojson(w.groupSize) : ojson(nullptr)},
                 {"strategy", w.groupSize > 0 ? "group" : "channel"},
                 {"block_structure", nullptr},
                 {"dynamic", false},
                 {"actorder", nullptr},
                 {"observer", "minmax"},
                 {"observer_kwargs", ojson::object()}};
}

ojson ctInputArgs(const QuantSettings& st)
{
    if (st.act == ActScheme::PerTensorStatic && st.abits < 16) // W8A8 static: input_scale per Linear
        return ojson{{"num_bits", st.abits}, {"type", "int"},       {"symmetric", true},       {"group_size", nullptr},
                     {"strategy", "tensor"}, {"block_structure", nullptr}, {"dynamic", false}, {"actorder", nullptr},
                     {"observer", "minmax"}, {"observer_kwargs", ojson::object()}};
    if (st.act != ActScheme::PerTokenDynamic || st.abits >= 16)
        return nullptr;
    if (st.actFormat == ActFormat::NVFP4)
        return ojson{{"num_bits", 4}, {"type", "float"}, {"symmetric", true}, {"group_size", 16},
                     {"strategy", "tensor_group"}, {"block_structure", nullptr}, {"dynamic", "local"},
                     {"actorder", nullptr}, {"scale_dtype", "float8_e4m3fn"}, {"observer", "static_minmax"},
                     {"observer_kwargs", ojson::object()}};
    return ojson{{"num_bits", st.abits}, {"type", "int"},      {"symmetric", true},      {"group_size", nullptr},
                 {"strategy", "token"},  {"block_structure", nullptr}, {"dynamic", true}, {"actorder", nullptr},
                 {"observer", nullptr},  {"observer_kwargs", ojson::object()}};
}

// The compressed-tensors format of a plan (its group's and the top level's).
std::string ctFormat(const QuantSettings& st, ExportFormat f)
{
    if (f == ExportFormat::Nvfp4)
        return "nvfp4-pack-quantized";
    const bool act = (st.act == ActScheme::PerTokenDynamic || st.act == ActScheme::PerTensorStatic) && st.abits < 16;
    return (st.weight.bits == 8 && act) ? "int-quantized" : "pack-quantized";
}

} // namespace

ScaleDtype modelScaleDtype(const std::string& modelDir)
{
    const DecoderModel m = DecoderModel::load(modelDir, Residency::Streamed);
    Checkpoint ck(modelDir);
    const DType dt = ck.info(m.modules().front().name + ".weight").dtype;
    return dt == DType::BF16 ? ScaleDtype::BF16 : dt == DType::F16 ? ScaleDtype::F16 : ScaleDtype::F32;
}

ExportSummary exportPacked(const DecoderModel& fp, const Session& s, ExportFormat f, const std::string& outDir,
                           bool overwrite, const CancelToken* cancel, const ProgressSink& progress, int64_t shardBytes)
{
    auto checkCancel = [cancel] {
        if (cancel)
            cancel->check();
    };
    if (!s.settings)
        throw Error("nothing to export: the session has no quantization plan");
    if (f == ExportFormat::MorphoquantSim)
        throw Error("exportPacked: morphoquant-sim is exportSimulated");
    const QuantSettings& st = *s.settings;
    checkPlanBasis(fp, s);
    const std::string why = exportRefusal(st, f, fp.modules());
    if (!why.empty())
        throw InputError(why + "; nothing was written");
    checkFolderTarget(outDir, overwrite);

    Checkpoint src(fp.dir());
    const DType linDType = src.info(fp.modules().front().name + ".weight").dtype;
    const DType scaleDt = scaleDType(st.weight.scaleDtype);
    if (f != ExportFormat::Nvfp4 && scaleDt != linDType && linDType != DType::F32)
        throw InputError(std::string("--export-format ") + exportFormatName(f) + ": the model's weights are "
                         + dtypeName(linDType) + " but the plan's scales are " + scaleDtypeName(st.weight.scaleDtype)
                         + " (compressed-tensors stores scales in the model's dtype): quantize again with "
                           "--wscale-dtype " + (linDType == DType::BF16 ? "bf16" : "f16") + "; nothing was written");
    const bool act = st.act != ActScheme::None && st.abits < 16;
    const bool w8a8 = f == ExportFormat::CompressedTensors && ctFormat(st, f) == "int-quantized";
    const std::vector<GroupQuant> gq = groupQuantFromPlan(fp, s);
    // SmoothQuant: 1/s folded into the norms (float32); the packed weights hold W diag(s).
    const std::map<std::string, at::Tensor> norms = smoothedNorms(fp, s);
    auto smoothed = [&gq, &fp](int mi, at::Tensor w) {
        const at::Tensor& f = gq[size_t(fp.groupOfModule(mi))].smooth;
        return f.defined() ? w * f.unsqueeze(0) : w;
    };
    // The simulated weights the plan was evaluated with: every packed Linear must give them back.
    const DecoderModel sim = makeQuantizedModel(fp, s).model;
    // Deployable: the packed weight is Q(W diag(s)) (what an integer GEMM reads), s = alpha / qmax.
    const bool folded = st.mode == "deployable";
    const std::vector<at::Tensor> fold = folded ? foldScales(gq, st.abits) : std::vector<at::Tensor>();

    std::map<std::string, int> linear; // "<module>.weight" -> module index
    for (size_t i = 0; i < fp.modules().size(); ++i)
        linear[fp.modules()[i].name + ".weight"] = int(i);

    // Tensor list: the source's, each decoder Linear weight replaced by its packed tensors.
    std::vector<TensorSpec> specs;
    for (const std::string& name : src.tensorNames()) {
        auto lin = linear.find(name);
        if (lin == linear.end()) {
            const TensorInfo& ti = src.info(name);
            specs.push_back(TensorSpec{name, norms.count(name) ? DType::F32 : ti.dtype, ti.shape});
            continue;
        }
        const ModuleInfo& m = fp.modules()[size_t(lin->second)];
        const std::string& P = m.name;
        const int64_t out = m.outFeatures, in = m.inFeatures;
        if (f == ExportFormat::Nvfp4) {
            specs.push_back(TensorSpec{P + ".weight_packed", DType::U8, {out, in / 2}});
            specs.push_back(TensorSpec{P + ".weight_scale", DType::F8_E4M3, {out, in / 16}});
            specs.push_back(TensorSpec{P + ".weight_global_scale", DType::F32, {1}});
            if (act)
                specs.push_back(TensorSpec{P + ".input_global_scale", DType::F32, {1}});
            continue;
        }
        const int bits = st.weight.bits;
        const int64_t g = st.weight.groupSize > 0 ? st.weight.groupSize : in;
        const int64_t groups = (in + g - 1) / g;
        if (w8a8) {
            specs.push_back(TensorSpec{P + ".weight", DType::I8, {out, in}});
            specs.push_back(TensorSpec{P + ".weight_scale", scaleDt, {out, groups}});
            if (st.act == ActScheme::PerTensorStatic)
                specs.push_back(TensorSpec{P + ".input_scale", DType::F32, {1}});
        } else {
            specs.push_back(TensorSpec{P + ".weight_packed", DType::I32, {out, fmt::packedInt32Cols(in, bits)}});
            specs.push_back(TensorSpec{P + ".weight_scale", scaleDt, {out, groups}});
            specs.push_back(TensorSpec{P + ".weight_shape", DType::I64, {2}});
            if (!st.weight.symmetric)
                specs.push_back(TensorSpec{P + ".weight_zero_point", DType::I32, {fmt::packedInt32Cols(out, bits), groups}});
        }
        if (f == ExportFormat::Morphoquant && act) {
            if (st.act == ActScheme::PerChannelStatic) {
                specs.push_back(TensorSpec{P + ".input_alpha", DType::F32, {in}});
                specs.push_back(TensorSpec{P + ".input_dabc_mask", DType::U8, {in}});
            } else {
                specs.push_back(TensorSpec{P + ".input_clip_ratio", DType::F32, {1}});
            }
        }
    }
    uint64_t totalBytes = 0;
    for (const TensorSpec& t : specs)
        totalBytes += t.bytes();

    // config.json
    nlohmann::json cfg = nlohmann::json::parse(readTextFile(fp.dir() + "/config.json"));
    const std::vector<std::string> ignore = ignoreList(src, fp);
    ojson ours{{"format_version", kMorphoquantVersion},
               {"smoothing", st.smooth ? ojson("SmoothQuant factors folded into input_layernorm and "
                                                "post_attention_layernorm (float32 weights)")
                                       : ojson(nullptr)},
               {"label", st.label()},
               {"passes", st.passes()},
               {"settings", ojson::parse(settingsToJson(st))}};
    ojson qc;
    if (f == ExportFormat::Morphoquant) {
        qc["quant_method"] = "morphoquant";
        qc["format"] = "morphoquant-packed";
        qc["format_version"] = kMorphoquantVersion;
        qc["weights"] = ctWeightArgs(st.weight);
        qc["weights"]["packing"] = "compressed-tensors pack_to_int32 (weight_packed, weight_scale, weight_shape, "
                                   "weight_zero_point)";
        qc["input_activations"] =
            !act ? ojson(nullptr)
                 : st.act == ActScheme::PerChannelStatic
                       ? ojson{{"num_bits", st.abits}, {"type", "int"}, {"strategy", "channel"}, {"dynamic", false},
                               {"symmetric", true}, {"tensors", {"input_alpha", "input_dabc_mask"}},
                               {"dabc_rho", st.dabc.rho}, {"folded_into_weights", folded}}
                       : ojson{{"num_bits", st.abits}, {"type", "int"}, {"strategy", "token"}, {"dynamic", true},
                               {"symmetric", !st.actAsym}, {"tensors", {"input_clip_ratio"}}};
        // A rotated plan's weights are packed in the rotated basis; the record lets a reader
        // rebuild the same rotation around them (norms folded, q, the online down_proj h).
        qc["rotation"] = st.rotation.empty() ? ojson(nullptr) : ojson::parse(rotationRecordJson(fp, st.rotation));
        if (st.smooth)
            qc["smoothing"] = "SmoothQuant factors folded: input_layernorm and post_attention_layernorm weights divided "
                              "by them (float32), q/k/v and gate/up weights multiplied by them before packing";
        qc["ignore"] = ignore;
        qc["label"] = st.label();
        qc["passes"] = st.passes();
        qc["settings"] = ojson::parse(settingsToJson(st));
    } else {
        const std::string format = ctFormat(st, f);
        ojson group{{"targets", {"Linear"}},
                    {"weights", ctWeightArgs(st.weight)},
                    {"input_activations", ctInputArgs(st)},
                    {"output_activations", nullptr},
                    {"format", format}};
        qc = ojson{{"quant_method", "compressed-tensors"},
                   {"format", format},
                   {"quantization_status", "compressed"},
                   {"config_groups", {{"group_0", group}}},
                   {"ignore", ignore},
                   {"kv_cache_scheme", nullptr},
                   {"sparsity_config", ojson::object()},
                   {"global_compression_ratio", nullptr},
                   {"morphoquant", ours}};
    }
    cfg["quantization_config"] = nlohmann::json::parse(qc.dump());

    // The packed tensors of the module being written (its tensors follow each other).
    int current = -1;
    std::map<std::string, at::Tensor> pending;
    std::map<int, float> groupScale; // NVFP4: each input group's shared global scale
    auto packModule = [&](int mi) {
        pending.clear();
        const ModuleInfo& m = fp.modules()[size_t(mi)];
        const std::string& P = m.name;
        Packed p;
        auto stored = s.weights.find(P);
        if (stored != s.weights.end()) {
            p = packStored(stored->second);
        } else {
            float nvgs = 0.f;
            at::Tensor w = smoothed(mi, fp.linearWeight(mi));
            if (folded)
                w = w * fold[size_t(fp.groupOfModule(mi))].unsqueeze(0);
            if (f == ExportFormat::Nvfp4) { // the group's shared scale, found once per group
                const int g = fp.groupOfModule(mi);
                auto it = groupScale.find(g);
                if (it == groupScale.end()) {
                    std::vector<at::Tensor> sib;
                    for (int o : fp.groupMembers(g))
                        sib.push_back(o == mi ? w : smoothed(o, fp.linearWeight(o)));
                    it = groupScale.emplace(g, nvfp4SharedGlobalScale(sib)).first;
                }
                nvgs = it->second;
            }
            try {
                p = packRtn(w, st.weight, nvgs);
            } catch (const InputError& e) {
                throw InputError(P + ": " + e.what() + "; nothing was written");
            }
        }
        // The packed codes must give back the weights the plan was evaluated with.
        at::Tensor back = dequantizePacked(p);
        if (folded)
            back = back / fold[size_t(fp.groupOfModule(mi))].unsqueeze(0);
        const at::Tensor want = sim.linearWeight(mi);
        const double amax = want.abs().max().item<double>();
        const double diff = (back - want).abs().max().item<double>();
        if (!(diff <= 1e-6 * std::max(amax, 1e-30)))
            throw Error(P + ": the packed weights differ from the plan's by up to " + std::to_string(diff)
                        + " (internal error; nothing was written)");
        const int64_t out = p.rows, in = p.cols;
        if (p.nvfp4) {
            pending[P + ".weight_packed"] =
                at::tensor(fmt::packNibbles(p.nv.codes, true), at::TensorOptions().dtype(at::kByte)).reshape({out, in / 2});
            pending[P + ".weight_scale"] = at::tensor(p.nv.scales, at::TensorOptions().dtype(at::kByte)).reshape({out, in / 16});
            pending[P + ".weight_global_scale"] = at::full({1}, p.nv.globalScale, at::kFloat);
            if (act) {
                const GroupQuant& q = gq[size_t(fp.groupOfModule(mi))];
                pending[P + ".input_global_scale"] =
                    at::full({1}, q.actAmax > 0.f ? fmt::nvfp4GlobalScale(q.actAmax) : 1.f, at::kFloat);
            }
        } else {
            const int64_t groups = groupsOf(p);
            if (w8a8) {
                pending[P + ".weight"] = at::tensor(p.q, at::TensorOptions().dtype(at::kChar)).reshape({out, in});
            } else {
                pending[P + ".weight_packed"] =
                    int32Tensor(fmt::packToInt32(p.q.data(), out, in, p.bits), {out, fmt::packedInt32Cols(in, p.bits)});
                pending[P + ".weight_shape"] = at::tensor(std::vector<int64_t>{out, in}, at::TensorOptions().dtype(at::kLong));
                if (!p.zp.empty()) {
                    // packed along dim 0: the transposed [groups, out] rows packed, transposed back
                    std::vector<int8_t> zt(p.zp.size());
                    for (int64_t r = 0; r < out; ++r)
                        for (int64_t c = 0; c < groups; ++c)
                            zt[size_t(c * out + r)] = p.zp[size_t(r * groups + c)];
                    const int64_t wc = fmt::packedInt32Cols(out, p.bits);
                    pending[P + ".weight_zero_point"] =
                        int32Tensor(fmt::packToInt32(zt.data(), groups, out, p.bits), {groups, wc}).t().contiguous();
                }
            }
            pending[P + ".weight_scale"] = scaleTensor(p.scales, out, groups, scaleDt);
            if (st.act == ActScheme::PerTensorStatic && act) { // the plan's scale, clip ratio folded in
                const GroupQuant& q = gq[size_t(fp.groupOfModule(mi))];
                if (!q.channelMin.defined())
                    throw Error("the plan has no calibration range for " + P + "'s input group");
                pending[P + ".input_scale"] =
                    at::full({1}, perTensorScale(q.rangeMin, q.rangeMax, effectiveClip(q, st), st.abits), at::kFloat);
            }
            if (f == ExportFormat::Morphoquant && act) {
                const GroupQuant& q = gq[size_t(fp.groupOfModule(mi))];
                if (st.act == ActScheme::PerChannelStatic) {
                    if (!q.alpha.defined())
                        throw Error("the plan has no clipping bounds for " + P + "'s input group");
                    pending[P + ".input_alpha"] = q.alpha.to(at::kFloat).contiguous();
                    pending[P + ".input_dabc_mask"] = (q.mask.defined() ? q.mask : at::zeros({in})).to(at::kByte).contiguous();
                } else {
                    pending[P + ".input_clip_ratio"] =
                        at::full({1}, float(effectiveClip(q, st)), at::kFloat);
                }
            }
        }
        current = mi;
    };
    // module of a packed tensor name ("<module>.weight_packed" ...)
    std::map<std::string, int> ofTensor;
    for (size_t i = 0; i < fp.modules().size(); ++i)
        for (const char* suffix : {".weight", ".weight_packed", ".weight_scale", ".weight_shape", ".weight_zero_point",
                                   ".weight_global_scale", ".input_global_scale", ".input_alpha", ".input_dabc_mask",
                                   ".input_clip_ratio", ".input_scale"})
            ofTensor[fp.modules()[i].name + suffix] = int(i);

    ExportSummary sum;
    int shards = 0;
    ExportCheck verdict;
    sum.dir = writeFolderAtomic(outDir, overwrite, [&](const std::string& dir) {
        const fs::path tmp(dir);
        uint64_t written = 0;
        shards = writeShardedCheckpoint(
            dir, specs, shardBytes, false, {{"format", "pt"}, {"producer", "morphoquant"}},
            [&](const TensorSpec& spec, SafetensorsStreamWriter& w) {
                checkCancel();
                auto mod = ofTensor.find(spec.name);
                if (mod != ofTensor.end()) {
                    if (mod->second != current)
                        packModule(mod->second);
                    auto it = pending.find(spec.name);
                    if (it == pending.end())
                        throw Error("export: no packed tensor " + spec.name);
                    w.write(spec.name, it->second);
                    pending.erase(it);
                } else if (auto nm = norms.find(spec.name); nm != norms.end()) {
                    w.write(spec.name, nm->second);
                } else {
                    copyStoredTensor(src, spec, w);
                }
                written += spec.bytes();
                report(progress, "export", double(written) / double(std::max<uint64_t>(1, totalBytes)), spec.name);
            });
        checkCancel();
        writeFileAtomic((tmp / "config.json").string(), cfg.dump(2) + "\n");
        copyModelSideFiles(fp.dir(), tmp.string());
        // The folder must pass the loading rules before it takes the target's place.
        const ExportCheck chk = checkExport(dir);
        if (!chk.ok()) {
            std::string msg = "the export does not pass check-export (" + std::to_string(chk.errors.size())
                              + " problems; nothing was written):";
            for (size_t i = 0; i < chk.errors.size() && i < 5; ++i)
                msg += "\n  " + chk.errors[i];
            throw Error(msg);
        }
        verdict = chk;
    });
    sum.checked = true;
    sum.scheme = verdict.scheme;
    sum.schemeWhy = verdict.why;
    sum.representation = std::string(exportFormatName(f)) + " (" + (f == ExportFormat::Morphoquant ? "morphoquant-packed" : ctFormat(st, f)) + ")";
    sum.tensors = int64_t(specs.size());
    sum.shards = shards;
    for (const auto& e : fs::directory_iterator(fs::path(sum.dir)))
        if (e.is_regular_file())
            sum.bytes += int64_t(e.file_size());
    return sum;
}

// ---------------------------------------------------------------- reading

bool isPackedConfig(const std::string& configPath)
{
    const nlohmann::json cfg = nlohmann::json::parse(readTextFile(configPath), nullptr, false);
    if (cfg.is_discarded() || !cfg.contains("quantization_config") || !cfg["quantization_config"].is_object())
        return false;
    const nlohmann::json m = cfg["quantization_config"].value("quant_method", nlohmann::json());
    return m == "compressed-tensors" || m == "morphoquant";
}

namespace {

struct WeightArgs {
    bool nvfp4 = false;
    int bits = 4;
    bool symmetric = true;
    int64_t groupSize = 0; // 0: per channel
};

WeightArgs parseWeightArgs(const nlohmann::json& w, const std::string& where)
{
    WeightArgs a;
    if (!w.is_object())
        throw InputError(where + ": weights must be an object");
    const std::string type = w.value("type", std::string("int"));
    const std::string strategy = w.value("strategy", std::string());
    a.bits = w.value("num_bits", 8);
    if (type == "float") {
        if (a.bits != 4 || !w.contains("group_size") || w["group_size"] != 16)
            throw InputError(where + ": float weights other than NVFP4 (4 bits, group_size 16) are not read here");
        a.nvfp4 = true;
        return a;
    }
    if (type != "int")
        throw InputError(where + ": weights of type '" + type + "' are not read here (int or float)");
    if (a.bits != 4 && a.bits != 8)
        throw InputError(where + ": " + std::to_string(a.bits) + "-bit integer weights are not read here (4 or 8)");
    a.symmetric = w.value("symmetric", true);
    if (strategy == "group") {
        if (!w.contains("group_size") || !w["group_size"].is_number_integer() || w["group_size"].get<int64_t>() <= 0)
            throw InputError(where + ": strategy group needs a positive group_size");
        a.groupSize = w["group_size"].get<int64_t>();
    } else if (strategy != "channel") {
        throw InputError(where + ": weight strategy '" + strategy + "' is not read here (channel or group)");
    }
    if (w.contains("actorder") && !w["actorder"].is_null())
        throw InputError(where + ": actorder '" + w["actorder"].dump() + "' (weight_g_idx) is not read here");
    return a;
}

// weight of "<P>.weight" from the packed tensors (float32 [out, in]).
at::Tensor loadPackedInt(Checkpoint& ck, const std::string& P, const WeightArgs& a, bool unpacked)
{
    const std::string file = ck.fileOf(P + (unpacked ? ".weight_scale" : ".weight_packed"));
    auto need = [&](const std::string& name, DType dt) -> const TensorInfo& {
        if (!ck.contains(name))
            throw InputError(describe(file, name, "missing; a packed Linear needs it"));
        const TensorInfo& ti = ck.info(name);
        if (ti.dtype != dt)
            throw InputError(describe(ck.fileOf(name), name, std::string("dtype ") + dtypeName(ti.dtype) + ", expected "
                                                                 + dtypeName(dt)));
        return ti;
    };
    int64_t out = 0, in = 0;
    std::vector<int8_t> q;
    if (unpacked) {
        const TensorInfo& ti = ck.storedInfo(P + ".weight"); // the int8 tensor under the derived float one
        if (ti.dtype != DType::I8 || ti.shape.size() != 2)
            throw InputError(describe(file, P + ".weight", std::string("is ") + dtypeName(ti.dtype) + " "
                                                               + shapeText(ti.shape) + ", expected a 2-D I8 tensor"));
        out = ti.shape[0];
        in = ti.shape[1];
        const at::Tensor t = ck.storedView(P + ".weight").contiguous();
        q.assign(t.data_ptr<int8_t>(), t.data_ptr<int8_t>() + t.numel());
        ck.release(P + ".weight");
    } else {
        need(P + ".weight_shape", DType::I64);
        const at::Tensor shp = ck.load(P + ".weight_shape");
        if (shp.numel() != 2)
            throw InputError(describe(ck.fileOf(P + ".weight_shape"), P + ".weight_shape", "must hold 2 values"));
        out = shp[0].item<int64_t>();
        in = shp[1].item<int64_t>();
        const TensorInfo& ti = need(P + ".weight_packed", DType::I32);
        const std::vector<int64_t> want{out, fmt::packedInt32Cols(in, a.bits)};
        if (ti.shape != want)
            throw InputError(describe(file, P + ".weight_packed", "shape " + shapeText(ti.shape) + ", expected "
                                                                      + shapeText(want) + " for weight_shape ["
                                                                      + std::to_string(out) + ", " + std::to_string(in)
                                                                      + "] at " + std::to_string(a.bits) + " bits"));
        const at::Tensor t = ck.load(P + ".weight_packed").contiguous();
        q = fmt::unpackFromInt32(t.data_ptr<int32_t>(), out, in, a.bits);
        ck.release(P + ".weight_packed");
    }
    const int64_t g = a.groupSize > 0 ? a.groupSize : in, groups = (in + g - 1) / g;
    const TensorInfo& si = ck.info(P + ".weight_scale");
    if (si.shape != std::vector<int64_t>{out, groups})
        throw InputError(describe(ck.fileOf(P + ".weight_scale"), P + ".weight_scale",
                                  "shape " + shapeText(si.shape) + ", expected " + shapeText(std::vector<int64_t>{out, groups})));
    const at::Tensor sc = ck.loadFloat(P + ".weight_scale").contiguous();
    ck.release(P + ".weight_scale");
    std::vector<float> zp;
    if (!a.symmetric) {
        const std::string zn = P + ".weight_zero_point";
        if (unpacked) {
            const TensorInfo& zi = need(zn, DType::I8);
            if (zi.shape != std::vector<int64_t>{out, groups})
                throw InputError(describe(ck.fileOf(zn), zn, "shape " + shapeText(zi.shape) + ", expected "
                                                                 + shapeText(std::vector<int64_t>{out, groups})));
            const at::Tensor z = ck.view(zn).to(at::kFloat).contiguous();
            zp.assign(z.data_ptr<float>(), z.data_ptr<float>() + z.numel());
        } else {
            const TensorInfo& zi = need(zn, DType::I32);
            const std::vector<int64_t> want{fmt::packedInt32Cols(out, a.bits), groups};
            if (zi.shape != want)
                throw InputError(describe(ck.fileOf(zn), zn, "shape " + shapeText(zi.shape) + ", expected " + shapeText(want)));
            const at::Tensor zt = ck.load(zn).t().contiguous(); // [groups, words]
            const std::vector<int8_t> v = fmt::unpackFromInt32(zt.data_ptr<int32_t>(), groups, out, a.bits);
            zp.resize(size_t(out * groups));
            for (int64_t r = 0; r < out; ++r)
                for (int64_t c = 0; c < groups; ++c)
                    zp[size_t(r * groups + c)] = float(v[size_t(c * out + r)]);
        }
        ck.release(zn);
    }
    at::Tensor w = at::empty({out, in}, at::kFloat);
    float* o = w.data_ptr<float>();
    const float* s = sc.data_ptr<float>();
    for (int64_t r = 0; r < out; ++r)
        for (int64_t c = 0; c < in; ++c) {
            const size_t gi = size_t(r * groups + c / g);
            o[r * in + c] = (float(q[size_t(r * in + c)]) - (zp.empty() ? 0.f : zp[gi])) * s[gi];
        }
    return w;
}

at::Tensor loadPackedNvfp4(Checkpoint& ck, const std::string& P)
{
    const std::string pn = P + ".weight_packed", sn = P + ".weight_scale", gn = P + ".weight_global_scale";
    for (const std::string& n : {sn, gn})
        if (!ck.contains(n))
            throw InputError(describe(ck.fileOf(pn), n, "missing; an NVFP4 Linear needs it"));
    const TensorInfo& pi = ck.info(pn);
    if (pi.dtype != DType::U8 || pi.shape.size() != 2)
        throw InputError(describe(ck.fileOf(pn), pn, "expected a 2-D U8 tensor of packed E2M1 pairs"));
    const int64_t out = pi.shape[0], in = pi.shape[1] * 2;
    const TensorInfo& si = ck.info(sn);
    if (si.dtype != DType::F8_E4M3 || si.shape != std::vector<int64_t>{out, in / 16})
        throw InputError(describe(ck.fileOf(sn), sn, std::string("is ") + dtypeName(si.dtype) + " " + shapeText(si.shape)
                                                         + ", expected F8_E4M3 " + shapeText(std::vector<int64_t>{out, in / 16})));
    if (ck.info(gn).numel() != 1 || ck.info(gn).dtype != DType::F32)
        throw InputError(describe(ck.fileOf(gn), gn, "expected one F32 value"));
    fmt::Nvfp4 nv;
    nv.rows = out;
    nv.cols = in;
    const at::Tensor packed = ck.view(pn).contiguous();
    nv.codes = fmt::unpackNibbles(std::vector<uint8_t>(packed.data_ptr<uint8_t>(), packed.data_ptr<uint8_t>() + packed.numel()),
                                  size_t(out * in), true);
    const at::Tensor sc = ck.view(sn).contiguous();
    nv.scales.assign(sc.data_ptr<uint8_t>(), sc.data_ptr<uint8_t>() + sc.numel());
    nv.globalScale = ck.loadFloat(gn).item<float>();
    for (const std::string& n : {pn, sn, gn})
        ck.release(n);
    if (!(nv.globalScale > 0.f) || !std::isfinite(nv.globalScale))
        throw InputError(describe(ck.fileOf(gn), gn, "must be a positive finite divisor"));
    at::Tensor w = at::empty({out, in}, at::kFloat);
    fmt::nvfp4Dequantize(nv, w.data_ptr<float>());
    return w;
}

} // namespace

PackedModelInfo readPackedConfig(const std::string& dir)
{
    const std::string cfgPath = dir + "/config.json";
    const nlohmann::json cfg = nlohmann::json::parse(readTextFile(cfgPath), nullptr, false);
    if (cfg.is_discarded())
        throw InputError(cfgPath + ": not valid JSON");
    const nlohmann::json& qc = cfg.at("quantization_config");
    const std::string method = qc.value("quant_method", std::string());
    PackedModelInfo info;
    QuantSettings& st = info.settings;
    WeightArgs wa;
    bool unpacked = false;
    const std::string where = cfgPath + ": quantization_config";
    if (method == "morphoquant") {
        const nlohmann::json version = qc.value("format_version", nlohmann::json(0));
        if (!version.is_number_integer())
            throw InputError(where + ".format_version must be an integer, found " + version.dump());
        if (version.get<int64_t>() > kMorphoquantVersion)
            throw InputError(where + ": morphoquant format version " + std::to_string(version.get<int64_t>())
                             + " is newer than this build reads (" + std::to_string(kMorphoquantVersion) + ")");
        if (!qc.contains("settings") || !qc.contains("weights"))
            throw InputError(where + ": a morphoquant export needs settings and weights");
        st = settingsFromJson(qc["settings"].dump(), cfgPath);
        wa = parseWeightArgs(qc["weights"], where + ".weights");
        info.format = "morphoquant";
    } else {
        info.format = qc.value("format", std::string());
        if (!qc.contains("config_groups") || !qc["config_groups"].is_object() || qc["config_groups"].size() != 1)
            throw InputError(where + ": exactly one config group is read here (found "
                             + std::to_string(qc.contains("config_groups") ? qc["config_groups"].size() : 0) + ")");
        const nlohmann::json& grp = qc["config_groups"].begin().value();
        if (grp.contains("format") && grp["format"].is_string())
            info.format = grp["format"].get<std::string>();
        if (info.format != "pack-quantized" && info.format != "int-quantized" && info.format != "nvfp4-pack-quantized")
            throw InputError(where + ": format '" + info.format
                             + "' is not read here (pack-quantized, int-quantized or nvfp4-pack-quantized)");
        if (!grp.contains("weights") || grp["weights"].is_null())
            throw InputError(where + ": the config group has no weights");
        wa = parseWeightArgs(grp["weights"], where + ".config_groups.weights");
        unpacked = info.format == "int-quantized";
        // Our own settings when we wrote the folder (label, recipe); the activation fields are
        // compressed-tensors' either way.
        if (qc.contains("morphoquant") && qc["morphoquant"].contains("settings"))
            st = settingsFromJson(qc["morphoquant"]["settings"].dump(), cfgPath);
        else
            st = QuantSettings{};
        st.weight.format = wa.nvfp4 ? WeightFormat::NVFP4 : WeightFormat::Int;
        st.weight.bits = wa.bits;
        st.weight.symmetric = wa.symmetric;
        st.weight.groupSize = int(wa.groupSize);
        const nlohmann::json ia = grp.value("input_activations", nlohmann::json());
        if (ia.is_null()) {
            st.act = ActScheme::None;
            st.abits = 16;
        } else {
            const std::string type = ia.value("type", std::string("int"));
            if (type == "float") {
                if (ia.value("num_bits", 0) != 4 || ia.value("group_size", 0) != 16)
                    throw InputError(where + ": float activations other than NVFP4 are not read here");
                st.act = ActScheme::PerTokenDynamic;
                st.actFormat = ActFormat::NVFP4;
                st.abits = 4;
            } else if (ia.value("strategy", std::string()) == "tensor" && ia.value("dynamic", nlohmann::json(true)) == false) {
                // static per-tensor: each Linear's input_scale (read with the weights)
                if (!ia.value("symmetric", true))
                    throw InputError(where + ": asymmetric static per-tensor activations (input_zero_point) are not "
                                             "read here");
                st.act = ActScheme::PerTensorStatic;
                st.actFormat = ActFormat::Int;
                st.abits = ia.value("num_bits", 8);
                st.actAsym = false;
                st.actClip = 1.0; // folded into the stored scale
                st.actClipSearch = 0;
            } else {
                if (ia.value("strategy", std::string()) != "token" || ia.value("dynamic", nlohmann::json(false)) != true)
                    throw InputError(where + ": integer activations other than per-token dynamic or static per-tensor "
                                             "are not read here");
                st.act = ActScheme::PerTokenDynamic;
                st.actFormat = ActFormat::Int;
                st.abits = ia.value("num_bits", 8);
                st.actAsym = !ia.value("symmetric", true);
                st.actClip = 1.0;
                st.actClipSearch = 0;
            }
        }
    }
    // Deployable: the stored weight is Q(W diag(s)); the model computes with it times diag(1/s),
    // s = input_alpha / qmax (the activation codes' scale).
    const bool folded = st.mode == "deployable";
    const double qmaxAct = double((1 << (std::max(2, st.abits) - 1)) - 1);
    auto unfold = [folded, qmaxAct](Checkpoint& c, const std::string& P, at::Tensor w) {
        if (!folded)
            return w;
        const std::string an = P + ".input_alpha";
        if (!c.contains(an) || c.info(an).numel() != w.size(1))
            throw InputError(describe(c.fileOf(P + ".weight_scale"), an, "missing or of the wrong size; a deployable "
                                                                         "export divides the weight by it"));
        const at::Tensor s = c.loadFloat(an) / qmaxAct;
        return (w / s.unsqueeze(0)).contiguous();
    };
    info.prepare = [wa, unpacked, unfold, format = info.format](Checkpoint& ck) {
        const std::string suffix = unpacked ? ".weight_scale" : ".weight_packed";
        int64_t found = 0;
        for (const std::string& name : ck.tensorNames()) {
            if (!endsWith(name, suffix))
                continue;
            ++found;
            const std::string P = name.substr(0, name.size() - suffix.size());
            TensorInfo ti;
            ti.name = P + ".weight";
            ti.dtype = DType::F32;
            if (wa.nvfp4) {
                const TensorInfo& pi = ck.info(name);
                if (pi.shape.size() != 2)
                    throw InputError(describe(ck.fileOf(name), name, "must be 2-D"));
                ti.shape = {pi.shape[0], pi.shape[1] * 2};
                ck.addDerived(ti, name, [P](Checkpoint& c) { return loadPackedNvfp4(c, P); });
            } else if (unpacked) {
                if (!ck.containsStored(P + ".weight"))
                    throw InputError(describe(ck.fileOf(name), P + ".weight", "missing beside its weight_scale"));
                ti.shape = ck.storedInfo(P + ".weight").shape;
                ck.addDerived(ti, name, [P, wa, unfold](Checkpoint& c) { return unfold(c, P, loadPackedInt(c, P, wa, true)); });
            } else {
                const std::string sn = P + ".weight_shape";
                if (!ck.contains(sn))
                    throw InputError(describe(ck.fileOf(name), sn, "missing; pack-quantized needs weight_shape"));
                const at::Tensor shp = ck.load(sn);
                if (shp.numel() != 2)
                    throw InputError(describe(ck.fileOf(sn), sn, "must hold 2 values"));
                ti.shape = {shp[0].item<int64_t>(), shp[1].item<int64_t>()};
                ck.addDerived(ti, name, [P, wa, unfold](Checkpoint& c) { return unfold(c, P, loadPackedInt(c, P, wa, false)); });
            }
        }
        // Without a single one the folder is not what its config describes (float weights under
        // a packed config would be read as they are, quietly another model).
        if (found == 0)
            throw InputError(describe(ck.dir(), "<Linear>" + suffix,
                                      "none in the folder, but its quantization_config (" + format
                                          + ") stores the Linear weights that way"));
    };
    return info;
}

std::vector<GroupQuant> packedGroupQuant(const std::string& dir, const DecoderModel& model, const QuantSettings& st)
{
    std::vector<GroupQuant> out(model.groups().size());
    const bool act = st.act != ActScheme::None && st.abits < 16;
    if (!act)
        return out;
    Checkpoint ck(dir);
    for (size_t g = 0; g < out.size(); ++g) {
        const std::vector<int> members = model.groupMembers(int(g));
        const std::string P = model.modules()[size_t(members.front())].name;
        auto need = [&](const std::string& suffix, int64_t numel) {
            const std::string name = P + suffix;
            if (!ck.contains(name))
                throw InputError(describe(dir, name, "missing; the export's activation settings need it"));
            if (ck.info(name).numel() != numel)
                throw InputError(describe(ck.fileOf(name), name, "has " + std::to_string(ck.info(name).numel())
                                                                     + " values, expected " + std::to_string(numel)));
            return name;
        };
        const int64_t k = model.groupChannels(int(g));
        if (st.act == ActScheme::PerTokenDynamic && st.actFormat == ActFormat::NVFP4) {
            const std::string n = need(".input_global_scale", 1);
            out[g].actGlobalScale = ck.loadFloat(n).item<float>();
            // fused siblings must agree (vLLM takes one)
            for (int m : members) {
                const std::string o = model.modules()[size_t(m)].name + ".input_global_scale";
                if (ck.contains(o) && ck.loadFloat(o).item<float>() != out[g].actGlobalScale)
                    throw InputError(describe(ck.fileOf(o), o, "differs from " + n + " (fused Linears share one)"));
            }
        } else if (st.act == ActScheme::PerChannelStatic) {
            const std::string an = need(".input_alpha", k), mn = need(".input_dabc_mask", k);
            out[g].alpha = ck.loadFloat(an).contiguous();
            out[g].mask = ck.load(mn).to(at::kFloat).contiguous();
            // (as loadModelForEval checks a morphoquant-sim export's)
            if (!(out[g].alpha > 0).logical_and(out[g].alpha.isfinite()).all().item<bool>())
                throw InputError(describe(ck.fileOf(an), an, "holds a clipping bound that is not a positive finite number"));
            if (!((out[g].mask == 0) | (out[g].mask == 1)).all().item<bool>())
                throw InputError(describe(ck.fileOf(mn), mn, "holds an entry other than 0 or 1"));
        } else if (st.act == ActScheme::PerTensorStatic) {
            const std::string n = need(".input_scale", 1);
            const float scale = ck.loadFloat(n).item<float>();
            if (!(scale > 0.f) || !std::isfinite(scale))
                throw InputError(describe(ck.fileOf(n), n, "holds " + std::to_string(scale)
                                                               + "; expected a positive finite scale"));
            for (int m : members) { // fused siblings share one (vLLM takes one per fused weight)
                const std::string o = model.modules()[size_t(m)].name + ".input_scale";
                if (ck.contains(o) && ck.loadFloat(o).item<float>() != scale)
                    throw InputError(describe(ck.fileOf(o), o, "differs from " + n + " (fused Linears share one)"));
            }
            // The range the scale stands for: scale * qmax either side (its scale is the stored one again).
            const double qmax = double((1 << (st.abits - 1)) - 1);
            out[g].rangeMax = double(scale) * qmax;
            out[g].rangeMin = -out[g].rangeMax;
            out[g].channelMin = at::full({1}, float(out[g].rangeMin), at::kFloat); // (marks the range as set)
            out[g].channelMax = at::full({1}, float(out[g].rangeMax), at::kFloat);
        } else if (ck.contains(P + ".input_clip_ratio")) {
            out[g].tokenClip = ck.loadFloat(need(".input_clip_ratio", 1)).item<float>();
        }
    }
    return out;
}

} // namespace mq::core
