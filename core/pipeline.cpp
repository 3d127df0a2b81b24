#include "pipeline.h"

#include "calib/collector.h"
#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "quant/dabc.h"
#include "quant/mdqfo.h"

#include <cinttypes>
#include <cstdio>
#include <fstream>

namespace mq::core {

namespace {

uint64_t fnv1a(uint64_t h, const void* data, size_t n)
{
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

void report(const ProgressSink& sink, const char* stage, double fraction, const std::string& msg,
            std::map<std::string, double> metrics = {})
{
    if (!sink)
        return;
    ProgressEvent e;
    e.stage = stage;
    e.fraction = fraction;
    e.message = msg;
    e.metrics = std::move(metrics);
    sink(e);
}

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

at::Tensor captureGroupInput(const DecoderModel& model, ForwardHook* prefix, int group, const TokenDataset& data,
                             int batchSize, const CancelToken* cancel)
{
    c10::InferenceMode guard;
    CaptureHook cap(group, prefix);
    for (const auto& b : equalLengthBatches(data, batchSize)) {
        if (cancel)
            cancel->check();
        try {
            model.forward(batchTensor(data, b), &cap);
        } catch (const StopForward&) {
        }
    }
    return cap.take();
}

} // namespace

std::string modelFingerprint(const std::string& dir)
{
    uint64_t h = 1469598103934665603ull;
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
        s.settings.reset();
        s.calibration = CalibrationInfo();
    }
    s.model = ref;
    s.modules = model.modules();
    s.groups = model.groups();
}

void calibrate(Session& s, const DecoderModel& model, const TokenDataset& calib, int batchSize,
               const ProgressSink& progress, const CancelToken* cancel, bool async)
{
    c10::InferenceMode guard;
    std::vector<int64_t> channels;
    for (size_t g = 0; g < model.groups().size(); ++g)
        channels.push_back(model.groupChannels(int(g)));
    StatsCollector collector(model.groups(), channels, async);
    const auto batches = equalLengthBatches(calib, std::max(1, batchSize));
    EtaClock clock;
    int64_t tokens = 0;
    for (size_t i = 0; i < batches.size(); ++i) {
        if (cancel)
            cancel->check();
        at::Tensor ids = batchTensor(calib, batches[i]);
        model.forward(ids, &collector);
        tokens += ids.numel();
        report(progress, "calibrate", double(i + 1) / double(batches.size()),
               "batch " + std::to_string(i + 1) + "/" + std::to_string(batches.size()),
               {{"tokens_per_s", double(tokens) / std::max(1e-9, clock.elapsedSeconds())}});
    }
    auto stats = collector.finish();
    Session w = s;
    attachModel(w, model);
    w.stats = std::move(stats);
    w.calibration = CalibrationInfo();
    w.calibration.source = calib.path;
    w.calibration.sequences = int64_t(calib.sequences.size());
    w.calibration.tokens[size_t(Modality::Text)] = tokens;
    // Statistics changed: any plan built on the old ones is stale.
    w.plans.clear();
    w.curves.clear();
    w.settings.reset();
    s = std::move(w);
}

void buildPlan(Session& s, const DecoderModel& model, const TokenDataset& calib, const QuantSettings& settingsIn,
               int batchSize, const ProgressSink& progress, const CancelToken* cancel)
{
    if (s.stats.empty())
        throw Error("the session has no calibration statistics: calibrate first");
    QuantSettings settings = settingsIn;
    Session w = s;
    w.curves.clear();
    if (settings.method == "rtn") {
        settings.act = settings.abits < 16 ? ActScheme::PerTokenDynamic : ActScheme::None;
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
            at::Tensor x = captureGroupInput(qmodel, &prefix, int(g), calib, batchSize, cancel);
            GroupPlan& plan = w.plans[name];
            at::Tensor alpha0 = x.abs().amax(0).clamp_min(1e-8);
            std::vector<float> m(plan.mask.begin(), plan.mask.end());
            at::Tensor mask = at::tensor(m, at::TensorOptions().dtype(at::kFloat));
            plan.alpha0.assign(alpha0.data_ptr<float>(), alpha0.data_ptr<float>() + alpha0.numel());
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
            prefix.setGroup(int(g), q);
            const double frac = double(g + 1) / double(n);
            std::map<std::string, double> metrics;
            if (!w.curves.empty() && w.curves.back().group == name && !w.curves.back().points.empty()) {
                metrics["loss_initial"] = w.curves.back().points.front().total;
                metrics["loss_final"] = w.curves.back().points.back().total;
            }
            report(progress, "mdqfo", frac, name + " (" + std::to_string(g + 1) + "/" + std::to_string(n) + ")",
                   metrics);
        }
    }
    s = std::move(w);
}

QuantizedModel makeQuantizedModel(const DecoderModel& model, const Session& s, bool quantizeWeightsToo)
{
    if (!s.settings)
        throw Error("the session has no quantization plan");
    QuantizedModel q{quantizeWeightsToo ? quantizeWeights(model, s.settings->weight) : model, nullptr};
    q.hook = std::make_unique<QuantSimHook>(*s.settings, groupQuantFromPlan(model, s));
    return q;
}

} // namespace mq::core
