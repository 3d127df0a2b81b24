#include "pipeline.h"

#include "common/hash.h"

#include "calib/collector.h"
#include "calib/calib_data.h"
#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "quant/dabc.h"
#include "quant/mdqfo.h"

#include <array>
#include <optional>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>

namespace mq::core {

namespace {

// Runs the calibration data through `model` with `hook` and keeps the input of one group.
class CaptureHook : public ForwardHook {
public:
    CaptureHook(int target, ForwardHook* inner) : m_target(target), m_inner(inner) {}
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        if (group == m_target) {
            m_parts.push_back(x.clone());
            throw StopForward{};
        }
        return m_inner ? m_inner->onLinearInput(group, x, modality) : x;
    }
    at::Tensor take() { return at::cat(m_parts, 0); }

private:
    int m_target;
    ForwardHook* m_inner;
    std::vector<at::Tensor> m_parts;
};

at::Tensor captureGroupInput(const DecoderModel& model, ForwardHook* prefix, int group, const CalibrationData& data,
                             const CancelToken* cancel)
{
    c10::InferenceMode guard;
    CaptureHook cap(group, prefix);
    for (size_t b = 0; b < data.batches(); ++b) {
        if (cancel)
            cancel->check();
        try {
            data.run(b, model, &cap);
        } catch (const StopForward&) {
        }
    }
    return cap.take();
}

} // namespace

GroupQuant planGroup(Session& w, const std::string& name, const at::Tensor& x, const at::Tensor& alpha0,
                     const QuantSettings& settings, const CancelToken* cancel)
{
    GroupPlan& plan = w.plans[name];
    std::vector<float> m(plan.mask.begin(), plan.mask.end());
    at::Tensor mask = at::tensor(m, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor a0 = alpha0.to(at::kCPU, at::kFloat).contiguous();
    plan.alpha0.assign(a0.data_ptr<float>(), a0.data_ptr<float>() + a0.numel());
    if (settings.mdqfo.enabled) {
        MdqfoResult r = optimizeClipping(x, alpha0, mask, settings.abits, settings.dabc, settings.mdqfo, cancel);
        plan.alpha = r.alpha;
        w.curves.push_back(LossCurve{name, r.curve});
    } else {
        plan.alpha = plan.alpha0;
    }
    GroupQuant q;
    q.alpha = at::tensor(plan.alpha, at::TensorOptions().dtype(at::kFloat));
    q.mask = mask;
    return q;
}

void reportGroupPlan(const ProgressSink& progress, size_t g, size_t n, const std::string& name, const Session& w)
{
    if (!progress)
        return;
    ProgressEvent e;
    e.stage = "mdqfo";
    e.fraction = double(g + 1) / double(n);
    e.message = name + " (" + std::to_string(g + 1) + "/" + std::to_string(n) + ")";
    e.item = name;
    if (!w.curves.empty() && w.curves.back().group == name && !w.curves.back().points.empty()) {
        const std::vector<LossPoint>& pts = w.curves.back().points;
        e.metrics["loss_initial"] = pts.front().total;
        e.metrics["loss_final"] = pts.back().total;
        for (const LossPoint& p : pts) { // the group's curve, for live plots
            e.series["step"].push_back(p.step);
            e.series["lp"].push_back(p.lp);
            e.series["lcos"].push_back(p.lcos);
            e.series["total"].push_back(p.total);
        }
    }
    progress(e);
}

std::vector<std::string> decoderGroups(const Session& s)
{
    std::vector<std::string> out;
    for (const ModuleInfo& m : s.modules)
        if (std::find(out.begin(), out.end(), m.inputGroup) == out.end())
            out.push_back(m.inputGroup);
    return out;
}

ChannelCount maskedChannels(const Session& s)
{
    ChannelCount c;
    for (const std::string& g : decoderGroups(s)) {
        const std::vector<const ModuleInfo*> members = s.groupMembers(g);
        const int64_t k = members.empty() ? 0 : members.front()->inFeatures;
        auto it = s.plans.find(g);
        if (it != s.plans.end() && !it->second.mask.empty()) {
            for (uint8_t b : it->second.mask)
                c.masked += b;
            c.total += int64_t(it->second.mask.size());
        } else {
            c.total += k;
        }
    }
    return c;
}

std::string modelFingerprint(const std::string& dir)
{
    uint64_t h = kFnv1aOffset;
    const std::string cfg = readTextFile(dir + "/config.json");
    h = fnv1a(h, cfg.data(), cfg.size());
    Checkpoint ck(dir);
    for (const std::string& f : ck.files()) {
        std::ifstream in(f, std::ios::binary);
        uint64_t len = 0;
        in.read(reinterpret_cast<char*>(&len), 8);
        std::string header(size_t(std::min<uint64_t>(len, 100u << 20)), '\0');
        in.read(header.data(), std::streamsize(header.size()));
        in.seekg(0, std::ios::end);
        const uint64_t size = uint64_t(in.tellg());
        h = fnv1a(h, header.data(), header.size());
        h = fnv1a(h, &size, sizeof size);
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "fnv1a64:%016" PRIx64, h);
    return buf;
}

void attachModel(Session& s, const DecoderModel& model)
{
    ModelRef ref;
    ref.path = model.dir();
    ref.fingerprint = modelFingerprint(model.dir());
    ref.architecture = architectureName(model.config().arch);
    ref.configJson = readTextFile(model.dir() + "/config.json");
    if (ref.fingerprint != s.model.fingerprint) {
        s.stats.clear();
        s.plans.clear();
        s.curves.clear();
        s.evals.clear();
        s.errors.clear();
        s.weights.clear();
        s.settings.reset();
        s.calibration = CalibrationInfo();
    }
    const bool sameModel = ref.fingerprint == s.model.fingerprint;
    s.model = ref;
    s.modules = model.modules();
    // The same model keeps its groups when they extend the decoder's (encoder towers a manifest
    // calibration added, whose statistics are kept too).
    const std::vector<std::string>& g = model.groups();
    if (!(sameModel && s.groups.size() >= g.size() && std::equal(g.begin(), g.end(), s.groups.begin())))
        s.groups = g;
}

void calibrationGroups(const DecoderModel& model, const CalibrationData& calib, std::vector<std::string>* names,
                       std::vector<int64_t>* channels)
{
    *names = model.groups();
    channels->clear();
    for (size_t g = 0; g < names->size(); ++g)
        channels->push_back(model.groupChannels(int(g)));
    for (const std::string& extra : calib.extraGroups()) {
        names->push_back(extra);
        channels->push_back(0); // an encoder group's width is known once its first input arrives
    }
}

void storeCalibration(Session& s, const DecoderModel& model, const CalibrationData& calib,
                      const std::vector<std::string>& names, std::map<std::string, InputStats> stats)
{
    Session w = s;
    attachModel(w, model);
    w.groups = names;
    w.stats = std::move(stats);
    w.calibration = CalibrationInfo();
    w.calibration.source = calib.source();
    w.calibration.kind = calib.kind();
    w.calibration.batchSize = calib.batchSize();
    w.calibration.sequences = int64_t(calib.samples());
    w.calibration.rotation = model.rotationKey();
    // Every decoder token passes the first group (layer 0's q/k/v input) exactly once.
    for (int m = 0; m < kNumModalities; ++m)
        w.calibration.tokens[size_t(m)] = w.stats[names.front()].perModality[size_t(m)].count;
    clearPlan(w); // statistics changed: any plan built on the old ones is stale
    s = std::move(w);
}

void calibrate(Session& s, const DecoderModel& model, const CalibrationData& calib, const ProgressSink& progress,
               const CancelToken* cancel, bool async)
{
    c10::InferenceMode guard;
    std::vector<std::string> names;
    std::vector<int64_t> channels;
    calibrationGroups(model, calib, &names, &channels);
    StatsCollector collector(names, channels, async);
    EtaClock clock;
    CountingHook counter(&collector);
    for (size_t i = 0; i < calib.batches(); ++i) {
        if (cancel)
            cancel->check();
        calib.run(i, model, &counter);
        report(progress, "calibrate", double(i + 1) / double(calib.batches()),
               "batch " + std::to_string(i + 1) + "/" + std::to_string(calib.batches()),
               {{"tokens_per_s", double(counter.tokens()) / std::max(1e-9, clock.elapsedSeconds())}});
    }
    storeCalibration(s, model, calib, names, collector.finish());
}

void calibrate(Session& s, const DecoderModel& model, const TokenDataset& calib, int batchSize,
               const ProgressSink& progress, const CancelToken* cancel, bool async)
{
    calibrate(s, model, TokenCalibration(calib, batchSize), progress, cancel, async);
}

void buildPlan(Session& s, const DecoderModel& model, const TokenDataset& calib, const QuantSettings& settings,
               int batchSize, const ProgressSink& progress, const CancelToken* cancel)
{
    buildPlan(s, model, TokenCalibration(calib, batchSize), settings, progress, cancel);
}

PlanWorkingCopy::PlanWorkingCopy(Session& s) : m_s(s)
{
    std::map<std::string, InputStats> stats = std::move(s.stats);
    s.stats.clear();
    try {
        m_w = s;
    } catch (...) {
        s.stats = std::move(stats);
        throw;
    }
    m_w.stats = std::move(stats);
}

PlanWorkingCopy::~PlanWorkingCopy()
{
    if (!m_done) // the stage failed: s is as it was, statistics returned
        m_s.stats = std::move(m_w.stats);
}

void PlanWorkingCopy::commit()
{
    m_s = std::move(m_w);
    m_done = true;
}

QuantSettings preparePlan(Session& w, const QuantSettings& settingsIn)
{
    if (w.stats.empty())
        throw Error("the session has no calibration statistics: calibrate first");
    QuantSettings settings = settingsIn;
    settings.rotation = w.calibration.rotation; // the plan works in the statistics' basis
    w.curves.clear();
    w.errors.clear();
    w.weights.clear();
    if (settings.gptq.enabled && settings.weight.format == WeightFormat::Int && settings.weight.perTensor)
        throw InputError("GPTQ with per-tensor integer weights is not written (it picks a scale per row or group)");
    if (settings.gptq.enabled && !gptqRounds(settings.weight.format))
        throw InputError("GPTQ quantizes integer, nvfp4, mxfp4 or hif4 weights, not " + settings.weight.label());
    if (settings.actClip != 1.0 || settings.actAsym || settings.actClipSearch > 0) {
        if (!(settings.actClip > 0.0 && settings.actClip <= 1.0))
            throw InputError("the activation clip ratio must be in (0, 1], got " + std::to_string(settings.actClip));
        if (settings.method != "rtn")
            throw InputError("activation clipping and asymmetric activations apply to per-token and per-tensor "
                             "activations (--method rtn); MorphoQuant's static bounds come from MDQFO");
    }
    if (settings.actGroupSize < 0)
        throw InputError("the activation group size must be >= 0, got " + std::to_string(settings.actGroupSize));
    if (settings.actGroupSize > 0) {
        if (settings.method != "rtn" || isPerTensor(settings.act) || settings.actFormat != ActFormat::Int)
            throw InputError("activation groups apply to per-token integer activations (--method rtn, --aformat int)");
    }
    if (isPerTensor(settings.act)) {
        if (settings.method != "rtn")
            throw InputError(std::string(actSchemeName(settings.act)) + " activations go with --method rtn; "
                             "MorphoQuant's activations are static per channel");
        if (settings.actFormat != ActFormat::Int)
            throw InputError(std::string(actSchemeName(settings.act)) + " activations are integers; "
                             + actFormatName(settings.actFormat) + " is a per-token block format");
    }
    if (settings.smooth && settings.method != "rtn")
        throw InputError("SmoothQuant applies to --method rtn here: MorphoQuant's static per-channel scales absorb any "
                         "per-channel factor already (x / s on bounds alpha / s gives the same codes), so it would "
                         "only move outliers into the weights; and its DABC scores and static bounds would "
                         "need the smoothed statistics, which are not computed yet");
    if (!(settings.smoothAlpha >= 0.0 && settings.smoothAlpha <= 1.0))
        throw InputError("the SmoothQuant migration strength must be within 0..1, got "
                         + std::to_string(settings.smoothAlpha));
    if (settings.mode != "simulated" && settings.mode != "deployable")
        throw InputError("unknown mode '" + settings.mode + "' (expected simulated or deployable)");
    if (settings.mode == "deployable") {
        if (settings.method != "morphoquant" || settings.abits >= 16)
            throw InputError("the deployable mode folds static per-channel activation scales into the weights: it "
                             "needs --method morphoquant with quantized activations (per-token activations deploy "
                             "as they are)");
        if (settings.weight.format == WeightFormat::None)
            throw InputError("the deployable mode folds activation scales into quantized weights; the weights are "
                             "16-bit here");
        if (settings.gptq.enabled)
            throw InputError("the deployable mode with GPTQ (its Hessian in the folded basis) is not written yet");
        if (settings.quantizeEncoders)
            throw InputError("the deployable mode describes what an export computes, and the exports write the "
                             "thinker's decoder only: quantized encoders (--quantize-encoders) are simulated");
    }
    if (settings.method == "rtn") {
        settings.act = settings.abits >= 16 ? ActScheme::None
            : (isPerTensor(settingsIn.act) ? settingsIn.act : ActScheme::PerTokenDynamic);
        settings.dabc.enabled = false;
        settings.mdqfo.enabled = false;
        w.plans.clear();
    } else if (settings.method == "morphoquant") {
        settings.act = settings.abits < 16 ? ActScheme::PerChannelStatic : ActScheme::None;
        computeMasks(w, settings.dabc);
    } else {
        throw InputError("unknown method '" + settings.method + "' (expected rtn or morphoquant)");
    }
    w.settings = settings;
    return settings;
}

void buildPlan(Session& s, const DecoderModel& model, const CalibrationData& calib, const QuantSettings& settingsIn,
               const ProgressSink& progress, const CancelToken* cancel, const CaptureObserver& onCapture)
{
    if (settingsIn.gptq.enabled || settingsIn.actClipSearch > 0 || settingsIn.smooth || settingsIn.mode == "deployable"
        || settingsIn.quantizeEncoders)
        throw Error("GPTQ, SmoothQuant, the activation clip search, the deployable mode and quantized encoders run in "
                    "the layer-wise plan (buildPlanStreamed), not in this in-memory one");
    PlanWorkingCopy copy(s);
    Session& w = copy.get();
    const QuantSettings settings = preparePlan(w, settingsIn); // throws without statistics

    if (settings.act == ActScheme::PerChannelStatic) {
        DecoderModel qmodel = quantizeWeights(model, settings.weight);
        const size_t n = model.groups().size();
        QuantSimHook prefix(settings, std::vector<GroupQuant>(n));
        EtaClock clock;
        for (size_t g = 0; g < n; ++g) {
            if (cancel)
                cancel->check();
            const std::string& name = model.groups()[g];
            prefix.setActiveLimit(int(g));
            at::Tensor x = captureGroupInput(qmodel, &prefix, int(g), calib, cancel);
            if (onCapture)
                onCapture(int(g), x);
            prefix.setGroup(int(g), planGroup(w, name, x, x.abs().amax(0).clamp_min(1e-8), settings, cancel));
            reportGroupPlan(progress, g, n, name, w);
        }
    }
    copy.commit();
}

DecoderModel foldSmoothingIntoNorms(const DecoderModel& model, std::vector<GroupQuant>& groups)
{
    std::vector<at::Tensor> in(size_t(model.numLayers())), post(size_t(model.numLayers()));
    for (int l = 0; l < model.numLayers(); ++l) {
        const std::array<int, 4> gs = model.layerGroups(l);
        std::swap(in[size_t(l)], groups.at(size_t(gs[0])).smooth);
        std::swap(post[size_t(l)], groups.at(size_t(gs[2])).smooth);
    }
    return model.withNormsDividedBy(in, post);
}

QuantizedModel makeQuantizedModel(const DecoderModel& model, const Session& s, bool quantizeWeightsToo,
                                  bool foldSmoothing)
{
    if (!s.settings)
        throw Error("the session has no quantization plan");
    std::vector<GroupQuant> groups = groupQuantFromPlan(model, s);
    std::vector<at::Tensor> smooth, fold;
    for (const GroupQuant& g : groups)
        smooth.push_back(g.smooth);
    if (s.settings->mode == "deployable")
        fold = foldScales(groups, s.settings->abits);
    const DecoderModel* base = &model;
    std::optional<DecoderModel> folded;
    if (foldSmoothing && s.settings->smooth) {
        folded.emplace(foldSmoothingIntoNorms(model, groups));
        base = &*folded;
    }
    QuantizedModel q{quantizeWeightsToo
                         ? quantizeWeights(*base, s.settings->weight, &s.weights, &smooth, fold.empty() ? nullptr : &fold)
                         : *base,
                     nullptr};
    q.hook = std::make_unique<QuantSimHook>(*s.settings, std::move(groups));
    return q;
}

} // namespace mq::core
