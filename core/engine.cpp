#include "engine.h"
#include "quant/rotation.h"

#include "calib/calib_data.h"
#include "common/error.h"
#include "eval/layer_error.h"
#include "eval/perplexity.h"
#include "export/hf_export.h"
#include "export/packed_export.h"
#include "io/token_data.h"
#include "encoder_quant.h"
#include "model/omni_model.h"
#include "pipeline.h"
#include "streaming.h"
#include "quant/mdqfo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>

namespace mq::core {

namespace {

void checkCancel(const CancelToken* cancel)
{
    if (cancel)
        cancel->check();
}

// Size and modification time of a file, so a cached calibration source is rebuilt when the
// file changes on disk ("" when it cannot be read: loading it then reports why).
std::string fileStamp(const std::string& path)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec)
        return {};
    const auto time = fs::last_write_time(path, ec);
    if (ec)
        return {};
    return std::to_string(size) + "@" + std::to_string(time.time_since_epoch().count());
}

// One group's calibration input as the last quantize() captured it.
struct CachedInput {
    at::Tensor rows;   // [n <= previewRows, K] float32, a fixed-stride subsample of every captured row
    at::Tensor alpha0; // [K] max |X_c| over every captured row (the plan's alpha0)
    std::vector<float> alpha0Values; // the same, to recognize the plan this run produced
};

struct PreviewCache {
    std::string fingerprint;   // model the inputs came from
    std::string calibSource;   // calibration data they came from
    std::map<std::string, CachedInput> groups;
};

// Every n-th row so that at most maxRows remain: deterministic, and spread over all batches.
at::Tensor strideSubsample(const at::Tensor& x, int64_t maxRows)
{
    const int64_t n = x.size(0);
    maxRows = std::max<int64_t>(1, maxRows);
    if (n <= maxRows)
        return x.clone();
    const int64_t stride = (n + maxRows - 1) / maxRows;
    return x.slice(0, 0, n, stride).clone();
}

struct LoadedCalibration {
    std::string key;
    std::unique_ptr<TokenDataset> tokens;   // what a TokenCalibration refers to
    std::unique_ptr<CalibrationData> data;
};

} // namespace

struct Engine::Impl {
    std::mutex mutex; // serializes the stages (everything but the preview below)

    std::optional<DecoderModel> model; // full precision, as loaded
    std::optional<DecoderModel> rotatedModel; // the same in a rotated basis (one at a time)
    std::string loadedPath, loadedFingerprint;
    std::unique_ptr<LoadedCalibration> calib;

    mutable std::mutex previewMutex; // guards the pointer only; a cache is immutable once published
    std::shared_ptr<const PreviewCache> preview;

    const DecoderModel& load(const std::string& dir, const std::string& fingerprint)
    {
        if (model && loadedPath == dir && loadedFingerprint == fingerprint)
            return *model;
        // One model in memory at a time (a 7B decoder is large): the old one goes first. A folder
        // that fails to load leaves no model cached (the next stage loads the session's again).
        model.reset();
        rotatedModel.reset();
        loadedPath.clear();
        loadedFingerprint.clear();
        calib.reset();
        model = DecoderModel::load(dir, Residency::Streamed);
        loadedPath = dir;
        loadedFingerprint = fingerprint;
        return *model;
    }

    // model, or its rotation named by key (quant/rotation_key.h), built once and kept.
    const DecoderModel& inBasis(const DecoderModel& base, const std::string& key)
    {
        if (key.empty())
            return base;
        if (!rotatedModel || rotatedModel->rotationKey() != key) {
            rotatedModel.reset();
            rotatedModel = rotateModel(base, key);
        }
        return *rotatedModel;
    }

    // The session's model (in the basis of its statistics): the cached one when the path and
    // fingerprint match, else loaded again after checking that the folder still is what the
    // session was made with.
    const DecoderModel& modelOf(const Session& s) { return inBasis(baseModelOf(s), s.calibration.rotation); }
    const DecoderModel& baseModelOf(const Session& s)
    {
        if (s.model.path.empty())
            throw Error("the session has no model: open a model first");
        if (model && loadedPath == s.model.path && loadedFingerprint == s.model.fingerprint)
            return *model;
        const std::string now = modelFingerprint(s.model.path);
        if (now != s.model.fingerprint)
            throw InputError(s.model.path + ": the model folder changed since the session was made (fingerprint "
                             + now + ", the session has " + s.model.fingerprint + "); open the model again");
        return load(s.model.path, now);
    }

    // The calibration data of a source, kept while the model, the source and the file are the same.
    const CalibrationData& calibration(const DecoderModel& m, const std::string& path, const std::string& kind,
                                       int batchSize)
    {
        if (path.empty())
            throw Error("the session has no calibration source: calibrate first");
        if (batchSize < 1)
            throw InputError(path + ": calibration batch size " + std::to_string(batchSize)
                             + " (expected at least 1)");
        const std::string key = loadedPath + "\n" + loadedFingerprint + "\n" + kind + "\n" + path + "\n"
            + std::to_string(batchSize) + "\n" + fileStamp(path);
        if (calib && calib->key == key)
            return *calib->data;
        calib.reset();
        auto c = std::make_unique<LoadedCalibration>();
        if (kind == "tokens") {
            c->tokens = std::make_unique<TokenDataset>(loadTokenDataset(path, m.config().vocabSize, m.config().maxPositions));
            c->data = std::make_unique<TokenCalibration>(*c->tokens, batchSize);
        } else if (kind == "manifest") {
            c->data = std::make_unique<OmniCalibration>(m.dir(), path);
        } else {
            throw InputError(path + ": unknown calibration kind '" + kind + "' (expected tokens or manifest)");
        }
        c->key = key;
        calib = std::move(c);
        return *calib->data;
    }

    const CalibrationData& calibrationOf(const DecoderModel& m, const Session& s)
    {
        return calibration(m, s.calibration.source, s.calibration.kind, s.calibration.batchSize);
    }

    std::shared_ptr<const PreviewCache> previewFor(const Session& s) const
    {
        std::shared_ptr<const PreviewCache> p;
        {
            std::lock_guard<std::mutex> lock(previewMutex);
            p = preview;
        }
        if (!p || p->groups.empty() || p->fingerprint != s.model.fingerprint || p->calibSource != s.calibration.source
            || !s.settings || s.settings->act != ActScheme::PerChannelStatic)
            return nullptr;
        // The inputs belong to one quantization run: the session's plan must be that run's (or
        // tuned from it), which its alpha0 (max |X_c| of the very inputs cached) tells exactly.
        // Another run of the same model and data (other bits, other masks) differs there.
        for (const auto& [group, in] : p->groups) {
            auto plan = s.plans.find(group);
            if (plan == s.plans.end() || plan->second.alpha0 != in.alpha0Values)
                return nullptr;
        }
        return p;
    }
};

Engine::Engine() : d(std::make_unique<Impl>()) {}
Engine::~Engine() = default;

void Engine::openModel(Session& s, const std::string& dir, const ProgressSink& progress, const CancelToken* cancel)
{
    std::lock_guard<std::mutex> lock(d->mutex);
    checkCancel(cancel);
    // A quantized checkpoint (an export of this tool, or any folder with a quantization_config)
    // would be quantized a second time as if its weights were full precision.
    {
        const std::string cfgPath = dir + "/config.json";
        std::ifstream probe(cfgPath);
        if (probe) {
            const nlohmann::json cfg = nlohmann::json::parse(probe, nullptr, false);
            if (cfg.is_object() && cfg.contains("quantization_config") && !cfg["quantization_config"].is_null()) {
                const nlohmann::json& qc = cfg["quantization_config"];
                const std::string method = qc.is_object() && qc.contains("quant_method") && qc["quant_method"].is_string()
                    ? qc["quant_method"].get<std::string>()
                    : std::string("?");
                throw InputError(cfgPath + ": a quantized checkpoint (quantization_config, quant_method '" + method
                                 + "'): its weights are quantized already; open the full-precision model it came "
                                   "from (eval --model evaluates an export as it is)");
            }
        }
    }
    report(progress, "open", 0.0, dir);
    const DecoderModel& model = d->load(dir, modelFingerprint(dir));
    checkCancel(cancel);
    Session w = s;
    attachModel(w, model);
    report(progress, "open", 1.0, dir);
    s = std::move(w);
}

void Engine::calibrate(Session& s, const CalibrationSourceSpec& source, const ProgressSink& progress,
                       const CancelToken* cancel)
{
    std::lock_guard<std::mutex> lock(d->mutex);
    const DecoderModel& model = d->inBasis(d->baseModelOf(s), source.rotation);
    const CalibrationData& data = d->calibration(model, source.path, source.kind, source.batchSize);
    Session w = s;
    calibrateStreamed(w, model, data, progress, cancel, streamOptions); // also clears plan, curves and errors
    s = std::move(w);
}

void Engine::quantize(Session& s, const QuantSettings& settings, const ProgressSink& progress,
                      const CancelToken* cancel)
{
    std::lock_guard<std::mutex> lock(d->mutex);
    const DecoderModel& model = d->modelOf(s);
    const CalibrationData& data = d->calibrationOf(model, s);
    auto cache = std::make_shared<PreviewCache>();
    cache->fingerprint = s.model.fingerprint;
    cache->calibSource = s.calibration.source;
    const int64_t rows = previewRows, elements = previewElements;
    auto onCapture = [&](int group, const at::Tensor& x, const at::Tensor& alpha0) {
        if (!keepPreviewCache)
            return;
        CachedInput in;
        // At most previewRows rows, and fewer for wide groups so that one layer's preview stays
        // live (rows * K <= previewElements).
        const int64_t k = std::max<int64_t>(1, x.size(1));
        in.rows = strideSubsample(x, std::max<int64_t>(1, std::min(rows, elements / k)));
        in.alpha0 = alpha0; // as buildPlan computes it, over every captured row
        const at::Tensor a0 = in.alpha0.to(at::kCPU, at::kFloat).contiguous();
        in.alpha0Values.assign(a0.data_ptr<float>(), a0.data_ptr<float>() + a0.numel());
        cache->groups[model.groups().at(size_t(group))] = std::move(in);
    };
    // The plan and its layer errors in one layer-wise pass; s changes only when both are done
    // (buildPlanStreamed works on a copy that borrows the statistics).
    std::vector<ModuleError> errors;
    buildPlanStreamed(s, model, data, settings, progress, cancel, onCapture, streamOptions, &errors, 2);
    s.errors = std::move(errors);
    s.resultsPlan = s.curvesPlan = planFingerprint(s); // the errors and loss curves describe this plan
    std::lock_guard<std::mutex> previewLock(d->previewMutex);
    d->preview = std::move(cache);
}

void Engine::layerErrors(Session& s, int maxBatches, const ProgressSink& progress, const CancelToken* cancel)
{
    std::lock_guard<std::mutex> lock(d->mutex);
    const DecoderModel& model = d->modelOf(s);
    if (!s.settings)
        throw Error("layer errors need a quantization plan: quantize first");
    const CalibrationData& data = d->calibrationOf(model, s);
    std::vector<ModuleError> errors = computeLayerErrorsStreamed(model, s, data, maxBatches, progress, cancel,
                                                                 streamOptions);
    s.errors = std::move(errors);
    s.resultsPlan = planFingerprint(s);
}

namespace {

EvalResult evalResult(const std::string& label, const std::string& data, const NllResult& r)
{
    EvalResult e;
    e.label = label;
    e.data = data;
    e.nll = r.nll;
    e.ppl = r.ppl;
    e.tokens = r.tokens;
    return e;
}

// The quantized model's result of a pair evaluation (with its KL, overall and per modality),
// after the full-precision one when fpToo.
std::vector<EvalResult> pairResults(const Session& s, const std::string& data, const EvalPair& pair, bool fpToo)
{
    std::vector<EvalResult> results;
    if (fpToo)
        results.push_back(evalResult("full precision", data, pair.ref));
    EvalResult e = evalResult(s.settings->label(), data, pair.quantized);
    e.plan = planFingerprint(s);
    e.kl = pair.kl;
    e.klByModality = pair.klByModality;
    e.tokensByModality = pair.tokensByModality;
    results.push_back(std::move(e));
    return results;
}

// Only once every figure is in does the session change: a result replaces an earlier one of the
// same label and data.
void storeResults(Session& s, std::vector<EvalResult> results)
{
    for (EvalResult& e : results) {
        auto same = std::find_if(s.evals.begin(), s.evals.end(),
                                 [&](const EvalResult& o) { return o.label == e.label && o.data == e.data; });
        if (same != s.evals.end())
            *same = std::move(e);
        else
            s.evals.push_back(std::move(e));
    }
}

} // namespace

void Engine::evaluate(Session& s, const std::string& evalPath, bool fpToo, int batchSize, const ProgressSink& progress,
                      const CancelToken* cancel)
{
    std::lock_guard<std::mutex> lock(d->mutex);
    const DecoderModel& model = d->modelOf(s);
    if (!s.settings && !fpToo)
        throw Error("nothing to evaluate: the session has no quantization plan (quantize first, or evaluate the "
                    "full-precision model)");
    if (batchSize < 1)
        throw InputError("evaluation batch size " + std::to_string(batchSize) + " (expected at least 1)");
    const TokenDataset data = loadTokenDataset(evalPath, model.config().vocabSize, model.config().maxPositions);
    if (s.settings) {
        // The quantized model beside its full-precision reference, in one layer-wise pass: both
        // perplexities and the KL divergence of the quantized next-token distributions.
        QuantizedModel q = makeQuantizedModel(model, s, true, true); // smoothing in the norms, as exported
        const EvalPair pair =
            evaluatePairStreamed(model, q.model, q.hook.get(), data, batchSize, progress, cancel, streamOptions);
        storeResults(s, pairResults(s, evalPath, pair, fpToo));
    } else {
        storeResults(s, {evalResult("full precision", evalPath,
                                    evaluateStreamed(model, data, nullptr, batchSize, progress, cancel, streamOptions))});
    }
}

void Engine::evaluateManifest(Session& s, const std::string& manifestPath, bool fpToo, const ProgressSink& progress,
                              const CancelToken* cancel)
{
    std::lock_guard<std::mutex> lock(d->mutex);
    const DecoderModel& model = d->modelOf(s);
    if (!s.settings)
        throw Error("nothing to evaluate against: the session has no quantization plan (quantize first)");
    const OmniCalibration data(s.model.path, manifestPath);
    QuantizedModel q = makeQuantizedModel(model, s, true, true); // smoothing in the norms, as exported
    // Quantized encoders (--quantize-encoders): the thinker's quantized run reads their features,
    // and each encoder's own output error is measured on the same manifest.
    std::unique_ptr<EncoderQuant> encoders;
    std::vector<ModuleError> encoderErrors;
    if (s.settings->quantizeEncoders) {
        encoders = encoderQuantFromPlan(s, model, data, progress, cancel);
        encoderErrors = encoderOutputErrors(data, model, *encoders, progress, cancel);
    }
    const EvalPair pair =
        evaluatePairStreamed(model, q.model, q.hook.get(), data, progress, cancel, streamOptions, encoders.get());
    std::vector<EvalResult> results = pairResults(s, manifestPath, pair, fpToo);
    results.back().encoders = std::move(encoderErrors);
    storeResults(s, std::move(results));
}

ExportReport Engine::exportModel(const Session& s, const std::string& dir, bool overwrite, const ProgressSink& progress,
                                 const CancelToken* cancel, ExportFormat format)
{
    std::lock_guard<std::mutex> lock(d->mutex);
    if (!s.settings)
        throw Error("nothing to export: the session has no quantization plan");
    const DecoderModel& model = d->modelOf(s);
    checkCancel(cancel);
    report(progress, "export", 0.0, dir);
    const ExportSummary sum = format == ExportFormat::MorphoquantSim
        ? exportSimulated(model, s, dir, overwrite, cancel, progress)
        : exportPacked(model, s, format, dir, overwrite, cancel, progress);
    report(progress, "export", 1.0, sum.dir);
    ExportReport r;
    r.dir = sum.dir;
    r.representation = sum.representation;
    r.format = format;
    r.checked = sum.checked;
    r.scheme = sum.scheme;
    r.schemeWhy = sum.schemeWhy;
    r.tensors = sum.tensors;
    r.bytes = sum.bytes;
    r.label = s.settings->label();
    const ChannelCount c = maskedChannels(s);
    r.maskedChannels = c.masked;
    r.totalChannels = c.total;
    return r;
}

bool Engine::hasPreviewCache(const Session& s) const { return d->previewFor(s) != nullptr; }

Session Engine::previewInputs(const Session& s)
{
    Session c;
    c.model = s.model;
    c.calibration = s.calibration;
    c.modules = s.modules;
    c.groups = s.groups;
    c.plans = s.plans;
    c.settings = s.settings;
    return c;
}

std::vector<GroupPreview> Engine::replanGroups(const Session& s, const std::vector<std::string>& groups,
                                               const QuantSettings& settings, const CancelToken* cancel)
{
    // No stage lock: the preview reads an immutable snapshot of the cache, so it runs while a
    // job holds the engine (a quantize that finishes meanwhile publishes a new cache).
    if (s.settings && settings.abits != s.settings->abits)
        throw Error("the MDQFO preview keeps the plan's activation bits (" + std::to_string(s.settings->abits)
                    + "), not " + std::to_string(settings.abits) + ": quantize again for other bits");
    const std::shared_ptr<const PreviewCache> cache = d->previewFor(s);
    if (!cache)
        throw Error("no cached calibration inputs for this session's plan (they come from the last quantization "
                    "in this engine with static per-channel activations, and only serve the plan it built): "
                    "quantize first");
    std::vector<GroupPreview> out;
    out.reserve(groups.size());
    for (const std::string& g : groups) {
        checkCancel(cancel);
        auto in = cache->groups.find(g);
        if (in == cache->groups.end())
            throw Error("no cached calibration input for input group '" + g + "': quantize first");
        auto plan = s.plans.find(g);
        if (plan == s.plans.end())
            throw Error("the session's plan has no input group '" + g + "'");
        const int64_t k = in->second.rows.size(1);
        if (int64_t(plan->second.mask.size()) != k)
            throw Error("the plan of input group '" + g + "' has " + std::to_string(plan->second.mask.size())
                        + " mask bits, its cached input " + std::to_string(k) + " channels");
        std::vector<float> m(plan->second.mask.begin(), plan->second.mask.end());
        const at::Tensor mask =
            at::tensor(m, at::TensorOptions().dtype(at::kFloat)).to(in->second.rows.device());
        GroupPreview p;
        p.group = g;
        p.plan = plan->second;
        const at::Tensor a0 = in->second.alpha0.to(at::kCPU, at::kFloat).contiguous();
        p.plan.alpha0.assign(a0.data_ptr<float>(), a0.data_ptr<float>() + a0.numel());
        p.curve.group = g;
        if (settings.mdqfo.enabled) {
            MdqfoResult r = optimizeClipping(in->second.rows, in->second.alpha0, mask, settings.abits, settings.dabc,
                                             settings.mdqfo, cancel);
            p.plan.alpha = std::move(r.alpha);
            p.curve.points = std::move(r.curve);
        } else {
            p.plan.alpha = p.plan.alpha0;
        }
        out.push_back(std::move(p));
    }
    return out;
}

} // namespace mq::core
